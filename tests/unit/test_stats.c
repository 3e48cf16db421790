/*
 * test_stats.c -- the statistical SQL functions of sql/stats.c, through SQL on an
 * in-memory database.
 *
 * Golden values: SQLite's own test/percentile.test (percentile-1.x and the
 * median window cases percentile-3.x), and hand-worked examples whose
 * arithmetic is spelled out next to them.  The nearest-rank cases follow
 * Python's round() (half to even), as the user's aggregate_workflows.py
 * uses it: e.g. python3 -c 'print(round(50/100.0*5))' prints 2.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "analysis/sketch.h"
#include "sql/functions.h"

#define TOL 1e-9

/* ---- helpers ---- */

static int setup_db(void **state)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return -1;
    if (sl_analysis_register(db) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    *state = db;
    return 0;
}

static int teardown_db(void **state)
{
    sqlite3_close(*state);
    return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
}

/* Run a one-row, one-column query; returns the column's type and sets *out
 * for a number.  Fails the test on an SQL error. */
static int query_num(sqlite3 *db, const char *sql, double *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) fail_msg("step %s: %s", sql, sqlite3_errmsg(db));
    int type = sqlite3_column_type(st, 0);
    *out = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return type;
}

static double query_real(sqlite3 *db, const char *sql)
{
    double v;
    int type = query_num(db, sql, &v);
    if (type != SQLITE_FLOAT) fail_msg("%s: type %d, wanted REAL", sql, type);
    return v;
}

static void expect_real(sqlite3 *db, const char *sql, double want)
{
    double got = query_real(db, sql);
    if (fabs(got - want) > TOL * (1.0 + fabs(want))) fail_msg("%s: got %.17g, wanted %.17g", sql, got, want);
}

static void expect_null(sqlite3 *db, const char *sql)
{
    double v;
    int type = query_num(db, sql, &v);
    if (type != SQLITE_NULL) fail_msg("%s: type %d, wanted NULL", sql, type);
}

static void expect_int(sqlite3 *db, const char *sql, long long want)
{
    double v;
    int type = query_num(db, sql, &v);
    if (type != SQLITE_INTEGER || (long long)v != want)
        fail_msg("%s: type %d value %g, wanted INTEGER %lld", sql, type, v, want);
}

/* The statement must fail with exactly this message. */
static void expect_error(sqlite3 *db, const char *sql, const char *msg)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc == SQLITE_OK) fail_msg("%s: succeeded, wanted error '%s'", sql, msg);
    if (!err || strcmp(err, msg) != 0) fail_msg("%s: error '%s', wanted '%s'", sql, err ? err : "(none)", msg);
    sqlite3_free(err);
}

static void expect_text(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("step %s: %s", sql, sqlite3_errmsg(db));
    const char *got = (const char *)sqlite3_column_text(st, 0);
    if (!got || strcmp(got, want) != 0) fail_msg("%s: got '%s', wanted '%s'", sql, got ? got : "NULL", want);
    sqlite3_finalize(st);
}

/* SQLite's test/percentile.test table t1. */
static void make_t1(sqlite3 *db)
{
    exec_ok(db, "CREATE TABLE t1(x); INSERT INTO t1 VALUES(1),(4),(6),(7),(8),(9),(11),(11),(11);");
}

/* ---- percentile, percentile_cont, median ---- */

