/*
 * test_fmt_zipkin.c -- Zipkin v2 JSON import and export (src/formats/zipkin.c).
 *
 * Expected values are worked by hand from the fixtures in tests/data/zipkin/
 * (microseconds * 1000 for times; the mapping table of
 * docs/formats.md for names), not taken from our own output.
 * The round trip compares two warehouses with each other.
 *
 * The decoder is compiled in here with a 16-byte window (ZK_CHUNK, its seam
 * for this), so in every document imported here spans straddle window ends
 * and the window drops consumed bytes many times over.
 */
#define ZK_CHUNK 16
#include "formats/zipkin.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "formats/export.h"
#include "formats/format.h"
#include "spanlite.h"

#define TESTUTIL_PREFIX "zk"
#include "testutil.h"

extern const sl_format sl_format_zipkin;
extern const sl_exporter sl_exporter_zipkin; /* links the exporter in */

/* ---- helpers ---------------------------------------------------------- */

static void fixture(char *out, size_t n, const char *name)
{
    const char *td = getenv("TESTDATA");
    snprintf(out, n, "%s/zipkin/%s", td ? td : "../../tests/data", name);
}

/* Every row of `spans`, all public columns, in a fixed order. */
static char *dump(sl_db *db)
{
    static const char *sql =
        "SELECT group_concat(r, char(10)) FROM (SELECT quote(trace_id)||'|'||quote(span_id)||'|'||"
        "quote(parent_span_id)||'|'||quote(service)||'|'||quote(operation)||'|'||kind||'|'||"
        "status||'|'||quote(status_message)||'|'||start_ns||'|'||duration_ns||'|'||"
        "quote(attributes)||'|'||quote(resource)||'|'||quote(scope)||'|'||quote(events)||'|'||"
        "quote(links)||'|'||quote(remote_service)||'|'||shared AS r FROM spans ORDER BY r)";
    return q(db, sql);
}

static sl_import_stats import(sl_db *db, const char *path, rejects *rj, int want_rc)
{
    sl_import_opts o = {0};
    o.format = "zipkin";
    o.on_reject = on_reject;
    o.ctx = rj;
    sl_import_stats st = {0};
    int rc = sl_import_file(db, path, &o, &st);
    if (rc != want_rc) fprintf(stderr, "import: %s\n", sl_errmsg(db));
    assert_int_equal(rc, want_rc);
    return st;
}

/* ---- detection -------------------------------------------------------- */

static int detect(const char *s) { return sl_format_zipkin.detect(s, strlen(s)); }

static void detect_scores(void **state)
{
    (void)state;
    /* Zipkin: endpoints make it certain; id + traceId without spanId is likely. */
    assert_true(detect("[{\"traceId\":\"a\",\"id\":\"b\",\"localEndpoint\":{}}]") >= 90);
    assert_true(detect("\xEF\xBB\xBF  {\"traceId\":\"a\",\"id\":\"b\",\"name\":\"x\"}") >= 50);
    assert_true(detect("[[{\"traceId\":\"a\",\"id\":\"b\",\"remoteEndpoint\":{}}]]") >= 90);
    /* Others' formats. */
    assert_int_equal(detect("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"a\","
                            "\"spanId\":\"b\",\"id\":1}]}]}]}"), 0);
    assert_int_equal(detect("{\"data\":[{\"traceID\":\"a\",\"spans\":[{\"spanID\":\"b\"}]}]}"), 0);
    assert_int_equal(detect("{\"trace_id\":\"a\",\"span_id\":\"b\",\"service\":\"s\"}\n"), 0);
    assert_int_equal(detect("TraceID,SpanID\n1,2\n"), 0);
    assert_int_equal(detect(""), 0);
    const char *z = "[{\"traceId\":\"a\",\"id\":\"b\",\"localEndpoint\":{\"serviceName\":\"s\"}}]";
    assert_ptr_equal(sl_format_detect(z, strlen(z)), &sl_format_zipkin);
}

/* ---- import ------------------------------------------------------------ */

