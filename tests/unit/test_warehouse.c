/*
 * test_warehouse.c -- opening, migrating and versioning a warehouse, and the
 * handle-level calls: sl_ingest_spans (idempotence, identity, id case,
 * validation), the `traces` view across ingest calls, sl_get_trace,
 * sl_clear, and one handle shared by several threads.
 *
 * Every expected value is worked by hand from the spans built here; the
 * arithmetic is written next to the assertion.
 */
#include <pthread.h>
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

#include "spanlite.h"

/* ---- helpers ---- */

/* A fresh scratch directory per test, under $TMPROOT when ctest sets it. */
typedef struct fixture {
    char dir[512];
    char path[600]; /* dir/w.db */
    sl_db *db;      /* open on path, or NULL */
    sl_db *db2;     /* a second handle on path, or NULL */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *root = getenv("TMPROOT");
    snprintf(f->dir, sizeof f->dir, "%s/wh.XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/w.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_close(f->db);
    sl_close(f->db2);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* Open f->path read-write, failing the test with the message. */
static sl_db *open_rw(fixture *f)
{
    int rc = sl_open(f->path, 0, &f->db);
    if (rc != SL_OK) fail_msg("sl_open: %d %s", rc, sl_errmsg(f->db));
    return f->db;
}

/* One integer from a one-row query. */
static int64_t q_int(sl_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(sl_sqlite(db)));
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s: no row", sql);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* One text value (NULL as "<null>") from a one-row query, into buf. */
static const char *q_text(sl_db *db, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(sl_sqlite(db)));
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s: no row", sql);
    const char *v = (const char *)sqlite3_column_text(st, 0);
    snprintf(buf, len, "%s", v ? v : "<null>");
    sqlite3_finalize(st);
    return buf;
}

/* A minimal valid span. */
static sl_span mk(const char *trace, const char *span, const char *parent, const char *service,
                  const char *op, int64_t start, int64_t dur, int status)
{
    sl_span s;
    memset(&s, 0, sizeof s);
    s.trace_id = trace;
    s.span_id = span;
    s.parent_span_id = parent;
    s.service = service;
    s.operation = op;
    s.start_ns = start;
    s.duration_ns = dur;
    s.status = status;
    return s;
}

static void ingest_ok(sl_db *db, const sl_span *spans, size_t n, sl_import_stats *st)
{
    memset(st, 0, sizeof *st);
    int rc = sl_ingest_spans(db, spans, n, st);
    if (rc != SL_OK) fail_msg("sl_ingest_spans: %d %s", rc, sl_errmsg(db));
}

/* Make a plain SQLite file with the given user_version. */
static void make_file_at_version(const char *path, int version)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE TABLE unrelated(x); PRAGMA user_version=%d;", version);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* One row of the traces view, as worked out by hand. */
typedef struct trace_row {
    const char *root_service, *root_operation;
    int64_t start_ns, end_ns, duration_ns, span_count, service_count, error_count;
} trace_row;

static void assert_trace_row(sl_db *db, const char *trace_id, const trace_row *want)
{
    sqlite3_stmt *st = NULL;
    const char *q = "SELECT root_service, root_operation, start_ns, end_ns, duration_ns, "
                    "span_count, service_count, error_count FROM traces WHERE trace_id = ?1";
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db), q, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, trace_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("no traces row for %s", trace_id);
    const char *rs = (const char *)sqlite3_column_text(st, 0);
    const char *ro = (const char *)sqlite3_column_text(st, 1);
    if (!rs || strcmp(rs, want->root_service) || !ro || strcmp(ro, want->root_operation))
        fail_msg("%s: root %s/%s, want %s/%s", trace_id, rs ? rs : "NULL", ro ? ro : "NULL",
                 want->root_service, want->root_operation);
    int64_t got[6], exp[6] = {want->start_ns,   want->end_ns,        want->duration_ns,
                              want->span_count, want->service_count, want->error_count};
    static const char *const names[6] = {"start_ns",   "end_ns",        "duration_ns",
                                         "span_count", "service_count", "error_count"};
    for (int i = 0; i < 6; i++) {
        got[i] = sqlite3_column_int64(st, 2 + i);
        if (got[i] != exp[i])
            fail_msg("%s: %s = %lld, want %lld", trace_id, names[i], (long long)got[i],
                     (long long)exp[i]);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* ---- opening ---- */

static void test_open_creates_and_migrates(void **state)
{
    fixture *f = *state;
    assert_true(sl_schema_version() >= 1);
    sl_db *db = open_rw(f);
    assert_int_equal(access(f->path, F_OK), 0);
    assert_int_equal(q_int(db, "PRAGMA user_version"), sl_schema_version());
    char buf[64];
    assert_string_equal(q_text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    /* The public views exist and are empty. */
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), 0);
    sl_close(db);
    f->db = NULL;

    /* Reopening an up-to-date warehouse changes nothing and keeps WAL. */
    db = open_rw(f);
    assert_int_equal(q_int(db, "PRAGMA user_version"), sl_schema_version());
    assert_string_equal(q_text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
}

static void test_open_migrates_older_file(void **state)
{
    fixture *f = *state;
    make_file_at_version(f->path, 0); /* an SQLite file spanlite never touched */
    sl_db *db = open_rw(f);
    assert_int_equal(q_int(db, "PRAGMA user_version"), sl_schema_version());
    assert_int_equal(q_int(db, "SELECT count(*) FROM unrelated"), 0); /* left alone */
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 0);
}

/* A warehouse left at schema version 1 (schema/001_core.sql, as released)
 * with a span in it: opening it applies the later migrations and keeps the data. */
static void test_open_migrates_version_1(void **state)
{
    fixture *f = *state;
    const char *src = getenv("SPANLITE_SRC");
    if (!src || !*src) skip();
    char p[600];
    snprintf(p, sizeof p, "%s/schema/001_core.sql", src);
    FILE *fp = fopen(p, "r");
    if (!fp) skip();
    static char sql[1 << 16];
    size_t n = fread(sql, 1, sizeof sql - 1, fp);
    fclose(fp);
    sql[n] = '\0';
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("001_core.sql: %s", err);
    /* one span of trace t, 10..15 ns, written with version 1's tables */
    const char *data =
        "INSERT INTO service(id, name) VALUES (1, 'svc');"
        "INSERT INTO operation(id, service_id, name) VALUES (1, 1, 'op');"
        "INSERT INTO trace(ref, trace_id, start_ns, end_ns, span_count, service_count, error_count,"
        " root_span_rowid, root_is_parentless) VALUES (1, 't', 10, 15, 1, 1, 0, 1, 1);"
        "INSERT INTO trace_service VALUES (1, 1);"
        "INSERT INTO span(id, trace_ref, span_id, service_id, operation_id, kind, status, flags,"
        " start_ns, duration_ns, content_hash) VALUES (1, 1, 's', 1, 1, 2, 1, 0, 10, 5, 0);"
        "PRAGMA user_version = 1;";
    if (sqlite3_exec(h, data, NULL, NULL, &err) != SQLITE_OK) fail_msg("v1 data: %s", err);
    sqlite3_close(h);

    if (sl_schema_version() > 1) {
        sl_db *ro = NULL; /* read-only refuses to migrate */
        assert_int_equal(sl_open(f->path, SL_OPEN_READONLY, &ro), SL_VERSION);
        sl_close(ro);
    }
    sl_db *db = open_rw(f);
    assert_int_equal(q_int(db, "PRAGMA user_version"), sl_schema_version());
    char buf[256];
    assert_string_equal(q_text(db, "SELECT trace_id||' '||span_id||' '||service||' '||operation||' '||"
                                   "kind||' '||status||' '||start_ns||' '||end_ns FROM spans",
                               buf, sizeof buf),
                        "t s svc op server ok 10 15");
    assert_string_equal(q_text(db, "SELECT root_service||' '||duration_ns||' '||span_count FROM traces",
                               buf, sizeof buf),
                        "svc 5 1");
    /* and it takes new spans */
    sl_span s2 = mk("t", "s2", "s", "svc2", "op2", 12, 10, SL_STATUS_ERROR);
    assert_int_equal(sl_ingest_span(db, &s2), SL_OK);
    /* 10..max(15, 22) = 12 ns, 2 spans, 2 services, 1 error */
    assert_string_equal(q_text(db, "SELECT duration_ns||' '||span_count||' '||service_count||' '||"
                                   "error_count FROM traces", buf, sizeof buf),
                        "12 2 2 1");
}

static void test_open_newer_fails(void **state)
{
    fixture *f = *state;
    make_file_at_version(f->path, sl_schema_version() + 1);
    sl_db *db = NULL;
    assert_int_equal(sl_open(f->path, 0, &db), SL_VERSION);
    assert_non_null(db);
    if (!strstr(sl_errmsg(db), "newer")) fail_msg("message without \"newer\": %s", sl_errmsg(db));
    sl_close(db);
    db = NULL;
    assert_int_equal(sl_open(f->path, SL_OPEN_READONLY, &db), SL_VERSION);
    if (!strstr(sl_errmsg(db), "newer")) fail_msg("message without \"newer\": %s", sl_errmsg(db));
    sl_close(db);

    /* And the file was not touched: still the version it had. */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), sl_schema_version() + 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_open_readonly(void **state)
{
    fixture *f = *state;
    sl_db *db = NULL;
    /* Missing file: fails and does not create it. */
    assert_int_not_equal(sl_open(f->path, SL_OPEN_READONLY, &db), SL_OK);
    assert_non_null(db);
    assert_true(strlen(sl_errmsg(db)) > 0);
    sl_close(db);
    assert_int_not_equal(access(f->path, F_OK), 0);

    /* An older (unmigrated) file: fails rather than migrating. */
    make_file_at_version(f->path, 0);
    db = NULL;
    assert_int_equal(sl_open(f->path, SL_OPEN_READONLY, &db), SL_VERSION);
    sl_close(db);

    /* A current warehouse opens read-only, and refuses writes. */
    unlink(f->path);
    db = open_rw(f);
    sl_span s = mk("t", "s", NULL, "svc", "op", 10, 5, SL_STATUS_UNSET);
    assert_int_equal(sl_ingest_span(db, &s), SL_OK);
    sl_close(db);
    f->db = NULL;
    assert_int_equal(sl_open(f->path, SL_OPEN_READONLY, &f->db), SL_OK);
    assert_int_equal(q_int(f->db, "SELECT count(*) FROM spans"), 1);
    sl_span s2 = mk("t", "s2", "s", "svc", "op", 11, 1, SL_STATUS_UNSET);
    assert_int_not_equal(sl_ingest_span(f->db, &s2), SL_OK);
    assert_int_not_equal(sl_clear(f->db), SL_OK);
    assert_int_equal(q_int(f->db, "SELECT count(*) FROM spans"), 1);
}

/* ---- ingest ---- */

static void test_ingest_idempotent(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    sl_span s[3] = {
        mk("t1", "a", NULL, "gw", "GET /", 1000, 100, SL_STATUS_OK),
        mk("t1", "b", "a", "users", "get", 1010, 50, SL_STATUS_UNSET),
        mk("t2", "c", NULL, "gw", "GET /", 2000, 10, SL_STATUS_ERROR),
    };
    sl_import_stats st;
    ingest_ok(db, s, 3, &st);
    assert_int_equal(st.read, 3);
    assert_int_equal(st.imported, 3);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.rejected, 0);
    ingest_ok(db, s, 3, &st);
    assert_int_equal(st.read, 3);
    assert_int_equal(st.imported, 0);
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 3);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), 2);
    /* The re-delivery did not inflate the aggregates. */
    assert_int_equal(q_int(db, "SELECT span_count FROM traces WHERE trace_id='t1'"), 2);
    assert_int_equal(q_int(db, "SELECT error_count FROM traces WHERE trace_id='t2'"), 1);

    /* A repeat inside one call is a duplicate too. */
    sl_span d[2] = {mk("t3", "x", NULL, "gw", "op", 5, 1, 0), mk("t3", "x", NULL, "gw", "op", 5, 1, 0)};
    ingest_ok(db, d, 2, &st);
    assert_int_equal(st.imported, 1);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(q_int(db, "SELECT span_count FROM traces WHERE trace_id='t3'"), 1);

    /* sl_ingest_span (one at a time) is idempotent as well. */
    assert_int_equal(sl_ingest_span(db, &s[0]), SL_OK);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 4);
}

