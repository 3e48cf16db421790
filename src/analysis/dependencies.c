/*
 * analysis/dependencies.c -- service dependency links; see dependencies.h.
 *
 * Zipkin's DependencyLinker builds a span tree per trace and reads links off
 * it.  The rules, numbered for the code to cite (Zipkin file in brackets):
 *
 *   R1 Merge [Trace.merge].  Spans are ordered by (id, shared last, client
 *      first, service) and consecutive spans with one id, the same shared
 *      flag and compatible services (equal, or one unknown) are parts of one
 *      span: merged, missing fields filled from the later part, errors
 *      or'ed.  A SERVER span following a CLIENT with its id is marked
 *      shared; a shared span without a parent id takes the client's.
 *   R2 Tree [SpanNode.Builder].  A shared span is the child of the client
 *      with its id.  A span whose parent id names a shared span on the
 *      span's own service hangs under that shared span, else under the
 *      span with that id.  The first parentless span (in R1 order) is the
 *      root; other parentless spans and spans whose parent is missing hang
 *      under it, or under a synthetic root when no span is parentless.
 *      Zipkin throws on a span that would be its own parent; such a span is
 *      left out of the tree here.
 *   R3 Every span reachable from the root is visited once [traverse()].
 *   R4 A CLIENT span with children is skipped: its server makes the link.
 *   R5 A span with no kind (unspecified or internal) whose local and remote
 *      services are both known is treated as a CLIENT; otherwise skipped.
 *   R6 SERVER and CONSUMER link remote -> local (the root SERVER needs a
 *      known remote); CLIENT and PRODUCER link local -> remote.
 *   R7 Messaging spans (PRODUCER, CONSUMER) only link to or from their
 *      broker (the remote service); no ancestor is consulted.
 *   R8 Otherwise the nearest ancestor with a kind is found.  When it has a
 *      service: a CLIENT on another service than the ancestor adds the link
 *      ancestor -> client (no error; Zipkin's "missing link" backfill); a
 *      SERVER, or a span with no parent service yet, takes the ancestor's
 *      service as parent; a span whose parent id is that ancestor, a CLIENT,
 *      inherits its error.  A link needs both services.
 *   R9 A call is an error when its span (or, by R8, its client) has status
 *      error.
 *   R10 Latency (our addition): each call contributes the duration of the
 *      span the link was read from, except that a span whose tree parent is
 *      the CLIENT found by R8 (a server under its client, shared or not)
 *      contributes that client's duration: what the caller waited.  Gives
 *      avg_ns, and p50_ns/p99_ns interpolated between closest ranks as
 *      percentile() does.
 *   R11 Self links (a service calling itself) are kept, as Zipkin's
 *      loopback spans are.
 *   R12 Traces without kinds (our addition): when no span of a trace has a
 *      remote kind (server, client, producer, consumer) nor a remote
 *      service, Zipkin finds nothing.  Then each span whose parent span is
 *      in the trace links the parent's service -> its own service, when the
 *      two differ: a same-service parent/child pair is in-process work and
 *      cannot be told apart from a call.  The first span (input order) with
 *      an id is the parent.
 *
 * The SQL function streams the internal table `span` in rowid order (a
 * plain table scan, no join, no sort), buffers the spans of each trace
 * until trace.span_count of them have arrived, links the trace and drops
 * it; traces whose count never completes are linked at the end.  Memory is
 * therefore bounded by the traces in flight, not by the table.
 */
#include "analysis/dependencies.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "spanlite.h"
#include "analysis/stats.h"
#include "base/hexid.h"

#define NONE UINT32_MAX

/* ---- Link aggregation --------------------------------------------------- */

typedef struct dep_agg {
    sl_dep_link link;
    int64_t *durs;    /* one per call */
    size_t ndur, cap;
} dep_agg;

/* A key of the span tree: (span id, shared, service); see R2. */
typedef struct dep_key {
    const char *id;
    uint64_t hash;
    uint32_t svc;
    uint32_t shared;
} dep_key;

struct sl_deps {
    dep_agg *aggs;          /* one per link */
    size_t naggs, agg_cap;
    uint32_t *lslots;       /* link hash: agg index or NONE */
    size_t nlslots;
    sl_dep_link *out;       /* sl_deps_links() result */
    /* per-trace scratch, grown to the largest trace */
    uint32_t cap;
    sl_dep_span *m;         /* merged spans (R1) */
    uint32_t nm;
    uint32_t *order, *tmp;
    dep_key *keys;
    uint32_t nkeys, kcap;
    uint32_t *kslots;       /* key hash table (also the id table of the fast path) */
    uint32_t nkslots;       /* allocated */
    uint32_t kmask;         /* size - 1 for the current trace */
    uint64_t *hid;          /* fast path: hash of each span id */
    uint32_t *s2p;          /* key -> parent key (spanToParent) */
    unsigned char *s2p_has; /* key present in spanToParent */
    uint32_t *k2n;          /* key -> node (keyToNode) */
    uint32_t *tparent;      /* node -> parent node, NONE at the top */
    uint32_t *nchild;
    unsigned char *placed;  /* node is in the tree */
    uint32_t root;          /* root node, NONE when synthetic */
    sl_dep_emit emit;       /* calls go here instead of aggs when set */
    void *emit_ctx;
};

static uint64_t hash_bytes(const char *s, uint64_t h)
{
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u; /* FNV-1a */
    return h ^ (h >> 29);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    return x;
}

sl_deps *sl_deps_new(void)
{
    sl_deps *d = malloc(sizeof *d);
    if (!d) return NULL;
    memset(d, 0, sizeof *d);
    return d;
}

static void scratch_release(sl_deps *d)
{
    free(d->m); free(d->order); free(d->tmp); free(d->keys); free(d->kslots);
    free(d->s2p); free(d->s2p_has); free(d->k2n); free(d->tparent); free(d->nchild);
    free(d->placed); free(d->hid);
    d->hid = NULL;
    d->m = NULL; d->order = d->tmp = NULL; d->keys = NULL; d->kslots = NULL;
    d->s2p = d->k2n = d->tparent = d->nchild = NULL;
    d->s2p_has = d->placed = NULL;
    d->cap = 0;
}

