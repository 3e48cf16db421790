/*
 * workflow/report.c -- aggregate_workflows.py's report from stored events;
 * see workflow_report.h for the contract.  The script's code is quoted
 * where a rule comes from it.
 */
#include "workflow/report.h"
#include "workflow/dict.h"
#include "base/buf.h"
#include "base/pyvalue.h"
#include "base/map.h"
#include "workflow/segment.h"
#include "base/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TOP_KEPT 10 /* self._max_slowest_kept */

enum { K_OTHER, K_TXN_OPEN, K_TXN_CLOSE, K_STEP_OPEN, K_STEP_DONE, K_WAIT };

/* ==== arithmetic ==== */

size_t sl_wfreport_rank(double p, size_t n)
{
    /* k = max(1, int(round(p / 100.0 * len(arr)))); round() ties to even */
    double x = p / 100.0 * (double)n;
    double r = floor(x), frac = x - r;
    if (frac > 0.5 || (frac == 0.5 && fmod(r, 2.0) != 0.0)) r += 1.0;
    return r < 1.0 ? 1 : (size_t)r;
}

/* Big integers for exact sums: magnitude in 64-bit limbs, little endian. */
#define BIG_LIMBS 44
typedef struct big {
    uint64_t l[BIG_LIMBS];
    int neg;
} big;

static int big_bitlen(const big *b)
{
    for (int i = BIG_LIMBS - 1; i >= 0; i--)
        if (b->l[i]) return i * 64 + (64 - __builtin_clzll(b->l[i]));
    return 0;
}

static int big_bit(const big *b, int i) { return (int)((b->l[i / 64] >> (i % 64)) & 1); }

/* Any of bits [0, i) set. */
static int big_any_below(const big *b, int i)
{
    for (int j = 0; j < i / 64; j++)
        if (b->l[j]) return 1;
    return i % 64 && (b->l[i / 64] & ((1ULL << (i % 64)) - 1));
}

static void big_shl(big *b, int k)
{
    if (k <= 0) return;
    int w = k / 64, s = k % 64;
    for (int i = BIG_LIMBS - 1; i >= 0; i--) {
        uint64_t v = i - w >= 0 ? b->l[i - w] << s : 0;
        if (s && i - w - 1 >= 0) v |= b->l[i - w - 1] >> (64 - s);
        b->l[i] = v;
    }
}

/* b /= d; returns the remainder. */
static uint64_t big_divmod(big *b, uint64_t d)
{
    unsigned __int128 r = 0;
    for (int i = BIG_LIMBS - 1; i >= 0; i--) {
        unsigned __int128 cur = (r << 64) | b->l[i];
        b->l[i] = (uint64_t)(cur / d);
        r = cur % d;
    }
    return (uint64_t)r;
}

/* The double nearest to (b * 2^scale) / d, ties to even. */
static double big_div_round(big b, int scale, uint64_t d)
{
    int L = big_bitlen(&b);
    if (L == 0) return 0.0;
    int nb = 64 - __builtin_clzll(d);
    int k = 55 + nb - L;
    if (k < 0) k = 0;
    big_shl(&b, k);
    int sticky = big_divmod(&b, d) != 0;
    int B = big_bitlen(&b);
    int drop = B - 53;
    uint64_t m = 0;
    for (int i = B - 1; i >= drop; i--) m = (m << 1) | (uint64_t)big_bit(&b, i);
    int guard = big_bit(&b, drop - 1);
    int rest = sticky || big_any_below(&b, drop - 1);
    if (guard && (rest || (m & 1))) {
        m++;
        if (m == (1ULL << 53)) {
            m >>= 1;
            drop++;
        }
    }
    double v = ldexp((double)m, drop - k + scale);
    return b.neg ? -v : v;
}

double sl_wfreport_mean_i64(const int64_t *v, size_t n)
{
    if (n == 0) return NAN;
    __int128 s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    big b;
    memset(&b, 0, sizeof b);
    b.neg = s < 0;
    unsigned __int128 m = b.neg ? (unsigned __int128)(-(s + 1)) + 1 : (unsigned __int128)s;
    b.l[0] = (uint64_t)m;
    b.l[1] = (uint64_t)(m >> 64);
    return big_div_round(b, 0, n);
}

/*
 * Exact sum of doubles: a fixed-point integer in units of 2^-1074 kept as
 * 32-bit digits in int64 cells, so an addition touches three cells and
 * carries are settled only every 2^30 additions.
 */
#define ACC_CELLS (BIG_LIMBS * 2)
typedef struct acc {
    int64_t c[ACC_CELLS];
    size_t pending;
} acc;

static void acc_settle(acc *a)
{
    for (int i = 0; i < ACC_CELLS - 1; i++) {
        int64_t carry = a->c[i] >> 32; /* arithmetic: floor division by 2^32 */
        a->c[i] -= carry * ((int64_t)1 << 32);
        a->c[i + 1] += carry;
    }
    a->pending = 0;
}

