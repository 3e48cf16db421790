/*
 * store/writer.c -- the span writer; see store/writer.h.
 *
 * Why the layout is fast: rows of `span` get increasing rowids, traces get
 * increasing refs when first seen, so span_identity (trace_ref, ...) and the
 * time indexes grow at their right-hand edge and stay in the page cache.
 * Trace ids, random keys, are indexed by generation (trace_index.c), so
 * their index takes a commit's new ids in a few pages too.
 * Trace aggregates are accumulated per transaction in memory and written
 * once per trace at commit, not once per span.
 */
#include "store/writer.h"
#include "store/ids.h"
#include "store/link_rollup.h"
#include "store/trace_index.h"
#include "base/span.h"
#include "analysis/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_SLOTS 4096  /* direct-mapped name caches */
#define TRACE_SLOTS 16384

/* A direct-mapped cache entry: (key, aux) -> id.  aux disambiguates names
 * that live in a parent's namespace (an operation within its service). */
typedef struct cache_slot {
    char *key;     /* owned; NULL = empty */
    int64_t aux;
    int64_t id;
} cache_slot;

typedef struct id_cache {
    cache_slot *slot; /* nslot entries */
    size_t nslot;
} id_cache;

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

/* What this transaction added to one operation's hour (rollup_hour). */
typedef struct rollup_agg {
    int64_t bucket_ns, operation_id, service_id;
    int64_t calls, errors, sum_ns, min_ns, max_ns;
    sl_sketch *sketch; /* durations */
} rollup_agg;

#define HOUR_NS 3600000000000LL
#define ROLLUP_MAX_BUCKET ((1LL << 23) - 1) /* hours after 1970: until year 2926 */

/* Open-addressing map ref -> index in aggs[]. */
typedef struct agg_table {
    trace_agg *aggs;
    size_t naggs, cap;
    int64_t *keys; /* cap*2 slots of ref+1, 0 = empty; value index in vals */
    size_t *vals;
    size_t nkeys;
} agg_table;

enum {
    ST_SERVICE_GET, ST_SERVICE_ADD, ST_OP_GET, ST_OP_ADD,
    ST_RES_GET, ST_RES_ADD, ST_SPAN_ADD, ST_TRACE_SERVICE_ADD, ST_TRACE_UPDATE,
    ST_ROLLUP_GET, ST_ROLLUP_PUT,
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_DATA_VERSION, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_SERVICE_GET] = "SELECT id FROM service WHERE name = ?1",
    [ST_SERVICE_ADD] = "INSERT INTO service(name) VALUES (?1)",
    [ST_OP_GET] = "SELECT id FROM operation WHERE service_id = ?1 AND name = ?2",
    [ST_OP_ADD] = "INSERT INTO operation(service_id, name) VALUES (?1, ?2)",
    [ST_RES_GET] = "SELECT id FROM resource WHERE hash = ?1",
    [ST_RES_ADD] = "INSERT INTO resource(hash, attributes) VALUES (?1, ?2)",
    [ST_SPAN_ADD] =
        "INSERT OR IGNORE INTO span(trace_ref, span_id, parent_span_id, service_id, "
        "operation_id, kind, status, flags, start_ns, duration_ns, remote_service_id, "
        "status_message, attributes, resource_id, scope, events, links, content_hash) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)",
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
    [ST_ROLLUP_GET] =
        "SELECT calls, errors, sum_ns, min_ns, max_ns, sketch FROM rollup_hour"
        " WHERE bucket_ns = ?1 AND operation_id = ?2",
    [ST_ROLLUP_PUT] =
        "INSERT OR REPLACE INTO rollup_hour(bucket_ns, operation_id, service_id, calls, errors,"
        " sum_ns, min_ns, max_ns, sketch) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_DATA_VERSION] = "PRAGMA data_version",
};

struct sl_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    id_cache traces, services, operations, resources;
    agg_table aggs;
    agg_table rollup_keys;  /* (hour, operation) -> index in rollups[] */
    rollup_agg *rollups;
    size_t nrollups, rollup_cap;
    sl_linkroll *links;   /* the dependency graph per hour (link_hour) */
    sl_trace_index *trace_ids; /* trace id -> ref (trace, trace_gen) */
    int64_t data_version; /* as of our last commit: others' commits change it */
    char err[512];
};

