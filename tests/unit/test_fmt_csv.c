/*
 * test_fmt_csv.c -- CSV import and export (src/formats/csv.c).
 *
 * Expected values are worked by hand from the fixtures (tests/data/csv/ and
 * the small files written below); the ISO 8601 instant was converted with
 * Python's calendar.timegm, independently of our parser.
 */
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

#define TESTUTIL_PREFIX "csv"
#include "testutil.h"

extern const sl_format sl_format_csv;
extern const sl_format sl_format_zipkin;
extern const sl_exporter sl_exporter_csv;

/* ---- helpers ---------------------------------------------------------- */

static void fixture(char *out, size_t n, const char *name)
{
    const char *td = getenv("TESTDATA");
    snprintf(out, n, "%s/csv/%s", td ? td : "../../tests/data", name);
}

/* Import path as csv with the NULL-terminated map; returns sl_import_file's code. */
static int import(sl_db *db, const char *path, const char *const *map, rejects *rj,
                  sl_import_stats *st)
{
    sl_import_opts o = {0};
    o.format = "csv";
    o.csv_map = map;
    o.on_reject = on_reject;
    o.ctx = rj;
    memset(st, 0, sizeof *st);
    return sl_import_file(db, path, &o, st);
}

/* ---- detection -------------------------------------------------------- */

static int detect(const char *s) { return sl_format_csv.detect(s, strlen(s)); }

static void detect_scores(void **state)
{
    (void)state;
    const char *nezha = "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,"
                        "EndTimeUnixNano,Duration\n01db,ab87,root,frontend-579b9bff58-t2dbm,x,1,2,0\n";
    assert_true(detect(nezha) >= 80);
    assert_true(detect("\xEF\xBB\xBF\"trace_id\";\"span_id\"\r\n") >= 80);
    int weak = detect("a,b,c\n1,2,3\n");
    assert_true(weak > 0 && weak < 50);
    assert_int_equal(detect("{\"traceId\":\"a\",\"id\":\"b\"}"), 0);
    assert_int_equal(detect("[{\"trace_id\":\"a\"}]"), 0);
    assert_int_equal(detect("just one word\n"), 0);
    assert_ptr_equal(sl_format_detect(nezha, strlen(nezha)), &sl_format_csv);
    /* JSON goes elsewhere even though it contains commas. */
    const char *z = "[{\"traceId\":\"a\",\"id\":\"b\",\"localEndpoint\":{}}]";
    assert_ptr_equal(sl_format_detect(z, strlen(z)), &sl_format_zipkin);
}

/* ---- import ------------------------------------------------------------ */

static void quoting_bom_crlf(void **state)
{
    (void)state;
    char p[600];
    fixture(p, sizeof p, "quoting.csv");
    sl_db *db = open_db("quoting.db");
    rejects rj = {0};
    sl_import_stats st;
    assert_int_equal(import(db, p, NULL, &rj, &st), SL_OK);
    assert_int_equal(st.imported, 3);
    assert_int_equal(st.rejected, 0);
    /* BOM gone from the first header name: trace_id was found by default. */
    expect_q(db, "SELECT service||'|'||operation||'|'||ifnull(parent_span_id,'NULL')||'|'||"
                 "attributes FROM spans WHERE span_id = 's1'",
             "front, end|GET \"/\" page|NULL|{\"http.url\":\"http://x/a\"}");
    /* A quoted CRLF inside the field is read as LF. */
    expect_q(db, "SELECT operation FROM spans WHERE span_id = 's2'", "multi\nline op");
    expect_q(db, "SELECT attributes||'|'||parent_span_id||'|'||start_ns||'|'||end_ns FROM spans "
                 "WHERE span_id = 's2'",
             "{\"note\":\"has \\\"quotes\\\"\"}|s1|1700000000000000100|1700000000000000600");
    expect_q(db, "SELECT ifnull(parent_span_id,'NULL')||'|'||duration_ns||'|'||attributes "
                 "FROM spans WHERE span_id = 's3'", "NULL|0|{\"note\":\"plain\"}");
    expect_q(db, "SELECT count(DISTINCT trace_id) FROM spans", "1");
    sl_close(db);
}