static void test_percentile_sqlite_cases(void **state)
{
    sqlite3 *db = *state;
    make_t1(db);
    static const struct { const char *p, *f; double want; } cases[] = {
        {"0", "0", 1.0},     {"100", "1.0", 11.0}, {"50", "0.5", 8.0},  {"12.5", "0.125", 4.0},
        {"15", "0.15", 4.4}, {"20", "0.2", 5.2},   {"80", "0.8", 11.0}, {"89", "0.89", 11.0},
    };
    char sql[128];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            snprintf(sql, sizeof sql, "SELECT percentile(x,%s) FROM t1", cases[i].p);
            expect_real(db, sql, cases[i].want);
            snprintf(sql, sizeof sql, "SELECT percentile_cont(x,%s) FROM t1", cases[i].f);
            expect_real(db, sql, cases[i].want);
        }
        expect_real(db, "SELECT median(x) FROM t1", 8.0);
        /* percentile-1.2: NULLs change nothing. */
        exec_ok(db, "INSERT INTO t1 VALUES(NULL),(NULL)");
    }
    /* percentile-1.4: P may wobble by less than 0.001. */
    expect_real(db, "SELECT round(percentile(x, 15+0.000001*rowid),1) FROM t1", 4.4);
}

static void test_percentile_hand_worked(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE t(x); INSERT INTO t VALUES(4),(2),(3),(1);");
    /* ix = 25*(4-1)/100 = 0.75: 1 + (2-1)*0.75 */
    expect_real(db, "SELECT percentile(x,25) FROM t", 1.75);
    expect_real(db, "SELECT percentile_cont(x,0.25) FROM t", 1.75);
    /* ix = 1.5: 2 + 0.5 */
    expect_real(db, "SELECT median(x) FROM t", 2.5);
    /* ix = 0.9*3 = 2.7: 3 + 0.7 */
    expect_real(db, "SELECT percentile(x,90) FROM t", 3.7);
    /* one value: that value, as a REAL */
    expect_real(db, "SELECT percentile(x,37) FROM t WHERE x=3", 3.0);
    /* negative and mixed integer/real values: -5,-1,0.5 at 50 -> -1 */
    expect_real(db, "SELECT median(v) FROM (SELECT -5 AS v UNION ALL SELECT 0.5 UNION ALL SELECT -1)", -1.0);
}

static void test_percentile_empty_and_nulls(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE t(x); INSERT INTO t VALUES(NULL),(NULL);");
    expect_null(db, "SELECT percentile(x,50) FROM t");
    expect_null(db, "SELECT percentile_cont(x,0.5) FROM t");
    expect_null(db, "SELECT median(x) FROM t");
    expect_null(db, "SELECT percentile_nr(x,50) FROM t");
    expect_null(db, "SELECT percentile(x,50) FROM t WHERE 0");
    expect_null(db, "SELECT percentile_nr(x,50) FROM t WHERE 0");
    expect_real(db, "SELECT coalesce(percentile_nr(x,50), 0.0) FROM t", 0.0);
    exec_ok(db, "INSERT INTO t VALUES(7)");
    expect_real(db, "SELECT percentile(x,0) FROM t", 7.0);
    expect_real(db, "SELECT percentile_nr(x,100) FROM t", 7.0);
}

static void test_percentile_errors(void **state)
{
    sqlite3 *db = *state;
    make_t1(db);
    const char *range = "2nd argument to percentile() is not a number between 0.0 and 100.0";
    expect_error(db, "SELECT percentile(x,null) FROM t1", range);
    expect_error(db, "SELECT percentile(x,'fifty') FROM t1", range);
    expect_error(db, "SELECT percentile(x,x'3530') FROM t1", range);
    expect_error(db, "SELECT percentile(x,-0.0000001) FROM t1", range);
    expect_error(db, "SELECT percentile(x,100.0000001) FROM t1", range);
    expect_error(db, "SELECT percentile_cont(x,1.0000001) FROM t1",
                 "2nd argument to percentile_cont() is not a number between 0.0 and 1.0");
    expect_error(db, "SELECT percentile_cont(x,x'3530') FROM t1",
                 "2nd argument to percentile_cont() is not a number between 0.0 and 1.0");
    expect_error(db, "SELECT percentile_nr(x,101) FROM t1",
                 "2nd argument to percentile_nr() is not a number between 0.0 and 100.0");
    expect_error(db, "SELECT percentile(x, 15+0.1*rowid) FROM t1",
                 "2nd argument to percentile() is not the same for all input rows");
    expect_error(db, "SELECT percentile_nr(x, rowid) FROM t1",
                 "2nd argument to percentile_nr() is not the same for all input rows");
    expect_error(db, "SELECT percentile(x,1,2) FROM t1", "wrong number of arguments to function percentile()");
    exec_ok(db, "INSERT INTO t1 VALUES('50')");
    expect_error(db, "SELECT percentile(x,50) FROM t1", "1st argument to percentile() is not numeric");
    expect_error(db, "SELECT median(x) FROM t1", "1st argument to median() is not numeric");
    expect_error(db, "SELECT percentile_nr(x,50) FROM t1", "1st argument to percentile_nr() is not numeric");
    exec_ok(db, "UPDATE t1 SET x=1.0e300*1.0e300 WHERE x='50'");
    expect_error(db, "SELECT percentile(x,50) FROM t1", "Inf input to percentile()");
    exec_ok(db, "UPDATE t1 SET x=-x WHERE x>1e308");
    expect_error(db, "SELECT percentile_cont(x,0.5) FROM t1", "Inf input to percentile_cont()");
}

