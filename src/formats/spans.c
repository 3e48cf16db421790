/*
 * formats/spans.c -- the native format: JSON Lines, one span per line
 * (docs/formats.md), plus TracAgg's field names so its users can load what
 * they have.  Decoding is line by line, so memory is bounded by the longest
 * line; integers are read from their text (json.h), never via a double.
 *
 * Two readers give the same span: span_fast() reads a plain line (no raw
 * control bytes, no escape cJSON would read oddly, canonical numbers, any
 * insignificant whitespace and any key order: what spangen, our own export
 * and Python's json.dumps write, in spanlite's or TracAgg's field names)
 * straight from its text; any other line, and every line that is to be
 * rejected, goes through a cJSON tree (span_from_json()).
 */
#include "formats/format.h"
#include "base/json.h"
#include "base/span.h"

#include <stdio.h>
#include <string.h>

/* Scratch reused across lines: JSON texts of the structured members. */
typedef struct spans_scratch {
    sl_buf attrs, resource, scope, events, links;
    sl_buf strs;       /* span_fast(): the line's strings, each NUL-terminated */
    char idbuf[3][32]; /* ids given as JSON numbers, as text */
} spans_scratch;

/* The members a span may have, found in one pass over the object (a
 * lookup per member would compare every key again for each). */
enum {
    F_TRACE_ID, F_SPAN_ID, F_PARENT, F_SERVICE, F_SERVICE_NAME, F_OPERATION, F_OPERATION_NAME,
    F_REMOTE, F_STATUS_MESSAGE, F_ERROR_MESSAGE, F_KIND, F_STATUS, F_SHARED, F_START_NS,
    F_START_TIME, F_END_NS, F_DURATION_NS, F_DURATION, F_ATTRIBUTES, F_RESOURCE, F_SCOPE,
    F_EVENTS, F_LINKS, F_COUNT
};
static const char *const field_names[F_COUNT] = {
    "trace_id", "span_id", "parent_span_id", "service", "service_name", "operation",
    "operation_name", "remote_service", "status_message", "error_message", "kind", "status",
    "shared", "start_ns", "start_time", "end_ns", "duration_ns", "duration", "attributes",
    "resource", "scope", "events", "links",
};

/* f[i] = the first member named field_names[i], or NULL; null values count as absent. */
static void collect_fields(const cJSON *o, const cJSON *f[F_COUNT])
{
    memset(f, 0, F_COUNT * sizeof *f);
    for (const cJSON *c = o->child; c; c = c->next) {
        const char *k = c->string;
        for (int i = 0; k && i < F_COUNT; i++) {
            if (k[0] != field_names[i][0] || strcmp(k, field_names[i]) != 0) continue;
            if (!f[i] && !cJSON_IsNull(c)) f[i] = c;
            break;
        }
    }
}

/* A string, or an integer as decimal text (ids are strings, but a producer
 * may well write 42). */
static const char *id_value(const cJSON *it, char *buf, size_t len)
{
    int64_t v;
    if (cJSON_IsString(it)) return it->valuestring;
    if (it && cJSON_IsNumber(it) && sl_json_int64(it, &v) == 0) {
        snprintf(buf, len, "%lld", (long long)v);
        return buf;
    }
    return NULL;
}

static const char *str_value(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsString(a)) return a->valuestring;
    return cJSON_IsString(b) ? b->valuestring : NULL;
}

/* JSON text of it if it has the wanted type, into buf; NULL if absent. */
static const char *json_value(const cJSON *it, int want_object, sl_buf *buf, const char **why)
{
    if (!it) return NULL;
    if (want_object ? !cJSON_IsObject(it) : !cJSON_IsArray(it)) {
        *why = want_object ? "member is not an object" : "member is not an array";
        return NULL;
    }
    sl_buf_reset(buf);
    sl_jw_cjson(buf, it);
    return buf->oom ? NULL : buf->p;
}