static void rollups_clear(sl_store *s);

/* ---- caches ---- */

static uint64_t slot_hash(const char *key, int64_t aux)
{
    return sl_hash_str(sl_hash_bytes(SL_HASH_INIT, &aux, sizeof aux), key);
}

static int cache_init(id_cache *c, size_t nslot)
{
    c->slot = calloc(nslot, sizeof *c->slot);
    c->nslot = nslot;
    return c->slot ? 0 : -1;
}

static void cache_clear(id_cache *c)
{
    for (size_t i = 0; i < c->nslot; i++) {
        free(c->slot[i].key);
        c->slot[i].key = NULL;
    }
}

static void cache_free(id_cache *c)
{
    if (!c->slot) return;
    cache_clear(c);
    free(c->slot);
    c->slot = NULL;
}

static cache_slot *cache_slot_for(id_cache *c, const char *key, int64_t aux)
{
    return &c->slot[slot_hash(key, aux) & (c->nslot - 1)];
}

static int cache_get(id_cache *c, const char *key, int64_t aux, int64_t *id)
{
    cache_slot *s = cache_slot_for(c, key, aux);
    if (s->key && s->aux == aux && strcmp(s->key, key) == 0) {
        *id = s->id;
        return 1;
    }
    return 0;
}

static void cache_put(id_cache *c, const char *key, int64_t aux, int64_t id)
{
    cache_slot *s = cache_slot_for(c, key, aux);
    char *copy = strdup(key);
    if (!copy) return; /* a cache miss later is harmless */
    free(s->key);
    s->key = copy;
    s->aux = aux;
    s->id = id;
}

/* ---- per-transaction trace aggregates ---- */

static void aggs_clear(agg_table *t)
{
    t->naggs = 0;
    if (t->nkeys) memset(t->keys, 0, t->cap * 2 * sizeof *t->keys);
    t->nkeys = 0;
}

static void aggs_free(agg_table *t)
{
    free(t->aggs);
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int aggs_grow(agg_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    int64_t *keys = calloc(cap * 2, sizeof *keys);
    size_t *vals = malloc(cap * 2 * sizeof *vals);
    trace_agg *aggs = realloc(t->aggs, cap * sizeof *aggs);
    if (!keys || !vals || !aggs) {
        free(keys);
        free(vals);
        if (aggs) t->aggs = aggs;
        return -1;
    }
    t->aggs = aggs;
    for (size_t i = 0; i < t->cap * 2; i++) { /* rehash */
        if (!t->keys[i]) continue;
        size_t j = mix64((uint64_t)t->keys[i]) & (cap * 2 - 1);
        while (keys[j]) j = (j + 1) & (cap * 2 - 1);
        keys[j] = t->keys[i];
        vals[j] = t->vals[i];
    }
    free(t->keys);
    free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->cap = cap;
    return 0;
}

/* Find key (nonzero) or insert it; *found tells which.  Returns the value
 * slot index (into vals) or -1 on OOM. */
static long aggs_slot(agg_table *t, int64_t key, int *found)
{
    if (t->nkeys + 1 > t->cap && aggs_grow(t)) return -1;
    size_t mask = t->cap * 2 - 1, j = mix64((uint64_t)key) & mask;
    while (t->keys[j] && t->keys[j] != key) j = (j + 1) & mask;
    *found = t->keys[j] == key;
    if (!*found) {
        t->keys[j] = key;
        t->nkeys++;
    }
    return (long)j;
}

static trace_agg *agg_for(agg_table *t, int64_t ref)
{
    int found;
    long j = aggs_slot(t, ref + 1, &found);
    if (j < 0) return NULL;
    if (!found) {
        trace_agg *a = &t->aggs[t->naggs];
        memset(a, 0, sizeof *a);
        a->ref = ref;
        t->vals[j] = t->naggs++;
    }
    return &t->aggs[t->vals[j]];
}

/* ---- statements ---- */

static int fail(sl_store *s, int rc, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return rc;
}

sl_store *sl_store_new(sqlite3 *db, char *err, size_t errlen)
{
    sl_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->db = db;
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL)) {
            snprintf(err, errlen, "preparing the writer: %s", sqlite3_errmsg(db));
            goto fail;
        }
    }
    if (cache_init(&s->traces, TRACE_SLOTS) || cache_init(&s->services, NAME_SLOTS) ||
        cache_init(&s->operations, NAME_SLOTS) || cache_init(&s->resources, NAME_SLOTS)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(s->links = sl_linkroll_new(db, err, errlen))) goto fail;
    if (!(s->trace_ids = sl_trace_index_new(db, err, errlen))) goto fail;
    return s;