/* SQLite's percentile-3.1..3.3: median() as a window function. */
static void test_median_window_sqlite_cases(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE t1(a INTEGER PRIMARY KEY, b, c, d);"
                "INSERT INTO t1 VALUES (1,'A','one',8.4),(2,'B','two',7.1),(3,'C','three',5.9),"
                "(4,'D','one',11.0),(5,'E','two',12.5),(6,'F','three',0.0),(7,'G','one',2.7);");
    static const char *frames[3] = {
        "ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
        "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 FOLLOWING",
        "ROWS BETWEEN 1 PRECEDING AND UNBOUNDED FOLLOWING",
    };
    static const double want[3][7] = {
        {9.7, 8.4, 5.9, 2.7, 5.9, 7.1, 9.8},
        {9.7, 8.4, 7.15, 5.9, 6.5, 7.1, 7.1},
        {7.1, 7.1, 6.5, 5.9, 6.5, 7.1, 9.8},
    };
    for (int w = 0; w < 3; w++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT median(d) OVER (ORDER BY c, a %s) FROM t1 ORDER BY c, a", frames[w]);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        for (int i = 0; i < 7; i++) {
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            double got = sqlite3_column_double(st, 0);
            if (fabs(got - want[w][i]) > 1e-9) fail_msg("%s row %d: got %.17g wanted %g", frames[w], i, got, want[w][i]);
        }
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
    }
}

/* Sliding frames with duplicates, checked against a hand-worked table. */
static void test_window_frames(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE w(i INTEGER PRIMARY KEY, v);"
                "INSERT INTO w(v) VALUES (5),(1),(5),(NULL),(3),(9),(1);");
    /* Frame of 3 rows ending at the current one (non-NULL values):
     *   i=1 {5}        nr50: k=max(1,round(0.5))=1 -> 5   pct50: 5
     *   i=2 {5,1}      k=round(1.0)=1 -> 1                1+(5-1)*0.5 = 3
     *   i=3 {5,1,5}    k=round(1.5)=2 -> 5                sorted 1,5,5: 5
     *   i=4 {1,5}      k=1 -> 1                           3
     *   i=5 {5,3}      k=1 -> 3                           4
     *   i=6 {3,9}      k=1 -> 3                           6
     *   i=7 {3,9,1}    k=2 -> 3                           sorted 1,3,9: 3 */
    static const double nr[7] = {5, 1, 5, 1, 3, 3, 3};
    static const double lin[7] = {5, 3, 5, 3, 4, 6, 3};
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT percentile_nr(v,50) OVER f, percentile(v,50) OVER f,"
                                        " percentile_cont(v,0.5) OVER f FROM w"
                                        " WINDOW f AS (ORDER BY i ROWS 2 PRECEDING) ORDER BY i",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_true(fabs(sqlite3_column_double(st, 0) - nr[i]) < 1e-12);
        assert_true(fabs(sqlite3_column_double(st, 1) - lin[i]) < 1e-12);
        assert_true(fabs(sqlite3_column_double(st, 2) - lin[i]) < 1e-12);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    /* A frame holding only NULLs gives NULL. */
    expect_null(db, "SELECT median(v) OVER (ORDER BY i ROWS BETWEEN CURRENT ROW AND CURRENT ROW)"
                    " FROM w WHERE i=4");
    /* Partitions: one percentile per group. */
    expect_real(db, "SELECT max(m) FROM (SELECT percentile(v,100) OVER (PARTITION BY i%2) AS m FROM w)", 9.0);
}

