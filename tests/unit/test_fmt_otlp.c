/*
 * test_fmt_otlp.c -- attrs.c (OTLP AnyValue <-> stored JSON, the document
 * scanner), base/source.c's window, and the OTLP format through the public API
 * (sl_open(":memory:") and sl_import_file()).
 *
 * formats/otlp.c is compiled into this test with a 16-byte window chunk
 * (OTLP_CHUNK, its seam for this), so in every document imported here the
 * records straddle window boundaries and the window shifts many times; the
 * library's own fmt_otlp.o is then not linked (this file defines the same
 * symbols, and the linker takes archive members only for undefined ones).
 *
 * Golden values are worked by hand from the storage rule numbered in
 * attrs.h; the base64 ids were decoded independently with
 *   python3 -c "import base64; print(base64.b64decode('Sc130fnc2TY=').hex())"
 * (49cd77d1f9dcd936) and likewise for the trace id.
 */
#define OTLP_CHUNK 16
#include "formats/otlp.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <zlib.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/attrs.h"
#include "formats/format.h"
#include "base/source.h"
#include "base/json.h"
#include "spanlite.h"

/* ---- AnyValue -> stored JSON ---- */

/* The stored form of one AnyValue given as JSON text; NULL on error. */
static char *from_anyvalue(const char *av)
{
    char err[128];
    cJSON *t = sl_json_parse(av, strlen(av), err, sizeof err);
    assert_non_null(t);
    sl_buf b = SL_BUF_INIT;
    int rc = sl_attr_from_anyvalue(&b, t, err, sizeof err);
    cJSON_Delete(t);
    if (rc) {
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_take(&b);
}

static void check_from(const char *av, const char *want)
{
    char *got = from_anyvalue(av);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_anyvalue_scalars(void **state)
{
    (void)state;
    check_from("{\"stringValue\":\"a\\\"b\"}", "\"a\\\"b\"");
    check_from("{\"boolValue\":true}", "true");
    check_from("{\"bool_value\":false}", "false");
    check_from("{\"intValue\":\"200\"}", "200");
    check_from("{\"intValue\":-7}", "-7");
    /* int64 limits, as strings and as bare literals (rule 3) */
    check_from("{\"intValue\":\"9223372036854775807\"}", "9223372036854775807");
    check_from("{\"intValue\":\"-9223372036854775808\"}", "-9223372036854775808");
    check_from("{\"intValue\":1234567890123456789}", "1234567890123456789");
    /* rule 4: a double always keeps a fraction or an exponent */
    check_from("{\"doubleValue\":3}", "3.0");
    check_from("{\"doubleValue\":0.1}", "0.1");
    check_from("{\"doubleValue\":2.5e-07}", "2.5e-07");
    check_from("{\"doubleValue\":\"1.5\"}", "1.5");
    check_from("{\"doubleValue\":\"NaN\"}", "\"NaN\"");
    check_from("{\"doubleValue\":\"-Infinity\"}", "\"-Infinity\"");
    check_from("{\"bytesValue\":\"AAAwOQ==\"}", "{\"$bytes\":\"AAAwOQ==\"}");
    check_from("{}", "null");
    check_from("{\"unknownValue\":1}", "null");
}

static void test_anyvalue_nested(void **state)
{
    (void)state;
    check_from("{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"intValue\":\"7\"},"
               "{\"arrayValue\":{\"values\":[{\"boolValue\":true}]}}]}}",
               "[\"a\",7,[true]]");
    check_from("{\"arrayValue\":{}}", "[]");
    check_from("{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":{\"doubleValue\":1}},"
               "{\"key\":\"m\",\"value\":{\"kvlistValue\":{\"values\":[]}}}]}}",
               "{\"k\":1.0,\"m\":{}}");
}

static void test_anyvalue_errors(void **state)
{
    (void)state;
    assert_null(from_anyvalue("{\"intValue\":\"12x\"}"));
    assert_null(from_anyvalue("{\"intValue\":\"99999999999999999999\"}")); /* > int64 */
    assert_null(from_anyvalue("{\"intValue\":1.5}"));
    assert_null(from_anyvalue("{\"boolValue\":1}"));
    assert_null(from_anyvalue("{\"stringValue\":3}"));
    assert_null(from_anyvalue("\"bare\""));
    assert_null(from_anyvalue("{\"kvlistValue\":{\"values\":[{\"value\":{}}]}}")); /* no key */
}

static void test_keyvalues(void **state)
{
    (void)state;
    const char *kvs = "[{\"key\":\"a\",\"value\":{\"stringValue\":\"x\"}},{\"key\":\"b\"},"
                      "{\"key\":\"c\",\"value\":{\"intValue\":\"1\"}}]";
    char err[128];
    cJSON *t = sl_json_parse(kvs, strlen(kvs), err, sizeof err);
    sl_buf b = SL_BUF_INIT;
    assert_int_equal(sl_attr_from_keyvalues(&b, t, err, sizeof err), 3);
    assert_string_equal(b.p, "{\"a\":\"x\",\"b\":null,\"c\":1}");
    sl_buf_reset(&b);
    assert_int_equal(sl_attr_from_keyvalues(&b, NULL, err, sizeof err), 0);
    assert_string_equal(b.p, "{}");
    sl_buf_free(&b);
    cJSON_Delete(t);
}

/* ---- stored JSON -> AnyValue ---- */

static void check_to(const char *stored, const char *want)
{
    char err[128];
    cJSON *t = sl_json_parse(stored, strlen(stored), err, sizeof err);
    assert_non_null(t);
    sl_buf b = SL_BUF_INIT;
    sl_attr_to_anyvalue(&b, t);
    assert_string_equal(b.p, want);
    sl_buf_free(&b);
    cJSON_Delete(t);
}

static void test_to_anyvalue(void **state)
{
    (void)state;
    check_to("\"s\"", "{\"stringValue\":\"s\"}");
    check_to("true", "{\"boolValue\":true}");
    check_to("42", "{\"intValue\":\"42\"}");
    check_to("9223372036854775807", "{\"intValue\":\"9223372036854775807\"}");
    check_to("\"9223372036854775807\"", "{\"stringValue\":\"9223372036854775807\"}");
    check_to("3.0", "{\"doubleValue\":3.0}");
    check_to("1e3", "{\"doubleValue\":1000.0}");
    check_to("null", "{}");
    check_to("{\"$bytes\":\"AAAwOQ==\"}", "{\"bytesValue\":\"AAAwOQ==\"}");
    /* "$bytes" with company is an ordinary kvlist */
    check_to("{\"$bytes\":\"x\",\"y\":1}",
             "{\"kvlistValue\":{\"values\":[{\"key\":\"$bytes\",\"value\":{\"stringValue\":\"x\"}},"
             "{\"key\":\"y\",\"value\":{\"intValue\":\"1\"}}]}}");
    check_to("[1,\"a\"]", "{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{\"stringValue\":\"a\"}]}}");
}

static void test_type_of(void **state)
{
    (void)state;
    const char *doc = "{\"s\":\"x\",\"i\":1,\"big\":12345678901234567890,\"d\":1.0,\"b\":false,"
                      "\"y\":{\"$bytes\":\"AA==\"},\"a\":[],\"k\":{},\"n\":null}";
    char err[128];
    cJSON *t = sl_json_parse(doc, strlen(doc), err, sizeof err);
    assert_non_null(t);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "s")), SL_ATTR_STRING);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "i")), SL_ATTR_INT);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "d")), SL_ATTR_DOUBLE);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "b")), SL_ATTR_BOOL);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "y")), SL_ATTR_BYTES);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "a")), SL_ATTR_ARRAY);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "k")), SL_ATTR_KVLIST);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "n")), SL_ATTR_EMPTY);
    /* 12345678901234567890 > INT64_MAX: an integer literal no int64 holds */
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "big")), SL_ATTR_DOUBLE);
    assert_true(sl_attr_double(sl_json_get(t, "big")) == 12345678901234567890.0);
    int64_t v;
    assert_int_equal(sl_attr_int(sl_json_get(t, "big"), &v), -1);
    assert_int_equal(sl_attr_int(sl_json_get(t, "i"), &v), 0);
    assert_int_equal(v, 1);
    cJSON_Delete(t);
}

