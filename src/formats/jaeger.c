/*
 * formats/jaeger.c -- Jaeger JSON in and out (format and exporter "jaeger"), as
 * the Jaeger query API and UI write it.
 *
 *   spanlite import --format jaeger trace.json    # {"data":[trace,...]} or a bare trace
 *   spanlite export --format jaeger -o traces.json  # opens in Jaeger UI's upload
 *
 * Import, mapped as docs/formats.md says:
 *   1. A document is {"data":[trace,...]}, a bare trace {"traceID","spans",
 *      "processes"}, or an array of traces (several may follow each other).
 *   2. processes[processID] gives the service (serviceName) and the resource:
 *      {"service.name": serviceName, ...process tags}.  A span's own
 *      "process" object is used when its processID names none.
 *   3. The parent is the first CHILD_OF/FOLLOWS_FROM reference whose span is
 *      in the same trace; failing that, the first reference into the same
 *      trace id (an orphan keeps its parent id, as OTLP does).  Every other
 *      reference becomes a link {"trace_id","span_id","attributes":
 *      {"opentracing.ref_type":"child_of"|"follows_from"}}, as the
 *      OpenTelemetry Jaeger translator makes them.
 *   4. Tags keep their types (string, bool, int64, float64, binary -> attrs.h
 *      rule).  Tags that OpenTelemetry's translator turns into span fields are
 *      taken out of the attributes when they are understood: span.kind ->
 *      kind; otel.scope.name/otel.library.name (+ version) -> scope;
 *      otel.status_code -> status; otel.status_description -> status
 *      message; error=true -> status error (when otel.status_code does not
 *      say otherwise).  The exporter writes them back, so Jaeger round trips
 *      are lossless.
 *   5. startTime and duration are microseconds (exact integer math to ns);
 *      logs become events: timestamp -> time_ns, the first string "event"
 *      field -> name, other fields -> attributes.
 *   6. A span that cannot be stored is rejected with its JSON text and line;
 *      a trace whose processes are bad is rejected whole; broken JSON between
 *      records rejects the rest of the document.  Span flags and warnings are
 *      not kept.
 *   7. An array of traces, and the data array of {"data":[...]}, are
 *      streamed one trace at a time (memory: about twice the biggest trace
 *      plus a 256 KB chunk); a bare trace is read whole.  See "Streaming a
 *      document" below.
 *
 * Export: {"data":[...]} written one trace at a time, processes p1, p2, ...
 * per distinct (service, resource) of the trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/attrs.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/map.h"
#include "formats/docstream.h"
#include "formats/export.h"
#include "formats/format.h"
#include "base/json.h"
#include "base/span.h"

/* ---- Span id set of one trace ---------------------------------------------- */

/* The spanIDs of a trace, as raw text slices of the document (not copied:
 * the set lives while the trace is in the window), compared without case
 * (hex ids).  An sl_map (base/map.h) takes the hash of an id to the first
 * of its entries; entries of equal hash are chained. */
typedef struct idset_entry {
    const char *p;
    size_t len;
    size_t next; /* next entry of the same hash, + 1; 0 ends */
} idset_entry;

typedef struct idset {
    sl_map index; /* id hash -> entry index + 1 */
    idset_entry *e;
    size_t n, cap;
} idset;

/* base/hash.h's hash of the lower-cased id, folded in pieces. */
static uint64_t id_hash(const char *s, size_t n)
{
    char low[64];
    uint64_t h = SL_HASH_INIT;
    while (n) {
        size_t k = n < sizeof low ? n : sizeof low;
        for (size_t i = 0; i < k; i++) {
            char c = s[i];
            low[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        h = sl_hash_bytes(h, low, k);
        s += k;
        n -= k;
    }
    return h;
}

static int idset_has(const idset *s, const char *id)
{
    if (!s->n || !id) return 0;
    size_t n = strlen(id);
    const uint64_t *head = sl_map_get(&s->index, id_hash(id, n));
    for (size_t i = head ? (size_t)*head : 0; i; i = s->e[i - 1].next)
        if (s->e[i - 1].len == n && !strncasecmp(s->e[i - 1].p, id, n)) return 1;
    return 0;
}

static int idset_add(idset *s, const char *id, size_t n)
{
    int created;
    uint64_t *head = sl_map_put(&s->index, id_hash(id, n), &created);
    if (!head) return -1;
    for (size_t i = created ? 0 : (size_t)*head; i; i = s->e[i - 1].next)
        if (s->e[i - 1].len == n && !strncasecmp(s->e[i - 1].p, id, n)) return 0;
    if (sl_array_reserve(&s->e, &s->cap, s->n + 1, sizeof *s->e, 64)) return -1;
    s->e[s->n] = (idset_entry){id, n, created ? 0 : (size_t)*head};
    *head = ++s->n;
    return 0;
}

static void idset_clear(idset *s)
{
    sl_map_clear(&s->index);
    s->n = 0;
}

static void idset_free(idset *s)
{
    sl_map_free(&s->index);
    free(s->e);
}

/* ---- Decoder state ------------------------------------------------------------ */

typedef struct jg_proc {
    const char *id;      /* processID (in proc_tree) */
    const char *service; /* serviceName (in proc_tree) */
    char *resource;      /* resource JSON (owned) */
} jg_proc;

typedef struct jg_dec {
    sl_sink *sink;
    sl_linepos *lines;     /* line numbers in the document window */
    int stop;              /* the sink asked us to stop */
    const char *trace_id;  /* of the trace being read (in trace_id_buf) */
    char *trace_id_buf;
    cJSON *proc_tree;      /* processes of the trace being read */
    jg_proc *procs;
    size_t nprocs, proc_cap;
    idset ids;
    sl_buf attrs, events, links, scope, resource;
    const char *bad;       /* where the scanner failed */
    char err[200];
} jg_dec;

static uint64_t line_at(jg_dec *d, const char *pos) { return sl_linepos_at(d->lines, pos); }

static void reject(jg_dec *d, const char *pos, const char *reason, const char *rec, size_t len)
{
    sl_sink_reject(d->sink, line_at(d, pos), reason, rec, len);
}

static int fail(jg_dec *d, const char *msg, const char *detail)
{
    snprintf(d->err, sizeof d->err, "%s%s", msg, detail ? detail : "");
    return -1;
}

/* ---- Tags -> typed values ---------------------------------------------------- */

/* Append a non-string value as a JSON string of its text. */
static void write_as_string(sl_buf *b, const cJSON *v)
{
    sl_buf t = SL_BUF_INIT;
    sl_jw_cjson(&t, v);
    sl_jw_string(b, t.p ? t.p : "");
    sl_buf_free(&t);
}

/* A tag without a (known) type: keep the JSON value's own type. */
static void write_untyped(sl_buf *b, const cJSON *v)
{
    if (cJSON_IsNumber(v) && sl_json_is_real(v)) sl_attr_write_double(b, v->valuedouble);
    else sl_jw_cjson(b, v);
}

/* Append the stored value of one Jaeger tag {"key","type","value"}. */
static int tag_value(jg_dec *d, sl_buf *b, const cJSON *tag)
{
    const char *type = sl_json_str(tag, "type");
    const cJSON *v = sl_json_get(tag, "value");
    int64_t i;
    double x;
    if (!v || cJSON_IsNull(v)) {
        sl_buf_puts(b, "null");
    } else if (!type) {
        write_untyped(b, v);
    } else if (!strcasecmp(type, "string")) {
        if (sl_attr_type_of(v) == SL_ATTR_STRING) sl_jw_string(b, v->valuestring);
        else write_as_string(b, v);
    } else if (!strcasecmp(type, "bool")) {
        if (cJSON_IsBool(v)) sl_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
        else if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "true")) sl_buf_puts(b, "true");
        else if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "false")) sl_buf_puts(b, "false");
        else return fail(d, "bad bool tag ", sl_json_str(tag, "key"));
    } else if (!strcasecmp(type, "int64")) {
        if (sl_json_int64(v, &i)) return fail(d, "bad int64 tag ", sl_json_str(tag, "key"));
        sl_jw_int(b, i);
    } else if (!strcasecmp(type, "float64")) {
        if (sl_json_double(v, &x)) return fail(d, "bad float64 tag ", sl_json_str(tag, "key"));
        sl_attr_write_double(b, x);
    } else if (!strcasecmp(type, "binary")) {
        if (!cJSON_IsString(v)) return fail(d, "bad binary tag ", sl_json_str(tag, "key"));
        sl_attr_write_bytes(b, v->valuestring);
    } else {
        write_untyped(b, v);
    }
    return 0;
}