#define T1 "'463ac35c9f6413ad48485a3953bb6124'"
#define T2 "'0af7651916cd43dd'"

static void import_shared(void **state)
{
    (void)state;
    char p[600];
    fixture(p, sizeof p, "shared.json");
    sl_db *db = open_db("shared.db");
    rejects rj = {0};
    sl_import_stats st = import(db, p, &rj, SL_OK);
    assert_int_equal(st.imported, 8);
    assert_int_equal(st.rejected, 0);

    /* Ids are lower-cased; the 64-bit trace id stays 16 digits. */
    expect_q(db, "SELECT group_concat(trace_id) FROM (SELECT DISTINCT trace_id FROM spans ORDER BY 1)",
             "0af7651916cd43dd,463ac35c9f6413ad48485a3953bb6124");
    /* Both halves of the shared id, and the late fragment, are rows. */
    expect_q(db, "SELECT group_concat(kind) FROM (SELECT kind FROM spans WHERE span_id = "
                 "'00000000000000c1' ORDER BY kind)", "client,server,unspecified");
    expect_q(db, "SELECT sum(shared) FROM spans", "1");

    /* SERVER half: timestamp 1700000000000150 us, duration 400 us, error tag. */
    const char *srv = " FROM spans WHERE span_id = '00000000000000c1' AND kind = 'server'";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT start_ns||' '||duration_ns||' '||shared||' '||status||' '||"
                              "status_message||' '||service%s", srv);
    expect_q(db, sql, "1700000000000150000 400000 1 error boom backend");
    snprintf(sql, sizeof sql, "SELECT attributes%s", srv);
    expect_q(db, sql, "{\"error\":\"boom\",\"retries\":\"3\"}");
    snprintf(sql, sizeof sql, "SELECT resource%s", srv);
    expect_q(db, sql, "{\"service.name\":\"backend\",\"network.local.address\":\"10.0.0.2\"}");

    /* CLIENT half: remote endpoint to attributes and remote_service; annotations to events. */
    const char *cli = " FROM spans WHERE span_id = '00000000000000c1' AND kind = 'client'";
    snprintf(sql, sizeof sql, "SELECT remote_service||' '||start_ns||' '||duration_ns||' '||"
                              "parent_span_id%s", cli);
    expect_q(db, sql, "backend 1700000000000100000 500000 0000000000000001");
    snprintf(sql, sizeof sql, "SELECT attributes%s", cli);
    expect_q(db, sql, "{\"network.peer.address\":\"10.0.0.2\",\"zipkin.remote_ipv6\":\"2001:db8::2\","
                      "\"network.peer.port\":9000,\"zipkin.debug\":true}");
    snprintf(sql, sizeof sql, "SELECT events%s", cli);
    expect_q(db, sql, "[{\"time_ns\":1700000000000101000,\"name\":\"ws\"},"
                      "{\"time_ns\":1700000000000599000,\"name\":\"wr\"}]");

    /* Root: local endpoint port to the resource. */
    expect_q(db, "SELECT resource FROM spans WHERE span_id = '0000000000000001'",
             "{\"service.name\":\"frontend\",\"network.local.address\":\"10.0.0.1\","
             "\"network.local.port\":8080}");
    expect_q(db, "SELECT parent_span_id FROM spans WHERE span_id = '0000000000000001'", NULL);

    /* No timestamp: late fragment at the earliest span of its id (the client,
     * 1700000000000100 us); "cache" at its annotation; the orphan at its
     * trace's earliest span (1700000001000000 us). */
    expect_q(db, "SELECT start_ns||' '||duration_ns||' '||operation FROM spans WHERE span_id = "
                 "'00000000000000c1' AND kind = 'unspecified'", "1700000000000100000 0 ");
    expect_q(db, "SELECT start_ns FROM spans WHERE span_id = '00000000000000d1'",
             "1700000000000200000");
    expect_q(db, "SELECT start_ns FROM spans WHERE span_id = '00000000000000e3'",
             "1700000001000000000");

    /* No localEndpoint, no name. */
    expect_q(db, "SELECT service||'|'||operation||'|'||resource||'|'||kind FROM spans "
                 "WHERE span_id = '00000000000000e2'", "unknown||{}|consumer");
    /* otel.status_code OK, producer with a remote service. */
    expect_q(db, "SELECT status||' '||kind||' '||remote_service FROM spans "
                 "WHERE span_id = '00000000000000e1'", "ok producer kafka");

    /* Re-import: nothing new. */
    st = import(db, p, &rj, SL_OK);
    assert_int_equal(st.imported, 0);
    assert_int_equal(st.duplicates, 8);
    expect_q(db, "SELECT count(*) FROM spans", "8");
    sl_close(db);
}

