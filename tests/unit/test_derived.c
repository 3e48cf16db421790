/*
 * test_derived.c -- the derived tables (src/store/derived.h): the table of
 * hooks lists every derived table, and clearing them and rebuilding them
 * from the base tables leaves exactly what the writer wrote incrementally.
 *
 * The spans are made here so that the incremental path does everything it
 * can: traces arrive in two imports (the second brings an earlier root, so
 * the trace moves to an earlier hour and its links are taken back from one
 * hour and added to another), spans are re-delivered (duplicates), two
 * parentless spans tie on start time (the root is the first stored), spans
 * start before 1970 (clamped to hour 0), and there are more traces than one
 * generation of the trace index holds (8,192).
 *
 * Independent checks: rollup_hour's counts against a GROUP BY of span
 * written here, and a re-import after sl_clear against a fresh warehouse.
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

#include "spanlite.h"
#include "store/derived.h"

#define HOUR 3600000000000LL
#define NTRACES 9000 /* more than one trace-index generation */

/* The derived tables issue 10 names, and who keeps them. */
static const char *const expected[] = {"link_hour", "trace", "rollup_hour", "trace_gen"};
#define NEXPECTED (sizeof expected / sizeof *expected)

/* ---- spans ---- */

typedef struct made {
    char tid[33], sid[17], pid[17];
    char svc[16], op[24], remote[16];
    sl_span sp;
    int phase; /* 0: first import, 1: second, 2: after the first rebuild */
} made;

typedef struct spans {
    made *m;
    size_t n, cap;
} spans;

static made *add(spans *s, int phase, unsigned trace, unsigned span, unsigned parent, unsigned svc,
                 unsigned op, int kind, int64_t start, int64_t dur)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->m = realloc(s->m, s->cap * sizeof *s->m);
        assert_non_null(s->m);
    }
    made *m = &s->m[s->n++];
    memset(m, 0, sizeof *m);
    snprintf(m->tid, sizeof m->tid, "%016x%016x", trace * 2654435761u, trace + 1);
    snprintf(m->sid, sizeof m->sid, "%08x%08x", trace, span);
    if (parent) snprintf(m->pid, sizeof m->pid, "%08x%08x", trace, parent);
    snprintf(m->svc, sizeof m->svc, "svc%u", svc % 7);
    snprintf(m->op, sizeof m->op, "op%u", op % 3);
    m->phase = phase;
    m->sp.kind = kind;
    m->sp.status = (trace + span) % 5 == 0 ? SL_STATUS_ERROR : SL_STATUS_OK;
    m->sp.start_ns = start;
    m->sp.duration_ns = dur;
    return m;
}

/* Fix the string pointers once the array no longer moves. */
static void seal(spans *s)
{
    for (size_t i = 0; i < s->n; i++) {
        made *m = &s->m[i];
        m->sp.trace_id = m->tid;
        m->sp.span_id = m->sid;
        m->sp.parent_span_id = m->pid[0] ? m->pid : NULL;
        m->sp.service = m->svc;
        m->sp.operation = m->op;
        m->sp.remote_service = m->remote[0] ? m->remote : NULL;
    }
}