static void test_same_ids_different_content_kept(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    /* Zipkin's shared span: the client and server halves share (trace, span). */
    sl_span client = mk("t", "s1", "s0", "frontend", "GET /api", 100, 40, SL_STATUS_UNSET);
    client.kind = SL_KIND_CLIENT;
    sl_span server = mk("t", "s1", "s0", "backend", "GET /api", 105, 30, SL_STATUS_UNSET);
    server.kind = SL_KIND_SERVER;
    server.flags = SL_SPAN_SHARED;
    sl_span both[2] = {client, server};
    sl_import_stats st;
    ingest_ok(db, both, 2, &st);
    assert_int_equal(st.imported, 2);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans WHERE trace_id='t' AND span_id='s1'"), 2);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans WHERE kind='server' AND shared=1"), 1);
    /* A span differing only in its attributes is another span too. */
    sl_span c2 = client;
    c2.attributes = "{\"retry\":1}";
    ingest_ok(db, &c2, 1, &st);
    assert_int_equal(st.imported, 1);
    ingest_ok(db, both, 2, &st);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 3);
    assert_int_equal(q_int(db, "SELECT span_count FROM traces WHERE trace_id='t'"), 3);
}

static void test_hex_ids_lower_cased(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    sl_span up = mk("4BF92F3577B34DA6A3CE929D0E0E4736", "00F067AA0BA902B7", "ABCDEF0123456789",
                    "svc", "op", 1, 2, SL_STATUS_UNSET);
    sl_span low = mk("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "abcdef0123456789",
                     "svc", "op", 1, 2, SL_STATUS_UNSET);
    sl_import_stats st;
    ingest_ok(db, &up, 1, &st);
    assert_int_equal(st.imported, 1);
    char buf[128];
    assert_string_equal(q_text(db, "SELECT trace_id FROM spans", buf, sizeof buf),
                        "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(q_text(db, "SELECT span_id FROM spans", buf, sizeof buf), "00f067aa0ba902b7");
    assert_string_equal(q_text(db, "SELECT parent_span_id FROM spans", buf, sizeof buf),
                        "abcdef0123456789");
    assert_string_equal(q_text(db, "SELECT trace_id FROM traces", buf, sizeof buf),
                        "4bf92f3577b34da6a3ce929d0e0e4736");
    ingest_ok(db, &low, 1, &st);
    assert_int_equal(st.imported, 0);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 1);

    /* Ids that are not all hex are kept exactly as given. */
    sl_span named = mk("Trace-ABC", "Span-1", "Root-X", "svc", "op", 1, 2, SL_STATUS_UNSET);
    ingest_ok(db, &named, 1, &st);
    assert_string_equal(q_text(db, "SELECT span_id||'/'||parent_span_id FROM spans "
                                   "WHERE trace_id='Trace-ABC'", buf, sizeof buf),
                        "Span-1/Root-X");

    /* sl_get_trace finds the lower-cased trace by its lower-case id. */
    sl_trace *t = NULL;
    assert_int_equal(sl_get_trace(db, "4bf92f3577b34da6a3ce929d0e0e4736", &t), SL_OK);
    assert_int_equal(t->nspans, 1);
    assert_string_equal(t->spans[0].span_id, "00f067aa0ba902b7");
    sl_trace_free(t);
}