/* ---- percentile_nr ---- */

static void test_percentile_nr_rounding(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE f(x); INSERT INTO f VALUES (50),(10),(40),(20),(30);"
                "CREATE TABLE ten(x); INSERT INTO ten SELECT value FROM"
                " (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value+1 FROM c WHERE value<10)"
                "  SELECT value FROM c);");
    /* 5 values 10..50:  p/100*5 -> round half even -> k -> arr[k-1] */
    expect_real(db, "SELECT percentile_nr(x,50) FROM f", 20.0);  /* 2.5 -> 2 */
    expect_real(db, "SELECT percentile_nr(x,90) FROM f", 40.0);  /* 4.5 -> 4 */
    expect_real(db, "SELECT percentile_nr(x,70) FROM f", 40.0);  /* 3.5 -> 4 */
    expect_real(db, "SELECT percentile_nr(x,30) FROM f", 20.0);  /* 1.5 -> 2 */
    expect_real(db, "SELECT percentile_nr(x,10) FROM f", 10.0);  /* 0.5 -> 0 -> max(1,0) = 1 */
    expect_real(db, "SELECT percentile_nr(x,0) FROM f", 10.0);   /* 0 -> 1 */
    expect_real(db, "SELECT percentile_nr(x,100) FROM f", 50.0); /* 5 */
    expect_real(db, "SELECT percentile_nr(x,61) FROM f", 30.0);  /* 3.05 -> 3 */
    /* 10 values 1..10 */
    expect_real(db, "SELECT percentile_nr(x,25) FROM ten", 2.0);  /* 2.5 -> 2 */
    expect_real(db, "SELECT percentile_nr(x,75) FROM ten", 8.0);  /* 7.5 -> 8 */
    expect_real(db, "SELECT percentile_nr(x,95) FROM ten", 10.0); /* 9.5 -> 10 */
    expect_real(db, "SELECT percentile_nr(x,35) FROM ten", 4.0);  /* 3.5 -> 4 */
    expect_real(db, "SELECT percentile_nr(x,'50') FROM ten", 5.0); /* numeric text P, as percentile() */
}

/* ---- sketch ---- */

