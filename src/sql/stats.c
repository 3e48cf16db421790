/*
 * sql/stats.c -- spanlite's statistical SQL functions.  The sketch they
 * build and read is the C type of analysis/sketch.h; sql/functions.c
 * registers every function below from its table.
 *
 * This file owns eight SQL functions:
 *
 *   percentile(Y,P)       exact percentile, P in 0..100, linear interpolation
 *   percentile_cont(Y,F)  the same with a fraction F in 0..1
 *   median(Y)             percentile(Y,50)
 *   percentile_nr(Y,P)    nearest rank, as pct() of aggregate_workflows.py
 *   sketch(Y[,A])         aggregate -> BLOB: a DDSketch of relative accuracy A
 *   sketch_merge(B)       aggregate of sketches -> BLOB
 *   sketch_quantile(B,Q)  estimated quantile Q (0..1) of a sketch -> REAL
 *   sketch_count(B)       number of values in a sketch -> INTEGER
 *
 *   SELECT service, percentile(duration_ns, 99), percentile_nr(duration_ns, 99)
 *     FROM spans GROUP BY service;
 *   SELECT median(duration_ns) OVER (ORDER BY start_ns ROWS 99 PRECEDING)
 *     FROM spans;
 *   SELECT sketch_quantile(sketch_merge(sk), 0.99) FROM hourly_rollup;
 *
 * Requirements (the code cites them as "Requirement N"):
 *
 * Exact percentiles (after SQLite's ext/misc/percentile.c)
 *   (1) percentile, percentile_cont, median and percentile_nr are aggregate
 *       functions and also window functions: a frame may shrink, and each
 *       removed row takes one instance of its Y value out of the set.
 *   (2) P must be the same for every row of a group.  "Same" means differing
 *       by at most 0.001 on the 0..100 scale (0.00001 for F).  Otherwise:
 *       "2nd argument to NAME() is not the same for all input rows".
 *   (3) P must be a number (INTEGER, REAL, or text that SQLite reads as a
 *       number) between 0.0 and 100.0 inclusive, F between 0.0 and 1.0.
 *       Otherwise: "2nd argument to NAME() is not a number between 0.0 and
 *       100.0" (or "... and 1.0").
 *   (4) A Y that is neither NULL nor INTEGER nor REAL (TEXT, even '50', or a
 *       BLOB) raises "1st argument to NAME() is not numeric".
 *   (5) A Y of plus or minus infinity raises "Inf input to NAME()".  (SQLite
 *       stores NaN as NULL.)
 *   (6) NULL Y are ignored.  With no non-NULL Y the result is NULL.  This
 *       holds for percentile_nr too, although the script's pct() returns 0.0
 *       for an empty list: in SQL an empty set has no percentile, and
 *       coalesce(percentile_nr(Y,P), 0.0) gives the script's figure.
 *   (7) Interpolation (percentile, percentile_cont, median): with the N
 *       non-NULL Y sorted ascending as y[0..N-1], ix = P*(N-1)/100 (F*(N-1))
 *       and i = floor(ix), the result is y[i] + (y[i+1]-y[i])*(ix-i), or y[i]
 *       when ix is whole.  This is SQLite's percentile() and numpy's default
 *       "linear" method; ix is computed as SQLite computes it, P*(N-1)*0.01.
 *   (8) Nearest rank (percentile_nr): k = max(1, round(P/100.0*N)), where
 *       P/100.0*N is evaluated in IEEE double left to right, exactly as
 *       Python evaluates "p / 100.0 * len(arr)", and round() takes halves to
 *       the even neighbour as Python's does (P=50 of 5 values: 2.5 -> 2).
 *       The result is y[k-1].
 *   (9) The result is always REAL or NULL.
 *
 * Quantile sketch (DDSketch: Masson, Rim and Lee, VLDB 2019)
 *  (10) sketch(Y) and sketch(Y,A): A is the relative accuracy, 0.01 unless
 *       given; it must be a number between 0.0001 and 0.5 and exactly the
 *       same for every row of the group.  Y as in (4) and (5); NULL Y are
 *       ignored; with no non-NULL Y the result is NULL (not an empty sketch,
 *       whose A would be unknown and could make a later merge fail).
 *  (11)-(13) Buckets, collapsing and the error guarantee of the sketch:
 *       analysis/sketch.c.
 *  (14) Merging is exact (analysis/sketch.c): sketch_merge over any partition
 *       of a set of rows returns a BLOB byte-identical to sketch() over all
 *       of them.  Sketches of different A raise "sketch_merge() cannot merge
 *       sketches of different alpha (A1 and A2)".  NULL B are ignored;
 *       anything else that is not a sketch raises "1st argument to NAME() is
 *       not a sketch"; with no non-NULL B the result is NULL.
 *  (15) sketch_quantile(B,Q): Q a number between 0.0 and 1.0 (error as in
 *       (3)); NULL when B is NULL.  sketch_count(B): INTEGER n, NULL when B
 *       is NULL.
 *  (16) The BLOB's encoding, version 1: analysis/sketch.c.
 */
