/*
 * analysis/critical_path.c -- the critical path of one trace; see critical_path.h.
 * The SQL function critical_path(trace_id) over this engine is in
 * sql/critical_path.c.
 *
 * The semantics are those of Jaeger UI (jaegertracing/jaeger-ui,
 * packages/jaeger-ui/src/components/TracePage/CriticalPath/index.ts and
 * utils/{cpspan,getChildOfSpans,sanitizeOverFlowingChildren,
 * findLastFinishingChildSpan}.ts; the children lists come from
 * getTraceSpanIdsAsTree in packages/jaeger-ui/src/selectors/trace.tsx).
 * Numbered so that the code can cite them:
 *
 *   R0 Order.  nodes[] is the trace in arrival order, the order in which
 *      its spans were delivered (in a warehouse: span rowid, the order of
 *      import).  getTraceSpanIdsAsTree pushes each span onto its parent's
 *      children in delivery order and then sorts every children list by
 *      start time with JavaScript's stable sort, so spans that start at the
 *      same instant keep their delivery order; here "start order" is
 *      (start_ns, position in nodes[]) everywhere: children, roots and the
 *      spans sharing one id.  Span ids never decide.
 *   R1 Tree.  A span's parent is the span whose id is its parent_span_id.
 *      Spans sharing one id (Zipkin shared client/server halves) are handled
 *      as Jaeger's DeduplicateClientServerSpanIDs adjuster does: a "server
 *      half" (shared flag set, or kind SERVER when a CLIENT span has the same
 *      id) becomes the child of the client half, and children naming that id
 *      attach to the server half.  With several candidates the first one in
 *      start order (R0) wins; a span never becomes its own parent.
 *   R2 Roots.  Every top-level span (no parent id, or a parent id that is
 *      not in the trace) is a root, as trace.rootSpans is upstream; roots
 *      are walked one after another in start order and their sections
 *      concatenated.  Spans caught in a parent cycle are unreachable.
 *   R3 Non-blocking.  A CONSUMER child of a PRODUCER span does not block
 *      its parent: it is dropped with its whole subtree (cpspan.ts,
 *      isBlockingSpan).  Roots always count.
 *   R4 Clamping, parents first, so that a grandchild is clamped to its
 *      already clamped parent: a child wholly outside its parent (starting
 *      at or after the parent's end, or ending at or before its start) is
 *      dropped with its subtree; otherwise its start and end are cut to the
 *      parent's interval.
 *   R5 From a span's end, the last-finishing child takes the path; the gap
 *      between that child's end and the span's end belongs to the span.
 *      Ties (children whose clamped ends are equal) go to the child met
 *      first in start order (R0): findLastFinishingChildSpan walks
 *      childSpanIDs in that order and replaces its pick only on a strictly
 *      later end.  So an earlier start wins, and at equal starts the span
 *      delivered first.
 *   R6 Back at the parent after a child, the next child must finish
 *      strictly before the returning child starts; the gap up to that start
 *      again belongs to the parent.  With no such child the path runs to the
 *      parent's start and returns to the grandparent, and so on to the root.
 *   R7 Zero-length sections are omitted; a span may own several sections.
 *
 * Deliberate difference: upstream tests `returningChildStartTime ||
 * span.endTime`, so a child starting at time 0 is mistaken for "no
 * returning child"; here a flag is used, which differs only at epoch 0.
 *
 * Cost: O(n log n).  Children are sorted once by (clamped end desc, start)
 * and each parent keeps a cursor into its list: the successive returning
 * times at one parent strictly decrease (R6), so a child skipped once is
 * never eligible again, and the whole walk is linear after the sort.
 */
#include "analysis/critical_path.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/sort.h"
#include "spanlite.h"

#define NONE UINT32_MAX

/*
 * Working memory, kept between runs so that calling the function once per
 * trace (the joined form) allocates nothing after the largest trace; fresh
 * pages are expensive, so indices are 32-bit and scratch arrays are shared.
 */