static void test_sketch_zero_and_negative(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE s(x); INSERT INTO s VALUES (-100),(-1),(0),(0.0),(1),(100),(NULL);"
                "CREATE TABLE sk AS SELECT sketch(x) AS b FROM s;");
    expect_int(db, "SELECT sketch_count(b) FROM sk", 6);
    /* fractional rank ix = q*5: 0 -> min exactly, 5 -> max exactly */
    expect_real(db, "SELECT sketch_quantile(b, 0) FROM sk", -100.0);
    expect_real(db, "SELECT sketch_quantile(b, 1) FROM sk", 100.0);
    expect_real(db, "SELECT sketch_quantile(b, 0.4) FROM sk", 0.0); /* ix=2: 0 */
    /* ix=3.5: halfway between 0 (exact) and 1 (within 1%): 0.5 within 0.5*0.01 */
    double v = query_real(db, "SELECT sketch_quantile(b, 0.7) FROM sk");
    assert_true(fabs(v - 0.5) <= 0.5 * 0.01 + 1e-12);
    v = query_real(db, "SELECT sketch_quantile(b, 0.2) FROM sk"); /* ix=1: -1 */
    assert_true(fabs(v - -1.0) <= 0.01 * 1.0 + 1e-12);
    v = query_real(db, "SELECT sketch_quantile(b, 0.8) FROM sk"); /* ix=4: 1 */
    assert_true(fabs(v - 1.0) <= 0.01 * 1.0 + 1e-12);
    /* ix=0.5 between -100 (exact minimum) and -1: -50.5 within 0.5*0.01*1 */
    v = query_real(db, "SELECT sketch_quantile(b, 0.1) FROM sk");
    assert_true(fabs(v - -50.5) <= 0.5 * 0.01 * 1.0 + 1e-12);
    /* header: magic, version 1, no collapse, alpha 0.01 */
    expect_text(db, "SELECT hex(substr(b,1,8)) FROM sk", "534C515301000000");
    /* python3 -c "import struct; print(struct.pack('<d', 0.01).hex())" */
    expect_text(db, "SELECT hex(substr(b,9,8)) FROM sk", "7B14AE47E17A843F");
    /* sparse buckets cost a run: 1 is bucket 0, 1e12 bucket ceil(27.631/0.0200007) =
     * 1382; 48 header + 8 empty negative store + 8 + counts 1, (0, run 1381 in
     * 2 bytes), 1 = 69 bytes */
    expect_int(db, "SELECT length(sketch(x)) FROM (SELECT 1 AS x UNION ALL SELECT 1e12)", 69);
    expect_real(db, "SELECT sketch_quantile(sketch(x), 1) FROM (SELECT 1 AS x UNION ALL SELECT 1e12)", 1e12);
    /* all negative: -3,-2,-1 at q=0.5 is -2 within 1% */
    v = query_real(db, "SELECT sketch_quantile(sketch(-x), 0.5) FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3)");
    assert_true(fabs(v - -2.0) <= 0.02 + 1e-12);
}

static void test_sketch_guarantee(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE n(x); INSERT INTO n SELECT value FROM"
                " (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value+1 FROM c WHERE value<1000)"
                "  SELECT value FROM c);");
    static const double alphas[] = {0.01, 0.05, 0.002}; /* 0.002: 2048 buckets span 3600x, no collapse */
    for (size_t a = 0; a < 3; a++) {
        char sql[160];
        snprintf(sql, sizeof sql, "CREATE TABLE g AS SELECT sketch(x, %g) AS b FROM n", alphas[a]);
        exec_ok(db, sql);
        for (int i = 0; i <= 100; i++) {
            double q = i / 100.0;
            /* values 1..1000: percentile_cont(q) interpolates to q*999+1 */
            double want = q * 999.0 + 1.0;
            snprintf(sql, sizeof sql, "SELECT sketch_quantile(b, %.17g) FROM g", q);
            double got = query_real(db, sql);
            if (fabs(got - want) > alphas[a] * want * (1 + 1e-12))
                fail_msg("alpha %g q %g: got %.17g, true %g", alphas[a], q, got, want);
        }
        exec_ok(db, "DROP TABLE g");
    }
}