/* Append the tags (a Jaeger tag array) as members of an open JSON object,
 * leaving out skip[0..nskip) and tags keyed skip_key.  Returns the count
 * written, or -1. */
static int tags_members(jg_dec *d, sl_buf *b, const cJSON *tags, const cJSON *const *skip,
                        size_t nskip, const char *skip_key, int n)
{
    for (const cJSON *t = cJSON_IsArray(tags) ? tags->child : NULL; t; t = t->next) {
        size_t k = 0;
        while (k < nskip && skip[k] != t) k++;
        if (k < nskip) continue;
        const char *key = sl_json_str(t, "key");
        if (!key) return fail(d, "tag without a key", NULL);
        if (skip_key && !strcmp(key, skip_key)) continue;
        if (n++) sl_buf_putc(b, ',');
        sl_jw_string(b, key);
        sl_buf_putc(b, ':');
        if (tag_value(d, b, t)) return -1;
    }
    return n;
}

/* ---- Processes ------------------------------------------------------------------ */

/* {"service.name": serviceName, ...tags} of a process object into b. */
static int process_resource(jg_dec *d, sl_buf *b, const cJSON *proc, const char **service)
{
    const char *svc = sl_json_str(proc, "serviceName");
    *service = svc && *svc ? svc : "unknown_service";
    sl_buf_reset(b);
    sl_buf_puts(b, "{\"service.name\":");
    sl_jw_string(b, *service);
    if (tags_members(d, b, sl_json_get(proc, "tags"), NULL, 0, "service.name", 1) < 0) return -1;
    sl_buf_putc(b, '}');
    return b->oom ? fail(d, "out of memory", NULL) : 0;
}

static void clear_processes(jg_dec *d)
{
    for (size_t i = 0; i < d->nprocs; i++) free(d->procs[i].resource);
    d->nprocs = 0;
    cJSON_Delete(d->proc_tree);
    d->proc_tree = NULL;
}

static int set_processes(jg_dec *d, const char *p, const char *pe)
{
    clear_processes(d);
    if (!p) return 0;
    if (!(d->proc_tree = sl_json_parse(p, (size_t)(pe - p), d->err, sizeof d->err))) return -1;
    for (const cJSON *m = cJSON_IsObject(d->proc_tree) ? d->proc_tree->child : NULL; m; m = m->next) {
        if (sl_array_reserve(&d->procs, &d->proc_cap, d->nprocs + 1, sizeof *d->procs, 8))
            return fail(d, "out of memory", NULL);
        jg_proc *pr = &d->procs[d->nprocs];
        if (process_resource(d, &d->resource, m, &pr->service)) return -1;
        pr->id = m->string;
        pr->resource = sl_buf_take(&d->resource);
        d->nprocs++;
    }
    return 0;
}

/* Service and resource of a span: its processID, else its own process. */
static int span_process(jg_dec *d, const cJSON *span, sl_span *sp)
{
    const char *pid = sl_json_str(span, "processID");
    for (size_t i = 0; pid && i < d->nprocs; i++) {
        if (!strcmp(d->procs[i].id, pid)) {
            sp->service = d->procs[i].service;
            sp->resource = d->procs[i].resource;
            return 0;
        }
    }
    const cJSON *own = sl_json_get(span, "process");
    if (cJSON_IsObject(own)) {
        if (process_resource(d, &d->resource, own, &sp->service)) return -1;
        sp->resource = d->resource.p;
        return 0;
    }
    return fail(d, "span names no known process", NULL);
}

/* ---- Span ---------------------------------------------------------------------- */