static void acc_add(acc *a, double x)
{
    if (x == 0) return;
    int e;
    double f = frexp(fabs(x), &e);
    uint64_t m = (uint64_t)ldexp(f, 53);
    e -= 53;
    while (e < -1074) {
        m >>= 1;
        e++;
    }
    int pos = e + 1074;
    int cell = pos / 32, sh = pos % 32;
    unsigned __int128 v = (unsigned __int128)m << sh;
    int64_t sign = x < 0 ? -1 : 1;
    a->c[cell] += sign * (int64_t)(uint64_t)(v & 0xFFFFFFFFu);
    a->c[cell + 1] += sign * (int64_t)(uint64_t)((v >> 32) & 0xFFFFFFFFu);
    a->c[cell + 2] += sign * (int64_t)(uint64_t)(v >> 64);
    if (++a->pending >= (1u << 30)) acc_settle(a);
}

static void acc_to_big(acc *a, big *b)
{
    acc_settle(a);
    memset(b, 0, sizeof *b);
    b->neg = a->c[ACC_CELLS - 1] < 0;
    /* two's complement over 32-bit digits when negative */
    uint64_t borrow = 1;
    for (int i = 0; i < ACC_CELLS; i++) {
        uint64_t d = (uint64_t)a->c[i] & 0xFFFFFFFFu;
        if (b->neg) {
            d = (~d & 0xFFFFFFFFu) + borrow;
            borrow = d >> 32;
            d &= 0xFFFFFFFFu;
        }
        b->l[i / 2] |= d << (32 * (i % 2));
    }
}

double sl_wfreport_mean_f64(const double *v, size_t n)
{
    if (n == 0) return NAN;
    /* statistics._sum: non-finite values are summed apart, as floats, and
     * then decide the result alone */
    int special = 0;
    double nonfinite = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            nonfinite = special ? nonfinite + v[i] : v[i];
            special = 1;
        }
    if (special) return nonfinite / (double)n;
    acc *a = calloc(1, sizeof *a);
    if (!a) return NAN;
    for (size_t i = 0; i < n; i++) acc_add(a, v[i]);
    big b;
    acc_to_big(a, &b);
    free(a);
    return big_div_round(b, -1074, n);
}

/* LSD radix sort of 64-bit keys, 11 bits a pass, skipping constant digits. */
static int radix_sort(uint64_t *k, size_t n)
{
    if (n < 2) return 0;
    uint64_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp) return -1;
    uint64_t *src = k, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 11) {
        size_t count[2048] = {0};
        for (size_t i = 0; i < n; i++) count[(src[i] >> shift) & 2047]++;
        if (count[(src[0] >> shift) & 2047] == n) continue;
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 2047]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != k) memcpy(k, src, n * sizeof *k);
    free(tmp);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void sl_wfreport_sort_i64(int64_t *v, size_t n)
{
    uint64_t *k = (uint64_t *)v;
    for (size_t i = 0; i < n; i++) k[i] ^= 1ULL << 63;
    if (radix_sort(k, n)) {
        for (size_t i = 0; i < n; i++) k[i] ^= 1ULL << 63;
        qsort(v, n, sizeof *v, cmp_i64);
        return;
    }
    for (size_t i = 0; i < n; i++) k[i] ^= 1ULL << 63;
}

static uint64_t f64_key(double d)
{
    if (d == 0) d = 0.0; /* -0.0 sorts as 0.0 */
    uint64_t b;
    memcpy(&b, &d, 8);
    return (b >> 63) ? ~b : b | (1ULL << 63);
}

static double key_f64(uint64_t k)
{
    uint64_t b = (k >> 63) ? k & ~(1ULL << 63) : ~k;
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sl_wfreport_sort_f64(double *v, size_t n)
{
    /* remember the signs of the zeros in input order: a stable sort keeps
     * equal values (0.0 and -0.0 are equal) in that order */
    size_t nzero = 0, nneg = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] == 0) nzero++, nneg += signbit(v[i]) != 0;
    uint8_t *signs = nneg ? malloc(nzero) : NULL;
    if (nneg && signs) {
        size_t z = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i] == 0) signs[z++] = signbit(v[i]) != 0;
    }
    uint64_t *k = (uint64_t *)v;
    for (size_t i = 0; i < n; i++) k[i] = f64_key(v[i]);
    if (radix_sort(k, n)) {
        for (size_t i = 0; i < n; i++) v[i] = key_f64(k[i]);
        qsort(v, n, sizeof *v, cmp_f64); /* not stable for zeros: memory is short anyway */
    } else {
        for (size_t i = 0; i < n; i++) v[i] = key_f64(k[i]);
    }
    if (signs) {
        size_t z = 0;
        for (size_t i = 0; i < n && z < nzero; i++)
            if (v[i] == 0) v[i] = signs[z++] ? -0.0 : 0.0;
        free(signs);
    }
}