fail:
    sl_store_free(s);
    return NULL;
}

void sl_store_free(sl_store *s)
{
    if (!s) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
    cache_free(&s->traces);
    cache_free(&s->services);
    cache_free(&s->operations);
    cache_free(&s->resources);
    rollups_clear(s);
    free(s->rollups);
    aggs_free(&s->aggs);
    aggs_free(&s->rollup_keys);
    sl_linkroll_free(s->links);
    sl_trace_index_free(s->trace_ids);
    free(s);
}

const char *sl_store_error(const sl_store *s) { return s->err; }

/* Step a statement that returns at most one integer; *id set when a row came. */
static int step_id(sqlite3_stmt *st, int64_t *id, int *got)
{
    int rc = sqlite3_step(st);
    *got = rc == SQLITE_ROW;
    if (*got) *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Look a name up in its table, adding it when new.  (get, add) are the
 * statement pair; with aux_param the name lives within aux (?1). */
static int dict_id(sl_store *s, id_cache *c, int get, int add, const char *key, int64_t aux,
                   int aux_param, int64_t *id)
{
    if (cache_get(c, key, aux, id)) return SQLITE_OK;
    sqlite3_stmt *g = s->st[get], *a = s->st[add];
    int kp = aux_param ? 2 : 1, got, rc;
    if (aux_param) sqlite3_bind_int64(g, 1, aux);
    sqlite3_bind_text(g, kp, key, -1, SQLITE_STATIC);
    if ((rc = step_id(g, id, &got))) return fail(s, rc, "dictionary lookup");
    if (!got) {
        if (aux_param) sqlite3_bind_int64(a, 1, aux);
        sqlite3_bind_text(a, kp, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(a);
        sqlite3_reset(a);
        if (rc != SQLITE_DONE) return fail(s, rc, "dictionary insert");
        *id = sqlite3_last_insert_rowid(s->db);
    }
    cache_put(c, key, aux, *id);
    return SQLITE_OK;
}

static int trace_ref(sl_store *s, const char *trace_id, int64_t *ref)
{
    if (cache_get(&s->traces, trace_id, 0, ref)) return SQLITE_OK;
    int rc = sl_trace_index_ref(s->trace_ids, trace_id, ref);
    if (rc) {
        snprintf(s->err, sizeof s->err, "%s", sl_trace_index_error(s->trace_ids));
        return rc;
    }
    cache_put(&s->traces, trace_id, 0, *ref);
    return SQLITE_OK;
}

static int resource_id(sl_store *s, const char *json, int64_t *id)
{
    /* Keyed by the JSON text in the cache, by its hash in the table. */
    if (cache_get(&s->resources, json, 0, id)) return SQLITE_OK;
    int64_t h = (int64_t)sl_hash_str(SL_HASH_INIT, json);
    sqlite3_stmt *g = s->st[ST_RES_GET], *a = s->st[ST_RES_ADD];
    int got, rc;
    sqlite3_bind_int64(g, 1, h);
    if ((rc = step_id(g, id, &got))) return fail(s, rc, "resource lookup");
    if (!got) {
        sqlite3_bind_int64(a, 1, h);
        sqlite3_bind_text(a, 2, json, -1, SQLITE_STATIC);
        rc = sqlite3_step(a);
        sqlite3_reset(a);
        if (rc != SQLITE_DONE) return fail(s, rc, "resource insert");
        *id = sqlite3_last_insert_rowid(s->db);
    }
    cache_put(&s->resources, json, 0, *id);
    return SQLITE_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

/* Remember what an inserted span adds to its trace. */
static int note_span(sl_store *s, int64_t ref, int64_t service_id, const sl_span *sp, int64_t rowid)
{
    trace_agg *a = agg_for(&s->aggs, ref);
    if (!a) return SQLITE_NOMEM;
    int64_t end = sp->start_ns + sp->duration_ns;
    int parentless = !sp->parent_span_id || !*sp->parent_span_id;
    if (a->spans == 0 || sp->start_ns < a->start_ns) a->start_ns = sp->start_ns;
    if (a->spans == 0 || end > a->end_ns) a->end_ns = end;
    a->spans++;
    a->errors += sp->status == SL_STATUS_ERROR;
    if (!a->root_rowid || parentless > a->root_parentless ||
        (parentless == a->root_parentless && sp->start_ns < a->root_start)) {
        a->root_rowid = rowid;
        a->root_start = sp->start_ns;
        a->root_parentless = parentless;
    }
    /* A service new to this trace within this transaction may still be
     * known from an earlier import: trace_service decides. */
    for (int i = 0; i < a->nsvc; i++)
        if (a->svc[i] == service_id) return SQLITE_OK;
    if (a->nsvc < (int)(sizeof a->svc / sizeof *a->svc)) a->svc[a->nsvc++] = service_id;
    {
        sqlite3_stmt *ts = s->st[ST_TRACE_SERVICE_ADD];
        sqlite3_bind_int64(ts, 1, ref);
        sqlite3_bind_int64(ts, 2, service_id);
        int rc = sqlite3_step(ts);
        sqlite3_reset(ts);
        if (rc != SQLITE_DONE) return fail(s, rc, "trace_service insert");
        a->new_services += sqlite3_changes(s->db);
    }
    return SQLITE_OK;
}

/* ---- hourly rollups ---- */

static void rollups_clear(sl_store *s)
{
    for (size_t i = 0; i < s->nrollups; i++) sl_sketch_free(s->rollups[i].sketch);
    s->nrollups = 0;
    s->rollup_keys.naggs = 0;
    aggs_clear(&s->rollup_keys);
}

static rollup_agg *rollup_for(sl_store *s, int64_t bucket, int64_t op_id)
{
    /* bucket < 2^23 and op_id < 2^39 make the key exact. */
    int found;
    long j = aggs_slot(&s->rollup_keys, ((bucket + 1) << 39) | op_id, &found);
    if (j < 0) return NULL;
    if (found) return &s->rollups[s->rollup_keys.vals[j]];
    if (s->nrollups == s->rollup_cap) {
        size_t cap = s->rollup_cap ? s->rollup_cap * 2 : 64;
        rollup_agg *r = realloc(s->rollups, cap * sizeof *r);
        if (!r) return NULL;
        s->rollups = r;
        s->rollup_cap = cap;
    }
    rollup_agg *r = &s->rollups[s->nrollups];
    memset(r, 0, sizeof *r);
    r->bucket_ns = bucket * HOUR_NS;
    r->operation_id = op_id;
    if (!(r->sketch = sl_sketch_new())) return NULL;
    s->rollup_keys.vals[j] = s->nrollups++;
    return r;
}

static int note_rollup(sl_store *s, int64_t service_id, int64_t op_id, const sl_span *sp)
{
    int64_t bucket = sp->start_ns < 0 ? 0 : sp->start_ns / HOUR_NS;
    if (bucket > ROLLUP_MAX_BUCKET) bucket = ROLLUP_MAX_BUCKET;
    if (op_id >= (1LL << 39)) return SQLITE_OK; /* cannot happen before 2^39 operations */
    rollup_agg *r = rollup_for(s, bucket, op_id);
    if (!r) return SQLITE_NOMEM;
    r->service_id = service_id;
    if (r->calls == 0 || sp->duration_ns < r->min_ns) r->min_ns = sp->duration_ns;
    if (r->calls == 0 || sp->duration_ns > r->max_ns) r->max_ns = sp->duration_ns;
    r->calls++;
    r->errors += sp->status == SL_STATUS_ERROR;
    r->sum_ns += sp->duration_ns;
    return sl_sketch_add(r->sketch, (double)sp->duration_ns);
}

/* Merge one hour's additions into its stored row. */
static int flush_rollup(sl_store *s, rollup_agg *r)
{
    sqlite3_stmt *g = s->st[ST_ROLLUP_GET], *p = s->st[ST_ROLLUP_PUT];
    sqlite3_bind_int64(g, 1, r->bucket_ns);
    sqlite3_bind_int64(g, 2, r->operation_id);
    int rc = sqlite3_step(g);
    if (rc == SQLITE_ROW) {
        int64_t min = sqlite3_column_int64(g, 3), max = sqlite3_column_int64(g, 4);
        r->calls += sqlite3_column_int64(g, 0);
        r->errors += sqlite3_column_int64(g, 1);
        r->sum_ns += sqlite3_column_int64(g, 2);
        if (min < r->min_ns) r->min_ns = min;
        if (max > r->max_ns) r->max_ns = max;
        rc = sl_sketch_merge_blob(r->sketch, sqlite3_column_blob(g, 5), (size_t)sqlite3_column_bytes(g, 5));
        if (rc) {
            sqlite3_reset(g);
            snprintf(s->err, sizeof s->err, "rollup_hour: stored sketch is unreadable (%s)",
                     sqlite3_errstr(rc));
            return rc;
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(g);
        return fail(s, rc, "rollup lookup");
    }
    sqlite3_reset(g);
    size_t n;
    void *blob = sl_sketch_encode(r->sketch, &n);
    if (!blob) return SQLITE_NOMEM;
    int64_t vals[] = {r->bucket_ns, r->operation_id, r->service_id, r->calls, r->errors,
                      r->sum_ns, r->min_ns, r->max_ns};
    for (int i = 0; i < 8; i++) sqlite3_bind_int64(p, i + 1, vals[i]);
    sqlite3_bind_blob(p, 9, blob, (int)n, sqlite3_free);
    rc = sqlite3_step(p);
    sqlite3_reset(p);
    return rc == SQLITE_DONE ? SQLITE_OK : fail(s, rc, "rollup update");
}

/* Remember the span for its trace's dependency links (link_rollup.h). */
static int note_link(sl_store *s, int64_t ref, int64_t service_id, int64_t remote_id, const sl_span *sp)
{
    sl_dep_span d = {
        .span_id = sp->span_id,
        .parent_span_id = sp->parent_span_id,
        .service = (uint32_t)service_id,
        .remote_service = (uint32_t)remote_id,
        .kind = sp->kind,
        .error = sp->status == SL_STATUS_ERROR,
        .shared = (sp->flags & SL_SPAN_SHARED) != 0,
        .duration_ns = sp->duration_ns,
    };
    int rc = sl_linkroll_note(s->links, ref, sp->start_ns, &d);
    return rc == SQLITE_NOMEM ? fail(s, rc, "noting a span's links") : rc;
}

/* Copy id into buf lower-cased if it is hex with upper-case digits. */
static const char *norm_id(const char *id, char *buf, size_t len)
{
    if (!id) return NULL;
    size_t n = 0;
    int upper = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        if (c >= 'A' && c <= 'F') upper = 1;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return id;
    }
    if (!upper || n >= len) return id;
    for (size_t i = 0; i <= n; i++) buf[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
    return buf;
}

/* The canonical form of *in, in *sp: lower-case hex ids (copied into the
 * caller's buffers) and empty optional fields absent, as sl_span_normalize()
 * does in place for batches. */
static void normalize_copy(const sl_span *in, sl_span *sp, char bufs[3][128])
{
    *sp = *in;
    sp->trace_id = norm_id(in->trace_id, bufs[0], sizeof bufs[0]);
    sp->span_id = norm_id(in->span_id, bufs[1], sizeof bufs[1]);
    sp->parent_span_id = in->parent_span_id && *in->parent_span_id
                             ? norm_id(in->parent_span_id, bufs[2], sizeof bufs[2]) : NULL;
    const char **optional[] = {&sp->remote_service, &sp->status_message, &sp->attributes,
                               &sp->resource, &sp->scope, &sp->events, &sp->links};
    for (size_t i = 0; i < sizeof optional / sizeof *optional; i++)
        if (*optional[i] && !**optional[i]) *optional[i] = NULL;
}

/* Store one normalised span whose content hash is hash. */
static int store_one(sl_store *s, const sl_span *in, uint64_t hash, sl_import_stats *st)
{
    const sl_span sp = *in;
    int64_t ref, service_id, op_id, remote_id = 0, res_id = 0;
    int rc;
    if ((rc = trace_ref(s, sp.trace_id, &ref))) return rc;
    if ((rc = dict_id(s, &s->services, ST_SERVICE_GET, ST_SERVICE_ADD, sp.service, 0, 0, &service_id)))
        return rc;
    if ((rc = dict_id(s, &s->operations, ST_OP_GET, ST_OP_ADD, sp.operation, service_id, 1, &op_id)))
        return rc;
    if (sp.remote_service && *sp.remote_service &&
        (rc = dict_id(s, &s->services, ST_SERVICE_GET, ST_SERVICE_ADD, sp.remote_service, 0, 0, &remote_id)))
        return rc;
    if (sp.resource && *sp.resource && (rc = resource_id(s, sp.resource, &res_id))) return rc;

    sqlite3_stmt *ins = s->st[ST_SPAN_ADD];
    sqlite3_bind_int64(ins, 1, ref);
    unsigned char ids[2][SL_HEXID_MAX]; /* stored forms (store/ids.h), until the step */
    sl_ids_bind(ins, 2, sp.span_id, ids[0]);
    sl_ids_bind(ins, 3, sp.parent_span_id, ids[1]);
    sqlite3_bind_int64(ins, 4, service_id);
    sqlite3_bind_int64(ins, 5, op_id);
    sqlite3_bind_int(ins, 6, sp.kind);
    sqlite3_bind_int(ins, 7, sp.status);
    sqlite3_bind_int(ins, 8, sp.flags);
    sqlite3_bind_int64(ins, 9, sp.start_ns);
    sqlite3_bind_int64(ins, 10, sp.duration_ns);
    if (remote_id) sqlite3_bind_int64(ins, 11, remote_id);
    else sqlite3_bind_null(ins, 11);
    bind_text_or_null(ins, 12, sp.status_message);
    bind_text_or_null(ins, 13, sp.attributes);
    if (res_id) sqlite3_bind_int64(ins, 14, res_id);
    else sqlite3_bind_null(ins, 14);
    bind_text_or_null(ins, 15, sp.scope);
    bind_text_or_null(ins, 16, sp.events);
    bind_text_or_null(ins, 17, sp.links);
    sqlite3_bind_int64(ins, 18, (int64_t)hash);
    rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) return fail(s, rc, "span insert");
    if (sqlite3_changes(s->db) == 0) {
        st->duplicates++;
        return SQLITE_OK;
    }
    st->imported++;
    rc = note_span(s, ref, service_id, &sp, sqlite3_last_insert_rowid(s->db));
    if (rc == SQLITE_OK) rc = note_rollup(s, service_id, op_id, &sp);
    return rc ? rc : note_link(s, ref, service_id, remote_id, &sp);
}

int sl_store_spans(sl_store *s, const sl_span *spans, const uint64_t *hashes, size_t n,
                   sl_import_stats *st)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (hashes) {
            rc = store_one(s, &spans[i], hashes[i], st);
        } else {
            char bufs[3][128];
            sl_span sp;
            normalize_copy(&spans[i], &sp, bufs);
            rc = store_one(s, &sp, sl_span_hash(&sp), st);
        }
        if (rc) return rc;
    }
    return SQLITE_OK;
}

static int run(sl_store *s, int which, const char *what)
{
    int rc = sqlite3_step(s->st[which]);
    sqlite3_reset(s->st[which]);
    return rc == SQLITE_DONE ? SQLITE_OK : fail(s, rc, what);
}

static void caches_clear(sl_store *s)
{
    cache_clear(&s->traces);
    cache_clear(&s->services);
    cache_clear(&s->operations);
    cache_clear(&s->resources);
}

/* PRAGMA data_version: changes when another connection commits. */
static int64_t data_version(sl_store *s)
{
    sqlite3_stmt *st = s->st[ST_DATA_VERSION];
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return v;
}

int sl_store_begin(sl_store *s)
{
    aggs_clear(&s->aggs);
    rollups_clear(s);
    int rc = run(s, ST_BEGIN, "begin");
    if (rc) return rc;
    /* Ids cached from before another connection's commit may be stale (it
     * may have cleared the warehouse); inside the write lock we know. */
    int others = data_version(s) != s->data_version;
    if (others) caches_clear(s);
    if ((rc = sl_trace_index_begin(s->trace_ids, others)))
        snprintf(s->err, sizeof s->err, "%s", sl_trace_index_error(s->trace_ids));
    else if ((rc = sl_linkroll_begin(s->links)))
        snprintf(s->err, sizeof s->err, "%s", sl_linkroll_error(s->links));
    if (rc) {
        /* Callers only roll back what began: end it here, or the write
         * lock stays with this connection. */
        char why[sizeof s->err];
        memcpy(why, s->err, sizeof why);
        sl_store_rollback(s);
        memcpy(s->err, why, sizeof why);
    }
    return rc;
}

static int flush_aggs(sl_store *s)
{
    /* Links first: relinking reads each trace's start before this update. */
    int lrc = sl_linkroll_commit(s->links);
    if (lrc) {
        snprintf(s->err, sizeof s->err, "%s", sl_linkroll_error(s->links));
        return lrc;
    }
    sqlite3_stmt *u = s->st[ST_TRACE_UPDATE];
    for (size_t i = 0; i < s->aggs.naggs; i++) {
        const trace_agg *a = &s->aggs.aggs[i];
        sqlite3_bind_int64(u, 1, a->ref);
        sqlite3_bind_int64(u, 2, a->start_ns);
        sqlite3_bind_int64(u, 3, a->end_ns);
        sqlite3_bind_int64(u, 4, a->spans);
        sqlite3_bind_int64(u, 5, a->errors);
        sqlite3_bind_int64(u, 6, a->new_services);
        sqlite3_bind_int64(u, 7, a->root_rowid);
        sqlite3_bind_int(u, 8, a->root_parentless);
        sqlite3_bind_int64(u, 9, a->root_start);
        int rc = sqlite3_step(u);
        sqlite3_reset(u);
        if (rc != SQLITE_DONE) return fail(s, rc, "trace update");
    }
    aggs_clear(&s->aggs);
    for (size_t i = 0; i < s->nrollups; i++) {
        int rc = flush_rollup(s, &s->rollups[i]);
        if (rc) return rc;
    }
    rollups_clear(s);
    int rc = sl_trace_index_commit(s->trace_ids);
    if (rc) snprintf(s->err, sizeof s->err, "%s", sl_trace_index_error(s->trace_ids));
    return rc;
}

int sl_store_commit(sl_store *s)
{
    int rc = flush_aggs(s);
    /* Read inside the write lock: after COMMIT another connection could
     * commit before we look, and its ids would then never be reloaded. */
    int64_t version = data_version(s);
    if (rc == SQLITE_OK) rc = run(s, ST_COMMIT, "commit");
    if (rc) sl_store_rollback(s);
    else s->data_version = version;
    return rc;
}

void sl_store_rollback(sl_store *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->st[ST_ROLLBACK]);
        sqlite3_reset(s->st[ST_ROLLBACK]);
    }
    caches_clear(s);
    aggs_clear(&s->aggs);
    rollups_clear(s);
    sl_linkroll_reset(s->links);
    sl_trace_index_reset(s->trace_ids);
}
