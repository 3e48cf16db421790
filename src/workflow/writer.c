/*
 * workflow/writer.c -- the workflow event writer; see workflow.h for its contract
 * and schema/002_workflow.sql for the tables.
 *
 * One store() call:
 *   1. reads each event's members the way aggregate_workflows.py does
 *      (base/pyvalue.h) and resolves its dictionary ids (type, transaction,
 *      workflow, template),
 *   2. decides new or duplicate (identity, below),
 *   3. packs the new ones into one segment (workflow/segment.h) and updates the state
 *      of their transactions in memory,
 *   4. writes the segment, its zone rows and the changed transactions.
 *
 * Identity.  Equal events have equal packed records, so the record's hash
 * identifies content.  An arriving event is a duplicate while some copy of
 * it stored by an earlier import has not yet been matched ("claimed") by
 * this import; otherwise it is new.  Copies this import stored itself never
 * match, which is what keeps equal lines of one file apart.  So only the
 * events of earlier imports are counted, and only those in the 4096 ms
 * ts_ms windows that arriving events fall in (wf_zone lists the segments
 * of each window): a window that earlier imports never touched -- all of
 * them, for new data -- costs one index probe and no decoding.  The counts
 * are capped; when full they are dropped (claims go to a TEMP table) and
 * rebuilt from the segments on demand.
 */
#include "workflow/workflow.h"
#include "base/buf.h"
#include "workflow/dict.h"
#include "base/pyvalue.h"
#include "base/hash.h"
#include "base/map.h"
#include "workflow/segment.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDENT_MAX 200000      /* identity entries kept before starting over */
#define TXN_CACHE_MAX 8192    /* transactions kept between batches */
#define NO_TS_BUCKET INT64_MIN
#define TS_LIMIT 4611686018427387904LL /* 2^62: differences of two stay in int64 */

/* Event kinds the script acts on. */
enum { K_OTHER, K_TXN_OPEN, K_TXN_CLOSE, K_STEP_OPEN, K_STEP_DONE, K_WAIT };

typedef struct wf_txn {
    int64_t ref;
    char *key;         /* dict-key text (base/pyvalue.h) */
    size_t key_len;
    char *display;     /* str() of the first spelling */
    size_t display_len;
    int64_t workflow_id;
    int64_t opens, closes, open_ms, close_ms, step_opens, step_dones, error, events;
    int64_t first_seq, last_seq;
    uint8_t has_open, has_close, dirty;
    uint64_t touched;  /* batch number of the last use */
} wf_txn;

/* Copies of one content stored by earlier imports, and how many of them
 * this import has matched. */
typedef struct wf_ident {
    uint64_t h;
    int64_t bucket;
    uint32_t stored, claimed;
} wf_ident;

/* Windows (sl_map values): loaded and holding earlier imports' events, or
 * loaded and holding none (every event in it is new). */
enum { W_TRACKED = 1, W_FRESH = 2 };
/* Segments (sl_map values): written by this import, or counted. */
enum { S_MINE = 1, S_COUNTED = 2 };

/* The members of one event the writer looks at (last occurrence wins). */
enum { F_TYPE, F_TXN, F_TS, F_PLANNED, F_OUTLIER, F_WORKFLOW, F_STATUS, F_ERROR, NFIELDS };
static const char *const field_names[NFIELDS] = {
    "type", "txn_id", "ts_ms", "planned_wait_ms", "outlier_injected", "workflow", "status", "error"};

typedef struct wf_event {
    sl_wfj_val f[NFIELDS];
    long ftok[NFIELDS];      /* their index in the token list, or -1 */
    int kind;
    sl_wfseg_rec rec;
    uint32_t template_id;
    int64_t bucket;          /* ts_ms window */
    wf_txn *txn;
} wf_event;

struct sl_workflow_writer {
    sqlite3 *db;
    char err[512];
    int64_t import_id;
    int64_t data_version;
    uint64_t batch;          /* store() calls so far */
    int64_t next_ref;        /* first unused wf_txn.ref */
    int64_t next_seq;        /* seq of the next new event */

    sqlite3_stmt *q_type_get, *q_type_add, *q_wf_get, *q_wf_add, *q_tpl_get, *q_tpl_add,
        *q_txn_get, *q_txn_put, *q_seg_add, *q_zone_add, *q_zone_get, *q_seg_get,
        *q_claim_add, *q_claim_get, *q_claim_del, *q_tail, *q_max_ref, *q_version;

    sl_strmap types, workflows, templates;
    sl_strmap txn_index;   /* dict-key text -> wf_txn* */
    wf_txn **txns;           /* cached transactions */
    size_t ntxns, captxns;

    wf_ident *ids;           /* identity entries */
    size_t nids, capids;
    sl_map id_index;       /* hash -> index into ids + 1 */
    sl_map loaded;         /* window -> W_* */
    sl_map segs_seen;      /* segment id -> S_* */
    int64_t last_window;     /* the window of the previous event, and its state */
    uint64_t last_state;     /* 0: none cached */
    sqlite3_stmt *q_seg_import;
    sl_wfseg_walk_out walk;  /* the event being prepared */

    sl_wfdict dict;          /* template shapes, for decoding stored segments */
    sl_wfseg_ctx enc, dec;
    sl_buf cols, vals, scratch, name, key;
    sl_wfseg_slot *slots, *dslots;
    size_t nslots, capslots, capdslots;
    wf_event *evs;
    size_t capevs;
    sl_map seg_buckets;    /* buckets of the segment being built */
};