static void rejects_with_lines(void **state)
{
    (void)state;
    char p[600];
    fixture(p, sizeof p, "malformed.csv");
    sl_db *db = open_db("malformed.db");
    rejects rj = {0};
    sl_import_stats st;
    assert_int_equal(import(db, p, NULL, &rj, &st), SL_OK);
    assert_int_equal(st.imported, 2);
    assert_int_equal(st.rejected, 7);
    assert_int_equal(rj.n, 7);
    static const uint64_t lines[] = {3, 4, 6, 7, 8, 9, 11};
    static const char *const reasons[] = {
        "bad start_ns \"notanumber\"", "end before start", "7 fields, the header has 9",
        "missing trace_id", "bad kind \"sideways\"", "missing service", "unterminated quoted field"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(rj.lines[i], lines[i]);
        assert_string_equal(rj.reasons[i], reasons[i]);
    }
    /* A record over two lines is rejected whole, verbatim. */
    assert_string_equal(rj.records[1], "abc,3,1,svc,\"multi\nline\",1000,500,,");
    assert_string_equal(rj.records[6], "abc,9,1,svc,\"unterminated,1000,2000,,");
    expect_q(db, "SELECT group_concat(span_id||':'||kind||':'||status||':'||duration_ns, ' ') FROM "
                 "(SELECT * FROM spans ORDER BY span_id)", "1:server:ok:1000 8:client:error:2000");
    sl_close(db);
}

static void explicit_map_and_units(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "units.csv",
               "id;trace;parent;svc;op;begin;took;extra\n"
               "s1;ABCDEF;;api;get;2023-01-29T08:50:00.5+01:00;1.5;x\n"
               "s2;abcdef;s1;api;get;1674982200.25;2;\n");
    static const char *const map[] = {"span_id=id", "trace_id=trace", "parent_span_id=parent",
                                      "service=svc", "operation=op", "start_time=begin",
                                      "duration_ms=took", NULL};
    sl_db *db = open_db("units.db");
    rejects rj = {0};
    sl_import_stats st;
    assert_int_equal(import(db, p, map, &rj, &st), SL_OK);
    assert_int_equal(st.imported, 2);
    /* 08:50:00.5+01:00 = 1674978600.5 s; 1.5 ms = 1500000 ns; hex trace lower-cased. */
    expect_q(db, "SELECT trace_id||' '||start_ns||' '||duration_ns||' '||attributes FROM spans "
                 "WHERE span_id = 's1'", "abcdef 1674978600500000000 1500000 {\"extra\":\"x\"}");
    expect_q(db, "SELECT start_ns||' '||duration_ns||' '||ifnull(attributes,'NULL') FROM spans "
                 "WHERE span_id = 's2'", "1674982200250000000 2000000 NULL");
    sl_close(db);
}

static void micro_units_exact(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "us.csv",
               "traceId,spanId,name,serviceName,start_us,end_us,DurationMicros\n"
               "t,a,op,s,1700000000000000.125,1700000000000010.5,10\n"
               "t,b,op,s,1700000000000000,,7\n");
    sl_db *db = open_db("us.db");
    rejects rj = {0};
    sl_import_stats st;
    assert_int_equal(import(db, p, NULL, &rj, &st), SL_OK);
    assert_int_equal(st.imported, 2);
    /* a: 10.375 us from the end; the Duration column (10 us) agrees within 1 us. */
    expect_q(db, "SELECT start_ns||' '||duration_ns FROM spans WHERE span_id = 'a'",
             "1700000000000000125 10375");
    /* b: no end, duration 7 us. */
    expect_q(db, "SELECT duration_ns FROM spans WHERE span_id = 'b'", "7000");
    sl_close(db);
}

