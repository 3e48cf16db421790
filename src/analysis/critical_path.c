/*
 * analysis/critical_path.c -- the critical path of one trace; see critical_path.h.
 *
 * The semantics are those of Jaeger UI (jaegertracing/jaeger-ui,
 * packages/jaeger-ui/src/components/TracePage/CriticalPath/index.ts and
 * utils/{cpspan,sanitizeOverFlowingChildren,findLastFinishingChildSpan}.ts).
 * Numbered so that the code can cite them:
 *
 *   R1 Tree.  A span's parent is the span whose id is its parent_span_id.
 *      Spans sharing one id (Zipkin shared client/server halves) are handled
 *      as Jaeger's DeduplicateClientServerSpanIDs adjuster does: a "server
 *      half" (shared flag set, or kind SERVER when a CLIENT span has the same
 *      id) becomes the child of the client half, and children naming that id
 *      attach to the server half.  With several candidates the first one in
 *      (start, span_id) order wins; a span never becomes its own parent.
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
 *      Ties go to the child that starts first (then lower span_id).
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

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/hexid.h"
#include "spanlite.h"

#define NONE UINT32_MAX

/* ---- Pure core --------------------------------------------------------- */

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

typedef int (*cmp_fn)(const sl_cp_work *w, uint32_t a, uint32_t b);

/* Stable bottom-up merge sort of a[0..n) using tmp[0..n). */
static void merge_sort(const sl_cp_work *w, uint32_t *a, uint32_t *tmp, uint32_t n, cmp_fn cmp)
{
    uint32_t *src = a, *dst = tmp;
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = cmp(w, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, sizeof *a * n);
}

/* Start order: start time, then span id (input position by stability). */
static int cmp_start(const sl_cp_work *w, uint32_t a, uint32_t b)
{
    const sl_cp_node *x = &w->nodes[a], *y = &w->nodes[b];
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    return strcmp(x->span_id, y->span_id);
}

/* R5 order: clamped end descending, then start order. */
static int cmp_lfc(const sl_cp_work *w, uint32_t a, uint32_t b)
{
    if (w->ce[a] != w->ce[b]) return w->ce[a] > w->ce[b] ? -1 : 1;
    return w->rank[a] < w->rank[b] ? -1 : w->rank[a] > w->rank[b];
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h ^ (h >> 29);
}

static int has_text(const char *s) { return s && *s; }