/* ---- errors and statements ---- */

static int fail(sl_workflow_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(sl_workflow_writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int sql_fail(sl_workflow_writer *w, const char *what)
{
    return fail(w, "workflow events: %s: %s", what, sqlite3_errmsg(w->db));
}

static const struct {
    size_t offset;
    const char *sql;
} statements[] = {
#define Q(field, sql) {offsetof(sl_workflow_writer, field), sql}
    Q(q_type_get, "SELECT id FROM wf_type WHERE name = ?"),
    Q(q_type_add, "INSERT INTO wf_type(name) VALUES (?)"),
    Q(q_wf_get, "SELECT id FROM wf_workflow WHERE name = ?"),
    Q(q_wf_add, "INSERT INTO wf_workflow(name) VALUES (?)"),
    Q(q_tpl_get, "SELECT id FROM wf_template WHERE shape = ?"),
    Q(q_tpl_add, "INSERT INTO wf_template(shape) VALUES (?)"),
    Q(q_txn_get, "SELECT ref, coalesce(txn_id, key), workflow_id, opens, closes, open_ms, "
                 "close_ms, step_opens, step_dones, error, events, first_seq, last_seq "
                 "FROM wf_txn WHERE key_hash = ?2 AND key = ?1"),
    Q(q_txn_put, "INSERT INTO wf_txn(ref, key, txn_id, workflow_id, opens, closes, open_ms, "
                 "close_ms, step_opens, step_dones, error, events, first_seq, last_seq, key_hash) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(ref) DO UPDATE SET "
                 "workflow_id=excluded.workflow_id, opens=excluded.opens, "
                 "closes=excluded.closes, open_ms=excluded.open_ms, close_ms=excluded.close_ms, "
                 "step_opens=excluded.step_opens, step_dones=excluded.step_dones, "
                 "error=excluded.error, events=excluded.events, first_seq=excluded.first_seq, "
                 "last_seq=excluded.last_seq"),
    Q(q_seg_add, "INSERT INTO wf_segment(import_id, first_seq, n, min_ts, max_ts, cols, vals) "
                 "VALUES (?,?,?,?,?,?,?)"),
    Q(q_zone_add, "INSERT OR IGNORE INTO wf_zone(bucket, segment) VALUES (?,?)"),
    Q(q_zone_get, "SELECT segment FROM wf_zone WHERE bucket = ?"),
    Q(q_seg_get, "SELECT import_id, n, cols, vals FROM wf_segment WHERE id = ?"),
    Q(q_seg_import, "SELECT import_id FROM wf_segment WHERE id = ?"),
    Q(q_claim_add, "INSERT INTO temp.wf_claim(bucket, h, n) VALUES (?,?,?)"),
    Q(q_claim_get, "SELECT h, n FROM temp.wf_claim WHERE bucket = ?"),
    Q(q_claim_del, "DELETE FROM temp.wf_claim WHERE bucket = ?"),
    Q(q_tail, "SELECT first_seq + n FROM wf_segment ORDER BY id DESC LIMIT 1"),
    Q(q_max_ref, "SELECT ref FROM wf_txn ORDER BY ref DESC LIMIT 1"),
    Q(q_version, "PRAGMA data_version"),
#undef Q
};
#define NSTATEMENTS (sizeof statements / sizeof *statements)

static sqlite3_stmt **stmt_at(sl_workflow_writer *w, size_t i)
{
    return (sqlite3_stmt **)((char *)w + statements[i].offset);
}

/* Run a one-row, one-integer query; 1 with *v, 0 for no row, -1 error. */
static int query_int(sqlite3_stmt *q, int64_t *v)
{
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *v = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int exec_done(sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- lifecycle ---- */

sl_workflow_writer *sl_workflow_writer_new(sqlite3 *db, char *err, size_t errlen)
{
    sl_workflow_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->db = db;
    sl_strmap_init(&w->types);
    sl_strmap_init(&w->workflows);
    sl_strmap_init(&w->templates);
    sl_strmap_init(&w->txn_index);
    sl_map_init(&w->id_index);
    sl_map_init(&w->loaded);
    sl_map_init(&w->segs_seen);
    sl_map_init(&w->seg_buckets);
    sl_wfdict_init(&w->dict, db);
    sl_wfseg_ctx_init(&w->enc);
    sl_wfseg_ctx_init(&w->dec);
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "CREATE TEMP TABLE IF NOT EXISTS wf_claim(bucket INTEGER, h INTEGER, n INTEGER);"
                     "CREATE INDEX IF NOT EXISTS temp.wf_claim_bucket ON wf_claim(bucket);"
                     "DELETE FROM temp.wf_claim;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "workflow events: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sl_workflow_writer_free(w);
        return NULL;
    }
    for (size_t i = 0; i < NSTATEMENTS; i++) {
        if (sqlite3_prepare_v3(db, statements[i].sql, -1, SQLITE_PREPARE_PERSISTENT, stmt_at(w, i),
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "workflow events: %s (is the warehouse migrated?)",
                     sqlite3_errmsg(db));
            sl_workflow_writer_free(w);
            return NULL;
        }
    }
    sqlite3_stmt *imp = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO wf_import(started_ms) VALUES (?)", -1, &imp, NULL) ||
        sqlite3_bind_int64(imp, 1, (sqlite3_int64)time(NULL) * 1000) || exec_done(imp)) {
        snprintf(err, errlen, "workflow events: %s", sqlite3_errmsg(db));
        sqlite3_finalize(imp);
        sl_workflow_writer_free(w);
        return NULL;
    }
    sqlite3_finalize(imp);
    w->import_id = sqlite3_last_insert_rowid(db);
    w->data_version = -1;
    return w;
}

static void txn_free(wf_txn *t)
{
    if (!t) return;
    free(t->key);
    free(t->display);
    free(t);
}

static void txn_cache_clear(sl_workflow_writer *w)
{
    for (size_t i = 0; i < w->ntxns; i++) txn_free(w->txns[i]);
    w->ntxns = 0;
    sl_strmap_clear(&w->txn_index);
}

static void ident_clear(sl_workflow_writer *w)
{
    w->nids = 0;
    sl_map_clear(&w->id_index);
    sl_map_clear(&w->loaded);
    sl_map_clear(&w->segs_seen);
    w->last_state = 0;
}

void sl_workflow_writer_free(sl_workflow_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < NSTATEMENTS; i++) sqlite3_finalize(*stmt_at(w, i));
    txn_cache_clear(w);
    free(w->txns);
    sl_strmap_free(&w->types);
    sl_strmap_free(&w->workflows);
    sl_strmap_free(&w->templates);
    sl_strmap_free(&w->txn_index);
    free(w->ids);
    sl_map_free(&w->id_index);
    sl_map_free(&w->loaded);
    sl_map_free(&w->segs_seen);
    sl_wfseg_walk_free(&w->walk);
    sl_map_free(&w->seg_buckets);
    sl_wfdict_free(&w->dict);
    sl_wfseg_ctx_free(&w->enc);
    sl_wfseg_ctx_free(&w->dec);
    sl_buf_free(&w->cols);
    sl_buf_free(&w->vals);
    sl_buf_free(&w->scratch);
    sl_buf_free(&w->name);
    sl_buf_free(&w->key);
    free(w->slots);
    free(w->dslots);
    free(w->evs);
    if (w->db) sqlite3_exec(w->db, "DELETE FROM temp.wf_claim", NULL, NULL, NULL);
    free(w);
}

const char *sl_workflow_writer_error(const sl_workflow_writer *w)
{
    return w ? w->err : "out of memory";
}

/* ---- dictionaries ---- */

/* The id of text in a name table, inserted when new; 0 on failure. */
static int64_t dict_id(sl_workflow_writer *w, sl_strmap *cache, sqlite3_stmt *get,
                       sqlite3_stmt *add, const char *s, size_t n, int blob)
{
    uint64_t *v = sl_strmap_get(cache, s, n);
    if (v) return (int64_t)*v;
    int64_t id = 0;
    if (blob) sqlite3_bind_blob(get, 1, s, (int)n, SQLITE_STATIC);
    else sqlite3_bind_text(get, 1, s, (int)n, SQLITE_STATIC);
    int found = query_int(get, &id);
    sqlite3_clear_bindings(get);
    if (found < 0) return sql_fail(w, "reading a dictionary"), 0;
    if (!found) {
        if (blob) sqlite3_bind_blob(add, 1, s, (int)n, SQLITE_STATIC);
        else sqlite3_bind_text(add, 1, s, (int)n, SQLITE_STATIC);
        int rc = exec_done(add);
        sqlite3_clear_bindings(add);
        if (rc) return sql_fail(w, "adding to a dictionary"), 0;
        id = sqlite3_last_insert_rowid(w->db);
    }
    if (!sl_strmap_add(cache, s, n, (uint64_t)id)) return fail(w, "out of memory"), 0;
    return id;
}

/* ---- reading one event ---- */

static int field_of(const char *key, size_t key_n, sl_buf *scratch)
{
    const char *s = key + 1;
    size_t n = key_n - 2;
    if (memchr(s, '\\', n)) {
        sl_wfj_val k = {SL_WFJ_STRING, key, key_n};
        sl_buf_reset(scratch);
        sl_wfj_unescape(&k, scratch);
        s = scratch->p ? scratch->p : "";
        n = scratch->len;
    }
    for (int i = 0; i < NFIELDS; i++)
        if (strlen(field_names[i]) == n && memcmp(field_names[i], s, n) == 0) return i;
    return -1;
}

/* The members the writer needs, from the walked body (a repeated name
 * counts with its last value, as in a Python dict). */
static void read_fields(sl_workflow_writer *w, wf_event *e)
{
    memset(e->f, 0, sizeof e->f);
    for (int i = 0; i < NFIELDS; i++) e->ftok[i] = -1;
    for (size_t i = 0; i < w->walk.nmem; i++) {
        const sl_wfseg_member *m = &w->walk.mem[i];
        int f = field_of(m->key, m->key_n, &w->scratch);
        if (f < 0) continue;
        e->f[f].kind = m->kind;
        e->f[f].p = m->p;
        e->f[f].n = m->n;
        e->ftok[f] = m->tok;
    }
}

static int kind_of(const sl_wfj_val *type)
{
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"transaction_open", K_TXN_OPEN}, {"transaction_close", K_TXN_CLOSE},
                 {"step_open", K_STEP_OPEN},       {"step_done", K_STEP_DONE},
                 {"inter_step_wait", K_WAIT}};
    if (type->kind != SL_WFJ_STRING) return K_OTHER;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (sl_wfj_str_eq(type, kinds[i].name)) return kinds[i].kind;
    return K_OTHER;
}