/* ---- scanner ---- */

static void test_jscan(void **state)
{
    (void)state;
    const char *doc = " {\"a\" : [1, {\"x\":\"}\\\"]\"}], \"b\":\"q\\\\\", \"c\":true } tail";
    const char *end = doc + strlen(doc);
    const char *p = sl_jscan_ws(doc, end);
    const char *e = sl_jscan_skip(p, end);
    assert_non_null(e);
    assert_string_equal(e, " tail");
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    assert_int_equal(sl_jscan_open(&it, p, end, '{'), 0);
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), 1);
    assert_true(sl_jscan_key_is(k, kl, "a"));
    assert_int_equal((int)(ve - v), (int)strlen("[1, {\"x\":\"}\\\"]\"}]"));
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), 1);
    assert_true(sl_jscan_key_is(k, kl, "b"));
    assert_int_equal(sl_jscan_enter(&it, &k, &kl, &v), 1);
    assert_true(sl_jscan_key_is(k, kl, "c"));
    sl_jscan_resume(&it, v + 4);
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), 0);
    assert_ptr_equal(it.p, e);

    const char *bad[] = {"{\"a\":[1,2}", "{\"a\":\"unterminated}", "[[[", "{\"a\" 1}"};
    for (size_t i = 0; i < 3; i++) assert_null(sl_jscan_skip(bad[i], bad[i] + strlen(bad[i])));
    assert_int_equal(sl_jscan_open(&it, bad[3], bad[3] + strlen(bad[3]), '{'), 0);
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), -1);
    /* a byte order mark is whitespace */
    const char *bom = "\xEF\xBB\xBF {}";
    assert_ptr_equal(sl_jscan_ws(bom, bom + strlen(bom)), bom + 4);
}

/* ---- the format through the public API ---- */

typedef struct rejects {
    int n;
    uint64_t lines[8];
    char reasons[8][128];
    char records[8][128];
} rejects;

static void on_reject(void *ctx, const char *source, uint64_t line, const char *reason,
                      const char *record, size_t len)
{
    rejects *r = ctx;
    (void)source;
    if (r->n < 8) {
        r->lines[r->n] = line;
        snprintf(r->reasons[r->n], sizeof r->reasons[0], "%s", reason);
        snprintf(r->records[r->n], sizeof r->records[0], "%.*s", (int)len, record);
    }
    r->n++;
}

/* Import path ("-": stdin) into a fresh in-memory warehouse. */
static sl_db *import_path(const char *path, const char *format, rejects *rj, sl_import_stats *st)
{
    sl_db *db = NULL;
    assert_int_equal(sl_open(":memory:", 0, &db), SL_OK);
    sl_import_opts o = {format, NULL, on_reject, NULL, rj, NULL};
    memset(rj, 0, sizeof *rj);
    memset(st, 0, sizeof *st);
    int rc = sl_import_file(db, path, &o, st);
    if (rc != SL_OK && rc != SL_INVALID) fail_msg("sl_import_file: %d %s", rc, sl_errmsg(db));
    return db;
}