double sl_wfreport_median_i64(const int64_t *s, size_t n)
{
    if (n % 2) return (double)s[n / 2];
    /* (data[i - 1] + data[i]) / 2 on ints: exact sum, one rounding */
    __int128 sum = (__int128)s[n / 2 - 1] + s[n / 2];
    return (double)sum / 2.0;
}

double sl_wfreport_median_f64(const double *s, size_t n)
{
    if (n % 2) return s[n / 2];
    return (s[n / 2 - 1] + s[n / 2]) / 2;
}

void sl_wfreport_fmt(sl_buf *out, double x, int prec)
{
    if (isnan(x)) sl_buf_puts(out, "nan"); /* Python never prints -nan */
    else sl_buf_printf(out, "%.*f", prec, x);
}

int sl_wfreport_ge(double g, int64_t t)
{
    if (isnan(g)) return 0;
    if (g >= 9223372036854775808.0) return 1;
    if (g < -9223372036854775808.0) return 0;
    return (int64_t)floor(g) >= t; /* for an integer t, g >= t iff floor(g) >= t */
}

/* ==== the replay ==== */

typedef struct rtxn {
    int64_t open_ts, close_ts, done_ts;
    uint8_t has_open, has_close, has_done;
} rtxn;

typedef struct ropen {
    int64_t ref;
    char *alt;   /* str() of the key as first inserted, when not the dictionary's */
} ropen;

/* Replay state by transaction ref.  Refs are dense (handed out in order of
 * first sight), so a paged array beats a hash map: one page per 1024 refs,
 * allocated when a ref in it is first used. */
#define RPAGE_BITS 10
typedef struct rtxns {
    rtxn **pages;
    size_t npages;
} rtxns;

typedef struct rtop {
    int64_t dur, ref;
    char *alt;
} rtop;

typedef struct rtype {
    char *name;
    int kind;
    uint64_t count;
} rtype;

struct sl_wfreport {
    sl_wfreport_opts opts;
    char *workflow;
    sqlite3 *db;
    sl_wfdict dict;
    rtype *types;
    size_t ntypes;
    rtxns txns;
    ropen *opens;             /* txn_open_ts in insertion order */
    size_t nopens, capopens;
    int64_t *durations;
    size_t ndur, capdur;
    double *gaps;
    size_t ngaps, capgaps;
    rtop top[TOP_KEPT + 1];
    size_t ntop;
    char *top_names[TOP_KEPT];
    uint64_t outliers, injected, unprocessable, total;
    int64_t first_bad;
    sl_map wf_refs;         /* refs of the selected workflow */
    int64_t wf_id;            /* id of the selected workflow, 0 if unknown */
    /* figures, after finish() */
    double dur_avg, dur_med, dur_p90, dur_p95, dur_p99;
    double gap_avg, gap_med, gap_p90, gap_p95, gap_p99;
};

static int rfail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rfail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int kind_of_name(const char *name)
{
    if (!strcmp(name, "transaction_open")) return K_TXN_OPEN;
    if (!strcmp(name, "transaction_close")) return K_TXN_CLOSE;
    if (!strcmp(name, "step_open")) return K_STEP_OPEN;
    if (!strcmp(name, "step_done")) return K_STEP_DONE;
    if (!strcmp(name, "inter_step_wait")) return K_WAIT;
    return K_OTHER;
}

static rtype *type_of(sl_wfreport *r, uint32_t id)
{
    if (id >= r->ntypes) {
        size_t n = (size_t)id + 64;
        rtype *t = realloc(r->types, n * sizeof *t);
        if (!t) return NULL;
        memset(t + r->ntypes, 0, (n - r->ntypes) * sizeof *t);
        r->types = t;
        r->ntypes = n;
    }
    rtype *t = &r->types[id];
    if (!t->name) {
        const sl_wfdict_entry *e = sl_wfdict_type(&r->dict, id);
        if (!e || !(t->name = strdup(e->text))) return NULL;
        t->kind = kind_of_name(t->name);
    }
    return t;
}

/* The replay slot of a transaction ref (zeroed when new); NULL when out of
 * memory or the ref is not a valid one. */
static rtxn *txn_slot(rtxns *t, int64_t ref)
{
    if (ref < 0) return NULL;
    size_t page = (size_t)ref >> RPAGE_BITS;
    if (page >= t->npages) {
        size_t old = t->npages;
        if (sl_array_reserve(&t->pages, &t->npages, page + 1, sizeof *t->pages, 64)) return NULL;
        memset(t->pages + old, 0, (t->npages - old) * sizeof *t->pages); /* pages not made yet */
    }
    if (!t->pages[page] && !(t->pages[page] = calloc(1u << RPAGE_BITS, sizeof(rtxn)))) return NULL;
    return &t->pages[page][(size_t)ref & ((1u << RPAGE_BITS) - 1)];
}

