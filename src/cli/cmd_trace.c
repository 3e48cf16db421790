/*
 * cmd_trace.c -- `spanlite trace ID`: one trace as an indented tree with its
 * critical path and TracAgg's analyze_trace figures (total duration, the
 * critical path with each span's share, time per service).
 *
 * Owns: the command's options, the span tree, self times, and the text and
 * JSON renderings.  The spans come from sl_get_trace(); the critical path
 * comes from the SQL table-valued function critical_path(trace_id), so the
 * CLI shows exactly what a user's own SQL would get.
 *
 * The tree follows the rules critical_path.c numbers R1 and R2, so that the
 * tree and the path agree:
 *   T1 A span's parent is the span whose id is its parent_span_id.  Spans
 *      sharing an id (Zipkin's client and server halves) are resolved as
 *      critical_path.c R1 does: the server half (shared flag, or SERVER
 *      while a CLIENT has the same id) hangs under the client half, and
 *      children naming the id hang under the server half.
 *   T2 Children are ordered by start, then span id.  A span whose parent is
 *      not in the trace is an extra root; roots are ordered the same way.
 *      Spans caught in a parent cycle are shown as roots too (the earliest
 *      first), so every span appears exactly once.
 *   T3 Self time of a span: its duration minus the length of the union of
 *      its children's intervals, each clamped to the span's own interval.
 *      A service's time is the sum of its spans' self times; its percentage
 *      is that sum over the trace duration.  Concurrent children each keep
 *      their own time, so the percentages may add up to more than 100.
 *   T4 A span's critical time is the sum of the lengths of its critical
 *      path sections; its share is that over the trace duration.
 */
#include "cli.h"
#include "base/buf.h"
#include "base/json.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define MAX_INDENT 40 /* levels of indentation shown; deeper spans say their depth */

typedef struct tnode {
    const sl_span *sp;
    uint32_t parent;       /* T1, or NONE for a root */
    uint32_t child, next;  /* first child, next sibling (T2 order) */
    uint32_t attach;       /* T1: the node children naming this span id hang under */
    uint32_t client;       /* T1: the client half of this span id, or NONE */
    int server_half;       /* T1: a server half sharing its client's id */
    int64_t self_ns;       /* T3 */
    int64_t crit_ns;       /* T4 */
    int64_t first_sec_ns;  /* start of the earliest critical section */
    uint32_t nsec;         /* critical sections owned */
} tnode;

typedef struct tsection {
    uint32_t node;
    int64_t start_ns, end_ns;
} tsection;

typedef struct tservice {
    const char *name;
    int64_t self_ns;
} tservice;

/* One analysed trace.  Node i is the i-th span in T2 order. */
typedef struct tview {
    sl_trace *trace;     /* owned */
    uint32_t n;
    tnode *nodes;        /* n */
    uint32_t *by_id;     /* nodes sorted by (span_id, T2 order) */
    uint32_t *roots;     /* nroots, T2 order */
    uint32_t nroots;
    tsection *secs;      /* nsecs critical sections, by start */
    size_t nsecs;
    tservice *svcs;      /* nsvcs, by self time descending */
    size_t nsvcs;
    int64_t start_ns, end_ns;
    size_t nerrors;
} tview;

static void tview_free(tview *v)
{
    if (!v) return;
    sl_trace_free(v->trace);
    free(v->nodes);
    free(v->by_id);
    free(v->roots);
    free(v->secs);
    free(v->svcs);
    free(v);
}

