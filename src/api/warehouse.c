/*
 * api/warehouse.c -- opening (functions registered, then the schema migrated
 * by store/migrate.h) and closing a warehouse, and the small public calls
 * that need nothing but the handle (ingest, get trace, clear).
 */
#include "api/warehouse.h"
#include "base/buf.h"
#include "store/migrate.h"
#include "sql/functions.h"
#include "base/arena.h"
#include "base/buf.h"
#include "store/ids.h"
#include "base/json.h"
#include "base/span.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sl_db_fail(sl_db *db, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return code;
}

const char *sl_version(void) { return "0.1.0"; }

static int check_version(sl_db *db, int have)
{
    int want = sl_schema_version();
    if (have > want)
        return sl_db_fail(db, SL_VERSION,
                          "the warehouse has schema version %d, newer than this spanlite "
                          "(%s, schema version %d): upgrade spanlite", have, sl_version(), want);
    return SL_OK;
}

/*
 * How to open path for reading.  A WAL warehouse needs its -shm file, which
 * SQLite creates next to it; in a directory we cannot write, with no -wal
 * file there, it cannot.  But then no writer can be at work either (a
 * writer must create the -wal file in that directory), so the file is
 * opened immutable: read as it is, with no locking.  Returns a URI to free
 * with sqlite3_free(), or NULL to open path as usual.
 */
static char *readonly_uri(const char *path)
{
    char *uri = NULL, *copy = strdup(path), *wal = sqlite3_mprintf("%s-wal", path);
    if (!copy || !wal || access(path, R_OK) != 0 || access(wal, F_OK) == 0 ||
        access(dirname(copy), W_OK) == 0)
        goto done;
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "file:");
    for (const char *p = path; *p; p++) { /* the characters a URI path may not hold as they are */
        if (*p == '%' || *p == '?' || *p == '#') sl_buf_printf(&b, "%%%02X", (unsigned char)*p);
        else sl_buf_putc(&b, *p);
    }
    sl_buf_puts(&b, "?immutable=1");
    if (!b.oom) uri = sqlite3_mprintf("%s", b.p);
    sl_buf_free(&b);
done:
    free(copy);
    sqlite3_free(wal);
    return uri;
}

int sl_open(const char *path, int flags, sl_db **out)
{
    sl_db *db = calloc(1, sizeof *db);
    *out = db;
    if (!db) return SL_NOMEM;
    pthread_mutex_init(&db->mu, NULL);
    db->readonly = (flags & SL_OPEN_READONLY) != 0;
    int oflags = db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    char *uri = db->readonly ? readonly_uri(path) : NULL;
    int orc = sqlite3_open_v2(uri ? uri : path, &db->db,
                              oflags | SQLITE_OPEN_NOMUTEX | (uri ? SQLITE_OPEN_URI : 0), NULL);
    sqlite3_free(uri);
    if (orc != SQLITE_OK)
        return sl_db_fail(db, SL_IO, "cannot open %s: %s", path,
                          db->db ? sqlite3_errmsg(db->db) : "out of memory");
    if (sl_configure(db->db, db->readonly, db->err, sizeof db->err) != SQLITE_OK) {
        char *copy = strdup(path);
        if (!db->readonly && copy && access(dirname(copy), W_OK) != 0)
            sl_db_fail(db, SL_IO, "cannot write %s: its directory is not writable, and SQLite keeps "
                       "its write-ahead log there (%s-wal); reading commands work", path, path);
        free(copy);
        return SL_ERROR;
    }
    /* Functions first: migrations may use them (003 backfills sketches). */
    if (sl_analysis_register(db->db) != SQLITE_OK)
        return sl_db_fail(db, SL_ERROR, "registering SQL functions: %s", sqlite3_errmsg(db->db));
    int rc;
    if (db->readonly) {
        int have;
        if (sl_migrate_version(db->db, &have))
            return sl_db_fail(db, SL_ERROR, "%s: %s", path, sqlite3_errmsg(db->db));
        if ((rc = check_version(db, have))) return rc;
        if (have < sl_schema_version())
            return sl_db_fail(db, SL_VERSION,
                              "%s is at schema version %d, not %d: run `spanlite init` to migrate it",
                              path, have, sl_schema_version());
    } else {
        int have;
        if (sl_migrate_version(db->db, &have))
            return sl_db_fail(db, SL_ERROR, "reading the schema version: %s", sqlite3_errmsg(db->db));
        if ((rc = check_version(db, have))) return rc;
        if (sl_migrate(db->db, db->err, sizeof db->err) != SQLITE_OK) return SL_ERROR;
    }
    return SL_OK;
}

void sl_close(sl_db *db)
{
    if (!db) return;
    sl_store_free(db->store);
    if (db->db) sqlite3_close_v2(db->db);
    pthread_mutex_destroy(&db->mu);
    free(db);
}

const char *sl_errmsg(const sl_db *db)
{
    if (!db) return "out of memory";
    return db->err[0] ? db->err : "no error";
}

sqlite3 *sl_sqlite(sl_db *db) { return db->db; }

sl_store *sl_db_store(sl_db *db)
{
    if (db->readonly) {
        sl_db_fail(db, SL_ERROR, "the warehouse is open read-only");
        return NULL;
    }
    if (!db->store) db->store = sl_store_new(db->db, db->err, sizeof db->err);
    return db->store;
}