/* Kind or status: a name (any case) or an integer in 0..max. */
static int enum_value(const cJSON *it, int (*parse)(const char *), int max, int *out)
{
    int64_t v;
    if (!it) return 0;
    if (cJSON_IsString(it)) *out = parse(it->valuestring);
    else if (sl_json_int64(it, &v) == 0) *out = (int)(v >= 0 && v <= max ? v : -1);
    else *out = -1;
    return *out < 0 ? -1 : 0;
}

/* An integer time in ns, or else seconds given as a decimal (TracAgg). */
static int time_value(const cJSON *ns, const cJSON *secs, int64_t *out, int *have)
{
    *have = ns || secs;
    if (ns) return sl_json_int64(ns, out);
    if (!secs) return 0;
    const char *text = cJSON_IsString(secs) ? secs->valuestring : sl_json_number_text(secs);
    char tmp[32];
    if (!text && cJSON_IsNumber(secs)) { /* an integer number of seconds */
        int64_t v;
        if (sl_json_int64(secs, &v)) return -1;
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        text = tmp;
    }
    return text ? sl_parse_seconds_ns(text, out) : -1;
}

/* end - start; -1, which is rejected as "end before start", when the
 * difference does not fit (e.g. start near 2^63 and end near -2^63). */
static int64_t span_length(int64_t start, int64_t end)
{
    int64_t d;
    return __builtin_sub_overflow(end, start, &d) ? -1 : d;
}

/* Fill sp from the object o; NULL on success, else the reason to reject. */
static const char *span_from_json(const cJSON *o, sl_span *sp, spans_scratch *x)
{
    const char *why = NULL;
    const cJSON *f[F_COUNT];
    memset(sp, 0, sizeof *sp);
    if (!cJSON_IsObject(o)) return "not a JSON object";
    collect_fields(o, f);
    sp->trace_id = id_value(f[F_TRACE_ID], x->idbuf[0], sizeof x->idbuf[0]);
    sp->span_id = id_value(f[F_SPAN_ID], x->idbuf[1], sizeof x->idbuf[1]);
    sp->parent_span_id = id_value(f[F_PARENT], x->idbuf[2], sizeof x->idbuf[2]);
    sp->service = str_value(f[F_SERVICE], f[F_SERVICE_NAME]);
    sp->operation = str_value(f[F_OPERATION], f[F_OPERATION_NAME]);
    sp->remote_service = str_value(f[F_REMOTE], NULL);
    sp->status_message = str_value(f[F_STATUS_MESSAGE], f[F_ERROR_MESSAGE]);
    if (!sp->trace_id) return "missing trace_id";
    if (!sp->span_id) return "missing span_id";
    if (!sp->service) return "missing service";
    if (!sp->operation) return "missing operation";
    if (enum_value(f[F_KIND], sl_kind_parse, 5, &sp->kind)) return "bad kind";
    if (enum_value(f[F_STATUS], sl_status_parse, 2, &sp->status)) return "bad status";
    if (cJSON_IsTrue(f[F_SHARED])) sp->flags |= SL_SPAN_SHARED;

    int64_t end = 0, dur = 0;
    int have_start, have_end, have_dur;
    if (time_value(f[F_START_NS], f[F_START_TIME], &sp->start_ns, &have_start)) return "bad start_ns";
    if (!have_start) return "missing start_ns";
    if (time_value(f[F_END_NS], NULL, &end, &have_end)) return "bad end_ns";
    if (time_value(f[F_DURATION_NS], f[F_DURATION], &dur, &have_dur)) return "bad duration_ns";
    if (!have_end && !have_dur) return "missing end_ns or duration_ns";
    if (have_end && have_dur && span_length(sp->start_ns, end) != dur)
        return "end_ns - start_ns != duration_ns";
    sp->duration_ns = have_dur ? dur : span_length(sp->start_ns, end);
    if (sp->duration_ns < 0) return "end before start";

    sp->attributes = json_value(f[F_ATTRIBUTES], 1, &x->attrs, &why);
    sp->resource = json_value(f[F_RESOURCE], 1, &x->resource, &why);
    sp->scope = json_value(f[F_SCOPE], 1, &x->scope, &why);
    sp->events = json_value(f[F_EVENTS], 0, &x->events, &why);
    sp->links = json_value(f[F_LINKS], 0, &x->links, &why);
    return why ? why : sl_span_check(sp); /* e.g. "" ids: reject here, with the line */
}

