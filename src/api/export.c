/*
 * api/export.c -- sl_export(): select spans, group them by trace, and hand each
 * trace to the chosen format's writer (export.h).  Also the native `spans`
 * writer.  Rows come in (trace, start) order straight off the span_identity
 * index, so the export streams: memory is one trace, not the warehouse.
 */
#include "formats/export.h"
#include "base/buf.h"
#include "base/arena.h"
#include "store/ids.h"
#include "base/json.h"
#include "base/span.h"
#include "api/warehouse.h"

#include <stdlib.h>
#include <string.h>

/* The native writer is below; the others live with their readers in fmt_*.c. */
extern const sl_exporter sl_exporter_spans, sl_exporter_otlp, sl_exporter_jaeger,
    sl_exporter_zipkin, sl_exporter_csv;

static const sl_exporter *const exporters[] = {
    &sl_exporter_spans, &sl_exporter_otlp, &sl_exporter_jaeger, &sl_exporter_zipkin,
    &sl_exporter_csv,
};
#define NEXPORTERS (sizeof exporters / sizeof *exporters)

const sl_exporter *sl_exporter_find(const char *name)
{
    for (size_t i = 0; i < NEXPORTERS; i++)
        if (strcmp(exporters[i]->name, name) == 0) return exporters[i];
    return NULL;
}

const char *const *sl_export_formats(void)
{
    static const char *const names[] = {"spans", "otlp", "jaeger", "zipkin", "csv", NULL};
    return names;
}

int sl_export_flush(sl_export_out *o)
{
    if (o->buf.oom) return -1;
    if (o->buf.len && fwrite(o->buf.p, 1, o->buf.len, o->out) != o->buf.len) return -1;
    sl_buf_reset(&o->buf);
    return 0;
}

/* ---- native JSON Lines writer ---- */

static void put_str(sl_buf *b, const char *key, const char *v, int *first)
{
    if (!v) return;
    sl_jw_key(b, key, first);
    sl_jw_string(b, v);
}

static void put_raw(sl_buf *b, const char *key, const char *json, int *first)
{
    if (!json) return;
    sl_jw_key(b, key, first);
    sl_buf_puts(b, json);
}

static void put_int(sl_buf *b, const char *key, int64_t v, int *first)
{
    sl_jw_key(b, key, first);
    sl_jw_int(b, v);
}

static int spans_trace(sl_export_out *o, const sl_span *spans, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const sl_span *sp = &spans[i];
        sl_buf *b = &o->buf;
        int first = 1;
        sl_buf_putc(b, '{');
        put_str(b, "trace_id", sp->trace_id, &first);
        put_str(b, "span_id", sp->span_id, &first);
        put_str(b, "parent_span_id", sp->parent_span_id, &first);
        put_str(b, "service", sp->service, &first);
        put_str(b, "operation", sp->operation, &first);
        put_str(b, "kind", sl_kind_name(sp->kind), &first);
        put_str(b, "status", sl_status_name(sp->status), &first);
        put_str(b, "status_message", sp->status_message, &first);
        put_int(b, "start_ns", sp->start_ns, &first);
        put_int(b, "end_ns", sp->start_ns + sp->duration_ns, &first);
        put_int(b, "duration_ns", sp->duration_ns, &first);
        put_str(b, "remote_service", sp->remote_service, &first);
        if (sp->flags & SL_SPAN_SHARED) put_raw(b, "shared", "true", &first);
        put_raw(b, "attributes", sp->attributes, &first);
        put_raw(b, "resource", sp->resource, &first);
        put_raw(b, "scope", sp->scope, &first);
        put_raw(b, "events", sp->events, &first);
        put_raw(b, "links", sp->links, &first);
        sl_buf_puts(b, "}\n");
        if (b->len > (1u << 16) && sl_export_flush(o)) return -1;
    }
    return sl_export_flush(o);
}

const sl_exporter sl_exporter_spans = {"spans", NULL, spans_trace, NULL};

/* ---- the reader side ---- */

