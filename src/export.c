/*
 * export.c -- sl_export(): select spans, group them by trace, and hand each
 * trace to the chosen format's writer (export.h).  Also the native `spans`
 * writer.  Rows come in (trace, start) order straight off the span_identity
 * index, so the export streams: memory is one trace, not the warehouse.
 */
#include "export.h"
#include "arena.h"
#include "json.h"
#include "span.h"
#include "warehouse.h"

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

/* Spans of one trace being gathered. */
typedef struct trace_buf {
    sl_span *spans;
    size_t n, cap;
    sl_arena arena;
} trace_buf;

static const char *dup_col(sqlite3_stmt *st, int i, sl_arena *a)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? sl_arena_strdup(a, v) : NULL;
}

static int trace_buf_add(trace_buf *t, sqlite3_stmt *st)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        sl_span *s = realloc(t->spans, cap * sizeof *s);
        if (!s) return -1;
        t->spans = s;
        t->cap = cap;
    }
    sl_span *sp = &t->spans[t->n++];
    memset(sp, 0, sizeof *sp);
    const char **strs[] = {&sp->trace_id, &sp->span_id, &sp->parent_span_id, &sp->service,
                           &sp->operation, &sp->remote_service, &sp->status_message,
                           &sp->attributes, &sp->resource, &sp->scope, &sp->events, &sp->links};
    for (int i = 0; i < 12; i++) {
        *strs[i] = dup_col(st, i + 1, &t->arena);
        if (!*strs[i] && sqlite3_column_type(st, i + 1) != SQLITE_NULL) return -1;
    }
    sp->kind = sqlite3_column_int(st, 13);
    sp->status = sqlite3_column_int(st, 14);
    sp->flags = sqlite3_column_int(st, 15);
    sp->start_ns = sqlite3_column_int64(st, 16);
    sp->duration_ns = sqlite3_column_int64(st, 17);
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
    sl_buf_puts(&q,
        "SELECT s.trace_ref, t.trace_id, s.span_id, s.parent_span_id, sv.name, o.name, rs.name,"
        " s.status_message, s.attributes, r.attributes, s.scope, s.events, s.links,"
        " s.kind, s.status, s.flags, s.start_ns, s.duration_ns "
        "FROM span s JOIN trace t ON t.ref = s.trace_ref "
        "JOIN service sv ON sv.id = s.service_id JOIN operation o ON o.id = s.operation_id "
        "LEFT JOIN resource r ON r.id = s.resource_id "
        "LEFT JOIN service rs ON rs.id = s.remote_service_id WHERE 1");
    if (opts->trace_id) sl_buf_puts(&q, " AND t.trace_id = ?1");
    if (opts->service)
        sl_buf_puts(&q, " AND s.trace_ref IN (SELECT trace_ref FROM trace_service"
                        " WHERE service_id = (SELECT id FROM service WHERE name = ?2))");
    /* Whole traces: a trace is in the window when it starts in it. */
    if (opts->has_since) sl_buf_puts(&q, " AND t.start_ns >= ?3");
    if (opts->has_until) sl_buf_puts(&q, " AND t.start_ns < ?4");
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
    /* One read transaction: a consistent snapshot even while others import. */
    sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL);
    int rc = prepare_export(db, opts, &st);
    int begun = rc == SL_OK;
    if (begun && ex->begin && ex->begin(&o)) rc = sl_db_fail(db, SL_IO, "export: write failed");
    int64_t cur = -1;
    int step = SQLITE_DONE;
    while (rc == SL_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t ref = sqlite3_column_int64(st, 0);
        if (ref != cur) {
            rc = emit(db, ex, &o, &t, count);
            cur = ref;
        }
        if (rc == SL_OK && trace_buf_add(&t, st)) rc = sl_db_fail(db, SL_NOMEM, "out of memory");
    }
    if (rc == SL_OK && step != SQLITE_DONE)
        rc = sl_db_fail(db, SL_ERROR, "export: %s", sqlite3_errmsg(db->db));
    if (rc == SL_OK) rc = emit(db, ex, &o, &t, count);
    /* end() runs even after a later failure, so a format can release its state. */
    if (begun && ex->end && ex->end(&o) && rc == SL_OK) rc = sl_db_fail(db, SL_IO, "export: write failed");
    if (rc == SL_OK && (sl_export_flush(&o) || fflush(out)))
        rc = sl_db_fail(db, SL_IO, "export: write failed");
    sqlite3_finalize(st);
    sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    sl_buf_free(&o.buf);
    free(t.spans);
    sl_arena_release(&t.arena);
    pthread_mutex_unlock(&db->mu);
    return rc;
}