/* The slot of ref if its page exists (an untouched slot reads as empty). */
static const rtxn *txn_peek(const rtxns *t, int64_t ref)
{
    size_t page = (size_t)ref >> RPAGE_BITS;
    if (ref < 0 || page >= t->npages || !t->pages[page]) return NULL;
    return &t->pages[page][(size_t)ref & ((1u << RPAGE_BITS) - 1)];
}

static char *alt_copy(const sl_wfseg_rec *e)
{
    if (!(e->flags & SL_WFSEG_ALT)) return NULL;
    char *s = malloc(e->alt_len + 1);
    if (s) {
        memcpy(s, e->alt, e->alt_len);
        s[e->alt_len] = '\0';
    }
    return s;
}

/* _maybe_record_slowest: append, stable sort by duration descending, drop
 * the last beyond 10.  The new entry lands after every kept entry with a
 * duration >= its own. */
static void record_slowest(sl_wfreport *r, int64_t dur, int64_t ref, char *alt)
{
    size_t pos = r->ntop;
    while (pos > 0 && r->top[pos - 1].dur < dur) pos--;
    if (pos >= TOP_KEPT) {
        free(alt);
        return;
    }
    if (r->ntop == TOP_KEPT) free(r->top[TOP_KEPT - 1].alt);
    else r->ntop++;
    memmove(&r->top[pos + 1], &r->top[pos], (r->ntop - 1 - pos) * sizeof *r->top);
    r->top[pos].dur = dur;
    r->top[pos].ref = ref;
    r->top[pos].alt = alt;
}

static int push_gap(sl_wfreport *r, double g)
{
    if (sl_array_reserve(&r->gaps, &r->capgaps, r->ngaps + 1, sizeof *r->gaps, 1024)) return -1;
    r->gaps[r->ngaps++] = g;
    return 0;
}

static void bad_event(sl_wfreport *r, int64_t seq)
{
    if (!r->unprocessable++) r->first_bad = seq;
}

/* Fields the transaction branches read first: ev["txn_id"], int(ev["ts_ms"]),
 * then the dict operation (unhashable keys raise there).  1 if usable. */
static int txn_and_ts(const sl_wfseg_rec *e)
{
    if (!(e->flags & (SL_WFSEG_TXN | SL_WFSEG_TXN_BAD))) return 0; /* KeyError */
    if (!(e->flags & SL_WFSEG_TS_OK)) return 0;
    return !(e->flags & SL_WFSEG_TXN_BAD);
}

/* Aggregator.on_event() for one event.  0, or -1 out of memory. */
static int on_event(sl_wfreport *r, const sl_wfseg_rec *e, int64_t seq)
{
    rtype *t = type_of(r, e->type_id);
    if (!t) return -1;
    t->count++; /* self.counts[f"type:{et}"] += 1, before anything can raise */
    r->total++;
    int derive = r->opts.derive_inter_step;
    switch (t->kind) {
    case K_TXN_OPEN: {
        if (!txn_and_ts(e)) return bad_event(r, seq), 0;
        rtxn *x = txn_slot(&r->txns, e->ref);
        if (!x) return -1;
        if (!x->has_open) {
            if (sl_array_reserve(&r->opens, &r->capopens, r->nopens + 1, sizeof *r->opens, 1024)) return -1;
            r->opens[r->nopens].ref = e->ref;
            r->opens[r->nopens++].alt = alt_copy(e);
            x->has_open = 1;
        }
        x->open_ts = e->ts;
        return 0;
    }
    case K_TXN_CLOSE: {
        if (!txn_and_ts(e)) return bad_event(r, seq), 0;
        rtxn *x = txn_slot(&r->txns, e->ref);
        if (!x) return -1;
        x->close_ts = e->ts;
        x->has_close = 1;
        if (x->has_open) {
            int64_t dur = e->ts - x->open_ts;
            if (sl_array_reserve(&r->durations, &r->capdur, r->ndur + 1, sizeof *r->durations, 1024))
                return -1;
            r->durations[r->ndur++] = dur;
            record_slowest(r, dur, e->ref, alt_copy(e));
        }
        return 0;
    }
    case K_WAIT: {
        unsigned pl = SL_WFSEG_PLANNED(e->flags);
        if (pl == SL_WFSEG_PL_NONE) return 0;
        if (pl == SL_WFSEG_PL_BAD) return bad_event(r, seq), 0;
        double gap = pl == SL_WFSEG_PL_INT ? (double)e->planned_i : e->planned_d;
        if (push_gap(r, gap)) return -1;
        if (e->flags & SL_WFSEG_OUTLIER) r->injected++;
        if (sl_wfreport_ge(gap, r->opts.outlier_ms)) r->outliers++;
        return 0;
    }
    case K_STEP_DONE: {
        if (!derive) return 0;
        if (!txn_and_ts(e)) return bad_event(r, seq), 0;
        rtxn *x = txn_slot(&r->txns, e->ref);
        if (!x) return -1;
        x->done_ts = e->ts;
        x->has_done = 1;
        return 0;
    }
    case K_STEP_OPEN: {
        if (!derive) return 0;
        if (!txn_and_ts(e)) return bad_event(r, seq), 0;
        const rtxn *x = txn_peek(&r->txns, e->ref);
        if (!x || !x->has_done) return 0;
        int64_t gap = e->ts - x->done_ts;
        if (push_gap(r, (double)gap)) return -1;
        if (gap >= r->opts.outlier_ms) r->outliers++;
        return 0;
    }
    }
    return 0;
}