struct sl_cp_work {
    const sl_cp_node *nodes;
    uint32_t n, cap;       /* nodes in this run; capacity of the arrays */
    uint32_t nslots;       /* id hash table size, a power of two */
    uint32_t *order;       /* nodes in start order (rank -> node) */
    uint32_t *rank;        /* node -> rank */
    uint32_t *slots;       /* id hash table: node or NONE */
    uint32_t *group;       /* node -> first node (start order) with its id */
    uint32_t *gnext;       /* next node with the same id, start order */
    uint32_t *rep;         /* group head -> node the id's children attach to */
    uint32_t *client;      /* group head -> client half, or NONE */
    uint32_t *parent;      /* node -> parent or NONE */
    uint32_t *cstart;      /* CSR offsets of children[] (n + 1) */
    uint32_t *children;    /* children in start order */
    uint32_t *kstart;      /* CSR offsets of kids[] (n + 1) */
    uint32_t *kids;        /* live children, last-finishing first */
    uint32_t *scratch;     /* tails, fill pointers, stack, sort buffer, cursors */
    unsigned char *flags;  /* SERVER_HALF | ALIVE */
    int64_t *cs, *ce;      /* clamped interval */
    sl_cp_section *sec;    /* result, room for 2n + 1 */
};

enum { SERVER_HALF = 1, ALIVE = 2 };

/* Start order: start time, then arrival order (the position in nodes[]), as
 * Jaeger UI's stable sort of each node's children by start time leaves
 * them (R0). */
static int cmp_start(const void *ctx, uint32_t a, uint32_t b)
{
    const sl_cp_work *w = ctx;
    const sl_cp_node *x = &w->nodes[a], *y = &w->nodes[b];
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    return (a > b) - (a < b);
}

/* R5 order: clamped end descending, then start order (R0). */
static int cmp_lfc(const void *ctx, uint32_t a, uint32_t b)
{
    const sl_cp_work *w = ctx;
    if (w->ce[a] != w->ce[b]) return w->ce[a] > w->ce[b] ? -1 : 1;
    return w->rank[a] < w->rank[b] ? -1 : w->rank[a] > w->rank[b];
}

static uint64_t hash_str(const char *s) { return sl_hash_bytes(SL_HASH_INIT, s, strlen(s)); }

static int has_text(const char *s) { return s && *s; }

/* First node (start order) with this id, or NONE; with insert, node i
 * is entered when the id is new.  A table of its own rather than base/map.h:
 * the keys are the caller's strings, borrowed, not copied (sl_strmap copies
 * each), a slot is a 32-bit node index, and the table is reused from trace
 * to trace with one memset, so a run allocates nothing. */
static uint32_t id_find(sl_cp_work *w, const char *id, uint32_t insert)
{
    uint32_t mask = w->nslots - 1;
    for (uint32_t h = (uint32_t)hash_str(id) & mask;; h = (h + 1) & mask) {
        uint32_t v = w->slots[h];
        if (v == NONE) {
            if (insert != NONE) w->slots[h] = insert;
            return insert;
        }
        if (strcmp(w->nodes[v].span_id, id) == 0) return v;
    }
}

sl_cp_work *sl_cp_work_new(void)
{
    sl_cp_work *w = malloc(sizeof *w);
    if (w) memset(w, 0, sizeof *w);
    return w;
}

static void work_release(sl_cp_work *w)
{
    free(w->order); free(w->rank); free(w->slots); free(w->group); free(w->gnext);
    free(w->rep); free(w->client); free(w->parent); free(w->cstart); free(w->children);
    free(w->kstart); free(w->kids); free(w->scratch); free(w->flags); free(w->cs);
    free(w->ce); free(w->sec);
    memset(w, 0, sizeof *w);
}

void sl_cp_work_free(sl_cp_work *w)
{
    if (!w) return;
    work_release(w);
    free(w);
}

/* Room for n nodes; untouched capacity costs address space only. */
static int work_reserve(sl_cp_work *w, uint32_t n)
{
    if (n <= w->cap && w->order) return SL_OK;
    work_release(w);
    uint32_t cap = n < 64 ? 64 : n;
    uint32_t slots = 16;
    while (slots < 2 * cap) slots <<= 1;
#define A(p, k) ((p) = malloc(sizeof *(p) * (size_t)(k)))
    if (!A(w->order, cap) || !A(w->rank, cap) || !A(w->slots, slots) || !A(w->group, cap) ||
        !A(w->gnext, cap) || !A(w->rep, cap) || !A(w->client, cap) || !A(w->parent, cap) ||
        !A(w->cstart, cap + 1) || !A(w->children, cap) || !A(w->kstart, cap + 1) ||
        !A(w->kids, cap) || !A(w->scratch, cap) || !A(w->flags, cap) || !A(w->cs, cap) ||
        !A(w->ce, cap) || !A(w->sec, 2 * (size_t)cap + 1)) {
        work_release(w);
        return SL_NOMEM;
    }
#undef A
    w->cap = cap;
    w->nslots = slots;
    return SL_OK;
}