#include "sql/sql.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/sketch.h"
#include "base/buf.h"

/* ------------------------------------------------------------------------
 * Helpers shared by every function
 * ------------------------------------------------------------------------ */

enum { STATS_VALUE, STATS_NULL, STATS_ERROR };

static void statsError(sqlite3_context *ctx, const char *zFmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fail the SQL function with a formatted message. */
static void statsError(sqlite3_context *ctx, const char *zFmt, ...)
{
    va_list ap;
    va_start(ap, zFmt);
    char *z = sqlite3_vmprintf(zFmt, ap);
    va_end(ap);
    if (!z) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
}

/* Read a Y argument.  STATS_VALUE with *py set, STATS_NULL, or STATS_ERROR
 * with the error already set on ctx. */
static int statsReadY(sqlite3_context *ctx, const char *zFunc,
                      sqlite3_value *v, double *py)
{
    int eType = sqlite3_value_type(v);
    if (eType == SQLITE_NULL) return STATS_NULL; /* Requirement 6 */
    if (eType != SQLITE_INTEGER && eType != SQLITE_FLOAT) {
        statsError(ctx, "1st argument to %s() is not numeric", zFunc); /* Requirement 4 */
        return STATS_ERROR;
    }
    double y = sqlite3_value_double(v);
    if (isinf(y)) {
        statsError(ctx, "Inf input to %s()", zFunc); /* Requirement 5 */
        return STATS_ERROR;
    }
    *py = y;
    return STATS_VALUE;
}

/* Read the 2nd argument, a number in [lo, hi] (zRange spells the bounds for
 * the message).  0 with *pr set, or -1 with the error set on ctx. */
static int statsReadArg2(sqlite3_context *ctx, const char *zFunc,
                         sqlite3_value *v, double lo, double hi,
                         const char *zRange, double *pr)
{
    /* Requirement 3: as SQLite's percentile(), numeric text is a number. */
    int eType = sqlite3_value_numeric_type(v);
    double r = sqlite3_value_double(v);
    if ((eType != SQLITE_INTEGER && eType != SQLITE_FLOAT) || !(r >= lo && r <= hi)) {
        statsError(ctx, "2nd argument to %s() is not a number between %s", zFunc, zRange);
        return -1;
    }
    *pr = r;
    return 0;
}

/* ------------------------------------------------------------------------
 * Exact percentiles: percentile, percentile_cont, median, percentile_nr
 * ------------------------------------------------------------------------ */

enum { PCTL_INTERP, PCTL_NEAREST };

/* What distinguishes the four exact functions; the user data of each. */
struct sl_stats_pctl {
    const char *zName;  /* SQL name, for error messages */
    double rMaxP;       /* upper bound of P: 100.0, or 1.0 for a fraction */
    const char *zRange; /* the bounds of P as messages spell them */
    double rScale;      /* P*rScale is a fraction: 0.01 or 1.0 */
    int eMethod;        /* PCTL_INTERP or PCTL_NEAREST */
};
typedef sl_stats_pctl PctlFunc;

/* Aggregate context: every non-NULL Y of the group (or frame). */
typedef struct Pctl {
    double *a;       /* the values, malloc'ed */
    size_t nUsed;    /* values in a[] */
    size_t nAlloc;   /* slots allocated for a[] */
    double rP;       /* P of the first row (Requirement 2) */
    char bHasP;      /* rP is set */
    char bUnsorted;  /* a[] may be out of order */
    char bWindow;    /* used as a window function: keep a[] sorted on insert */
} Pctl;

static int cmpDouble(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* First i with a[i] >= y (bUpper: a[i] > y) in sorted a[0..n). */
static size_t searchSorted(const double *a, size_t n, double y, int bUpper)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < y || (bUpper && a[mid] == y)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void swapDouble(double *a, size_t i, size_t j)
{
    double t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static double median3(double x, double y, double z)
{
    if (x > y) { double t = x; x = y; y = t; }
    if (y > z) y = z;
    return x > y ? x : y;
}

/* Rearrange a[0..n) so that a[k] is its k-th smallest value, with nothing
 * larger before it and nothing smaller after it.  Quickselect with a
 * three-way partition (so runs of equal durations cost nothing) and a depth
 * budget after which it sorts, which bounds the worst case at n log n. */
static void selectNth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    int budget = 16;
    for (size_t m = n; m > 1; m >>= 1) budget += 2;
    while (hi - lo > 16) {
        if (budget-- == 0) break;
        double pivot = median3(a[lo], a[lo + (hi - lo) / 2], a[hi - 1]);
        size_t lt = lo, i = lo, gt = hi; /* [lo,lt) < pivot, [lt,i) ==, [gt,hi) > */
        while (i < gt) {
            if (a[i] < pivot) swapDouble(a, lt++, i++);
            else if (a[i] > pivot) swapDouble(a, i, --gt);
            else i++;
        }
        if (k < lt) hi = lt;
        else if (k >= gt) lo = gt;
        else return;
    }
    qsort(a + lo, hi - lo, sizeof *a, cmpDouble);
}

/* Make room for one more value. */
static int pctlReserve(Pctl *p)
{
    return sl_array_reserve(&p->a, &p->nAlloc, p->nUsed + 1, sizeof *p->a, 256) ? SQLITE_NOMEM
                                                                               : SQLITE_OK;
}

static int pctlAdd(Pctl *p, double y)
{
    if (pctlReserve(p) != SQLITE_OK) return SQLITE_NOMEM;
    if (p->bWindow && !p->bUnsorted) {
        /* A window recomputes after every row: an O(n) insert beats a sort. */
        size_t i = searchSorted(p->a, p->nUsed, y, 1);
        memmove(p->a + i + 1, p->a + i, (p->nUsed - i) * sizeof *p->a);
        p->a[i] = y;
    } else {
        if (p->nUsed > 0 && y < p->a[p->nUsed - 1]) p->bUnsorted = 1;
        p->a[p->nUsed] = y;
    }
    p->nUsed++;
    return SQLITE_OK;
}

static void pctlSort(Pctl *p)
{
    if (p->bUnsorted) qsort(p->a, p->nUsed, sizeof *p->a, cmpDouble);
    p->bUnsorted = 0;
    p->bWindow = 1;
}

/* Requirement 1: take one instance of y out of the set. */
static void pctlRemove(Pctl *p, double y)
{
    pctlSort(p);
    size_t i = searchSorted(p->a, p->nUsed, y, 0);
    if (i < p->nUsed && p->a[i] == y) {
        memmove(p->a + i, p->a + i + 1, (p->nUsed - i - 1) * sizeof *p->a);
        p->nUsed--;
    }
}

/* Put the value of rank k in a[k] with larger ones after it.  A final call
 * may select in linear time; a window keeps the array sorted instead. */
static void pctlOrder(Pctl *p, size_t k, int bFinal)
{
    if (!p->bUnsorted) return;
    if (bFinal) selectNth(p->a, p->nUsed, k);
    else pctlSort(p);
}

/* The value of rank k+1, once pctlOrder(p, k, ...) has run. */
static double pctlNextRank(const Pctl *p, size_t k)
{
    if (!p->bUnsorted) return p->a[k + 1];
    double v = p->a[k + 1];
    for (size_t i = k + 2; i < p->nUsed; i++)
        if (p->a[i] < v) v = p->a[i];
    return v;
}

/* Requirement 7. */
static double pctlInterp(Pctl *p, const PctlFunc *f, int bFinal)
{
    size_t n = p->nUsed;
    double ix = p->rP * (double)(n - 1) * f->rScale;
    size_t i1 = (size_t)ix;
    if (i1 >= n - 1) i1 = n - 1;
    pctlOrder(p, i1, bFinal);
    double v1 = p->a[i1];
    if (ix == (double)i1 || i1 == n - 1) return v1;
    double v2 = pctlNextRank(p, i1);
    return v1 + (v2 - v1) * (ix - (double)i1);
}

/* Python's round() of a non-negative double: halves go to the even side. */
static size_t roundHalfEven(double t)
{
    double fl = floor(t);
    double frac = t - fl; /* exact for t >= 0 */
    size_t k = (size_t)fl;
    if (frac > 0.5 || (frac == 0.5 && (k & 1))) k++;
    return k;
}

/* Requirement 8. */
static double pctlNearest(Pctl *p, int bFinal)
{
    size_t n = p->nUsed;
    double t = p->rP / 100.0 * (double)n; /* the script's p / 100.0 * len(arr) */
    size_t k = roundHalfEven(t);
    if (k < 1) k = 1;
    if (k > n) k = n; /* unreachable for P <= 100; keeps the index safe */
    pctlOrder(p, k - 1, bFinal);
    return p->a[k - 1];
}

/* Requirement 2. 0, or -1 with the error set. */
static int pctlSameP(sqlite3_context *ctx, const PctlFunc *f, Pctl *p, double rP)
{
    if (!p->bHasP) {
        p->rP = rP;
        p->bHasP = 1;
        return 0;
    }
    if (fabs(p->rP - rP) <= 0.001 * f->rMaxP / 100.0) return 0;
    statsError(ctx, "2nd argument to %s() is not the same for all input rows", f->zName);
    return -1;
}

void sl_stats_pctl_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const PctlFunc *f = sqlite3_user_data(ctx);
    double rP = 50.0; /* median(Y) is percentile(Y,50) */
    if (argc == 2 && statsReadArg2(ctx, f->zName, argv[1], 0.0, f->rMaxP, f->zRange, &rP) != 0)
        return;
    Pctl *p = sqlite3_aggregate_context(ctx, sizeof *p);
    if (!p) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (pctlSameP(ctx, f, p, rP) != 0) return;
    double y;
    if (statsReadY(ctx, f->zName, argv[0], &y) != STATS_VALUE) return;
    if (pctlAdd(p, y) != SQLITE_OK) sqlite3_result_error_nomem(ctx);
}

void sl_stats_pctl_inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int eType = sqlite3_value_type(argv[0]);
    /* Only numbers were added: any other Y failed its xStep (or was NULL). */
    if (eType != SQLITE_INTEGER && eType != SQLITE_FLOAT) return;
    Pctl *p = sqlite3_aggregate_context(ctx, sizeof *p);
    if (!p) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    pctlRemove(p, sqlite3_value_double(argv[0]));
}