/* A temporary file holding text; its name goes to path (caller unlinks). */
static void temp_file(char path[32], const char *text)
{
    strcpy(path, "/tmp/test_fmt_otlp.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Import text (written to a temporary file) into a fresh in-memory warehouse. */
static sl_db *import_text(const char *text, const char *format, rejects *rj, sl_import_stats *st)
{
    char path[32];
    temp_file(path, text);
    sl_db *db = import_path(path, format, rj, st);
    unlink(path);
    return db;
}

/* The single text value of sql, copied into out. */
static void query_text(sl_db *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, cap, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
}

static void test_tempo_batches_base64(void **state)
{
    (void)state;
    const char *doc =
        "{\"batches\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        "{\"stringValue\":\"gw\"}}]},\"scopeSpans\":[{\"scope\":{},\"spans\":[{\"traceId\":"
        "\"O6VWCcPN5JZJzXfR+dzZNg==\",\"spanId\":\"Sc130fnc2TY=\",\"name\":\"op\",\"kind\":"
        "\"SPAN_KIND_CLIENT\",\"startTimeUnixNano\":\"1701779876570888000\",\"endTimeUnixNano\":"
        "\"1701779876582820000\",\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"m\"}}]}]}]}";
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(doc, NULL, &rj, &st); /* auto-detected */
    assert_int_equal(rj.n, 0);
    assert_int_equal(st.imported, 1);
    char got[256];
    query_text(db,
               "SELECT trace_id||' '||span_id||' '||service||' '||kind||' '||status||' '||"
               "status_message||' '||duration_ns||' '||(scope IS NULL) FROM spans",
               got, sizeof got);
    assert_string_equal(got, "3ba55609c3cde49649cd77d1f9dcd936 49cd77d1f9dcd936 gw client error m 11932000 1");
    sl_close(db);
}

static void test_json_lines_rejects(void **state)
{
    (void)state;
    const char *text =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"01\","
        "\"name\":\"x\",\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"7\"}]}]}]}\n"
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"02\","
        "\"name\":\"y\",\"startTimeUnixNano\":\"5\"}]}]}]}\n"
        "{\"resourceSpans\":[\n"
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"03\","
        "\"name\":\"z\",\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"5\"}]}]}]}\n";
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(text, "otlp", &rj, &st);
    assert_int_equal(st.imported, 2);
    assert_int_equal(rj.n, 2);
    assert_int_equal(rj.lines[0], 2);
    assert_string_equal(rj.reasons[0], "missing endTimeUnixNano");
    assert_int_equal(rj.lines[1], 3);
    char got[64];
    query_text(db, "SELECT group_concat(span_id) FROM (SELECT span_id FROM spans ORDER BY span_id)", got,
               sizeof got);
    assert_string_equal(got, "01,03");
    query_text(db, "SELECT service FROM spans LIMIT 1", got, sizeof got);
    assert_string_equal(got, "unknown_service");
    sl_close(db);
}

static void test_detect(void **state)
{
    (void)state;
    const char *otlp = "\xEF\xBB\xBF{\"resourceSpans\":[";
    assert_true(sl_format_otlp.detect(otlp, strlen(otlp)) > 0);
    const char *tempo = "{\n  \"batches\": [";
    assert_true(sl_format_otlp.detect(tempo, strlen(tempo)) > 0);
    const char *native = "{\"trace_id\":\"a\",\"span_id\":\"b\"}";
    assert_int_equal(sl_format_otlp.detect(native, strlen(native)), 0);
    const char *jaeger = "{\"data\":[{\"traceID\":\"a\",\"spans\":[]}]}";
    assert_int_equal(sl_format_otlp.detect(jaeger, strlen(jaeger)), 0);
}

/* ---- base/source.c's window ---- */

static void test_window(void **state)
{
    (void)state;
    char path[32], err[128];
    temp_file(path, "ab\ncd\nef\ngh\n"); /* 12 bytes, four lines */
    sl_input *in = sl_input_open(path, err, sizeof err);
    assert_non_null(in);
    sl_window w;
    sl_window_init(&w, 4);
    /* empty: one chunk */
    assert_int_equal(sl_window_more(&w, in, 0), 1);
    assert_int_equal(w.len, 4);
    assert_memory_equal(w.buf, "ab\nc", 4);
    /* "ab\n" consumed: "c" kept, then 1 + max(1, 4) = 5 wanted: the buffer
     * doubles to 8 and one read fills it */
    assert_int_equal(sl_window_more(&w, in, 3), 1);
    assert_string_equal(w.buf, "cd\nef\ngh");
    assert_int_equal(sl_linepos_at(&w.lines, w.buf), 2);     /* "cd" */
    assert_int_equal(sl_linepos_at(&w.lines, w.buf + 3), 3); /* "ef" */
    /* "cd\nef\n" consumed: "gh" kept and the last byte read */
    assert_int_equal(sl_window_more(&w, in, 6), 1);
    assert_string_equal(w.buf, "gh\n");
    assert_true(w.eof);
    assert_int_equal(sl_linepos_at(&w.lines, w.buf), 4);
    assert_int_equal(sl_window_more(&w, in, 0), 0);
    assert_int_equal(sl_input_bytes(in), 12);
    sl_window_free(&w);
    sl_input_free(in);
    unlink(path);

    /* nothing consumed: what is held doubles (4, 8, 16, 32), then the end */
    temp_file(path, "0123456789012345678901234567890123456789"); /* 40 bytes */
    in = sl_input_open(path, err, sizeof err);
    sl_window_init(&w, 4);
    size_t want[] = {4, 8, 16, 32, 40};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(sl_window_more(&w, in, 0), 1);
        assert_int_equal(w.len, want[i]);
    }
    assert_int_equal(sl_window_more(&w, in, 0), 0);
    assert_int_equal(w.len, 40);
    sl_window_free(&w);
    sl_input_free(in);
    unlink(path);
}

/* ---- documents, streamed through the 16-byte window ---- */

static void assert_prefix(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix))) fail_msg("[%s] does not start with [%s]", s, prefix);
}