static int is_plain_string(const sl_wfj_val *v)
{
    return v->kind == SL_WFJ_STRING && !memchr(v->p, '\\', v->n);
}

/* The script's reading of ts_ms and planned_wait_ms, into the record. */
static void read_numbers(wf_event *e)
{
    sl_wfseg_rec *r = &e->rec;
    int64_t ts;
    if (e->f[F_TS].kind && sl_wfj_py_int(&e->f[F_TS], &ts) == 0 && ts > -TS_LIMIT && ts < TS_LIMIT) {
        r->flags |= SL_WFSEG_TS_OK;
        r->ts = ts;
    }
    const sl_wfj_val *pl = &e->f[F_PLANNED];
    unsigned state = SL_WFSEG_PL_NONE;
    double d;
    if (pl->kind && pl->kind != SL_WFJ_NULL) {
        if (sl_wfj_py_float(pl, &d)) {
            state = SL_WFSEG_PL_BAD;
        } else if (d == trunc(d) && fabs(d) < 9007199254740992.0 && !(d == 0 && signbit(d))) {
            state = SL_WFSEG_PL_INT;
            r->planned_i = (int64_t)d;
        } else {
            state = SL_WFSEG_PL_REAL;
            r->planned_d = d;
        }
    }
    r->flags |= state << SL_WFSEG_PLANNED_SHIFT;
    if (sl_wfj_py_truthy(&e->f[F_OUTLIER])) r->flags |= SL_WFSEG_OUTLIER;
}