static void test_sketch_merge(void **state)
{
    sqlite3 *db = *state;
    /* values spread over 7 orders of magnitude, both signs, zeros */
    exec_ok(db, "CREATE TABLE m(grp, x); INSERT INTO m SELECT value % 7,"
                " CASE WHEN value % 11 = 0 THEN 0 WHEN value % 5 = 0 THEN -value*3.7 ELSE value*value*1.3 END FROM"
                " (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value+1 FROM c WHERE value<3000)"
                "  SELECT value FROM c);");
    expect_text(db, "SELECT (SELECT sketch(x) FROM m) = "
                    "(SELECT sketch_merge(b) FROM (SELECT sketch(x) AS b FROM m GROUP BY grp))", "1");
    /* NULL sketches (empty groups) are skipped by the merge */
    expect_text(db, "SELECT (SELECT sketch(x) FROM m) = (SELECT sketch_merge(b) FROM"
                    " (SELECT sketch(CASE WHEN grp=3 THEN NULL ELSE x END) AS b FROM m GROUP BY grp"
                    "  UNION ALL SELECT sketch(x) FROM m WHERE grp=3))", "1");
    expect_int(db, "SELECT sketch_count(sketch_merge(b)) FROM (SELECT sketch(x) AS b FROM m GROUP BY grp)", 3000);
    expect_null(db, "SELECT sketch_merge(NULL)");
    expect_null(db, "SELECT sketch(NULL)");
    expect_null(db, "SELECT sketch_quantile(NULL, 0.5)");
    expect_null(db, "SELECT sketch_count(NULL)");
    /* collapsed stores (alpha 0.0001: 2048 buckets span only 1.5x) merge exactly too */
    expect_text(db, "SELECT (SELECT sketch(abs(x)+1, 0.0001) FROM m) = (SELECT sketch_merge(b) FROM"
                    " (SELECT sketch(abs(x)+1, 0.0001) AS b FROM m GROUP BY grp))", "1");
    expect_text(db, "SELECT hex(substr(sketch(abs(x)+1, 0.0001),6,1)) FROM m", "02");
    /* above the collapsed range the guarantee holds: the maximum's rank area */
    double hi = query_real(db, "SELECT sketch_quantile(sketch(abs(x)+1, 0.0001), 0.999) FROM m");
    double exact = query_real(db, "SELECT abs(x)+1.0 FROM m ORDER BY abs(x) LIMIT 1 OFFSET 2996");
    assert_true(fabs(hi - exact) <= 0.0001 * exact * (1 + 1e-12));
    expect_int(db, "SELECT sketch_count(sketch(abs(x)+1, 0.0001)) FROM m", 3000);
    expect_real(db, "SELECT sketch_quantile(sketch(abs(x)+1, 0.0001), 0) FROM m", 1.0);
}

/* The C API used by the link rollups: removal keeps the guarantee for what
 * remains, and the interpolated percentile follows percentile()'s rule. */
static void test_sketch_remove_and_percentile(void **state)
{
    (void)state;
    sl_sketch *s = sl_sketch_new();
    assert_non_null(s);
    for (int v = 1; v <= 1000; v++) assert_int_equal(sl_sketch_add(s, v), SQLITE_OK);
    for (int v = 1; v <= 500; v++) sl_sketch_remove(s, v); /* the minimum goes too */
    sl_sketch_remove(s, 5000.0);                          /* never added: ignored */
    assert_int_equal(sl_sketch_count(s), 500);
    size_t n = 0;
    void *blob = sl_sketch_encode(s, &n);
    assert_non_null(blob);
    for (int i = 0; i <= 100; i++) {
        /* 501..1000 remain: percentile() would interpolate rank i/100*499 */
        double idx = i / 100.0 * 499.0, want = 501.0 + idx, got = 0;
        assert_int_equal(sl_sketch_blob_percentile(blob, n, i, &got), SQLITE_OK);
        if (fabs(got - want) > 0.01 * want * (1 + 1e-12))
            fail_msg("p%d after removals: got %.17g, true %g", i, got, want);
    }
    sqlite3_free(blob);
    /* remove everything: empty */
    for (int v = 501; v <= 1000; v++) sl_sketch_remove(s, v);
    assert_int_equal(sl_sketch_count(s), 0);
    assert_null(sl_sketch_encode(s, &n));
    /* 10 and 1000: p50 interpolates halfway (505), each end within 1% */
    assert_int_equal(sl_sketch_add(s, 10), SQLITE_OK);
    assert_int_equal(sl_sketch_add(s, 1000), SQLITE_OK);
    blob = sl_sketch_encode(s, &n);
    double got = 0;
    assert_int_equal(sl_sketch_blob_percentile(blob, n, 50, &got), SQLITE_OK);
    assert_true(fabs(got - 505.0) <= 0.01 * 505.0);
    sqlite3_free(blob);
    sl_sketch_free(s);
    /* Removing both extremes around a value leaves one bucket; the sketch
     * must still encode validly (rMin <= rMax) and say 100 within 1%. */
    s = sl_sketch_new();
    sl_sketch *back = sl_sketch_new();
    assert_true(s && back);
    for (int i = 0; i < 3; i++) assert_int_equal(sl_sketch_add(s, (double[]){1, 100, 100.2}[i]), SQLITE_OK);
    sl_sketch_remove(s, 1);
    sl_sketch_remove(s, 100.2);
    blob = sl_sketch_encode(s, &n);
    assert_non_null(blob);
    assert_int_equal(sl_sketch_merge_blob(back, blob, n), SQLITE_OK);
    assert_int_equal(sl_sketch_count(back), 1);
    assert_int_equal(sl_sketch_blob_percentile(blob, n, 50, &got), SQLITE_OK);
    assert_true(fabs(got - 100.0) <= 1.0);
    sqlite3_free(blob);
    sl_sketch_free(back);
    sl_sketch_free(s);
}