static void test_traces_view_across_calls(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    sl_import_stats st;
    /* Trace T: root r (gateway, 1000..1500); a child of r (users, 1100..1300,
     * error); b child of a (db, 1150..1550: ends after its root); c child
     * of r (users, 990..1010, error: starts before its root, clock skew). */
    sl_span r = mk("T", "r", NULL, "gateway", "GET /", 1000, 500, SL_STATUS_OK);
    sl_span a = mk("T", "a", "r", "users", "get_user", 1100, 200, SL_STATUS_ERROR);
    sl_span b = mk("T", "b", "a", "db", "query", 1150, 400, SL_STATUS_UNSET);
    sl_span c = mk("T", "c", "r", "users", "list", 990, 20, SL_STATUS_ERROR);

    /* Call 1: children only.  start = min(1100, 990) = 990; end = max(1300,
     * 1010) = 1300; duration 310; 2 spans; 1 service (users); 2 errors;
     * no parentless span yet, so the earliest span (c) stands in as root. */
    sl_span call1[2] = {a, c};
    ingest_ok(db, call1, 2, &st);
    trace_row w1 = {"users", "list", 990, 1300, 310, 2, 1, 2};
    assert_trace_row(db, "T", &w1);

    /* Call 2: the root arrives.  start 990; end max(1300, 1500) = 1500;
     * duration 510; 3 spans; 2 services; errors still 2; root = r. */
    ingest_ok(db, &r, 1, &st);
    trace_row w2 = {"gateway", "GET /", 990, 1500, 510, 3, 2, 2};
    assert_trace_row(db, "T", &w2);

    /* Call 3: b, plus a re-delivery of a (skipped, counts nothing).  end =
     * max(1500, 1550) = 1550; duration 560; 4 spans; 3 services. */
    sl_span call3[2] = {b, a};
    ingest_ok(db, call3, 2, &st);
    assert_int_equal(st.imported, 1);
    assert_int_equal(st.duplicates, 1);
    trace_row w3 = {"gateway", "GET /", 990, 1550, 560, 4, 3, 2};
    assert_trace_row(db, "T", &w3);

    /* Trace P: several parentless spans; the earliest is the root, whatever
     * the order of arrival. p1 at 2000, then p2 at 1990 (becomes root),
     * then p3 at 2010 (does not). */
    sl_span p1 = mk("P", "p1", NULL, "s1", "first", 2000, 100, SL_STATUS_UNSET);
    sl_span p2 = mk("P", "p2", "", "s2", "second", 1990, 5, SL_STATUS_UNSET); /* "" = root */
    sl_span p3 = mk("P", "p3", NULL, "s1", "third", 2010, 200, SL_STATUS_ERROR);
    ingest_ok(db, &p1, 1, &st);
    ingest_ok(db, &p2, 1, &st);
    /* start min(2000,1990)=1990; end max(2100,1995)=2100; duration 110 */
    trace_row wp = {"s2", "second", 1990, 2100, 110, 2, 2, 0};
    assert_trace_row(db, "P", &wp);
    ingest_ok(db, &p3, 1, &st);
    /* end max(2100, 2210) = 2210; duration 2210-1990 = 220; s1 already counted */
    trace_row wp3 = {"s2", "second", 1990, 2210, 220, 3, 2, 1};
    assert_trace_row(db, "P", &wp3);

    /* The same spans in one call give the same rows. */
    sl_span all[4] = {b, c, r, a};
    for (int i = 0; i < 4; i++) all[i].trace_id = "T1";
    ingest_ok(db, all, 4, &st);
    assert_trace_row(db, "T1", &w3);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), 3);
}