void sl_deps_free(sl_deps *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->naggs; i++) free(d->aggs[i].durs);
    free(d->aggs);
    free(d->lslots);
    free(d->out);
    scratch_release(d);
    free(d);
}

static int scratch_reserve(sl_deps *d, uint32_t n)
{
    if (n <= d->cap && d->m) return SL_OK;
    scratch_release(d);
    uint32_t cap = n < 64 ? 64 : n;
    uint32_t kcap = 4 * cap + 4, slots = 16;
    while (slots < 2 * kcap) slots <<= 1;
#define A(p, k) ((p) = malloc(sizeof *(p) * (size_t)(k)))
    if (!A(d->m, cap) || !A(d->order, cap) || !A(d->tmp, cap) || !A(d->keys, kcap) ||
        !A(d->kslots, slots) || !A(d->s2p, kcap) || !A(d->s2p_has, kcap) ||
        !A(d->k2n, kcap) || !A(d->tparent, cap) || !A(d->nchild, cap) ||
        !A(d->placed, cap) || !A(d->hid, cap)) {
        scratch_release(d);
        return SL_NOMEM;
    }
#undef A
    d->cap = cap;
    d->kcap = kcap;
    d->nkslots = slots;
    return SL_OK;
}

/* The link parent -> child, created on first use; NULL on OOM. */
static dep_agg *agg_get(sl_deps *d, uint32_t parent, uint32_t child)
{
    if (2 * (d->naggs + 1) > d->nlslots) {
        size_t ns = d->nlslots ? d->nlslots * 2 : 64;
        uint32_t *sl = malloc(sizeof *sl * ns);
        if (!sl) return NULL;
        memset(sl, 0xff, sizeof *sl * ns);
        for (size_t i = 0; i < d->naggs; i++) {
            uint64_t k = (uint64_t)d->aggs[i].link.parent << 32 | d->aggs[i].link.child;
            size_t h = mix64(k) & (ns - 1);
            while (sl[h] != NONE) h = (h + 1) & (ns - 1);
            sl[h] = (uint32_t)i;
        }
        free(d->lslots);
        d->lslots = sl;
        d->nlslots = ns;
    }
    uint64_t key = (uint64_t)parent << 32 | child;
    size_t mask = d->nlslots - 1;
    for (size_t h = mix64(key) & mask;; h = (h + 1) & mask) {
        uint32_t v = d->lslots[h];
        if (v == NONE) {
            if (d->naggs == d->agg_cap) {
                size_t nc = d->agg_cap ? d->agg_cap * 2 : 32;
                dep_agg *a = realloc(d->aggs, sizeof *a * nc);
                if (!a) return NULL;
                d->aggs = a;
                d->agg_cap = nc;
            }
            dep_agg *a = &d->aggs[d->naggs];
            memset(a, 0, sizeof *a);
            a->link.parent = parent;
            a->link.child = child;
            d->lslots[h] = (uint32_t)d->naggs++;
            return a;
        }
        dep_agg *a = &d->aggs[v];
        if (a->link.parent == parent && a->link.child == child) return a;
    }
}

void sl_deps_set_emit(sl_deps *d, sl_dep_emit fn, void *ctx)
{
    d->emit = fn;
    d->emit_ctx = ctx;
}

static int add_link(sl_deps *d, uint32_t parent, uint32_t child, int error, int64_t dur)
{
    if (d->emit) return d->emit(d->emit_ctx, parent, child, error, dur);
    dep_agg *a = agg_get(d, parent, child);
    if (!a) return SL_NOMEM;
    if (a->ndur == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 8;
        int64_t *p = realloc(a->durs, sizeof *p * nc);
        if (!p) return SL_NOMEM;
        a->durs = p;
        a->cap = nc;
    }
    a->durs[a->ndur++] = dur;
    a->link.calls++;
    if (error) a->link.errors++; /* R9 */
    return SL_OK;
}

/* ---- R1: merge ---------------------------------------------------------- */

static int zkind(int kind)
{
    return kind >= SL_KIND_SERVER && kind <= SL_KIND_CONSUMER ? kind : 0;
}

static int has_text(const char *s) { return s && *s; }

/* Trace.CLEANUP_COMPARATOR on input indices; ties keep input order. */
static int cmp_cleanup(const sl_dep_span *s, uint32_t a, uint32_t b)
{
    const sl_dep_span *x = &s[a], *y = &s[b];
    int c = strcmp(x->span_id, y->span_id);
    if (c) return c;
    if (!x->shared != !y->shared) return x->shared ? 1 : -1;
    if (!x->shared) {
        int xc = zkind(x->kind) == SL_KIND_CLIENT, yc = zkind(y->kind) == SL_KIND_CLIENT;
        if (xc != yc) return xc ? -1 : 1;
    }
    if (x->service != y->service) {
        if (!x->service) return -1; /* unknown endpoints first */
        if (!y->service) return 1;
        return x->service < y->service ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

static void merge_sort(const sl_dep_span *s, uint32_t *a, uint32_t *tmp, uint32_t n)
{
    uint32_t *src = a, *dst = tmp;
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = cmp_cleanup(s, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, sizeof *a * n);
}

/* Span.Builder.merge: fill what is missing from the next part. */
static void merge_into(sl_dep_span *x, const sl_dep_span *y)
{
    if (!has_text(x->parent_span_id)) x->parent_span_id = y->parent_span_id;
    if (!zkind(x->kind)) x->kind = y->kind;
    if (!x->service) x->service = y->service;
    if (!x->remote_service) x->remote_service = y->remote_service;
    if (!x->duration_ns) x->duration_ns = y->duration_ns;
    x->error = x->error || y->error;
    x->shared = x->shared || y->shared;
}

static void merge_trace(sl_deps *d, const sl_dep_span *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) d->order[i] = i;
    merge_sort(s, d->order, d->tmp, n);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        sl_dep_span cur = s[d->order[i]];
        uint32_t svc = cur.service; /* EndpointTracker */
        while (i + 1 < n) {
            const sl_dep_span *next = &s[d->order[i + 1]];
            if (strcmp(next->span_id, cur.span_id) != 0) break;
            if (!cur.shared != !next->shared) break;
            if (svc && next->service && svc != next->service) break;
            if (!svc) svc = next->service;
            merge_into(&cur, next);
            i++;
        }
        if (m > 0 && strcmp(d->m[m - 1].span_id, cur.span_id) == 0) {
            const sl_dep_span *last = &d->m[m - 1];
            if (zkind(last->kind) == SL_KIND_CLIENT && zkind(cur.kind) == SL_KIND_SERVER && !cur.shared)
                cur.shared = 1;
            if (cur.shared && !has_text(cur.parent_span_id) && has_text(last->parent_span_id))
                cur.parent_span_id = last->parent_span_id;
        }
        d->m[m++] = cur;
    }
    d->nm = m;
}