static void pctlCompute(sqlite3_context *ctx, int bFinal)
{
    const PctlFunc *f = sqlite3_user_data(ctx);
    Pctl *p = sqlite3_aggregate_context(ctx, 0);
    if (!p || p->nUsed == 0) {
        sqlite3_result_null(ctx); /* Requirement 6 */
        return;
    }
    double v = f->eMethod == PCTL_NEAREST ? pctlNearest(p, bFinal) : pctlInterp(p, f, bFinal);
    sqlite3_result_double(ctx, v); /* Requirement 9 */
}

void sl_stats_pctl_value(sqlite3_context *ctx)
{
    pctlCompute(ctx, 0);
}

void sl_stats_pctl_final(sqlite3_context *ctx)
{
    pctlCompute(ctx, 1);
    Pctl *p = sqlite3_aggregate_context(ctx, 0);
    if (p) {
        free(p->a);
        memset(p, 0, sizeof *p);
    }
}

/* ------------------------------------------------------------------------
 * The quantile sketch, over analysis/sketch.h
 * ------------------------------------------------------------------------ */

/* Decode SQL argument v of zFunc into *out.  0, or -1 with the error set. */
static int skFromValue(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v, sl_sketch **out)
{
    int rc = SQLITE_CORRUPT;
    *out = NULL;
    if (sqlite3_value_type(v) == SQLITE_BLOB) {
        const void *p = sqlite3_value_blob(v);
        int n = sqlite3_value_bytes(v);
        if (p) rc = sl_sketch_decode(p, (size_t)n, out);
    }
    if (rc == SQLITE_OK) return 0;
    if (rc == SQLITE_NOMEM) sqlite3_result_error_nomem(ctx);
    else statsError(ctx, "1st argument to %s() is not a sketch", zFunc); /* Requirement 14 */
    return -1;
}

