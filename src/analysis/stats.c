/*
 * analysis/stats.c -- spanlite's statistical SQL functions; see stats.h.
 *
 * This file owns eight SQL functions, registered by sl_stats_register():
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
 *  (11) Buckets: gamma = (1+A)/(1-A).  A value y with |y| >= DBL_MIN goes to
 *       bucket i = ceil(log(|y|)/log(gamma)) of the store for its sign, the
 *       bucket of magnitudes in (gamma^(i-1), gamma^i], which stands for the
 *       magnitude 2*gamma^i/(gamma+1).  |y| < DBL_MIN (0, -0.0 and
 *       subnormals) is counted in a separate zero bucket that stands for 0.
 *  (12) Each store (negative, positive) keeps at most SK_MAX_BUCKETS (2048)
 *       consecutive buckets.  A value that would widen a store beyond that
 *       makes it fold its lowest buckets (smallest magnitudes) into the
 *       lowest bucket it keeps, and the sketch records in its flags that the
 *       store collapsed.  With A = 0.01, 2048 buckets span a ratio of 6e17
 *       between the smallest and the largest magnitude (1 ns to 19 years),
 *       so durations do not collapse in practice.
 *  (13) The guarantee.  Of the n values of a sketch in ascending order,
 *       sketch_quantile(B,Q) estimates the value v of 0-based rank
 *       r = floor(Q*(n-1)) (the lower of the two ranks percentile_cont
 *       interpolates between).  Rank 0 and rank n-1 give the exact minimum
 *       and maximum.  Otherwise the estimate e satisfies |e - v| <= A*|v|
 *       whenever v lies above the collapsed range of its store (up to the
 *       rounding of log() for a v on a bucket boundary, about 1e-15
 *       relative); a v with |v| < DBL_MIN gives e = 0.  Estimates are
 *       clamped to [minimum, maximum], which never moves them away from v.
 *  (14) Merging is exact: bucket counts add, and what collapses depends only
 *       on the union's extreme buckets, so sketch_merge over any partition of
 *       a set of rows returns a BLOB byte-identical to sketch() over all of
 *       them.  Sketches of different A raise "sketch_merge() cannot merge
 *       sketches of different alpha (A1 and A2)".  NULL B are ignored;
 *       anything else that is not a sketch raises "1st argument to NAME() is
 *       not a sketch"; with no non-NULL B the result is NULL.
 *  (15) sketch_quantile(B,Q): Q a number between 0.0 and 1.0 (error as in
 *       (3)); NULL when B is NULL.  sketch_count(B): INTEGER n, NULL when B
 *       is NULL.
 *  (16) Encoding, version 1, all fields little-endian:
 *          0  4  magic "SLQS"
 *          4  1  version, 1
 *          5  1  flags: 1 = negative store collapsed, 2 = positive collapsed
 *          6  2  reserved, 0
 *          8  8  A, IEEE-754 double
 *         16  8  n, the number of values, u64, 1 to 2^63-1
 *         24  8  values in the zero bucket, u64
 *         32  8  minimum value, double
 *         40  8  maximum value, double
 *         48     the negative store (buckets of |y| for y < 0), then the
 *                positive store, each:
 *                  4  bucket index of the first count, i32
 *                  4  m, the number of counts (0..2048), u32
 *                     then the counts of the m consecutive buckets, each an
 *                     unsigned LEB128 varint, except that a run of empty
 *                     buckets is written as 0 followed by the run's length
 *                     (a varint >= 1); the first and last counts are non-zero
 *       Nothing follows.  n is the zero count plus every bucket count.
 *       Decoders reject any other version.
 */
#include "analysis/stats.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

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
typedef struct PctlFunc {
    const char *zName;  /* SQL name, for error messages */
    double rMaxP;       /* upper bound of P: 100.0, or 1.0 for a fraction */
    const char *zRange; /* the bounds of P as messages spell them */
    double rScale;      /* P*rScale is a fraction: 0.01 or 1.0 */
    int eMethod;        /* PCTL_INTERP or PCTL_NEAREST */
} PctlFunc;