/* ---- R2: the span tree -------------------------------------------------- */

/* Key index of (id, shared, svc); created when create, else NONE if absent. */
static uint32_t key_find(sl_deps *d, const char *id, int shared, uint32_t svc, int create)
{
    if (!shared) svc = 0;
    uint64_t h0 = hash_bytes(id, 1469598103934665603u) ^ mix64((uint64_t)svc << 1 | (shared != 0));
    uint32_t mask = d->kmask;
    for (uint32_t h = (uint32_t)h0 & mask;; h = (h + 1) & mask) {
        uint32_t k = d->kslots[h];
        if (k == NONE) {
            if (!create) return NONE;
            k = d->nkeys++;
            d->keys[k].id = id;
            d->keys[k].hash = h0;
            d->keys[k].svc = svc;
            d->keys[k].shared = shared != 0;
            d->s2p_has[k] = 0;
            d->k2n[k] = NONE;
            d->kslots[h] = k;
            return k;
        }
        const dep_key *x = &d->keys[k];
        if (x->hash == h0 && x->svc == svc && x->shared == (uint32_t)(shared != 0) &&
            strcmp(x->id, id) == 0)
            return k;
    }
}

static void index_spans(sl_deps *d)
{
    for (uint32_t i = 0; i < d->nm; i++) {
        const sl_dep_span *s = &d->m[i];
        uint32_t idk, pk;
        if (s->shared) {
            idk = key_find(d, s->span_id, 1, s->service, 1);
            pk = key_find(d, s->span_id, 0, 0, 1);
        } else {
            idk = key_find(d, s->span_id, 0, 0, 1);
            pk = has_text(s->parent_span_id) ? key_find(d, s->parent_span_id, 0, 0, 1) : NONE;
        }
        d->s2p_has[idk] = 1;
        d->s2p[idk] = pk;
    }
}

static void process_spans(sl_deps *d)
{
    d->root = NONE;
    for (uint32_t i = 0; i < d->nm; i++) {
        const sl_dep_span *s = &d->m[i];
        int shared = s->shared != 0;
        uint32_t key = key_find(d, s->span_id, shared, s->service, 1);
        uint32_t noep = s->service ? key_find(d, s->span_id, shared, 0, 1) : key;
        uint32_t parent = NONE;
        if (shared) {
            parent = key_find(d, s->span_id, 0, 0, 1);
        } else if (has_text(s->parent_span_id)) {
            uint32_t cand = key_find(d, s->parent_span_id, 1, s->service, 0);
            if (cand != NONE && d->s2p_has[cand]) {
                d->s2p_has[noep] = 1;
                d->s2p[noep] = cand;
                parent = cand;
            } else {
                parent = key_find(d, s->parent_span_id, 0, 0, 1);
            }
        }
        if (parent == NONE && d->root == NONE) {
            d->root = i;
            d->s2p_has[noep] = 0;
        } else {
            d->k2n[key] = i;
            d->k2n[noep] = i;
        }
    }
}

/* Place nodes under their parents; R3 reachability through `placed`. */
static void build_tree(sl_deps *d)
{
    uint32_t n = d->nm;
    for (uint32_t i = 0; i < n; i++) {
        d->tparent[i] = NONE;
        d->nchild[i] = 0;
        d->placed[i] = 0;
    }
    for (uint32_t k = 0; k < d->nkeys; k++) {
        if (!d->s2p_has[k]) continue;
        uint32_t c = d->k2n[k];
        if (c == NONE || c == d->root) continue;
        uint32_t p = d->s2p[k] == NONE ? NONE : d->k2n[d->s2p[k]];
        if (p == c) continue; /* Zipkin throws on a circular child */
        if (p == NONE) p = d->root; /* headless: under the root */
        d->tparent[c] = p;
        d->placed[c] = 1;
    }
    if (d->root != NONE) d->placed[d->root] = 1;
}

/* R3: reachable = every ancestor placed, ending at the top; cycles are not.
 * Marks: placed 1 = unknown, 2 = reachable, 3 = not reachable. */
static void mark_reachable(sl_deps *d)
{
    uint32_t n = d->nm;
    for (uint32_t i = 0; i < n; i++) {
        if (d->placed[i] != 1) continue;
        uint32_t a = i, steps = 0;
        unsigned char verdict = 2;
        while (a != NONE) {
            if (d->placed[a] == 0 || d->placed[a] == 3 || steps++ > n) { verdict = 3; break; }
            if (d->placed[a] == 2) break;
            a = d->tparent[a];
        }
        for (a = i; a != NONE && d->placed[a] == 1; a = d->tparent[a]) d->placed[a] = verdict;
    }
    for (uint32_t i = 0; i < n; i++)
        if (d->placed[i] == 2 && d->tparent[i] != NONE) d->nchild[d->tparent[i]]++;
}

/*
 * R1-R2 when every span id is unique and nothing is shared (the usual
 * OTLP/Jaeger trace): merging changes nothing and every key is a plain id,
 * so the tree is parent ids resolved through one hash table; the root is
 * the parentless span that R1's order (by id) puts first.  Returns 0,
 * leaving the table dirty, when the general path is needed.
 */
