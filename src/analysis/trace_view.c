/*
 * analysis/trace_view.c -- the trace view (rules T1-T4 in trace_view.h).
 *
 * Cost: O(n log n): the spans are sorted once by (start, span id) and once
 * by span id; every later pass is linear.  Deep traces are walked with
 * explicit stacks, never recursion.
 */
#include "analysis/trace_view.h"
#include "analysis/critical_path.h"

#include <stdlib.h>
#include <string.h>

#define NONE SL_TRACE_VIEW_NONE

/* Scratch of one build: the span-id index and T1's shared-id resolution. */
typedef struct tv_work {
    sl_trace_view *v;
    uint32_t n;
    uint32_t *by_id;           /* nodes sorted by (span_id, T2 order) */
    uint32_t *attach;          /* T1: the node children naming this span id hang under */
    uint32_t *client;          /* T1: the client half of this span id, or NONE */
    unsigned char *server_half;/* T1: a server half sharing its client's id */
} tv_work;

static const char *id_of(const tv_work *w, uint32_t pos) { return w->v->spans[w->by_id[pos]].span->span_id; }

/* ---- Ordering helpers (qsort has no context argument) ------------------ */

static int cmp_span_start(const void *a, const void *b)
{
    const sl_span *x = a, *y = b;
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    return strcmp(x->span_id, y->span_id);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct id_key {
    const char *id;
    uint32_t node;
} id_key;

static int cmp_id_key(const void *a, const void *b)
{
    const id_key *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->node > y->node) - (x->node < y->node);
}

