/*
 * analysis/sketch.c -- the quantile sketch (DDSketch); see sketch.h.
 *
 * Requirements (numbered as in the SQL functions' list, sql/stats.c, which
 * holds (1)-(10) and (15); the code cites them as "Requirement N"):
 *
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
 *  (13) The guarantee.  Of the n values of a sketch in ascending order
 *       v[0..n-1], the estimate of rank r is the value its bucket stands for
 *       (rank 0 and rank n-1: the exact minimum and maximum), and satisfies
 *       |e[r] - v[r]| <= A*|v[r]| whenever v[r] lies above the collapsed
 *       range of its store (up to the rounding of log() for a value on a
 *       bucket boundary, about 1e-15 relative); a v[r] with |v[r]| < DBL_MIN
 *       gives e[r] = 0.  Estimates are clamped to [minimum, maximum], which
 *       never moves them away from v[r].  sketch_quantile(B,Q) answers as
 *       percentile_cont() does (sql/stats.c, Requirement 7), on the
 *       estimates: with ix = Q*(n-1) and i = floor(ix), e[i] +
 *       (e[i+1]-e[i])*(ix-i), or e[i] when ix is whole; the percentile P of
 *       sl_sketch_blob_percentile() is the same with ix = P*(n-1)*0.01.  So
 *       the answer x' and the exact interpolation x = v[i] +
 *       (v[i+1]-v[i])*(ix-i) satisfy, with f = ix-i,
 *           |x' - x| <= (1-f)*A*|v[i]| + f*A*|v[i+1]|,
 *       which is A*|x| when v[i] and v[i+1] have the same sign (durations:
 *       both >= 0): for n = 1 and 2 as for any n, and exact at Q = 0 and 1.
 *       (Before this rule sketch_quantile() answered e[floor(ix)]: 10 for
 *       the p99 of {10, 100}, where percentile() says 99.1.)
 *  (14) Merging is exact: bucket counts add, and what collapses depends only
 *       on the union's extreme buckets, so merging the sketches of any
 *       partition of a set of values gives a sketch whose encoding is
 *       byte-identical to that of the sketch of all of them.  (The SQL
 *       errors of sketch_merge() are in sql/stats.c.)
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
 *
 * Memory: the sketch and its buckets come from malloc(); encodings from
 * sqlite3_malloc64(), for the SQLite calls they are handed to.
 */
#include "analysis/sketch.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/buf.h"

/* ------------------------------------------------------------------------
 * The quantile sketch
 * ------------------------------------------------------------------------ */

#define SK_MAX_BUCKETS 2048 /* per store, Requirement 12 */
#define SK_DEFAULT_ALPHA SL_SKETCH_DEFAULT_ALPHA
#define SK_MIN_ALPHA SL_SKETCH_MIN_ALPHA
#define SK_MAX_ALPHA SL_SKETCH_MAX_ALPHA
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
    size_t nAlloc;     /* slots allocated for a[] */
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
    free(sk->neg.a);
    free(sk->pos.a);
    memset(sk, 0, sizeof *sk);
}

static int skStoreReserve(SkStore *s, unsigned n)
{
    /* Doubling from 16 reaches SK_MAX_BUCKETS (a power of two) exactly and
     * n never exceeds it, so a store holds at most 2048 slots. */
    return sl_array_reserve(&s->a, &s->nAlloc, n, sizeof *s->a, 16) ? SQLITE_NOMEM : SQLITE_OK;
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

/* Requirement 13: the estimate at fractional rank ix (0 <= ix <= n-1),
 * interpolated between the estimates of ranks floor(ix) and floor(ix)+1 as
 * percentile() interpolates exact values (sql/stats.c, Requirement 7).  The
 * one definition behind sketch_quantile() and sl_sketch_blob_percentile(). */
static double skAtFractionalRank(const Sketch *sk, double ix)
{
    uint64_t n = sk->nCount;
    if (!(ix > 0)) return skValueAtRank(sk, 0);
    if (ix >= (double)(n - 1)) return skValueAtRank(sk, n - 1);
    uint64_t i = (uint64_t)ix;
    double lo = skValueAtRank(sk, i);
    double frac = ix - (double)i;
    if (frac == 0.0) return lo;
    return lo + (skValueAtRank(sk, i + 1) - lo) * frac;
}

/* Quantile q (0..1): fractional rank q*(n-1). */
static double skQuantile(const Sketch *sk, double q)
{
    return skAtFractionalRank(sk, q * (double)(sk->nCount - 1));
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


/* ------------------------------------------------------------------------
 * C interface to the sketch, for rollups maintained at ingest (store/writer.c)
 * ------------------------------------------------------------------------ */

struct sl_sketch {
    Sketch sk;
};

sl_sketch *sl_sketch_new_alpha(double alpha)
{
    sl_sketch *s = malloc(sizeof *s);
    if (s) skInit(&s->sk, alpha);
    return s;
}

sl_sketch *sl_sketch_new(void) { return sl_sketch_new_alpha(SK_DEFAULT_ALPHA); }

void sl_sketch_free(sl_sketch *s)
{
    if (!s) return;
    skFree(&s->sk);
    free(s);
}

int sl_sketch_add(sl_sketch *s, double v)
{
    return isfinite(v) ? skAdd(&s->sk, v, 1) : SQLITE_MISMATCH;
}

void sl_sketch_remove(sl_sketch *s, double v)
{
    if (isfinite(v)) skRemove(&s->sk, v);
}

int sl_sketch_merge(sl_sketch *dst, const sl_sketch *src)
{
    return skMerge(&dst->sk, &src->sk);
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

uint64_t sl_sketch_count(const sl_sketch *s) { return s->sk.nCount; }

double sl_sketch_alpha(const sl_sketch *s) { return s->sk.alpha; }

double sl_sketch_quantile(const sl_sketch *s, double q) { return skQuantile(&s->sk, q); }

int sl_sketch_blob_percentile(const void *blob, size_t n, double p, double *out)
{
    Sketch sk;
    int rc = skDecode(blob, n, &sk);
    if (rc == SQLITE_OK && sk.nCount == 0) rc = SQLITE_EMPTY;
    /* ix as percentile() computes it: P*(N-1)*0.01 */
    if (rc == SQLITE_OK) *out = skAtFractionalRank(&sk, p * (double)(sk.nCount - 1) * 0.01);
    skFree(&sk);
    return rc;
}

void *sl_sketch_encode(const sl_sketch *s, size_t *n)
{
    return s->sk.nCount ? skEncode(&s->sk, n) : NULL;
}

int sl_sketch_decode(const void *blob, size_t n, sl_sketch **out)
{
    *out = NULL;
    sl_sketch *s = malloc(sizeof *s);
    if (!s) return SQLITE_NOMEM;
    int rc = blob ? skDecode(blob, n, &s->sk) : SQLITE_CORRUPT;
    if (rc == SQLITE_OK) *out = s;
    else if (blob) sl_sketch_free(s);
    else free(s);
    return rc;
}