/* ---- the fast path ----
 *
 * A cJSON tree costs some fifty allocations a line, a quarter of the
 * parser thread's time at 10M spans.  span_fast() takes a line only when
 * the tree path would accept it and yield the same fields: every value is
 * "plain" (strings without raw control bytes, U+0000, lone surrogates or
 * bad escapes; numbers as sl_jw_cjson() would write them back), so a
 * structured member's text is the tree path's once its insignificant
 * whitespace is dropped and its escaped strings are decoded as cJSON does
 * and written again as sl_jw_string() does; top-level keys have no
 * escapes (one could spell a field's name); the known
 * fields have types it reads by the tree path's own rules (the same
 * sl_parse_int64() and sl_parse_seconds_ns() calls on the same text); and
 * the span passes every check.  Otherwise it declines and the tree path
 * decides, messages included. */

#define PLAIN_DEPTH 32 /* deeper values go to the tree path */

/* JSON's whitespace but '\n', which ends a line before it gets here. */
static int plain_is_ws(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static const char *plain_ws(const char *p, const char *end)
{
    while (p < end && plain_is_ws(*p)) p++;
    return p;
}

/* What a plain value holds that its text must lose to be the tree path's. */
#define PLAIN_WS 1  /* whitespace between the tokens of an object or array */
#define PLAIN_ESC 2 /* a string with an escape */

static int hex4(const char *p, const char *end)
{
    int v = 0;
    if (end - p < 4) return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The escape at p ('\\'): its length, and its code point in *cp; 0 if
 * it is one the fast path leaves to cJSON: a bad one, U+0000 (which ends
 * cJSON's C string), a lone surrogate, or bad hex digits (which cJSON's
 * parse_hex4() reads as 0). */
static int plain_escape(const char *p, const char *end, long *cp)
{
    if (end - p < 2) return 0;
    switch (p[1]) {
    case '"': *cp = '"'; return 2;
    case '\\': *cp = '\\'; return 2;
    case '/': *cp = '/'; return 2;
    case 'b': *cp = '\b'; return 2;
    case 'f': *cp = '\f'; return 2;
    case 'n': *cp = '\n'; return 2;
    case 'r': *cp = '\r'; return 2;
    case 't': *cp = '\t'; return 2;
    case 'u': break;
    default: return 0;
    }
    int hi = hex4(p + 2, end);
    if (hi <= 0 || (hi >= 0xDC00 && hi <= 0xDFFF)) return 0;
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = hi;
        return 6;
    }
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u') return 0;
    int lo = hex4(p + 8, end);
    if (lo < 0xDC00 || lo > 0xDFFF) return 0;
    *cp = 0x10000 + (((long)(hi & 0x3FF) << 10) | (lo & 0x3FF));
    return 12;
}

/* Past the string at p ('"'), or NULL if it has a control byte or an
 * escape plain_escape() declines; *flags gets PLAIN_ESC if it has one. */
static const char *plain_string(const char *p, const char *end, int *flags)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            long cp = 0;
            int n = plain_escape(p, end, &cp);
            if (!n) return NULL;
            *flags |= PLAIN_ESC;
            p += n - 1;
        }
    }
    return NULL;
}

