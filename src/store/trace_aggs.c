/*
 * store/trace_aggs.c -- the derived table `trace` (its aggregate columns) and
 * trace_service; see store/derived.h.
 *
 * A trace row's identity (ref, trace_id, gen) is made by the trace index;
 * its aggregates (start_ns, end_ns, span_count, error_count,
 * service_count, root_span_rowid, root_is_parentless) are what its spans
 * add up to.  They are accumulated per transaction in memory and written
 * once per trace at commit, not once per span.  service_count stays exact
 * across imports through trace_service, which decides whether a service is
 * new to the trace.
 *
 * The root is the parentless span if any, else any span; among those the
 * earliest, and among spans starting together the first stored (lowest
 * rowid): in a transaction the first noted wins a tie, across transactions
 * the stored root does (the UPDATE compares strictly).
 */
#include "store/derived.h"
#include "base/buf.h"
#include "base/map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What this transaction added to one trace. */
typedef struct trace_agg {
    int64_t ref;
    int64_t start_ns, end_ns;
    int64_t spans, errors, new_services;
    int64_t root_rowid, root_start; /* best root candidate seen, 0 rowid = none */
    int root_parentless;
    int nsvc;           /* services already recorded in trace_service, first few */
    int64_t svc[8];
} trace_agg;

enum { ST_TRACE_SERVICE_ADD, ST_TRACE_UPDATE, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_TRACE_SERVICE_ADD] =
        "INSERT OR IGNORE INTO trace_service(trace_ref, service_id) VALUES (?1, ?2)",
    /* Every right-hand side sees the old row, so the root comparison uses the
     * old root's flags; see trace_agg. */
    [ST_TRACE_UPDATE] =
        "UPDATE trace SET "
        " start_ns = CASE WHEN start_ns IS NULL OR ?2 < start_ns THEN ?2 ELSE start_ns END,"
        " end_ns = CASE WHEN end_ns IS NULL OR ?3 > end_ns THEN ?3 ELSE end_ns END,"
        " span_count = span_count + ?4, error_count = error_count + ?5,"
        " service_count = service_count + ?6,"
        " root_span_rowid = CASE WHEN root_span_rowid IS NULL OR ?8 > root_is_parentless"
        "   OR (?8 = root_is_parentless AND ?9 < (SELECT start_ns FROM span WHERE id = root_span_rowid))"
        "   THEN ?7 ELSE root_span_rowid END,"
        " root_is_parentless = max(root_is_parentless, ?8) "
        "WHERE ref = ?1",
};

typedef struct trace_aggs {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    trace_agg *aggs;     /* this transaction's traces, in order of first note */
    size_t naggs, cap;   /* used, allocated */
    sl_map index;        /* ref -> index in aggs[] */
    size_t last;         /* index of the trace noted last: its spans come together */
    char err[256];
} trace_aggs;

static int fail(trace_aggs *t, int rc, const char *what)
{
    snprintf(t->err, sizeof t->err, "%s: %s", what, sqlite3_errmsg(t->db));
    return rc;
}

static void aggs_forget(trace_aggs *t)
{
    t->naggs = 0;
    if (t->index.n) sl_map_clear(&t->index);
}

static void *aggs_new(sqlite3 *db, char *err, size_t errlen)
{
    trace_aggs *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->db = db;
    sl_map_init(&t->index);
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &t->st[i], NULL)) {
            snprintf(err, errlen, "preparing the writer: %s", sqlite3_errmsg(db));
            for (int j = 0; j < i; j++) sqlite3_finalize(t->st[j]);
            free(t);
            return NULL;
        }
    }
    return t;
}

static void aggs_free(void *x)
{
    trace_aggs *t = x;
    if (!t) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(t->st[i]);
    sl_map_free(&t->index);
    free(t->aggs);
    free(t);
}

static int aggs_begin(void *x, int others_committed)
{
    (void)others_committed;
    aggs_forget(x);
    return SQLITE_OK;
}

static trace_agg *agg_for(trace_aggs *t, int64_t ref)
{
    if (t->naggs && t->aggs[t->last].ref == ref) return &t->aggs[t->last];
    int created;
    uint64_t *v = sl_map_put(&t->index, (uint64_t)ref, &created);
    if (!v) return NULL;
    if (created) {
        if (sl_array_reserve(&t->aggs, &t->cap, t->naggs + 1, sizeof *t->aggs, 1024)) {
            /* Keep the map consistent with aggs[]: forget this transaction's
             * index; the caller rolls back on the error. */
            sl_map_clear(&t->index);
            return NULL;
        }
        trace_agg *a = &t->aggs[t->naggs];
        memset(a, 0, sizeof *a);
        a->ref = ref;
        *v = t->naggs++;
    }
    t->last = *v;
    return &t->aggs[*v];
}

