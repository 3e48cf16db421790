/*
 * test_fmt_jaeger.c -- the Jaeger JSON format and exporter through the public
 * API: sl_open(":memory:"), sl_import_file(), sl_export().
 *
 * Golden values are worked by hand from the input documents below and the
 * mapping in formats/jaeger.c's header (microseconds * 1000 = nanoseconds).
 *
 * The decoder is compiled in here with a 16-byte window (JG_CHUNK, its seam
 * for this), so in every document imported here traces straddle window ends
 * and the window drops consumed bytes many times over.
 */
#define JG_CHUNK 16
#include "formats/jaeger.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "formats/export.h"
#include "formats/format.h"
#include "spanlite.h"

/* Named so that the linker takes the format files out of the static library. */
extern const sl_format sl_format_jaeger;
extern const sl_exporter sl_exporter_jaeger;
extern const sl_exporter sl_exporter_otlp;

static const char *trace_doc =
    "{\"traceID\":\"T1\",\"spans\":["
    /* a child listed before its parent; its first reference points outside the
     * trace.  All-hex ids ("C", "E") are lower-cased; "P" is not hex. */
    "{\"spanID\":\"C\",\"operationName\":\"child\",\"references\":["
    "{\"refType\":\"CHILD_OF\",\"traceID\":\"other\",\"spanID\":\"X\"},"
    "{\"refType\":\"FOLLOWS_FROM\",\"traceID\":\"T1\",\"spanID\":\"P\"}],"
    "\"startTime\":1000000000000002,\"duration\":3,"
    "\"tags\":[{\"key\":\"span.kind\",\"type\":\"string\",\"value\":\"PRODUCER\"},"
    "{\"key\":\"f\",\"type\":\"float64\",\"value\":2},{\"key\":\"i\",\"type\":\"int64\",\"value\":\"-12\"},"
    "{\"key\":\"untyped\",\"value\":1.5}],"
    "\"logs\":[{\"timestamp\":1000000000000003,\"fields\":[{\"key\":\"k\",\"type\":\"bool\",\"value\":\"true\"},"
    "{\"key\":\"event\",\"type\":\"string\",\"value\":\"sent\"}]}],\"processID\":\"p2\"},"
    "{\"spanID\":\"P\",\"operationName\":\"parent\",\"references\":[],\"startTime\":1000000000000001,"
    "\"duration\":10,\"tags\":[{\"key\":\"error\",\"type\":\"bool\",\"value\":true},"
    "{\"key\":\"otel.status_description\",\"type\":\"string\",\"value\":\"why\"}],\"processID\":\"p1\"},"
    /* no processID known: its own process object */
    "{\"spanID\":\"E\",\"operationName\":\"embedded\",\"startTime\":1000000000000001,\"duration\":0,"
    "\"process\":{\"serviceName\":\"own\",\"tags\":[{\"key\":\"service.name\",\"type\":\"string\",\"value\":\"ignored\"}]}}"
    "],\"processes\":{\"p1\":{\"serviceName\":\"front\",\"tags\":[{\"key\":\"host\",\"type\":\"string\",\"value\":\"h\"}]},"
    "\"p2\":{\"serviceName\":\"\",\"tags\":[]}}}";

static sl_db *import_text(const char *text, const char *format, sl_import_stats *st)
{
    char path[] = "/tmp/test_fmt_jaeger.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sl_db *db = NULL;
    assert_int_equal(sl_open(":memory:", 0, &db), SL_OK);
    sl_import_opts o = {format, NULL, NULL, NULL, NULL, NULL};
    memset(st, 0, sizeof *st);
    int rc = sl_import_file(db, path, &o, st);
    unlink(path);
    if (rc != SL_OK && rc != SL_INVALID) fail_msg("sl_import_file: %d %s", rc, sl_errmsg(db));
    return db;
}

static void query_text(sl_db *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, cap, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
}

static void test_import_mapping(void **state)
{
    (void)state;
    sl_import_stats st;
    sl_db *db = import_text(trace_doc, NULL, &st); /* auto-detected */
    assert_int_equal(st.imported, 3);
    assert_int_equal(st.rejected, 0);
    char got[512];
    query_text(db,
               "SELECT trace_id||'|'||parent_span_id||'|'||service||'|'||kind||'|'||start_ns||'|'||"
               "duration_ns||'|'||attributes||'|'||events||'|'||links||'|'||resource FROM spans WHERE span_id='c'",
               got, sizeof got);
    assert_string_equal(got, "T1|P|unknown_service|producer|1000000000000002000|3000|"
                             "{\"f\":2.0,\"i\":-12,\"untyped\":1.5}|"
                             "[{\"time_ns\":1000000000000003000,\"name\":\"sent\",\"attributes\":{\"k\":true}}]|"
                             "[{\"trace_id\":\"other\",\"span_id\":\"X\",\"attributes\":{\"opentracing.ref_type\":\"child_of\"}}]|"
                             "{\"service.name\":\"unknown_service\"}");
    query_text(db,
               "SELECT (parent_span_id IS NULL)||'|'||service||'|'||status||'|'||status_message||'|'||"
               "(attributes IS NULL)||'|'||resource FROM spans WHERE span_id='P'",
               got, sizeof got);
    assert_string_equal(got, "1|front|error|why|1|{\"service.name\":\"front\",\"host\":\"h\"}");
    query_text(db, "SELECT service||'|'||resource FROM spans WHERE span_id='e'", got, sizeof got);
    assert_string_equal(got, "own|{\"service.name\":\"own\"}");
    sl_close(db);
}