static int tree_fast(sl_deps *d, const sl_dep_span *s, uint32_t n)
{
    uint32_t mask = d->kmask;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i].shared) return 0;
        uint64_t h0 = hash_bytes(s[i].span_id, 1469598103934665603u);
        d->hid[i] = h0;
        uint32_t h = (uint32_t)h0 & mask;
        for (; d->kslots[h] != NONE; h = (h + 1) & mask) {
            uint32_t j = d->kslots[h];
            if (d->hid[j] == h0 && strcmp(s[j].span_id, s[i].span_id) == 0) return 0;
        }
        d->kslots[h] = i;
    }
    memcpy(d->m, s, sizeof *s * n);
    d->nm = n;
    d->root = NONE;
    for (uint32_t i = 0; i < n; i++)
        if (!has_text(s[i].parent_span_id) &&
            (d->root == NONE || strcmp(s[i].span_id, s[d->root].span_id) < 0))
            d->root = i;
    for (uint32_t i = 0; i < n; i++) {
        d->tparent[i] = NONE;
        d->nchild[i] = 0;
        d->placed[i] = i == d->root;
        if (i == d->root) continue;
        uint32_t p = NONE;
        if (has_text(s[i].parent_span_id)) {
            uint64_t h0 = hash_bytes(s[i].parent_span_id, 1469598103934665603u);
            for (uint32_t h = (uint32_t)h0 & mask; d->kslots[h] != NONE; h = (h + 1) & mask) {
                uint32_t j = d->kslots[h];
                if (d->hid[j] == h0 && strcmp(s[j].span_id, s[i].parent_span_id) == 0) {
                    p = j;
                    break;
                }
            }
            if (p == i) continue; /* Zipkin throws on a circular child */
        }
        d->tparent[i] = p == NONE ? d->root : p; /* headless: under the root */
        d->placed[i] = 1;
    }
    return 1;
}

/* ---- R4..R11: links ----------------------------------------------------- */

static uint32_t remote_ancestor(const sl_deps *d, uint32_t i)
{
    for (uint32_t a = d->tparent[i]; a != NONE; a = d->tparent[a])
        if (zkind(d->m[a].kind)) return a;
    return NONE;
}

static int link_node(sl_deps *d, uint32_t i)
{
    const sl_dep_span *s = &d->m[i];
    int kind = zkind(s->kind);
    if (kind == SL_KIND_CLIENT && d->nchild[i]) return SL_OK; /* R4 */
    uint32_t svc = s->service, rsvc = s->remote_service, parent, child;
    if (!kind) { /* R5 */
        if (!svc || !rsvc) return SL_OK;
        kind = SL_KIND_CLIENT;
    }
    if (kind == SL_KIND_SERVER || kind == SL_KIND_CONSUMER) { /* R6 */
        child = svc;
        parent = rsvc;
        if (i == d->root && !parent) return SL_OK;
    } else {
        parent = svc;
        child = rsvc;
    }
    int error = s->error != 0;
    int64_t dur = s->duration_ns;
    if (kind == SL_KIND_PRODUCER || kind == SL_KIND_CONSUMER) /* R7 */
        return parent && child ? add_link(d, parent, child, error, dur) : SL_OK;
    uint32_t ra = remote_ancestor(d, i); /* R8 */
    if (ra != NONE && d->m[ra].service) {
        uint32_t ran = d->m[ra].service;
        if (kind == SL_KIND_CLIENT && svc && ran != svc) {
            int rc = add_link(d, ran, svc, 0, dur);
            if (rc != SL_OK) return rc;
        }
        if (kind == SL_KIND_SERVER || !parent) parent = ran;
        int by_client = zkind(d->m[ra].kind) == SL_KIND_CLIENT;
        if (!error && by_client && has_text(s->parent_span_id) &&
            strcmp(s->parent_span_id, d->m[ra].span_id) == 0)
            error = d->m[ra].error != 0;
        if (by_client && d->tparent[i] == ra) dur = d->m[ra].duration_ns; /* R10 */
    }
    if (!parent || !child) return SL_OK;
    return add_link(d, parent, child, error, dur); /* R11: parent == child kept */
}

/* R12: true when Zipkin's rules have nothing to read in this trace. */
static int kindless(const sl_dep_span *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (zkind(s[i].kind) || s[i].remote_service) return 0;
    return 1;
}

static int link_kindless(sl_deps *d, const sl_dep_span *s, uint32_t n)
{
    /* id -> first span with it, through the key table (keys are not shared). */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = key_find(d, s[i].span_id, 0, 0, 1);
        if (d->k2n[k] == NONE) d->k2n[k] = i;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!has_text(s[i].parent_span_id)) continue;
        uint32_t k = key_find(d, s[i].parent_span_id, 0, 0, 0);
        if (k == NONE) continue;
        uint32_t p = d->k2n[k];
        if (p == i || !s[p].service || !s[i].service || s[p].service == s[i].service) continue;
        int rc = add_link(d, s[p].service, s[i].service, s[i].error != 0, s[i].duration_ns);
        if (rc != SL_OK) return rc;
    }
    return SL_OK;
}

int sl_deps_put_trace(sl_deps *d, const sl_dep_span *spans, size_t n)
{
    if (n == 0) return SL_OK;
    if (n >= NONE / 8) return SL_NOMEM;
    int rc = scratch_reserve(d, (uint32_t)n);
    if (rc != SL_OK) return rc;
    uint32_t slots = 16;
    while (slots < 2 * (4 * (uint32_t)n + 4)) slots <<= 1;
    d->kmask = slots - 1;
    d->nkeys = 0;
    memset(d->kslots, 0xff, sizeof *d->kslots * slots);
    if (kindless(spans, n)) return link_kindless(d, spans, (uint32_t)n);
    if (!tree_fast(d, spans, (uint32_t)n)) {
        memset(d->kslots, 0xff, sizeof *d->kslots * slots);
        merge_trace(d, spans, (uint32_t)n);
        index_spans(d);
        process_spans(d);
        build_tree(d);
    }
    mark_reachable(d);
    for (uint32_t i = 0; i < d->nm && rc == SL_OK; i++)
        if (d->placed[i] == 2) rc = link_node(d, i);
    return rc;
}

/* ---- Results ------------------------------------------------------------ */

static void swap64(int64_t *a, int64_t *b)
{
    int64_t t = *a;
    *a = *b;
    *b = t;
}

/* Rearrange v so that v[k] is the k-th smallest (Hoare's selection). */
static void select_kth(int64_t *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo]) swap64(&v[mid], &v[lo]);
        if (v[hi] < v[lo]) swap64(&v[hi], &v[lo]);
        if (v[hi] < v[mid]) swap64(&v[hi], &v[mid]);
        int64_t pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                swap64(&v[i], &v[j]);
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return;
    }
}

