/*
 * test_fmt_spans.c -- the native format's two readers agree: span_fast(),
 * which reads a plain line straight from its text, and the cJSON tree path
 * (span_from_json()), which reads every other line and owns every reject
 * message.  formats/spans.c is compiled into this test so both are reachable;
 * the library's fmt_spans.o is then not linked (the linker takes archive
 * members only for undefined symbols).
 *
 * The rule checked everywhere: when span_fast() takes a line, the tree path
 * accepts it too and every field is byte-for-byte the same.  Lines come
 * from hand-written cases (what must be taken, what must be declined, and
 * a few read values checked against figures worked out by hand), from
 * spangen in both layouts (native and --format tracagg), each compact, with
 * json.dumps's ", " and ": " separators, and through python3's json.dumps
 * itself, with non-ASCII text added that it escapes (every line must be
 * taken: the fast path is for them), and from random mutations of those, which the fast path may
 * take or decline but never read differently; and from random strings of
 * every class of code point, written raw or escaped every way JSON allows,
 * which must be taken and decoded to the generator's own UTF-8.
 */
#include "formats/spans.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void span_repr(const sl_span *sp, char *out, size_t cap)
{
#define S(x) ((x) ? (x) : "(null)")
    snprintf(out, cap, "%s|%s|%s|%s|%s|%s|%d|%d|%d|%s|%lld|%lld|%s|%s|%s|%s|%s", S(sp->trace_id),
             S(sp->span_id), S(sp->parent_span_id), S(sp->service), S(sp->operation),
             S(sp->remote_service), sp->kind, sp->status, sp->flags, S(sp->status_message),
             (long long)sp->start_ns, (long long)sp->duration_ns, S(sp->attributes), S(sp->resource),
             S(sp->scope), S(sp->events), S(sp->links));
#undef S
}

/* The tree path's reading: 1 and repr filled if it accepts the line. */
static int tree_read(const char *line, size_t n, spans_scratch *x, char *repr, size_t cap)
{
    char why[160];
    cJSON *o = sl_json_parse(line, n, why, sizeof why);
    if (!o) return 0;
    sl_span sp;
    const char *bad = span_from_json(o, &sp, x);
    if (!bad) span_repr(&sp, repr, cap);
    cJSON_Delete(o);
    return !bad;
}

static char fast_repr[1 << 16], tree_repr_buf[1 << 16];

/* Read line both ways; returns whether span_fast() took it, failing the
 * test if it did and the tree path disagrees. */
static int agree(const char *line, size_t n, spans_scratch *x)
{
    sl_span sp;
    if (!span_fast(line, n, &sp, x)) return 0;
    span_repr(&sp, fast_repr, sizeof fast_repr);
    if (!tree_read(line, n, x, tree_repr_buf, sizeof tree_repr_buf))
        fail_msg("span_fast() took a line the tree path rejects: %.*s", (int)n, line);
    if (strcmp(fast_repr, tree_repr_buf))
        fail_msg("%.*s\n  fast: %s\n  tree: %s", (int)n, line, fast_repr, tree_repr_buf);
    return 1;
}

static void scratch_free(spans_scratch *x)
{
    sl_buf_free(&x->attrs);
    sl_buf_free(&x->resource);
    sl_buf_free(&x->scope);
    sl_buf_free(&x->events);
    sl_buf_free(&x->links);
    sl_buf_free(&x->strs);
}

#define BASE "\"trace_id\":\"T1\",\"span_id\":\"s1\",\"service\":\"web\",\"operation\":\"GET /\""
#define TIMES "\"start_ns\":1700000000000000000,\"duration_ns\":1500"