/* ---- transactions ---- */

static int cache_txn(sl_workflow_writer *w, wf_txn *t)
{
    if (sl_array_reserve(&w->txns, &w->captxns, w->ntxns + 1, sizeof *w->txns, 256)) return -1;
    if (!sl_strmap_add(&w->txn_index, t->key, t->key_len, (uint64_t)(uintptr_t)t)) return -1;
    w->txns[w->ntxns++] = t;
    return 0;
}

/* wf_txn.key_hash: 32 bits keep the index entries small.  Persisted: the
 * function must stay value-identical (base/hash.h). */
static int64_t key_hash(const char *key, size_t n)
{
    return (int64_t)(sl_hash_wf_txn_key(key, n) >> 32);
}

static int64_t col_int(sqlite3_stmt *q, int i, uint8_t *has)
{
    int null = sqlite3_column_type(q, i) == SQLITE_NULL;
    if (has) *has = !null;
    return null ? 0 : sqlite3_column_int64(q, i);
}

/* The cached transaction of key, loaded or created; NULL on failure. */
static wf_txn *txn_get(sl_workflow_writer *w, const char *key, size_t key_len, const char *display,
                       size_t display_len)
{
    uint64_t *v = sl_strmap_get(&w->txn_index, key, key_len);
    if (v) return (wf_txn *)(uintptr_t)*v;
    wf_txn *t = calloc(1, sizeof *t);
    if (!t || !(t->key = malloc(key_len + 1))) {
        free(t);
        fail(w, "out of memory");
        return NULL;
    }
    memcpy(t->key, key, key_len);
    t->key[key_len] = '\0';
    t->key_len = key_len;
    sqlite3_stmt *q = w->q_txn_get;
    sqlite3_bind_text(q, 1, key, (int)key_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, key_hash(key, key_len));
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        t->ref = sqlite3_column_int64(q, 0);
        const char *d = (const char *)sqlite3_column_text(q, 1);
        t->display = strdup(d ? d : "");
        t->display_len = t->display ? strlen(t->display) : 0;
        t->workflow_id = col_int(q, 2, NULL);
        t->opens = col_int(q, 3, NULL);
        t->closes = col_int(q, 4, NULL);
        t->open_ms = col_int(q, 5, &t->has_open);
        t->close_ms = col_int(q, 6, &t->has_close);
        t->step_opens = col_int(q, 7, NULL);
        t->step_dones = col_int(q, 8, NULL);
        t->error = col_int(q, 9, NULL);
        t->events = col_int(q, 10, NULL);
        t->first_seq = col_int(q, 11, NULL);
        t->last_seq = col_int(q, 12, NULL);
    } else if (rc == SQLITE_DONE) {
        t->ref = w->next_ref++;
        t->display = strndup(display, display_len);
        t->display_len = display_len;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if ((rc != SQLITE_ROW && rc != SQLITE_DONE) || !t->display || cache_txn(w, t)) {
        txn_free(t);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) fail(w, "out of memory");
        else sql_fail(w, "reading a transaction");
        return NULL;
    }
    return t;
}

/* Resolve the event's transaction and set its TXN flags, ref and ALT. */
static int resolve_txn(sl_workflow_writer *w, wf_event *e)
{
    const sl_wfj_val *v = &e->f[F_TXN];
    e->txn = NULL;
    if (!v->kind) return 0;
    const char *key, *display;
    size_t key_len, display_len;
    sl_buf_reset(&w->name);
    if (is_plain_string(v) && v->n > 2 && v->p[1] != '\x1f') {
        /* the common case: a string without escapes is its own key and str() */
        key = display = v->p + 1;
        key_len = display_len = v->n - 2;
    } else {
        sl_buf_reset(&w->key);
        if (sl_wfj_py_key(v, &w->key) == SL_WFJ_KEY_UNHASHABLE) {
            e->rec.flags |= SL_WFSEG_TXN_BAD;
            return 0;
        }
        sl_wfj_py_str(v, &w->name);
        sl_buf_putc(&w->name, '\0');
        if (w->key.oom || w->name.oom) return fail(w, "out of memory");
        w->name.len--;
        key = w->key.p ? w->key.p : "";
        key_len = w->key.len;
        display = w->name.p;
        display_len = w->name.len;
    }
    wf_txn *t = txn_get(w, key, key_len, display, display_len);
    if (!t) return -1;
    e->txn = t;
    e->rec.flags |= SL_WFSEG_TXN;
    e->rec.ref = t->ref;
    if (t->display_len != display_len || memcmp(t->display, display, display_len) != 0) {
        if (display != w->name.p) { /* keep the spelling for the ALT copy below */
            sl_buf_append(&w->name, display, display_len);
            if (w->name.oom) return fail(w, "out of memory");
        }
        /* another spelling of the same key (1.0 for 1): keep this one's str() */
        e->rec.flags |= SL_WFSEG_ALT;
        e->rec.alt_len = w->name.len;
    }
    return 0;
}