/* Aggregate context: every non-NULL Y of the group (or frame). */
typedef struct Pctl {
    double *a;       /* the values, sqlite3_malloc'ed */
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
    if (p->nUsed < p->nAlloc) return SQLITE_OK;
    size_t n = p->nAlloc * 2 + 250;
    double *a = sqlite3_realloc64(p->a, (uint64_t)n * sizeof *a);
    if (!a) return SQLITE_NOMEM;
    p->a = a;
    p->nAlloc = n;
    return SQLITE_OK;
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

static void pctlStep(sqlite3_context *ctx, int argc, sqlite3_value **argv)
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

static void pctlInverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
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

static void pctlValue(sqlite3_context *ctx)
{
    pctlCompute(ctx, 0);
}

static void pctlFinal(sqlite3_context *ctx)
{
    pctlCompute(ctx, 1);
    Pctl *p = sqlite3_aggregate_context(ctx, 0);
    if (p) {
        sqlite3_free(p->a);
        memset(p, 0, sizeof *p);
    }
}

/* ------------------------------------------------------------------------
 * The quantile sketch
 * ------------------------------------------------------------------------ */

#define SK_MAX_BUCKETS 2048 /* per store, Requirement 12 */
#define SK_DEFAULT_ALPHA 0.01
#define SK_MIN_ALPHA 0.0001
#define SK_MAX_ALPHA 0.5
#define SK_VERSION 1
#define SK_HEADER 48       /* bytes before the stores */
#define SK_STORE_HEADER 8  /* bytes before a store's counts */
#define SK_FLAG_NEG_COLLAPSED 1
#define SK_FLAG_POS_COLLAPSED 2

/* Consecutive buckets of one sign. */
typedef struct SkStore {
    uint64_t *a; /* a[j] counts bucket lo+j; a[0], a[n-1] non-zero */
    int lo;            /* bucket index of a[0] */
    unsigned n;        /* buckets in use, at most SK_MAX_BUCKETS */
    unsigned nAlloc;   /* slots allocated for a[] */
    int bCollapsed;    /* buckets below lo were folded into a[0] */
} SkStore;

typedef struct Sketch {
    double alpha;          /* relative accuracy A */
    double lnGamma;        /* log(gamma), gamma = (1+A)/(1-A) */
    uint64_t nCount; /* values, the zero bucket included */
    uint64_t nZero;  /* values with |y| < DBL_MIN */
    double rMin, rMax;     /* exact extremes, valid when nCount > 0 */
    SkStore neg;           /* buckets of -y for y < 0 */
    SkStore pos;           /* buckets of y for y > 0 */
} Sketch;

static void skInit(Sketch *sk, double alpha)
{
    memset(sk, 0, sizeof *sk);
    sk->alpha = alpha;
    sk->lnGamma = log1p(2.0 * alpha / (1.0 - alpha));
}

static void skFree(Sketch *sk)
{
    sqlite3_free(sk->neg.a);
    sqlite3_free(sk->pos.a);
    memset(sk, 0, sizeof *sk);
}

static int skStoreReserve(SkStore *s, unsigned n)
{
    if (n <= s->nAlloc) return SQLITE_OK;
    unsigned nNew = s->nAlloc ? s->nAlloc * 2 : 16;
    if (nNew < n) nNew = n;
    if (nNew > SK_MAX_BUCKETS) nNew = SK_MAX_BUCKETS;
    uint64_t *a = sqlite3_realloc64(s->a, (uint64_t)nNew * sizeof *a);
    if (!a) return SQLITE_NOMEM;
    s->a = a;
    s->nAlloc = nNew;
    return SQLITE_OK;
}

/* Add empty buckets below the first, down to index newLo < lo. */
static int skStoreExtendFront(SkStore *s, int64_t newLo)
{
    unsigned shift = (unsigned)(s->lo - newLo);
    if (skStoreReserve(s, s->n + shift) != SQLITE_OK) return SQLITE_NOMEM;
    memmove(s->a + shift, s->a, s->n * sizeof *s->a);
    memset(s->a, 0, shift * sizeof *s->a);
    s->lo = (int)newLo;
    s->n += shift;
    return SQLITE_OK;
}

/* Add empty buckets above the last, up to index newHi. */
static int skStoreExtendBack(SkStore *s, int64_t newHi)
{
    unsigned add = (unsigned)(newHi - ((int64_t)s->lo + s->n - 1));
    if (skStoreReserve(s, s->n + add) != SQLITE_OK) return SQLITE_NOMEM;
    memset(s->a + s->n, 0, add * sizeof *s->a);
    s->n += add;
    return SQLITE_OK;
}

/* Requirement 12: fold every bucket below newLo (> lo) into bucket newLo. */
static void skStoreCollapseTo(SkStore *s, int64_t newLo)
{
    int64_t k = newLo - s->lo;
    uint64_t folded = 0;
    for (int64_t j = 0; j < k && j < (int64_t)s->n; j++) folded += s->a[j];
    if (k >= (int64_t)s->n) {
        s->a[0] = folded;
        s->n = 1;
    } else {
        s->a[k] += folded;
        memmove(s->a, s->a + k, (s->n - (size_t)k) * sizeof *s->a);
        s->n -= (unsigned)k;
    }
    s->lo = (int)newLo;
    s->bCollapsed = 1;
}

/* Count c (> 0) values in bucket idx. */
static int skStoreAdd(SkStore *s, int idx, uint64_t c)
{
    if (s->n == 0) {
        if (skStoreReserve(s, 1) != SQLITE_OK) return SQLITE_NOMEM;
        s->lo = idx;
        s->a[0] = c;
        s->n = 1;
        return SQLITE_OK;
    }
    int64_t lo = s->lo, hi = lo + s->n - 1;
    int rc = SQLITE_OK;
    if (idx < lo) {
        int64_t newLo = idx;
        if (hi - idx + 1 > SK_MAX_BUCKETS) {
            newLo = hi - SK_MAX_BUCKETS + 1; /* idx falls into the lowest kept bucket */
            s->bCollapsed = 1;
        }
        if (newLo < lo) rc = skStoreExtendFront(s, newLo);
    } else if (idx > hi) {
        if ((int64_t)idx - lo + 1 > SK_MAX_BUCKETS) skStoreCollapseTo(s, (int64_t)idx - SK_MAX_BUCKETS + 1);
        rc = skStoreExtendBack(s, idx);
    }
    if (rc != SQLITE_OK) return rc;
    int target = idx < s->lo ? s->lo : idx;
    s->a[target - s->lo] += c;
    return SQLITE_OK;
}

/* Requirement 11: count c instances of y. */
static int skAdd(Sketch *sk, double y, uint64_t c)
{
    if (sk->nCount == 0 || y < sk->rMin) sk->rMin = y;
    if (sk->nCount == 0 || y > sk->rMax) sk->rMax = y;
    sk->nCount += c;
    double m = fabs(y);
    if (m < DBL_MIN) {
        sk->nZero += c;
        return SQLITE_OK;
    }
    int idx = (int)ceil(log(m) / sk->lnGamma);
    return skStoreAdd(y > 0 ? &sk->pos : &sk->neg, idx, c);
}

static int skStoreMerge(SkStore *dst, const SkStore *src)
{
    for (unsigned j = 0; j < src->n; j++) {
        if (src->a[j] == 0) continue;
        int rc = skStoreAdd(dst, src->lo + (int)j, src->a[j]);
        if (rc != SQLITE_OK) return rc;
    }
    dst->bCollapsed |= src->bCollapsed;
    return SQLITE_OK;
}

/* Requirement 14: add src (of the same alpha) into dst. */
static int skMerge(Sketch *dst, const Sketch *src)
{
    if (src->nCount == 0) return SQLITE_OK;
    if (src->nCount > (uint64_t)INT64_MAX - dst->nCount) return SQLITE_TOOBIG; /* counts stay INTEGERs */
    if (dst->nCount == 0 || src->rMin < dst->rMin) dst->rMin = src->rMin;
    if (dst->nCount == 0 || src->rMax > dst->rMax) dst->rMax = src->rMax;
    dst->nCount += src->nCount;
    dst->nZero += src->nZero;
    int rc = skStoreMerge(&dst->neg, &src->neg);
    if (rc == SQLITE_OK) rc = skStoreMerge(&dst->pos, &src->pos);
    return rc;
}

/* Take one count out of bucket idx; 0 when it holds none (nothing done).
 * Empty edge buckets are trimmed so a[0] and a[n-1] stay non-zero. */
static int skStoreRemove(SkStore *s, int idx)
{
    if (s->n == 0) return 0;
    if (idx < s->lo && !s->bCollapsed) return 0;
    int64_t j = idx < s->lo ? 0 : (int64_t)idx - s->lo; /* collapsed: the lowest bucket */
    if (j >= (int64_t)s->n || s->a[j] == 0) return 0;
    s->a[j]--;
    unsigned k = 0;
    while (k < s->n && s->a[k] == 0) k++;
    if (k == s->n) {
        s->n = 0;
        return 1;
    }
    if (k) {
        memmove(s->a, s->a + k, (s->n - k) * sizeof *s->a);
        s->lo += (int)k;
        s->n -= k;
    }
    while (s->a[s->n - 1] == 0) s->n--;
    return 1;
}

static double skBucketValue(const Sketch *sk, int idx);

static int skIndex(const Sketch *sk, double m) { return (int)ceil(log(m) / sk->lnGamma); }

/* After a removal, an extreme outside the outermost non-empty bucket is
 * stale: it becomes that bucket's value, within the relative accuracy.
 * Bucket indexes decide, as they decided where values went.  (The low end
 * of a collapsed store holds smaller values legitimately: left alone.) */
static void skFixBounds(Sketch *sk)
{
    const SkStore *neg = &sk->neg, *pos = &sk->pos;
    double oldMin = sk->rMin;
    if (neg->n) {
        int hi = neg->lo + (int)neg->n - 1;
        if (sk->rMin < 0 && skIndex(sk, -sk->rMin) > hi) sk->rMin = -skBucketValue(sk, hi);
    } else if (sk->nZero) {
        if (sk->rMin < 0) sk->rMin = 0;
    } else if (pos->n && !pos->bCollapsed && (sk->rMin <= 0 || skIndex(sk, sk->rMin) < pos->lo)) {
        sk->rMin = skBucketValue(sk, pos->lo);
    }
    if (pos->n) {
        int hi = pos->lo + (int)pos->n - 1;
        if (sk->rMax > 0 && skIndex(sk, sk->rMax) > hi) sk->rMax = skBucketValue(sk, hi);
    } else if (sk->nZero) {
        if (sk->rMax > 0) sk->rMax = 0;
    } else if (neg->n && !neg->bCollapsed && (sk->rMax >= 0 || skIndex(sk, -sk->rMax) < neg->lo)) {
        sk->rMax = -skBucketValue(sk, neg->lo);
    }
    /* Both ends in one bucket: a representative may pass the exact other end. */
    if (sk->rMin > sk->rMax) {
        if (sk->rMin != oldMin) sk->rMin = sk->rMax;
        else sk->rMax = sk->rMin;
    }
}

/* Take back one instance of y that was added before (rollups retract the
 * old links of a trace that grew).  Counts stay exact; stale extremes are
 * replaced by bucket values (skFixBounds), so they keep the sketch's
 * relative accuracy instead of being exact. */
static void skRemove(Sketch *sk, double y)
{
    double m = fabs(y);
    int removed;
    if (sk->nCount == 0) return;
    if (m < DBL_MIN) {
        removed = sk->nZero > 0;
        sk->nZero -= (uint64_t)removed;
    } else {
        removed = skStoreRemove(y > 0 ? &sk->pos : &sk->neg, skIndex(sk, m));
    }
    sk->nCount -= (uint64_t)removed;
    if (removed && sk->nCount) skFixBounds(sk);
}

/* The magnitude bucket idx stands for (Requirement 11). */
static double skBucketValue(const Sketch *sk, int idx)
{
    double gamma = (1.0 + sk->alpha) / (1.0 - sk->alpha);
    return 2.0 * exp((double)idx * sk->lnGamma) / (gamma + 1.0);
}

static double skClamp(const Sketch *sk, double v)
{
    return v < sk->rMin ? sk->rMin : v > sk->rMax ? sk->rMax : v;
}

static double skValueAtRank(const Sketch *sk, uint64_t r);

/* Requirement 13: estimate the value of rank floor(q*(n-1)). */
static double skQuantile(const Sketch *sk, double q)
{
    uint64_t n = sk->nCount;
    double rank = floor(q * (double)(n - 1));
    return skValueAtRank(sk, rank >= (double)(n - 1) ? n - 1 : (uint64_t)rank);
}

/* Estimate of the value of 0-based rank r (< nCount). */
static double skValueAtRank(const Sketch *sk, uint64_t r)
{
    uint64_t n = sk->nCount;
    if (r == 0) return sk->rMin;
    if (r >= n - 1) return sk->rMax;
    uint64_t cum = 0;
    for (unsigned j = sk->neg.n; j-- > 0;) { /* most negative first */
        cum += sk->neg.a[j];
        if (cum > r) return skClamp(sk, -skBucketValue(sk, sk->neg.lo + (int)j));
    }
    cum += sk->nZero;
    if (cum > r) return skClamp(sk, 0.0);
    for (unsigned j = 0; j < sk->pos.n; j++) {
        cum += sk->pos.a[j];
        if (cum > r) return skClamp(sk, skBucketValue(sk, sk->pos.lo + (int)j));
    }
    return sk->rMax;
}

/* ---- encoding (Requirement 16) ---- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void putDouble(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put64(p, v);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static double getDouble(const unsigned char *p)
{
    uint64_t v = get64(p);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* Unsigned LEB128; returns the bytes written (p may be NULL to measure). */
static size_t putVarint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        if (v) b |= 0x80;
        if (p) p[n] = b;
        n++;
    } while (v);
    return n;
}