int sl_ingest_spans(sl_db *db, const sl_span *spans, size_t n, sl_import_stats *st)
{
    sl_import_stats local = {0};
    if (!st) st = &local;
    pthread_mutex_lock(&db->mu); /* before db->err is written, by the checks too */
    int rc = SL_OK;
    sl_store *s = NULL;
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        const char *why = sl_span_check(&spans[i]);
        if (why) rc = sl_db_fail(db, SL_INVALID, "span %zu: %s", i, why);
    }
    if (rc != SL_OK) {
        /* a span was invalid: nothing stored */
    } else if (!(s = sl_db_store(db))) {
        rc = SL_ERROR;
    } else if (sl_store_begin(s) || sl_store_spans(s, spans, NULL, n, st) || sl_store_commit(s)) {
        sl_store_rollback(s);
        rc = sl_db_fail(db, SL_ERROR, "%s", sl_store_error(s));
    } else {
        st->read += n;
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int sl_ingest_span(sl_db *db, const sl_span *span) { return sl_ingest_spans(db, span, 1, NULL); }

/* ---- sl_get_trace ---- */

typedef struct trace_mem {
    sl_arena arena;
} trace_mem;

static const char *col_str(sqlite3_stmt *st, int i, sl_arena *a)
{
    return sl_ids_column_copy(st, i, a, NULL); /* ids in their stored form, text as it is */
}

int sl_get_trace(sl_db *db, const char *trace_id, sl_trace **out)
{
    static const char q[] =
        "SELECT t.trace_id, s.span_id, s.parent_span_id, sv.name, o.name, rs.name, "
        "s.status_message, s.attributes, r.attributes, s.scope, s.events, s.links, "
        "s.kind, s.status, s.flags, s.start_ns, s.duration_ns "
        "FROM trace t JOIN span s ON s.trace_ref = t.ref "
        "JOIN service sv ON sv.id = s.service_id JOIN operation o ON o.id = s.operation_id "
        "LEFT JOIN resource r ON r.id = s.resource_id "
        "LEFT JOIN service rs ON rs.id = s.remote_service_id "
        "WHERE t.trace_id = ?1 ORDER BY s.start_ns, s.id";
    *out = NULL;
    pthread_mutex_lock(&db->mu);
    sqlite3_stmt *st = NULL;
    int rc = SL_OK;
    sl_trace *t = calloc(1, sizeof *t);
    trace_mem *m = calloc(1, sizeof *m);
    size_t cap = 0;
    if (!t || !m) {
        rc = sl_db_fail(db, SL_NOMEM, "out of memory");
        goto done;
    }
    sl_arena_init(&m->arena);
    t->mem_ = m;
    if (sqlite3_prepare_v2(db->db, q, -1, &st, NULL)) {
        rc = sl_db_fail(db, SL_ERROR, "get trace: %s", sqlite3_errmsg(db->db));
        goto done;
    }
    /* Hex ids are stored lower-case: find an upper-case one pasted by a user. */
    char *id = strdup(trace_id);
    if (!id) {
        rc = sl_db_fail(db, SL_NOMEM, "out of memory");
        goto done;
    }
    sl_hex_lower(id);
    sqlite3_bind_text(st, 1, id, -1, free);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sl_array_reserve(&t->spans, &cap, t->nspans + 1, sizeof *t->spans, 16)) {
            rc = sl_db_fail(db, SL_NOMEM, "out of memory");
            goto done;
        }
        sl_span *sp = &t->spans[t->nspans++];
        sl_arena *a = &m->arena;
        const char **strs[] = {&sp->trace_id, &sp->span_id, &sp->parent_span_id, &sp->service,
                               &sp->operation, &sp->remote_service, &sp->status_message,
                               &sp->attributes, &sp->resource, &sp->scope, &sp->events, &sp->links};
        for (int i = 0; i < 12; i++) *strs[i] = col_str(st, i, a);
        sp->kind = sqlite3_column_int(st, 12);
        sp->status = sqlite3_column_int(st, 13);
        sp->flags = sqlite3_column_int(st, 14);
        sp->start_ns = sqlite3_column_int64(st, 15);
        sp->duration_ns = sqlite3_column_int64(st, 16);
    }
    if (step != SQLITE_DONE) rc = sl_db_fail(db, SL_ERROR, "get trace: %s", sqlite3_errmsg(db->db));
    else if (t->nspans == 0) rc = sl_db_fail(db, SL_NOTFOUND, "no trace %s", trace_id);
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->mu);
    if (rc) sl_trace_free(t);
    else *out = t;
    return rc;
}

void sl_trace_free(sl_trace *t)
{
    if (!t) return;
    trace_mem *m = t->mem_;
    if (m) {
        sl_arena_release(&m->arena);
        free(m);
    }
    free(t->spans);
    free(t);
}

int sl_clear(sl_db *db)
{
    pthread_mutex_lock(&db->mu);
    char *msg = NULL;
    int rc = SL_OK;
    if (db->readonly) {
        rc = sl_db_fail(db, SL_ERROR, "the warehouse is open read-only");
    } else if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
        rc = sl_db_fail(db, SL_ERROR, "clear: %s", msg ? msg : sqlite3_errmsg(db->db));
    } else if (sl_store_clear(db->db, db->err, sizeof db->err) != SQLITE_OK ||
               sqlite3_exec(db->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        if (msg) sl_db_fail(db, SL_ERROR, "clear: %s", msg);
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        rc = SL_ERROR;
    }
    sqlite3_free(msg);
    if (db->store) sl_store_rollback(db->store); /* drop cached ids */
    pthread_mutex_unlock(&db->mu);
    return rc;
}