static void pod_names(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "pods.csv",
               "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n"
               "t,1,root,frontend-579b9bff58-t2dbm,a,10,20\n"
               "t,2,1,redis-cart-0,a,10,20\n"
               "t,3,1,node-exporter-x7k2p,a,10,20\n"
               "t,4,1,plainname,a,10,20\n"
               "t,5,1,api-v2,a,10,20\n"
               "t,6,1,ts-basic-service-5dc8d4f9fd-46997,a,10,20\n");
    sl_db *db = open_db("pods.db");
    rejects rj = {0};
    sl_import_stats st;
    assert_int_equal(import(db, p, NULL, &rj, &st), SL_OK);
    assert_int_equal(st.imported, 6);
    expect_q(db, "SELECT group_concat(service, ' ') FROM (SELECT service FROM spans ORDER BY span_id)",
             "frontend redis-cart node-exporter plainname api-v2 ts-basic-service");
    expect_q(db, "SELECT resource FROM spans WHERE span_id = '1'",
             "{\"service.name\":\"frontend\",\"k8s.pod.name\":\"frontend-579b9bff58-t2dbm\"}");
    expect_q(db, "SELECT count(*) FROM spans WHERE parent_span_id IS NULL", "1");

    /* --map service=PodName keeps the whole pod name, without a resource. */
    static const char *const map[] = {"service=PodName", NULL};
    sl_db *db2 = open_db("pods2.db");
    assert_int_equal(import(db2, p, map, &rj, &st), SL_OK);
    expect_q(db2, "SELECT service||'|'||ifnull(resource,'NULL') FROM spans WHERE span_id = '1'",
             "frontend-579b9bff58-t2dbm|NULL");
    sl_close(db2);
    sl_close(db);
}

static void header_errors(void **state)
{
    (void)state;
    char p[600];
    rejects rj = {0};
    sl_import_stats st;
    sl_db *db = open_db("hdr.db");
    write_file(p, sizeof p, "nospan.csv", "TraceID,Name,Service,StartTimeUnixNano,Duration\nt,a,s,1,2\n");
    assert_int_not_equal(import(db, p, NULL, &rj, &st), SL_OK);
    assert_non_null(strstr(sl_errmsg(db), "line 1: no column for span_id: name it with --map span_id=COLUMN"));

    write_file(p, sizeof p, "ok.csv", "TraceID,SpanID,Name,Service,StartTimeUnixNano,Duration\nt,a,op,s,1,2\n");
    static const char *const bad_field[] = {"colour=Name", NULL};
    assert_int_not_equal(import(db, p, bad_field, &rj, &st), SL_OK);
    assert_non_null(strstr(sl_errmsg(db), "--map colour=Name: unknown field"));
    static const char *const bad_col[] = {"operation=Nope", NULL};
    assert_int_not_equal(import(db, p, bad_col, &rj, &st), SL_OK);
    assert_non_null(strstr(sl_errmsg(db), "the header has no column 'Nope'"));
    static const char *const no_eq[] = {"operation", NULL};
    assert_int_not_equal(import(db, p, no_eq, &rj, &st), SL_OK);
    expect_q(db, "SELECT count(*) FROM spans", "0");

    /* Case-insensitive column in --map; Duration is microseconds by default. */
    static const char *const anycase[] = {"operation=NAME", NULL};
    assert_int_equal(import(db, p, anycase, &rj, &st), SL_OK);
    expect_q(db, "SELECT operation||' '||duration_ns FROM spans", "op 2000");
    sl_close(db);
}

/* start -9e18 and end 9e18: end - start does not fit in 64 bits. */
static void span_too_long(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "long.csv",
               "trace_id,span_id,service,operation,start_ns,end_ns\n"
               "t,a,s,op,-9000000000000000000,9000000000000000000\n"
               "t,b,s,op,1,5\n");
    rejects rj = {0};
    sl_import_stats st;
    sl_db *db = open_db("long.db");
    assert_int_equal(import(db, p, NULL, &rj, &st), SL_OK);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.imported, 1);
    assert_string_equal(rj.reasons[0], "span longer than 2^63 ns");
    sl_close(db);
}