/* Read a varint from p[0..end).  Bytes read, or 0 if malformed. */
static size_t getVarint(const unsigned char *p, const unsigned char *end, uint64_t *pv)
{
    uint64_t v = 0;
    for (size_t n = 0; n < 10 && p + n < end; n++) {
        uint64_t b = p[n] & 0x7f;
        if (n == 9 && b > 1) return 0; /* beyond 64 bits */
        v |= b << (7 * n);
        if (!(p[n] & 0x80)) {
            *pv = v;
            return n + 1;
        }
    }
    return 0;
}

/* Write a store at p (NULL: only measure it); returns its size.  Runs of
 * empty buckets become a 0 and the run's length (Requirement 16). */
static size_t skStoreEncode(const SkStore *s, unsigned char *p)
{
    if (p) {
        put32(p, (uint32_t)s->lo);
        put32(p + 4, s->n);
    }
    size_t n = SK_STORE_HEADER;
    for (unsigned j = 0; j < s->n;) {
        n += putVarint(p ? p + n : NULL, s->a[j]);
        if (s->a[j] != 0) {
            j++;
            continue;
        }
        unsigned run = 1;
        while (j + run < s->n && s->a[j + run] == 0) run++;
        n += putVarint(p ? p + n : NULL, run);
        j += run;
    }
    return n;
}