/* Take sketch() of 1,2,3, set byte off to val, and expect sketch_count() to
 * reject it. */
static void expect_bad_sketch(sqlite3 *db, int off, unsigned char val)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sketch(x) FROM e", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_bytes(st, 0);
    unsigned char blob[256];
    assert_true(n > off && n <= (int)sizeof blob);
    memcpy(blob, sqlite3_column_blob(st, 0), (size_t)n);
    sqlite3_finalize(st);
    blob[off] = val;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sketch_count(?)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, n, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ERROR);
    assert_string_equal(sqlite3_errmsg(db), "1st argument to sketch_count() is not a sketch");
    sqlite3_finalize(st);
    /* the unmodified sketch says 3 */
    expect_int(db, "SELECT sketch_count(sketch(x)) FROM e", 3);
}

static void test_sketch_errors(void **state)
{
    sqlite3 *db = *state;
    exec_ok(db, "CREATE TABLE e(x); INSERT INTO e VALUES (1),(2),(3);");
    expect_error(db, "SELECT sketch_merge(b) FROM (SELECT sketch(x, 0.01) AS b FROM e"
                     " UNION ALL SELECT sketch(x, 0.02) FROM e)",
                 "sketch_merge() cannot merge sketches of different alpha (0.01 and 0.02)");
    expect_error(db, "SELECT sketch(x, 0.6) FROM e", "2nd argument to sketch() is not a number between 0.0001 and 0.5");
    expect_error(db, "SELECT sketch(x, 0) FROM e", "2nd argument to sketch() is not a number between 0.0001 and 0.5");
    expect_error(db, "SELECT sketch(x, 0.01*x) FROM e", "2nd argument to sketch() is not the same for all input rows");
    expect_error(db, "SELECT sketch('a')", "1st argument to sketch() is not numeric");
    expect_error(db, "SELECT sketch(1e300*1e300)", "Inf input to sketch()");
    expect_error(db, "SELECT sketch_merge(x'00')", "1st argument to sketch_merge() is not a sketch");
    expect_error(db, "SELECT sketch_merge('text')", "1st argument to sketch_merge() is not a sketch");
    expect_error(db, "SELECT sketch_count(x'534C5153')", "1st argument to sketch_count() is not a sketch");
    /* a truncated sketch is not a sketch */
    expect_error(db, "SELECT sketch_quantile(substr(sketch(x),1,length(sketch(x))-1), 0.5) FROM e",
                 "1st argument to sketch_quantile() is not a sketch");
    /* another version, or a count that disagrees with the buckets, is not a sketch */
    expect_bad_sketch(db, 4, 2);
    expect_bad_sketch(db, 16, 4);
    expect_error(db, "SELECT sketch_quantile(sketch(x), 1.5) FROM e",
                 "2nd argument to sketch_quantile() is not a number between 0.0 and 1.0");
    expect_error(db, "SELECT sketch_quantile(sketch(x), NULL) FROM e",
                 "2nd argument to sketch_quantile() is not a number between 0.0 and 1.0");
}

