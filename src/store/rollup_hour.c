/*
 * store/rollup_hour.c -- the derived table rollup_hour (schema/003_rollup.sql):
 * per operation and hour of span start, calls, errors, total, least and
 * greatest duration and a sketch of the durations; see store/derived.h.
 *
 * A transaction's spans are summed in memory per (hour, operation) and
 * merged into the stored row once per key at commit.  Hours are clamped
 * to [0, ROLLUP_MAX_BUCKET]: a span starting before 1970 counts in the
 * first hour of 1970.  rebuild() streams every span through the same code,
 * so its rows are those an import of all spans would write.
 */
#include "store/derived.h"
#include "analysis/sketch.h"
#include "base/num.h"
#include "base/buf.h"
#include "base/map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_NS 3600000000000LL
#define ROLLUP_MAX_BUCKET ((1LL << 23) - 1) /* hours after 1970: until year 2926 */
#define REBUILD_BATCH 65536                 /* pending keys before rebuild() merges */

/* What this transaction added to one operation's hour. */
typedef struct rollup_agg {
    int64_t bucket_ns, operation_id, service_id;
    int64_t calls, errors, sum_ns, min_ns, max_ns;
    sl_sketch *sketch; /* durations */
} rollup_agg;

enum { ST_ROLLUP_GET, ST_ROLLUP_PUT, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_ROLLUP_GET] =
        "SELECT calls, errors, sum_ns, min_ns, max_ns, sketch FROM rollup_hour"
        " WHERE bucket_ns = ?1 AND operation_id = ?2",
    [ST_ROLLUP_PUT] =
        "INSERT OR REPLACE INTO rollup_hour(bucket_ns, operation_id, service_id, calls, errors,"
        " sum_ns, min_ns, max_ns, sketch) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
};

typedef struct rollups {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    rollup_agg *r;       /* this transaction's keys, in order of first note */
    size_t n, cap;       /* used, allocated */
    sl_map index;        /* (hour + 1) << 39 | operation_id -> index in r[] */
    char err[256];
} rollups;

static int fail(rollups *x, int rc, const char *what)
{
    snprintf(x->err, sizeof x->err, "%s: %s", what, sqlite3_errmsg(x->db));
    return rc;
}

static void rollups_forget(rollups *x)
{
    for (size_t i = 0; i < x->n; i++) sl_sketch_free(x->r[i].sketch);
    x->n = 0;
    if (x->index.n) sl_map_clear(&x->index);
}

static void rollups_free(void *p)
{
    rollups *x = p;
    if (!x) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(x->st[i]);
    rollups_forget(x);
    sl_map_free(&x->index);
    free(x->r);
    free(x);
}

static void *rollups_new(sqlite3 *db, char *err, size_t errlen)
{
    rollups *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->db = db;
    sl_map_init(&x->index);
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &x->st[i], NULL)) {
            snprintf(err, errlen, "preparing the writer: %s", sqlite3_errmsg(db));
            rollups_free(x);
            return NULL;
        }
    }
    return x;
}

static int rollups_begin(void *p, int others_committed)
{
    (void)others_committed;
    rollups_forget(p);
    return SQLITE_OK;
}

static rollup_agg *rollup_for(rollups *x, int64_t bucket, int64_t op_id)
{
    /* bucket < 2^23 and op_id < 2^39 make the key exact. */
    int created;
    uint64_t *v = sl_map_put(&x->index, (uint64_t)((bucket + 1) << 39) | (uint64_t)op_id, &created);
    if (!v) return NULL;
    if (!created) return &x->r[*v];
    if (sl_array_reserve(&x->r, &x->cap, x->n + 1, sizeof *x->r, 64)) goto oom;
    rollup_agg *r = &x->r[x->n];
    memset(r, 0, sizeof *r);
    r->bucket_ns = bucket * HOUR_NS;
    r->operation_id = op_id;
    if (!(r->sketch = sl_sketch_new())) goto oom;
    *v = x->n++;
    return r;
oom:
    /* The new key has no entry: drop the index (the caller rolls back). */
    sl_map_clear(&x->index);
    return NULL;
}

static int add(rollups *x, int64_t service_id, int64_t op_id, int64_t start_ns, int64_t duration_ns,
               int error)
{
    int64_t bucket = start_ns < 0 ? 0 : start_ns / HOUR_NS;
    if (bucket > ROLLUP_MAX_BUCKET) bucket = ROLLUP_MAX_BUCKET;
    if (op_id >= (1LL << 39)) return SQLITE_OK; /* cannot happen before 2^39 operations */
    rollup_agg *r = rollup_for(x, bucket, op_id);
    if (!r) {
        snprintf(x->err, sizeof x->err, "rollup_hour: out of memory");
        return SQLITE_NOMEM;
    }
    r->service_id = service_id;
    if (r->calls == 0 || duration_ns < r->min_ns) r->min_ns = duration_ns;
    if (r->calls == 0 || duration_ns > r->max_ns) r->max_ns = duration_ns;
    r->calls++;
    r->errors += error;
    r->sum_ns = sl_add_sat64(r->sum_ns, duration_ns);
    int rc = sl_sketch_add(r->sketch, (double)duration_ns);
    if (rc) snprintf(x->err, sizeof x->err, "rollup_hour: out of memory");
    return rc;
}