/* Percentile p (0..100) interpolated between closest ranks, as SQLite's
 * percentile() does; reorders v. */
static double percentile_of(int64_t *v, size_t n, double p)
{
    double idx = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)idx;
    double frac = idx - (double)lo;
    select_kth(v, n, lo);
    double a = (double)v[lo];
    if (frac == 0.0 || lo + 1 >= n) return a;
    int64_t next = v[lo + 1];
    for (size_t i = lo + 2; i < n; i++)
        if (v[i] < next) next = v[i];
    return a + frac * ((double)next - a);
}

static int cmp_link(const void *a, const void *b)
{
    const sl_dep_link *x = a, *y = b;
    if (x->parent != y->parent) return x->parent < y->parent ? -1 : 1;
    return x->child < y->child ? -1 : x->child > y->child;
}

int sl_deps_links(sl_deps *d, const sl_dep_link **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    free(d->out);
    d->out = malloc(sizeof *d->out * (d->naggs + 1));
    if (!d->out) return SL_NOMEM;
    for (size_t i = 0; i < d->naggs; i++) {
        dep_agg *a = &d->aggs[i];
        double sum = 0;
        for (size_t j = 0; j < a->ndur; j++) sum += (double)a->durs[j];
        a->link.avg_ns = a->ndur ? sum / (double)a->ndur : 0;
        a->link.p50_ns = a->ndur ? percentile_of(a->durs, a->ndur, 50) : 0;
        a->link.p99_ns = a->ndur ? percentile_of(a->durs, a->ndur, 99) : 0;
        d->out[i] = a->link;
    }
    qsort(d->out, d->naggs, sizeof *d->out, cmp_link);
    *out = d->out;
    *n = d->naggs;
    return SL_OK;
}

/* ---- SQL glue: reading the warehouse ------------------------------------ */

/* One buffered span; strings are offsets into the trace's text buffer. */
typedef struct dep_rec {
    uint32_t id, pid;       /* offsets; pid NONE when absent */
    uint32_t svc, rsvc;
    unsigned char kind, error, shared;
    int64_t dur;
} dep_rec;

/* The spans of one trace seen so far. */
typedef struct dep_trace {
    int64_t ref;
    uint32_t want;          /* trace.span_count */
    dep_rec *recs;
    uint32_t nrec, rcap;
    char *text;
    size_t tlen, tcap;
} dep_trace;

/* State of one scan (one xFilter call). */
typedef struct dep_scan {
    sqlite3 *db;
    sl_deps *deps;
    uint32_t *want;         /* ref -> span_count, 0 = not selected */
    int64_t maxref;
    int64_t lo, hi;         /* refs of the selected traces */
    uint64_t nsel, ntraces;
    dep_trace *open;        /* traces in flight */
    size_t nopen, ocap;
    sl_dep_span *spans;     /* handed to the linker */
    size_t scap;
    char err[256];
} dep_scan;

static void scan_fail(dep_scan *sc, const char *what)
{
    sqlite3_snprintf(sizeof sc->err, sc->err, "dependencies(): %s: %s", what,
                     sqlite3_errmsg(sc->db));
}

/* ref -> span_count of the traces starting in the window. */
static int load_counts(dep_scan *sc, sqlite3_value *since, sqlite3_value *until)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sc->db, "SELECT max(ref), count(*) FROM trace", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sc->maxref = sqlite3_column_int64(st, 0);
        sc->ntraces = (uint64_t)sqlite3_column_int64(st, 1);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        scan_fail(sc, "not a spanlite warehouse (table trace)");
        return rc;
    }
    if (sc->maxref < 0) sc->maxref = 0;
    sc->want = calloc((size_t)sc->maxref + 1, sizeof *sc->want);
    if (!sc->want) return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(sc->db,
        "SELECT ref, span_count FROM trace WHERE span_count > 0"
        " AND (?1 IS NULL OR start_ns >= ?1) AND (?2 IS NULL OR start_ns < ?2)", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        scan_fail(sc, "reading table trace");
        return rc;
    }
    if (since) sqlite3_bind_value(st, 1, since);
    if (until) sqlite3_bind_value(st, 2, until);
    sc->lo = INT64_MAX;
    sc->hi = INT64_MIN;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t ref = sqlite3_column_int64(st, 0);
        int64_t cnt = sqlite3_column_int64(st, 1);
        if (ref < 0 || ref > sc->maxref) continue;
        sc->want[ref] = cnt > (int64_t)(NONE / 16) ? NONE / 16 : (uint32_t)cnt;
        if (ref < sc->lo) sc->lo = ref;
        if (ref > sc->hi) sc->hi = ref;
        sc->nsel++;
    }
    if (rc != SQLITE_DONE) scan_fail(sc, "reading table trace");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int text_append(dep_trace *t, const char *s, int len, uint32_t *off)
{
    if (t->tlen + (size_t)len + 1 > t->tcap) {
        size_t nc = t->tcap ? t->tcap * 2 : 1024;
        while (nc < t->tlen + (size_t)len + 1) nc *= 2;
        char *p = realloc(t->text, nc);
        if (!p) return SQLITE_NOMEM;
        t->text = p;
        t->tcap = nc;
    }
    *off = (uint32_t)t->tlen;
    memcpy(t->text + t->tlen, s, (size_t)len);
    t->text[t->tlen + (size_t)len] = '\0';
    t->tlen += (size_t)len + 1;
    return SQLITE_OK;
}

/* The in-flight trace for ref, opened when new; NULL on OOM. */
static dep_trace *trace_for(dep_scan *sc, int64_t ref)
{
    /* Spans of a trace mostly arrive together: look at the newest first. */
    for (size_t i = sc->nopen; i-- > 0;)
        if (sc->open[i].ref == ref) return &sc->open[i];
    if (sc->nopen == sc->ocap) {
        size_t nc = sc->ocap ? sc->ocap * 2 : 16;
        dep_trace *o = realloc(sc->open, sizeof *o * nc);
        if (!o) return NULL;
        memset(o + sc->ocap, 0, sizeof *o * (nc - sc->ocap));
        sc->open = o;
        sc->ocap = nc;
    }
    dep_trace *t = &sc->open[sc->nopen++]; /* keeps its buffers from earlier use */
    t->ref = ref;
    t->want = sc->want[ref];
    t->nrec = 0;
    t->tlen = 0;
    return t;
}