/* Zipkin's Endpoint.Builder lower-cases serviceName (toLowerCase(
 * Locale.ROOT)): for Zipkin input "stLogin" and "stlogin" are one service,
 * local and remote alike.  ISSUE11 item 6. */
static void service_names_lower_cased(void **state)
{
    (void)state;
    const char *path = "zk_case.json";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[{\"traceId\":\"a1\",\"id\":\"01\",\"kind\":\"SERVER\",\"timestamp\":1700000000000000,"
          "\"duration\":10,\"localEndpoint\":{\"serviceName\":\"stLogin\"}},"
          "{\"traceId\":\"a1\",\"id\":\"02\",\"parentId\":\"01\",\"kind\":\"CLIENT\","
          "\"timestamp\":1700000000000001,\"duration\":5,\"localEndpoint\":{\"serviceName\":\"stlogin\"},"
          "\"remoteEndpoint\":{\"serviceName\":\"AuthDB\"}},"
          "{\"traceId\":\"a2\",\"id\":\"03\",\"kind\":\"SERVER\",\"timestamp\":1700000000000002,"
          "\"duration\":10,\"localEndpoint\":{\"serviceName\":\"authdb\"},"
          "\"remoteEndpoint\":{\"serviceName\":\"STLOGIN\"}}]", f);
    fclose(f);
    sl_db *db = open_db("case.db");
    rejects rj = {0};
    sl_import_stats st = import(db, path, &rj, SL_OK);
    assert_int_equal(st.imported, 3);
    expect_q(db, "SELECT group_concat(service || '>' || coalesce(remote_service, '-'), ' ') FROM"
                 " (SELECT service, remote_service FROM spans ORDER BY span_id)",
             "stlogin>- stlogin>authdb authdb>stlogin");
    expect_q(db, "SELECT count(DISTINCT service) FROM spans", "2");
    expect_q(db, "SELECT resource FROM spans WHERE span_id = '01'", "{\"service.name\":\"stlogin\"}");
    sl_close(db);
    unlink(path);
}

static void import_rejects(void **state)
{
    (void)state;
    char p[600];
    fixture(p, sizeof p, "malformed.json");
    sl_db *db = open_db("bad.db");
    rejects rj = {0};
    sl_import_stats st = import(db, p, &rj, SL_OK);
    assert_int_equal(st.imported, 2);
    assert_int_equal(st.rejected, 5);
    assert_int_equal(rj.n, 5);
    static const uint64_t lines[] = {4, 5, 6, 9, 10};
    static const char *const reasons[] = {"missing traceId", "missing id", "unknown kind", NULL,
                                          "not a span object"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rj.lines[i], lines[i]);
        if (reasons[i]) assert_string_equal(rj.reasons[i], reasons[i]);
    }
    assert_non_null(strstr(rj.reasons[3], "invalid JSON"));
    /* The raw text, verbatim. */
    assert_string_equal(rj.records[0],
                        "{\"id\": \"0000000000000002\", \"name\": \"no-trace\", \"timestamp\": 1700000000000002}");
    assert_string_equal(rj.records[4], "42");
    /* The good ones, with a string timestamp read exactly. */
    expect_q(db, "SELECT group_concat(span_id||'@'||start_ns, ' ') FROM (SELECT * FROM spans ORDER BY span_id)",
             "0000000000000001@1700000000000001000 0000000000000005@1700000000000010000");
    sl_close(db);
}