/* Export db in format to a file, import that into a fresh warehouse, and
 * compare every column of spans. */
static void check_round_trip(sl_db *db, const char *format)
{
    char path[] = "/tmp/test_fmt_jaeger_out.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    sl_export_opts eo = {0};
    eo.format = format;
    uint64_t n = 0;
    assert_int_equal(sl_export(db, f, &eo, &n), SL_OK);
    fclose(f);
    sl_db *back = NULL;
    assert_int_equal(sl_open(":memory:", 0, &back), SL_OK);
    sl_import_opts io = {format, NULL, NULL, NULL, NULL, NULL};
    sl_import_stats st = {0};
    assert_int_equal(sl_import_file(back, path, &io, &st), SL_OK);
    unlink(path);
    assert_int_equal(st.imported, n);
    const char *q = "SELECT group_concat(r, char(10)) FROM (SELECT json_array(trace_id, span_id, parent_span_id,"
                    " service, operation, kind, status, status_message, start_ns, duration_ns, attributes,"
                    " resource, scope, events, links, remote_service, shared) AS r FROM spans"
                    " ORDER BY trace_id, span_id, operation)";
    char a[8192], b[8192];
    query_text(db, q, a, sizeof a);
    query_text(back, q, b, sizeof b);
    assert_string_equal(a, b);
    sl_close(back);
}

static void test_round_trips(void **state)
{
    (void)state;
    sl_import_stats st;
    sl_db *db = import_text(trace_doc, "jaeger", &st);
    check_round_trip(db, "jaeger");
    sl_close(db);
    /* All OTLP value types survive an OTLP round trip. */
    const char *otlp =
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"s\"}}]},"
        "\"scopeSpans\":[{\"scope\":{\"name\":\"lib\",\"attributes\":[{\"key\":\"a\",\"value\":{\"intValue\":\"1\"}}]},"
        "\"spans\":[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
        "\"name\":\"n\",\"kind\":5,\"startTimeUnixNano\":\"1700000000000000001\",\"endTimeUnixNano\":\"1700000000000000002\","
        "\"attributes\":[{\"key\":\"d\",\"value\":{\"doubleValue\":1}},{\"key\":\"b\",\"value\":{\"bytesValue\":\"AQI=\"}},"
        "{\"key\":\"e\",\"value\":{}},{\"key\":\"arr\",\"value\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":{\"values\":[]}}]}}}],"
        "\"events\":[{\"timeUnixNano\":\"1700000000000000001\",\"name\":\"ev\",\"droppedAttributesCount\":4}],"
        "\"links\":[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"ffffffffffffffff\",\"traceState\":\"x=1\"}],"
        "\"status\":{\"message\":\"unset but said\"}}]}]}]}";
    db = import_text(otlp, "otlp", &st);
    assert_int_equal(st.imported, 1);
    check_round_trip(db, "otlp");
    sl_close(db);
}

static void test_detect(void **state)
{
    (void)state;
    const char *data = "{\"data\":[{\"traceID\":\"a\",\"spans\":[{\"traceID\":\"a\",\"spanID\":\"b\"";
    assert_true(sl_format_jaeger.detect(data, strlen(data)) > 0);
    const char *bare = "{\n  \"_comment\": \"x\",\n  \"traceID\": \"a\",\n  \"spans\": [";
    assert_true(sl_format_jaeger.detect(bare, strlen(bare)) > 0);
    const char *zipkin = "[{\"traceId\":\"a\",\"id\":\"b\",\"localEndpoint\":{}}]";
    assert_int_equal(sl_format_jaeger.detect(zipkin, strlen(zipkin)), 0);
    const char *otlp = "{\"resourceSpans\":[]}";
    assert_int_equal(sl_format_jaeger.detect(otlp, strlen(otlp)), 0);
    assert_string_equal(sl_exporter_jaeger.name, "jaeger");
    assert_string_equal(sl_exporter_otlp.name, "otlp");
}

/* ---- Streaming through a small window -------------------------------------- */

typedef struct seen {
    int n;
    uint64_t line[4];
    char reason[4][128];
    char record[4][512];
} seen;

static void on_reject(void *ctx, const char *source, uint64_t line, const char *reason,
                      const char *record, size_t len)
{
    (void)source;
    seen *r = ctx;
    if (r->n == 4) return;
    r->line[r->n] = line;
    snprintf(r->reason[r->n], sizeof r->reason[0], "%s", reason);
    snprintf(r->record[r->n], sizeof r->record[0], "%.*s", (int)len, record);
    r->n++;
}

static sl_db *import_seen(const char *text, sl_import_stats *st, seen *rj)
{
    char path[] = "/tmp/test_fmt_jaeger.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sl_db *db = NULL;
    assert_int_equal(sl_open(":memory:", 0, &db), SL_OK);
    sl_import_opts o = {"jaeger", NULL, on_reject, NULL, rj, NULL};
    memset(st, 0, sizeof *st);
    memset(rj, 0, sizeof *rj);
    int rc = sl_import_file(db, path, &o, st);
    unlink(path);
    if (rc != SL_OK && rc != SL_INVALID) fail_msg("sl_import_file: %d %s", rc, sl_errmsg(db));
    return db;
}

#define TRACE(t, s, op, start) \
    "{\"traceID\":\"" t "\",\"spans\":[{\"spanID\":\"" s "\",\"operationName\":\"" op "\"," \
    "\"startTime\":" start ",\"duration\":2,\"processID\":\"p1\"}],\"processes\":{\"p1\":{\"serviceName\":\"svc\"}}}"

/* A wrapper's traces cross many 16-byte window ends; a bad span on line 3
 * keeps its line and text after the window has dropped what came before. */
static void test_stream_window(void **state)
{
    (void)state;
    sl_import_stats st;
    seen rj;
    sl_db *db = import_seen(
        "{\"data\":[\n"
        "{\"traceID\":\"a1\",\"spans\":[{\"spanID\":\"b1\",\"operationName\":\"one\",\"startTime\":10,\"duration\":2,\"processID\":\"p1\"},\n"
        "{\"spanID\":\"b2\",\"operationName\":\"bad\",\"startTime\":11,\"processID\":\"p1\"}],\n"
        "\"processes\":{\"p1\":{\"serviceName\":\"svc\"}}},\n"
        "{\"traceID\":\"a2\",\"spans\":[{\"spanID\":\"b3\",\"operationName\":\"two\",\"startTime\":20,\"duration\":3,\"processID\":\"p1\"}],\"processes\":{\"p1\":{\"serviceName\":\"other\"}}}\n"
        "],\"total\":2,\"limit\":0,\"offset\":0,\"errors\":null}\n",
        &st, &rj);
    assert_int_equal(st.imported, 2);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.line[0], 3);
    assert_string_equal(rj.reason[0], "missing or bad duration");
    assert_string_equal(rj.record[0], "{\"spanID\":\"b2\",\"operationName\":\"bad\",\"startTime\":11,\"processID\":\"p1\"}");
    char got[512];
    query_text(db,
               "SELECT group_concat(trace_id||'/'||span_id||'/'||operation||'/'||service||'@'||start_ns||'+'||duration_ns, ' ')"
               " FROM (SELECT * FROM spans ORDER BY span_id)",
               got, sizeof got);
    assert_string_equal(got, "a1/b1/one/svc@10000+2000 a2/b3/two/other@20000+3000");
    sl_close(db);
}