/* Link a trace and close it (its slot is reused, buffers kept). */
static int trace_flush(dep_scan *sc, size_t slot)
{
    dep_trace *t = &sc->open[slot];
    if (t->nrec > sc->scap) {
        sl_dep_span *sp = realloc(sc->spans, sizeof *sp * t->nrec);
        if (!sp) return SQLITE_NOMEM;
        sc->spans = sp;
        sc->scap = t->nrec;
    }
    for (uint32_t i = 0; i < t->nrec; i++) {
        const dep_rec *r = &t->recs[i];
        sl_dep_span *s = &sc->spans[i];
        s->span_id = t->text + r->id;
        s->parent_span_id = r->pid == NONE ? NULL : t->text + r->pid;
        s->service = r->svc;
        s->remote_service = r->rsvc;
        s->kind = r->kind;
        s->error = r->error;
        s->shared = r->shared;
        s->duration_ns = r->dur;
    }
    int rc = sl_deps_put_trace(sc->deps, sc->spans, t->nrec) == SL_OK ? SQLITE_OK : SQLITE_NOMEM;
    /* swap the finished slot with the last one, keeping both buffer sets */
    dep_trace done = *t;
    *t = sc->open[sc->nopen - 1];
    sc->open[--sc->nopen] = done;
    return rc;
}

static int add_row(dep_scan *sc, sqlite3_stmt *st)
{
    int64_t ref = sqlite3_column_int64(st, 0);
    if (ref < 0 || ref > sc->maxref || !sc->want[ref]) return SQLITE_OK;
    dep_trace *t = trace_for(sc, ref);
    if (!t) return SQLITE_NOMEM;
    if (t->nrec == t->rcap) {
        uint32_t nc = t->rcap ? t->rcap * 2 : 64;
        dep_rec *r = realloc(t->recs, sizeof *r * nc);
        if (!r) return SQLITE_NOMEM;
        t->recs = r;
        t->rcap = nc;
    }
    dep_rec *r = &t->recs[t->nrec];
    const char *id = (const char *)sqlite3_column_text(st, 1);
    int rc = text_append(t, id ? id : "", sqlite3_column_bytes(st, 1), &r->id);
    r->pid = NONE;
    const char *pid = (const char *)sqlite3_column_text(st, 2);
    if (rc == SQLITE_OK && pid) rc = text_append(t, pid, sqlite3_column_bytes(st, 2), &r->pid);
    if (rc != SQLITE_OK) return rc;
    r->svc = (uint32_t)sqlite3_column_int64(st, 3);
    r->rsvc = (uint32_t)sqlite3_column_int64(st, 4);
    r->kind = (unsigned char)sqlite3_column_int(st, 5);
    r->error = sqlite3_column_int(st, 6) == SL_STATUS_ERROR;
    r->shared = (sqlite3_column_int(st, 7) & SL_SPAN_SHARED) != 0;
    r->dur = sqlite3_column_int64(st, 8);
    t->nrec++;
    if (t->nrec >= t->want) return trace_flush(sc, (size_t)(t - sc->open));
    return SQLITE_OK;
}

/* One pass over the spans of the selected traces. */
static int scan_spans(dep_scan *sc)
{
    static const char cols[] =
        "SELECT trace_ref, " SL_HEXID_SQL("span_id") ", " SL_HEXID_SQL("parent_span_id") ", service_id, remote_service_id,"
        " kind, status, flags, duration_ns FROM span";
    /* A narrow window reads its trace_ref range through span_identity;
     * otherwise a plain table scan in rowid order is fastest. */
    int ranged = sc->nsel * 2 < sc->ntraces;
    char *sql = sqlite3_mprintf("%s%s", cols, ranged ? " WHERE trace_ref BETWEEN ?1 AND ?2" : "");
    if (!sql) return SQLITE_NOMEM;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sc->db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        scan_fail(sc, "not a spanlite warehouse (table span)");
        return rc;
    }
    if (ranged) {
        sqlite3_bind_int64(st, 1, sc->lo);
        sqlite3_bind_int64(st, 2, sc->hi);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = add_row(sc, st)) != SQLITE_OK) break;
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    else if (rc != SQLITE_NOMEM) scan_fail(sc, "reading table span");
    sqlite3_finalize(st);
    /* Traces whose span_count was never reached. */
    while (rc == SQLITE_OK && sc->nopen) rc = trace_flush(sc, sc->nopen - 1);
    return rc;
}

static void scan_free(dep_scan *sc)
{
    for (size_t i = 0; i < sc->ocap; i++) {
        free(sc->open[i].recs);
        free(sc->open[i].text);
    }
    free(sc->open);
    free(sc->spans);
    free(sc->want);
}

/* ---- SQL glue: the eponymous virtual table ----------------------------- */

enum { COL_PARENT, COL_CHILD, COL_CALLS, COL_ERRORS, COL_AVG, COL_P50, COL_P99,
       COL_SINCE, COL_UNTIL, COL_EXACT, NHIDDEN = 3 };

typedef struct dep_row {
    char *parent, *child;
    sl_dep_link link;
} dep_row;

typedef struct dep_vtab {
    sqlite3_vtab base;
    sqlite3 *db;
} dep_vtab;

typedef struct dep_cursor {
    sqlite3_vtab_cursor base;
    dep_row *rows;
    size_t nrows, pos;
    sqlite3_value *since, *until, *exact; /* copies of the arguments */
} dep_cursor;