static void import_structure_error(void **state)
{
    (void)state;
    char p[600];
    path_in(p, sizeof p, "broken.json");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("[\n{\"traceId\":\"a1\",\"id\":\"b1\",\"timestamp\":5,\"localEndpoint\":{\"serviceName\":\"s\"}}\n"
          "x {\"traceId\":\"a1\",\"id\":\"b2\",\"timestamp\":5}]", f);
    fclose(f);
    sl_db *db = open_db("broken.db");
    rejects rj = {0};
    import(db, p, &rj, SL_IO);
    assert_non_null(strstr(sl_errmsg(db), "line 3: expected ',' or ']'"));
    expect_q(db, "SELECT count(*) FROM spans", "1"); /* what came before stays */
    sl_close(db);
}


/* ---- streaming through a small window ------------------------------------ */

/* Spans of 80+ bytes cross several 16-byte window ends; a bad span on line 6
 * keeps its line after the window has dropped lines 1-5; a span without a
 * timestamp kept for the end takes its parent's start. */
static void stream_window(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "window.json",
               "[\n"
               "  [{\"traceId\":\"A1\",\"id\":\"B1\",\"name\":\"first\",\"timestamp\":1000,\"duration\":7,\n"
               "    \"localEndpoint\":{\"serviceName\":\"alpha\"},\"tags\":{\"k\":\"v\\\"q\"}}],\n"
               "  [{\"traceId\":\"a1\",\"id\":\"c2\",\"parentId\":\"b1\",\"name\":\"late\",\n"
               "    \"localEndpoint\":{\"serviceName\":\"beta\"}},\n"
               "   {\"traceId\":\"a1\",\"id\":\"c3\",\"timestamp\":\"x\"},\n"
               "   {\"traceId\":\"a1\",\"id\":\"c4\",\"name\":\"last\",\"timestamp\":3000}]\n"
               "]\n");
    sl_db *db = open_db("window.db");
    rejects rj = {0};
    sl_import_stats st = import(db, p, &rj, SL_OK);
    assert_int_equal(st.imported, 3);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.lines[0], 6);
    assert_string_equal(rj.reasons[0], "bad timestamp");
    assert_string_equal(rj.records[0], "{\"traceId\":\"a1\",\"id\":\"c3\",\"timestamp\":\"x\"}");
    expect_q(db,
             "SELECT group_concat(span_id||'/'||operation||'/'||service||'@'||start_ns||'+'||duration_ns, ' ')"
             " FROM (SELECT * FROM spans ORDER BY span_id)",
             "b1/first/alpha@1000000+7000 c2/late/beta@1000000+0 c4/last/unknown@3000000+0");
    expect_q(db, "SELECT attributes FROM spans WHERE span_id = 'b1'", "{\"k\":\"v\\\"q\"}");
    sl_close(db);
}

/* Cut off inside the third span: the two before it are imported, the rest
 * is rejected verbatim at the line where that span starts. */
static void stream_cut_off(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "cut.json",
               "[{\"traceId\":\"a1\",\"id\":\"b1\",\"timestamp\":1,\"name\":\"one\"},\n"
               " {\"traceId\":\"a1\",\"id\":\"b2\",\"timestamp\":2,\"name\":\"two\"},\n"
               "\n"
               " {\"traceId\":\"a1\",\"id\":\"b3\",\"name\":\"thr");
    sl_db *db = open_db("cut.db");
    rejects rj = {0};
    sl_import_stats st = import(db, p, &rj, SL_OK);
    assert_int_equal(st.imported, 2);
    assert_int_equal(rj.n, 1);
    assert_int_equal(rj.lines[0], 4);
    assert_string_equal(rj.reasons[0], "unexpected end of input inside a span");
    assert_string_equal(rj.records[0], "{\"traceId\":\"a1\",\"id\":\"b3\",\"name\":\"thr");
    expect_q(db, "SELECT group_concat(span_id, ' ') FROM (SELECT * FROM spans ORDER BY span_id)", "b1 b2");
    sl_close(db);
}