/* Code point cp in UTF-8, as cJSON writes it; the bytes written. */
static int utf8_put(char *o, long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The contents of the plain string [s, e) (quotes excluded) as cJSON
 * decodes them, into o; the bytes written (never more than e - s). */
static size_t plain_decode(const char *s, const char *e, char *o)
{
    char *o0 = o;
    while (s < e) {
        const char *bs = memchr(s, '\\', (size_t)(e - s));
        size_t run = (size_t)((bs ? bs : e) - s);
        memcpy(o, s, run);
        o += run;
        s += run;
        if (!bs) break;
        long cp = 0;
        s += plain_escape(s, e, &cp); /* plain: a valid one */
        o += utf8_put(o, cp);
    }
    return (size_t)(o - o0);
}

/* The plain string [s, e) (quotes included) as sl_jw_string() writes its
 * decoded contents back, into o: the bytes written (never more than e - s:
 * only escaped bytes need escaping again, and no escape gets longer). */
static size_t plain_reescape(const char *s, const char *e, char *o)
{
    static const char hex[] = "0123456789abcdef";
    char *o0 = o, dec[4];
    *o++ = '"';
    for (s++, e--; s < e;) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        long cp = 0;
        s += plain_escape(s, e, &cp);
        int n = utf8_put(dec, cp);
        for (int i = 0; i < n; i++) {
            unsigned char c = (unsigned char)dec[i];
            if (c >= 0x20 && c != '"' && c != '\\') {
                *o++ = (char)c;
                continue;
            }
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                memcpy(o, "u00", 3);
                o[3] = hex[c >> 4];
                o[4] = hex[c & 15];
                o += 5;
            }
        }
    }
    *o++ = '"';
    return (size_t)(o - o0);
}

static const char *digits(const char *p, const char *end)
{
    const char *s = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    return p > s ? p : NULL;
}

/* Past the number at p in JSON's grammar, or NULL.  Reals are written back
 * as given (json.h); an integer is written back from its value, so it must
 * already be in canonical form: no "-0". */
static const char *plain_number(const char *p, const char *end)
{
    const char *s = p;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') p++;
    else if (p < end && *p >= '1' && *p <= '9') p = digits(p, end);
    else return NULL;
    int real = 0;
    if (p < end && *p == '.') {
        real = 1;
        if (!(p = digits(p + 1, end))) return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!(p = digits(p, end))) return NULL;
    }
    if (!real && p - s == 2 && s[0] == '-' && s[1] == '0') return NULL; /* -0 */
    if (p - s > 63) return NULL; /* upstream cJSON rejects longer numbers */
    return p;
}

static const char *plain_word(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(end - p) >= n && memcmp(p, w, n) == 0 ? p + n : NULL;
}

/* Past the plain value at p, or NULL; PLAIN_WS and PLAIN_ESC added to
 * *flags for what it holds. */
static const char *plain_value(const char *p, const char *end, int depth, int *flags)
{
    if (p >= end || depth > PLAIN_DEPTH) return NULL;
    switch (*p) {
    case '"': return plain_string(p, end, flags);
    case 't': return plain_word(p, end, "true");
    case 'f': return plain_word(p, end, "false");
    case 'n': return plain_word(p, end, "null");
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        const char *q;
        p++;
#define SKIP_WS()                 \
    q = plain_ws(p, end);         \
    if (q != p) *flags |= PLAIN_WS, p = q
        SKIP_WS();
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= end || *p != '"' || !(p = plain_string(p, end, flags))) return NULL;
                SKIP_WS();
                if (p >= end || *p++ != ':') return NULL;
                SKIP_WS();
            }
            if (!(p = plain_value(p, end, depth + 1, flags))) return NULL;
            SKIP_WS();
            if (p >= end) return NULL;
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
            SKIP_WS();
        }
#undef SKIP_WS
    }
    default: return plain_number(p, end);
    }
}

static int field_of(const char *k, size_t klen)
{
    for (int i = 0; i < F_COUNT; i++)
        if (k[0] == field_names[i][0] && strlen(field_names[i]) == klen && !memcmp(k, field_names[i], klen))
            return i;
    return -1;
}

/* A known member's plain value: [v, ve); v is NULL when absent or null. */
typedef struct fast_val {
    const char *v, *ve;
    int flags; /* PLAIN_WS, PLAIN_ESC */
} fast_val;

/* The bytes, NUL-terminated, in the reserved x->strs. */
static const char *fast_copy(spans_scratch *x, const char *v, size_t n)
{
    const char *at = x->strs.p + x->strs.len;
    sl_buf_append(&x->strs, v, n);
    sl_buf_putc(&x->strs, '\0');
    return at;
}