/* First node (start order) with this id, or NONE; with insert, node i
 * is entered when the id is new. */
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
    if (!sorted) merge_sort(w, w->order, w->scratch, w->n, cmp_start);
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
            if (w->nodes[j].kind == SL_KIND_CLIENT && !w->nodes[j].shared) has_client = 1;
        uint32_t rep = NONE, client = NONE;
        for (uint32_t j = i; j != NONE; j = w->gnext[j]) {
            const sl_cp_node *x = &w->nodes[j];
            if (x->shared || (x->kind == SL_KIND_SERVER && has_client)) {
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
        if (len > 1) merge_sort(w, w->kids + w->kstart[p], w->scratch, len, cmp_lfc);
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

/* ---- SQL glue: the eponymous virtual table critical_path ---------------- */

enum { COL_SPAN_ID, COL_SERVICE, COL_OPERATION, COL_START, COL_END, COL_TRACE_ID };

/*
 * The trace is read from the internal tables when they exist (no join per
 * span; names are looked up for the path's spans only), else through the
 * public spans view, which is all a plain SQLite file with a `spans` table
 * needs to offer.
 */
static const char READ_TABLES[] =
    "SELECT " SL_HEXID_SQL("span_id") ", " SL_HEXID_SQL("parent_span_id") ", service_id, operation_id, kind, flags & 1,"
    " start_ns, start_ns + duration_ns FROM span"
    " WHERE trace_ref = (SELECT ref FROM trace WHERE trace_id = ?1)";
static const char READ_VIEW[] =
    "SELECT span_id, parent_span_id, service, operation, kind, shared, start_ns, end_ns"
    " FROM spans WHERE trace_id = ?1";
static const char SPAN_COUNT[] = "SELECT span_count FROM trace WHERE trace_id = ?1";
static const char SERVICE_NAME[] = "SELECT name FROM service WHERE id = ?1";
static const char OPERATION_NAME[] = "SELECT name FROM operation WHERE id = ?1";

/* Largest trace whose buffers are kept for the next statement. */
#define KEEP_NODES 65536

/* Everything one trace needs; kept by the vtab between statements. */
typedef struct cp_state {
    sl_arena strings;       /* ids and names */
    sl_cp_node *nodes;      /* the trace */
    const char **service;   /* parallel to nodes; set for the path's spans */
    const char **operation;
    int64_t *service_id;    /* parallel to nodes, internal-table mode */
    int64_t *operation_id;
    size_t n, cap;
    sl_cp_work *work;
} cp_state;

typedef struct cp_vtab {
    sqlite3_vtab base;
    sqlite3 *db;
    int by_view;            /* 0: internal tables, 1: the spans view */
    sqlite3_stmt *read;     /* prepared on first use */
    sqlite3_stmt *count, *svc_name, *op_name;
    cp_state *spare;        /* buffers of the last closed cursor */
} cp_vtab;

typedef struct cp_cursor {
    sqlite3_vtab_cursor base;
    cp_state *st;
    const sl_cp_section *sec; /* the result, owned by st->work */
    size_t nsec;
    size_t pos;             /* current row, 0-based */
    char *trace_id;         /* the argument, for the hidden column */
} cp_cursor;

static void set_error(sqlite3_vtab *tab, const char *fmt, const char *arg)
{
    sqlite3_free(tab->zErrMsg);
    tab->zErrMsg = sqlite3_mprintf(fmt, arg);
}

static void state_free(cp_state *st)
{
    if (!st) return;
    sl_arena_release(&st->strings);
    free(st->nodes);
    free(st->service);
    free(st->operation);
    free(st->service_id);
    free(st->operation_id);
    sl_cp_work_free(st->work);
    free(st);
}

static cp_state *state_new(void)
{
    cp_state *st = malloc(sizeof *st);
    if (!st) return NULL;
    memset(st, 0, sizeof *st);
    sl_arena_init(&st->strings);
    if (!(st->work = sl_cp_work_new())) {
        free(st);
        return NULL;
    }
    return st;
}

static int cp_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **err)
{
    (void)aux; (void)argc; (void)argv; (void)err;
    int rc = sqlite3_declare_vtab(db,
        "CREATE TABLE x(span_id TEXT, service TEXT, operation TEXT,"
        " start_ns INTEGER, end_ns INTEGER, trace_id HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    cp_vtab *t = sqlite3_malloc(sizeof *t);
    if (!t) return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->db = db;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &t->base;
    return SQLITE_OK;
}

static int cp_disconnect(sqlite3_vtab *tab)
{
    cp_vtab *t = (cp_vtab *)tab;
    sqlite3_finalize(t->read);
    sqlite3_finalize(t->count);
    sqlite3_finalize(t->svc_name);
    sqlite3_finalize(t->op_name);
    state_free(t->spare);
    sqlite3_free(t);
    return SQLITE_OK;
}

/* A plan is only possible with trace_id = <value> (series.c style). */
static int cp_best_index(sqlite3_vtab *tab, sqlite3_index_info *info)
{
    int unusable = 0;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn != COL_TRACE_ID || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        if (!c->usable) {
            unusable = 1;
            continue;
        }
        info->aConstraintUsage[i].argvIndex = 1;
        info->aConstraintUsage[i].omit = 1;
        info->estimatedCost = 100.0;
        info->estimatedRows = 20;
        info->idxNum = 1;
        return SQLITE_OK;
    }
    if (unusable) return SQLITE_CONSTRAINT;
    set_error(tab, "%s", "critical_path() needs its argument: critical_path(trace_id)");
    return SQLITE_ERROR;
}

static int cp_open(sqlite3_vtab *tab, sqlite3_vtab_cursor **out)
{
    cp_vtab *t = (cp_vtab *)tab;
    cp_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->st = t->spare; /* reuse: fresh pages are the dearest part of a call */
    t->spare = NULL;
    if (!c->st && !(c->st = state_new())) {
        sqlite3_free(c);
        return SQLITE_NOMEM;
    }
    *out = &c->base;
    return SQLITE_OK;
}

static void cursor_reset(cp_cursor *c)
{
    sl_arena_reset(&c->st->strings);
    c->st->n = 0;
    c->sec = NULL;
    c->nsec = c->pos = 0;
    sqlite3_free(c->trace_id);
    c->trace_id = NULL;
}

static int cp_close(sqlite3_vtab_cursor *cur)
{
    cp_cursor *c = (cp_cursor *)cur;
    cp_vtab *t = (cp_vtab *)cur->pVtab;
    cursor_reset(c);
    if (!t->spare && c->st->cap <= KEEP_NODES) t->spare = c->st;
    else state_free(c->st);
    sqlite3_free(c);
    return SQLITE_OK;
}

/* Room for want nodes (at least one more than now). */
static int grow_nodes(cp_state *st, size_t want)
{
    if (want <= st->cap) return SQLITE_OK;
    size_t cap = st->cap ? st->cap * 2 : 256;
    if (cap < want) cap = want;
#define G(p)                                              \
    do {                                                  \
        void *q = realloc((p), sizeof *(p) * cap);        \
        if (!q) return SQLITE_NOMEM;                      \
        (p) = q;                                          \
    } while (0)
    G(st->nodes);
    G(st->service);
    G(st->operation);
    G(st->service_id);
    G(st->operation_id);
#undef G
    st->cap = cap;
    return SQLITE_OK;
}

/* Kind from the view's text names; integers are taken as SL_KIND_*. */
static int kind_of(sqlite3_value *v)
{
    static const char *const names[] = {"unspecified", "internal", "server",
                                        "client", "producer", "consumer"};
    if (sqlite3_value_type(v) == SQLITE_INTEGER) return sqlite3_value_int(v);
    const char *s = (const char *)sqlite3_value_text(v);
    if (!s) return SL_KIND_UNSPECIFIED;
    for (int k = 0; k < 6; k++)
        if (sqlite3_stricmp(s, names[k]) == 0) return k;
    return SL_KIND_UNSPECIFIED;
}

static char *copy_col(cp_state *st, sqlite3_stmt *q, int col, int *oom)
{
    const char *s = (const char *)sqlite3_column_text(q, col);
    if (!s) return NULL;
    char *p = sl_arena_strndup(&st->strings, s, (size_t)sqlite3_column_bytes(q, col));
    if (!p) *oom = 1;
    return p;
}

static int load_row(cp_state *st, sqlite3_stmt *q, int by_view)
{
    if (grow_nodes(st, st->n + 1) != SQLITE_OK) return SQLITE_NOMEM;
    int oom = 0;
    size_t i = st->n;
    sl_cp_node *x = &st->nodes[i];
    const char *id = copy_col(st, q, 0, &oom);
    x->span_id = id ? id : "";
    x->parent_span_id = copy_col(st, q, 1, &oom);
    st->service[i] = st->operation[i] = NULL;
    if (by_view) {
        st->service[i] = copy_col(st, q, 2, &oom);
        st->operation[i] = copy_col(st, q, 3, &oom);
    } else {
        st->service_id[i] = sqlite3_column_int64(q, 2);
        st->operation_id[i] = sqlite3_column_int64(q, 3);
    }
    x->kind = kind_of(sqlite3_column_value(q, 4));
    x->shared = sqlite3_column_int(q, 5) != 0;
    x->start_ns = sqlite3_column_int64(q, 6);
    x->end_ns = sqlite3_column_type(q, 7) == SQLITE_NULL ? x->start_ns
                                                         : sqlite3_column_int64(q, 7);
    if (x->end_ns < x->start_ns) x->end_ns = x->start_ns;
    if (oom) return SQLITE_NOMEM;
    st->n++;
    return SQLITE_OK;
}

static int prepare_read(cp_vtab *t)
{
    if (t->read) return SQLITE_OK;
    int rc = sqlite3_prepare_v3(t->db, READ_TABLES, -1, SQLITE_PREPARE_PERSISTENT, &t->read, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(t->db, SPAN_COUNT, -1, SQLITE_PREPARE_PERSISTENT, &t->count, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(t->db, SERVICE_NAME, -1, SQLITE_PREPARE_PERSISTENT, &t->svc_name, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(t->db, OPERATION_NAME, -1, SQLITE_PREPARE_PERSISTENT, &t->op_name, NULL);
    if (rc == SQLITE_OK) {
        t->by_view = 0;
        return SQLITE_OK;
    }
    sqlite3_finalize(t->read);
    sqlite3_finalize(t->count);
    sqlite3_finalize(t->svc_name);
    sqlite3_finalize(t->op_name);
    t->read = t->count = t->svc_name = t->op_name = NULL;
    t->by_view = 1;
    rc = sqlite3_prepare_v3(t->db, READ_VIEW, -1, SQLITE_PREPARE_PERSISTENT, &t->read, NULL);
    if (rc != SQLITE_OK)
        set_error(&t->base, "critical_path(): cannot read the spans view: %s", sqlite3_errmsg(t->db));
    return rc;
}

/* Read the trace into c->st. */
static int load_trace(cp_cursor *c, cp_vtab *t)
{
    int rc = prepare_read(t);
    if (rc != SQLITE_OK) return rc;
    if (t->count) { /* size the buffers once: fresh pages cost more than the query */
        sqlite3_bind_text(t->count, 1, c->trace_id, -1, SQLITE_STATIC);
        if (sqlite3_step(t->count) == SQLITE_ROW) {
            int64_t want = sqlite3_column_int64(t->count, 0);
            if (want > 0 && want < (int64_t)1 << 30) rc = grow_nodes(c->st, (size_t)want);
        }
        sqlite3_reset(t->count);
        if (rc != SQLITE_OK) return rc;
    }
    sqlite3_stmt *q = t->read;
    rc = sqlite3_bind_text(q, 1, c->trace_id, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) rc = load_row(c->st, q, t->by_view);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM)
        set_error(&t->base, "critical_path(): %s", sqlite3_errmsg(t->db));
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc;
}

/* The name behind an id (internal-table mode), copied into the arena. */
static int lookup_name(cp_vtab *t, cp_state *st, sqlite3_stmt *q, int64_t id, const char **out)
{
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    *out = NULL;
    if (rc == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(q, 0);
        if (s && !(*out = sl_arena_strdup(&st->strings, s))) rc = SQLITE_NOMEM;
        else rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    } else {
        set_error(&t->base, "critical_path(): %s", sqlite3_errmsg(t->db));
    }
    sqlite3_reset(q);
    return rc;
}

/* Service and operation names of the spans on the path. */
static int name_sections(cp_cursor *c, cp_vtab *t)
{
    cp_state *st = c->st;
    int rc = SQLITE_OK;
    for (size_t i = 0; i < c->nsec && rc == SQLITE_OK; i++) {
        uint32_t k = c->sec[i].node;
        if (st->service[k] || st->operation[k]) continue;
        rc = lookup_name(t, st, t->svc_name, st->service_id[k], &st->service[k]);
        if (rc == SQLITE_OK) rc = lookup_name(t, st, t->op_name, st->operation_id[k], &st->operation[k]);
    }
    return rc;
}

static int cp_filter(sqlite3_vtab_cursor *cur, int idx_num, const char *idx_str,
                     int argc, sqlite3_value **argv)
{
    (void)idx_num; (void)idx_str;
    cp_cursor *c = (cp_cursor *)cur;
    cp_vtab *t = (cp_vtab *)cur->pVtab;
    cursor_reset(c);
    if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) return SQLITE_OK;
    c->trace_id = sqlite3_mprintf("%s", (const char *)sqlite3_value_text(argv[0]));
    if (!c->trace_id) return SQLITE_NOMEM;
    int rc = load_trace(c, t);
    if (rc != SQLITE_OK) return rc;
    if (sl_cp_work_run(c->st->work, c->st->nodes, c->st->n, &c->sec, &c->nsec) != SL_OK)
        return SQLITE_NOMEM;
    return t->by_view ? SQLITE_OK : name_sections(c, t);
}

static int cp_next(sqlite3_vtab_cursor *cur)
{
    ((cp_cursor *)cur)->pos++;
    return SQLITE_OK;
}

static int cp_eof(sqlite3_vtab_cursor *cur)
{
    cp_cursor *c = (cp_cursor *)cur;
    return c->pos >= c->nsec;
}

static int cp_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    cp_cursor *c = (cp_cursor *)cur;
    const sl_cp_section *s = &c->sec[c->pos];
    const cp_state *st = c->st;
    switch (col) {
    case COL_SPAN_ID:
        sqlite3_result_text(ctx, st->nodes[s->node].span_id, -1, SQLITE_TRANSIENT);
        break;
    case COL_SERVICE: sqlite3_result_text(ctx, st->service[s->node], -1, SQLITE_TRANSIENT); break;
    case COL_OPERATION:
        sqlite3_result_text(ctx, st->operation[s->node], -1, SQLITE_TRANSIENT);
        break;
    case COL_START: sqlite3_result_int64(ctx, s->start_ns); break;
    case COL_END: sqlite3_result_int64(ctx, s->end_ns); break;
    default: sqlite3_result_text(ctx, c->trace_id, -1, SQLITE_TRANSIENT); break;
    }
    return SQLITE_OK;
}

static int cp_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((cp_cursor *)cur)->pos + 1;
    return SQLITE_OK;
}

static const sqlite3_module cp_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = cp_connect,
    .xBestIndex = cp_best_index,
    .xDisconnect = cp_disconnect,
    .xDestroy = NULL,
    .xOpen = cp_open,
    .xClose = cp_close,
    .xFilter = cp_filter,
    .xNext = cp_next,
    .xEof = cp_eof,
    .xColumn = cp_column,
    .xRowid = cp_rowid,
};

int sl_critical_path_register(sqlite3 *db)
{
    return sqlite3_create_module(db, "critical_path", &cp_module, NULL);
}