static void test_plain_lines_taken(void **state)
{
    (void)state;
    static const char *const taken[] = {
        "{" BASE "," TIMES "}",
        "{ " BASE " , " TIMES " }\r", /* whitespace between members is fine */
        "{\"trace_id\":\"4BF92F3577B34DA6A3CE929D0E0E4736\",\"span_id\":\"00F067AA0BA902B7\","
        "\"parent_span_id\":null,\"service\":\"a\",\"operation\":\"b\",\"kind\":\"SERVER\","
        "\"status\":\"ERROR\",\"status_message\":\"boom\",\"start_ns\":-5,\"end_ns\":10}",
        "{\"trace_id\":\"t\",\"span_id\":\"s\",\"service_name\":\"svc\",\"operation_name\":\"op\","
        "\"error_message\":\"bad\",\"start_ns\":123456789012345,\"duration_ns\":0}",
        "{" BASE "," TIMES ",\"attributes\":{\"a\":1,\"b\":-2.5E-3,\"c\":1e5,\"d\":0.154,"
        "\"e\":12345678901234567890,\"f\":[true,false,null,{}],\"g\":{\"h\":[[]]},\"\":\"\"}}",
        "{" BASE "," TIMES ",\"resource\":{\"service.name\":\"web\",\"caf\xc3\xa9\":\"\xe2\x82\xac\"},"
        "\"scope\":{\"name\":\"lib\"},\"events\":[{\"name\":\"e\",\"time_ns\":1}],\"links\":[]}",
        "{" BASE "," TIMES ",\"shared\":true,\"remote_service\":\"db\"}",
        "{" BASE "," TIMES ",\"shared\":false,\"kind\":\"client\"}",
        /* the first non-null member of a name wins, in both readers */
        "{" BASE "," TIMES ",\"service\":\"second\",\"kind\":null,\"kind\":\"producer\"}",
        "{\"service\":null," BASE "," TIMES "}",
        "{" BASE ",\"start_ns\":100,\"end_ns\":250,\"duration_ns\":150,\"unknown\":{\"x\":[1,2]}}",
        /* any key order */
        "{" TIMES ",\"attributes\":{\"k\":\"v\"}," BASE "}",
        "{\"duration_ns\":7,\"operation\":\"o\",\"start_ns\":3,\"service\":\"s\",\"span_id\":\"b\",\"trace_id\":\"a\"}",
        /* as Python's json.dumps writes it: ", " and ": " */
        "{\"trace_id\": \"T1\", \"span_id\": \"s1\", \"parent_span_id\": null, \"service\": \"web\", "
        "\"operation\": \"GET /\", \"kind\": \"server\", \"start_ns\": 1700000000000000000, "
        "\"duration_ns\": 1500, \"attributes\": {\"a\": 1, \"b\": -2.5e-05, \"f\": [true, false, null, {}], "
        "\"g\": {\"h\": [[]]}}, \"resource\": {\"service.name\": \"web\"}, \"events\": [{\"name\": \"e\", "
        "\"time_ns\": 1}], \"links\": []}",
        /* whitespace of every kind JSON allows in a line, everywhere */
        "{" BASE "," TIMES ",\"attributes\" :\t{ \"a\" :\t1 ,\r\"b\" : [ 1 , \"x y\" , { } , [ ] ] , \"c\" : { \"d\":[\t] } }\t}",
        "{" BASE "," TIMES ",\"events\":[ ],\"scope\":{ },\"links\":[ { \"trace_id\" : \"x\" } ]}",
        /* TracAgg: seconds as reals, strings and integers, read to the ns */
        "{\"trace_id\":\"t\",\"span_id\":\"s\",\"service_name\":\"svc\",\"operation_name\":\"op\","
        "\"kind\":\"SERVER\",\"status\":\"OK\",\"start_time\":1700000000.000290850,\"duration\":0.001426928}",
        "{\"trace_id\": \"t\", \"span_id\": \"s\", \"service_name\": \"svc\", \"operation_name\": \"op\", "
        "\"start_time\": 1700000000.0002909, \"duration\": 1e-05, \"status\": \"ERROR\", \"error_message\": \"x\"}",
        "{" BASE ",\"start_time\":1700000000,\"duration\":0}",
        "{" BASE ",\"start_time\":\"1700000000.5\",\"duration\":\"0.25\"}",
        "{" BASE ",\"start_time\":-1.25,\"duration\":1.5E-3}",
        "{" BASE ",\"start_time\":0.0000000015,\"duration\":0.00000000149}", /* rounded half up */
        "{" BASE ",\"start_time\":1.5,\"end_ns\":2000000000}",
        "{" BASE ",\"start_time\":1.5,\"end_ns\":2000000000,\"duration\":0.5}",
        "{" BASE ",\"start_time\":2.5e9,\"duration\":0}",
        /* an ns member wins over seconds, whatever the seconds hold */
        "{" BASE ",\"start_ns\":5,\"start_time\":true,\"duration_ns\":1,\"duration\":\"x\"}",
        /* integers as strings, kind and status by number, ids as numbers */
        "{" BASE ",\"start_ns\":\"1700000000000000000\",\"duration_ns\":\"-0\",\"end_ns\":\"1700000000000000000\"}",
        "{" BASE "," TIMES ",\"kind\":2,\"status\":1}",
        "{" BASE "," TIMES ",\"kind\":\"2\",\"status\":0}",
        "{\"trace_id\":42,\"span_id\":-7,\"parent_span_id\":12345678901234567890123,"
        "\"service\":\"x\",\"operation\":\"o\"," TIMES "}",
        /* escapes, decoded as cJSON does, written back by sl_jw_string()'s rules */
        "{" BASE "," TIMES ",\"attributes\":{\"a\":\"x\\\"y\\\\z\\/\",\"\\u00e9\\n\":[\"\\b\\f\\n\\r\\t\\u001F\\u007f\"]}}",
        "{" BASE "," TIMES ",\"status_message\":\"caf\\u00e9 \\u20AC \\ud83d\\ude00 \\\"q\\\" \\\\ \\/\"}",
        "{\"trace_id\":\"\\u0054\\u0031\",\"span_id\":\"s\\u0031\",\"service\":\"w\\u00e9b\",\"operation\":\"GET \\/\"," TIMES "}",
        /* shared is true or not */
        "{" BASE "," TIMES ",\"shared\":1}",
        "{" BASE "," TIMES ",\"shared\":\"true\"}",
        "{" BASE "," TIMES ",\"shared\":{\"a\":true}}",
    };
    spans_scratch x;
    memset(&x, 0, sizeof x);
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
        if (!agree(taken[i], strlen(taken[i]), &x)) fail_msg("span_fast() declined %s", taken[i]);
    scratch_free(&x);
}