/* A reference's type: 0 child_of, 1 follows_from, -1 unknown. */
static int ref_type(const cJSON *ref)
{
    const char *t = sl_json_str(ref, "refType");
    if (!t || !strcasecmp(t, "CHILD_OF")) return 0;
    if (!strcasecmp(t, "FOLLOWS_FROM")) return 1;
    return -1;
}

/* Lower-cases the ids of ref in place; NULL when it has no spanID. */
static const char *ref_span(const cJSON *ref, const char *trace_id, int *same_trace)
{
    cJSON *sid = sl_json_get(ref, "spanID"), *tid = sl_json_get(ref, "traceID");
    if (!cJSON_IsString(sid) || !*sid->valuestring) return NULL;
    sl_hex_lower(sid->valuestring);
    if (cJSON_IsString(tid)) sl_hex_lower(tid->valuestring);
    *same_trace = !cJSON_IsString(tid) || !strcmp(tid->valuestring, trace_id);
    return sid->valuestring;
}

/* Choose the parent (rule 3) and write the other references as links. */
static int span_references(jg_dec *d, const cJSON *span, sl_span *sp)
{
    const cJSON *refs = sl_json_get(span, "references"), *parent = NULL, *fallback = NULL;
    int same;
    for (const cJSON *r = cJSON_IsArray(refs) ? refs->child : NULL; r; r = r->next) {
        const char *sid = ref_span(r, sp->trace_id, &same);
        if (!sid || ref_type(r) < 0) return fail(d, "bad reference", NULL);
        if (same && !parent && idset_has(&d->ids, sid)) parent = r;
        if (same && !fallback) fallback = r;
    }
    if (!parent) parent = fallback;
    const char *old = sl_json_str(span, "parentSpanID"); /* older Jaeger JSON */
    sp->parent_span_id = parent ? sl_json_str(parent, "spanID") : old && *old && strcmp(old, "0") ? old : NULL;
    sl_buf *b = &d->links;
    sl_buf_reset(b);
    for (const cJSON *r = cJSON_IsArray(refs) ? refs->child : NULL; r; r = r->next) {
        if (r == parent) continue;
        const char *tid = sl_json_str(r, "traceID");
        sl_buf_putc(b, b->len ? ',' : '[');
        sl_buf_puts(b, "{\"trace_id\":");
        sl_jw_string(b, tid ? tid : sp->trace_id);
        sl_buf_puts(b, ",\"span_id\":");
        sl_jw_string(b, sl_json_str(r, "spanID"));
        sl_buf_puts(b, ref_type(r) ? ",\"attributes\":{\"opentracing.ref_type\":\"follows_from\"}}"
                                   : ",\"attributes\":{\"opentracing.ref_type\":\"child_of\"}}");
    }
    if (b->len) sl_buf_putc(b, ']');
    sp->links = b->len ? b->p : NULL;
    return 0;
}

/* logs -> events (rule 5). */
static int span_logs(jg_dec *d, const cJSON *span, sl_span *sp)
{
    const cJSON *logs = sl_json_get(span, "logs");
    sl_buf *b = &d->events;
    sl_buf_reset(b);
    for (const cJSON *l = cJSON_IsArray(logs) ? logs->child : NULL; l; l = l->next) {
        int64_t us;
        if (sl_json_int64(sl_json_get(l, "timestamp"), &us) || us > INT64_MAX / 1000 || us < INT64_MIN / 1000)
            return fail(d, "bad log timestamp", NULL);
        const cJSON *fields = sl_json_get(l, "fields"), *name = NULL;
        for (const cJSON *f = cJSON_IsArray(fields) ? fields->child : NULL; f && !name; f = f->next) {
            const char *k = sl_json_str(f, "key");
            if (k && !strcmp(k, "event") && cJSON_IsString(sl_json_get(f, "value"))) name = f;
        }
        sl_buf_putc(b, b->len ? ',' : '[');
        sl_buf_printf(b, "{\"time_ns\":%lld,\"name\":", (long long)(us * 1000));
        sl_jw_string(b, name ? sl_json_str(name, "value") : "");
        sl_buf_puts(b, ",\"attributes\":{");
        if (tags_members(d, b, fields, &name, name ? 1 : 0, NULL, 0) < 0) return -1;
        sl_buf_puts(b, "}}");
    }
    if (b->len) sl_buf_putc(b, ']');
    sp->events = b->len ? b->p : NULL;
    return 0;
}

/* The tags that become span fields (rule 4). */
typedef struct special_tags {
    const cJSON *kind, *scope_name, *scope_version, *status_code, *status_desc, *error;
    const cJSON *taken[6]; /* the ones consumed */
    size_t ntaken;
} special_tags;

static const cJSON *tag_string(const cJSON *t)
{
    const cJSON *v = sl_json_get(t, "value");
    return cJSON_IsString(v) ? v : NULL;
}

static void find_special(const cJSON *tags, special_tags *s)
{
    memset(s, 0, sizeof *s);
    for (const cJSON *t = cJSON_IsArray(tags) ? tags->child : NULL; t; t = t->next) {
        const char *k = sl_json_str(t, "key");
        if (!k) continue;
        const cJSON **slot = NULL;
        if (!strcmp(k, "span.kind")) slot = &s->kind;
        else if (!strcmp(k, "otel.scope.name") || !strcmp(k, "otel.library.name")) slot = &s->scope_name;
        else if (!strcmp(k, "otel.scope.version") || !strcmp(k, "otel.library.version")) slot = &s->scope_version;
        else if (!strcmp(k, "otel.status_code")) slot = &s->status_code;
        else if (!strcmp(k, "otel.status_description")) slot = &s->status_desc;
        else if (!strcmp(k, "error")) slot = &s->error;
        if (slot && !*slot) *slot = t;
    }
}

static void take(special_tags *s, const cJSON *t) { s->taken[s->ntaken++] = t; }

static int error_is_true(const cJSON *t)
{
    const cJSON *v = sl_json_get(t, "value");
    return cJSON_IsTrue(v) || (cJSON_IsString(v) && !strcasecmp(v->valuestring, "true"));
}

