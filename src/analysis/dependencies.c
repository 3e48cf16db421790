/*
 * analysis/dependencies.c -- service dependency links; see dependencies.h.
 *
 * Zipkin's DependencyLinker builds a span tree per trace and reads links off
 * it.  The rules, numbered for the code to cite (Zipkin file in brackets):
 *
 *   The local endpoint of a span is (service, ipv4, ipv6, port), each
 *   possibly unknown (0 / NULL); with all four unknown it is Zipkin's null
 *   endpoint.
 *   R1 Merge [Trace.merge, CLEANUP_COMPARATOR, EndpointTracker].  Spans are
 *      ordered by (id, shared last, client first, endpoint: the null
 *      endpoint first, then service, ipv4, ipv6, unknown last in each) and
 *      consecutive spans with one id, the same shared flag and compatible
 *      local endpoints (each of the four fields equal or unknown on one
 *      side, against what the parts merged so far know) are parts of one
 *      span: merged, missing fields (endpoint fields included) filled from
 *      the later part, errors or'ed.  So shared SERVER spans with one id
 *      on different hosts (one service, other ipv4/ipv6/port) stay apart
 *      and each makes its link.  A SERVER span following a CLIENT with its
 *      id is marked shared; a shared span without a parent id takes the
 *      client's.
 *   R2 Tree [SpanNode.Builder].  A shared span is the child of the client
 *      with its id.  A span whose parent id names a shared span with the
 *      span's own local endpoint (all four fields equal) hangs under that
 *      shared span, else under the span with that id.  The first parentless span (in R1 order) is the
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
 * The SQL function dependencies over this linker is sql/dependencies.c.
 */
#include "analysis/dependencies.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/sort.h"
#include "base/map.h"
#include "spanlite.h"

#define NONE UINT32_MAX

/* ---- Link aggregation --------------------------------------------------- */

typedef struct dep_agg {
    sl_dep_link link;
    int64_t *durs;    /* one per call */
    size_t ndur, cap;
} dep_agg;

/* A key of the span tree: (span id, shared, local endpoint); see R2.  The
 * endpoint is that of a span (ep), NULL for the null endpoint. */
typedef struct dep_key {
    const char *id;
    uint64_t hash;
    const sl_dep_span *ep;
    uint32_t shared;
} dep_key;

