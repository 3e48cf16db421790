/*
 * sql/critical_path.c -- the SQL table-valued function critical_path(trace_id)
 * over the engine of analysis/critical_path.h (rules R1-R7 there; columns,
 * rules and examples in docs/sql-graph.md).
 *
 *     SELECT span_id, service, operation, start_ns, end_ns
 *       FROM critical_path('4bf92f3577b34da6a3ce929d0e0e4736');
 *     SELECT t.trace_id, c.service, sum(c.end_ns - c.start_ns)
 *       FROM traces t, critical_path(t.trace_id) c GROUP BY 1, 2;
 *
 * One row per section of the path, in the engine's order (each root's path
 * from its end back to its start, roots by start time).  Without its
 * argument the function fails ("critical_path() needs its argument"); a
 * NULL or unknown trace id gives no rows.  Registered by sql/functions.c.
 */
#include "sql/sql.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/critical_path.h"
#include "base/arena.h"
#include "base/buf.h"
#include "store/ids.h"
#include "spanlite.h"

enum { COL_SPAN_ID, COL_SERVICE, COL_OPERATION, COL_START, COL_END, COL_TRACE_ID };

/*
 * The trace is read from the internal tables when they exist (no join per
 * span; names are looked up for the path's spans only), else through the
 * public spans view, which is all a plain SQLite file with a `spans` table
 * needs to offer.
 */
/* In arrival order (R0 of analysis/critical_path.c): the span rowid, which
 * is import order; without ORDER BY the identity index would give span_id
 * order.  A plain file's spans table is read by rowid too when it has one
 * (READ_VIEW_ROWID), else in the order it yields. */
static const char READ_TABLES[] =
    "SELECT span_id, parent_span_id, service_id, operation_id, kind, flags & 1,"
    " start_ns, start_ns + duration_ns FROM span"
    " WHERE trace_ref = (SELECT ref FROM trace WHERE trace_id = ?1) ORDER BY id";
static const char READ_VIEW_ROWID[] =
    "SELECT span_id, parent_span_id, service, operation, kind, shared, start_ns, end_ns"
    " FROM spans WHERE trace_id = ?1 ORDER BY rowid";
static const char READ_VIEW[] =
    "SELECT span_id, parent_span_id, service, operation, kind, shared, start_ns, end_ns"
    " FROM spans WHERE trace_id = ?1";
static const char SPAN_COUNT[] = "SELECT span_count FROM trace WHERE trace_id = ?1";
static const char SERVICE_NAME[] = "SELECT name FROM service WHERE id = ?1";
static const char OPERATION_NAME[] = "SELECT name FROM operation WHERE id = ?1";

/* Largest trace whose buffers are kept for the next statement. */
#define KEEP_NODES 65536

/* What the vtab keeps of a span beside its sl_cp_node. */
typedef struct cp_names {
    const char *service;    /* set for the path's spans */
    const char *operation;
    int64_t service_id;     /* internal-table mode */
    int64_t operation_id;
} cp_names;

/* Everything one trace needs; kept by the vtab between statements. */
typedef struct cp_state {
    sl_arena strings;       /* ids and names */
    sl_cp_node *nodes;      /* the trace */
    cp_names *names;        /* parallel to nodes */
    size_t n;               /* spans in nodes[] and names[] */
    size_t cap, names_cap;  /* slots allocated for nodes[], names[] */
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
    free(st->names);
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

/* Room for want nodes. */
static int grow_nodes(cp_state *st, size_t want)
{
    if (sl_array_reserve(&st->nodes, &st->cap, want, sizeof *st->nodes, 256) ||
        sl_array_reserve(&st->names, &st->names_cap, want, sizeof *st->names, 256))
        return SQLITE_NOMEM;
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

static const char *copy_col(cp_state *st, sqlite3_stmt *q, int col, int *oom)
{
    return sl_ids_column_copy(q, col, &st->strings, oom); /* names and ids alike */
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
    cp_names *nm = &st->names[i];
    nm->service = nm->operation = NULL;
    if (by_view) {
        nm->service = copy_col(st, q, 2, &oom);
        nm->operation = copy_col(st, q, 3, &oom);
    } else {
        nm->service_id = sqlite3_column_int64(q, 2);
        nm->operation_id = sqlite3_column_int64(q, 3);
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
    rc = sqlite3_prepare_v3(t->db, READ_VIEW_ROWID, -1, SQLITE_PREPARE_PERSISTENT, &t->read, NULL);
    if (rc != SQLITE_OK) rc = sqlite3_prepare_v3(t->db, READ_VIEW, -1, SQLITE_PREPARE_PERSISTENT, &t->read, NULL);
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
        cp_names *nm = &st->names[c->sec[i].node];
        if (nm->service || nm->operation) continue;
        rc = lookup_name(t, st, t->svc_name, nm->service_id, &nm->service);
        if (rc == SQLITE_OK) rc = lookup_name(t, st, t->op_name, nm->operation_id, &nm->operation);
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
    case COL_SERVICE: sqlite3_result_text(ctx, st->names[s->node].service, -1, SQLITE_TRANSIENT); break;
    case COL_OPERATION:
        sqlite3_result_text(ctx, st->names[s->node].operation, -1, SQLITE_TRANSIENT);
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

const sqlite3_module sl_critical_path_module = {
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
