/*
 * sql/dependencies.c -- the SQL table-valued function dependencies over the
 * linker of analysis/dependencies.h (rules R1-R12 there; columns, arguments
 * and examples in docs/sql-graph.md).  Registered by sql/functions.c.
 *
 *     SELECT parent, child, call_count, error_count FROM dependencies;
 *     SELECT * FROM dependencies(1700000000000000000, 1700003600000000000);
 *     SELECT * FROM dependencies WHERE since_ns = 1700000000000000000;
 *     SELECT * FROM dependencies(NULL, NULL, 1);       -- exact: full scan
 *
 * The hidden arguments since_ns and until_ns select the traces that start
 * in [since_ns, until_ns): a number (nanoseconds since the epoch) or NULL,
 * which leaves that side open; anything else fails with "dependencies():
 * since_ns must be a number of nanoseconds or NULL, not 'X'".  exact is
 * read as a boolean.
 *
 * With no window, or one of whole hours, the rows are added up from the
 * hourly link rollups kept at ingest (table link_hour, store/link_rollup.h;
 * p50/p99 then within 1%).  Otherwise, or with a true exact, the function
 * streams the internal table `span` in rowid order (a plain table scan, no
 * join, no sort), buffers the spans of each trace until trace.span_count of
 * them have arrived, links the trace and drops it; traces whose count never
 * completes are linked at the end.  Memory is therefore bounded by the
 * traces in flight, not by the table.
 */
#include "sql/sql.h"
#include "store/ids.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/dependencies.h"
#include "analysis/sketch.h"
#include "base/buf.h"
#include "spanlite.h"

#define NONE UINT32_MAX

/* ---- Reading the warehouse ---------------------------------------------- */

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
    uint32_t nrec;          /* spans in recs[] */
    size_t rcap;            /* slots allocated for recs[] */
    char *text;             /* the spans' ids, NUL-terminated, back to back */
    size_t tlen, tcap;      /* bytes used, allocated */
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
    if (sl_array_reserve(&t->text, &t->tcap, t->tlen + (size_t)len + 1, 1, 1024)) return SQLITE_NOMEM;
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
    size_t old = sc->ocap;
    if (sl_array_reserve(&sc->open, &sc->ocap, sc->nopen + 1, sizeof *sc->open, 16)) return NULL;
    memset(sc->open + old, 0, sizeof *sc->open * (sc->ocap - old)); /* no buffers yet */
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
    if (sl_array_reserve(&sc->spans, &sc->scap, t->nrec, sizeof *sc->spans, 64)) return SQLITE_NOMEM;
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
        s->ipv4 = s->ipv6 = NULL; /* endpoint addresses are not read here: the service decides */
        s->port = 0;
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
    if (sl_array_reserve(&t->recs, &t->rcap, (size_t)t->nrec + 1, sizeof *t->recs, 64)) return SQLITE_NOMEM;
    dep_rec *r = &t->recs[t->nrec];
    char idbuf[SL_IDS_TEXT_MAX], pidbuf[SL_IDS_TEXT_MAX];
    size_t idlen, pidlen;
    const char *id = sl_ids_column(st, 1, idbuf, &idlen);
    int rc = text_append(t, id ? id : "", (int)idlen, &r->id);
    r->pid = NONE;
    const char *pid = sl_ids_column(st, 2, pidbuf, &pidlen);
    if (rc == SQLITE_OK && pid) rc = text_append(t, pid, (int)pidlen, &r->pid);
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
        "SELECT trace_ref, span_id, parent_span_id, service_id, remote_service_id,"
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

/* ---- The eponymous virtual table ---------------------------------------- */

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
    dep_row *rows;          /* malloc'ed; the names sqlite3_malloc'ed */
    size_t nrows, pos;      /* rows in rows[], current row */
    size_t rows_cap;        /* slots allocated for rows[] */
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
    free(c->rows);
    c->rows = NULL;
    c->nrows = c->pos = c->rows_cap = 0;
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
    if (rc == SQLITE_OK && sl_array_reserve(&c->rows, &c->rows_cap, n, sizeof *c->rows, 1)) rc = SQLITE_NOMEM;
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
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        if (sl_array_reserve(&c->rows, &c->rows_cap, c->nrows + 1, sizeof *c->rows, 64)) {
            rc = SQLITE_NOMEM;
            break;
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
    static const char *const names[] = {"since_ns", "until_ns"};
    for (int k = 0; k < 2; k++) {
        /* Numeric text ('1700000000000000000') becomes the number it spells. */
        int type = *arg[k] ? sqlite3_value_numeric_type(*arg[k]) : SQLITE_NULL;
        if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
            sqlite3_free(t->base.zErrMsg);
            t->base.zErrMsg = sqlite3_mprintf("dependencies(): %s must be a number of nanoseconds or NULL, not '%s'",
                                              names[k], (const char *)sqlite3_value_text(*arg[k]));
            return SQLITE_ERROR;
        }
    }
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

const sqlite3_module sl_dependencies_module = {
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