#define SPAN(id) "{\"traceId\":\"aa\",\"spanId\":\"" id "\",\"name\":\"op\",\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"7\"}"
#define SERVICE(name) "{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"" name "\"}}]}"
#define SPAN_IDS "SELECT group_concat(span_id) FROM (SELECT span_id FROM spans ORDER BY span_id)"

/* Every TracesData member the reader knows, and others it skips, around and
 * between them. */
static void test_stream_members(void **state)
{
    (void)state;
    const char *doc =
        "{\n"
        "  \"schemaUrl\": \"https://opentelemetry.io/schemas/1.21.0\",\n"
        "  \"skipped\": {\"pad\": \"" "0123456789abcdef0123456789abcdef0123456789abcdef" "\", \"n\": [1, [2, {\"3\": 3}]]},\n"
        "  \"count\": 1234567890123,\n"
        /* numbers long enough that the window surely ends inside some: a
         * number cut there must not be taken for a whole one */
        "  \"n1\": 1000000000000000001, \"n2\": 2000000000000000002, \"n3\": 3000000000000000003,\n"
        "  \"n4\": -4.000000000000000e+04, \"n5\": 5000000000000000005, \"n6\": 6000000000000000006,\n"
        "  \"resourceSpans\": [\n"
        "    {\"resource\": " SERVICE("alpha") ",\n"
        "     \"scopeSpans\": [{\"scope\": {\"name\": \"s1\"}, \"spans\": [" SPAN("01") ", " SPAN("02") "]},\n"
        "                    {\"scope\": {\"name\": \"s2\"}, \"spans\": [" SPAN("03") "]}]},\n"
        "    {\"scopeSpans\": [{\"spans\": [" SPAN("04") "]}], \"resource\": " SERVICE("beta") "},\n"
        "    {\"scopeSpans\": [{\"spans\": [" SPAN("05") "]}]}\n"
        "  ],\n"
        "  \"resource_spans\": [{\"resource\": " SERVICE("gamma") ", \"scope_spans\": [{\"spans\": [" SPAN("06") "]}]}],\n"
        "  \"batches\": [{\"resource\": " SERVICE("delta") ", \"instrumentationLibrarySpans\": "
        "[{\"instrumentationLibrary\": {\"name\": \"old\"}, \"spans\": [" SPAN("07") "]}]}],\n"
        "  \"trace\": {\"resourceSpans\": [{\"resource\": " SERVICE("epsilon") ", \"scopeSpans\": [{\"spans\": [" SPAN("08") "]}]}]},\n"
        "  \"resourceSpans\": null,\n"
        "  \"tail\": 42\n"
        "}\n";
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(doc, "otlp", &rj, &st);
    assert_int_equal(rj.n, 0);
    assert_int_equal(st.imported, 8);
    char got[256];
    query_text(db,
               "SELECT group_concat(span_id || ':' || service || ':' || coalesce(json_extract(scope, '$.name'), '-'), ' ') "
               "FROM (SELECT * FROM spans ORDER BY span_id)",
               got, sizeof got);
    assert_string_equal(got, "01:alpha:s1 02:alpha:s1 03:alpha:s2 04:beta:- 05:unknown_service:- "
                             "06:gamma:- 07:delta:old 08:epsilon:-");
    sl_close(db);
}

/* Bad spans are rejected with their own line, however many times the window
 * has moved on before them (every few bytes here). */