/* Values read exactly: golden figures worked out by hand from the text. */
static void test_fast_values(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        long long start, dur;
        const char *attrs;
    } cases[] = {
        {"{" BASE ",\"start_time\":1700000000.000290850,\"duration\":0.001426928}", 1700000000000290850LL, 1426928, NULL},
        {"{" BASE ",\"start_time\": 1700000000.0002909, \"duration\": 1e-05}", 1700000000000290900LL, 10000, NULL},
        {"{" BASE ",\"start_time\":\"-1.25\",\"duration\":1.5E-3}", -1250000000LL, 1500000, NULL},
        {"{" BASE ",\"start_time\":0.0000000015,\"duration\":0.00000000149}", 2, 1, NULL},
        {"{" BASE ",\"start_time\":7,\"end_ns\":7000000009}", 7000000000LL, 9, NULL},
        {"{" BASE ", \"start_ns\": 1, \"duration_ns\": 2, \"attributes\": {\"a\": [1, \"b c\", {}], \"d\": {\"e\": 2.50}}}",
         1, 2, "{\"a\":[1,\"b c\",{}],\"d\":{\"e\":2.50}}"},
    };
    spans_scratch x;
    memset(&x, 0, sizeof x);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_span sp;
        const char *l = cases[i].line;
        if (!agree(l, strlen(l), &x)) fail_msg("span_fast() declined %s", l);
        assert_true(span_fast(l, strlen(l), &sp, &x));
        assert_int_equal(sp.start_ns, cases[i].start);
        assert_int_equal(sp.duration_ns, cases[i].dur);
        if (cases[i].attrs) assert_string_equal(sp.attributes, cases[i].attrs);
    }
    scratch_free(&x);
}