static void rank_nodes(sl_cp_work *w)
{
    int sorted = 1;
    for (uint32_t i = 0; i < w->n; i++) {
        w->order[i] = i;
        if (i && sorted && cmp_start(w, i - 1, i) > 0) sorted = 0;
    }
    /* Spans are usually stored in start order already. */
    if (!sorted) sl_sort_index(w->order, w->scratch, w->n, cmp_start, w);
    for (uint32_t r = 0; r < w->n; r++) w->rank[w->order[r]] = r;
}

/* Groups of nodes sharing a span id, each in start order. */
static void group_ids(sl_cp_work *w)
{
    memset(w->slots, 0xff, sizeof *w->slots * w->nslots);
    uint32_t *tail = w->scratch;
    for (uint32_t r = 0; r < w->n; r++) {
        uint32_t i = w->order[r];
        uint32_t h = id_find(w, w->nodes[i].span_id, i);
        w->group[i] = h;
        w->gnext[i] = NONE;
        if (h != i) w->gnext[tail[h]] = i;
        tail[h] = i;
    }
}

/* R1's shared-span rule (critical_path.h). */
int sl_cp_client_half(int kind, int shared) { return kind == SL_KIND_CLIENT && !shared; }
int sl_cp_server_half(int kind, int shared, int group_has_client)
{
    return shared || (kind == SL_KIND_SERVER && group_has_client);
}

/* R1: server halves, client halves and the node each id resolves to. */
static void resolve_shared(sl_cp_work *w)
{
    for (uint32_t i = 0; i < w->n; i++) w->flags[i] = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        if (w->group[i] != i) continue;
        w->rep[i] = i;
        w->client[i] = NONE;
        if (w->gnext[i] == NONE) continue;
        int has_client = 0;
        for (uint32_t j = i; j != NONE; j = w->gnext[j])
            if (sl_cp_client_half(w->nodes[j].kind, w->nodes[j].shared)) has_client = 1;
        uint32_t rep = NONE, client = NONE;
        for (uint32_t j = i; j != NONE; j = w->gnext[j]) {
            const sl_cp_node *x = &w->nodes[j];
            if (sl_cp_server_half(x->kind, x->shared, has_client)) {
                w->flags[j] |= SERVER_HALF;
                if (rep == NONE) rep = j;
            } else if (client == NONE) {
                client = j;
            }
        }
        if (rep != NONE) {
            w->rep[i] = rep;
            w->client[i] = client;
        }
    }
}

static void link_parents(sl_cp_work *w)
{
    for (uint32_t i = 0; i < w->n; i++) {
        const sl_cp_node *x = &w->nodes[i];
        uint32_t p = NONE;
        if ((w->flags[i] & SERVER_HALF) && w->client[w->group[i]] != NONE) {
            p = w->client[w->group[i]];
        } else if (has_text(x->parent_span_id)) {
            uint32_t g = id_find(w, x->parent_span_id, NONE);
            if (g != NONE) p = w->rep[g];
        }
        w->parent[i] = p == i ? NONE : p;
    }
}

/* Children lists (CSR), each in start order. */
static void build_children(sl_cp_work *w)
{
    uint32_t n = w->n;
    memset(w->cstart, 0, sizeof *w->cstart * (n + 1));
    for (uint32_t i = 0; i < n; i++)
        if (w->parent[i] != NONE) w->cstart[w->parent[i] + 1]++;
    for (uint32_t i = 0; i < n; i++) w->cstart[i + 1] += w->cstart[i];
    uint32_t *fill = w->scratch;
    memcpy(fill, w->cstart, sizeof *fill * n);
    for (uint32_t r = 0; r < n; r++) {
        uint32_t i = w->order[r];
        if (w->parent[i] != NONE) w->children[fill[w->parent[i]]++] = i;
    }
}

/* R4: clamp child c into its parent's clamped interval; 0 = drop. */
static int clamp_child(sl_cp_work *w, uint32_t p, uint32_t c)
{
    int64_t ps = w->cs[p], pe = w->ce[p];
    int64_t s = w->nodes[c].start_ns, e = w->nodes[c].end_ns;
    if (s >= ps) {
        if (s >= pe) return 0;
    } else {
        if (e <= ps) return 0;
        s = ps;
    }
    w->cs[c] = s;
    w->ce[c] = e > pe ? pe : e;
    return 1;
}