static void test_get_trace_every_field(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    sl_span full;
    memset(&full, 0, sizeof full);
    full.trace_id = "gt";
    full.span_id = "s1";
    full.parent_span_id = "s0";
    full.service = "svc";
    full.operation = "op";
    full.remote_service = "peer";
    full.kind = SL_KIND_CLIENT;
    full.status = SL_STATUS_ERROR;
    full.flags = SL_SPAN_SHARED;
    full.status_message = "boom";
    full.start_ns = 1700000000123456789LL;
    full.duration_ns = 987654321;
    full.attributes = "{\"http.status_code\":500,\"big\":1700000000123456789,\"r\":1.0}";
    full.resource = "{\"service.name\":\"svc\",\"host.name\":\"h1\"}";
    full.scope = "{\"name\":\"lib\",\"version\":\"1.2\",\"attributes\":{}}";
    full.events = "[{\"time_ns\":1700000000123456790,\"name\":\"ev\",\"attributes\":{}}]";
    full.links = "[{\"trace_id\":\"aa\",\"span_id\":\"bb\",\"attributes\":{}}]";
    /* The root starts earlier, so it comes first; it has no optional field. */
    sl_span root = mk("gt", "s0", NULL, "svc", "root", 1700000000000000000LL, 2000000000LL,
                      SL_STATUS_UNSET);
    sl_span both[2] = {full, root};
    sl_import_stats st;
    ingest_ok(db, both, 2, &st);

    sl_trace *t = NULL;
    assert_int_equal(sl_get_trace(db, "gt", &t), SL_OK);
    assert_non_null(t);
    assert_int_equal(t->nspans, 2);
    const sl_span *g0 = &t->spans[0], *g1 = &t->spans[1];
    assert_string_equal(g0->span_id, "s0");
    assert_null(g0->parent_span_id);
    assert_null(g0->remote_service);
    assert_null(g0->status_message);
    assert_null(g0->attributes);
    assert_null(g0->resource);
    assert_null(g0->scope);
    assert_null(g0->events);
    assert_null(g0->links);
    assert_string_equal(g0->operation, "root");
    assert_int_equal(g0->kind, SL_KIND_UNSPECIFIED);
    assert_int_equal(g0->status, SL_STATUS_UNSET);
    assert_int_equal(g0->flags, 0);
    assert_true(g0->start_ns == 1700000000000000000LL);
    assert_true(g0->duration_ns == 2000000000LL);

    assert_string_equal(g1->trace_id, "gt");
    assert_string_equal(g1->span_id, "s1");
    assert_string_equal(g1->parent_span_id, "s0");
    assert_string_equal(g1->service, "svc");
    assert_string_equal(g1->operation, "op");
    assert_string_equal(g1->remote_service, "peer");
    assert_int_equal(g1->kind, SL_KIND_CLIENT);
    assert_int_equal(g1->status, SL_STATUS_ERROR);
    assert_int_equal(g1->flags, SL_SPAN_SHARED);
    assert_string_equal(g1->status_message, "boom");
    assert_true(g1->start_ns == 1700000000123456789LL);
    assert_true(g1->duration_ns == 987654321LL);
    assert_string_equal(g1->attributes, full.attributes);
    assert_string_equal(g1->resource, full.resource);
    assert_string_equal(g1->scope, full.scope);
    assert_string_equal(g1->events, full.events);
    assert_string_equal(g1->links, full.links);
    sl_trace_free(t);

    /* The spans view names kind and status and adds end_ns:
     * 1700000000.123456789 s + 0.987654321 s = 1700000001.111111110 s. */
    char buf[256];
    assert_string_equal(q_text(db, "SELECT kind||' '||status||' '||end_ns||' '||shared||' '||"
                                   "remote_service FROM spans WHERE span_id='s1'", buf, sizeof buf),
                        "client error 1700000001111111110 1 peer");
    assert_true(q_int(db, "SELECT end_ns FROM spans WHERE span_id='s1'") == 1700000001111111110LL);

    sl_trace sentinel;
    t = &sentinel; /* must be reset to NULL on failure */
    assert_int_equal(sl_get_trace(db, "no-such-trace", &t), SL_NOTFOUND);
    assert_null(t);
}