/* The filters: 1 if the event is replayed. */
static int selected(const sl_wfreport *r, const sl_wfseg_rec *e)
{
    const sl_wfreport_opts *o = &r->opts;
    if (o->has_since || o->has_until) {
        if (!(e->flags & SL_WFSEG_TS_OK)) return 0;
        if (o->has_since && e->ts < o->since_ms) return 0;
        if (o->has_until && e->ts >= o->until_ms) return 0;
    }
    if (o->workflow) {
        if (e->flags & SL_WFSEG_WORKFLOW) return r->wf_id && e->workflow_id == (uint64_t)r->wf_id;
        if (!(e->flags & SL_WFSEG_TXN)) return 0;
        return sl_map_get(&r->wf_refs, (uint64_t)e->ref) != NULL;
    }
    return 1;
}

static int load_workflow(sl_wfreport *r, char *err, size_t errlen)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(r->db, "SELECT id FROM wf_workflow WHERE name = ?", -1, &q, NULL))
        return rfail(err, errlen, "%s", sqlite3_errmsg(r->db));
    sqlite3_bind_text(q, 1, r->opts.workflow, -1, SQLITE_STATIC);
    r->wf_id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    if (!r->wf_id) return 0;
    if (sqlite3_prepare_v2(r->db, "SELECT ref FROM wf_txn WHERE workflow_id = ?", -1, &q, NULL))
        return rfail(err, errlen, "%s", sqlite3_errmsg(r->db));
    sqlite3_bind_int64(q, 1, r->wf_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (!sl_map_put(&r->wf_refs, (uint64_t)sqlite3_column_int64(q, 0), NULL)) {
            sqlite3_finalize(q);
            return rfail(err, errlen, "out of memory");
        }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : rfail(err, errlen, "%s", sqlite3_errmsg(r->db));
}

/* Replay one segment's hot records. */
static int replay_segment(sl_wfreport *r, sqlite3_stmt *q, sl_wfseg_ctx *ctx, char *err,
                          size_t errlen)
{
    int64_t first = sqlite3_column_int64(q, 0), n = sqlite3_column_int64(q, 1);
    const uint8_t *c = sqlite3_column_blob(q, 2), *ce = c + sqlite3_column_bytes(q, 2);
    sl_wfseg_ctx_reset(ctx);
    for (int64_t i = 0; i < n; i++) {
        sl_wfseg_rec e;
        if (sl_wfseg_get_hot(&c, ce, ctx, &e))
            return rfail(err, errlen, "workflow events: the segment at seq %lld is damaged",
                         (long long)first);
        if (!selected(r, &e)) continue;
        if (on_event(r, &e, first + i)) return rfail(err, errlen, "out of memory");
    }
    return 0;
}

static int replay(sl_wfreport *r, char *err, size_t errlen)
{
    const sl_wfreport_opts *o = &r->opts;
    const char *sql = (o->has_since || o->has_until)
                          ? "SELECT first_seq, n, cols FROM wf_segment "
                            "WHERE max_ts >= ?1 AND min_ts < ?2 ORDER BY id"
                          : "SELECT first_seq, n, cols FROM wf_segment ORDER BY id";
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK)
        return rfail(err, errlen, "reading workflow events: %s", sqlite3_errmsg(r->db));
    if (o->has_since || o->has_until) {
        sqlite3_bind_int64(q, 1, o->has_since ? o->since_ms : INT64_MIN);
        sqlite3_bind_int64(q, 2, o->has_until ? o->until_ms : INT64_MAX);
    }
    sl_wfseg_ctx ctx;
    sl_wfseg_ctx_init(&ctx);
    int rc, status = 0;
    while (status == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW)
        status = replay_segment(r, q, &ctx, err, errlen);
    if (status == 0 && rc != SQLITE_DONE)
        status = rfail(err, errlen, "reading workflow events: %s", sqlite3_errmsg(r->db));
    sl_wfseg_ctx_free(&ctx);
    sqlite3_finalize(q);
    return status;
}