static void apply_special(jg_dec *d, special_tags *s, sl_span *sp)
{
    const cJSON *v;
    int k, coded = 0;
    if ((v = tag_string(s->kind)) && (k = sl_kind_parse(v->valuestring)) > 0) {
        sp->kind = k;
        take(s, s->kind);
    }
    sp->status = SL_STATUS_UNSET;
    if ((v = tag_string(s->status_code)) && (k = sl_status_parse(v->valuestring)) >= 0) {
        sp->status = k;
        coded = 1;
        take(s, s->status_code);
    }
    /* error=true means error unless otel.status_code says otherwise. */
    if (s->error && error_is_true(s->error) && (!coded || sp->status == SL_STATUS_ERROR)) {
        sp->status = SL_STATUS_ERROR;
        take(s, s->error);
    }
    if ((v = tag_string(s->status_desc))) {
        sp->status_message = v->valuestring;
        take(s, s->status_desc);
    }
    const cJSON *name = tag_string(s->scope_name), *version = tag_string(s->scope_version);
    sl_buf *b = &d->scope;
    sl_buf_reset(b);
    if (name) {
        sl_buf_puts(b, "{\"name\":");
        sl_jw_string(b, name->valuestring);
        take(s, s->scope_name);
        if (version && *version->valuestring) {
            sl_buf_puts(b, ",\"version\":");
            sl_jw_string(b, version->valuestring);
            take(s, s->scope_version);
        }
        sl_buf_putc(b, '}');
    }
    sp->scope = b->len ? b->p : NULL;
}

static int span_tags(jg_dec *d, const cJSON *span, sl_span *sp)
{
    const cJSON *tags = sl_json_get(span, "tags");
    special_tags s;
    find_special(tags, &s);
    apply_special(d, &s, sp);
    sl_buf *b = &d->attrs;
    sl_buf_reset(b);
    sl_buf_putc(b, '{');
    int n = tags_members(d, b, tags, s.taken, s.ntaken, NULL, 0);
    if (n < 0) return -1;
    sl_buf_putc(b, '}');
    sp->attributes = n ? b->p : NULL;
    for (const cJSON *t = cJSON_IsArray(tags) ? tags->child : NULL; t; t = t->next) {
        const char *k = sl_json_str(t, "key");
        const cJSON *v = tag_string(t);
        if (k && v && *v->valuestring && !strcmp(k, "peer.service")) {
            sp->remote_service = v->valuestring;
            break;
        }
    }
    return 0;
}

static int span_times(jg_dec *d, const cJSON *span, sl_span *sp)
{
    int64_t start, dur;
    if (sl_json_int64(sl_json_get(span, "startTime"), &start)) return fail(d, "missing or bad startTime", NULL);
    if (sl_json_int64(sl_json_get(span, "duration"), &dur)) return fail(d, "missing or bad duration", NULL);
    if (dur < 0) return fail(d, "negative duration", NULL);
    if (start > INT64_MAX / 1000 || start < INT64_MIN / 1000 || dur > INT64_MAX / 1000)
        return fail(d, "startTime or duration out of range", NULL);
    sp->start_ns = start * 1000;
    sp->duration_ns = dur * 1000;
    return 0;
}

static int span_fill(jg_dec *d, cJSON *span, sl_span *sp)
{
    memset(sp, 0, sizeof *sp);
    if (!cJSON_IsObject(span)) return fail(d, "span is not a JSON object", NULL);
    cJSON *tid = sl_json_get(span, "traceID"), *sid = sl_json_get(span, "spanID");
    if (cJSON_IsString(tid) && *tid->valuestring) sl_hex_lower(tid->valuestring);
    sp->trace_id = cJSON_IsString(tid) && *tid->valuestring ? tid->valuestring : d->trace_id;
    if (!sp->trace_id || !*sp->trace_id) return fail(d, "missing traceID", NULL);
    if (!cJSON_IsString(sid) || !*sid->valuestring) return fail(d, "missing spanID", NULL);
    sl_hex_lower(sid->valuestring);
    sp->span_id = sid->valuestring;
    const char *op = sl_json_str(span, "operationName");
    sp->operation = op ? op : "";
    if (span_times(d, span, sp) || span_process(d, span, sp) || span_references(d, span, sp) ||
        span_tags(d, span, sp) || span_logs(d, span, sp))
        return -1;
    if (d->attrs.oom || d->events.oom || d->links.oom || d->scope.oom) return fail(d, "out of memory", NULL);
    return 0;
}

static void decode_span(jg_dec *d, const char *p, const char *pe)
{
    cJSON *tree = sl_json_parse(p, (size_t)(pe - p), d->err, sizeof d->err);
    sl_span sp;
    const char *why = NULL;
    if (!tree || span_fill(d, tree, &sp)) reject(d, p, d->err, p, (size_t)(pe - p));
    else if ((why = sl_span_check(&sp))) reject(d, p, why, p, (size_t)(pe - p));
    else if (sl_sink_span(d->sink, &sp, line_at(d, p))) d->stop = 1;
    cJSON_Delete(tree);
}

/* ---- Document structure --------------------------------------------------------- */

static int scan_error(jg_dec *d, const sl_jscan *it, const char *what)
{
    d->bad = it->p;
    return fail(d, "invalid JSON in ", what);
}

/* The raw spanID member of the span object at p, or NULL. */
static const char *raw_span_id(const char *p, const char *pe, size_t *n)
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    if (sl_jscan_open(&it, p, pe, '{')) return NULL;
    while (sl_jscan_next(&it, &k, &kl, &v, &ve) == 1) {
        if (sl_jscan_key_is(k, kl, "spanID") && *v == '"') {
            *n = (size_t)(ve - v - 2);
            return v + 1;
        }
    }
    return NULL;
}