static void test_clear(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    sl_span s[3] = {
        mk("t1", "a", NULL, "gw", "GET /", 1000, 100, SL_STATUS_OK),
        mk("t1", "b", "a", "users", "get", 1010, 50, SL_STATUS_UNSET),
        mk("t2", "c", NULL, "gw", "GET /", 2000, 10, SL_STATUS_ERROR),
    };
    s[0].resource = "{\"host.name\":\"h\"}";
    s[1].remote_service = "db";
    sl_import_stats st;
    ingest_ok(db, s, 3, &st);
    assert_int_equal(sl_clear(db), SL_OK);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM services"), 0);
    sl_trace *t = NULL;
    assert_int_equal(sl_get_trace(db, "t1", &t), SL_NOTFOUND);

    /* The same spans go in again as new (nothing remembered from before),
     * and are visible through the views with all their names. */
    ingest_ok(db, s, 3, &st);
    assert_int_equal(st.imported, 3);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 3);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans WHERE resource IS NOT NULL"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans WHERE remote_service = 'db'"), 1);
    assert_int_equal(q_int(db, "SELECT span_count FROM traces WHERE trace_id='t1'"), 2);
    assert_int_equal(q_int(db, "SELECT service_count FROM traces WHERE trace_id='t1'"), 2);
}