static void make_spans(spans *s)
{
    const int64_t base = 1700000000LL * 1000000000LL;
    for (unsigned t = 0; t < NTRACES; t++) {
        int64_t start = base + (int64_t)(t % 50) * HOUR / 4 + t;
        if (t % 97 == 0) start = -3 * HOUR + t; /* before 1970 */
        unsigned a = t, b = t + 1 + t % 3;
        int late = t % 7 == 0; /* the root comes in the second import, earlier */
        /* root (server) -> client -> server -> internal */
        int64_t root_start = late ? start - HOUR : start;
        add(s, late, t, 1, 0, a, t, SL_KIND_SERVER, root_start, 5000000 + t % 1000 * 1000);
        made *c = add(s, 0, t, 2, 1, a, t + 1, SL_KIND_CLIENT, start + 1000, 3000000 + t % 777);
        snprintf(c->remote, sizeof c->remote, "svc%u", b % 7);
        add(s, 0, t, 3, 2, b, t + 2, SL_KIND_SERVER, start + 2000, 2000000 + t % 555);
        add(s, 0, t, 4, 3, b, t, SL_KIND_INTERNAL, start + 3000, 1000 + t);
        if (t % 13 == 0) /* a second parentless span tying the root's start */
            add(s, late, t, 5, 0, a + 2, t, SL_KIND_SERVER, root_start, 77);
        if (t % 11 == 0) /* a client whose server arrives in the second import */
            add(s, 1, t, 6, 1, a, t + 1, SL_KIND_CLIENT, start + 500, 900000);
        if (t % 11 == 0) add(s, 1, t, 7, 6, b + 1, t, SL_KIND_SERVER, start + 600, 800000);
        if (t % 17 == 0) /* spans added after the first rebuild */
            add(s, 2, t, 8, 4, a + 3, t + 1, SL_KIND_CLIENT, start - 2 * HOUR, 12345);
    }
    seal(s);
}

/* Ingest the spans of phase, in batches of 500; redo re-delivers every
 * tenth batch (all duplicates the second time). */
static void ingest_phase(sl_db *db, const spans *s, int phase)
{
    sl_span *batch = malloc(500 * sizeof *batch);
    assert_non_null(batch);
    size_t n = 0, batches = 0;
    for (size_t i = 0; i <= s->n; i++) {
        if (i < s->n && s->m[i].phase != phase) continue;
        if (i < s->n) batch[n++] = s->m[i].sp;
        if (n == 500 || (i == s->n && n)) {
            sl_import_stats st = {0};
            assert_int_equal(sl_ingest_spans(db, batch, n, &st), SL_OK);
            assert_int_equal(st.imported, n);
            if (batches++ % 10 == 0) {
                memset(&st, 0, sizeof st);
                assert_int_equal(sl_ingest_spans(db, batch, n, &st), SL_OK);
                assert_int_equal(st.duplicates, n);
            }
            n = 0;
        }
    }
    free(batch);
}

/* ---- snapshots ---- */

/* Every row of every derived table, as text.  link_hour's sketch leaves
 * out the stored extremes (bytes 33..48: rMin, rMax), which a relink may
 * leave approximate (link_rollup.h); its counts and buckets are compared. */
static const char *const snapshot_sql[] = {
    "SELECT ref, trace_id, start_ns, end_ns, span_count, service_count, error_count,"
    " root_span_rowid, root_is_parentless, gen FROM trace ORDER BY ref",
    "SELECT trace_ref, service_id FROM trace_service ORDER BY 1, 2",
    "SELECT bucket_ns, operation_id, service_id, calls, errors, sum_ns, min_ns, max_ns,"
    " hex(sketch) FROM rollup_hour ORDER BY 1, 2",
    "SELECT bucket_ns, parent_id, child_id, calls, errors, sum_ns,"
    " hex(substr(sketch, 1, 32)), hex(substr(sketch, 49)) FROM link_hour ORDER BY 1, 2, 3",
    "SELECT gen, traces, hex(bloom) FROM trace_gen ORDER BY gen",
};
#define NSNAP (sizeof snapshot_sql / sizeof *snapshot_sql)

static int append_row(void *ctx, int ncol, char **vals, char **names)
{
    (void)names;
    FILE *f = ctx;
    for (int i = 0; i < ncol; i++) fprintf(f, "%s%s", i ? "|" : "", vals[i] ? vals[i] : "NULL");
    fputc('\n', f);
    return 0;
}

/* snap[i]: the rows of snapshot_sql[i], malloc'd. */
static void snapshot(sl_db *db, char *snap[NSNAP])
{
    for (size_t i = 0; i < NSNAP; i++) {
        size_t len;
        FILE *f = open_memstream(&snap[i], &len);
        assert_non_null(f);
        char *msg = NULL;
        int rc = sqlite3_exec(sl_sqlite(db), snapshot_sql[i], append_row, f, &msg);
        if (rc) fail_msg("%s: %s", snapshot_sql[i], msg);
        fclose(f);
    }
}