/* The BLOB of sk (nCount > 0), sqlite3_malloc'ed; NULL on OOM. */
static unsigned char *skEncode(const Sketch *sk, size_t *pn)
{
    size_t n = SK_HEADER + skStoreEncode(&sk->neg, NULL) + skStoreEncode(&sk->pos, NULL);
    unsigned char *p = sqlite3_malloc64(n);
    if (!p) return NULL;
    memcpy(p, "SLQS", 4);
    p[4] = SK_VERSION;
    p[5] = (unsigned char)((sk->neg.bCollapsed ? SK_FLAG_NEG_COLLAPSED : 0) |
                           (sk->pos.bCollapsed ? SK_FLAG_POS_COLLAPSED : 0));
    p[6] = p[7] = 0;
    putDouble(p + 8, sk->alpha);
    put64(p + 16, sk->nCount);
    put64(p + 24, sk->nZero);
    putDouble(p + 32, sk->rMin);
    putDouble(p + 40, sk->rMax);
    size_t off = SK_HEADER;
    off += skStoreEncode(&sk->neg, p + off);
    skStoreEncode(&sk->pos, p + off);
    *pn = n;
    return p;
}

/* Decode one store from *pp; adds its counts to *pSum.  SQLITE_OK,
 * SQLITE_NOMEM, or SQLITE_CORRUPT. */