static void disable_default(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "dur.csv",
               "TraceID,SpanID,ParentID,ServiceName,Name,StartTimeUnixNano,EndTimeUnixNano,Duration\n"
               "t,a,,s,op,1000000,3000000,999999\n");
    rejects rj = {0};
    sl_import_stats st;
    sl_db *db = open_db("dur.db");
    assert_int_equal(import(db, p, NULL, &rj, &st), SL_OK);
    assert_int_equal(st.rejected, 1);
    assert_string_equal(rj.reasons[0], "duration disagrees with end - start");
    /* duration_us= : Duration is no field, so it becomes an attribute. */
    static const char *const off[] = {"duration_us=", NULL};
    assert_int_equal(import(db, p, off, &rj, &st), SL_OK);
    assert_int_equal(st.imported, 1);
    expect_q(db, "SELECT duration_ns||' '||attributes FROM spans", "2000000 {\"Duration\":\"999999\"}");
    sl_close(db);
}

/* ---- export ------------------------------------------------------------ */

static char *export_csv(sl_db *db, const char *name)
{
    char p[600];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "w+");
    assert_non_null(f);
    sl_export_opts o = {0};
    o.format = "csv";
    uint64_t n = 0;
    assert_int_equal(sl_export(db, f, &o, &n), SL_OK);
    long len = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)len + 1);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

static void export_quoting(void **state)
{
    (void)state;
    sl_db *db = open_db("exp.db");
    sl_span a = {0};
    a.trace_id = "t1";
    a.span_id = "s1";
    a.service = "svc";
    a.operation = "say \"hi\", ok";
    a.kind = SL_KIND_CLIENT;
    a.status = SL_STATUS_ERROR;
    a.status_message = "line1\nline2";
    a.start_ns = 1700000000000000001;
    a.duration_ns = 5;
    a.attributes = "{\"a\":1,\"b\":\"x\"}";
    assert_int_equal(sl_ingest_span(db, &a), SL_OK);
    sl_span b = {0};
    b.trace_id = "t1";
    b.span_id = "s2";
    b.parent_span_id = "s1";
    b.service = " padded";
    b.operation = "plain";
    b.start_ns = 1700000000000000010;
    b.duration_ns = 0;
    assert_int_equal(sl_ingest_span(db, &b), SL_OK);
    char *text = export_csv(db, "out.csv");
    const char *want =
        "trace_id,span_id,parent_span_id,service,operation,kind,status,status_message,start_ns,"
        "end_ns,duration_ns,attributes\r\n"
        "t1,s1,,svc,\"say \"\"hi\"\", ok\",client,error,\"line1\nline2\",1700000000000000001,"
        "1700000000000000006,5,\"{\"\"a\"\":1,\"\"b\"\":\"\"x\"\"}\"\r\n"
        "t1,s2,s1,\" padded\",plain,unspecified,unset,,1700000000000000010,1700000000000000010,0,\r\n";
    assert_string_equal(text, want);
    free(text);

    /* And back: the same rows (typed attributes included). */
    char p[600];
    path_in(p, sizeof p, "out.csv");
    sl_db *db2 = open_db("exp2.db");
    rejects rj = {0};
    sl_import_stats st;
    assert_int_equal(import(db2, p, NULL, &rj, &st), SL_OK);
    assert_int_equal(st.imported, 2);
    static const char *sql =
        "SELECT group_concat(r, char(10)) FROM (SELECT quote(trace_id)||quote(span_id)||"
        "quote(parent_span_id)||quote(service)||quote(operation)||kind||status||"
        "quote(status_message)||start_ns||'/'||duration_ns||quote(attributes) AS r FROM spans ORDER BY r)";
    char *x = q(db, sql), *y = q(db2, sql);
    assert_string_equal(x, y);
    free(x);
    free(y);
    sl_close(db2);
    sl_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detect_scores),
        cmocka_unit_test(quoting_bom_crlf),
        cmocka_unit_test(rejects_with_lines),
        cmocka_unit_test(explicit_map_and_units),
        cmocka_unit_test(micro_units_exact),
        cmocka_unit_test(pod_names),
        cmocka_unit_test(header_errors),
        cmocka_unit_test(disable_default),
        cmocka_unit_test(span_too_long),
        cmocka_unit_test(export_quoting),
    };
    (void)sl_exporter_csv.name;
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