static int dep_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **out, char **err)
{
    (void)aux; (void)argc; (void)argv; (void)err;
    int rc = sqlite3_declare_vtab(db,
        "CREATE TABLE x(parent TEXT, child TEXT, call_count INTEGER, error_count INTEGER,"
        " avg_ns REAL, p50_ns REAL, p99_ns REAL, since_ns HIDDEN, until_ns HIDDEN, exact HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    dep_vtab *t = sqlite3_malloc(sizeof *t);
    if (!t) return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->db = db;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &t->base;
    return SQLITE_OK;
}

static int dep_disconnect(sqlite3_vtab *tab)
{
    sqlite3_free(tab);
    return SQLITE_OK;
}

/* idxNum bit k set: hidden column k (since_ns, until_ns, exact) given, in
 * argv in that order.  Bit NO_QUANTILES: p50_ns and p99_ns are not read, so
 * the rollups need not merge sketches (most of their cost over many hours). */
#define NO_QUANTILES (1 << NHIDDEN)
static int dep_best_index(sqlite3_vtab *tab, sqlite3_index_info *info)
{
    (void)tab;
    int where[NHIDDEN] = {-1, -1, -1}, unusable = 0;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        int col = c->iColumn - COL_SINCE;
        if (col < 0 || col >= NHIDDEN || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        if (!c->usable) unusable |= 1 << col;
        else where[col] = i;
    }
    /* Like series.c: an argument we cannot have yet rules this plan out. */
    for (int k = 0; k < NHIDDEN; k++)
        if (unusable & 1 << k && where[k] < 0) return SQLITE_CONSTRAINT;
    int argv = 0;
    info->idxNum = 0;
    for (int k = 0; k < NHIDDEN; k++) {
        if (where[k] < 0) continue;
        info->aConstraintUsage[where[k]].argvIndex = ++argv;
        info->aConstraintUsage[where[k]].omit = 1;
        info->idxNum |= 1 << k;
    }
    if (!(info->colUsed & ((sqlite3_uint64)1 << COL_P50 | (sqlite3_uint64)1 << COL_P99)))
        info->idxNum |= NO_QUANTILES;
    info->estimatedCost = info->idxNum & ((1 << NHIDDEN) - 1) ? 1e5 : 1e6;
    info->estimatedRows = 100;
    return SQLITE_OK;
}

static int dep_open(sqlite3_vtab *tab, sqlite3_vtab_cursor **out)
{
    (void)tab;
    dep_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static void rows_free(dep_cursor *c)
{
    for (size_t i = 0; i < c->nrows; i++) {
        sqlite3_free(c->rows[i].parent);
        sqlite3_free(c->rows[i].child);
    }
    sqlite3_free(c->rows);
    c->rows = NULL;
    c->nrows = c->pos = 0;
    sqlite3_value_free(c->since);
    sqlite3_value_free(c->until);
    sqlite3_value_free(c->exact);
    c->since = c->until = c->exact = NULL;
}

static int dep_close(sqlite3_vtab_cursor *cur)
{
    rows_free((dep_cursor *)cur);
    sqlite3_free(cur);
    return SQLITE_OK;
}

/* service.id -> name, for the services that occur in links. */
static int load_names(sqlite3 *db, char ***names, int64_t *nnames)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT id, name FROM service ORDER BY id DESC", -1, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    char **v = NULL;
    int64_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 0 || id > (int64_t)NONE) continue;
        if (!v) { /* first row has the largest id */
            n = id + 1;
            if (!(v = calloc((size_t)n, sizeof *v))) { rc = SQLITE_NOMEM; break; }
        }
        if (id < n && !(v[id] = sqlite3_mprintf("%s", sqlite3_column_text(st, 1)))) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(st);
    *names = v;
    *nnames = n;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int cmp_row(const void *a, const void *b)
{
    const dep_row *x = a, *y = b;
    int c = strcmp(x->parent, y->parent);
    return c ? c : strcmp(x->child, y->child);
}

static int make_rows(dep_cursor *c, sqlite3 *db, sl_deps *deps)
{
    const sl_dep_link *links;
    size_t n;
    if (sl_deps_links(deps, &links, &n) != SL_OK) return SQLITE_NOMEM;
    char **names = NULL;
    int64_t nnames = 0;
    int rc = load_names(db, &names, &nnames);
    if (rc == SQLITE_OK && n && !(c->rows = sqlite3_malloc64(sizeof *c->rows * n))) rc = SQLITE_NOMEM;
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        const sl_dep_link *l = &links[i];
        const char *p = (int64_t)l->parent < nnames && names[l->parent] ? names[l->parent] : "?";
        const char *ch = (int64_t)l->child < nnames && names[l->child] ? names[l->child] : "?";
        dep_row *r = &c->rows[c->nrows];
        r->parent = sqlite3_mprintf("%s", p);
        r->child = sqlite3_mprintf("%s", ch);
        r->link = *l;
        c->nrows++;
        if (!r->parent || !r->child) rc = SQLITE_NOMEM;
    }
    for (int64_t i = 0; i < nnames; i++) sqlite3_free(names[i]);
    free(names);
    if (rc == SQLITE_OK && c->nrows > 1) qsort(c->rows, c->nrows, sizeof *c->rows, cmp_row);
    return rc;
}

/* Exact: link every selected trace now (the full scan). */
static int filter_exact(dep_cursor *c, dep_vtab *t)
{
    dep_scan sc;
    memset(&sc, 0, sizeof sc);
    sc.db = t->db;
    if (!(sc.deps = sl_deps_new())) return SQLITE_NOMEM;
    int rc = load_counts(&sc, c->since, c->until);
    if (rc == SQLITE_OK) rc = scan_spans(&sc);
    if (rc == SQLITE_OK) {
        rc = make_rows(c, t->db, sc.deps);
        if (rc != SQLITE_OK && rc != SQLITE_NOMEM) scan_fail(&sc, "reading table service");
    }
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
        sqlite3_free(t->base.zErrMsg);
        t->base.zErrMsg = sqlite3_mprintf("%s", sc.err[0] ? sc.err : "dependencies(): failed");
    }
    scan_free(&sc);
    sl_deps_free(sc.deps);
    return rc;
}

/* The hourly rollups answer when the window is whole hours (or open) and
 * they exist; p50/p99 are then sketch estimates (link_rollup.h). */
static int rollups_answer(dep_cursor *c, dep_vtab *t)
{
    sqlite3_value *ends[2] = {c->since, c->until};
    if (c->exact && sqlite3_value_int(c->exact)) return 0;
    for (int i = 0; i < 2; i++) {
        if (!ends[i] || sqlite3_value_type(ends[i]) == SQLITE_NULL) continue;
        if (sqlite3_value_type(ends[i]) != SQLITE_INTEGER) return 0;
        if (sqlite3_value_int64(ends[i]) % 3600000000000LL) return 0;
    }
    sqlite3_stmt *probe = NULL; /* a warehouse older than schema 004 has none */
    int have = sqlite3_prepare_v2(t->db, "SELECT 1 FROM link_hour", -1, &probe, NULL) == SQLITE_OK;
    sqlite3_finalize(probe);
    return have;
}