/* JSON broken between two traces: those before are imported, the rest of
 * the document from the break is rejected, at the line of the break. */
static void test_stream_broken_middle(void **state)
{
    (void)state;
    sl_import_stats st;
    seen rj;
    sl_db *db = import_seen("{\"data\":[\n" TRACE("a1", "b1", "one", "10") ",\n" TRACE("a2", "b2", "two", "20") "\n"
                            "@@," TRACE("a3", "b3", "three", "30") "]}",
                            &st, &rj);
    assert_int_equal(st.imported, 2);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.line[0], 4);
    assert_string_equal(rj.reason[0], "invalid JSON in data at line 4");
    assert_string_equal(rj.record[0], "@@," TRACE("a3", "b3", "three", "30") "]}");
    char got[128];
    query_text(db, "SELECT group_concat(span_id, ' ') FROM (SELECT * FROM spans ORDER BY span_id)", got, sizeof got);
    assert_string_equal(got, "b1 b2");
    sl_close(db);
}

/* Cut off inside the third trace of an array: the two before it are
 * imported; it is rejected from where it starts to the end of the input. */
static void test_stream_cut_off(void **state)
{
    (void)state;
    sl_import_stats st;
    seen rj;
    sl_db *db = import_seen("[" TRACE("a1", "b1", "one", "10") ",\n" TRACE("a2", "b2", "two", "20") ",\n"
                            "  {\"traceID\":\"a3\",\"spans\":[{\"spanID\":\"b3\"",
                            &st, &rj);
    assert_int_equal(st.imported, 2);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.line[0], 3);
    assert_string_equal(rj.reason[0], "invalid JSON at line 3");
    assert_string_equal(rj.record[0], "{\"traceID\":\"a3\",\"spans\":[{\"spanID\":\"b3\"");
    char got[128];
    query_text(db, "SELECT group_concat(span_id, ' ') FROM (SELECT * FROM spans ORDER BY span_id)", got, sizeof got);
    assert_string_equal(got, "b1 b2");
    sl_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_mapping),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_stream_window),
        cmocka_unit_test(test_stream_broken_middle),
        cmocka_unit_test(test_stream_cut_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