/* ---- Ordering helpers (qsort has no context argument: sort pointers) ---- */

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
static uint32_t find_id(const tview *v, const char *id)
{
    uint32_t lo = 0, hi = v->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(v->nodes[v->by_id[mid]].sp->span_id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < v->n && strcmp(v->nodes[v->by_id[lo]].sp->span_id, id) == 0 ? lo : NONE;
}

static int same_id(const tview *v, uint32_t pos, uint32_t first)
{
    return pos < v->n && strcmp(v->nodes[v->by_id[pos]].sp->span_id,
                                v->nodes[v->by_id[first]].sp->span_id) == 0;
}

static int is_server_half(const sl_span *s, int has_client)
{
    return (s->flags & SL_SPAN_SHARED) || (s->kind == SL_KIND_SERVER && has_client);
}

/* T1 for the group of nodes sharing the id at by_id[first..last): which are
 * server halves, the node the id's children attach to, the client half. */
static void resolve_group(tview *v, uint32_t first, uint32_t last)
{
    int has_client = 0;
    for (uint32_t k = first; k < last; k++) {
        const sl_span *s = v->nodes[v->by_id[k]].sp;
        if (s->kind == SL_KIND_CLIENT && !(s->flags & SL_SPAN_SHARED)) has_client = 1;
    }
    uint32_t rep = NONE, client = NONE;
    for (uint32_t k = first; k < last; k++) {
        uint32_t i = v->by_id[k];
        v->nodes[i].server_half = last - first > 1 && is_server_half(v->nodes[i].sp, has_client);
        if (v->nodes[i].server_half) {
            if (rep == NONE) rep = i;
        } else if (client == NONE) {
            client = i;
        }
    }
    if (rep == NONE) {
        rep = v->by_id[first];
        client = NONE;
    }
    for (uint32_t k = first; k < last; k++) {
        v->nodes[v->by_id[k]].attach = rep;
        v->nodes[v->by_id[k]].client = client;
    }
}

static uint32_t parent_of(const tview *v, uint32_t i)
{
    const tnode *x = &v->nodes[i];
    uint32_t p = NONE;
    if (x->server_half && x->client != NONE) {
        p = x->client;
    } else if (x->sp->parent_span_id && *x->sp->parent_span_id) {
        uint32_t g = find_id(v, x->sp->parent_span_id);
        if (g != NONE) p = v->nodes[v->by_id[g]].attach;
    }
    return p == i ? NONE : p;
}

/* T1 and T2: parents, sibling lists in start order, roots. */
static int build_tree(tview *v)
{
    id_key *keys = malloc(sizeof *keys * (v->n ? v->n : 1));
    if (!keys) return -1;
    for (uint32_t i = 0; i < v->n; i++) keys[i] = (id_key){v->nodes[i].sp->span_id, i};
    qsort(keys, v->n, sizeof *keys, cmp_id_key);
    for (uint32_t i = 0; i < v->n; i++) v->by_id[i] = keys[i].node;
    free(keys);
    for (uint32_t first = 0, last; first < v->n; first = last) {
        for (last = first + 1; same_id(v, last, first); last++)
            ;
        resolve_group(v, first, last);
    }

    uint32_t *tail = malloc(sizeof *tail * (v->n ? v->n : 1));
    if (!tail) return -1;
    for (uint32_t i = 0; i < v->n; i++) {
        tnode *x = &v->nodes[i];
        x->child = x->next = tail[i] = NONE;
        x->parent = parent_of(v, i);
    }
    for (uint32_t i = 0; i < v->n; i++) { /* i ascending keeps T2 order */
        uint32_t p = v->nodes[i].parent;
        if (p == NONE) continue;
        if (tail[p] == NONE) v->nodes[p].child = i;
        else v->nodes[tail[p]].next = i;
        tail[p] = i;
    }
    free(tail);
    return 0;
}

/* Mark every node reachable from root; uses stack (room for n). */
static void mark_subtree(tview *v, uint32_t root, unsigned char *seen, uint32_t *stack)
{
    uint32_t top = 0;
    stack[top++] = root;
    seen[root] = 1;
    while (top) {
        uint32_t p = stack[--top];
        for (uint32_t c = v->nodes[p].child; c != NONE; c = v->nodes[c].next)
            if (!seen[c]) {
                seen[c] = 1;
                stack[top++] = c;
            }
    }
}

/* T2: parentless spans, then the earliest span of each unreached cycle. */
static int find_roots(tview *v)
{
    unsigned char *seen = calloc(v->n ? v->n : 1, 1);
    uint32_t *stack = malloc(sizeof *stack * (v->n ? v->n : 1));
    v->roots = malloc(sizeof *v->roots * (v->n ? v->n : 1));
    if (!seen || !stack || !v->roots) {
        free(seen);
        free(stack);
        return -1;
    }
    for (uint32_t i = 0; i < v->n; i++)
        if (v->nodes[i].parent == NONE) {
            v->roots[v->nroots++] = i;
            mark_subtree(v, i, seen, stack);
        }
    for (uint32_t i = 0; i < v->n; i++)
        if (!seen[i]) { /* in a cycle: cut it above i */
            uint32_t p = v->nodes[i].parent, *link = &v->nodes[p].child;
            while (*link != i) link = &v->nodes[*link].next;
            *link = v->nodes[i].next;
            v->nodes[i].parent = NONE;
            v->nodes[i].next = NONE;
            v->roots[v->nroots++] = i;
            mark_subtree(v, i, seen, stack);
        }
    /* Cycle roots were appended after the others: restore T2 order. */
    qsort(v->roots, v->nroots, sizeof *v->roots, cmp_u32);
    free(seen);
    free(stack);
    return 0;
}

/* T3.  Children come in start order and clamping keeps that order, so one
 * sweep merges their intervals. */
static void self_times(tview *v)
{
    for (uint32_t i = 0; i < v->n; i++) {
        const sl_span *s = v->nodes[i].sp;
        int64_t ps = s->start_ns, pe = s->start_ns + s->duration_ns;
        int64_t covered = 0, cur_s = 0, cur_e = 0;
        int open = 0;
        for (uint32_t c = v->nodes[i].child; c != NONE; c = v->nodes[c].next) {
            const sl_span *k = v->nodes[c].sp;
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
        v->nodes[i].self_ns = s->duration_ns - covered;
    }
}

/* ---- Critical path through SQL ------------------------------------------ */

/* The node a critical_path() row names: same span id, preferably the same
 * service and operation (shared ids have two spans). */
static uint32_t section_node(const tview *v, const char *id, const char *svc, const char *op)
{
    uint32_t first = find_id(v, id);
    if (first == NONE) return NONE;
    for (uint32_t k = first; same_id(v, k, first); k++) {
        const sl_span *s = v->nodes[v->by_id[k]].sp;
        if (svc && op && strcmp(s->service, svc) == 0 && strcmp(s->operation, op) == 0)
            return v->by_id[k];
    }
    return v->by_id[first];
}

static int cmp_section(const void *a, const void *b)
{
    const tsection *x = a, *y = b;
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    return (x->end_ns > y->end_ns) - (x->end_ns < y->end_ns);
}

static int add_section(tview *v, size_t *cap, uint32_t node, int64_t s, int64_t e)
{
    if (v->nsecs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        tsection *p = realloc(v->secs, ncap * sizeof *p);
        if (!p) return -1;
        v->secs = p;
        *cap = ncap;
    }
    v->secs[v->nsecs++] = (tsection){node, s, e};
    tnode *x = &v->nodes[node];
    if (!x->nsec || s < x->first_sec_ns) x->first_sec_ns = s;
    x->nsec++;
    x->crit_ns += e - s;
    return 0;
}

/* T4: read critical_path(trace_id).  0, or -1 with the message in err. */
static int critical_sections(tview *v, sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
        "SELECT span_id, service, operation, start_ns, end_ns FROM critical_path(?1)",
        -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_bind_text(st, 1, v->trace->spans[0].trace_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint32_t node = section_node(v, (const char *)sqlite3_column_text(st, 0),
                                     (const char *)sqlite3_column_text(st, 1),
                                     (const char *)sqlite3_column_text(st, 2));
        if (node == NONE) { rc = SQLITE_OK; continue; }
        if (add_section(v, &cap, node, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)))
            rc = SQLITE_NOMEM;
        else
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) snprintf(err, errlen, "critical path: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return -1;
    qsort(v->secs, v->nsecs, sizeof *v->secs, cmp_section);
    return 0;
}

/* ---- Services ------------------------------------------------------------ */

static int cmp_service_name(const void *a, const void *b)
{
    return strcmp(((const tservice *)a)->name, ((const tservice *)b)->name);
}

static int cmp_service_time(const void *a, const void *b)
{
    const tservice *x = a, *y = b;
    if (x->self_ns != y->self_ns) return x->self_ns > y->self_ns ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* T3: self time summed per service, largest first. */
static int service_times(tview *v)
{
    tservice *all = malloc(sizeof *all * (v->n ? v->n : 1));
    if (!all) return -1;
    for (uint32_t i = 0; i < v->n; i++) all[i] = (tservice){v->nodes[i].sp->service, v->nodes[i].self_ns};
    qsort(all, v->n, sizeof *all, cmp_service_name);
    size_t m = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        if (m && strcmp(all[m - 1].name, all[i].name) == 0) all[m - 1].self_ns += all[i].self_ns;
        else all[m++] = all[i];
    }
    qsort(all, m, sizeof *all, cmp_service_time);
    v->svcs = all;
    v->nsvcs = m;
    return 0;
}

/* ---- Loading ------------------------------------------------------------- */

/* Fetch the trace, trying a lower-cased hex id too (the parsers store hex
 * ids lower-cased).  SL_OK, SL_NOTFOUND, or another code. */
static int fetch_trace(sl_db *db, const char *id, sl_trace **out)
{
    int rc = sl_get_trace(db, id, out);
    if (rc != SL_NOTFOUND) return rc;
    char *low = strdup(id);
    if (!low) return SL_NOMEM;
    sl_hex_lower(low);
    if (strcmp(low, id) != 0) rc = sl_get_trace(db, low, out);
    free(low);
    return rc;
}

static tview *tview_new(sl_trace *t, sqlite3 *db, char *err, size_t errlen)
{
    tview *v = calloc(1, sizeof *v);
    if (!v) {
        sl_trace_free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->trace = t;
    v->n = (uint32_t)t->nspans;
    /* T2 order: start, then span id.  sl_get_trace() orders by start only. */
    qsort(t->spans, t->nspans, sizeof *t->spans, cmp_span_start);
    v->nodes = calloc(v->n, sizeof *v->nodes);
    v->by_id = malloc(sizeof *v->by_id * v->n);
    if (!v->nodes || !v->by_id) goto oom;
    v->start_ns = t->spans[0].start_ns;
    v->end_ns = v->start_ns;
    for (uint32_t i = 0; i < v->n; i++) {
        const sl_span *s = &t->spans[i];
        v->nodes[i].sp = s;
        if (s->start_ns + s->duration_ns > v->end_ns) v->end_ns = s->start_ns + s->duration_ns;
        if (s->status == SL_STATUS_ERROR) v->nerrors++;
    }
    if (build_tree(v) || find_roots(v)) goto oom;
    self_times(v);
    if (service_times(v)) goto oom;
    if (critical_sections(v, db, err, errlen)) {
        tview_free(v);
        return NULL;
    }
    return v;
oom:
    snprintf(err, errlen, "out of memory");
    tview_free(v);
    return NULL;
}

/* ---- Text rendering ------------------------------------------------------ */

/* Human duration: ns below 1 µs, µs with 3 decimals (exact) below 1 ms, ms
 * with 3 decimals below 1 s, else s with 3 decimals; rounding half up. */
static const char *human(int64_t ns, char buf[40])
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    if (a == 0) {
        snprintf(buf, 40, "0ms");
    } else if (a < 1000) {
        snprintf(buf, 40, "%s%" PRIu64 "ns", sign, a);
    } else if (a < 1000000) {
        snprintf(buf, 40, "%s%" PRIu64 ".%03" PRIu64 "\xc2\xb5s", sign, a / 1000, a % 1000);
    } else if ((a + 500) / 1000 < 1000000) {
        uint64_t us = (a + 500) / 1000;
        snprintf(buf, 40, "%s%" PRIu64 ".%03" PRIu64 "ms", sign, us / 1000, us % 1000);
    } else {
        uint64_t ms = (a + 500000) / 1000000;
        snprintf(buf, 40, "%s%" PRIu64 ".%03" PRIu64 "s", sign, ms / 1000, ms % 1000);
    }
    return buf;
}

static double percent(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Display width of UTF-8 text: code points. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

static void put_right(FILE *out, const char *s, size_t w)
{
    for (size_t k = width(s); k < w; k++) fputc(' ', out);
    fputs(s, out);
}

typedef struct colw {
    size_t off, dur, crit;
} colw;

static void tree_widths(const tview *v, colw *w)
{
    char b[40];
    w->off = strlen("OFFSET");
    w->dur = strlen("DURATION");
    w->crit = strlen("CRITICAL");
    for (uint32_t i = 0; i < v->n; i++) {
        const tnode *x = &v->nodes[i];
        size_t k;
        if ((k = width(human(x->sp->start_ns - v->start_ns, b))) > w->off) w->off = k;
        if ((k = width(human(x->sp->duration_ns, b))) > w->dur) w->dur = k;
        if (x->nsec && (k = width(human(x->crit_ns, b))) > w->crit) w->crit = k;
    }
}

static void tree_line(const tview *v, const colw *w, uint32_t i, size_t depth, FILE *out)
{
    const tnode *x = &v->nodes[i];
    const sl_span *s = x->sp;
    char b[40];
    put_right(out, human(s->start_ns - v->start_ns, b), w->off);
    fputs("  ", out);
    put_right(out, human(s->duration_ns, b), w->dur);
    fputs("  ", out);
    put_right(out, x->nsec ? human(x->crit_ns, b) : "", w->crit);
    fputs(x->nsec ? "  * " : "    ", out);
    /* A chain of thousands of spans would indent each line by kilobytes. */
    for (size_t d = 0; d < depth && d < MAX_INDENT; d++) fputs("  ", out);
    if (depth > MAX_INDENT) fprintf(out, "[depth %zu] ", depth);
    fprintf(out, "%s: %s", s->service, s->operation);
    if (s->status == SL_STATUS_ERROR) {
        if (s->status_message && *s->status_message) fprintf(out, "  [error: %s]", s->status_message);
        else fputs("  [error]", out);
    }
    fputc('\n', out);
}

/* Depth-first, iteratively: traces can be deep. */
static int print_tree(const tview *v, FILE *out)
{
    colw w;
    tree_widths(v, &w);
    uint32_t *stack = malloc(sizeof *stack * v->n);
    uint32_t *depth = malloc(sizeof *depth * v->n);
    if (!stack || !depth) {
        free(stack);
        free(depth);
        return -1;
    }
    put_right(out, "OFFSET", w.off);
    fputs("  ", out);
    put_right(out, "DURATION", w.dur);
    fputs("  ", out);
    put_right(out, "CRITICAL", w.crit);
    fputs("    SPAN  (* = on the critical path)\n", out);
    for (uint32_t r = 0; r < v->nroots; r++) {
        uint32_t top = 0;
        stack[top] = v->roots[r];
        depth[top++] = 0;
        while (top) {
            uint32_t i = stack[--top], d = depth[top];
            tree_line(v, &w, i, d, out);
            /* push children in reverse so the earliest pops first */
            uint32_t first = top;
            for (uint32_t c = v->nodes[i].child; c != NONE; c = v->nodes[c].next) {
                stack[top] = c;
                depth[top++] = d + 1;
            }
            for (uint32_t a = first, b = top; b > a + 1; a++, b--) {
                uint32_t t = stack[a];
                stack[a] = stack[b - 1];
                stack[b - 1] = t;
            }
        }
    }
    free(stack);
    free(depth);
    return 0;
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

/* The nodes on the critical path in path order (earliest section first). */
static uint32_t *critical_nodes(const tview *v, uint32_t *count)
{
    crit_key *keys = malloc(sizeof *keys * (v->n ? v->n : 1));
    uint32_t *list = malloc(sizeof *list * (v->n ? v->n : 1)), m = 0;
    if (!keys || !list) {
        free(keys);
        free(list);
        return NULL;
    }
    for (uint32_t i = 0; i < v->n; i++)
        if (v->nodes[i].nsec) keys[m++] = (crit_key){v->nodes[i].first_sec_ns, i};
    qsort(keys, m, sizeof *keys, cmp_crit_key);
    for (uint32_t k = 0; k < m; k++) list[k] = keys[k].node;
    free(keys);
    *count = m;
    return list;
}

static int print_critical(const tview *v, FILE *out)
{
    int64_t total = v->end_ns - v->start_ns, path = 0;
    char b1[40];
    for (size_t k = 0; k < v->nsecs; k++) path += v->secs[k].end_ns - v->secs[k].start_ns;
    uint32_t m;
    uint32_t *list = critical_nodes(v, &m);
    if (!list) return -1;
    fprintf(out, "\ncritical path: %s in %zu section%s\n", human(path, b1), v->nsecs,
            v->nsecs == 1 ? "" : "s");
    size_t tw = strlen("TIME");
    for (uint32_t k = 0; k < m; k++) {
        size_t x = width(human(v->nodes[list[k]].crit_ns, b1));
        if (x > tw) tw = x;
    }
    fputs("   SHARE  ", out);
    put_right(out, "TIME", tw);
    fputs("  SPAN\n", out);
    for (uint32_t k = 0; k < m; k++) {
        const tnode *x = &v->nodes[list[k]];
        fprintf(out, "  %5.1f%%  ", percent(x->crit_ns, total));
        put_right(out, human(x->crit_ns, b1), tw);
        fprintf(out, "  %s: %s", x->sp->service, x->sp->operation);
        if (x->nsec > 1) fprintf(out, " (%u sections)", x->nsec);
        fputc('\n', out);
    }
    free(list);
    return 0;
}

static void print_services(const tview *v, FILE *out)
{
    int64_t total = v->end_ns - v->start_ns;
    char b[40];
    size_t tw = strlen("SELF");
    for (size_t k = 0; k < v->nsvcs; k++) {
        size_t x = width(human(v->svcs[k].self_ns, b));
        if (x > tw) tw = x;
    }
    fputs("\nservice time (self time: span durations minus the time their children cover)\n", out);
    fputs("   SHARE  ", out);
    put_right(out, "SELF", tw);
    fputs("  SERVICE\n", out);
    for (size_t k = 0; k < v->nsvcs; k++) {
        fprintf(out, "  %5.1f%%  ", percent(v->svcs[k].self_ns, total));
        put_right(out, human(v->svcs[k].self_ns, b), tw);
        fprintf(out, "  %s\n", v->svcs[k].name);
    }
}

static int print_text(const tview *v, FILE *out)
{
    char b[40];
    fprintf(out, "trace %s\n", v->trace->spans[0].trace_id);
    fprintf(out, "duration %s, %u span%s, %zu service%s, %zu error%s\n\n",
            human(v->end_ns - v->start_ns, b), v->n, v->n == 1 ? "" : "s",
            v->nsvcs, v->nsvcs == 1 ? "" : "s", v->nerrors, v->nerrors == 1 ? "" : "s");
    if (print_tree(v, out) || print_critical(v, out)) return -1;
    print_services(v, out);
    return 0;
}

/* ---- JSON rendering ------------------------------------------------------ */

static const char *kind_name(int k)
{
    static const char *const names[] = {"unspecified", "internal", "server",
                                        "client", "producer", "consumer"};
    return k >= 0 && k < 6 ? names[k] : "unspecified";
}

static const char *status_name(int s)
{
    return s == SL_STATUS_OK ? "ok" : s == SL_STATUS_ERROR ? "error" : "unset";
}

/* Percentages rounded to 3 decimals: the raw nanoseconds are given too. */
static void jw_percent(sl_buf *b, int64_t part, int64_t whole)
{
    double p = percent(part, whole);
    sl_jw_double(b, (double)llround(p * 1000.0) / 1000.0);
}

/* A span object up to (not including) its "children" array contents. */
static void json_span_open(const tview *v, uint32_t i, sl_buf *b)
{
    const tnode *x = &v->nodes[i];
    const sl_span *s = x->sp;
    int first = 1;
    sl_buf_putc(b, '{');
    sl_jw_key(b, "span_id", &first);
    sl_jw_string(b, s->span_id);
    sl_jw_key(b, "parent_span_id", &first);
    sl_jw_string(b, s->parent_span_id && *s->parent_span_id ? s->parent_span_id : NULL);
    sl_jw_key(b, "service", &first);
    sl_jw_string(b, s->service);
    sl_jw_key(b, "operation", &first);
    sl_jw_string(b, s->operation);
    sl_jw_key(b, "kind", &first);
    sl_jw_string(b, kind_name(s->kind));
    sl_jw_key(b, "status", &first);
    sl_jw_string(b, status_name(s->status));
    sl_jw_key(b, "status_message", &first);
    sl_jw_string(b, s->status_message);
    sl_jw_key(b, "start_ns", &first);
    sl_jw_int(b, s->start_ns);
    sl_jw_key(b, "offset_ns", &first);
    sl_jw_int(b, s->start_ns - v->start_ns);
    sl_jw_key(b, "duration_ns", &first);
    sl_jw_int(b, s->duration_ns);
    sl_jw_key(b, "self_ns", &first);
    sl_jw_int(b, x->self_ns);
    sl_jw_key(b, "critical_ns", &first);
    sl_jw_int(b, x->crit_ns);
    sl_jw_key(b, "children", &first);
    sl_buf_putc(b, '[');
}

/* Nested spans, iteratively: a frame per open span, holding its next child. */
static int json_spans(const tview *v, sl_buf *b)
{
    uint32_t *next = malloc(sizeof *next * (v->n ? v->n : 1));
    if (!next) return -1;
    sl_buf_putc(b, '[');
    for (uint32_t r = 0; r < v->nroots; r++) {
        if (r) sl_buf_putc(b, ',');
        uint32_t top = 0;
        json_span_open(v, v->roots[r], b);
        next[top++] = v->nodes[v->roots[r]].child;
        while (top) {
            uint32_t c = next[top - 1];
            if (c == NONE) {
                sl_buf_puts(b, "]}");
                top--;
                continue;
            }
            next[top - 1] = v->nodes[c].next;
            if (c != v->nodes[v->nodes[c].parent].child) sl_buf_putc(b, ',');
            json_span_open(v, c, b);
            next[top++] = v->nodes[c].child;
        }
    }
    sl_buf_putc(b, ']');
    free(next);
    return 0;
}

static void json_sections_of(const tview *v, uint32_t node, sl_buf *b)
{
    int any = 0;
    sl_buf_putc(b, '[');
    for (size_t k = 0; k < v->nsecs; k++) {
        if (v->secs[k].node != node) continue;
        if (any++) sl_buf_putc(b, ',');
        int first = 1;
        sl_buf_putc(b, '{');
        sl_jw_key(b, "start_ns", &first);
        sl_jw_int(b, v->secs[k].start_ns);
        sl_jw_key(b, "end_ns", &first);
        sl_jw_int(b, v->secs[k].end_ns);
        sl_buf_putc(b, '}');
    }
    sl_buf_putc(b, ']');
}

static int json_critical(const tview *v, sl_buf *b)
{
    uint32_t m;
    uint32_t *list = critical_nodes(v, &m);
    if (!list) return -1;
    int64_t total = v->end_ns - v->start_ns;
    sl_buf_putc(b, '[');
    for (uint32_t k = 0; k < m; k++) {
        const tnode *x = &v->nodes[list[k]];
        int first = 1;
        if (k) sl_buf_putc(b, ',');
        sl_buf_putc(b, '{');
        sl_jw_key(b, "span_id", &first);
        sl_jw_string(b, x->sp->span_id);
        sl_jw_key(b, "service", &first);
        sl_jw_string(b, x->sp->service);
        sl_jw_key(b, "operation", &first);
        sl_jw_string(b, x->sp->operation);
        sl_jw_key(b, "critical_ns", &first);
        sl_jw_int(b, x->crit_ns);
        sl_jw_key(b, "percentage", &first);
        jw_percent(b, x->crit_ns, total);
        sl_jw_key(b, "sections", &first);
        json_sections_of(v, list[k], b);
        sl_buf_putc(b, '}');
    }
    sl_buf_putc(b, ']');
    free(list);
    return 0;
}

static void json_services(const tview *v, sl_buf *b)
{
    int64_t total = v->end_ns - v->start_ns;
    sl_buf_putc(b, '[');
    for (size_t k = 0; k < v->nsvcs; k++) {
        int first = 1;
        if (k) sl_buf_putc(b, ',');
        sl_buf_putc(b, '{');
        sl_jw_key(b, "service", &first);
        sl_jw_string(b, v->svcs[k].name);
        sl_jw_key(b, "self_ns", &first);
        sl_jw_int(b, v->svcs[k].self_ns);
        sl_jw_key(b, "percentage", &first);
        jw_percent(b, v->svcs[k].self_ns, total);
        sl_buf_putc(b, '}');
    }
    sl_buf_putc(b, ']');
}

static int print_json(const tview *v, FILE *out)
{
    sl_buf b = SL_BUF_INIT;
    int first = 1, rc = 0;
    sl_buf_putc(&b, '{');
    sl_jw_key(&b, "trace_id", &first);
    sl_jw_string(&b, v->trace->spans[0].trace_id);
    sl_jw_key(&b, "start_ns", &first);
    sl_jw_int(&b, v->start_ns);
    sl_jw_key(&b, "duration_ns", &first);
    sl_jw_int(&b, v->end_ns - v->start_ns);
    sl_jw_key(&b, "span_count", &first);
    sl_jw_int(&b, v->n);
    sl_jw_key(&b, "service_count", &first);
    sl_jw_int(&b, (int64_t)v->nsvcs);
    sl_jw_key(&b, "error_count", &first);
    sl_jw_int(&b, (int64_t)v->nerrors);
    sl_jw_key(&b, "spans", &first);
    if (json_spans(v, &b)) rc = -1;
    sl_jw_key(&b, "critical_path", &first);
    if (json_critical(v, &b)) rc = -1;
    sl_jw_key(&b, "services", &first);
    json_services(v, &b);
    sl_buf_puts(&b, "}\n");
    if (b.oom) rc = -1;
    if (!rc) fwrite(b.p, 1, b.len, out);
    sl_buf_free(&b);
    return rc;
}

/* ---- The command --------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] trace ID [--format table|json]\n"
        "\n"
        "Show one trace: its spans as a tree (children under their parents, by start\n"
        "time; spans whose parent is missing are extra roots) with each span's start\n"
        "offset from the trace start, duration and errors; the spans on the critical\n"
        "path are marked '*' with their time on it (critical_path(), Jaeger UI's rules).\n"
        "Then TracAgg's analyze_trace figures: total duration, the critical path with\n"
        "each span's share (its critical time over the trace duration), and the time\n"
        "per service with its percentage of the trace duration.\n"
        "\n"
        "Service time is self time: a span's duration minus the union of its children's\n"
        "intervals (clamped to the span), summed over the service's spans.  Concurrent\n"
        "children each count, so the percentages can add up to more than 100.\n"
        "\n"
        "Options:\n"
        "  --format F   table (default) or json: one object {trace_id, start_ns,\n"
        "               duration_ns, span_count, service_count, error_count,\n"
        "               spans: [nested, with children], critical_path: [...],\n"
        "               services: [{service, self_ns, percentage}]}\n"
        "  --help       this help\n"
        "\n"
        "Exit status: 0 shown, 1 no such trace or a failure, 2 usage error.\n");
}

/* Parse options; returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, const char **id, int *json)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    *json = 0;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0) *json = 1;
            else if (strcmp(optarg, "table") == 0) *json = 0;
            else {
                cli_error("trace", "unknown format '%s' (table, json)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !*argv[optind]) {
        cli_error("trace", "expected one trace ID (see spanlite trace --help)");
        return EXIT_USAGE;
    }
    *id = argv[optind];
    return -1;
}

int cmd_trace(cli_ctx *ctx, int argc, char **argv)
{
    const char *id;
    int json;
    int status = parse_args(argc, argv, &id, &json);
    if (status >= 0) return status;
    if (cli_sync_workflow_spans(ctx)) return EXIT_USAGE;
    sl_db *db = cli_open(ctx, 1);
    if (!db) return EXIT_USAGE;
    sl_trace *t = NULL;
    int rc = fetch_trace(db, id, &t);
    status = EXIT_FAIL;
    if (rc == SL_NOTFOUND) {
        cli_error("trace", "no trace with id '%s'", id);
    } else if (rc != SL_OK) {
        cli_error("trace", "%s", sl_errmsg(db));
    } else {
        char err[512];
        tview *v = tview_new(t, sl_sqlite(db), err, sizeof err);
        if (!v) cli_error("trace", "%s", err);
        else if ((json ? print_json(v, stdout) : print_text(v, stdout)) != 0)
            cli_error("trace", "out of memory");
        else status = EXIT_OK;
        tview_free(v);
    }
    if (fflush(stdout) != 0) status = EXIT_FAIL;
    sl_close(db);
    return status;
}