/* Broken between spans far into the document: the line of the break is
 * counted across the bytes the window dropped. */
static void stream_broken_middle(void **state)
{
    (void)state;
    char p[600];
    write_file(p, sizeof p, "mid.json",
               "[\n"
               "{\"traceId\":\"a1\",\"id\":\"b1\",\"timestamp\":1,\"name\":\"a long name for one\"},\n"
               "{\"traceId\":\"a1\",\"id\":\"b2\",\"timestamp\":2,\"name\":\"a long name for two\"}\n"
               "\n"
               "   ; {\"traceId\":\"a1\",\"id\":\"b3\",\"timestamp\":3}]\n");
    sl_db *db = open_db("mid.db");
    rejects rj = {0};
    import(db, p, &rj, SL_IO);
    assert_non_null(strstr(sl_errmsg(db), "line 5: expected ',' or ']' after a span, found ';'"));
    expect_q(db, "SELECT count(*) FROM spans", "2");
    sl_close(db);
}

/* ---- export ------------------------------------------------------------ */

static cJSON *export_json(sl_db *db)
{
    char p[600];
    path_in(p, sizeof p, "out.json");
    FILE *f = fopen(p, "w+");
    assert_non_null(f);
    sl_export_opts o = {0};
    o.format = "zipkin";
    uint64_t n = 0;
    assert_int_equal(sl_export(db, f, &o, &n), SL_OK);
    long len = ftell(f);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    cJSON *js = cJSON_Parse(text);
    if (!js) fprintf(stderr, "not JSON: %s\n", text);
    free(text);
    assert_non_null(js);
    return js;
}

static const cJSON *span_by_kind(const cJSON *arr, const char *kind)
{
    for (const cJSON *s = arr->child; s; s = s->next) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(s, "kind");
        if (kind ? cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0 : !k) return s;
    }
    return NULL;
}

static const char *str(const cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *it = o;
    for (char *tok = strtok(buf, "."); tok && it; tok = strtok(NULL, "."))
        it = cJSON_GetObjectItemCaseSensitive(it, tok);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(it) ? it->valuedouble : -1;
}