static const char *const reject_doc =
    "{\"resourceSpans\":[\n"                                                          /* 1 */
    " {\"resource\":" SERVICE("a") ",\n"                                              /* 2 */
    "  \"scopeSpans\":[{\"spans\":[\n"                                                /* 3 */
    "   " SPAN("01") ",\n"                                                            /* 4 */
    "   " SPAN("02") ",\n"                                                            /* 5 */
    "   {\"traceId\":\"aa\",\"spanId\":\"03\",\"name\":\"op\",\"startTimeUnixNano\":\"5\"},\n" /* 6 */
    "   " SPAN("04") "\n"                                                             /* 7 */
    "  ]}]},\n"                                                                       /* 8 */
    " {\"scopeSpans\":[{\"spans\":[\n"                                                /* 9 */
    "   " SPAN("05") ",\n"                                                            /* 10 */
    "   {\"traceId\":\"aa\",\"spanId\":\"06\",\"startTimeUnixNano\":\"9\",\"endTimeUnixNano\":\"8\"},\n" /* 11 */
    "   " SPAN("07") "]}]}\n"                                                         /* 12 */
    "]}\n"                                                                            /* 13 */
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[\n"                             /* 14 */
    "   {\"traceId\":\"aa\",\"name\":\"no id\",\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}\n" /* 15 */
    "]}]}]}\n";                                                                       /* 16 */

static void check_reject_doc(sl_db *db, const rejects *rj, const sl_import_stats *st)
{
    assert_int_equal(st->imported, 5);
    assert_int_equal(rj->n, 3);
    assert_int_equal(rj->lines[0], 6);
    assert_string_equal(rj->reasons[0], "missing endTimeUnixNano");
    assert_int_equal(rj->lines[1], 11);
    assert_string_equal(rj->reasons[1], "endTimeUnixNano before startTimeUnixNano");
    assert_string_equal(rj->records[1], "{\"traceId\":\"aa\",\"spanId\":\"06\",\"startTimeUnixNano\":\"9\",\"endTimeUnixNano\":\"8\"}");
    assert_int_equal(rj->lines[2], 15);
    assert_string_equal(rj->reasons[2], "missing spanId");
    char got[64];
    query_text(db, SPAN_IDS, got, sizeof got);
    assert_string_equal(got, "01,02,04,05,07");
    query_text(db, "SELECT group_concat(service) FROM (SELECT service FROM spans ORDER BY span_id)", got, sizeof got);
    assert_string_equal(got, "a,a,a,unknown_service,unknown_service");
}

static void test_stream_reject_lines(void **state)
{
    (void)state;
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(reject_doc, NULL, &rj, &st);
    check_reject_doc(db, &rj, &st);
    sl_close(db);
}

/* gzip and stdin go through the same window. */
static void test_stream_gzip_stdin(void **state)
{
    (void)state;
    char path[] = "/tmp/test_fmt_otlp.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    gzFile gz = gzdopen(fd, "wb");
    assert_non_null(gz);
    assert_int_equal(gzputs(gz, reject_doc), (int)strlen(reject_doc));
    assert_int_equal(gzclose(gz), Z_OK);

    rejects rj;
    sl_import_stats st;
    sl_db *db = import_path(path, NULL, &rj, &st);
    check_reject_doc(db, &rj, &st);
    sl_close(db);

    int saved = dup(0), in = open(path, O_RDONLY);
    assert_true(saved >= 0 && in >= 0);
    assert_int_equal(dup2(in, 0), 0);
    db = import_path("-", "otlp", &rj, &st);
    assert_int_equal(dup2(saved, 0), 0);
    close(in);
    close(saved);
    check_reject_doc(db, &rj, &st);
    sl_close(db);
    unlink(path);
}

/* Cut off at the end: the spans before the cut arrive, the rest is one reject
 * at the line where the cut record begins (the spans array's scan stops at
 * the first byte of the span it cannot finish). */
static void test_stream_cut_off(void **state)
{
    (void)state;
    const char *doc = "{\"resourceSpans\":[\n"                              /* 1 */
                      " {\"scopeSpans\":[{\"spans\":[\n"                    /* 2 */
                      "   " SPAN("01") ",\n"                                /* 3 */
                      "   " SPAN("02") "]}]},\n"                            /* 4 */
                      " {\"scopeSpans\":[{\"spans\":[\n"                    /* 5 */
                      "   " SPAN("03") ",\n"                                /* 6 */
                      "   {\"traceId\":\"aa\",\"spanId\":\"04\",\"name\":\"cut"; /* 7 */
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(doc, "otlp", &rj, &st);
    assert_int_equal(st.imported, 3);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.lines[0], 7);
    assert_string_equal(rj.reasons[0], "invalid JSON in spans (the rest of the input is rejected)");
    assert_string_equal(rj.records[0], "{\"traceId\":\"aa\",\"spanId\":\"04\",\"name\":\"cut");
    char got[64];
    query_text(db, SPAN_IDS, got, sizeof got);
    assert_string_equal(got, "01,02,03");
    sl_close(db);
}

/* Broken JSON before the end rejects the rest of the input, the values after
 * it included, as when the document was read whole. */
static void test_stream_broken(void **state)
{
    (void)state;
    const char *doc = "{\"resourceSpans\":[\n"                                   /* 1 */
                      " {\"scopeSpans\":[{\"spans\":[" SPAN("01") "]}]}\n"      /* 2 */
                      " {\"scopeSpans\":[{\"spans\":[" SPAN("02") "]}]}\n"      /* 3: no comma before it */
                      "]}\n"                                                     /* 4 */
                      "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" SPAN("03") "]}]}]}\n";
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(doc, "otlp", &rj, &st);
    assert_int_equal(st.imported, 1);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.lines[0], 3);
    assert_string_equal(rj.reasons[0], "invalid JSON in resourceSpans (the rest of the input is rejected)");
    assert_prefix(rj.records[0], "{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"02\"");
    sl_close(db);

    /* a value that is not an object between TracesData values */
    const char *doc2 = "{\"resourceSpans\":[\n"                                      /* 1 */
                       " {\"scopeSpans\":[{\"spans\":[" SPAN("01") "]}]}]}\n"       /* 2 */
                       "\n"                                                          /* 3 */
                       "  [1, 2]\n"                                                  /* 4 */
                       "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" SPAN("02") "]}]}]}\n";
    db = import_text(doc2, "otlp", &rj, &st);
    assert_int_equal(st.imported, 1);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.lines[0], 4);
    assert_string_equal(rj.reasons[0], "expected a JSON object (OTLP TracesData) (the rest of the input is rejected)");
    assert_prefix(rj.records[0], "[1, 2]\n{\"resourceSpans\"");
    sl_close(db);
}

/* TracesData values one after another, in every spelling, with and without
 * whitespace between them. */
static void test_stream_concatenated(void **state)
{
    (void)state;
    const char *doc =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[\n"                          /* 1 */
        SPAN("01") "]}]}]}\n"                                                           /* 2 */
        "{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[" SPAN("02") "]}]}]}   "
        "{\"batches\":[{\"scopeSpans\":[{\"spans\":[" SPAN("03") "]}]}]}"
        "{\"trace\":{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" SPAN("04") "]}]}]}}\n" /* 3 */
        "\n"                                                                            /* 4 */
        " \t \r\n"                                                                      /* 5 */
        "{\"resourceSpans\":[]}{}\n"                                                    /* 6 */
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"05\","
        "\"kind\":true,\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}]}]}]}\n"  /* 7 */
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" SPAN("06") "]}]}]}";        /* 8, no newline */
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(doc, NULL, &rj, &st);
    assert_int_equal(st.imported, 5);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.lines[0], 7);
    assert_string_equal(rj.reasons[0], "bad kind");
    char got[64];
    query_text(db, SPAN_IDS, got, sizeof got);
    assert_string_equal(got, "01,02,03,04,06");
    sl_close(db);
}