static int skStoreDecode(SkStore *s, const unsigned char **pp, const unsigned char *end,
                         uint64_t *pSum)
{
    const unsigned char *p = *pp;
    if (end - p < SK_STORE_HEADER) return SQLITE_CORRUPT;
    int32_t lo = (int32_t)get32(p);
    uint32_t n = get32(p + 4);
    p += SK_STORE_HEADER;
    if (n > SK_MAX_BUCKETS || (int64_t)lo + n - 1 > INT32_MAX) return SQLITE_CORRUPT;
    if (n > 0 && skStoreReserve(s, n) != SQLITE_OK) return SQLITE_NOMEM;
    for (uint32_t j = 0; j < n;) {
        uint64_t c, run = 1;
        size_t len = getVarint(p, end, &c);
        if (len == 0) return SQLITE_CORRUPT;
        p += len;
        if (c == 0) { /* a run of empty buckets */
            len = getVarint(p, end, &run);
            if (len == 0 || run == 0 || run > n - j) return SQLITE_CORRUPT;
            p += len;
        }
        if (*pSum + c < *pSum) return SQLITE_CORRUPT;
        *pSum += c;
        for (uint64_t r = 0; r < run; r++) s->a[j++] = c;
    }
    if (n > 0 && (s->a[0] == 0 || s->a[n - 1] == 0)) return SQLITE_CORRUPT;
    s->lo = lo;
    s->n = n;
    *pp = p;
    return SQLITE_OK;
}