static int finish(sl_wfreport *r, char *err, size_t errlen)
{
    /* the figures use sorted copies; the lists keep arrival order for the CSVs */
    if (r->ndur) {
        int64_t *s = malloc(r->ndur * sizeof *s);
        if (!s) return rfail(err, errlen, "out of memory");
        memcpy(s, r->durations, r->ndur * sizeof *s);
        r->dur_avg = sl_wfreport_mean_i64(s, r->ndur);
        sl_wfreport_sort_i64(s, r->ndur);
        r->dur_med = sl_wfreport_median_i64(s, r->ndur);
        r->dur_p90 = (double)s[sl_wfreport_rank(90, r->ndur) - 1];
        r->dur_p95 = (double)s[sl_wfreport_rank(95, r->ndur) - 1];
        r->dur_p99 = (double)s[sl_wfreport_rank(99, r->ndur) - 1];
        free(s);
    }
    if (r->ngaps) {
        double *s = malloc(r->ngaps * sizeof *s);
        if (!s) return rfail(err, errlen, "out of memory");
        memcpy(s, r->gaps, r->ngaps * sizeof *s);
        r->gap_avg = sl_wfreport_mean_f64(s, r->ngaps);
        sl_wfreport_sort_f64(s, r->ngaps);
        r->gap_med = sl_wfreport_median_f64(s, r->ngaps);
        r->gap_p90 = s[sl_wfreport_rank(90, r->ngaps) - 1];
        r->gap_p95 = s[sl_wfreport_rank(95, r->ngaps) - 1];
        r->gap_p99 = s[sl_wfreport_rank(99, r->ngaps) - 1];
        free(s);
    }
    for (size_t i = 0; i < r->ntop; i++) {
        const char *name = r->top[i].alt ? r->top[i].alt : sl_wfdict_txn(&r->dict, r->top[i].ref);
        if (!name || !(r->top_names[i] = strdup(name)))
            return rfail(err, errlen, "reading transaction %lld: %s", (long long)r->top[i].ref,
                         sqlite3_errmsg(r->db));
    }
    return 0;
}

int sl_wfreport_run(sqlite3 *db, const sl_wfreport_opts *opts, sl_wfreport **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    sl_wfreport *r = calloc(1, sizeof *r);
    if (!r) return rfail(err, errlen, "out of memory");
    r->opts = *opts;
    r->db = db;
    sl_wfdict_init(&r->dict, db);
    sl_map_init(&r->wf_refs);
    if (opts->workflow) {
        if (!(r->workflow = strdup(opts->workflow))) {
            sl_wfreport_free(r);
            return rfail(err, errlen, "out of memory");
        }
        r->opts.workflow = r->workflow;
    }
    if ((opts->workflow && load_workflow(r, err, errlen)) || replay(r, err, errlen) ||
        finish(r, err, errlen)) {
        sl_wfreport_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void sl_wfreport_free(sl_wfreport *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->ntypes; i++) free(r->types[i].name);
    free(r->types);
    for (size_t i = 0; i < r->nopens; i++) free(r->opens[i].alt);
    free(r->opens);
    for (size_t i = 0; i < r->ntop; i++) {
        free(r->top[i].alt);
        free(r->top_names[i]);
    }
    for (size_t i = 0; i < r->txns.npages; i++) free(r->txns.pages[i]);
    free(r->txns.pages);
    free(r->durations);
    free(r->gaps);
    free(r->workflow);
    sl_map_free(&r->wf_refs);
    sl_wfdict_free(&r->dict);
    free(r);
}

uint64_t sl_wfreport_unprocessable(const sl_wfreport *r, int64_t *first_seq)
{
    if (first_seq) *first_seq = r->first_bad;
    return r->unprocessable;
}

/* ==== output ==== */

/* Types seen, sorted as Python sorts the "type:..." keys (code points,
 * which is the byte order of UTF-8). */
static int cmp_type(const void *a, const void *b)
{
    const rtype *x = *(const rtype *const *)a, *y = *(const rtype *const *)b;
    return strcmp(x->name, y->name);
}

static const rtype **sorted_types(const sl_wfreport *r, size_t *n)
{
    const rtype **v = malloc((r->ntypes + 1) * sizeof *v);
    *n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < r->ntypes; i++)
        if (r->types[i].count) v[(*n)++] = &r->types[i];
    qsort(v, *n, sizeof *v, cmp_type);
    return v;
}

static void ms(sl_buf *o, double x)
{
    sl_wfreport_fmt(o, x, 1);
    sl_buf_puts(o, " ms");
}