/* Pass 1 collects the trace's span ids (for rule 3), pass 2 decodes. */
static int decode_spans(jg_dec *d, const char *p, const char *pe)
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    int r;
    idset_clear(&d->ids);
    if (sl_jscan_open(&it, p, pe, '[')) return 0;
    while ((r = sl_jscan_next(&it, &k, &kl, &v, &ve)) == 1) {
        size_t n;
        const char *id = raw_span_id(v, ve, &n);
        if (id && idset_add(&d->ids, id, n)) return fail(d, "out of memory", NULL);
    }
    if (r < 0) return scan_error(d, &it, "spans");
    sl_jscan_open(&it, p, pe, '[');
    while (!d->stop && sl_jscan_next(&it, &k, &kl, &v, &ve) == 1) decode_span(d, v, ve);
    return 0;
}

static int set_trace_id(jg_dec *d, const char *v, const char *ve)
{
    free(d->trace_id_buf);
    d->trace_id_buf = NULL;
    d->trace_id = NULL;
    if (!v || *v != '"') return 0;
    cJSON *t = sl_json_parse(v, (size_t)(ve - v), d->err, sizeof d->err);
    if (!t) return -1;
    if (cJSON_IsString(t) && (d->trace_id_buf = strdup(t->valuestring))) sl_hex_lower(d->trace_id_buf);
    d->trace_id = d->trace_id_buf;
    cJSON_Delete(t);
    return 0;
}

static int decode_value(jg_dec *d, const char *p, const char *pe, int depth);

static int decode_array(jg_dec *d, const char *p, const char *pe, int depth)
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    int r;
    sl_jscan_open(&it, p, pe, '[');
    while (!d->stop && (r = sl_jscan_next(&it, &k, &kl, &v, &ve)) == 1)
        if (decode_value(d, v, ve, depth + 1)) return -1;
    return d->stop || r >= 0 ? 0 : scan_error(d, &it, "data");
}

/* A trace, a {"data": [...]} wrapper, or an array of traces. */
static int decode_value(jg_dec *d, const char *p, const char *pe, int depth)
{
    sl_jscan it;
    const char *k, *v, *ve, *data = NULL, *data_e = NULL, *spans = NULL, *spans_e = NULL;
    const char *procs = NULL, *procs_e = NULL, *tid = NULL, *tid_e = NULL;
    size_t kl;
    int r;
    if (*p == '[' && depth < 2) return decode_array(d, p, pe, depth);
    if (sl_jscan_open(&it, p, pe, '{')) {
        reject(d, p, "not a Jaeger trace object", p, (size_t)(pe - p));
        return 0;
    }
    while ((r = sl_jscan_next(&it, &k, &kl, &v, &ve)) == 1) {
        if (sl_jscan_key_is(k, kl, "data")) data = v, data_e = ve;
        else if (sl_jscan_key_is(k, kl, "spans")) spans = v, spans_e = ve;
        else if (sl_jscan_key_is(k, kl, "processes")) procs = v, procs_e = ve;
        else if (sl_jscan_key_is(k, kl, "traceID")) tid = v, tid_e = ve;
    }
    if (r < 0) return scan_error(d, &it, "trace");
    if (data && *data == '[' && !spans && depth < 2) return decode_array(d, data, data_e, depth);
    if (!spans) {
        if (!data) reject(d, p, "not a Jaeger trace (no spans)", p, (size_t)(pe - p));
        return 0;
    }
    if (set_trace_id(d, tid, tid_e) || set_processes(d, procs, procs_e)) {
        char why[sizeof d->err + 32];
        snprintf(why, sizeof why, "trace processes: %s", d->err);
        reject(d, p, why, p, (size_t)(pe - p));
        return 0;
    }
    return decode_spans(d, spans, spans_e);
}

/* ---- Streaming a document ----------------------------------------------------
 *
 * Rule 1's documents pass through a window, run by the document driver
 * (formats/docstream.h: it drops, reads more, keeps line numbers and
 * rejects the rest after broken JSON).  An array of traces,
 * and a {"data": [...]} wrapper whose first "data" or "spans" member is the
 * data array, are walked one element at a time: each trace is decoded by
 * decode_value() once it is whole in the window, then dropped, so memory
 * stays within about twice the biggest trace plus a chunk (256 KB).  Any
 * other value (a bare trace, a wrapper with "spans" first) is read whole, as
 * one record.  A step that meets the window's end changes nothing but the
 * window and asks for more; it at least doubles what the window holds, so
 * re-scans cost linear time overall.
 *
 * Broken JSON rejects the rest of the input from the break, with the same
 * messages as when the document was read whole.  Brackets that do not match
 * look like a trace cut off, so they are only found once the input ends:
 * the traces before that one are imported, it and the rest are rejected
 * ("invalid JSON at line N", N being the line where it starts).
 */

#ifndef JG_CHUNK /* a seam: the unit test compiles this file with a tiny window */
#define JG_CHUNK (256u << 10)
#endif

/* Where the walk is: between top-level values, in the streamed array of
 * traces, or in the wrapper's members after its data array. */
enum { JM_TOP, JM_ARRAY, JM_WRAP };

/* The walk's state; a step answers SL_DOC_* (formats/docstream.h), on
 * SL_DOC_FAIL with the broken JSON at d->bad and the message in d->err. */
typedef struct jg_stream {
    jg_dec *d;
    sl_docstream *ds; /* the window: ds->w.buf[0, ds->pos) is consumed */
    int mode;     /* JM_* */
    int n;        /* elements (JM_ARRAY) or members (JM_WRAP) walked so far */
    int wrapped;  /* the array is a wrapper's data: its members follow */
    int wrap_n;   /* members of the wrapper up to and with data */
} jg_stream;

/* Did the scanner stop at at because the window ends, not because the JSON
 * is wrong?  (At the window's end, on a key whose closing quote is not there
 * yet, or on part of a byte order mark.) */
static int cut_off(const jg_stream *s, const char *at, const char *end)
{
    return !s->ds->w.eof && (at >= end || (*at == '"' && !sl_jscan_skip(at, end)) ||
                         (end - at < 3 && !memcmp(at, "\xEF\xBB\xBF", (size_t)(end - at))));
}

/* Is a value scanned to ve whole?  One ending at the window's end may be a
 * number that goes on. */