static int rollups_note(void *p, const sl_noted_span *n)
{
    const sl_span *sp = n->span;
    return add(p, n->service_id, n->operation_id, sp->start_ns, sp->duration_ns,
               sp->status == SL_STATUS_ERROR);
}

/* Merge one hour's additions into its stored row. */
static int flush_one(rollups *x, rollup_agg *r)
{
    sqlite3_stmt *g = x->st[ST_ROLLUP_GET], *p = x->st[ST_ROLLUP_PUT];
    sqlite3_bind_int64(g, 1, r->bucket_ns);
    sqlite3_bind_int64(g, 2, r->operation_id);
    int rc = sqlite3_step(g);
    if (rc == SQLITE_ROW) {
        int64_t min = sqlite3_column_int64(g, 3), max = sqlite3_column_int64(g, 4);
        r->calls += sqlite3_column_int64(g, 0);
        r->errors += sqlite3_column_int64(g, 1);
        r->sum_ns = sl_add_sat64(r->sum_ns, sqlite3_column_int64(g, 2));
        if (min < r->min_ns) r->min_ns = min;
        if (max > r->max_ns) r->max_ns = max;
        rc = sl_sketch_merge_blob(r->sketch, sqlite3_column_blob(g, 5), (size_t)sqlite3_column_bytes(g, 5));
        if (rc) {
            sqlite3_reset(g);
            snprintf(x->err, sizeof x->err, "rollup_hour: stored sketch is unreadable (%s)",
                     sqlite3_errstr(rc));
            return rc;
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(g);
        return fail(x, rc, "rollup lookup");
    }
    sqlite3_reset(g);
    size_t n;
    void *blob = sl_sketch_encode(r->sketch, &n);
    if (!blob) {
        snprintf(x->err, sizeof x->err, "rollup_hour: out of memory");
        return SQLITE_NOMEM;
    }
    int64_t vals[] = {r->bucket_ns, r->operation_id, r->service_id, r->calls, r->errors,
                      r->sum_ns, r->min_ns, r->max_ns};
    for (int i = 0; i < 8; i++) sqlite3_bind_int64(p, i + 1, vals[i]);
    sqlite3_bind_blob(p, 9, blob, (int)n, sqlite3_free);
    rc = sqlite3_step(p);
    sqlite3_reset(p);
    return rc == SQLITE_DONE ? SQLITE_OK : fail(x, rc, "rollup update");
}

static int rollups_commit(void *p)
{
    rollups *x = p;
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < x->n; i++) rc = flush_one(x, &x->r[i]);
    rollups_forget(x);
    return rc;
}

static void rollups_rollback(void *p) { rollups_forget(p); }

static const char *rollups_error(const void *p) { return ((const rollups *)p)->err; }

static int rollups_clear(sqlite3 *db, char *err, size_t errlen)
{
    int rc = sqlite3_exec(db, "DELETE FROM rollup_hour", NULL, NULL, NULL);
    if (rc) snprintf(err, errlen, "clearing rollup_hour: %s", sqlite3_errmsg(db));
    return rc;
}

/* Every span in rowid order, as imports would have noted them. */
static int rollups_rebuild(sqlite3 *db, int64_t *rows, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    rollups *x = rollups_new(db, err, errlen);
    if (!x) return SQLITE_ERROR; /* message in err */
    int rc = rollups_clear(db, err, errlen);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT service_id, operation_id, start_ns, duration_ns, status"
                                    " FROM span ORDER BY id", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = add(x, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                 sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                 sqlite3_column_int(st, 4) == SL_STATUS_ERROR);
        if (rc == SQLITE_OK && x->n >= REBUILD_BATCH) rc = rollups_commit(x);
    }
    if (rc == SQLITE_DONE) rc = rollups_commit(x);
    else if (x->err[0] == '\0') fail(x, rc, "rebuilding rollup_hour");
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *c = NULL;
        rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM rollup_hour", -1, &c, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(c)) == SQLITE_ROW) {
            *rows = sqlite3_column_int64(c, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(c);
        if (rc) fail(x, rc, "counting rollup_hour");
    }
    if (rc && x->err[0]) snprintf(err, errlen, "%s", x->err);
    rollups_free(x);
    return rc;
}

const sl_derived sl_derived_rollup_hour = {
    .name = "rollup_hour",
    .new = rollups_new,
    .free = rollups_free,
    .begin = rollups_begin,
    .note = rollups_note,
    .commit = rollups_commit,
    .rollback = rollups_rollback,
    .error = rollups_error,
    .clear = rollups_clear,
    .rebuild = rollups_rebuild,
};