/* A hand-built sketch (docs/sql-stats.md, "Encoding") of 2^63-1 values of 1.0:
 * bucket 0 holds them all. */
static void test_sketch_hand_built(void **state)
{
    sqlite3 *db = *state;
    unsigned char b[48 + 8 + 8 + 9] = {'S', 'L', 'Q', 'S', 1, 0, 0, 0};
    const double alpha = 0.01, one = 1.0;
    memcpy(b + 8, &alpha, 8); /* the test host is little-endian (x86-64) */
    uint64_t n = INT64_MAX;
    memcpy(b + 16, &n, 8);
    memcpy(b + 32, &one, 8);
    memcpy(b + 40, &one, 8);
    /* negative store: lo 0, m 0; positive store: lo 0, m 1, varint 2^63-1 */
    b[48 + 8 + 4] = 1;
    memset(b + 64, 0xff, 8);
    b[72] = 0x7f;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sketch_count(?1), sketch_quantile(?1, 1), sketch_quantile(?1, 0.5),"
                                            " sketch_merge(?1) = ?1", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, b, sizeof b, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int64(st, 0) == INT64_MAX);
    assert_true(sqlite3_column_double(st, 1) == 1.0);
    assert_true(sqlite3_column_double(st, 2) == 1.0); /* clamped to [min, max] */
    assert_int_equal(sqlite3_column_int(st, 3), 1);     /* re-encoding gives the same bytes */
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sketch_merge(b) FROM (SELECT ?1 AS b UNION ALL SELECT ?1)",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, b, sizeof b, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ERROR);
    assert_string_equal(sqlite3_errmsg(db), "sketch_merge() result would hold more than 2^63-1 values");
    sqlite3_finalize(st);
}

/* sql/functions.h's list of families is what sl_analysis_register()
 * registers: every function and module it names exists afterwards (with
 * the argument counts the docs give), and nothing else of spanlite's. */
static void test_registers_every_family(void **state)
{
    sqlite3 *db = *state;
    double n = 0;
    assert_int_equal(query_num(db,
        "SELECT count(*) FROM (SELECT DISTINCT name, narg FROM pragma_function_list WHERE"
        " (name, narg) IN (VALUES ('percentile', 2), ('percentile_cont', 2), ('median', 1),"
        "  ('percentile_nr', 2), ('sketch', 1), ('sketch', 2), ('sketch_merge', 1),"
        "  ('sketch_quantile', 2), ('sketch_count', 1), ('link_rollup_rebuild', 0),"
        "  ('trace_index_rebuild', 0)))", &n), SQLITE_INTEGER);
    assert_int_equal((int)n, 11);
    assert_int_equal(query_num(db,
        "SELECT count(*) FROM pragma_module_list"
        " WHERE name IN ('critical_path', 'dependencies', 'wf_events')", &n), SQLITE_INTEGER);
    assert_int_equal((int)n, 3);
    /* the statistics are usable from views and indexes, the rebuilds not */
    assert_int_equal(query_num(db,
        "SELECT count(*) FROM pragma_function_list WHERE name = 'percentile' AND flags & 0x800"
        " AND flags & 0x200000", &n), SQLITE_INTEGER);
    assert_true(n >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers_every_family, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_percentile_sqlite_cases, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_percentile_hand_worked, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_percentile_empty_and_nulls, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_percentile_errors, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_median_window_sqlite_cases, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_window_frames, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_percentile_nr_rounding, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_sketch_zero_and_negative, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_sketch_guarantee, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_sketch_merge, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_sketch_errors, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_sketch_hand_built, setup_db, teardown_db),
        cmocka_unit_test(test_sketch_remove_and_percentile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