/* Decode a BLOB into sk (free it with skFree() whatever the result).
 * SQLITE_OK, SQLITE_NOMEM, or SQLITE_CORRUPT for anything not a sketch. */
static int skDecode(const unsigned char *p, size_t n, Sketch *sk)
{
    memset(sk, 0, sizeof *sk);
    if (n < SK_HEADER || memcmp(p, "SLQS", 4) != 0 || p[4] != SK_VERSION) return SQLITE_CORRUPT;
    if ((p[5] & ~(SK_FLAG_NEG_COLLAPSED | SK_FLAG_POS_COLLAPSED)) || p[6] || p[7]) return SQLITE_CORRUPT;
    double alpha = getDouble(p + 8);
    if (!(alpha >= SK_MIN_ALPHA && alpha <= SK_MAX_ALPHA)) return SQLITE_CORRUPT;
    skInit(sk, alpha);
    sk->nCount = get64(p + 16);
    sk->nZero = get64(p + 24);
    sk->rMin = getDouble(p + 32);
    sk->rMax = getDouble(p + 40);
    if (sk->nCount == 0 || sk->nCount > (uint64_t)INT64_MAX || !isfinite(sk->rMin) || !isfinite(sk->rMax) || sk->rMin > sk->rMax)
        return SQLITE_CORRUPT;
    const unsigned char *q = p + SK_HEADER, *end = p + n;
    uint64_t sum = sk->nZero;
    int rc = skStoreDecode(&sk->neg, &q, end, &sum);
    if (rc == SQLITE_OK) rc = skStoreDecode(&sk->pos, &q, end, &sum);
    if (rc == SQLITE_OK && (q != end || sum != sk->nCount)) rc = SQLITE_CORRUPT;
    sk->neg.bCollapsed = (p[5] & SK_FLAG_NEG_COLLAPSED) != 0;
    sk->pos.bCollapsed = (p[5] & SK_FLAG_POS_COLLAPSED) != 0;
    return rc;
}

/* Decode SQL argument v of zFunc.  0, or -1 with the error set (sk is
 * freed then). */
static int skFromValue(sqlite3_context *ctx, const char *zFunc, sqlite3_value *v, Sketch *sk)
{
    int rc = SQLITE_CORRUPT;
    memset(sk, 0, sizeof *sk);
    if (sqlite3_value_type(v) == SQLITE_BLOB) {
        const unsigned char *p = sqlite3_value_blob(v);
        int n = sqlite3_value_bytes(v);
        rc = p ? skDecode(p, (size_t)n, sk) : SQLITE_CORRUPT;
    }
    if (rc == SQLITE_OK) return 0;
    skFree(sk);
    if (rc == SQLITE_NOMEM) sqlite3_result_error_nomem(ctx);
    else statsError(ctx, "1st argument to %s() is not a sketch", zFunc);
    return -1;
}

/* Aggregate context of sketch() and sketch_merge(). */
typedef struct SkAgg {
    Sketch sk;  /* the sketch so far */
    int bInit;  /* sk has its alpha */
} SkAgg;