/* Error signs of an event: "error" truthy, or "status" saying so. */
static int event_error(const wf_event *e)
{
    if (e->f[F_ERROR].kind && sl_wfj_py_truthy(&e->f[F_ERROR])) return 1;
    const sl_wfj_val *s = &e->f[F_STATUS];
    if (s->kind != SL_WFJ_STRING || s->n > 12) return 0;
    char t[16];
    size_t n = s->n - 2;
    memcpy(t, s->p + 1, n);
    t[n] = '\0';
    return !strcasecmp(t, "error") || !strcasecmp(t, "failed") || !strcasecmp(t, "failure");
}

/* Fold a new event into its transaction's row (the transactions view). */
static void txn_apply(wf_txn *t, const wf_event *e, int64_t seq, int64_t workflow_id)
{
    const sl_wfseg_rec *r = &e->rec;
    int ts_ok = (r->flags & SL_WFSEG_TS_OK) != 0;
    t->dirty = 1;
    t->events++;
    if (!t->first_seq) t->first_seq = seq;
    t->last_seq = seq;
    if (!t->workflow_id && workflow_id) t->workflow_id = workflow_id;
    if (event_error(e)) t->error = 1;
    switch (e->kind) {
    case K_TXN_OPEN:
        t->opens++;
        if (ts_ok) t->open_ms = r->ts, t->has_open = 1;
        break;
    case K_TXN_CLOSE:
        t->closes++;
        if (ts_ok) t->close_ms = r->ts, t->has_close = 1;
        break;
    case K_STEP_OPEN: t->step_opens++; break;
    case K_STEP_DONE: t->step_dones++; break;
    }
}

static void bind_opt(sqlite3_stmt *q, int i, int64_t v, int has)
{
    if (has) sqlite3_bind_int64(q, i, v);
    else sqlite3_bind_null(q, i);
}

static int txn_write(sl_workflow_writer *w, wf_txn *t)
{
    sqlite3_stmt *q = w->q_txn_put;
    sqlite3_bind_int64(q, 1, t->ref);
    sqlite3_bind_text(q, 2, t->key, (int)t->key_len, SQLITE_STATIC);
    /* the common case, a string id, is its own key: store it once */
    if (strlen(t->display) == t->key_len && memcmp(t->display, t->key, t->key_len) == 0)
        sqlite3_bind_null(q, 3);
    else
        sqlite3_bind_text(q, 3, t->display, -1, SQLITE_STATIC);
    bind_opt(q, 4, t->workflow_id, t->workflow_id != 0);
    sqlite3_bind_int64(q, 5, t->opens);
    sqlite3_bind_int64(q, 6, t->closes);
    bind_opt(q, 7, t->open_ms, t->has_open);
    bind_opt(q, 8, t->close_ms, t->has_close);
    sqlite3_bind_int64(q, 9, t->step_opens);
    sqlite3_bind_int64(q, 10, t->step_dones);
    sqlite3_bind_int64(q, 11, t->error);
    sqlite3_bind_int64(q, 12, t->events);
    bind_opt(q, 13, t->first_seq, t->first_seq != 0);
    bind_opt(q, 14, t->last_seq, t->last_seq != 0);
    sqlite3_bind_int64(q, 15, key_hash(t->key, t->key_len));
    int rc = exec_done(q);
    sqlite3_clear_bindings(q);
    if (rc) return sql_fail(w, "writing a transaction");
    t->dirty = 0;
    return 0;
}

/* Write every changed transaction, then trim the cache to those used by
 * this batch if it grew past its cap. */
static int txn_flush(sl_workflow_writer *w)
{
    for (size_t i = 0; i < w->ntxns; i++)
        if (w->txns[i]->dirty && txn_write(w, w->txns[i])) return -1;
    if (w->ntxns <= TXN_CACHE_MAX) return 0;
    size_t keep = 0;
    sl_strmap_clear(&w->txn_index);
    for (size_t i = 0; i < w->ntxns; i++) {
        wf_txn *t = w->txns[i];
        if (t->touched != w->batch) {
            txn_free(t);
            continue;
        }
        w->txns[keep++] = t;
        if (!sl_strmap_add(&w->txn_index, t->key, t->key_len, (uint64_t)(uintptr_t)t))
            return fail(w, "out of memory");
    }
    w->ntxns = keep;
    return 0;
}

/* ---- identity ---- */

static wf_ident *ident_entry(sl_workflow_writer *w, uint64_t h, int64_t window)
{
    int created;
    uint64_t *slot = sl_map_put(&w->id_index, h, &created);
    if (!slot) return NULL;
    if (!created) return &w->ids[*slot - 1];
    if (sl_array_reserve(&w->ids, &w->capids, w->nids + 1, sizeof *w->ids, 4096)) return NULL;
    wf_ident *e = &w->ids[w->nids++];
    memset(e, 0, sizeof *e);
    e->h = h;
    e->bucket = window;
    *slot = w->nids;
    return e;
}