static int filter_rollups(dep_cursor *c, dep_vtab *t, int quantiles)
{
    const char *sql = quantiles ?
        "SELECT p.name, ch.name, l.calls, l.errors, l.total / l.calls, l.m"
        " FROM (SELECT parent_id, child_id, sum(calls) AS calls, sum(errors) AS errors,"
        "   total(sum_ns) AS total, sketch_merge(sketch) AS m FROM link_hour"
        "   WHERE (?1 IS NULL OR bucket_ns >= ?1) AND (?2 IS NULL OR bucket_ns < ?2)"
        "   GROUP BY parent_id, child_id) l"
        " JOIN service p ON p.id = l.parent_id JOIN service ch ON ch.id = l.child_id"
        " WHERE l.calls > 0" :
        "SELECT p.name, ch.name, l.calls, l.errors, l.total / l.calls, NULL"
        " FROM (SELECT parent_id, child_id, sum(calls) AS calls, sum(errors) AS errors,"
        "   total(sum_ns) AS total FROM link_hour"
        "   WHERE (?1 IS NULL OR bucket_ns >= ?1) AND (?2 IS NULL OR bucket_ns < ?2)"
        "   GROUP BY parent_id, child_id) l"
        " JOIN service p ON p.id = l.parent_id JOIN service ch ON ch.id = l.child_id"
        " WHERE l.calls > 0";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(t->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (c->since) sqlite3_bind_value(st, 1, c->since);
        if (c->until) sqlite3_bind_value(st, 2, c->until);
    }
    size_t cap = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        if (c->nrows == cap) {
            size_t nc = cap ? cap * 2 : 64;
            dep_row *r = sqlite3_realloc64(c->rows, sizeof *r * nc);
            if (!r) { rc = SQLITE_NOMEM; break; }
            c->rows = r;
            cap = nc;
        }
        dep_row *r = &c->rows[c->nrows];
        memset(r, 0, sizeof *r);
        c->nrows++;
        r->parent = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
        r->child = sqlite3_mprintf("%s", sqlite3_column_text(st, 1));
        if (!r->parent || !r->child) rc = SQLITE_NOMEM;
        r->link.calls = (uint64_t)sqlite3_column_int64(st, 2);
        r->link.errors = (uint64_t)sqlite3_column_int64(st, 3);
        r->link.avg_ns = sqlite3_column_double(st, 4);
        const void *m = sqlite3_column_blob(st, 5);
        size_t mn = (size_t)sqlite3_column_bytes(st, 5);
        if (m && (sl_sketch_blob_percentile(m, mn, 50, &r->link.p50_ns) ||
                  sl_sketch_blob_percentile(m, mn, 99, &r->link.p99_ns))) {
            rc = SQLITE_CORRUPT;
            break;
        }
    }
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
        sqlite3_free(t->base.zErrMsg);
        t->base.zErrMsg = sqlite3_mprintf("dependencies(): reading link_hour: %s", sqlite3_errmsg(t->db));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && c->nrows > 1) qsort(c->rows, c->nrows, sizeof *c->rows, cmp_row);
    return rc;
}

static int dep_filter(sqlite3_vtab_cursor *cur, int idx_num, const char *idx_str,
                      int argc, sqlite3_value **argv)
{
    (void)idx_str;
    dep_cursor *c = (dep_cursor *)cur;
    dep_vtab *t = (dep_vtab *)cur->pVtab;
    sqlite3_value **arg[NHIDDEN] = {&c->since, &c->until, &c->exact};
    rows_free(c);
    for (int k = 0, i = 0; k < NHIDDEN; k++) /* the argv order of dep_best_index */
        if ((idx_num & 1 << k) && i < argc && !(*arg[k] = sqlite3_value_dup(argv[i++]))) return SQLITE_NOMEM;
    return rollups_answer(c, t) ? filter_rollups(c, t, !(idx_num & NO_QUANTILES)) : filter_exact(c, t);
}

static int dep_next(sqlite3_vtab_cursor *cur)
{
    ((dep_cursor *)cur)->pos++;
    return SQLITE_OK;
}

static int dep_eof(sqlite3_vtab_cursor *cur)
{
    dep_cursor *c = (dep_cursor *)cur;
    return c->pos >= c->nrows;
}

static int dep_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    dep_cursor *c = (dep_cursor *)cur;
    const dep_row *r = &c->rows[c->pos];
    switch (col) {
    case COL_PARENT: sqlite3_result_text(ctx, r->parent, -1, SQLITE_TRANSIENT); break;
    case COL_CHILD: sqlite3_result_text(ctx, r->child, -1, SQLITE_TRANSIENT); break;
    case COL_CALLS: sqlite3_result_int64(ctx, (sqlite3_int64)r->link.calls); break;
    case COL_ERRORS: sqlite3_result_int64(ctx, (sqlite3_int64)r->link.errors); break;
    case COL_AVG: sqlite3_result_double(ctx, r->link.avg_ns); break;
    case COL_P50: sqlite3_result_double(ctx, r->link.p50_ns); break;
    case COL_P99: sqlite3_result_double(ctx, r->link.p99_ns); break;
    case COL_SINCE: if (c->since) sqlite3_result_value(ctx, c->since); break;
    case COL_UNTIL: if (c->until) sqlite3_result_value(ctx, c->until); break;
    default: if (c->exact) sqlite3_result_value(ctx, c->exact); break;
    }
    return SQLITE_OK;
}

static int dep_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((dep_cursor *)cur)->pos + 1;
    return SQLITE_OK;
}

static const sqlite3_module dep_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = dep_connect,
    .xBestIndex = dep_best_index,
    .xDisconnect = dep_disconnect,
    .xDestroy = NULL,
    .xOpen = dep_open,
    .xClose = dep_close,
    .xFilter = dep_filter,
    .xNext = dep_next,
    .xEof = dep_eof,
    .xColumn = dep_column,
    .xRowid = dep_rowid,
};

int sl_dependencies_register(sqlite3 *db)
{
    return sqlite3_create_module(db, "dependencies", &dep_module, NULL);
}