/* A string's contents, decoded, NUL-terminated, in the reserved x->strs
 * (decoding never lengthens it). */
static const char *fast_decode(spans_scratch *x, const char *v, const char *ve)
{
    char *at = x->strs.p + x->strs.len;
    size_t n = plain_decode(v, ve, at);
    at[n] = '\0';
    x->strs.len += n + 1;
    return at;
}

static int is_int_text(const char *v, const char *ve)
{
    return *v != '"' && !memchr(v, '.', (size_t)(ve - v)) && !memchr(v, 'e', (size_t)(ve - v)) &&
           !memchr(v, 'E', (size_t)(ve - v));
}

/* A string member; *odd set when present with another type. */
static const char *fast_str(spans_scratch *x, const fast_val *f, int *odd)
{
    if (!f->v) return NULL;
    if (*f->v != '"') {
        *odd = 1;
        return NULL;
    }
    if (f->flags & PLAIN_ESC) return fast_decode(x, f->v + 1, f->ve - 1);
    return fast_copy(x, f->v + 1, (size_t)(f->ve - f->v) - 2);
}

/* An id: a string, or an integer number, which the tree path gives as
 * "%lld" of its value (up to 15 digits, exact in a double) or as its text
 * (longer ones, kept as text by sl_json_parse()): for a canonical integer
 * (plain_number() has no "-0" or leading zeros) both are the text. */
static const char *fast_id(spans_scratch *x, const fast_val *f, int *odd)
{
    if (f->v && *f->v >= '-' && *f->v <= '9' && is_int_text(f->v, f->ve))
        return fast_copy(x, f->v, (size_t)(f->ve - f->v));
    return fast_str(x, f, odd);
}

/* An integer: a number or a decimal string, read by sl_parse_int64() as
 * sl_json_int64() reads it (numbers of up to 15 digits are exact doubles
 * there, longer ones their text).  Reals decline. */
static int fast_int(const fast_val *f, int64_t *out)
{
    char tmp[72];
    const char *v = f->v, *ve = f->ve;
    if (f->flags & PLAIN_ESC) return -1; /* an escaped digit: rare, the tree path's */
    if (*v == '"') v++, ve--;
    else if (!is_int_text(v, ve)) return -1;
    size_t n = (size_t)(ve - v);
    if (n >= sizeof tmp) return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    return sl_parse_int64(tmp, out);
}

/* Seconds (TracAgg) to ns by time_value()'s rule: a string's text or a
 * real's text as written, an integer of more than 15 digits as its text
 * too; a shorter integer through its int64 value printed with "%lld". */
static int fast_seconds(const fast_val *f, int64_t *out)
{
    char tmp[72];
    const char *v = f->v, *ve = f->ve;
    if (f->flags & PLAIN_ESC) return -1;
    if (*v == '"') v++, ve--;
    else if (!(*v == '-' || (*v >= '0' && *v <= '9'))) return -1; /* not a number */
    size_t n = (size_t)(ve - v);
    if (n >= sizeof tmp) return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    if (*f->v != '"' && is_int_text(v, ve) && n - (*v == '-') <= 15) {
        int64_t i;
        if (sl_parse_int64(tmp, &i)) return -1;
        snprintf(tmp, sizeof tmp, "%lld", (long long)i);
    }
    return sl_parse_seconds_ns(tmp, out);
}

/* ns from an integer member, else seconds from another: time_value(). */
static int fast_time(const fast_val *ns, const fast_val *secs, int64_t *out, int *have)
{
    *have = ns->v || secs->v;
    if (ns->v) return fast_int(ns, out);
    return secs->v ? fast_seconds(secs, out) : 0;
}

/* Kind or status: a name (any case) or an integer in 0..max, as
 * enum_value(); -1 otherwise. */