static void snapshot_free(char *snap[NSNAP])
{
    for (size_t i = 0; i < NSNAP; i++) free(snap[i]);
}

static void assert_same(char *a[NSNAP], char *b[NSNAP], const char *when)
{
    for (size_t i = 0; i < NSNAP; i++) {
        if (strcmp(a[i], b[i]) == 0) continue;
        /* the first differing line, for the log */
        size_t k = 0, line = 1;
        while (a[i][k] && a[i][k] == b[i][k]) line += a[i][k++] == '\n';
        size_t s = k;
        while (s > 0 && a[i][s - 1] != '\n') s--;
        fail_msg("%s: %s differs at row %zu:\n  before: %.200s\n  after:  %.200s", when,
                 snapshot_sql[i], line, a[i] + s, b[i] + s);
    }
}

static int64_t one_int(sl_db *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) fail_msg("%s: %s", sql, sqlite3_errmsg(sl_sqlite(db)));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void exec_ok(sl_db *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(sl_sqlite(db), sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
}

/* Clear every derived table through the table and check each is empty,
 * then rebuild each by name through derived_rebuild(), in one transaction. */
static void clear_and_rebuild(sl_db *db)
{
    char err[512] = "";
    exec_ok(db, "BEGIN IMMEDIATE");
    if (sl_derived_clear_all(sl_sqlite(db), err, sizeof err)) fail_msg("clear: %s", err);
    assert_int_equal(one_int(db, "SELECT count(*) FROM rollup_hour"), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM link_hour"), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM trace_gen"), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM trace_service"), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM trace WHERE start_ns IS NOT NULL"
                                 " OR end_ns IS NOT NULL OR span_count OR service_count OR error_count"
                                 " OR root_span_rowid IS NOT NULL OR root_is_parentless"), 0);
    assert_true(one_int(db, "SELECT count(*) FROM span") > 0); /* base tables kept */
    for (const sl_derived *const *e = sl_derived_tables; *e; e++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT derived_rebuild('%s')", (*e)->name);
        assert_true(one_int(db, sql) > 0);
    }
    exec_ok(db, "COMMIT");
}

/* ---- fixture ---- */