static int whole(const jg_stream *s, const char *ve, const char *end)
{
    return ve && (ve < end || s->ds->w.eof);
}

/* A value whose end the scanner cannot find: more input may bring it,
 * unless it is a scalar of no bytes (a stray ',' '}' ':'). */
static int unfinished(jg_dec *d, const jg_stream *s, const char *v, const char *what)
{
    if (!strchr("{[\"", *v) && !sl_jscan_skip(v, s->ds->w.buf + s->ds->w.len)) {
        d->bad = v;
        return fail(d, "invalid JSON in ", what);
    }
    if (!s->ds->w.eof) return SL_DOC_MORE;
    d->bad = v;
    return fail(d, "invalid JSON", NULL);
}

/* A top-level value read whole (rule 1's bare trace, and the rest). */
static int step_whole(jg_dec *d, jg_stream *s, const char *p, const char *end)
{
    const char *ve = sl_jscan_skip(p, end);
    if (!whole(s, ve, end)) {
        if (!s->ds->w.eof) return SL_DOC_MORE;
        d->bad = p;
        return fail(d, "invalid JSON", NULL);
    }
    if (decode_value(d, p, ve, 0)) return SL_DOC_FAIL;
    s->ds->pos = (size_t)(ve - s->ds->w.buf);
    return SL_DOC_STEP;
}

/* The object at p: a wrapper to stream when its data array comes before
 * any "spans" member; else it is read whole. */
static int step_object(jg_dec *d, jg_stream *s, const char *p, const char *end)
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    int r;
    sl_jscan_open(&it, p, end, '{');
    while ((r = sl_jscan_enter(&it, &k, &kl, &v)) == 1) {
        if (sl_jscan_key_is(k, kl, "spans")) break;
        if (sl_jscan_key_is(k, kl, "data") && *v == '[') {
            s->mode = JM_ARRAY;
            s->n = 0;
            s->wrapped = 1;
            s->wrap_n = it.n;
            s->ds->pos = (size_t)(v + 1 - s->ds->w.buf);
            return SL_DOC_STEP;
        }
        ve = sl_jscan_skip(v, end);
        if (!whole(s, ve, end)) {
            if (!s->ds->w.eof) return SL_DOC_MORE;
            break;
        }
        sl_jscan_resume(&it, ve);
    }
    if (r < 0 && cut_off(s, it.p, end)) return SL_DOC_MORE;
    return step_whole(d, s, p, end);
}

static int step_top(jg_dec *d, jg_stream *s, const char *p, const char *end)
{
    p = sl_jscan_ws(p, end);
    s->ds->pos = (size_t)(p - s->ds->w.buf);
    if (p == end) return s->ds->w.eof ? SL_DOC_DONE : SL_DOC_MORE;
    if (*p == '[') {
        s->mode = JM_ARRAY;
        s->n = 0;
        s->wrapped = 0;
        s->ds->pos++;
        return SL_DOC_STEP;
    }
    if (*p == '{') return step_object(d, s, p, end);
    return step_whole(d, s, p, end);
}

/* The next trace of the streamed array, decoded once it is whole. */
static int step_array(jg_dec *d, jg_stream *s, const char *p, const char *end)
{
    sl_jscan it = {p, end, ']', s->n};
    const char *k, *v, *ve;
    size_t kl;
    int r = sl_jscan_enter(&it, &k, &kl, &v);
    if (r < 0) return cut_off(s, it.p, end) ? SL_DOC_MORE : scan_error(d, &it, "data");
    if (r == 0) {
        s->mode = s->wrapped ? JM_WRAP : JM_TOP;
        s->n = s->wrap_n;
        s->ds->pos = (size_t)(it.p - s->ds->w.buf);
        return SL_DOC_STEP;
    }
    ve = sl_jscan_skip(v, end);
    if (!whole(s, ve, end)) return unfinished(d, s, v, "data");
    if (decode_value(d, v, ve, 1)) return SL_DOC_FAIL;
    s->n = it.n;
    s->ds->pos = (size_t)(ve - s->ds->w.buf);
    return SL_DOC_STEP;
}

/* The wrapper's members after its data array: skipped. */
static int step_wrap(jg_dec *d, jg_stream *s, const char *p, const char *end)
{
    sl_jscan it = {p, end, '}', s->n};
    const char *k, *v, *ve;
    size_t kl;
    int r = sl_jscan_enter(&it, &k, &kl, &v);
    if (r < 0) return cut_off(s, it.p, end) ? SL_DOC_MORE : scan_error(d, &it, "trace");
    if (r == 0) {
        s->mode = JM_TOP;
        s->ds->pos = (size_t)(it.p - s->ds->w.buf);
        return SL_DOC_STEP;
    }
    ve = sl_jscan_skip(v, end);
    if (!whole(s, ve, end)) return unfinished(d, s, v, "trace");
    s->n = it.n;
    s->ds->pos = (size_t)(ve - s->ds->w.buf);
    return SL_DOC_STEP;
}

static int stream_step(void *ctx, sl_docstream *ds)
{
    jg_stream *s = ctx;
    jg_dec *d = s->d;
    const char *p = ds->w.buf + ds->pos, *end = ds->w.buf + ds->w.len;
    int r;
    if (s->mode == JM_ARRAY) r = step_array(d, s, p, end);
    else if (s->mode == JM_WRAP) r = step_wrap(d, s, p, end);
    else r = step_top(d, s, p, end);
    if (r == SL_DOC_FAIL) {
        /* Broken JSON at d->bad: it and the rest of the input are rejected. */
        ds->bad = d->bad;
        snprintf(ds->why, sizeof ds->why, "%s at line %llu", d->err,
                 (unsigned long long)line_at(d, d->bad));
    }
    return r;
}

static void stream_reject(void *ctx, uint64_t line, const char *why, const char *text, size_t len)
{
    jg_stream *s = ctx;
    sl_sink_reject(s->d->sink, line, why, text, len);
}

static const sl_docformat jg_document = {stream_step, stream_reject};