static int fast_enum(spans_scratch *x, const fast_val *f, int (*parse)(const char *), int max)
{
    int odd = 0;
    int64_t v;
    if (!f->v) return 0;
    if (*f->v == '"') return parse(fast_str(x, f, &odd));
    if (!is_int_text(f->v, f->ve) || (f->ve - f->v) > 15 || fast_int(f, &v)) return -1;
    return v >= 0 && v <= max ? (int)v : -1;
}

/* The JSON text sl_jw_cjson() writes for a plain value: the value without
 * its insignificant whitespace, escaped strings written again by
 * sl_jw_string()'s rules (never longer, see plain_reescape()). */
static const char *fast_json(sl_buf *b, const fast_val *f, char open, int *odd)
{
    if (!f->v) return NULL;
    if (*f->v != open) {
        *odd = 1;
        return NULL;
    }
    size_t n = (size_t)(f->ve - f->v);
    sl_buf_reset(b);
    if (!f->flags) {
        sl_buf_append(b, f->v, n);
    } else if (!sl_buf_reserve(b, n)) {
        char *o = b->p;
        for (const char *p = f->v; p < f->ve;) {
            if (*p == '"') {
                int esc = 0;
                const char *q = plain_string(p, f->ve, &esc); /* plain: not NULL */
                if (esc) {
                    o += plain_reescape(p, q, o);
                } else {
                    memcpy(o, p, (size_t)(q - p));
                    o += q - p;
                }
                p = q;
            } else if (plain_is_ws(*p)) {
                p++;
            } else {
                *o++ = *p++;
            }
        }
        b->len = (size_t)(o - b->p);
        b->p[b->len] = '\0';
    }
    if (b->oom) *odd = 1;
    return b->p;
}

/* Find each known member's first non-null value; 0 unless the whole line
 * is one plain object. */
static int fast_members(const char *p, const char *end, fast_val f[F_COUNT])
{
    memset(f, 0, F_COUNT * sizeof *f);
    p = plain_ws(p, end);
    if (p >= end || *p != '{') return 0;
    p = plain_ws(p + 1, end);
    if (p < end && *p == '}') return plain_ws(p + 1, end) == end;
    for (;;) {
        int kflags = 0; /* an escaped key may spell a field's name: the tree path's */
        const char *k = p, *ke = p < end && *p == '"' ? plain_string(p, end, &kflags) : NULL;
        if (!ke || kflags) return 0;
        p = plain_ws(ke, end);
        if (p >= end || *p != ':') return 0;
        int flags = 0;
        const char *val = plain_ws(p + 1, end), *vend = plain_value(val, end, 0, &flags);
        if (!vend) return 0;
        int i = field_of(k + 1, (size_t)(ke - k) - 2);
        if (i >= 0 && !f[i].v && !(vend - val == 4 && !memcmp(val, "null", 4))) {
            f[i].v = val;
            f[i].ve = vend;
            f[i].flags = flags;
        }
        p = plain_ws(vend, end);
        if (p < end && *p == ',') {
            p = plain_ws(p + 1, end);
            continue;
        }
        return p < end && *p == '}' && plain_ws(p + 1, end) == end;
    }
}