static int64_t window_of(const sl_wfseg_rec *r)
{
    return (r->flags & SL_WFSEG_TS_OK) ? r->ts >> 12 : NO_TS_BUCKET;
}

/* The hash of one decoded event; -1 if the blob is malformed. */
static int decoded_hash(sl_workflow_writer *w, const uint8_t **v, const uint8_t *ve,
                        const sl_wfseg_rec *r, uint64_t *h)
{
    uint64_t tid;
    if (sl_wfseg_get_uv(v, ve, &tid)) return -1;
    const sl_wfdict_entry *tpl = sl_wfdict_template(&w->dict, tid);
    if (!tpl) return -1;
    if (tpl->nslots > w->capdslots) {
        sl_wfseg_slot *s = realloc(w->dslots, tpl->nslots * sizeof *s);
        if (!s) return -1;
        w->dslots = s;
        w->capdslots = tpl->nslots;
    }
    if (sl_wfseg_get_slots(v, ve, &w->dec, (uint32_t)tid, w->dslots, tpl->nslots)) return -1;
    *h = sl_wfseg_hash(r, (uint32_t)tid, w->dslots, tpl->nslots);
    return 0;
}

/* Count the events of an earlier import's segment. */
static int count_segment(sl_workflow_writer *w, int64_t seg)
{
    sqlite3_stmt *q = w->q_seg_get;
    sqlite3_bind_int64(q, 1, seg);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        return rc == SQLITE_DONE ? 0 : sql_fail(w, "reading a segment");
    }
    int64_t n = sqlite3_column_int64(q, 1);
    const uint8_t *c = sqlite3_column_blob(q, 2), *ce = c + sqlite3_column_bytes(q, 2);
    const uint8_t *v = sqlite3_column_blob(q, 3), *ve = v + sqlite3_column_bytes(q, 3);
    sl_wfseg_ctx_reset(&w->dec);
    int bad = 0, oom = 0;
    for (int64_t i = 0; i < n && !bad && !oom; i++) {
        sl_wfseg_rec r;
        uint64_t h;
        if (sl_wfseg_get_hot(&c, ce, &w->dec, &r) || decoded_hash(w, &v, ve, &r, &h)) {
            bad = 1;
            break;
        }
        wf_ident *e = ident_entry(w, h, window_of(&r));
        if (e) e->stored++;
        else oom = 1;
    }
    sqlite3_reset(q);
    if (oom) return fail(w, "out of memory");
    if (bad) return fail(w, "workflow events: segment %lld is damaged", (long long)seg);
    uint64_t *st = sl_map_put(&w->segs_seen, (uint64_t)seg, NULL);
    if (!st) return fail(w, "out of memory");
    *st = S_COUNTED;
    return 0;
}

/* S_MINE or S_COUNTED for a segment already seen, else 0 (and *foreign). */
static int segment_kind(sl_workflow_writer *w, int64_t seg, int *foreign)
{
    uint64_t *st = sl_map_get(&w->segs_seen, (uint64_t)seg);
    if (st) return (int)*st;
    int64_t imp = 0;
    sqlite3_bind_int64(w->q_seg_import, 1, seg);
    if (query_int(w->q_seg_import, &imp) < 0) return sql_fail(w, "reading a segment");
    *foreign = imp != w->import_id;
    return 0;
}

/* Load the counts of one window: count the earlier imports' segments not
 * yet counted, take back the claims saved when the state was last dropped.
 * Returns W_TRACKED or W_FRESH, or -1. */
static int load_window(sl_workflow_writer *w, int64_t window)
{
    int64_t segs[64];
    size_t nsegs = 0;
    int tracked = 0, rc = SQLITE_DONE;
    sqlite3_stmt *q = w->q_zone_get;
    sqlite3_bind_int64(q, 1, window);
    for (;;) {
        while (nsegs < 64 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t seg = sqlite3_column_int64(q, 0);
            int foreign = 0, kind = segment_kind(w, seg, &foreign);
            if (kind < 0) break;
            if (kind == S_COUNTED) tracked = 1;
            if (foreign) segs[nsegs++] = seg, tracked = 1;
        }
        if (nsegs < 64) break;
        for (size_t i = 0; i < nsegs; i++)
            if (count_segment(w, segs[i])) {
                sqlite3_reset(q);
                return -1;
            }
        nsegs = 0;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return rc == SQLITE_ROW ? -1 : sql_fail(w, "reading zones");
    for (size_t i = 0; i < nsegs; i++)
        if (count_segment(w, segs[i])) return -1;
    if (tracked) {
        q = w->q_claim_get;
        sqlite3_bind_int64(q, 1, window);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            wf_ident *e = ident_entry(w, (uint64_t)sqlite3_column_int64(q, 0), window);
            if (!e) {
                sqlite3_reset(q);
                return fail(w, "out of memory");
            }
            e->claimed += (uint32_t)sqlite3_column_int64(q, 1);
        }
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) return sql_fail(w, "reading claims");
        sqlite3_bind_int64(w->q_claim_del, 1, window);
        if (exec_done(w->q_claim_del)) return sql_fail(w, "dropping claims");
    }
    return tracked ? W_TRACKED : W_FRESH;
}