/* Aggregate context of sketch() and sketch_merge(). */
typedef struct SkAgg {
    sl_sketch *sk;  /* the sketch so far, once its alpha is known */
} SkAgg;

static SkAgg *skAggContext(sqlite3_context *ctx)
{
    SkAgg *g = sqlite3_aggregate_context(ctx, sizeof *g);
    if (!g) sqlite3_result_error_nomem(ctx);
    return g;
}

/* Requirement 10. */
void sl_stats_sketch_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double alpha = SL_SKETCH_DEFAULT_ALPHA;
    if (argc == 2 && statsReadArg2(ctx, "sketch", argv[1], SL_SKETCH_MIN_ALPHA, SL_SKETCH_MAX_ALPHA,
                                   "0.0001 and 0.5", &alpha) != 0)
        return;
    SkAgg *g = skAggContext(ctx);
    if (!g) return;
    if (!g->sk) {
        if (!(g->sk = sl_sketch_new_alpha(alpha))) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
    } else if (alpha != sl_sketch_alpha(g->sk)) {
        statsError(ctx, "2nd argument to sketch() is not the same for all input rows");
        return;
    }
    double y;
    if (statsReadY(ctx, "sketch", argv[0], &y) != STATS_VALUE) return;
    if (sl_sketch_add(g->sk, y) != SQLITE_OK) sqlite3_result_error_nomem(ctx);
}