/* Remember what an inserted span adds to its trace. */
static int aggs_note(void *x, const sl_noted_span *n)
{
    trace_aggs *t = x;
    const sl_span *sp = n->span;
    trace_agg *a = agg_for(t, n->trace_ref);
    if (!a) {
        snprintf(t->err, sizeof t->err, "trace aggregates: out of memory");
        return SQLITE_NOMEM;
    }
    int64_t end = sp->start_ns + sp->duration_ns;
    int parentless = !sp->parent_span_id || !*sp->parent_span_id;
    if (a->spans == 0 || sp->start_ns < a->start_ns) a->start_ns = sp->start_ns;
    if (a->spans == 0 || end > a->end_ns) a->end_ns = end;
    a->spans++;
    a->errors += sp->status == SL_STATUS_ERROR;
    if (!a->root_rowid || parentless > a->root_parentless ||
        (parentless == a->root_parentless && sp->start_ns < a->root_start)) {
        a->root_rowid = n->rowid;
        a->root_start = sp->start_ns;
        a->root_parentless = parentless;
    }
    /* A service new to this trace within this transaction may still be
     * known from an earlier import: trace_service decides. */
    for (int i = 0; i < a->nsvc; i++)
        if (a->svc[i] == n->service_id) return SQLITE_OK;
    if (a->nsvc < (int)(sizeof a->svc / sizeof *a->svc)) a->svc[a->nsvc++] = n->service_id;
    sqlite3_stmt *ts = t->st[ST_TRACE_SERVICE_ADD];
    sqlite3_bind_int64(ts, 1, n->trace_ref);
    sqlite3_bind_int64(ts, 2, n->service_id);
    int rc = sqlite3_step(ts);
    sqlite3_reset(ts);
    if (rc != SQLITE_DONE) return fail(t, rc, "trace_service insert");
    a->new_services += sqlite3_changes(t->db);
    return SQLITE_OK;
}

static int aggs_commit(void *x)
{
    trace_aggs *t = x;
    sqlite3_stmt *u = t->st[ST_TRACE_UPDATE];
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < t->naggs; i++) {
        const trace_agg *a = &t->aggs[i];
        sqlite3_bind_int64(u, 1, a->ref);
        sqlite3_bind_int64(u, 2, a->start_ns);
        sqlite3_bind_int64(u, 3, a->end_ns);
        sqlite3_bind_int64(u, 4, a->spans);
        sqlite3_bind_int64(u, 5, a->errors);
        sqlite3_bind_int64(u, 6, a->new_services);
        sqlite3_bind_int64(u, 7, a->root_rowid);
        sqlite3_bind_int(u, 8, a->root_parentless);
        sqlite3_bind_int64(u, 9, a->root_start);
        rc = sqlite3_step(u);
        sqlite3_reset(u);
        rc = rc == SQLITE_DONE ? SQLITE_OK : fail(t, rc, "trace update");
    }
    aggs_forget(t);
    return rc;
}

static void aggs_rollback(void *x) { aggs_forget(x); }

static const char *aggs_error(const void *x) { return ((const trace_aggs *)x)->err; }

static int exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc) snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return rc;
}

#define AGGS_RESET                                                                     \
    "UPDATE trace SET start_ns = NULL, end_ns = NULL, span_count = 0, service_count = 0," \
    " error_count = 0, root_span_rowid = NULL, root_is_parentless = 0"

static int aggs_clear(sqlite3 *db, char *err, size_t errlen)
{
    return exec(db, "DELETE FROM trace_service; " AGGS_RESET, "clearing trace aggregates", err, errlen);
}

/* The writer's rules (see the header comment) over all of a trace's spans. */
static int aggs_rebuild(sqlite3 *db, int64_t *rows, char *err, size_t errlen)
{
    static const char sql[] =
        "DELETE FROM trace_service;"
        "INSERT INTO trace_service(trace_ref, service_id)"
        " SELECT DISTINCT trace_ref, service_id FROM span;"
        AGGS_RESET ";"
        "UPDATE trace SET start_ns = a.s, end_ns = a.e, span_count = a.n, error_count = a.err,"
        " service_count = a.sv, root_is_parentless = a.pl,"
        " root_span_rowid = (SELECT id FROM span WHERE trace_ref = trace.ref"
        "   ORDER BY parent_span_id IS NULL DESC, start_ns, id LIMIT 1)"
        " FROM (SELECT trace_ref, min(start_ns) AS s, max(start_ns + duration_ns) AS e,"
        "   count(*) AS n, sum(status = 2) AS err, count(DISTINCT service_id) AS sv,"
        "   max(parent_span_id IS NULL) AS pl FROM span GROUP BY trace_ref) AS a"
        " WHERE trace.ref = a.trace_ref;";
    int rc = exec(db, sql, "rebuilding trace aggregates", err, errlen);
    if (rc == SQLITE_OK) *rows = sqlite3_changes(db);
    return rc;
}

const sl_derived sl_derived_trace = {
    .name = "trace",
    .new = aggs_new,
    .free = aggs_free,
    .begin = aggs_begin,
    .note = aggs_note,
    .commit = aggs_commit,
    .rollback = aggs_rollback,
    .error = aggs_error,
    .clear = aggs_clear,
    .rebuild = aggs_rebuild,
};