static int window_state(sl_workflow_writer *w, int64_t window)
{
    if (w->last_state && w->last_window == window) return (int)w->last_state;
    uint64_t *st = sl_map_get(&w->loaded, (uint64_t)window);
    int state = st ? (int)*st : load_window(w, window);
    if (state < 0) return -1;
    if (!st) {
        uint64_t *slot = sl_map_put(&w->loaded, (uint64_t)window, NULL);
        if (!slot) return fail(w, "out of memory");
        *slot = (uint64_t)state;
    }
    w->last_window = window;
    w->last_state = (uint64_t)state;
    return state;
}

/* Drop the identity state, saving what cannot be rebuilt: the claims. */
static int ident_drop(sl_workflow_writer *w)
{
    for (size_t i = 0; i < w->nids; i++) {
        wf_ident *e = &w->ids[i];
        if (!e->claimed) continue;
        sqlite3_stmt *q = w->q_claim_add;
        sqlite3_bind_int64(q, 1, e->bucket);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)e->h);
        sqlite3_bind_int64(q, 3, e->claimed);
        if (exec_done(q)) return sql_fail(w, "saving claims");
    }
    ident_clear(w);
    return 0;
}

/* 1 if the event matches an unclaimed copy stored earlier (claimed now), 0
 * if it is new, -1 on failure. */
static int ident_decide(sl_workflow_writer *w, wf_event *e)
{
    int state = window_state(w, e->bucket);
    if (state != W_TRACKED) return state < 0 ? -1 : 0;
    uint64_t h = sl_wfseg_hash(&e->rec, e->template_id, w->slots, w->nslots);
    uint64_t *slot = sl_map_get(&w->id_index, h);
    if (!slot) return 0;
    wf_ident *id = &w->ids[*slot - 1];
    if (id->stored <= id->claimed) return 0;
    id->claimed++;
    return 1;
}

/* ---- one event ---- */

/* Set the special marker of field f's token when its raw text is exactly
 * what the marker rebuilds. */
static void mark(sl_workflow_writer *w, const wf_event *e, int f, char marker)
{
    if (e->ftok[f] >= 0) w->walk.tmpl.p[w->walk.toks[e->ftok[f]].at] = marker;
}

/* Everything the identity needs: the record, its ids and its template. */
static int prepare_event(sl_workflow_writer *w, const sl_event *ev, wf_event *e)
{
    const char *body = ev->body;
    size_t len = strlen(body);
    if (len < 2 || body[0] != '{')
        return fail(w, "line %llu: not a JSON object", (unsigned long long)ev->line);
    if (sl_wfseg_walk(body, len, &w->walk)) return fail(w, "out of memory");
    read_fields(w, e);
    memset(&e->rec, 0, sizeof e->rec); /* alt is NULL until set below */
    e->kind = kind_of(&e->f[F_TYPE]);
    sl_wfseg_rec *r = &e->rec;

    int64_t id;
    const sl_wfj_val *type = &e->f[F_TYPE];
    if (is_plain_string(type)) {
        id = dict_id(w, &w->types, w->q_type_get, w->q_type_add, type->p + 1, type->n - 2, 0);
    } else {
        sl_buf_reset(&w->name);
        sl_wfj_py_str(type, &w->name); /* an absent type prints as None */
        if (w->name.oom) return fail(w, "out of memory");
        id = dict_id(w, &w->types, w->q_type_get, w->q_type_add, w->name.p, w->name.len, 0);
    }
    if (!id) return -1;
    r->type_id = (uint32_t)id;

    if (is_plain_string(&e->f[F_WORKFLOW])) {
        const sl_wfj_val *v = &e->f[F_WORKFLOW];
        id = dict_id(w, &w->workflows, w->q_wf_get, w->q_wf_add, v->p + 1, v->n - 2, 0);
        if (!id) return -1;
        r->flags |= SL_WFSEG_WORKFLOW;
        r->workflow_id = (uint32_t)id;
    }
    read_numbers(e);
    if (resolve_txn(w, e)) return -1;
    if (r->flags & SL_WFSEG_ALT) {
        /* w->name holds the str() of this spelling; keep a copy with the event */
        char *alt = malloc(w->name.len + 1);
        if (!alt) return fail(w, "out of memory");
        memcpy(alt, w->name.p, w->name.len + 1);
        r->alt = alt;
    }

    if (is_plain_string(&e->f[F_TYPE])) mark(w, e, F_TYPE, SL_WFSEG_M_TYPE);
    const sl_wfj_val *x = &e->f[F_TXN];
    if (e->txn && is_plain_string(x) && !(r->flags & SL_WFSEG_ALT) &&
        x->n - 2 == e->txn->display_len && memcmp(x->p + 1, e->txn->display, x->n - 2) == 0)
        mark(w, e, F_TXN, SL_WFSEG_M_TXN);
    if ((r->flags & SL_WFSEG_TS_OK) && e->f[F_TS].kind == SL_WFJ_INT &&
        !(e->f[F_TS].n == 2 && e->f[F_TS].p[0] == '-' && e->f[F_TS].p[1] == '0'))
        mark(w, e, F_TS, SL_WFSEG_M_TS); /* an integer token read exactly prints back as itself */
    if (r->flags & SL_WFSEG_WORKFLOW) mark(w, e, F_WORKFLOW, SL_WFSEG_M_WORKFLOW);
    if (sl_wfseg_slots(&w->walk, &w->slots, &w->nslots, &w->capslots))
        return fail(w, "out of memory");
    const sl_buf *t = &w->walk.tmpl;
    id = dict_id(w, &w->templates, w->q_tpl_get, w->q_tpl_add, t->p, t->len, 1);
    if (!id) return -1;
    e->template_id = (uint32_t)id;
    e->bucket = window_of(r);
    return 0;
}