/* UTF-8 of code point cp into o; bytes written. */
static int put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 63)),
               o[2] = (char)(0x80 | (cp & 63)), 3;
    return o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 63)),
           o[2] = (char)(0x80 | (cp >> 6 & 63)), o[3] = (char)(0x80 | (cp & 63)), 4;
}

/* Random strings of code points of every class, each written in one of
 * the ways JSON allows (raw, short escape, \\u with either case of hex,
 * surrogate pairs), in every string-valued place of a line: the fast path
 * must take each line, read each top-level string as the code points'
 * UTF-8 (the golden value: the generator's own), and agree with the tree
 * path on the structured members. */
static void test_escapes_decoded(void **state)
{
    (void)state;
    static const char short_esc[] = {'b', 8, 'f', 12, 'n', 10, 'r', 13, 't', 9};
    spans_scratch x;
    memset(&x, 0, sizeof x);
    unsigned seed = 777;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xFFFFFF)
    for (int round = 0; round < 20000; round++) {
        char enc[6][256], dec[6][128];
        for (int k = 0; k < 6; k++) {
            char *e = enc[k], *d = dec[k];
            int units = 1 + (int)(RND() % 8);
            for (int u = 0; u < units; u++) {
                unsigned long cp;
                switch (RND() % 6) {
                case 0: cp = 0x20 + RND() % 0x5F; break;                   /* printable ASCII */
                case 1: cp = "\"\\/"[RND() % 3]; break;
                case 2: cp = 1 + RND() % 0x1F; break;                        /* control */
                case 3: cp = 0x7F + RND() % (0x800 - 0x7F); break;
                case 4: cp = 0x800 + RND() % (0x10000 - 0x800);
                    if (cp >= 0xD800 && cp <= 0xDFFF) cp -= 0x1000;         /* no lone surrogates */
                    break;
                default: cp = 0x10000 + RND() % 0x100000; break;
                }
                d += put_utf8(d, cp);
                const char *hexd = RND() % 2 ? "0123456789abcdef" : "0123456789ABCDEF";
                int how = (int)(RND() % 3); /* 0 raw, 1 short escape, 2 \\u */
                if (cp < 0x20 || cp == '"' || cp == '\\') how = how ? how : 2; /* must be escaped */
                const char *sh = NULL;
                for (int i = 0; i < 10; i += 2)
                    if ((unsigned long)short_esc[i + 1] == cp) sh = &short_esc[i];
                if (how == 1 && cp != '"' && cp != '\\' && cp != '/' && !sh) how = 2;
                if (how == 0) {
                    e += put_utf8(e, cp);
                } else if (how == 1) {
                    *e++ = '\\';
                    *e++ = sh ? sh[0] : (char)cp;
                } else {
                    unsigned long units16[2] = {cp, 0};
                    int n16 = 1;
                    if (cp >= 0x10000) {
                        units16[0] = 0xD800 + ((cp - 0x10000) >> 10);
                        units16[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
                        n16 = 2;
                    }
                    for (int i = 0; i < n16; i++) {
                        *e++ = '\\';
                        *e++ = 'u';
                        for (int sh4 = 12; sh4 >= 0; sh4 -= 4) *e++ = hexd[units16[i] >> sh4 & 15];
                    }
                }
            }
            *e = *d = '\0';
        }
        char line[2048];
        snprintf(line, sizeof line,
                 "{\"trace_id\":\"t%s\",\"span_id\":\"s\",\"service\":\"%s\",\"operation\":\"%s\","
                 "\"status_message\":\"%s\"," TIMES ",\"attributes\":{\"%s\":\"%s\",\"k\":[1, \"%s\"]}}",
                 enc[0], enc[1], enc[2], enc[3], enc[4], enc[5], enc[0]);
        if (!agree(line, strlen(line), &x)) fail_msg("span_fast() declined %s", line);
        sl_span sp;
        assert_true(span_fast(line, strlen(line), &sp, &x));
        assert_string_equal(sp.trace_id + 1, dec[0]);
        assert_string_equal(sp.service, dec[1]);
        assert_string_equal(sp.operation, dec[2]);
        assert_string_equal(sp.status_message, dec[3]);
    }
#undef RND
    scratch_free(&x);
}