static SkAgg *skAggContext(sqlite3_context *ctx)
{
    SkAgg *g = sqlite3_aggregate_context(ctx, sizeof *g);
    if (!g) sqlite3_result_error_nomem(ctx);
    return g;
}

/* Requirement 10. */
static void sketchStep(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double alpha = SK_DEFAULT_ALPHA;
    if (argc == 2 && statsReadArg2(ctx, "sketch", argv[1], SK_MIN_ALPHA, SK_MAX_ALPHA,
                                   "0.0001 and 0.5", &alpha) != 0)
        return;
    SkAgg *g = skAggContext(ctx);
    if (!g) return;
    if (!g->bInit) {
        skInit(&g->sk, alpha);
        g->bInit = 1;
    } else if (alpha != g->sk.alpha) {
        statsError(ctx, "2nd argument to sketch() is not the same for all input rows");
        return;
    }
    double y;
    if (statsReadY(ctx, "sketch", argv[0], &y) != STATS_VALUE) return;
    if (skAdd(&g->sk, y, 1) != SQLITE_OK) sqlite3_result_error_nomem(ctx);
}

/* Requirement 14. */
static void sketchMergeStep(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    Sketch in;
    if (skFromValue(ctx, "sketch_merge", argv[0], &in) != 0) return;
    SkAgg *g = skAggContext(ctx);
    if (!g) {
        skFree(&in);
        return;
    }
    if (!g->bInit) {
        g->sk = in; /* ownership moves into the context */
        g->bInit = 1;
        return;
    }
    if (in.alpha != g->sk.alpha) {
        statsError(ctx, "sketch_merge() cannot merge sketches of different alpha (%g and %g)",
                   g->sk.alpha, in.alpha);
    } else {
        int rc = skMerge(&g->sk, &in);
        if (rc == SQLITE_TOOBIG) statsError(ctx, "sketch_merge() result would hold more than 2^63-1 values");
        else if (rc != SQLITE_OK) sqlite3_result_error_nomem(ctx);
    }
    skFree(&in);
}

static void sketchFinal(sqlite3_context *ctx)
{
    SkAgg *g = sqlite3_aggregate_context(ctx, 0);
    if (!g || !g->bInit) return; /* NULL */
    if (g->sk.nCount > 0) {
        size_t n;
        unsigned char *p = skEncode(&g->sk, &n);
        if (p) sqlite3_result_blob64(ctx, p, n, sqlite3_free);
        else sqlite3_result_error_nomem(ctx);
    }
    skFree(&g->sk);
    g->bInit = 0;
}

/* Requirement 15. */
static void sketchQuantileFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    double q;
    if (statsReadArg2(ctx, "sketch_quantile", argv[1], 0.0, 1.0, "0.0 and 1.0", &q) != 0) return;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    Sketch sk;
    if (skFromValue(ctx, "sketch_quantile", argv[0], &sk) != 0) return;
    sqlite3_result_double(ctx, skQuantile(&sk, q));
    skFree(&sk);
}

static void sketchCountFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    Sketch sk;
    if (skFromValue(ctx, "sketch_count", argv[0], &sk) != 0) return;
    sqlite3_result_int64(ctx, (sqlite3_int64)sk.nCount);
    skFree(&sk);
}

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------ */

static const PctlFunc pctlPercentile = {"percentile", 100.0, "0.0 and 100.0", 0.01, PCTL_INTERP};
static const PctlFunc pctlCont = {"percentile_cont", 1.0, "0.0 and 1.0", 1.0, PCTL_INTERP};
static const PctlFunc pctlMedian = {"median", 100.0, "0.0 and 100.0", 0.01, PCTL_INTERP};
static const PctlFunc pctlNr = {"percentile_nr", 100.0, "0.0 and 100.0", 0.01, PCTL_NEAREST};

typedef void (*StatsArgsFn)(sqlite3_context *, int, sqlite3_value **);
typedef void (*StatsCtxFn)(sqlite3_context *);

/* One SQL function; window functions have xValue and xInverse. */
typedef struct StatsEntry {
    const char *zName;
    int nArg;
    const void *pUser;   /* sqlite3_user_data() of the function */
    StatsArgsFn xFunc;   /* scalar functions */
    StatsArgsFn xStep;   /* aggregates */
    StatsCtxFn xFinal;
    StatsCtxFn xValue;   /* window functions */
    StatsArgsFn xInverse;
} StatsEntry;