static void test_clear_by_another_handle(void **state)
{
    fixture *f = *state;
    /* Two handles on one file, as two processes would have. */
    sl_db *a = open_rw(f);
    assert_int_equal(sl_open(f->path, 0, &f->db2), SL_OK);
    sl_db *b = f->db2;
    sl_span s[2] = {mk("t1", "a", NULL, "gw", "GET /", 1000, 100, SL_STATUS_OK),
                    mk("t1", "b", "a", "users", "get", 1010, 50, SL_STATUS_ERROR)};
    sl_import_stats st;
    ingest_ok(a, s, 2, &st);
    assert_int_equal(sl_clear(b), SL_OK);
    assert_int_equal(q_int(a, "SELECT count(*) FROM spans"), 0);
    /* a must not reuse trace, service or operation ids that b deleted: the
     * spans have to be visible through the views again. */
    ingest_ok(a, s, 2, &st);
    assert_int_equal(st.imported, 2);
    assert_int_equal(q_int(b, "SELECT count(*) FROM spans"), 2);
    assert_int_equal(q_int(b, "SELECT count(*) FROM traces"), 1);
    assert_int_equal(q_int(b, "SELECT span_count FROM traces WHERE trace_id='t1'"), 2);
    assert_int_equal(q_int(b, "SELECT error_count FROM traces WHERE trace_id='t1'"), 1);
}

/* Spans of n traces "<prefix>-<i>", one span each, into db. */
static void ingest_traces(sl_db *db, const char *prefix, int n, const char *span, const char *parent)
{
    sl_span *s = calloc((size_t)n, sizeof *s);
    char (*ids)[32] = calloc((size_t)n, sizeof *ids);
    assert_non_null(s);
    assert_non_null(ids);
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "%s-%d", prefix, i);
        s[i] = mk(ids[i], span, parent, "svc", "op", 1000 + i, 10, SL_STATUS_OK);
    }
    sl_import_stats st;
    ingest_ok(db, s, (size_t)n, &st);
    free(s);
    free(ids);
}