struct sl_deps {
    dep_agg *aggs;          /* one per link */
    size_t naggs, agg_cap;
    sl_map links;           /* parent << 32 | child -> index in aggs[] */
    sl_dep_link *out;       /* sl_deps_links() result */
    /* per-trace scratch, grown to the largest trace */
    uint32_t cap;
    sl_dep_span *m;         /* merged spans (R1) */
    uint32_t nm;
    uint32_t *order, *tmp;
    dep_key *keys;
    uint32_t nkeys, kcap;
    /* key hash table (also the id table of the fast path): a table of its
     * own rather than base/map.h, as its keys are the caller's strings,
     * borrowed, a slot is a 32-bit index, and it is reset per trace with one
     * memset, so linking a trace allocates nothing */
    uint32_t *kslots;
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

static uint64_t hash_id(const char *id) { return sl_hash_bytes(SL_HASH_INIT, id, strlen(id)); }

sl_deps *sl_deps_new(void)
{
    sl_deps *d = malloc(sizeof *d);
    if (!d) return NULL;
    memset(d, 0, sizeof *d);
    sl_map_init(&d->links);
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
    sl_map_free(&d->links);
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
    if (sl_array_reserve(&d->aggs, &d->agg_cap, d->naggs + 1, sizeof *d->aggs, 32)) return NULL;
    int created;
    uint64_t *slot = sl_map_put(&d->links, (uint64_t)parent << 32 | child, &created);
    if (!slot) return NULL;
    if (!created) return &d->aggs[*slot];
    dep_agg *a = &d->aggs[d->naggs];
    memset(a, 0, sizeof *a);
    a->link.parent = parent;
    a->link.child = child;
    *slot = d->naggs++;
    return a;
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
    if (sl_array_reserve(&a->durs, &a->cap, a->ndur + 1, sizeof *a->durs, 8)) return SL_NOMEM;
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

/* The span has a local endpoint (not Zipkin's null one). */
static int has_endpoint(const sl_dep_span *x)
{
    return x->service || has_text(x->ipv4) || has_text(x->ipv6) || x->port > 0;
}

/* Trace.nullSafeCompareTo: unknown last. */
static int cmp_text_unknown_last(const char *a, const char *b)
{
    if (!has_text(a)) return has_text(b) ? 1 : 0;
    if (!has_text(b)) return -1;
    return strcmp(a, b);
}

/* The same local endpoint (SharedKey's Endpoint.equals); NULL is the null one. */
static int same_text(const char *a, const char *b)
{
    if (!has_text(a) || !has_text(b)) return !has_text(a) && !has_text(b);
    return strcmp(a, b) == 0;
}

static int same_endpoint(const sl_dep_span *x, const sl_dep_span *y)
{
    if (!x || !y) return !x && !y;
    return x->service == y->service && same_text(x->ipv4, y->ipv4) && same_text(x->ipv6, y->ipv6) &&
           (x->port > 0 ? x->port : 0) == (y->port > 0 ? y->port : 0);
}

/* Trace.CLEANUP_COMPARATOR on input indices; ties keep input order.
 * Services compare by the caller's ids, Zipkin's by name: the order only
 * decides which parts are adjacent among compatible ones. */
static int cmp_cleanup(const void *ctx, uint32_t a, uint32_t b)
{
    const sl_dep_span *s = ctx;
    const sl_dep_span *x = &s[a], *y = &s[b];
    int c = strcmp(x->span_id, y->span_id);
    if (c) return c;
    if (!x->shared != !y->shared) return x->shared ? 1 : -1;
    if (!x->shared) {
        int xc = zkind(x->kind) == SL_KIND_CLIENT, yc = zkind(y->kind) == SL_KIND_CLIENT;
        if (xc != yc) return xc ? -1 : 1;
    }
    int xe = has_endpoint(x), ye = has_endpoint(y);
    if (xe != ye) return xe ? 1 : -1; /* null endpoints first */
    if (xe && x->service != y->service) {
        if (!x->service) return 1; /* unknown service last */
        if (!y->service) return -1;
        return x->service < y->service ? -1 : 1;
    }
    if (xe && (c = cmp_text_unknown_last(x->ipv4, y->ipv4)) != 0) return c;
    if (xe && (c = cmp_text_unknown_last(x->ipv6, y->ipv6)) != 0) return c;
    return a < b ? -1 : a > b;
}

/* Span.Builder.merge: fill what is missing from the next part. */
static void merge_into(sl_dep_span *x, const sl_dep_span *y)
{
    if (!has_text(x->parent_span_id)) x->parent_span_id = y->parent_span_id;
    if (!zkind(x->kind)) x->kind = y->kind;
    if (!x->service) x->service = y->service;
    if (!has_text(x->ipv4)) x->ipv4 = y->ipv4;
    if (!has_text(x->ipv6)) x->ipv6 = y->ipv6;
    if (x->port <= 0) x->port = y->port;
    if (!x->remote_service) x->remote_service = y->remote_service;
    if (!x->duration_ns) x->duration_ns = y->duration_ns;
    x->error = x->error || y->error;
    x->shared = x->shared || y->shared;
}

static void merge_trace(sl_deps *d, const sl_dep_span *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) d->order[i] = i;
    sl_sort_index(d->order, d->tmp, n, cmp_cleanup, s);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        sl_dep_span cur = s[d->order[i]];
        /* EndpointTracker: what the parts merged so far know of the endpoint */
        sl_dep_span ep = cur;
        while (i + 1 < n) {
            const sl_dep_span *next = &s[d->order[i + 1]];
            if (strcmp(next->span_id, cur.span_id) != 0) break;
            if (!cur.shared != !next->shared) break;
            if (ep.service && next->service && ep.service != next->service) break;
            if (has_text(ep.ipv4) && has_text(next->ipv4) && strcmp(ep.ipv4, next->ipv4) != 0) break;
            if (has_text(ep.ipv6) && has_text(next->ipv6) && strcmp(ep.ipv6, next->ipv6) != 0) break;
            if (ep.port > 0 && next->port > 0 && ep.port != next->port) break;
            if (!ep.service) ep.service = next->service;
            if (!has_text(ep.ipv4)) ep.ipv4 = next->ipv4;
            if (!has_text(ep.ipv6)) ep.ipv6 = next->ipv6;
            if (ep.port <= 0) ep.port = next->port;
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

static uint64_t hash_text(const char *s) { return has_text(s) ? hash_id(s) : 0; }

/* Key index of (id, shared, local endpoint of ep, NULL: the null one);
 * created when create, else NONE if absent.  Unshared keys are the id alone. */
static uint32_t key_find(sl_deps *d, const char *id, int shared, const sl_dep_span *ep, int create)
{
    if (!shared || (ep && !has_endpoint(ep))) ep = NULL;
    uint64_t eh = 0;
    if (ep)
        eh = sl_hash_mix64(((uint64_t)ep->service << 20 | (uint64_t)(ep->port > 0 ? ep->port : 0)) ^
                           hash_text(ep->ipv4) ^ sl_hash_mix64(hash_text(ep->ipv6) + 1));
    uint64_t h0 = hash_id(id) ^ sl_hash_mix64(eh << 1 | (shared != 0));
    uint32_t mask = d->kmask;
    for (uint32_t h = (uint32_t)h0 & mask;; h = (h + 1) & mask) {
        uint32_t k = d->kslots[h];
        if (k == NONE) {
            if (!create) return NONE;
            k = d->nkeys++;
            d->keys[k].id = id;
            d->keys[k].hash = h0;
            d->keys[k].ep = ep;
            d->keys[k].shared = shared != 0;
            d->s2p_has[k] = 0;
            d->k2n[k] = NONE;
            d->kslots[h] = k;
            return k;
        }
        const dep_key *x = &d->keys[k];
        if (x->hash == h0 && x->shared == (uint32_t)(shared != 0) && same_endpoint(x->ep, ep) &&
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
            idk = key_find(d, s->span_id, 1, s, 1);
            pk = key_find(d, s->span_id, 0, NULL, 1);
        } else {
            idk = key_find(d, s->span_id, 0, NULL, 1);
            pk = has_text(s->parent_span_id) ? key_find(d, s->parent_span_id, 0, NULL, 1) : NONE;
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
        uint32_t key = key_find(d, s->span_id, shared, s, 1);
        uint32_t noep = has_endpoint(s) ? key_find(d, s->span_id, shared, NULL, 1) : key;
        uint32_t parent = NONE;
        if (shared) {
            parent = key_find(d, s->span_id, 0, NULL, 1);
        } else if (has_text(s->parent_span_id)) {
            uint32_t cand = key_find(d, s->parent_span_id, 1, s, 0);
            if (cand != NONE && d->s2p_has[cand]) {
                d->s2p_has[noep] = 1;
                d->s2p[noep] = cand;
                parent = cand;
            } else {
                parent = key_find(d, s->parent_span_id, 0, NULL, 1);
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
        uint64_t h0 = hash_id(s[i].span_id);
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
            uint64_t h0 = hash_id(s[i].parent_span_id);
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
        uint32_t k = key_find(d, s[i].span_id, 0, NULL, 1);
        if (d->k2n[k] == NONE) d->k2n[k] = i;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!has_text(s[i].parent_span_id)) continue;
        uint32_t k = key_find(d, s[i].parent_span_id, 0, NULL, 0);
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