/* A compact document whose first line is longer than the peek (256 KB) is a
 * document, not JSON Lines; a second TracesData follows on line 2. */
static void test_stream_long_first_line(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "{\"resourceSpans\":[");
    for (int i = 0; i < 3000; i++) /* about 150 bytes each: 450 KB */
        sl_buf_printf(&b,
                      "%s{\"resource\":" SERVICE("s%d") ",\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\","
                      "\"spanId\":\"%016x\",\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"7\"}]}]}",
                      i ? "," : "", i % 7, i);
    sl_buf_puts(&b, "]}\n{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"x\"}]}]}]}\n");
    assert_true(b.len > OTLP_PEEK);
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(b.p, NULL, &rj, &st);
    assert_int_equal(st.imported, 3000);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.lines[0], 2);
    assert_string_equal(rj.reasons[0], "missing startTimeUnixNano");
    sl_buf_free(&b);
    char got[128];
    query_text(db, "SELECT count(DISTINCT span_id) FROM spans", got, sizeof got);
    assert_string_equal(got, "3000");
    /* 3000 = 7 * 428 + 4: services s0..s3 have 429 spans, s4..s6 have 428 */
    query_text(db, "SELECT group_concat(service || '=' || n) FROM (SELECT service, count(*) AS n FROM spans "
                   "GROUP BY service ORDER BY service)", got, sizeof got);
    assert_string_equal(got, "s0=429,s1=429,s2=429,s3=429,s4=428,s5=428,s6=428");
    sl_close(db);
}

/* A duration int64 cannot hold is rejected, not wrapped: INT64_MAX - (-1) = 2^63. */
static void test_span_too_long(void **state)
{
    (void)state;
    const char *doc = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"01\","
                      "\"startTimeUnixNano\":\"-1\",\"endTimeUnixNano\":\"9223372036854775807\"},"
                      "{\"traceId\":\"aa\",\"spanId\":\"02\",\"startTimeUnixNano\":\"0\","
                      "\"endTimeUnixNano\":\"9223372036854775807\"}]}]}]}\n";
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(doc, "otlp", &rj, &st);
    assert_int_equal(st.imported, 1);
    assert_int_equal(rj.n, 1);
    assert_string_equal(rj.reasons[0], "span longer than 2^63 ns");
    char got[64];
    query_text(db, "SELECT span_id || ' ' || duration_ns FROM spans", got, sizeof got);
    assert_string_equal(got, "02 9223372036854775807");
    sl_close(db);
}

/* ---- the fast path agrees with the tree ---- */

/* Every field of sp in one line. */
static void span_repr(const sl_span *sp, char *out, size_t cap)
{
#define S(x) ((x) ? (x) : "(null)")
    snprintf(out, cap, "%s|%s|%s|%s|%s|%d|%d|%s|%lld|%lld|%s|%s|%s|%s|%s|%s", S(sp->trace_id), S(sp->span_id),
             S(sp->parent_span_id), S(sp->operation), S(sp->service), sp->kind, sp->status, S(sp->status_message),
             (long long)sp->start_ns, (long long)sp->duration_ns, S(sp->attributes), S(sp->events), S(sp->links),
             S(sp->remote_service), S(sp->resource), S(sp->scope));
#undef S
}

/* Read span both ways.  want_fast: span_fast() takes it, and the tree path
 * agrees on every field; else span_fast() declines it. */
static void check_fast(const char *span, int want_fast)
{
    otlp_dec d;
    dec_init(&d, NULL);
    d.service = "svc";
    sl_span sp;
    char ids[3][33], fast[2048], tree_repr[2048];
    size_t n = strlen(span);
    char *text = strdup(span); /* both paths may lower-case ids in place */
    int took = span_fast(&d, text, text + n, &sp, ids);
    if (!want_fast) {
        if (took) fail_msg("span_fast() took %s", span);
        dec_free(&d);
        free(text);
        return;
    }
    if (!took) fail_msg("span_fast() declined %s", span);
    span_repr(&sp, fast, sizeof fast);
    memcpy(text, span, n);
    cJSON *t = sl_json_parse(text, n, d.err, sizeof d.err);
    if (!t || span_fill(&d, t, &sp, ids)) fail_msg("tree path rejects %s: %s", span, d.err);
    span_repr(&sp, tree_repr, sizeof tree_repr);
    cJSON_Delete(t);
    if (strcmp(fast, tree_repr)) fail_msg("%s\n  fast: %s\n  tree: %s", span, fast, tree_repr);
    dec_free(&d);
    free(text);
}

#define IDS "\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"b7ad6b7169203331\""
#define TIMES "\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":\"1700000000007976035\""
#define KV(k, v) "{\"key\":\"" k "\",\"value\":" v "}"