static void dec_free(jg_dec *d)
{
    clear_processes(d);
    free(d->procs);
    free(d->trace_id_buf);
    idset_free(&d->ids);
    sl_buf_free(&d->attrs);
    sl_buf_free(&d->events);
    sl_buf_free(&d->links);
    sl_buf_free(&d->scope);
    sl_buf_free(&d->resource);
}

static int jaeger_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    jg_dec d;
    jg_stream s;
    sl_docstream ds;
    memset(&d, 0, sizeof d);
    memset(&s, 0, sizeof s);
    d.sink = sink;
    s.d = &d;
    s.ds = &ds;
    sl_docstream_init(&ds, JG_CHUNK);
    d.lines = &ds.w.lines;
    int rc = sl_docstream_run(&ds, in, &jg_document, &s, &d.stop, err, errlen);
    d.lines = NULL;
    sl_docstream_free(&ds);
    dec_free(&d);
    return rc;
}

static int jaeger_detect(const char *head, size_t len)
{
    const char *p = sl_jscan_ws(head, head + len);
    if (p >= head + len || (*p != '{' && *p != '[')) return 0;
    size_t rest = (size_t)(head + len - p);
    if (!memmem(p, rest, "\"traceID\"", 9)) return 0;
    if (memmem(p, rest, "\"spanID\"", 8) || memmem(p, rest, "\"processes\"", 11)) return 90;
    if (memmem(p, rest, "\"spans\"", 7) || memmem(p, rest, "\"data\"", 6)) return 80;
    return 0;
}

const sl_format sl_format_jaeger = {"jaeger", jaeger_detect, jaeger_decode};

/* ---- Export ------------------------------------------------------------------ */

/* Processes of the trace being written: distinct (service, resource). */
typedef struct jg_out {
    size_t *proc; /* process index of each span */
    size_t *first; /* first span of each process */
    size_t proc_cap, first_cap;
} jg_out;

static int same_str(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static size_t assign_processes(jg_out *s, const sl_span *spans, size_t n)
{
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < np && !(same_str(spans[s->first[k]].service, spans[i].service) &&
                           same_str(spans[s->first[k]].resource, spans[i].resource)))
            k++;
        if (k == np) s->first[np++] = i;
        s->proc[i] = k;
    }
    return np;
}

/* {"key":k,"type":t,"value":v} for a stored value. */
static void write_tag(sl_buf *b, const char *key, const cJSON *v)
{
    int64_t i = 0;
    sl_buf_puts(b, "{\"key\":");
    sl_jw_string(b, key);
    switch (sl_attr_type_of(v)) {
    case SL_ATTR_BOOL:
        sl_buf_puts(b, cJSON_IsTrue(v) ? ",\"type\":\"bool\",\"value\":true}" : ",\"type\":\"bool\",\"value\":false}");
        return;
    case SL_ATTR_INT:
        sl_attr_int(v, &i);
        sl_buf_printf(b, ",\"type\":\"int64\",\"value\":%lld}", (long long)i);
        return;
    case SL_ATTR_DOUBLE:
        sl_buf_puts(b, ",\"type\":\"float64\",\"value\":");
        sl_jw_double(b, sl_attr_double(v));
        break;
    case SL_ATTR_BYTES:
        sl_buf_puts(b, ",\"type\":\"binary\",\"value\":");
        sl_jw_string(b, sl_attr_bytes(v));
        break;
    case SL_ATTR_STRING:
        sl_buf_puts(b, ",\"type\":\"string\",\"value\":");
        sl_jw_string(b, v->valuestring);
        break;
    case SL_ATTR_EMPTY:
        sl_buf_puts(b, ",\"type\":\"string\",\"value\":null");
        break;
    case SL_ATTR_ARRAY:
    case SL_ATTR_KVLIST: /* as the OpenTelemetry translator: JSON text in a string */
        sl_buf_puts(b, ",\"type\":\"string\",\"value\":");
        write_as_string(b, v);
        break;
    }
    sl_buf_putc(b, '}');
}

static void write_string_tag(sl_buf *b, const char *key, const char *value, int *n)
{
    if (!value) return;
    if ((*n)++) sl_buf_putc(b, ',');
    sl_buf_puts(b, "{\"key\":");
    sl_jw_string(b, key);
    sl_buf_puts(b, ",\"type\":\"string\",\"value\":");
    sl_jw_string(b, value);
    sl_buf_putc(b, '}');
}

/* Members of a stored object as tags (appended after *n tags). */
static void write_tags(sl_buf *b, const cJSON *obj, const char *skip_key, int *n)
{
    for (const cJSON *c = cJSON_IsObject(obj) ? obj->child : NULL; c; c = c->next) {
        if (skip_key && c->string && !strcmp(c->string, skip_key)) continue;
        if ((*n)++) sl_buf_putc(b, ',');
        write_tag(b, c->string ? c->string : "", c);
    }
}

static cJSON *parse_stored(const char *json) { return json ? sl_json_parse(json, strlen(json), NULL, 0) : NULL; }

/* Span fields that Jaeger keeps in tags (rule 4, backwards). */
static void write_span_tags(sl_buf *b, const sl_span *sp)
{
    cJSON *a = parse_stored(sp->attributes), *sc = parse_stored(sp->scope);
    int n = 0;
    sl_buf_puts(b, ",\"tags\":[");
    write_tags(b, a, NULL, &n);
    if (sp->kind != SL_KIND_UNSPECIFIED) write_string_tag(b, "span.kind", sl_kind_name(sp->kind), &n);
    write_string_tag(b, "otel.scope.name", sl_json_str(sc, "name"), &n);
    write_string_tag(b, "otel.scope.version", sl_json_str(sc, "version"), &n);
    if (sp->status == SL_STATUS_ERROR) {
        sl_buf_puts(b, n++ ? "," : "");
        sl_buf_puts(b, "{\"key\":\"error\",\"type\":\"bool\",\"value\":true}");
    }
    /* UNSET is spelled out only where an error attribute would say otherwise. */
    if (sp->status != SL_STATUS_UNSET || sl_json_get(a, "error"))
        write_string_tag(b, "otel.status_code", sp->status == SL_STATUS_OK ? "OK"
                                               : sp->status == SL_STATUS_ERROR ? "ERROR" : "UNSET", &n);
    write_string_tag(b, "otel.status_description", sp->status_message, &n);
    if (sp->remote_service && !sl_json_get(a, "peer.service"))
        write_string_tag(b, "peer.service", sp->remote_service, &n);
    sl_buf_putc(b, ']');
    cJSON_Delete(a);
    cJSON_Delete(sc);
}