/* First position in by_id of a node with this span id, or NONE. */
static uint32_t find_id(const tv_work *w, const char *id)
{
    uint32_t lo = 0, hi = w->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(id_of(w, mid), id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < w->n && strcmp(id_of(w, lo), id) == 0 ? lo : NONE;
}

static int same_id(const tv_work *w, uint32_t pos, uint32_t first)
{
    return pos < w->n && strcmp(id_of(w, pos), id_of(w, first)) == 0;
}

/* ---- T1 and T2: the tree -------------------------------------------------- */

/* T1 for the group of nodes sharing the id at by_id[first..last): which are
 * server halves, the node the id's children attach to, the client half. */
static void resolve_group(tv_work *w, uint32_t first, uint32_t last)
{
    int has_client = 0;
    for (uint32_t k = first; k < last; k++) {
        const sl_span *s = w->v->spans[w->by_id[k]].span;
        if (sl_cp_client_half(s->kind, (s->flags & SL_SPAN_SHARED) != 0)) has_client = 1;
    }
    uint32_t rep = NONE, client = NONE;
    for (uint32_t k = first; k < last; k++) {
        uint32_t i = w->by_id[k];
        const sl_span *s = w->v->spans[i].span;
        w->server_half[i] = last - first > 1 &&
                            sl_cp_server_half(s->kind, (s->flags & SL_SPAN_SHARED) != 0, has_client);
        if (w->server_half[i]) {
            if (rep == NONE) rep = i;
        } else if (client == NONE) {
            client = i;
        }
    }
    if (rep == NONE) {
        rep = w->by_id[first];
        client = NONE;
    }
    for (uint32_t k = first; k < last; k++) {
        w->attach[w->by_id[k]] = rep;
        w->client[w->by_id[k]] = client;
    }
}

static uint32_t parent_of(const tv_work *w, uint32_t i)
{
    const sl_span *s = w->v->spans[i].span;
    uint32_t p = NONE;
    if (w->server_half[i] && w->client[i] != NONE) {
        p = w->client[i];
    } else if (s->parent_span_id && *s->parent_span_id) {
        uint32_t g = find_id(w, s->parent_span_id);
        if (g != NONE) p = w->attach[w->by_id[g]];
    }
    return p == i ? NONE : p;
}

/* T1 and T2: parents, sibling lists in start order. */
static int build_tree(tv_work *w)
{
    sl_trace_view *v = w->v;
    id_key *keys = malloc(sizeof *keys * w->n);
    if (!keys) return SL_NOMEM;
    for (uint32_t i = 0; i < w->n; i++) keys[i] = (id_key){v->spans[i].span->span_id, i};
    qsort(keys, w->n, sizeof *keys, cmp_id_key);
    for (uint32_t i = 0; i < w->n; i++) w->by_id[i] = keys[i].node;
    free(keys);
    for (uint32_t first = 0, last; first < w->n; first = last) {
        for (last = first + 1; same_id(w, last, first); last++)
            ;
        resolve_group(w, first, last);
    }

    uint32_t *tail = malloc(sizeof *tail * w->n);
    if (!tail) return SL_NOMEM;
    for (uint32_t i = 0; i < w->n; i++) {
        sl_trace_view_span *x = &v->spans[i];
        x->first_child = x->next_sibling = tail[i] = NONE;
        x->parent = parent_of(w, i);
    }
    for (uint32_t i = 0; i < w->n; i++) { /* i ascending keeps T2 order */
        uint32_t p = v->spans[i].parent;
        if (p == NONE) continue;
        if (tail[p] == NONE) v->spans[p].first_child = i;
        else v->spans[tail[p]].next_sibling = i;
        tail[p] = i;
    }
    free(tail);
    return SL_OK;
}

/* Mark every node reachable from root; uses stack (room for n). */
static void mark_subtree(sl_trace_view *v, uint32_t root, unsigned char *seen, uint32_t *stack)
{
    uint32_t top = 0;
    stack[top++] = root;
    seen[root] = 1;
    while (top) {
        uint32_t p = stack[--top];
        for (uint32_t c = v->spans[p].first_child; c != NONE; c = v->spans[c].next_sibling)
            if (!seen[c]) {
                seen[c] = 1;
                stack[top++] = c;
            }
    }
}

/* T2: parentless spans, then the earliest span of each unreached cycle. */
static int find_roots(sl_trace_view *v)
{
    uint32_t n = (uint32_t)v->nspans;
    unsigned char *seen = calloc(n, 1);
    uint32_t *stack = malloc(sizeof *stack * n);
    int rc = SL_NOMEM;
    v->roots = malloc(sizeof *v->roots * n);
    if (!seen || !stack || !v->roots) goto done;
    for (uint32_t i = 0; i < n; i++)
        if (v->spans[i].parent == NONE) {
            v->roots[v->nroots++] = i;
            mark_subtree(v, i, seen, stack);
        }
    for (uint32_t i = 0; i < n; i++)
        if (!seen[i]) { /* in a cycle: cut it above i */
            uint32_t p = v->spans[i].parent, *link = &v->spans[p].first_child;
            while (*link != i) link = &v->spans[*link].next_sibling;
            *link = v->spans[i].next_sibling;
            v->spans[i].parent = NONE;
            v->spans[i].next_sibling = NONE;
            v->roots[v->nroots++] = i;
            mark_subtree(v, i, seen, stack);
        }
    /* Cycle roots were appended after the others: restore T2 order. */
    qsort(v->roots, v->nroots, sizeof *v->roots, cmp_u32);
    rc = SL_OK;
done:
    free(seen);
    free(stack);
    return rc;
}

/* ---- T3: self time --------------------------------------------------------- */

/* Children come in start order and clamping keeps that order, so one sweep
 * merges their intervals. */
static void self_times(sl_trace_view *v)
{
    for (size_t i = 0; i < v->nspans; i++) {
        const sl_span *s = v->spans[i].span;
        int64_t ps = s->start_ns, pe = s->start_ns + s->duration_ns;
        int64_t covered = 0, cur_s = 0, cur_e = 0;
        int open = 0;
        for (uint32_t c = v->spans[i].first_child; c != NONE; c = v->spans[c].next_sibling) {
            const sl_span *k = v->spans[c].span;
            int64_t cs = k->start_ns < ps ? ps : k->start_ns;
            int64_t ce = k->start_ns + k->duration_ns;
            if (ce > pe) ce = pe;
            if (ce <= cs) continue;
            if (open && cs <= cur_e) {
                if (ce > cur_e) cur_e = ce;
                continue;
            }
            if (open) covered += cur_e - cur_s;
            cur_s = cs;
            cur_e = ce;
            open = 1;
        }
        if (open) covered += cur_e - cur_s;
        v->spans[i].self_ns = s->duration_ns - covered;
    }
}

static int cmp_service_name(const void *a, const void *b)
{
    return strcmp(((const sl_trace_view_service *)a)->service,
                  ((const sl_trace_view_service *)b)->service);
}

static int cmp_service_time(const void *a, const void *b)
{
    const sl_trace_view_service *x = a, *y = b;
    if (x->self_ns != y->self_ns) return x->self_ns > y->self_ns ? -1 : 1;
    return strcmp(x->service, y->service);
}

/* T3: self time summed per service, largest first. */
static int service_times(sl_trace_view *v)
{
    size_t n = v->nspans, m = 0;
    sl_trace_view_service *all = malloc(sizeof *all * n);
    if (!all) return SL_NOMEM;
    for (size_t i = 0; i < n; i++)
        all[i] = (sl_trace_view_service){v->spans[i].span->service, v->spans[i].self_ns};
    qsort(all, n, sizeof *all, cmp_service_name);
    for (size_t i = 0; i < n; i++) {
        if (m && strcmp(all[m - 1].service, all[i].service) == 0) all[m - 1].self_ns += all[i].self_ns;
        else all[m++] = all[i];
    }
    qsort(all, m, sizeof *all, cmp_service_time);
    v->services = all;
    v->nservices = m;
    return SL_OK;
}

/* ---- T4: the critical path ------------------------------------------------ */

static int cmp_section(const void *a, const void *b)
{
    const sl_trace_view_section *x = a, *y = b;
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    return (x->end_ns > y->end_ns) - (x->end_ns < y->end_ns);
}

typedef struct crit_key {
    int64_t first_ns;
    uint32_t node;
} crit_key;

static int cmp_crit_key(const void *a, const void *b)
{
    const crit_key *x = a, *y = b;
    if (x->first_ns != y->first_ns) return x->first_ns < y->first_ns ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* Sections by start, each span's critical time, and the spans on the path
 * in path order (earliest section first). */
static int critical_path(sl_trace_view *v)
{
    size_t n = v->nspans;
    sl_cp_node *nodes = malloc(sizeof *nodes * n);
    sl_cp_section *sec = NULL;
    crit_key *keys = NULL;
    size_t nsec = 0;
    int rc = SL_NOMEM;
    if (!nodes) goto done;
    for (size_t i = 0; i < n; i++) {
        const sl_span *s = v->spans[i].span;
        nodes[i] = (sl_cp_node){s->span_id, s->parent_span_id, s->kind,
                                (s->flags & SL_SPAN_SHARED) != 0, s->start_ns,
                                s->start_ns + s->duration_ns};
    }
    if ((rc = sl_critical_path_compute(nodes, n, &sec, &nsec)) != SL_OK) goto done;
    rc = SL_NOMEM;
    v->sections = malloc(sizeof *v->sections * (nsec ? nsec : 1));
    v->critical = malloc(sizeof *v->critical * n);
    keys = malloc(sizeof *keys * n);
    if (!v->sections || !v->critical || !keys) goto done;
    for (size_t k = 0; k < nsec; k++) {
        v->sections[k] = (sl_trace_view_section){sec[k].node, sec[k].start_ns, sec[k].end_ns};
        sl_trace_view_span *x = &v->spans[sec[k].node];
        if (!x->nsections || sec[k].start_ns < x->first_section_ns) x->first_section_ns = sec[k].start_ns;
        x->nsections++;
        x->critical_ns += sec[k].end_ns - sec[k].start_ns;
    }
    v->nsections = nsec;
    qsort(v->sections, nsec, sizeof *v->sections, cmp_section);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v->spans[i].nsections) keys[m++] = (crit_key){v->spans[i].first_section_ns, (uint32_t)i};
    qsort(keys, m, sizeof *keys, cmp_crit_key);
    for (size_t k = 0; k < m; k++) v->critical[k] = keys[k].node;
    v->ncritical = m;
    rc = SL_OK;
done:
    free(nodes);
    free(keys);
    sl_critical_path_free(sec);
    return rc;
}

/* ---- Building ------------------------------------------------------------- */

void sl_tv_release(sl_trace_view *v)
{
    free(v->spans);
    free(v->roots);
    free(v->sections);
    free(v->critical);
    free(v->services);
    v->spans = NULL;
    v->roots = v->critical = NULL;
    v->sections = NULL;
    v->services = NULL;
    v->nspans = v->nroots = v->nsections = v->ncritical = v->nservices = 0;
}

int sl_tv_build(sl_span *spans, size_t n, sl_trace_view *v)
{
    memset(v, 0, sizeof *v);
    if (n == 0 || n >= NONE) return SL_INVALID;
    tv_work w = {v, (uint32_t)n, NULL, NULL, NULL, NULL};
    int rc = SL_NOMEM;
    /* T2 order: start, then span id. */
    qsort(spans, n, sizeof *spans, cmp_span_start);
    v->trace_id = spans[0].trace_id;
    v->spans = calloc(n, sizeof *v->spans);
    w.by_id = malloc(sizeof *w.by_id * n);
    w.attach = malloc(sizeof *w.attach * n);
    w.client = malloc(sizeof *w.client * n);
    w.server_half = calloc(n, 1);
    if (!v->spans || !w.by_id || !w.attach || !w.client || !w.server_half) goto done;
    v->nspans = n;
    v->start_ns = v->end_ns = spans[0].start_ns;
    for (size_t i = 0; i < n; i++) {
        const sl_span *s = &spans[i];
        v->spans[i].span = s;
        if (s->start_ns + s->duration_ns > v->end_ns) v->end_ns = s->start_ns + s->duration_ns;
        if (s->status == SL_STATUS_ERROR) v->nerrors++;
    }
    if ((rc = build_tree(&w)) || (rc = find_roots(v))) goto done;
    self_times(v);
    if ((rc = service_times(v)) || (rc = critical_path(v))) goto done;
done:
    free(w.by_id);
    free(w.attach);
    free(w.client);
    free(w.server_half);
    if (rc != SL_OK) sl_tv_release(v);
    return rc;
}