static void test_fast_agrees(void **state)
{
    (void)state;
    static const char *const taken[] = {
        "{" IDS ",\"name\":\"GET /cart\",\"kind\":2," TIMES ",\"attributes\":[" KV("http.method", "{\"stringValue\":\"GET\"}") ","
        KV("http.status_code", "{\"intValue\":\"200\"}") "," KV("ratio", "{\"doubleValue\":0.154}") ","
        KV("hit", "{\"boolValue\":true}") "],\"status\":{\"code\":1}}",
        /* snake_case, whitespace everywhere, upper-case and base64 ids, an empty parent */
        "{\n \"trace_id\" : \"0AF7651916CD43DD8448EB211C80319C\" ,\t\"span_id\":\"Sc130fnc2TY=\", \"parent_span_id\" : \"\" ,"
        " \"start_time_unix_nano\" : \"5\" , \"end_time_unix_nano\" : \"7\" , \"attributes\" : [ { \"key\" : \"a\" , "
        "\"value\" : { \"string_value\" : \"x\" } } , {\"key\":\"b\",\"value\":{\"int_value\":-3}} ] }",
        "{" IDS ",\"parentSpanId\":\"O6VWCcPN5JZJzXfR+dzZNg==\"," TIMES "}",
        /* enums as names, out of range, numbers in strings */
        "{" IDS ",\"kind\":\"SPAN_KIND_CLIENT\"," TIMES ",\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"boom\"}}",
        "{" IDS ",\"kind\":9," TIMES ",\"status\":{\"code\":7}}",
        "{" IDS ",\"kind\":-1," TIMES ",\"status\":{\"message\":\"\"}}",
        "{" IDS ",\"kind\":\"bogus\"," TIMES ",\"status\":{\"code\":\"2\",\"message\":\"m\"}}",
        "{" IDS ",\"kind\":\"3\"," TIMES ",\"status\":{}}",
        /* times: bare, the int64 limits, negative */
        "{" IDS ",\"startTimeUnixNano\":5,\"endTimeUnixNano\":999999999999999}",
        "{" IDS ",\"startTimeUnixNano\":\"-9223372036854775808\",\"endTimeUnixNano\":\"-1\"}",
        "{" IDS ",\"startTimeUnixNano\":\"0\",\"endTimeUnixNano\":\"9223372036854775807\"}",
        "{" IDS ",\"startTimeUnixNano\":\"-5\",\"endTimeUnixNano\":\"0000000000000000007\"}",
        /* every simple value, snake and camel, ints and doubles at their edges */
        "{" IDS "," TIMES ",\"attributes\":[" KV("i1", "{\"intValue\":42}") "," KV("i2", "{\"intValue\":\"-9223372036854775808\"}") ","
        KV("i3", "{\"intValue\":-999999999999999}") "," KV("d1", "{\"doubleValue\":3}") "," KV("d2", "{\"double_value\":1e3}") ","
        KV("d3", "{\"doubleValue\":-0.0}") "," KV("d4", "{\"doubleValue\":2.5e-07}") "," KV("d5", "{\"doubleValue\":1e400}") ","
        KV("d6", "{\"doubleValue\":-1E+2}") "," KV("d7", "{\"doubleValue\":0.1}") "," KV("b", "{\"bool_value\":false}") ","
        KV("n1", "null") "," KV("n2", "{}") ",{\"key\":\"n3\"}," KV("u", "{\"stringValue\":\"h\xc3\xa9 / ~\"}") "]}",
        /* a repeated attribute key stays repeated; peer.service is the first one's string */
        "{" IDS "," TIMES ",\"attributes\":[" KV("peer.service", "{\"stringValue\":\"db\"}") ","
        KV("peer.service", "{\"stringValue\":\"cache\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("peer.service", "{\"intValue\":\"1\"}") ","
        KV("peer.service", "{\"stringValue\":\"cache\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("peer.service", "{\"stringValue\":\"\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[]}",
        /* members the tree path ignores */
        "{" IDS ",\"traceState\":\"\",\"flags\":256,\"droppedAttributesCount\":0,\"x\":true,\"y\":null,\"z\":-1.5e3," TIMES "}",
        /* events and links (read through the tree) */
        "{" IDS "," TIMES ",\"events\":[{\"timeUnixNano\":\"1700000000000000001\",\"name\":\"e\",\"attributes\":["
        KV("k", "{\"intValue\":\"1\"}") "]}],\"links\":[{\"traceId\":\"0AF7651916CD43DD8448EB211C80319C\","
        "\"spanId\":\"B7AD6B7169203331\",\"traceState\":\"t\",\"flags\":1}]}",
        "{" IDS "," TIMES ",\"events\":[],\"links\":[]}",
    };
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) check_fast(taken[i], 1);

    static const char *const declined[] = {
        "{" IDS ",\"name\":\"a\\\"b\"," TIMES "}",                      /* an escape */
        "{\"trace\\u0049d\":\"aa\",\"spanId\":\"bb\"," TIMES "}",       /* an escape in a key */
        "{" IDS ",\"name\":\"a\tb\"," TIMES "}",                        /* a raw control character */
        "{" IDS ",\"traceId\":\"cc\"," TIMES "}",                       /* a repeated member */
        "{" IDS ",\"trace_id\":\"cc\"," TIMES "}",                      /* ... in its other spelling */
        "{" IDS ",\"startTimeUnixNano\":1700000000000000000,\"endTimeUnixNano\":\"7\"}", /* a long bare integer */
        "{" IDS ",\"startTimeUnixNano\":\"+5\",\"endTimeUnixNano\":\"7\"}",
        "{" IDS ",\"startTimeUnixNano\":\" 5\",\"endTimeUnixNano\":\"7\"}",
        "{" IDS ",\"startTimeUnixNano\":5.0,\"endTimeUnixNano\":\"7\"}",
        "{" IDS ",\"startTimeUnixNano\":\"9223372036854775808\",\"endTimeUnixNano\":\"7\"}",
        "{" IDS ",\"startTimeUnixNano\":\"9\",\"endTimeUnixNano\":\"7\"}", /* ends before it starts */
        "{" IDS ",\"startTimeUnixNano\":\"-1\",\"endTimeUnixNano\":\"9223372036854775807\"}", /* too long */
        "{\"spanId\":\"bb\"," TIMES "}",                                /* no traceId */
        "{\"traceId\":\"aa\",\"spanId\":\"\"," TIMES "}",
        "{" IDS ",\"startTimeUnixNano\":\"5\"}",
        "{" IDS ",\"kind\":1.5," TIMES "}",
        "{" IDS ",\"kind\":true," TIMES "}",
        "{" IDS ",\"name\":7," TIMES "}",
        "{" IDS "," TIMES ",\"status\":{\"code\":null}}",
        "{" IDS "," TIMES ",\"status\":{\"code\":1,\"other\":1}}",
        "{" IDS "," TIMES ",\"status\":null}",
        "{" IDS "," TIMES ",\"attributes\":null}",
        "{" IDS "," TIMES ",\"attributes\":[{\"value\":{\"intValue\":1},\"key\":\"k\"}]}",
        "{" IDS "," TIMES ",\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":1},\"x\":1}]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"intValue\":1,\"stringValue\":\"s\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"arrayValue\":{\"values\":[]}}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"kvlistValue\":{}}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"bytesValue\":\"AA==\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"stringValue\":null}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"doubleValue\":\"NaN\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"intValue\":\"12x\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"intValue\":\"99999999999999999999\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"boolValue\":\"true\"}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"doubleValue\":01}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"doubleValue\":12345678901234567}") "]}",
        "{" IDS "," TIMES ",\"attributes\":[" KV("k", "{\"stringValue\":\"s\"}") ",]}", /* a trailing comma */
        "{" IDS "," TIMES ",\"other\":{\"a\":1}}",                      /* an object the tree path ignores */
        "{" IDS "," TIMES ",\"other\":tru}",                            /* not JSON */
        "{" IDS "," TIMES ",\"other\":-}",
        "{" IDS "," TIMES ",\"events\":[{\"timeUnixNano\":\"x\"}]}",    /* a bad event */
        "{" IDS "," TIMES ",\"events\":{}}",
        "{" IDS "," TIMES "",                                          /* cut short */
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) check_fast(declined[i], 0);
}

