/*
 * store/writer.c -- the span writer; see store/writer.h.
 *
 * Why the layout is fast: rows of `span` get increasing rowids, traces get
 * increasing refs when first seen, so span_identity (trace_ref, ...) and the
 * time indexes grow at their right-hand edge and stay in the page cache.
 * Trace ids, random keys, are indexed by generation (trace_index.c), so
 * their index takes a commit's new ids in a few pages too.
 * Everything else a stored span feeds (trace aggregates, hourly rollups,
 * dependency links, the trace index's filters) is a derived table
 * (store/derived.h): the writer notes each inserted span to every entry of
 * sl_derived_tables and calls their begin/commit/rollback in table order.
 */
#include "store/writer.h"
#include "store/derived.h"
#include "store/ids.h"
#include "store/trace_index.h"
#include "base/span.h"

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

enum {
    ST_SERVICE_GET, ST_SERVICE_ADD, ST_OP_GET, ST_OP_ADD,
    ST_RES_GET, ST_RES_ADD, ST_SPAN_ADD,
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
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_DATA_VERSION] = "PRAGMA data_version",
};

struct sl_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    id_cache traces, services, operations, resources;
    void **derived;       /* state of each entry of sl_derived_tables */
    size_t nderived;
    sl_trace_index *trace_ids; /* trace id -> ref: the trace_gen entry's state */
    int64_t data_version; /* as of our last commit: others' commits change it */
    char err[512];
};

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
    while (sl_derived_tables[s->nderived]) s->nderived++;
    if (!(s->derived = calloc(s->nderived, sizeof *s->derived))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < s->nderived; i++) {
        if (!(s->derived[i] = sl_derived_tables[i]->new(db, err, errlen))) goto fail;
        if (sl_derived_tables[i] == &sl_derived_trace_gen) s->trace_ids = s->derived[i];
    }
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
    for (size_t i = 0; s->derived && i < s->nderived; i++)
        if (s->derived[i]) sl_derived_tables[i]->free(s->derived[i]);
    free(s->derived);
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

/* An entry's failure: its message, named, into s->err. */
static int derived_fail(sl_store *s, size_t i, int rc)
{
    const char *why = sl_derived_tables[i]->error(s->derived[i]);
    if (why && *why) snprintf(s->err, sizeof s->err, "%s", why);
    else snprintf(s->err, sizeof s->err, "%s: %s", sl_derived_tables[i]->name, sqlite3_errstr(rc));
    return rc;
}

/* Tell every derived table about a span just inserted. */
static int note_span(sl_store *s, const sl_noted_span *n)
{
    for (size_t i = 0; i < s->nderived; i++) {
        const sl_derived *e = sl_derived_tables[i];
        int rc = e->note ? e->note(s->derived[i], n) : SQLITE_OK;
        if (rc) return derived_fail(s, i, rc);
    }
    return SQLITE_OK;
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
    sl_noted_span noted = {&sp, sqlite3_last_insert_rowid(s->db), ref, service_id, op_id, remote_id};
    return note_span(s, &noted);
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
    int rc = run(s, ST_BEGIN, "begin");
    if (rc) return rc;
    /* Ids cached from before another connection's commit may be stale (it
     * may have cleared the warehouse); inside the write lock we know. */
    int others = data_version(s) != s->data_version;
    if (others) caches_clear(s);
    for (size_t i = 0; rc == SQLITE_OK && i < s->nderived; i++)
        if ((rc = sl_derived_tables[i]->begin(s->derived[i], others))) derived_fail(s, i, rc);
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

/* Every derived table's commit, in table order (link_hour before trace). */
static int flush_derived(sl_store *s)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < s->nderived; i++)
        if ((rc = sl_derived_tables[i]->commit(s->derived[i]))) derived_fail(s, i, rc);
    return rc;
}

int sl_store_commit(sl_store *s)
{
    int rc = flush_derived(s);
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
    for (size_t i = 0; i < s->nderived; i++) sl_derived_tables[i]->rollback(s->derived[i]);
}

int sl_store_clear(sqlite3 *db, char *err, size_t errlen)
{
    /* The base tables, then what is derived from them. */
    int rc = sqlite3_exec(db,
                          "DELETE FROM span; DELETE FROM trace; DELETE FROM resource;"
                          " DELETE FROM operation; DELETE FROM service;",
                          NULL, NULL, NULL);
    if (rc) {
        snprintf(err, errlen, "clear: %s", sqlite3_errmsg(db));
        return rc;
    }
    return sl_derived_clear_all(db, err, errlen);
}