static void test_other_lines_declined(void **state)
{
    (void)state;
    static const char *const declined[] = {
        /* escapes cJSON reads otherwise, or not at all */
        "{" BASE "," TIMES ",\"status_message\":\"a\\u0000b\"}", /* ends the C string */
        "{" BASE "," TIMES ",\"status_message\":\"\\ud800\"}",    /* lone surrogates */
        "{" BASE "," TIMES ",\"status_message\":\"\\udc00\\ud800\"}",
        "{" BASE "," TIMES ",\"status_message\":\"\\ud800\\u0041\"}",
        "{" BASE "," TIMES ",\"status_message\":\"\\u12g4\"}",     /* cJSON: U+0000 */
        "{" BASE "," TIMES ",\"status_message\":\"\\u12\"}",
        "{" BASE "," TIMES ",\"status_message\":\"\\x41\"}",
        "{" BASE "," TIMES ",\"status_message\":\"\\\"}",
        "{" BASE "," TIMES ",\"status_message\":\"tab\there\"}",  /* a raw control byte */
        "{" BASE "," TIMES ",\"attributes\":{\"a\":\"\\U00e9\"}}",
        "{" BASE ",\"start_ns\":\"\\u0031\",\"duration_ns\":1}",    /* an escaped digit */
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"attributes\":{\"a\":-0}}", /* written back as 0 */
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"attributes\":{\"a\": -0}}",
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"attributes\":{\"a\":007}}", /* not JSON */
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"attributes\":{\"a\":1,}}",
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"attributes\":{\"a\" 1}}",
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"attributes\":[1]}",        /* not an object */
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"events\":{}}",             /* not an array */
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"kind\":6}",                /* rejected */
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"kind\":2.5}",
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"kind\":2.0}", /* the tree path's: 2 */
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"kind\":\"sideways\"}",
        "{" BASE ",\"start_ns\":1,\"duration_ns\":1,\"kind\":true}",
        "{" BASE ",\"start_ns\":1.5e3,\"duration_ns\":1}",                      /* time as a real */
        "{" BASE ",\"start_ns\":\"1.5\",\"duration_ns\":1}",
        "{" BASE ",\"start_ns\":true,\"duration_ns\":1}",
        "{" BASE ",\"start_time\":true,\"duration\":1}",                        /* seconds */
        "{" BASE ",\"start_time\":\"soon\",\"duration\":1}",
        "{" BASE ",\"start_time\":[1],\"duration\":1}",
        "{" BASE ",\"start_time\":1e999,\"duration\":1}",
        "{" BASE ",\"start_time\":9300000000,\"duration\":1}",                  /* overflows */
        "{" BASE ",\"start_time\":9223372036.854775808,\"duration\":1}",
        "{" BASE ",\"start_time\":1,\"duration\":-0.5}",                        /* negative */
        "{" BASE ",\"start_time\":1.5,\"end_ns\":2000000000,\"duration\":0.25}", /* disagree */
        "{" BASE ",\"start_ns\":10,\"end_ns\":5}",                              /* end before start */
        "{" BASE ",\"start_ns\":10,\"end_ns\":15,\"duration_ns\":4}",           /* disagree */
        "{" BASE ",\"start_ns\":99999999999999999999,\"duration_ns\":1}",       /* overflows */
        "{" BASE ",\"duration_ns\":1}",                                         /* no start */
        "{" BASE ",\"start_ns\":1}",                                            /* no length */
        "{\"trace_id\":\"t\",\"span_id\":\"s\",\"service\":7,\"service_name\":\"x\",\"operation\":\"o\"," TIMES "}",
        "{\"trace_id\":4.2,\"span_id\":\"s\",\"service\":\"x\",\"operation\":\"o\"," TIMES "}",
        "{\"trace_id\":\"\",\"span_id\":\"s\",\"service\":\"x\",\"operation\":\"o\"," TIMES "}",
        "{\"span_id\":\"s\",\"service\":\"x\",\"operation\":\"o\"," TIMES "}",
        "{\"trace\\u005fid\":\"t\",\"span_id\":\"s\",\"service\":\"x\",\"operation\":\"o\"," TIMES "}",
        "{" BASE "," TIMES "} x",
        "{" BASE "," TIMES ",}",
        "{" BASE "," TIMES "\f}", /* cJSON's whitespace, not JSON's */
        "{" BASE "," TIMES ",\"attributes\":{\"a\":\f1}}",
        "[" BASE "]",
        "\xef\xbb\xbf{" BASE "," TIMES "}",
        "{" BASE "," TIMES ",\"attributes\":{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
        /* longer than upstream cJSON reads (Debian's patched one reads it) */
        "{" BASE "," TIMES ",\"attributes\":{\"x\":1.0000000000000000000000000000000000000000000000000000000000000000000001}}",
    };
    spans_scratch x;
    memset(&x, 0, sizeof x);
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        if (agree(declined[i], strlen(declined[i]), &x)) fail_msg("span_fast() took %s", declined[i]);
    scratch_free(&x);
}