/* Requirement 14. */
void sl_stats_sketch_merge_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    sl_sketch *in;
    if (skFromValue(ctx, "sketch_merge", argv[0], &in) != 0) return;
    SkAgg *g = skAggContext(ctx);
    if (g && !g->sk) {
        g->sk = in; /* ownership moves into the context */
        in = NULL;
    } else if (g && sl_sketch_alpha(in) != sl_sketch_alpha(g->sk)) {
        statsError(ctx, "sketch_merge() cannot merge sketches of different alpha (%g and %g)",
                   sl_sketch_alpha(g->sk), sl_sketch_alpha(in));
    } else if (g) {
        int rc = sl_sketch_merge(g->sk, in);
        if (rc == SQLITE_TOOBIG) statsError(ctx, "sketch_merge() result would hold more than 2^63-1 values");
        else if (rc != SQLITE_OK) sqlite3_result_error_nomem(ctx);
    }
    sl_sketch_free(in);
}

void sl_stats_sketch_final(sqlite3_context *ctx)
{
    SkAgg *g = sqlite3_aggregate_context(ctx, 0);
    if (!g || !g->sk) return; /* NULL */
    if (sl_sketch_count(g->sk) > 0) {
        size_t n;
        void *p = sl_sketch_encode(g->sk, &n);
        if (p) sqlite3_result_blob64(ctx, p, n, sqlite3_free);
        else sqlite3_result_error_nomem(ctx);
    }
    sl_sketch_free(g->sk);
    g->sk = NULL;
}

/* Requirement 15. */
void sl_stats_sketch_quantile(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    double q;
    if (statsReadArg2(ctx, "sketch_quantile", argv[1], 0.0, 1.0, "0.0 and 1.0", &q) != 0) return;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    sl_sketch *sk;
    if (skFromValue(ctx, "sketch_quantile", argv[0], &sk) != 0) return;
    sqlite3_result_double(ctx, sl_sketch_quantile(sk, q));
    sl_sketch_free(sk);
}

void sl_stats_sketch_count(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    sl_sketch *sk;
    if (skFromValue(ctx, "sketch_count", argv[0], &sk) != 0) return;
    sqlite3_result_int64(ctx, (sqlite3_int64)sl_sketch_count(sk));
    sl_sketch_free(sk);
}

/* The user data of each exact function (sql/functions.c's table). */
const sl_stats_pctl sl_stats_percentile = {"percentile", 100.0, "0.0 and 100.0", 0.01, PCTL_INTERP};
const sl_stats_pctl sl_stats_percentile_cont = {"percentile_cont", 1.0, "0.0 and 1.0", 1.0, PCTL_INTERP};
const sl_stats_pctl sl_stats_median = {"median", 100.0, "0.0 and 100.0", 0.01, PCTL_INTERP};
const sl_stats_pctl sl_stats_percentile_nr = {"percentile_nr", 100.0, "0.0 and 100.0", 0.01, PCTL_NEAREST};