void sl_wfreport_text(const sl_wfreport *r, sl_buf *o)
{
    sl_buf_puts(o, "=== Aggregation Summary ===\n");
    sl_buf_printf(o, "Total events: %llu\n", (unsigned long long)r->total);
    sl_buf_puts(o, "Event counts:\n");
    size_t nt;
    const rtype **types = sorted_types(r, &nt);
    if (!types) o->oom = 1;
    for (size_t i = 0; types && i < nt; i++)
        sl_buf_printf(o, "  %s: %llu\n", types[i]->name, (unsigned long long)types[i]->count);
    free(types);

    sl_buf_printf(o, "\nTransactions closed: %zu\n", r->ndur);
    if (r->ndur) {
        sl_buf_puts(o, "  avg:  ");
        ms(o, r->dur_avg);
        sl_buf_puts(o, "  (");
        sl_wfreport_fmt(o, r->dur_avg / 1000.0, 3);
        sl_buf_puts(o, " s)\n  med:  ");
        ms(o, r->dur_med);
        sl_buf_puts(o, "\n  p90:  ");
        ms(o, r->dur_p90);
        sl_buf_puts(o, "\n  p95:  ");
        ms(o, r->dur_p95);
        sl_buf_puts(o, "\n  p99:  ");
        ms(o, r->dur_p99);
        sl_buf_puts(o, "\n  Top slow transactions:\n");
        for (size_t i = 0; i < r->ntop; i++) {
            sl_buf_printf(o, "    %s: ", r->top_names[i]);
            ms(o, (double)r->top[i].dur);
            sl_buf_putc(o, '\n');
        }
    }

    sl_buf_printf(o, "\nInter-step gaps observed: %zu", r->ngaps);
    if (r->ngaps) {
        sl_buf_puts(o, "\n  avg:  ");
        ms(o, r->gap_avg);
        sl_buf_puts(o, "\n  med:  ");
        ms(o, r->gap_med);
        sl_buf_puts(o, "\n  p90:  ");
        ms(o, r->gap_p90);
        sl_buf_puts(o, "\n  p95:  ");
        ms(o, r->gap_p95);
        sl_buf_puts(o, "\n  p99:  ");
        ms(o, r->gap_p99);
        sl_buf_puts(o, "\n  outliers \xe2\x89\xa5 "); /* U+2265 */
        ms(o, (double)r->opts.outlier_ms);
        sl_buf_printf(o, ": %llu", (unsigned long long)r->outliers);
        if (r->injected)
            sl_buf_printf(o, "\n  injected_outliers_seen (from events): %llu",
                          (unsigned long long)r->injected);
    }
    sl_buf_putc(o, '\n'); /* print() */
}

static void jnum(sl_buf *o, double x) { sl_jw_double(o, x); }

/* avg, median, p90, p95, p99 of a distribution, as the script's JSON names them. */
static void jstats(sl_buf *o, const double v[5], int *first)
{
    static const char *const names[] = {"avg_ms", "med_ms", "p90_ms", "p95_ms", "p99_ms"};
    for (int i = 0; i < 5; i++) {
        sl_jw_key(o, names[i], first);
        jnum(o, v[i]);
    }
}

void sl_wfreport_json(const sl_wfreport *r, sl_buf *o)
{
    int first = 1;
    sl_buf_putc(o, '{');
    sl_jw_key(o, "total_events", &first);
    sl_jw_int(o, (int64_t)r->total);
    sl_jw_key(o, "event_counts", &first);
    sl_buf_putc(o, '{');
    size_t nt;
    const rtype **types = sorted_types(r, &nt);
    int f2 = 1;
    for (size_t i = 0; types && i < nt; i++) {
        sl_jw_key(o, types[i]->name, &f2);
        sl_jw_int(o, (int64_t)types[i]->count);
    }
    free(types);
    sl_buf_putc(o, '}');

    sl_jw_key(o, "transactions", &first);
    f2 = 1;
    sl_buf_putc(o, '{');
    sl_jw_key(o, "closed", &f2);
    sl_jw_int(o, (int64_t)r->ndur);
    if (r->ndur) {
        const double vals[] = {r->dur_avg, r->dur_med, r->dur_p90, r->dur_p95, r->dur_p99};
        jstats(o, vals, &f2);
        sl_jw_key(o, "slowest", &f2);
        sl_buf_putc(o, '[');
        for (size_t i = 0; i < r->ntop; i++) {
            int f3 = 1;
            sl_buf_puts(o, i ? ",{" : "{");
            sl_jw_key(o, "txn_id", &f3);
            sl_jw_string(o, r->top_names[i]);
            sl_jw_key(o, "duration_ms", &f3);
            sl_jw_int(o, r->top[i].dur);
            sl_buf_putc(o, '}');
        }
        sl_buf_putc(o, ']');
    }
    sl_buf_putc(o, '}');

    sl_jw_key(o, "inter_step_gaps", &first);
    f2 = 1;
    sl_buf_putc(o, '{');
    sl_jw_key(o, "observed", &f2);
    sl_jw_int(o, (int64_t)r->ngaps);
    if (r->ngaps) {
        const double vals[] = {r->gap_avg, r->gap_med, r->gap_p90, r->gap_p95, r->gap_p99};
        jstats(o, vals, &f2);
    }
    sl_jw_key(o, "outlier_threshold_ms", &f2);
    sl_jw_int(o, r->opts.outlier_ms);
    sl_jw_key(o, "outliers", &f2);
    sl_jw_int(o, (int64_t)r->outliers);
    sl_jw_key(o, "injected_outliers_seen", &f2);
    sl_jw_int(o, (int64_t)r->injected);
    sl_buf_putc(o, '}');

    sl_jw_key(o, "derive_inter_step", &first);
    sl_buf_puts(o, r->opts.derive_inter_step ? "true" : "false");
    sl_jw_key(o, "unprocessable_events", &first);
    sl_jw_int(o, (int64_t)r->unprocessable);
    sl_buf_puts(o, "}\n");
}