static void test_trace_ids_seen_by_another_handle(void **state)
{
    fixture *f = *state;
    /* b's writer has loaded the trace index before a adds 10,000 traces
     * (more than a generation); b must then find them all, not add them
     * again: it reloads the filters when another connection committed. */
    sl_db *a = open_rw(f);
    assert_int_equal(sl_open(f->path, 0, &f->db2), SL_OK);
    sl_db *b = f->db2;
    ingest_traces(b, "early", 1, "x", NULL);
    ingest_traces(a, "t", 10000, "root", NULL);
    ingest_traces(b, "t", 10000, "child", "root");
    assert_int_equal(q_int(a, "SELECT count(*) FROM traces"), 10001);
    assert_int_equal(q_int(a, "SELECT count(*) FROM traces WHERE span_count = 2"), 10000);
    assert_int_equal(q_int(a, "SELECT sum(traces) FROM trace_gen"), 10001);
    assert_int_equal(q_int(a, "SELECT count(*) FROM trace_gen"), 2);
}

/* wal_hook for the test below: once, right after a's COMMIT has released
 * the lock, another connection stores trace "T". */
static int commit_between(void *arg, sqlite3 *db, const char *schema, int frames)
{
    (void)db;
    (void)schema;
    (void)frames;
    sl_db **other = arg;
    if (*other) {
        sl_span t = mk("T", "from-b", NULL, "svc", "op", 1, 1, SL_STATUS_OK);
        sl_import_stats st;
        ingest_ok(*other, &t, 1, &st);
        *other = NULL;
    }
    return SQLITE_OK;
}

static void test_commit_in_the_gap_after_ours(void **state)
{
    fixture *f = *state;
    /* b commits between a's COMMIT and a's next BEGIN.  a must still see
     * that b added "T" (its filters reloaded), not add "T" again. */
    sl_db *a = open_rw(f);
    assert_int_equal(sl_open(f->path, 0, &f->db2), SL_OK);
    sl_db *b = f->db2;
    ingest_traces(a, "warm", 1, "x", NULL);
    sl_db *pending = b;
    sqlite3_wal_hook(sl_sqlite(a), commit_between, &pending);
    ingest_traces(a, "other", 1, "x", NULL);
    sqlite3_wal_hook(sl_sqlite(a), NULL, NULL);
    assert_null(pending);
    sl_span t = mk("T", "from-a", NULL, "svc", "op", 2, 1, SL_STATUS_OK);
    sl_import_stats st;
    ingest_ok(a, &t, 1, &st);
    assert_int_equal(q_int(a, "SELECT count(*) FROM trace WHERE trace_id = 'T'"), 1);
    assert_int_equal(q_int(a, "SELECT span_count FROM traces WHERE trace_id = 'T'"), 2);
}

static void test_damaged_trace_index_is_refused(void **state)
{
    fixture *f = *state;
    sl_db *a = open_rw(f);
    ingest_traces(a, "t", 3, "x", NULL);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "UPDATE trace_gen SET bloom = x'00'", NULL, NULL, NULL), SQLITE_OK);
    sl_span s = mk("t-1", "y", "x", "svc", "op", 5, 1, SL_STATUS_OK);
    sl_import_stats st;
    char path[600];
    snprintf(path, sizeof path, "%s/late.jsonl", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"trace_id\":\"t-1\",\"span_id\":\"z\",\"service\":\"svc\",\"operation\":\"op\","
          "\"start_ns\":6,\"duration_ns\":1}\n", fp);
    fclose(fp);
    /* Through both writers; each time the failed begin leaves nothing open. */
    for (int i = 0; i < 2; i++) {
        memset(&st, 0, sizeof st);
        assert_int_equal(sl_import_file(a, path, NULL, &st), SL_ERROR);
        assert_non_null(strstr(sl_errmsg(a), "trace_gen row 0 is damaged"));
        assert_int_equal(sl_ingest_spans(a, &s, 1, &st), SL_ERROR);
        assert_non_null(strstr(sl_errmsg(a), "trace_gen row 0 is damaged"));
    }
    /* ... and the write lock is free for the repair. */
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE; ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(sl_sqlite(a), "SELECT trace_index_rebuild()", NULL, NULL, NULL), SQLITE_OK);
    ingest_ok(a, &s, 1, &st);
    assert_int_equal(sl_import_file(a, path, NULL, &st), SL_OK);
    assert_int_equal(q_int(a, "SELECT count(*) FROM trace"), 3);
    assert_int_equal(q_int(a, "SELECT span_count FROM traces WHERE trace_id = 't-1'"), 3);
    /* A generation whose row is gone entirely is refused as well. */
    assert_int_equal(sqlite3_exec(h, "DELETE FROM trace_gen", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sl_ingest_spans(a, &s, 1, &st), SL_ERROR);
    assert_non_null(strstr(sl_errmsg(a), "have no trace_gen row"));
    sqlite3_close(h);
}