/* ---- segments ---- */

static int begin_batch(sl_workflow_writer *w)
{
    int64_t v = 0;
    if (query_int(w->q_version, &v) < 0) return sql_fail(w, "reading data_version");
    if (v != w->data_version) {
        /* another connection wrote: cached state may be stale */
        if (w->data_version != -1) {
            if (ident_drop(w)) return -1;
            txn_cache_clear(w);
            sl_wfdict_reset(&w->dict);
        }
        w->data_version = v;
    }
    int64_t x = 0;
    int rc = query_int(w->q_tail, &x);
    if (rc < 0) return sql_fail(w, "reading the last segment");
    w->next_seq = rc ? x : 1;
    rc = query_int(w->q_max_ref, &x);
    if (rc < 0) return sql_fail(w, "reading transactions");
    int64_t next = rc ? x + 1 : 1;
    if (next > w->next_ref) w->next_ref = next;
    w->batch++;
    sl_buf_reset(&w->cols);
    sl_buf_reset(&w->vals);
    sl_wfseg_ctx_reset(&w->enc);
    sl_map_clear(&w->seg_buckets);
    return 0;
}

static int write_segment(sl_workflow_writer *w, int64_t first_seq, int64_t n, int64_t min_ts,
                         int64_t max_ts, int has_ts)
{
    if (w->cols.oom || w->vals.oom) return fail(w, "out of memory");
    sqlite3_stmt *q = w->q_seg_add;
    sqlite3_bind_int64(q, 1, w->import_id);
    sqlite3_bind_int64(q, 2, first_seq);
    sqlite3_bind_int64(q, 3, n);
    bind_opt(q, 4, min_ts, has_ts);
    bind_opt(q, 5, max_ts, has_ts);
    sqlite3_bind_blob(q, 6, w->cols.p, (int)w->cols.len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 7, w->vals.p, (int)w->vals.len, SQLITE_STATIC);
    int rc = exec_done(q);
    sqlite3_clear_bindings(q);
    if (rc) return sql_fail(w, "writing a segment");
    int64_t seg = sqlite3_last_insert_rowid(w->db);
    uint64_t *st = sl_map_put(&w->segs_seen, (uint64_t)seg, NULL);
    if (!st) return fail(w, "out of memory");
    *st = S_MINE;
    uint64_t bucket, unused;
    for (size_t i = 0; sl_map_next(&w->seg_buckets, &i, &bucket, &unused);) {
        sqlite3_bind_int64(w->q_zone_add, 1, (int64_t)bucket);
        sqlite3_bind_int64(w->q_zone_add, 2, seg);
        if (exec_done(w->q_zone_add)) return sql_fail(w, "writing zones");
    }
    return 0;
}

static void free_alts(wf_event *evs, size_t n)
{
    for (size_t i = 0; i < n; i++) free((char *)evs[i].rec.alt);
}

int sl_workflow_writer_store(sl_workflow_writer *w, const sl_event *ev, size_t n,
                             sl_import_stats *st)
{
    if (begin_batch(w)) return -1;
    if (n > w->capevs) {
        wf_event *a = realloc(w->evs, n * sizeof *a);
        if (!a) return fail(w, "out of memory");
        w->evs = a;
        w->capevs = n;
    }
    int64_t first_seq = w->next_seq, count = 0, min_ts = 0, max_ts = 0, prev_bucket = 0;
    int has_ts = 0, rc = 0;
    size_t prepared = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        wf_event *e = &w->evs[i];
        e->rec.flags = 0;
        e->rec.alt = NULL;
        prepared = i + 1;
        if (prepare_event(w, &ev[i], e)) {
            rc = -1;
            break;
        }
        /* slots point into ev[i].body and are consumed before the next event */
        int dup = ident_decide(w, e);
        if (dup < 0) {
            rc = -1;
            break;
        }
        if (e->txn) e->txn->touched = w->batch;
        if (dup) {
            st->duplicates++;
            continue;
        }
        int64_t seq = first_seq + count++;
        sl_wfseg_put_hot(&w->cols, &w->enc, &e->rec);
        if (sl_wfseg_put_vals(&w->vals, &w->enc, e->template_id, w->slots, w->nslots)) {
            rc = fail(w, "out of memory");
            break;
        }
        if (e->rec.flags & SL_WFSEG_TS_OK) {
            if (!has_ts || e->rec.ts < min_ts) min_ts = e->rec.ts;
            if (!has_ts || e->rec.ts > max_ts) max_ts = e->rec.ts;
            has_ts = 1;
        }
        if ((count == 1 || e->bucket != prev_bucket) &&
            !sl_map_put(&w->seg_buckets, (uint64_t)e->bucket, NULL)) {
            rc = fail(w, "out of memory");
            break;
        }
        prev_bucket = e->bucket;
        if (e->txn) txn_apply(e->txn, e, seq, e->rec.workflow_id);
        st->imported++;
    }
    free_alts(w->evs, prepared);
    if (rc) return -1;
    if (count && write_segment(w, first_seq, count, min_ts, max_ts, has_ts)) return -1;
    w->next_seq = first_seq + count;
    if (txn_flush(w)) return -1;
    if (w->nids > IDENT_MAX && ident_drop(w)) return -1;
    return 0;
}