/* ---- CSVs ---- */

typedef struct csv_row {
    int64_t ref;
    size_t order;       /* position in txn_open_ts */
    const char *name;   /* resolved str() */
} csv_row;

static int cmp_row_ref(const void *a, const void *b)
{
    const csv_row *x = a, *y = b;
    return (x->ref > y->ref) - (x->ref < y->ref);
}

static int cmp_row_order(const void *a, const void *b)
{
    const csv_row *x = a, *y = b;
    return (x->order > y->order) - (x->order < y->order);
}

/* Names of many transactions in one ordered scan of wf_txn rather than one
 * lookup each. */
static int resolve_names(sl_wfreport *r, csv_row *rows, size_t n, sl_buf *names, char *err,
                         size_t errlen)
{
    qsort(rows, n, sizeof *rows, cmp_row_ref);
    size_t *offs = malloc((n ? n : 1) * sizeof *offs);
    if (!offs) return rfail(err, errlen, "out of memory");
    for (size_t j = 0; j < n; j++) offs[j] = SIZE_MAX;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(r->db, "SELECT ref, coalesce(txn_id, key) FROM wf_txn WHERE ref >= ? ORDER BY ref", -1,
                           &q, NULL)) {
        free(offs);
        return rfail(err, errlen, "%s", sqlite3_errmsg(r->db));
    }
    sqlite3_bind_int64(q, 1, n ? rows[0].ref : 0);
    size_t i = 0;
    while (i < n && sqlite3_step(q) == SQLITE_ROW) {
        int64_t ref = sqlite3_column_int64(q, 0);
        while (i < n && rows[i].ref < ref) i++; /* not found: left NULL */
        for (; i < n && rows[i].ref == ref; i++) {
            offs[i] = names->len;
            const char *t = (const char *)sqlite3_column_text(q, 1);
            sl_buf_append(names, t ? t : "", (size_t)sqlite3_column_bytes(q, 1) + 1);
        }
    }
    sqlite3_finalize(q);
    if (names->oom) {
        free(offs);
        return rfail(err, errlen, "out of memory");
    }
    for (size_t j = 0; j < n; j++)
        if (!rows[j].name && offs[j] != SIZE_MAX) rows[j].name = names->p + offs[j];
    free(offs);
    qsort(rows, n, sizeof *rows, cmp_row_order);
    return 0;
}

int sl_wfreport_txn_csv(sl_wfreport *r, FILE *f, char *err, size_t errlen)
{
    /* for txn, open_ts in self.txn_open_ts.items(): closed ones only */
    csv_row *rows = malloc((r->nopens ? r->nopens : 1) * sizeof *rows);
    if (!rows) return rfail(err, errlen, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < r->nopens; i++) {
        const rtxn *x = txn_peek(&r->txns, r->opens[i].ref);
        if (!x || !x->has_close) continue;
        rows[n].ref = r->opens[i].ref;
        rows[n].order = i;
        rows[n].name = r->opens[i].alt; /* NULL: from the dictionary */
        n++;
    }
    sl_buf names = SL_BUF_INIT;
    int rc = resolve_names(r, rows, n, &names, err, errlen);
    if (rc == 0 && fputs("txn_id,duration_ms\n", f) == EOF) rc = -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const rtxn *x = txn_peek(&r->txns, rows[i].ref);
        if (fprintf(f, "%s,%lld\n", rows[i].name ? rows[i].name : "",
                    (long long)(x->close_ts - x->open_ts)) < 0)
            rc = -1;
    }
    if (rc && !*err) rfail(err, errlen, "writing the transaction CSV failed");
    sl_buf_free(&names);
    free(rows);
    return rc;
}

int sl_wfreport_gap_csv(const sl_wfreport *r, FILE *f, char *err, size_t errlen)
{
    if (fputs("gap_ms\n", f) == EOF) return rfail(err, errlen, "writing the gap CSV failed");
    for (size_t i = 0; i < r->ngaps; i++) {
        double g = r->gaps[i];
        if (!isfinite(g))
            return rfail(err, errlen, "gap %zu is %s: the script's int() fails here", i + 1,
                         isnan(g) ? "nan" : "infinite");
        double t = trunc(g);
        int w = t == 0 ? fputs("0\n", f) : fprintf(f, "%.0f\n", t); /* int(g), exactly */
        if (w < 0) return rfail(err, errlen, "writing the gap CSV failed");
    }
    return 0;
}