static const StatsEntry statsEntries[] = {
    {"percentile", 2, &pctlPercentile, NULL, pctlStep, pctlFinal, pctlValue, pctlInverse},
    {"percentile_cont", 2, &pctlCont, NULL, pctlStep, pctlFinal, pctlValue, pctlInverse},
    {"median", 1, &pctlMedian, NULL, pctlStep, pctlFinal, pctlValue, pctlInverse},
    {"percentile_nr", 2, &pctlNr, NULL, pctlStep, pctlFinal, pctlValue, pctlInverse},
    {"sketch", 1, NULL, NULL, sketchStep, sketchFinal, NULL, NULL},
    {"sketch", 2, NULL, NULL, sketchStep, sketchFinal, NULL, NULL},
    {"sketch_merge", 1, NULL, NULL, sketchMergeStep, sketchFinal, NULL, NULL},
    {"sketch_quantile", 2, NULL, sketchQuantileFunc, NULL, NULL, NULL, NULL},
    {"sketch_count", 1, NULL, sketchCountFunc, NULL, NULL, NULL, NULL},
};

static int statsCreate(sqlite3 *db, const StatsEntry *e)
{
    int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC;
    void *pUser = (void *)e->pUser; /* SQLite only hands it back */
    if (e->xValue)
        return sqlite3_create_window_function(db, e->zName, e->nArg, flags, pUser, e->xStep,
                                              e->xFinal, e->xValue, e->xInverse, NULL);
    return sqlite3_create_function(db, e->zName, e->nArg, flags, pUser, e->xFunc, e->xStep,
                                   e->xFinal);
}

int sl_stats_register(sqlite3 *db)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof statsEntries / sizeof statsEntries[0]; i++)
        rc = statsCreate(db, &statsEntries[i]);
    return rc;
}

/* ------------------------------------------------------------------------
 * C interface to the sketch, for rollups maintained at ingest (store/writer.c)
 * ------------------------------------------------------------------------ */

struct sl_sketch {
    Sketch sk;
};

sl_sketch *sl_sketch_new(void)
{
    sl_sketch *s = sqlite3_malloc64(sizeof *s);
    if (s) skInit(&s->sk, SK_DEFAULT_ALPHA);
    return s;
}

void sl_sketch_free(sl_sketch *s)
{
    if (!s) return;
    skFree(&s->sk);
    sqlite3_free(s);
}

int sl_sketch_add(sl_sketch *s, double v)
{
    return isfinite(v) ? skAdd(&s->sk, v, 1) : SQLITE_MISMATCH;
}

int sl_sketch_merge_blob(sl_sketch *s, const void *blob, size_t n)
{
    Sketch other;
    int rc = skDecode(blob, n, &other);
    if (rc == SQLITE_OK && other.alpha != s->sk.alpha) rc = SQLITE_MISMATCH;
    if (rc == SQLITE_OK) rc = skMerge(&s->sk, &other);
    skFree(&other);
    return rc;
}

int sl_sketch_merge(sl_sketch *dst, const sl_sketch *src)
{
    return skMerge(&dst->sk, &src->sk);
}

void sl_sketch_remove(sl_sketch *s, double v)
{
    if (isfinite(v)) skRemove(&s->sk, v);
}

int sl_sketch_blob_percentile(const void *blob, size_t n, double p, double *out)
{
    Sketch sk;
    int rc = skDecode(blob, n, &sk);
    if (rc != SQLITE_OK) return rc;
    if (sk.nCount == 0) {
        skFree(&sk);
        return SQLITE_EMPTY;
    }
    double idx = p / 100.0 * (double)(sk.nCount - 1);
    uint64_t lo = (uint64_t)idx;
    double frac = idx - (double)lo;
    *out = skValueAtRank(&sk, lo);
    if (frac > 0 && lo + 1 < sk.nCount) *out += frac * (skValueAtRank(&sk, lo + 1) - *out);
    skFree(&sk);
    return SQLITE_OK;
}

uint64_t sl_sketch_count(const sl_sketch *s)
{
    return s->sk.nCount;
}

void *sl_sketch_encode(const sl_sketch *s, size_t *n)
{
    return s->sk.nCount ? skEncode(&s->sk, n) : NULL;
}