/* Fill sp from a plain line; 1 if taken, 0 to leave it to the tree path. */
static int span_fast(const char *line, size_t len, sl_span *sp, spans_scratch *x)
{
    fast_val f[F_COUNT];
    memset(sp, 0, sizeof *sp);
    if (!fast_members(line, line + len, f)) return 0;
    sl_buf_reset(&x->strs);
    if (sl_buf_reserve(&x->strs, len + F_COUNT)) return 0;
    int odd = 0;
    sp->trace_id = fast_id(x, &f[F_TRACE_ID], &odd);
    sp->span_id = fast_id(x, &f[F_SPAN_ID], &odd);
    sp->parent_span_id = fast_id(x, &f[F_PARENT], &odd);
    const char *svc = fast_str(x, &f[F_SERVICE], &odd);
    const char *svc_name = fast_str(x, &f[F_SERVICE_NAME], &odd);
    const char *op = fast_str(x, &f[F_OPERATION], &odd);
    const char *op_name = fast_str(x, &f[F_OPERATION_NAME], &odd);
    const char *msg = fast_str(x, &f[F_STATUS_MESSAGE], &odd);
    const char *err_msg = fast_str(x, &f[F_ERROR_MESSAGE], &odd);
    sp->remote_service = fast_str(x, &f[F_REMOTE], &odd);
    sp->service = svc ? svc : svc_name;
    sp->operation = op ? op : op_name;
    sp->status_message = msg ? msg : err_msg;
    sp->kind = fast_enum(x, &f[F_KIND], sl_kind_parse, 5);
    sp->status = fast_enum(x, &f[F_STATUS], sl_status_parse, 2);
    if (f[F_SHARED].v && *f[F_SHARED].v == 't') sp->flags |= SL_SPAN_SHARED; /* true: cJSON_IsTrue */
    int64_t end = 0, dur = 0;
    int have_start, have_end, have_dur;
    if (odd || sp->kind < 0 || sp->status < 0 ||
        fast_time(&f[F_START_NS], &f[F_START_TIME], &sp->start_ns, &have_start) || !have_start ||
        (f[F_END_NS].v && fast_int(&f[F_END_NS], &end)) ||
        fast_time(&f[F_DURATION_NS], &f[F_DURATION], &dur, &have_dur))
        return 0;
    have_end = f[F_END_NS].v != NULL;
    if ((!have_end && !have_dur) || (have_end && have_dur && span_length(sp->start_ns, end) != dur))
        return 0;
    sp->duration_ns = have_dur ? dur : span_length(sp->start_ns, end);
    sp->attributes = fast_json(&x->attrs, &f[F_ATTRIBUTES], '{', &odd);
    sp->resource = fast_json(&x->resource, &f[F_RESOURCE], '{', &odd);
    sp->scope = fast_json(&x->scope, &f[F_SCOPE], '{', &odd);
    sp->events = fast_json(&x->events, &f[F_EVENTS], '[', &odd);
    sp->links = fast_json(&x->links, &f[F_LINKS], '[', &odd);
    return !odd && sp->duration_ns >= 0 && sp->trace_id && sp->span_id && sp->service &&
           sp->operation && !sl_span_check(sp);
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\f\v", s[i])) return 0;
    return 1;
}

static int spans_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    spans_scratch x;
    memset(&x, 0, sizeof x);
    char *line, why[160];
    size_t len;
    uint64_t lineno = 0;
    int rc, result = 0;
    while ((rc = sl_input_line(in, &line, &len, &lineno)) > 0) {
        if (is_blank(line, len)) continue;
        sl_span sp;
        if (span_fast(line, len, &sp, &x)) {
            if (sl_sink_span(sink, &sp, lineno)) {
                result = -1;
                break;
            }
            continue;
        }
        cJSON *o = sl_json_parse(line, len, why, sizeof why);
        if (!o) {
            sl_sink_reject(sink, lineno, why, line, len);
            continue;
        }
        const char *bad = span_from_json(o, &sp, &x);
        if (bad) sl_sink_reject(sink, lineno, bad, line, len);
        else if (sl_sink_span(sink, &sp, lineno)) result = -1;
        cJSON_Delete(o);
        if (result) break;
    }
    if (rc < 0) {
        snprintf(err, errlen, "line %llu: %s", (unsigned long long)lineno + 1, sl_input_error(in));
        result = -1;
    }
    sl_buf_free(&x.attrs);
    sl_buf_free(&x.resource);
    sl_buf_free(&x.scope);
    sl_buf_free(&x.events);
    sl_buf_free(&x.links);
    sl_buf_free(&x.strs);
    return result;
}

/* Lines of JSON objects with span fields; other JSON formats score higher
 * on their own keys. */
static int spans_detect(const char *head, size_t len)
{
    (void)len;
    const char *p = head;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (*p != '{') return 0;
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    int score = 10;
    if (memmem(p, n, "\"span_id\"", 9)) score += 30;
    if (memmem(p, n, "\"trace_id\"", 10)) score += 30;
    return score;
}

const sl_format sl_format_spans = {"spans", spans_detect, spans_decode};