/* R3 and R4, depth first from every root so parents are settled first. */
static void prune_and_clamp(sl_cp_work *w)
{
    uint32_t *stack = w->scratch;
    for (uint32_t r = 0; r < w->n; r++) {
        uint32_t root = w->order[r];
        if (w->parent[root] != NONE) continue;
        w->flags[root] |= ALIVE;
        w->cs[root] = w->nodes[root].start_ns;
        w->ce[root] = w->nodes[root].end_ns;
        uint32_t top = 0;
        stack[top++] = root;
        while (top) {
            uint32_t p = stack[--top];
            for (uint32_t k = w->cstart[p]; k < w->cstart[p + 1]; k++) {
                uint32_t c = w->children[k];
                if (w->nodes[p].kind == SL_KIND_PRODUCER && w->nodes[c].kind == SL_KIND_CONSUMER)
                    continue;
                if (!clamp_child(w, p, c)) continue;
                w->flags[c] |= ALIVE;
                stack[top++] = c;
            }
        }
    }
}

/* Live children of each node in R5 order; cursors start at each list. */
static void order_kids(sl_cp_work *w)
{
    uint32_t m = 0;
    for (uint32_t p = 0; p < w->n; p++) {
        w->kstart[p] = m;
        if (!(w->flags[p] & ALIVE)) continue;
        for (uint32_t k = w->cstart[p]; k < w->cstart[p + 1]; k++) {
            uint32_t c = w->children[k];
            if (w->flags[c] & ALIVE) w->kids[m++] = c;
        }
        uint32_t len = m - w->kstart[p];
        if (len > 1) sl_sort_index(w->kids + w->kstart[p], w->scratch, len, cmp_lfc, w);
    }
    w->kstart[w->n] = m;
    memcpy(w->scratch, w->kstart, sizeof *w->scratch * w->n); /* cursors */
}

/* R5/R6: the next child of p on the path; any child when !has_ret. */
static uint32_t next_lfc(sl_cp_work *w, uint32_t p, int has_ret, int64_t ret)
{
    uint32_t *cursor = w->scratch;
    while (cursor[p] < w->kstart[p + 1]) {
        uint32_t c = w->kids[cursor[p]++];
        if (!has_ret || w->ce[c] < ret) return c;
    }
    return NONE;
}

static void emit(sl_cp_work *w, size_t *nout, uint32_t node, int64_t s, int64_t e)
{
    if (s == e) return; /* R7 */
    w->sec[*nout].node = node;
    w->sec[*nout].start_ns = s;
    w->sec[*nout].end_ns = e;
    (*nout)++;
}

/* Walk one root's tree (iterative form of upstream computeCriticalPath). */
static void walk(sl_cp_work *w, uint32_t root, size_t *nout)
{
    uint32_t cur = root;
    int has_ret = 0;
    int64_t ret = 0;
    for (;;) {
        int64_t end = has_ret ? ret : w->ce[cur];
        uint32_t lfc = next_lfc(w, cur, has_ret, ret);
        if (lfc != NONE) {
            emit(w, nout, cur, w->ce[lfc], end);
            cur = lfc;
            has_ret = 0;
            continue;
        }
        emit(w, nout, cur, w->cs[cur], end);
        if (cur == root) return;
        ret = w->cs[cur];
        has_ret = 1;
        cur = w->parent[cur];
    }
}

int sl_cp_work_run(sl_cp_work *w, const sl_cp_node *nodes, size_t n,
                   const sl_cp_section **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (n == 0) return SL_OK;
    if (n >= NONE / 2) return SL_NOMEM;
    int rc = work_reserve(w, (uint32_t)n);
    if (rc != SL_OK) return rc;
    w->nodes = nodes;
    w->n = (uint32_t)n;
    rank_nodes(w);
    group_ids(w);
    resolve_shared(w);
    link_parents(w);
    build_children(w);
    prune_and_clamp(w);
    order_kids(w);
    size_t m = 0;
    for (uint32_t r = 0; r < w->n; r++)
        if (w->parent[w->order[r]] == NONE) walk(w, w->order[r], &m); /* R2 */
    *out = m ? w->sec : NULL;
    *nout = m;
    return SL_OK;
}

int sl_critical_path_compute(const sl_cp_node *nodes, size_t n,
                             sl_cp_section **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    sl_cp_work *w = sl_cp_work_new();
    if (!w) return SL_NOMEM;
    const sl_cp_section *sec;
    size_t m;
    int rc = sl_cp_work_run(w, nodes, n, &sec, &m);
    if (rc == SL_OK && m) {
        *out = malloc(sizeof **out * m);
        if (*out) {
            memcpy(*out, sec, sizeof **out * m);
            *nout = m;
        } else {
            rc = SL_NOMEM;
        }
    }
    sl_cp_work_free(w);
    return rc;
}

void sl_critical_path_free(sl_cp_section *sections) { free(sections); }