typedef struct fixture {
    char dir[512], path[600], path2[600];
    sl_db *db, *db2;
    spans s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *root = getenv("TMPROOT");
    snprintf(f->dir, sizeof f->dir, "%s/derived.XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/a.db", f->dir);
    snprintf(f->path2, sizeof f->path2, "%s/b.db", f->dir);
    make_spans(&f->s);
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
    int rc = system(cmd);
    free(f->s.m);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- tests ---- */

/* Every derived table has an entry with every hook, found by name, and
 * link_hour commits before trace (it reads the trace's old start). */
static void test_table_lists_every_derived_table(void **state)
{
    (void)state;
    size_t n = 0, link = 99, trace = 99;
    for (const sl_derived *const *e = sl_derived_tables; *e; e++, n++) {
        const sl_derived *d = *e;
        assert_non_null(d->name);
        assert_true(d->new && d->free && d->begin && d->commit && d->rollback && d->error &&
                    d->clear && d->rebuild);
        assert_ptr_equal(sl_derived_find(d->name), d);
        if (strcmp(d->name, "link_hour") == 0) link = n;
        if (strcmp(d->name, "trace") == 0) trace = n;
    }
    for (size_t i = 0; i < NEXPECTED; i++)
        if (!sl_derived_find(expected[i])) fail_msg("no entry for derived table %s", expected[i]);
    assert_int_equal(n, NEXPECTED);
    assert_true(link < trace);
    assert_null(sl_derived_find("span"));
}

/* Clear + rebuild gives back what the writer kept, before and after more
 * imports on top of a rebuilt warehouse. */
static void test_clear_rebuild_equals_incremental(void **state)
{
    fixture *f = *state;
    char *before[NSNAP], *after[NSNAP];
    assert_int_equal(sl_open(f->path, 0, &f->db), SL_OK);
    ingest_phase(f->db, &f->s, 0);
    ingest_phase(f->db, &f->s, 1);
    /* the data does what the header says */
    assert_int_equal(one_int(f->db, "SELECT count(*) FROM trace_gen"), 2);
    assert_true(one_int(f->db, "SELECT count(*) FROM rollup_hour WHERE bucket_ns = 0") > 0);
    assert_true(one_int(f->db, "SELECT count(*) FROM link_hour") > 10);

    snapshot(f->db, before);
    clear_and_rebuild(f->db);
    snapshot(f->db, after);
    assert_same(before, after, "after the first clear and rebuild");
    snapshot_free(before);
    snapshot_free(after);

    /* The writer goes on from rebuilt tables as from its own. */
    ingest_phase(f->db, &f->s, 2);
    snapshot(f->db, before);
    clear_and_rebuild(f->db);
    snapshot(f->db, after);
    assert_same(before, after, "after more spans and a second clear and rebuild");
    snapshot_free(before);
    snapshot_free(after);
}

/* rollup_hour against a GROUP BY of span written here (hours clamped at 0). */
static void test_rollup_hour_matches_group_by(void **state)
{
    fixture *f = *state;
    assert_int_equal(sl_open(f->path, 0, &f->db), SL_OK);
    ingest_phase(f->db, &f->s, 0);
    ingest_phase(f->db, &f->s, 1);
    const char *diff =
        "SELECT count(*) FROM (SELECT max(start_ns, 0) / 3600000000000 * 3600000000000 AS b,"
        " operation_id, service_id, count(*) AS calls, sum(status = 2) AS errors,"
        " sum(duration_ns), min(duration_ns), max(duration_ns), count(*) AS n"
        " FROM span GROUP BY 1, 2"
        " EXCEPT SELECT bucket_ns, operation_id, service_id, calls, errors, sum_ns, min_ns, max_ns,"
        " sketch_count(sketch) FROM rollup_hour)";
    assert_int_equal(one_int(f->db, diff), 0);
    assert_int_equal(one_int(f->db, "SELECT count(*) FROM rollup_hour"),
                     one_int(f->db, "SELECT count(*) FROM (SELECT DISTINCT max(start_ns, 0) / 3600000000000,"
                                    " operation_id FROM span)"));
    /* derived_rebuild() names its error. */
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(sl_sqlite(f->db), "SELECT derived_rebuild('nope')", NULL, NULL, &msg),
                         SQLITE_OK);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "derived_rebuild: no derived table 'nope'"));
    sqlite3_free(msg);
}

/* sl_clear empties base and derived tables, and a re-import then equals an
 * import into a fresh warehouse. */
static void test_sl_clear_then_reimport_equals_fresh(void **state)
{
    fixture *f = *state;
    char *a[NSNAP], *b[NSNAP];
    assert_int_equal(sl_open(f->path, 0, &f->db), SL_OK);
    ingest_phase(f->db, &f->s, 0);
    assert_int_equal(sl_clear(f->db), SL_OK);
    const char *tables[] = {"span", "trace", "trace_service", "trace_gen", "rollup_hour",
                            "link_hour", "service", "operation", "resource"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        if (one_int(f->db, sql)) fail_msg("%s not empty after sl_clear", tables[i]);
    }
    ingest_phase(f->db, &f->s, 0);
    ingest_phase(f->db, &f->s, 1);
    assert_int_equal(sl_open(f->path2, 0, &f->db2), SL_OK);
    ingest_phase(f->db2, &f->s, 0);
    ingest_phase(f->db2, &f->s, 1);
    snapshot(f->db, a);
    snapshot(f->db2, b);
    assert_same(b, a, "re-import after sl_clear vs a fresh warehouse");
    snapshot_free(a);
    snapshot_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_lists_every_derived_table),
        cmocka_unit_test_setup_teardown(test_clear_rebuild_equals_incremental, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_hour_matches_group_by, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sl_clear_then_reimport_equals_fresh, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