static void test_invalid_span_stores_nothing(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    sl_span good = mk("t", "a", NULL, "svc", "op", 10, 1, SL_STATUS_UNSET);
    sl_span bad[7];
    for (int i = 0; i < 7; i++) bad[i] = good;
    bad[0].trace_id = NULL;
    bad[1].trace_id = "";
    bad[2].span_id = NULL;
    bad[3].service = NULL;
    bad[4].operation = NULL;
    bad[5].duration_ns = -1;
    bad[6].kind = 6;
    for (int i = 0; i < 7; i++) {
        sl_span pair[2] = {good, bad[i]};
        sl_import_stats st = {0};
        int rc = sl_ingest_spans(db, pair, 2, &st);
        if (rc != SL_INVALID) fail_msg("bad span %d: rc %d, want SL_INVALID", i, rc);
        assert_int_equal(st.imported, 0);
        assert_true(strlen(sl_errmsg(db)) > 0);
    }
    sl_span s_bad = good;
    s_bad.status = 3;
    assert_int_equal(sl_ingest_span(db, &s_bad), SL_INVALID);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), 0);
    /* The handle is still usable afterwards. */
    assert_int_equal(sl_ingest_span(db, &good), SL_OK);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 1);
}

/* ---- threads ---- */

#define NTHREADS 4
#define CALLS 50
#define PER_CALL 20

typedef struct worker {
    sl_db *db;
    int id;
    int failures;
    char msg[256];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    char tid[CALLS][32], sid[PER_CALL][16], pid[PER_CALL][16];
    for (int k = 0; k < PER_CALL; k++) {
        snprintf(sid[k], sizeof sid[k], "s%d", k);
        snprintf(pid[k], sizeof pid[k], "s%d", k ? (k - 1) / 2 : 0);
    }
    for (int c = 0; c < CALLS; c++) {
        /* One trace per call: thread w->id, call c. */
        snprintf(tid[c], sizeof tid[c], "th%d-%d", w->id, c);
        sl_span spans[PER_CALL];
        for (int k = 0; k < PER_CALL; k++)
            spans[k] = mk(tid[c], sid[k], k ? pid[k] : NULL, k % 2 ? "odd" : "even", "op",
                          1000000 * c + k, 100 - k, k == 3 ? SL_STATUS_ERROR : SL_STATUS_UNSET);
        sl_import_stats st = {0};
        int rc = sl_ingest_spans(w->db, spans, PER_CALL, &st);
        if (rc != SL_OK || st.imported != PER_CALL) {
            w->failures++;
            snprintf(w->msg, sizeof w->msg, "call %d: rc %d imported %llu", c, rc,
                     (unsigned long long)st.imported);
        }
    }
    return NULL;
}

static void test_threads_share_handle(void **state)
{
    fixture *f = *state;
    sl_db *db = open_rw(f);
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){db, i, 0, ""};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        if (w[i].failures) fail_msg("thread %d: %d failures, last %s", i, w[i].failures, w[i].msg);
    /* 4 threads x 50 calls x 20 spans = 4000 spans in 200 traces. */
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), NTHREADS * CALLS * PER_CALL);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces"), NTHREADS * CALLS);
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces WHERE span_count = 20 AND "
                               "service_count = 2 AND error_count = 1 AND root_service = 'even'"),
                     NTHREADS * CALLS);
    /* Every trace th<i>-<c>: start 1000000*c, root s0 ends at 1000000*c + 100. */
    assert_int_equal(q_int(db, "SELECT count(*) FROM traces WHERE duration_ns = 100"),
                     NTHREADS * CALLS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_and_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_migrates_older_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_migrates_version_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_newer_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_ids_different_content_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hex_ids_lower_cased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traces_view_across_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_trace_every_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_by_another_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_ids_seen_by_another_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_in_the_gap_after_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_trace_index_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_span_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_handle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
