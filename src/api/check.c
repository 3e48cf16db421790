/*
 * api/check.c -- sl_check(): is this warehouse sound?  Read-only.
 *
 * Each check is one row of the table below: a name and a SQL statement
 * whose rows are the problems it finds (one row, one problem, its first
 * column the message).  They run in order inside one read transaction, so
 * they see one state of the file even while an import commits:
 *
 *   integrity  SQLite's own PRAGMA integrity_check (every page, every index)
 *   traces     each trace row's counts, bounds and services equal its spans
 *   rollups    rollup_hour equals the spans regrouped by hour and operation
 *              (calls, errors, duration sum, min, max, sketch counts)
 *   links      link_hour (the dependency rollups) equals a fresh linking of
 *              every trace: dependencies() read both ways
 *
 * A damaged file usually fails `integrity` first; the later checks then
 * say which derived rows are off.  What to do about either: docs/schema.md.
 * The library never prints: problems go to the caller's callback.
 */
#include "api/warehouse.h"

#include <string.h>

#define MAX_REPORTED 20 /* problems named per check; the rest are counted */

typedef struct check {
    const char *name;
    const char *sql; /* each row: one problem, column 0 its message */
} check;

static const check checks[] = {
    {"integrity",
     "SELECT integrity_check FROM pragma_integrity_check WHERE integrity_check <> 'ok'"},
    {"traces",
     "WITH a AS (SELECT trace_ref, count(*) AS n, sum(status = 2) AS e, min(start_ns) AS s,"
     "                  max(start_ns + duration_ns) AS en, count(DISTINCT service_id) AS sc"
     "           FROM span GROUP BY trace_ref) "
     "SELECT format('trace ref %d: row says %d spans, %d errors, %d services, [%s, %s);"
     " its spans: %d, %d, %d, [%s, %s)', t.ref, t.span_count, t.error_count, t.service_count,"
     " t.start_ns, t.end_ns, coalesce(a.n, 0), coalesce(a.e, 0), coalesce(a.sc, 0), a.s, a.en)"
     " FROM trace t LEFT JOIN a ON a.trace_ref = t.ref"
     " WHERE t.span_count <> coalesce(a.n, 0) OR t.error_count <> coalesce(a.e, 0)"
     "    OR (a.n > 0 AND (t.start_ns IS NOT a.s OR t.end_ns IS NOT a.en OR t.service_count <> a.sc))"
     " UNION ALL "
     "SELECT format('spans of trace ref %d have no trace row', a.trace_ref)"
     " FROM a WHERE NOT EXISTS (SELECT 1 FROM trace t WHERE t.ref = a.trace_ref)"
     " UNION ALL "
     "SELECT format('trace ref %d: service %d is missing from trace_service', trace_ref, service_id)"
     " FROM (SELECT DISTINCT trace_ref, service_id FROM span"
     "       EXCEPT SELECT trace_ref, service_id FROM trace_service)"
     " UNION ALL "
     "SELECT format('trace ref %d: trace_service names service %d, which none of its spans has',"
     " trace_ref, service_id)"
     " FROM (SELECT trace_ref, service_id FROM trace_service"
     "       EXCEPT SELECT DISTINCT trace_ref, service_id FROM span)"},
    {"rollups",
     /* Buckets as the writer files them: hours since 1970, clamped to its range. */
     "WITH s AS (SELECT min(max(start_ns, 0) / 3600000000000, 8388607) * 3600000000000 AS b,"
     "                  operation_id, service_id, count(*) AS calls, sum(status = 2) AS errors,"
     "                  sum(duration_ns) AS sum_ns, min(duration_ns) AS min_ns, max(duration_ns) AS max_ns"
     "           FROM span GROUP BY 1, 2) "
     "SELECT format('hour %d, operation %d: rollup says %s calls, %s errors, sum %s, min %s, max %s,"
     " sketch of %s; the spans: %s, %s, %s, %s, %s', coalesce(r.bucket_ns, s.b),"
     " coalesce(r.operation_id, s.operation_id), r.calls, r.errors, r.sum_ns, r.min_ns, r.max_ns,"
     " sketch_count(r.sketch), s.calls, s.errors, s.sum_ns, s.min_ns, s.max_ns)"
     " FROM s FULL OUTER JOIN rollup_hour r ON r.bucket_ns = s.b AND r.operation_id = s.operation_id"
     " WHERE r.calls IS NOT s.calls OR r.errors IS NOT s.errors OR r.sum_ns IS NOT s.sum_ns"
     "    OR r.min_ns IS NOT s.min_ns OR r.max_ns IS NOT s.max_ns OR r.service_id IS NOT s.service_id"
     "    OR sketch_count(r.sketch) IS NOT s.calls"},
    {"links",
     "WITH r AS (SELECT parent, child, call_count, error_count FROM dependencies(NULL, NULL, 0)),"
     " x AS (SELECT parent, child, call_count, error_count FROM dependencies(NULL, NULL, 1)) "
     "SELECT format('%s -> %s: rollups say %s calls, %s errors; the spans link %s, %s',"
     " coalesce(r.parent, x.parent), coalesce(r.child, x.child), r.call_count, r.error_count,"
     " x.call_count, x.error_count)"
     " FROM r FULL OUTER JOIN x ON x.parent = r.parent AND x.child = r.child"
     " WHERE r.call_count IS NOT x.call_count OR r.error_count IS NOT x.error_count"},
};
#define NCHECKS (sizeof checks / sizeof *checks)

/* Run one check: its problems to on_problem, their number to *found. */
static int run_check(sl_db *db, const check *c, sl_check_fn on_problem, void *ctx, uint64_t *found)
{
    sqlite3_stmt *st = NULL;
    int rc = SL_OK, step;
    *found = 0;
    if (sqlite3_prepare_v2(db->db, c->sql, -1, &st, NULL) != SQLITE_OK) {
        rc = sl_db_fail(db, SL_ERROR, "check %s: %s", c->name, sqlite3_errmsg(db->db));
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (++*found <= MAX_REPORTED && on_problem)
            on_problem(ctx, c->name, (const char *)sqlite3_column_text(st, 0));
    }
    if (step != SQLITE_DONE) {
        /* A damaged file can stop a check midway: that is a finding too. */
        if (on_problem) on_problem(ctx, c->name, sqlite3_errmsg(db->db));
        ++*found;
    }
    if (*found > MAX_REPORTED && on_problem) {
        char more[96];
        sqlite3_snprintf(sizeof more, more, "... and %llu more", (unsigned long long)(*found - MAX_REPORTED));
        on_problem(ctx, c->name, more);
    }
done:
    sqlite3_finalize(st);
    return rc;
}

int sl_check(sl_db *db, sl_check_fn on_problem, sl_check_done_fn on_done, void *ctx,
             uint64_t *problems)
{
    uint64_t total = 0;
    int rc = SL_OK;
    pthread_mutex_lock(&db->mu);
    if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sl_db_fail(db, SL_ERROR, "check: %s", sqlite3_errmsg(db->db));
        goto done;
    }
    for (size_t i = 0; i < NCHECKS && rc == SL_OK; i++) {
        uint64_t found = 0;
        rc = run_check(db, &checks[i], on_problem, ctx, &found);
        if (rc == SL_OK && on_done) on_done(ctx, checks[i].name, found);
        total += found;
    }
    sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL); /* read-only: nothing to lose */
done:
    pthread_mutex_unlock(&db->mu);
    if (problems) *problems = total;
    return rc;
}