/* Read a resource both ways (want_fast as in check_fast()). */
static void check_resource_fast(const char *res, int want_fast)
{
    otlp_dec d;
    dec_init(&d, NULL);
    char fast[512], tree_repr[512];
    const char *end = res + strlen(res);
    clear_resource(&d);
    int took = resource_fast(&d, res, end);
    if (!want_fast) {
        if (took) fail_msg("resource_fast() took %s", res);
        dec_free(&d);
        return;
    }
    if (!took) fail_msg("resource_fast() declined %s", res);
    snprintf(fast, sizeof fast, "%s|%d|%s", d.service, d.has_resource, d.resource.p);
    clear_resource(&d);
    if (resource_tree(&d, res, end)) fail_msg("tree path rejects %s: %s", res, d.err);
    snprintf(tree_repr, sizeof tree_repr, "%s|%d|%s", d.service, d.has_resource, d.resource.p);
    if (strcmp(fast, tree_repr)) fail_msg("%s\n  fast: %s\n  tree: %s", res, fast, tree_repr);
    dec_free(&d);
}

static void test_resource_fast_agrees(void **state)
{
    (void)state;
    check_resource_fast("{\"attributes\":[" KV("service.name", "{\"stringValue\":\"cart\"}") ","
                        KV("host.name", "{\"stringValue\":\"h1\"}") "],\"droppedAttributesCount\":0}", 1);
    check_resource_fast("{\"attributes\":[" KV("service.name", "{\"intValue\":1}") ","
                        KV("service.name", "{\"stringValue\":\"late\"}") "]}", 1);
    check_resource_fast("{\"attributes\":[" KV("service.name", "{\"stringValue\":\"\"}") "]}", 1);
    check_resource_fast("{\"attributes\":[]}", 1);
    check_resource_fast("{}", 1);
    check_resource_fast("{\"droppedAttributesCount\":3}", 1);
    check_resource_fast("{\"attributes\":[" KV("service.name", "{\"stringValue\":\"c\\u0061rt\"}") "]}", 0);
    check_resource_fast("{\"attributes\":[],\"attributes\":[]}", 0);
    check_resource_fast("{\"attributes\":[" KV("k", "{\"arrayValue\":{}}") "]}", 0);
    check_resource_fast("{\"schema\":{}}", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anyvalue_scalars),   cmocka_unit_test(test_anyvalue_nested),
        cmocka_unit_test(test_anyvalue_errors),    cmocka_unit_test(test_keyvalues),
        cmocka_unit_test(test_to_anyvalue),        cmocka_unit_test(test_type_of),
        cmocka_unit_test(test_jscan),              cmocka_unit_test(test_tempo_batches_base64),
        cmocka_unit_test(test_json_lines_rejects), cmocka_unit_test(test_detect),
        cmocka_unit_test(test_window),             cmocka_unit_test(test_stream_members),
        cmocka_unit_test(test_stream_reject_lines), cmocka_unit_test(test_stream_gzip_stdin),
        cmocka_unit_test(test_stream_cut_off),     cmocka_unit_test(test_stream_broken),
        cmocka_unit_test(test_stream_concatenated), cmocka_unit_test(test_stream_long_first_line),
        cmocka_unit_test(test_span_too_long),       cmocka_unit_test(test_fast_agrees),
        cmocka_unit_test(test_resource_fast_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