/* Times whose difference does not fit in 64 bits: neither reader accepts
 * them (the subtraction used to overflow, and the first wrapped to 1). */
static void test_time_overflow_rejected(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "{" BASE ",\"start_ns\":9223372036854775807,\"end_ns\":-9223372036854775808,\"duration_ns\":1}",
        "{" BASE ",\"start_ns\":-9000000000000000000,\"end_ns\":9000000000000000000}",
    };
    spans_scratch x;
    memset(&x, 0, sizeof x);
    char repr[512];
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (agree(lines[i], strlen(lines[i]), &x)) fail_msg("span_fast() took %s", lines[i]);
        if (tree_read(lines[i], strlen(lines[i]), &x, repr, sizeof repr))
            fail_msg("the tree path took %s: %s", lines[i], repr);
    }
    scratch_free(&x);
}

/* json.dumps's separators: a space after every ',' and ':' outside strings. */
static size_t python_spacing(const char *in, size_t n, char *out)
{
    size_t m = 0;
    int quoted = 0;
    for (size_t i = 0; i < n; i++) {
        out[m++] = in[i];
        if (in[i] == '"' && (i == 0 || in[i - 1] != '\\')) quoted = !quoted;
        else if (!quoted && (in[i] == ',' || in[i] == ':')) out[m++] = ' ';
    }
    return m;
}

typedef struct mutation_count {
    size_t lines, mutants, taken;
} mutation_count;

/* Every line of cmd's output (each must be taken), with
 * python_spacing() applied if respace, and 40 random mutations of each,
 * which the fast path may take or decline but never read differently. */