static void export_mapping(void **state)
{
    (void)state;
    sl_db *db = open_db("exp.db");
    sl_span a = {0};
    a.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    a.span_id = "00f067aa0ba902b7";
    a.service = "svc";
    a.operation = "op";
    a.kind = SL_KIND_INTERNAL;
    a.status = SL_STATUS_OK;
    a.start_ns = 1700000000123456789; /* -> 1700000000123456 us (floor) */
    a.duration_ns = 1;                /* -> 1 us (rounded up) */
    a.attributes = "{\"error\":false,\"b\":true,\"n\":42,\"arr\":[1,2],\"network.peer.address\":\"10.1.2.3\","
                   "\"network.peer.port\":443}";
    a.resource = "{\"service.name\":\"svc\",\"host.name\":\"h1\"}";
    a.scope = "{\"name\":\"lib\",\"version\":\"1.2\"}";
    a.events = "[{\"time_ns\":1700000000123999999,\"name\":\"ev\",\"attributes\":{\"k\":\"v\"}}]";
    a.remote_service = "db";
    sl_span b = {0};
    b.trace_id = a.trace_id;
    b.span_id = "00000000000000b1";
    b.parent_span_id = a.span_id;
    b.service = "api";
    b.operation = "serve";
    b.kind = SL_KIND_SERVER;
    b.status = SL_STATUS_ERROR;
    b.status_message = "bad";
    b.flags = SL_SPAN_SHARED;
    b.start_ns = 1700000000200000000;
    b.duration_ns = 0;
    assert_int_equal(sl_ingest_span(db, &a), SL_OK);
    assert_int_equal(sl_ingest_span(db, &b), SL_OK);

    cJSON *arr = export_json(db);
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), 2);

    const cJSON *ja = span_by_kind(arr, NULL); /* internal: no kind */
    assert_non_null(ja);
    assert_string_equal(str(ja, "traceId"), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_null(cJSON_GetObjectItemCaseSensitive(ja, "parentId"));
    assert_true(num(ja, "timestamp") == 1700000000123456.0);
    assert_true(num(ja, "duration") == 1.0);
    assert_string_equal(str(ja, "localEndpoint.serviceName"), "svc");
    assert_string_equal(str(ja, "remoteEndpoint.serviceName"), "db");
    assert_string_equal(str(ja, "remoteEndpoint.ipv4"), "10.1.2.3");
    assert_true(num(cJSON_GetObjectItemCaseSensitive(ja, "remoteEndpoint"), "port") == 443.0);
    assert_string_equal(str(ja, "tags.b"), "true");
    assert_string_equal(str(ja, "tags.n"), "42");
    assert_string_equal(str(ja, "tags.arr"), "[1,2]");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(ja, "tags");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tags, "otel.status_code")->valuestring, "OK");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tags, "host.name")->valuestring, "h1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tags, "otel.scope.name")->valuestring, "lib");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(tags, "otel.scope.version")->valuestring, "1.2");
    assert_null(cJSON_GetObjectItemCaseSensitive(tags, "network.peer.address")); /* moved */
    assert_null(cJSON_GetObjectItemCaseSensitive(tags, "service.name"));
    assert_null(cJSON_GetObjectItemCaseSensitive(tags, "error")); /* false: no error tag */
    const cJSON *ann = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ja, "annotations"), 0);
    assert_true(num(ann, "timestamp") == 1700000000123999.0);
    assert_string_equal(str(ann, "value"), "ev {\"k\":\"v\"}");

    const cJSON *jb = span_by_kind(arr, "SERVER");
    assert_non_null(jb);
    assert_string_equal(str(jb, "parentId"), "00f067aa0ba902b7");
    assert_null(cJSON_GetObjectItemCaseSensitive(jb, "duration"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(jb, "shared")));
    assert_string_equal(str(jb, "tags.error"), "bad");
    assert_string_equal(str(jb, "localEndpoint.serviceName"), "api");
    assert_null(cJSON_GetObjectItemCaseSensitive(jb, "remoteEndpoint"));
    cJSON_Delete(arr);

    /* An empty warehouse is an empty array. */
    sl_db *empty = open_db("empty.db");
    arr = export_json(empty);
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), 0);
    cJSON_Delete(arr);
    sl_close(empty);
    sl_close(db);
}

static void round_trip(void **state)
{
    (void)state;
    char p[600], out[600];
    fixture(p, sizeof p, "shared.json");
    sl_db *a = open_db("rt-a.db");
    rejects rj = {0};
    import(a, p, &rj, SL_OK);
    path_in(out, sizeof out, "rt.json");
    FILE *f = fopen(out, "w");
    sl_export_opts o = {0};
    o.format = "zipkin";
    uint64_t n = 0;
    assert_int_equal(sl_export(a, f, &o, &n), SL_OK);
    fclose(f);
    assert_int_equal(n, 8);
    sl_db *b = open_db("rt-b.db");
    sl_import_stats st = import(b, out, &rj, SL_OK);
    assert_int_equal(st.imported, 8);
    char *da = dump(a), *db_ = dump(b);
    assert_non_null(da);
    assert_non_null(db_);
    assert_string_equal(da, db_);
    free(da);
    free(db_);
    sl_close(a);
    sl_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detect_scores),
        cmocka_unit_test(import_shared),
        cmocka_unit_test(import_rejects),
        cmocka_unit_test(service_names_lower_cased),
        cmocka_unit_test(import_structure_error),
        cmocka_unit_test(stream_window),
        cmocka_unit_test(stream_cut_off),
        cmocka_unit_test(stream_broken_middle),
        cmocka_unit_test(export_mapping),
        cmocka_unit_test(round_trip),
    };
    (void)sl_exporter_zipkin.name;
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