/* id -> text of a small table (service names, operation names, resource
 * attributes), cached direct-mapped: far fewer lookups than a join per row. */
#define NAME_SLOTS 1024
typedef struct name_cache {
    sqlite3_stmt *q;          /* SELECT text WHERE id = ?1 */
    int64_t id[NAME_SLOTS];   /* 0 = empty (ids start at 1) */
    char *text[NAME_SLOTS];   /* owned */
} name_cache;

static int name_cache_init(name_cache *c, sqlite3 *db, const char *sql)
{
    memset(c, 0, sizeof *c);
    return sqlite3_prepare_v2(db, sql, -1, &c->q, NULL);
}

static void name_cache_free(name_cache *c)
{
    sqlite3_finalize(c->q);
    for (int i = 0; i < NAME_SLOTS; i++) free(c->text[i]);
}

/* The text of id (NULL for a NULL id or a missing row), copied into a. */
static int name_lookup(name_cache *c, sqlite3_stmt *row, int col, sl_arena *a, const char **out)
{
    *out = NULL;
    if (sqlite3_column_type(row, col) == SQLITE_NULL) return 0;
    int64_t id = sqlite3_column_int64(row, col);
    size_t k = (size_t)id & (NAME_SLOTS - 1);
    if (c->id[k] != id || !c->text[k]) {
        sqlite3_bind_int64(c->q, 1, id);
        int rc = sqlite3_step(c->q);
        char *t = rc == SQLITE_ROW ? strdup((const char *)sqlite3_column_text(c->q, 0)) : NULL;
        sqlite3_reset(c->q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return -1;
        if (rc == SQLITE_DONE) return 0;
        if (!t) return -1;
        free(c->text[k]);
        c->text[k] = t;
        c->id[k] = id;
    }
    return (*out = sl_arena_strdup(a, c->text[k])) ? 0 : -1;
}

typedef struct resolver {
    name_cache services, operations, resources;
    sqlite3_stmt *trace_id; /* SELECT trace_id FROM trace WHERE ref = ?1 */
} resolver;

static int resolver_init(resolver *r, sqlite3 *db)
{
    memset(r, 0, sizeof *r);
    int rc = name_cache_init(&r->services, db, "SELECT name FROM service WHERE id = ?1");
    if (!rc) rc = name_cache_init(&r->operations, db, "SELECT name FROM operation WHERE id = ?1");
    if (!rc) rc = name_cache_init(&r->resources, db, "SELECT attributes FROM resource WHERE id = ?1");
    if (!rc) rc = sqlite3_prepare_v2(db, "SELECT trace_id FROM trace WHERE ref = ?1", -1, &r->trace_id, NULL);
    return rc;
}

static void resolver_free(resolver *r)
{
    name_cache_free(&r->services);
    name_cache_free(&r->operations);
    name_cache_free(&r->resources);
    sqlite3_finalize(r->trace_id);
}

/* Spans of one trace being gathered. */
typedef struct trace_buf {
    sl_span *spans;
    size_t n, cap;
    sl_arena arena;
} trace_buf;

static const char *dup_col(sqlite3_stmt *st, int i, sl_arena *a)
{
    return sl_ids_column_copy(st, i, a, NULL); /* ids in their stored form, text as it is */
}

/* Columns of the export query (prepare_export). */
enum { C_REF, C_SERVICE, C_OPERATION, C_REMOTE, C_RESOURCE, C_SPAN_ID, C_PARENT, C_MESSAGE,
       C_ATTRS, C_SCOPE, C_EVENTS, C_LINKS, C_KIND, C_STATUS, C_FLAGS, C_START, C_DURATION };

static int trace_buf_add(trace_buf *t, sqlite3_stmt *st, resolver *r, const char *trace_id)
{
    if (sl_array_reserve(&t->spans, &t->cap, t->n + 1, sizeof *t->spans, 64)) return -1;
    sl_span *sp = &t->spans[t->n++];
    memset(sp, 0, sizeof *sp);
    sp->trace_id = trace_id; /* owned by the trace buffer's arena */
    const char **strs[] = {&sp->span_id, &sp->parent_span_id, &sp->status_message,
                           &sp->attributes, &sp->scope, &sp->events, &sp->links};
    const int cols[] = {C_SPAN_ID, C_PARENT, C_MESSAGE, C_ATTRS, C_SCOPE, C_EVENTS, C_LINKS};
    for (int i = 0; i < 7; i++) {
        *strs[i] = dup_col(st, cols[i], &t->arena);
        if (!*strs[i] && sqlite3_column_type(st, cols[i]) != SQLITE_NULL) return -1;
    }
    if (name_lookup(&r->services, st, C_SERVICE, &t->arena, &sp->service) ||
        name_lookup(&r->operations, st, C_OPERATION, &t->arena, &sp->operation) ||
        name_lookup(&r->services, st, C_REMOTE, &t->arena, &sp->remote_service) ||
        name_lookup(&r->resources, st, C_RESOURCE, &t->arena, &sp->resource))
        return -1;
    sp->kind = sqlite3_column_int(st, C_KIND);
    sp->status = sqlite3_column_int(st, C_STATUS);
    sp->flags = sqlite3_column_int(st, C_FLAGS);
    sp->start_ns = sqlite3_column_int64(st, C_START);
    sp->duration_ns = sqlite3_column_int64(st, C_DURATION);
    return 0;
}

static void trace_buf_reset(trace_buf *t)
{
    t->n = 0;
    sl_arena_reset(&t->arena);
}

static int prepare_export(sl_db *db, const sl_export_opts *opts, sqlite3_stmt **st)
{
    sl_buf q = SL_BUF_INIT;
    /* Names are resolved through small caches (resolver), not joins: one
     * B-tree lookup per row instead of five. */
    sl_buf_puts(&q,
        "SELECT s.trace_ref, s.service_id, s.operation_id, s.remote_service_id, s.resource_id,"
        " s.span_id, s.parent_span_id, s.status_message, s.attributes, s.scope, s.events,"
        " s.links, s.kind, s.status, s.flags, s.start_ns, s.duration_ns "
        "FROM span s WHERE 1");
    if (opts->trace_id) sl_buf_puts(&q, " AND s.trace_ref = (SELECT ref FROM trace WHERE trace_id = ?1)");
    if (opts->service)
        sl_buf_puts(&q, " AND s.trace_ref IN (SELECT trace_ref FROM trace_service"
                        " WHERE service_id = (SELECT id FROM service WHERE name = ?2))");
    /* Whole traces: a trace is in the window when it starts in it. */
    if (opts->has_since || opts->has_until) {
        sl_buf_puts(&q, " AND s.trace_ref IN (SELECT ref FROM trace WHERE 1");
        if (opts->has_since) sl_buf_puts(&q, " AND start_ns >= ?3");
        if (opts->has_until) sl_buf_puts(&q, " AND start_ns < ?4");
        sl_buf_puts(&q, ")");
    }
    sl_buf_puts(&q, " ORDER BY s.trace_ref, s.start_ns, s.id");
    if (q.oom) return sl_db_fail(db, SL_NOMEM, "out of memory");
    int rc = sqlite3_prepare_v2(db->db, q.p, -1, st, NULL);
    sl_buf_free(&q);
    if (rc) return sl_db_fail(db, SL_ERROR, "export: %s", sqlite3_errmsg(db->db));
    if (opts->trace_id) { /* hex ids are stored lower-case */
        char *id = strdup(opts->trace_id);
        if (id) sl_hex_lower(id);
        sqlite3_bind_text(*st, 1, id ? id : opts->trace_id, -1, id ? free : SQLITE_STATIC);
    }
    if (opts->service) sqlite3_bind_text(*st, 2, opts->service, -1, SQLITE_STATIC);
    if (opts->has_since) sqlite3_bind_int64(*st, 3, opts->since_ns);
    if (opts->has_until) sqlite3_bind_int64(*st, 4, opts->until_ns);
    return SL_OK;
}

static int emit(sl_db *db, const sl_exporter *ex, sl_export_out *o, trace_buf *t, uint64_t *count)
{
    if (!t->n) return SL_OK;
    if (ex->trace(o, t->spans, t->n)) return sl_db_fail(db, SL_IO, "export: write failed");
    o->ntraces++;
    *count += t->n;
    trace_buf_reset(t);
    return SL_OK;
}

int sl_export(sl_db *db, FILE *out, const sl_export_opts *opts, uint64_t *count)
{
    static const sl_export_opts no_opts;
    uint64_t local = 0;
    if (!opts) opts = &no_opts;
    if (!count) count = &local;
    *count = 0;
    const char *name = opts->format ? opts->format : "spans";
    const sl_exporter *ex = sl_exporter_find(name);
    if (!ex) return sl_db_fail(db, SL_INVALID, "unknown export format '%s'", name);

    pthread_mutex_lock(&db->mu);
    sqlite3_stmt *st = NULL;
    sl_export_out o = {out, SL_BUF_INIT, 0, NULL};
    trace_buf t = {NULL, 0, 0, {NULL, NULL}};
    sl_arena_init(&t.arena);
    resolver names;
    memset(&names, 0, sizeof names);
    int rc = SL_OK, in_txn = 0, begun = 0;
    /* One read transaction: a consistent snapshot even while others import.
     * BEGIN fails inside the caller's own transaction: then stop, rather than
     * read outside a snapshot and COMMIT the caller's work at the end. */
    if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sl_db_fail(db, SL_ERROR, "export: BEGIN: %s", sqlite3_errmsg(db->db));
        goto done;
    }
    in_txn = 1;
    rc = resolver_init(&names, db->db) ? sl_db_fail(db, SL_ERROR, "export: %s", sqlite3_errmsg(db->db))
                                       : prepare_export(db, opts, &st);
    begun = rc == SL_OK;
    if (begun && ex->begin && ex->begin(&o)) rc = sl_db_fail(db, SL_IO, "export: write failed");
    int64_t cur = -1;
    const char *trace_id = NULL; /* of cur, in t.arena */
    int step = SQLITE_DONE;
    while (rc == SL_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t ref = sqlite3_column_int64(st, C_REF);
        if (ref != cur) {
            rc = emit(db, ex, &o, &t, count);
            cur = ref;
            sqlite3_bind_int64(names.trace_id, 1, ref);
            trace_id = sqlite3_step(names.trace_id) == SQLITE_ROW
                           ? sl_arena_strdup(&t.arena, (const char *)sqlite3_column_text(names.trace_id, 0))
                           : NULL;
            sqlite3_reset(names.trace_id);
            if (rc == SL_OK && !trace_id) rc = sl_db_fail(db, SL_ERROR, "export: span of a missing trace");
        }
        if (rc == SL_OK && trace_buf_add(&t, st, &names, trace_id))
            rc = sl_db_fail(db, SL_NOMEM, "export: out of memory or unreadable row");
    }
    if (rc == SL_OK && step != SQLITE_DONE)
        rc = sl_db_fail(db, SL_ERROR, "export: %s", sqlite3_errmsg(db->db));
    if (rc == SL_OK) rc = emit(db, ex, &o, &t, count);
    /* end() runs even after a later failure, so a format can release its state. */
    if (begun && ex->end && ex->end(&o) && rc == SL_OK) rc = sl_db_fail(db, SL_IO, "export: write failed");
    if (rc == SL_OK && (sl_export_flush(&o) || fflush(out)))
        rc = sl_db_fail(db, SL_IO, "export: write failed");
done:
    sqlite3_finalize(st);
    resolver_free(&names);
    /* Only reads happened: COMMIT ends the snapshot; if it fails, the
     * transaction must not stay open on the handle. */
    if (in_txn && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        if (rc == SL_OK) rc = sl_db_fail(db, SL_ERROR, "export: COMMIT: %s", sqlite3_errmsg(db->db));
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sl_buf_free(&o.buf);
    free(t.spans);
    sl_arena_release(&t.arena);
    pthread_mutex_unlock(&db->mu);
    return rc;
}