static void check_lines(const char *what, const char *cmd, int respace, mutation_count *c)
{
    FILE *fp = popen(cmd, "r");
    assert_non_null(fp);
    spans_scratch x;
    memset(&x, 0, sizeof x);
    static char raw[1 << 15], line[1 << 16], mut[1 << 16];
    static const char alphabet[] = " \t\r\"\\{}[],:0123456789-+.eEtfnul\x01\xc3\xa9";
    unsigned seed = 12345;
    mutation_count here = {0, 0, 0};
    while (fgets(raw, sizeof raw, fp)) {
        size_t n = strcspn(raw, "\n");
        if (respace) n = python_spacing(raw, n, line);
        else memcpy(line, raw, n);
        here.lines++;
        if (!agree(line, n, &x))
            fail_msg("%s: span_fast() declined line %zu: %.*s", what, here.lines, (int)n, line);
        for (int k = 0; k < 40; k++) {
            memcpy(mut, line, n);
            size_t m = n;
            for (int e = 0; e <= k % 3; e++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % m;
                char ch = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
                switch ((seed >> 4) % 3) {
                case 0: mut[at] = ch; break;                                     /* replace */
                case 1: memmove(mut + at, mut + at + 1, m - at - 1); m--; break; /* delete */
                default: memmove(mut + at + 1, mut + at, m - at); mut[at] = ch; m++; /* insert */
                }
            }
            here.mutants++;
            here.taken += (size_t)agree(mut, m, &x);
        }
    }
    assert_int_equal(pclose(fp), 0);
    scratch_free(&x);
    assert_int_equal(here.lines, 3000);
    print_message("%-34s %zu lines; %zu of %zu mutants taken by span_fast()\n", what, here.lines,
                  here.taken, here.mutants);
    c->lines += here.lines;
    c->mutants += here.mutants;
    c->taken += here.taken;
}

/* spangen's lines in both layouts, compact and as Python writes them
 * (python_spacing(), and python3's own json.dumps when there is one),
 * then random mutations of all of them. */
static void test_spangen_and_mutations(void **state)
{
    (void)state;
    const char *gen = getenv("SPANGEN");
    if (!gen || !*gen) skip();
    /* json.dumps escapes non-ASCII text (ensure_ascii): some is added */
    static const char dumps[] =
        " | python3 -c 'import json, sys\n"
        "for i, l in enumerate(sys.stdin):\n"
        "    d = json.loads(l)\n"
        "    if i % 2: d[\"attributes\"][\"note\"] = \"caf\\u00e9 \\U0001F600 \\\"q\\\" \\\\ /\\t\"\n"
        "    if i % 3 == 0: d[\"status_message\"] = \"\\u20ac\\u0001\"\n"
        "    print(json.dumps(d))'";
    int python = system("python3 -c pass >/dev/null 2>&1") == 0;
    mutation_count c = {0, 0, 0};
    char cmd[800];
    for (int tracagg = 0; tracagg <= 1; tracagg++) {
        const char *fmt = tracagg ? "tracagg" : "spans";
        char what[64];
        snprintf(cmd, sizeof cmd, "'%s' --seed 11 --spans 3000 --format %s", gen, fmt);
        snprintf(what, sizeof what, "spangen --format %s", fmt);
        check_lines(what, cmd, 0, &c);
        snprintf(what, sizeof what, "spangen --format %s, \", \" \": \"", fmt);
        check_lines(what, cmd, 1, &c);
        if (python) {
            snprintf(cmd, sizeof cmd, "'%s' --seed 11 --spans 3000 --format %s%s", gen, fmt, dumps);
            snprintf(what, sizeof what, "spangen --format %s | json.dumps", fmt);
            check_lines(what, cmd, 0, &c);
        } else {
            print_message("no python3: json.dumps lines not checked\n");
        }
    }
    print_message("in all: %zu lines; %zu of %zu mutants taken by span_fast()\n", c.lines, c.taken,
                  c.mutants);
    /* Most mutants still parse (a changed digit, letter, ...): both kinds occur. */
    if (c.taken == 0 || c.taken == c.mutants)
        fail_msg("%zu of %zu mutants taken: the mutations test nothing", c.taken, c.mutants);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines_taken),
        cmocka_unit_test(test_fast_values),
        cmocka_unit_test(test_escapes_decoded),
        cmocka_unit_test(test_other_lines_declined),
        cmocka_unit_test(test_time_overflow_rejected),
        cmocka_unit_test(test_spangen_and_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