static void write_ref(sl_buf *b, const char *type, const char *trace_id, const char *span_id, int *n)
{
    if ((*n)++) sl_buf_putc(b, ',');
    sl_buf_puts(b, "{\"refType\":\"");
    sl_buf_puts(b, type);
    sl_buf_puts(b, "\",\"traceID\":");
    sl_jw_string(b, trace_id);
    sl_buf_puts(b, ",\"spanID\":");
    sl_jw_string(b, span_id);
    sl_buf_putc(b, '}');
}

/* The parent first (as the OpenTelemetry translator requires), then links. */
static void write_references(sl_buf *b, const sl_span *sp)
{
    int n = 0;
    sl_buf_puts(b, ",\"references\":[");
    if (sp->parent_span_id && *sp->parent_span_id) write_ref(b, "CHILD_OF", sp->trace_id, sp->parent_span_id, &n);
    cJSON *links = parse_stored(sp->links);
    for (const cJSON *l = cJSON_IsArray(links) ? links->child : NULL; l; l = l->next) {
        const char *rt = sl_json_str(sl_json_get(l, "attributes"), "opentracing.ref_type");
        const char *tid = sl_json_str(l, "trace_id"), *sid = sl_json_str(l, "span_id");
        if (sid) write_ref(b, rt && !strcmp(rt, "child_of") ? "CHILD_OF" : "FOLLOWS_FROM", tid ? tid : sp->trace_id, sid, &n);
    }
    sl_buf_putc(b, ']');
    cJSON_Delete(links);
}

static void write_logs(sl_buf *b, const sl_span *sp)
{
    cJSON *ev = parse_stored(sp->events);
    sl_buf_puts(b, ",\"logs\":[");
    for (const cJSON *e = cJSON_IsArray(ev) ? ev->child : NULL; e; e = e->next) {
        int64_t t = 0;
        sl_json_int64(sl_json_get(e, "time_ns"), &t);
        const char *name = sl_json_str(e, "name");
        const cJSON *attrs = sl_json_get(e, "attributes");
        int n = 0;
        if (e != ev->child) sl_buf_putc(b, ',');
        sl_buf_printf(b, "{\"timestamp\":%lld,\"fields\":[", (long long)(t / 1000));
        /* An "event" attribute would be taken for the name: write the name first. */
        if ((name && *name) || sl_json_get(attrs, "event")) write_string_tag(b, "event", name ? name : "", &n);
        write_tags(b, attrs, NULL, &n);
        sl_buf_puts(b, "]}");
    }
    sl_buf_putc(b, ']');
    cJSON_Delete(ev);
}

static void write_span(sl_buf *b, const sl_span *sp, size_t proc)
{
    sl_buf_puts(b, "{\"traceID\":");
    sl_jw_string(b, sp->trace_id);
    sl_buf_puts(b, ",\"spanID\":");
    sl_jw_string(b, sp->span_id);
    sl_buf_puts(b, ",\"operationName\":");
    sl_jw_string(b, sp->operation ? sp->operation : "");
    write_references(b, sp);
    sl_buf_printf(b, ",\"startTime\":%lld,\"duration\":%lld", (long long)(sp->start_ns / 1000),
                  (long long)(sp->duration_ns / 1000));
    write_span_tags(b, sp);
    write_logs(b, sp);
    sl_buf_printf(b, ",\"processID\":\"p%zu\",\"warnings\":null}", proc + 1);
}

static void write_process(sl_buf *b, const sl_span *sp, size_t k)
{
    cJSON *r = parse_stored(sp->resource);
    int n = 0;
    sl_buf_printf(b, "%s\"p%zu\":{\"serviceName\":", k ? "," : "", k + 1);
    sl_jw_string(b, sp->service ? sp->service : "unknown_service");
    sl_buf_puts(b, ",\"tags\":[");
    write_tags(b, r, "service.name", &n);
    sl_buf_puts(b, "]}");
    cJSON_Delete(r);
}

static int jaeger_begin(sl_export_out *o)
{
    sl_buf_puts(&o->buf, "{\"data\":[");
    return o->buf.oom ? -1 : 0;
}

static int jaeger_trace(sl_export_out *o, const sl_span *spans, size_t n)
{
    jg_out *s = o->state;
    if (!s && !(s = o->state = calloc(1, sizeof *s))) return -1;
    if (sl_array_reserve(&s->proc, &s->proc_cap, n, sizeof *s->proc, 64) ||
        sl_array_reserve(&s->first, &s->first_cap, n, sizeof *s->first, 64))
        return -1;
    size_t np = assign_processes(s, spans, n);
    sl_buf *b = &o->buf;
    if (o->ntraces) sl_buf_putc(b, ',');
    sl_buf_puts(b, "\n{\"traceID\":");
    sl_jw_string(b, n ? spans[0].trace_id : "");
    sl_buf_puts(b, ",\"spans\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) sl_buf_putc(b, ',');
        write_span(b, &spans[i], s->proc[i]);
    }
    sl_buf_puts(b, "],\"processes\":{");
    for (size_t k = 0; k < np; k++) write_process(b, &spans[s->first[k]], k);
    sl_buf_puts(b, "},\"warnings\":null}");
    if (b->oom) return -1;
    return sl_export_flush(o);
}

static int jaeger_end(sl_export_out *o)
{
    jg_out *s = o->state;
    if (s) {
        free(s->proc);
        free(s->first);
        free(s);
        o->state = NULL;
    }
    sl_buf_puts(&o->buf, "\n],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}\n");
    return o->buf.oom ? -1 : 0;
}

const sl_exporter sl_exporter_jaeger = {"jaeger", jaeger_begin, jaeger_trace, jaeger_end};
