/*
 * fmt_otlp.c -- OTLP JSON in and out (format and exporter "otlp").
 *
 *   spanlite import --format otlp traces.json      # TracesData document(s)
 *   spanlite import collector-file-exporter.jsonl   # one TracesData per line
 *   spanlite export --format otlp -o traces.jsonl   # one TracesData per trace
 *
 * Import (opentelemetry-proto docs/specification.md, "JSON Protobuf
 * Encoding"), mapped as docs/formats.md says:
 *   1. resourceSpans -> scopeSpans -> spans; also the legacy
 *      instrumentationLibrarySpans/instrumentationLibrary, Grafana Tempo's
 *      "batches", Tempo v2's {"trace": TracesData}, and snake_case keys.
 *   2. Ids: hex, lower-cased; base64 ids of 8 or 16 bytes (Tempo) become hex.
 *      An empty or absent parentSpanId is a root.
 *   3. 64-bit integers as strings or numbers, read exactly (sl_json_int64).
 *      kind and status.code as integers or enum names.
 *   4. Attribute values keep their type (attrs.h rule); service is the
 *      resource's service.name, else "unknown_service".
 *   5. Input is either JSON Lines (the first line, within the first 256 KB,
 *      holds a complete JSON value: read line by line, memory bounded by the
 *      longest line) or a document (read once; each span is found by
 *      sl_jscan and parsed alone, so memory is the document plus one span).
 *   6. A span that cannot be stored is rejected with its own JSON text and
 *      line; a resourceSpans/scopeSpans element whose resource or scope is
 *      bad is rejected whole; JSON that is broken between records rejects
 *      the line (JSON Lines) or the rest of the document.  Everything else
 *      is imported.
 *
 * Export: one TracesData per trace and line (what the collector's file
 * exporter writes and its otlpjsonfile receiver reads), spans grouped by
 * (service, resource) then scope, in order of first appearance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "export.h"
#include "format.h"
#include "json.h"
#include "span.h"

#define OTLP_PEEK (256u << 10) /* head examined to tell JSON Lines from a document */

/* ---- Ids ---------------------------------------------------------------- */

static int b64_digit(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decode base64 s into out (up to cap bytes).  Returns the byte count, or -1. */
static int b64_decode(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int d = b64_digit(*s);
        if (d < 0) return -1;
        acc = (acc << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap) return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    while (*s == '=') s++;
    return *s ? -1 : (int)n;
}

static int all_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
            return 0;
    return 1;
}

/* Rule 2: an id as stored.  Hex ids are lower-cased in place; an id that is
 * base64 of 8 or 16 bytes becomes hex in out; anything else is kept. */
static const char *norm_id(cJSON *item, char out[33])
{
    if (!cJSON_IsString(item)) return NULL;
    char *s = item->valuestring, *p;
    int upper = 0;
    for (p = s; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'); p++)
        upper |= *p <= 'F' && *p >= 'A';
    if (!*p) { /* all hex: one pass to check, another only if there is case to fold */
        if (upper) sl_hex_lower(s);
        return s;
    }
    unsigned char raw[16];
    int n = b64_decode(s, raw, sizeof raw);
    if (n != 8 && n != 16) return s;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

/* ---- Decoder state ------------------------------------------------------ */

typedef struct otlp_dec {
    sl_sink *sink;
    int one_line;           /* JSON Lines: every position is on lines.base_line */
    sl_linepos lines;       /* line numbers in base */
    int stop;               /* the sink asked us to stop */
    const char *service;    /* of the resource in effect (points into res_tree) */
    cJSON *res_tree;        /* parsed resource in effect */
    int has_resource, has_scope;
    sl_buf resource;        /* resource attributes JSON in effect */
    sl_buf scope;           /* scope JSON in effect */
    sl_buf attrs, events, links; /* of the span being built */
    const char *bad;        /* where the scanner failed */
    char err[200];
} otlp_dec;

static uint64_t line_at(otlp_dec *d, const char *pos)
{
    return d->one_line ? d->lines.base_line : sl_linepos_at(&d->lines, pos);
}

static void reject(otlp_dec *d, const char *pos, const char *reason, const char *rec, size_t len)
{
    sl_sink_reject(d->sink, line_at(d, pos), reason, rec, len);
}

/* Member names in their lowerCamelCase and snake_case spellings. */
static int key_is(const char *key, size_t klen, const char *camel, const char *snake)
{
    return sl_jscan_key_is(key, klen, camel) || (snake && sl_jscan_key_is(key, klen, snake));
}

static cJSON *get2(const cJSON *obj, const char *camel, const char *snake)
{
    cJSON *v = sl_json_get(obj, camel);
    return v ? v : sl_json_get(obj, snake);
}

/* ---- Span --------------------------------------------------------------- */

enum { F_TRACE, F_SPAN, F_PARENT, F_NAME, F_KIND, F_START, F_END, F_ATTRS, F_EVENTS, F_LINKS,
       F_STATUS, F_COUNT };

static const struct {
    const char *camel, *snake;
} span_fields[F_COUNT] = {
    [F_TRACE] = {"traceId", "trace_id"},
    [F_SPAN] = {"spanId", "span_id"},
    [F_PARENT] = {"parentSpanId", "parent_span_id"},
    [F_NAME] = {"name", NULL},
    [F_KIND] = {"kind", NULL},
    [F_START] = {"startTimeUnixNano", "start_time_unix_nano"},
    [F_END] = {"endTimeUnixNano", "end_time_unix_nano"},
    [F_ATTRS] = {"attributes", NULL},
    [F_EVENTS] = {"events", NULL},
    [F_LINKS] = {"links", NULL},
    [F_STATUS] = {"status", NULL},
};

/* The members of a span object, found in one pass. */
static void span_members(const cJSON *span, cJSON *f[F_COUNT])
{
    memset(f, 0, sizeof(cJSON *) * F_COUNT);
    for (cJSON *m = span->child; m; m = m->next) {
        if (!m->string) continue;
        for (int i = 0; i < F_COUNT; i++) {
            if (m->string[0] != span_fields[i].camel[0]) continue; /* both spellings share it */
            if (!f[i] && (!strcmp(m->string, span_fields[i].camel) ||
                          (span_fields[i].snake && !strcmp(m->string, span_fields[i].snake)))) {
                f[i] = m;
                break;
            }
        }
    }
}

/* An enum given as an integer or by name; -1 when neither. */
static int enum_value(const cJSON *v, int (*parse)(const char *), int max)
{
    int64_t i;
    if (cJSON_IsNumber(v) && sl_json_int64(v, &i) == 0) return i >= 0 && i <= max ? (int)i : 0;
    if (cJSON_IsString(v)) {
        int k = parse(v->valuestring);
        return k >= 0 ? k : 0;
    }
    return v ? -1 : 0;
}

/* The string value of attribute key in a KeyValue array, or NULL. */
static const char *kv_string(const cJSON *kvs, const char *key)
{
    for (const cJSON *kv = cJSON_IsArray(kvs) ? kvs->child : NULL; kv; kv = kv->next) {
        const char *k = sl_json_str(kv, "key");
        if (!k || strcmp(k, key)) continue;
        const cJSON *s = get2(sl_json_get(kv, "value"), "stringValue", "string_value");
        return cJSON_IsString(s) && *s->valuestring ? s->valuestring : NULL;
    }
    return NULL;
}

static void write_dropped(sl_buf *b, const cJSON *obj)
{
    int64_t n;
    if (!sl_json_int64(get2(obj, "droppedAttributesCount", "dropped_attributes_count"), &n) && n)
        sl_buf_printf(b, ",\"dropped_attributes_count\":%lld", (long long)n);
}

/* events -> [{"time_ns","name","attributes"(,"dropped_attributes_count")}] */
static int build_events(otlp_dec *d, const cJSON *events)
{
    sl_buf *b = &d->events;
    sl_buf_reset(b);
    if (!cJSON_IsArray(events) || !events->child) return 0;
    sl_buf_putc(b, '[');
    for (const cJSON *e = events->child; e; e = e->next) {
        int64_t t = 0;
        const cJSON *tv = get2(e, "timeUnixNano", "time_unix_nano");
        if (tv && sl_json_int64(tv, &t)) {
            snprintf(d->err, sizeof d->err, "bad event timeUnixNano");
            return -1;
        }
        const char *name = sl_json_str(e, "name");
        if (e != events->child) sl_buf_putc(b, ',');
        sl_buf_printf(b, "{\"time_ns\":%lld,\"name\":", (long long)t);
        sl_jw_string(b, name ? name : "");
        sl_buf_puts(b, ",\"attributes\":");
        if (sl_attr_from_keyvalues(b, sl_json_get(e, "attributes"), d->err, sizeof d->err) < 0)
            return -1;
        write_dropped(b, e);
        sl_buf_putc(b, '}');
    }
    sl_buf_putc(b, ']');
    return 0;
}

/* links -> [{"trace_id","span_id"(,"trace_state"),"attributes"(,"dropped_attributes_count")(,"flags")}] */
static int build_links(otlp_dec *d, const cJSON *links)
{
    sl_buf *b = &d->links;
    sl_buf_reset(b);
    if (!cJSON_IsArray(links) || !links->child) return 0;
    sl_buf_putc(b, '[');
    for (const cJSON *l = links->child; l; l = l->next) {
        char tbuf[33], sbuf[33];
        const char *tid = norm_id(get2(l, "traceId", "trace_id"), tbuf);
        const char *sid = norm_id(get2(l, "spanId", "span_id"), sbuf);
        if (!tid || !sid || !*tid || !*sid) {
            snprintf(d->err, sizeof d->err, "link without traceId or spanId");
            return -1;
        }
        if (l != links->child) sl_buf_putc(b, ',');
        sl_buf_puts(b, "{\"trace_id\":");
        sl_jw_string(b, tid);
        sl_buf_puts(b, ",\"span_id\":");
        sl_jw_string(b, sid);
        const cJSON *tsv = get2(l, "traceState", "trace_state");
        if (cJSON_IsString(tsv) && *tsv->valuestring) {
            sl_buf_puts(b, ",\"trace_state\":");
            sl_jw_string(b, tsv->valuestring);
        }
        sl_buf_puts(b, ",\"attributes\":");
        if (sl_attr_from_keyvalues(b, sl_json_get(l, "attributes"), d->err, sizeof d->err) < 0)
            return -1;
        write_dropped(b, l);
        int64_t flags;
        if (!sl_json_int64(sl_json_get(l, "flags"), &flags) && flags)
            sl_buf_printf(b, ",\"flags\":%lld", (long long)flags);
        sl_buf_putc(b, '}');
    }
    sl_buf_putc(b, ']');
    return 0;
}

/* Status: code (integer or STATUS_CODE_* name) and message. */
static int span_status(otlp_dec *d, const cJSON *st, sl_span *sp)
{
    sp->status = SL_STATUS_UNSET;
    sp->status_message = NULL;
    if (!st) return 0;
    int code = enum_value(sl_json_get(st, "code"), sl_status_parse, SL_STATUS_ERROR);
    if (code < 0) {
        snprintf(d->err, sizeof d->err, "bad status.code");
        return -1;
    }
    sp->status = code;
    const char *msg = sl_json_str(st, "message");
    if (msg && *msg) sp->status_message = msg;
    return 0;
}

static int span_ids(otlp_dec *d, cJSON *f[F_COUNT], sl_span *sp, char bufs[3][33])
{
    sp->trace_id = norm_id(f[F_TRACE], bufs[0]);
    sp->span_id = norm_id(f[F_SPAN], bufs[1]);
    sp->parent_span_id = f[F_PARENT] ? norm_id(f[F_PARENT], bufs[2]) : NULL;
    if (!sp->trace_id || !*sp->trace_id) {
        snprintf(d->err, sizeof d->err, "missing traceId");
        return -1;
    }
    if (!sp->span_id || !*sp->span_id) {
        snprintf(d->err, sizeof d->err, "missing spanId");
        return -1;
    }
    if (sp->parent_span_id && !*sp->parent_span_id) sp->parent_span_id = NULL;
    return 0;
}

static int span_times(otlp_dec *d, cJSON *f[F_COUNT], sl_span *sp)
{
    int64_t start, end;
    if (!f[F_START] || sl_json_int64(f[F_START], &start)) {
        snprintf(d->err, sizeof d->err, f[F_START] ? "bad startTimeUnixNano" : "missing startTimeUnixNano");
        return -1;
    }
    if (!f[F_END] || sl_json_int64(f[F_END], &end)) {
        snprintf(d->err, sizeof d->err, f[F_END] ? "bad endTimeUnixNano" : "missing endTimeUnixNano");
        return -1;
    }
    if (end < start) {
        snprintf(d->err, sizeof d->err, "endTimeUnixNano before startTimeUnixNano");
        return -1;
    }
    sp->start_ns = start;
    sp->duration_ns = end - start;
    return 0;
}

/* Fill sp from a parsed span; its strings point into span and d's buffers. */
static int span_fill(otlp_dec *d, cJSON *span, sl_span *sp, char ids[3][33])
{
    cJSON *f[F_COUNT];
    memset(sp, 0, sizeof *sp);
    if (!cJSON_IsObject(span)) {
        snprintf(d->err, sizeof d->err, "span is not a JSON object");
        return -1;
    }
    span_members(span, f);
    if (span_ids(d, f, sp, ids) || span_times(d, f, sp)) return -1;
    sp->operation = cJSON_IsString(f[F_NAME]) ? f[F_NAME]->valuestring : "";
    sp->service = d->service;
    sp->kind = enum_value(f[F_KIND], sl_kind_parse, SL_KIND_CONSUMER);
    if (sp->kind < 0) {
        snprintf(d->err, sizeof d->err, "bad kind");
        return -1;
    }
    if (span_status(d, f[F_STATUS], sp)) return -1;
    sl_buf_reset(&d->attrs);
    int na = sl_attr_from_keyvalues(&d->attrs, f[F_ATTRS], d->err, sizeof d->err);
    if (na < 0 || build_events(d, f[F_EVENTS]) || build_links(d, f[F_LINKS])) return -1;
    if (d->attrs.oom || d->events.oom || d->links.oom) {
        snprintf(d->err, sizeof d->err, "out of memory");
        return -1;
    }
    sp->attributes = na ? d->attrs.p : NULL;
    sp->events = d->events.len ? d->events.p : NULL;
    sp->links = d->links.len ? d->links.p : NULL;
    sp->remote_service = kv_string(f[F_ATTRS], "peer.service");
    sp->resource = d->has_resource ? d->resource.p : NULL;
    sp->scope = d->has_scope ? d->scope.p : NULL;
    return 0;
}

static void decode_span(otlp_dec *d, const char *p, const char *pe)
{
    cJSON *tree = sl_json_parse(p, (size_t)(pe - p), d->err, sizeof d->err);
    sl_span sp;
    char ids[3][33];
    const char *why = NULL;
    if (!tree || span_fill(d, tree, &sp, ids)) {
        reject(d, p, d->err, p, (size_t)(pe - p));
    } else if ((why = sl_span_check(&sp))) {
        reject(d, p, why, p, (size_t)(pe - p));
    } else if (sl_sink_span(d->sink, &sp, line_at(d, p))) {
        d->stop = 1;
    }
    cJSON_Delete(tree);
}

/* ---- Resource and scope -------------------------------------------------- */

static void clear_resource(otlp_dec *d)
{
    cJSON_Delete(d->res_tree);
    d->res_tree = NULL;
    d->service = "unknown_service";
    d->has_resource = 0;
    sl_buf_reset(&d->resource);
}

/* Parse the resource at [p, pe) (p NULL: none) and make it current. */
static int set_resource(otlp_dec *d, const char *p, const char *pe)
{
    clear_resource(d);
    if (!p) return 0;
    d->res_tree = sl_json_parse(p, (size_t)(pe - p), d->err, sizeof d->err);
    if (!d->res_tree) return -1;
    const cJSON *attrs = sl_json_get(d->res_tree, "attributes");
    int n = sl_attr_from_keyvalues(&d->resource, attrs, d->err, sizeof d->err);
    if (n < 0) return -1;
    d->has_resource = n > 0;
    const char *svc = kv_string(attrs, "service.name");
    if (svc) d->service = svc;
    return 0;
}

/* scope -> {"name"(,"version")(,"attributes")(,"dropped_attributes_count")}, or none
 * when it has no name, version or attributes. */
static int set_scope(otlp_dec *d, const char *p, const char *pe)
{
    sl_buf *b = &d->scope;
    sl_buf_reset(b);
    d->has_scope = 0;
    if (!p) return 0;
    cJSON *t = sl_json_parse(p, (size_t)(pe - p), d->err, sizeof d->err);
    if (!t) return -1;
    const char *name = sl_json_str(t, "name"), *version = sl_json_str(t, "version");
    sl_buf_puts(b, "{\"name\":");
    sl_jw_string(b, name ? name : "");
    if (version && *version) {
        sl_buf_puts(b, ",\"version\":");
        sl_jw_string(b, version);
    }
    size_t at = b->len;
    sl_buf_puts(b, ",\"attributes\":");
    int n = sl_attr_from_keyvalues(b, sl_json_get(t, "attributes"), d->err, sizeof d->err);
    if (n == 0) { /* leave out an empty attributes object */
        b->len = at;
        b->p[at] = '\0';
    }
    size_t before = b->len;
    write_dropped(b, t);
    sl_buf_putc(b, '}');
    d->has_scope = (name && *name) || (version && *version) || n > 0 || b->len != before + 1;
    cJSON_Delete(t);
    return n < 0 ? -1 : 0;
}

/* ---- Document structure ------------------------------------------------
 *
 * Containers are walked with sl_jscan_enter(), not skipped whole first, so
 * the spans before a cut or a syntax error are imported.  A span array met
 * before the resource (or scope) it belongs to is skipped and read once the
 * enclosing object is done, unless it is broken: then no resource or scope
 * can follow, and its spans are read at once with what is known.
 */

static int scan_error(otlp_dec *d, const char *at, const char *what)
{
    d->bad = at;
    snprintf(d->err, sizeof d->err, "invalid JSON in %s", what);
    return -1;
}

/* Skip the value at v; resume it after it. */
static int skip_value(otlp_dec *d, sl_jscan *it, const char *v, const char **ve, const char *what)
{
    if (!(*ve = sl_jscan_skip(v, it->end))) return scan_error(d, v, what);
    sl_jscan_resume(it, *ve);
    return 0;
}

/* The spans array at p; *after is set past it. */
static int decode_spans_array(otlp_dec *d, const char *p, const char *end, const char **after)
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    int r;
    if (sl_jscan_open(&it, p, end, '[')) return scan_error(d, p, "spans (not an array)");
    while (!d->stop && (r = sl_jscan_next(&it, &k, &kl, &v, &ve)) == 1) decode_span(d, v, ve);
    if (!d->stop && r < 0) return scan_error(d, it.p, "spans");
    *after = it.p;
    return 0;
}

/* A member that is not an array where one is expected is left alone. */
static int spans_member(otlp_dec *d, sl_jscan *it, const char *v)
{
    const char *after, *ve;
    if (*v != '[') return skip_value(d, it, v, &ve, "scopeSpans");
    if (decode_spans_array(d, v, it->end, &after)) return -1;
    sl_jscan_resume(it, after);
    return 0;
}

/* One scopeSpans (or instrumentationLibrarySpans) element; *after past it. */
static int decode_scope_spans(otlp_dec *d, const char *p, const char *end, const char **after)
{
    sl_jscan it;
    const char *k, *v, *ve, *later = NULL, *later_e = NULL;
    size_t kl;
    int r, seen = 0, bad = 0;
    *after = end;
    sl_buf_reset(&d->scope);
    d->has_scope = 0;
    if (sl_jscan_open(&it, p, end, '{')) {
        if (!(*after = sl_jscan_skip(p, end))) return scan_error(d, p, "scopeSpans");
        reject(d, p, "scopeSpans element is not an object", p, (size_t)(*after - p));
        return 0;
    }
    while (!d->stop && (r = sl_jscan_enter(&it, &k, &kl, &v)) == 1) {
        if (key_is(k, kl, "scope", NULL) || key_is(k, kl, "instrumentationLibrary", "instrumentation_library")) {
            if (skip_value(d, &it, v, &ve, "scope")) return -1;
            bad = set_scope(d, v, ve) != 0;
            seen = 1;
        } else if (key_is(k, kl, "spans", NULL) && !bad && (seen || !sl_jscan_skip(v, end))) {
            /* In order, or broken so no scope can follow: read the spans now. */
            if (spans_member(d, &it, v)) return -1;
        } else {
            if (skip_value(d, &it, v, &ve, "scopeSpans")) return -1;
            if (key_is(k, kl, "spans", NULL)) later = v, later_e = ve;
        }
    }
    if (d->stop) return 0;
    if (r < 0) return scan_error(d, it.p, "scopeSpans");
    *after = it.p;
    if (bad) {
        char why[sizeof d->err + 8];
        snprintf(why, sizeof why, "scope: %s", d->err);
        reject(d, p, why, p, (size_t)(it.p - p));
    } else if (later && *later == '[') {
        return decode_spans_array(d, later, later_e, &ve);
    }
    return 0;
}

/* The scopeSpans array at v, resuming it after it. */
static int scope_spans_member(otlp_dec *d, sl_jscan *it, const char *v)
{
    sl_jscan arr;
    const char *k, *e, *after;
    size_t kl;
    int r;
    if (sl_jscan_open(&arr, v, it->end, '[')) return skip_value(d, it, v, &after, "resourceSpans");
    while (!d->stop && (r = sl_jscan_enter(&arr, &k, &kl, &e)) == 1) {
        if (decode_scope_spans(d, e, arr.end, &after)) return -1;
        sl_jscan_resume(&arr, after);
    }
    if (!d->stop && r < 0) return scan_error(d, arr.p, "scopeSpans");
    sl_jscan_resume(it, arr.p);
    return 0;
}

/* One resourceSpans element: its resource first, wherever it is written. */
static int decode_resource_spans(otlp_dec *d, const char *p, const char *end, const char **after)
{
    sl_jscan it;
    const char *k, *v, *ve, *later = NULL, *later_e = NULL;
    size_t kl;
    int r, seen = 0, bad = 0;
    *after = end;
    clear_resource(d);
    if (sl_jscan_open(&it, p, end, '{')) {
        if (!(*after = sl_jscan_skip(p, end))) return scan_error(d, p, "resourceSpans");
        reject(d, p, "resourceSpans element is not an object", p, (size_t)(*after - p));
        return 0;
    }
    while (!d->stop && (r = sl_jscan_enter(&it, &k, &kl, &v)) == 1) {
        int scopes = key_is(k, kl, "scopeSpans", "scope_spans") ||
                     key_is(k, kl, "instrumentationLibrarySpans", "instrumentation_library_spans");
        if (key_is(k, kl, "resource", NULL)) {
            if (skip_value(d, &it, v, &ve, "resource")) return -1;
            bad = set_resource(d, v, ve) != 0;
            seen = 1;
        } else if (scopes && !bad && (seen || !sl_jscan_skip(v, end))) {
            if (scope_spans_member(d, &it, v)) return -1;
        } else {
            if (skip_value(d, &it, v, &ve, "resourceSpans")) return -1;
            if (scopes) later = v, later_e = ve;
        }
    }
    if (d->stop) return 0;
    if (r < 0) return scan_error(d, it.p, "resourceSpans");
    *after = it.p;
    if (bad) {
        char why[sizeof d->err + 16];
        snprintf(why, sizeof why, "resource: %s", d->err);
        reject(d, p, why, p, (size_t)(it.p - p));
    } else if (later) {
        sl_jscan sub = {later, later_e, 0, 0}; /* a one-member walk over the deferred array */
        return scope_spans_member(d, &sub, later);
    }
    return 0;
}

/* One TracesData object at p; sets *next past it.  -1 on broken structure. */
static int decode_traces_data(otlp_dec *d, const char *p, const char *end, const char **next)
{
    sl_jscan it, arr;
    const char *k, *v, *e, *after;
    size_t kl;
    int r = 0;
    if (sl_jscan_open(&it, p, end, '{')) {
        d->bad = p;
        snprintf(d->err, sizeof d->err, "expected a JSON object (OTLP TracesData)");
        return -1;
    }
    while (!d->stop && (r = sl_jscan_enter(&it, &k, &kl, &v)) == 1) {
        if ((key_is(k, kl, "resourceSpans", "resource_spans") || key_is(k, kl, "batches", NULL)) &&
            !sl_jscan_open(&arr, v, end, '[')) {
            while (!d->stop && (r = sl_jscan_enter(&arr, &k, &kl, &e)) == 1) {
                if (decode_resource_spans(d, e, end, &after)) return -1;
                sl_jscan_resume(&arr, after);
            }
            if (!d->stop && r < 0) return scan_error(d, arr.p, "resourceSpans");
            sl_jscan_resume(&it, arr.p);
        } else if (key_is(k, kl, "trace", NULL) && *v == '{') {
            if (decode_traces_data(d, v, end, &after)) return -1;
            sl_jscan_resume(&it, after);
        } else if (skip_value(d, &it, v, &after, "TracesData")) {
            return -1;
        }
    }
    if (!d->stop && r < 0) return scan_error(d, it.p, "TracesData");
    *next = it.p;
    return 0;
}

/* ---- Input modes ---------------------------------------------------------- */

static void dec_init(otlp_dec *d, sl_sink *sink)
{
    memset(d, 0, sizeof *d);
    d->sink = sink;
    d->service = "unknown_service";
}

static void dec_free(otlp_dec *d)
{
    cJSON_Delete(d->res_tree);
    sl_buf_free(&d->resource);
    sl_buf_free(&d->scope);
    sl_buf_free(&d->attrs);
    sl_buf_free(&d->events);
    sl_buf_free(&d->links);
}

/* Every TracesData value in buf, one after another (a document, or JSON Lines
 * read whole). */
static void decode_values(otlp_dec *d, const char *buf, size_t len, int whole_line)
{
    const char *p = buf, *end = buf + len;
    while (!d->stop && (p = sl_jscan_ws(p, end)) < end) {
        const char *next;
        clear_resource(d);
        if (decode_traces_data(d, p, end, &next) == 0) {
            p = next;
            continue;
        }
        char why[sizeof d->err + 64];
        if (whole_line) {
            snprintf(why, sizeof why, "%s", d->err);
            reject(d, buf, why, buf, len);
        } else {
            snprintf(why, sizeof why, "%s (the rest of the input is rejected)", d->err);
            reject(d, d->bad, why, d->bad, (size_t)(end - d->bad));
        }
        return;
    }
}

/* JSON Lines when the first line holds a whole JSON value.  A first line
 * longer than the peek window may be a huge compact document: read it as a
 * document, which decodes JSON Lines just as well (only less frugally). */
static int looks_like_lines(const char *head, size_t len)
{
    const char *end = head + len, *p = sl_jscan_ws(head, end);
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return 0;
    const char *ve = sl_jscan_skip(p, nl);
    return ve && sl_jscan_ws(ve, nl) == nl;
}

static int decode_lines(otlp_dec *d, sl_input *in, char *err, size_t errlen)
{
    char *line;
    size_t len;
    uint64_t lineno;
    int r;
    d->one_line = 1;
    while (!d->stop && (r = sl_input_line(in, &line, &len, &lineno)) == 1) {
        sl_linepos_init(&d->lines, line, lineno);
        decode_values(d, line, len, 1);
    }
    if (!d->stop && r < 0) {
        snprintf(err, errlen, "%s", sl_input_error(in));
        return -1;
    }
    return 0;
}

static int decode_document(otlp_dec *d, sl_input *in, char *err, size_t errlen)
{
    size_t len;
    char *buf = sl_input_read_all(in, &len);
    if (!buf) {
        snprintf(err, errlen, "%s", sl_input_error(in) ? sl_input_error(in) : "out of memory");
        return -1;
    }
    sl_linepos_init(&d->lines, buf, 1);
    decode_values(d, buf, len, 0);
    free(buf);
    return 0;
}

static int otlp_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    otlp_dec d;
    size_t hl = 0;
    const char *head = sl_input_peek(in, OTLP_PEEK, &hl);
    dec_init(&d, sink);
    int rc = head && looks_like_lines(head, hl) ? decode_lines(&d, in, err, errlen)
                                                           : decode_document(&d, in, err, errlen);
    dec_free(&d);
    return rc;
}

static int otlp_detect(const char *head, size_t len)
{
    const char *p = sl_jscan_ws(head, head + len);
    if (p >= head + len || *p != '{') return 0;
    size_t rest = (size_t)(head + len - p);
    static const char *const keys[] = {"\"resourceSpans\"", "\"resource_spans\"", "\"batches\"",
                                       "\"instrumentationLibrarySpans\"", "\"scopeSpans\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (memmem(p, rest, keys[i], strlen(keys[i]))) return 95;
    return 0;
}

const sl_format sl_format_otlp = {"otlp", otlp_detect, otlp_decode};

/* ---- Export --------------------------------------------------------------- */

/* Per-export scratch, kept across traces so a trace allocates nothing new. */
typedef struct otlp_out {
    size_t *rgroup, *sgroup; /* group of each span of the trace */
    size_t *first;           /* first span of each group (its key) */
    uint64_t *hash;          /* key hash of each group */
    size_t *mark;            /* scope group -> resource group + 1 it was listed for */
    size_t *order;           /* scope groups of one resource group, in order */
    size_t cap, gcap;
} otlp_out;

static void otlp_out_free(otlp_out *s)
{
    if (!s) return;
    free(s->rgroup);
    free(s->sgroup);
    free(s->first);
    free(s->hash);
    free(s->mark);
    free(s->order);
    free(s);
}

static int grow(void *pp, size_t n, size_t size)
{
    void *p = realloc(*(void **)pp, n * size);
    if (!p) return -1;
    *(void **)pp = p;
    return 0;
}

static int otlp_out_reserve(otlp_out *s, size_t n)
{
    if (n <= s->cap) return 0;
    size_t cap = n < 64 ? 64 : n;
    if (grow(&s->rgroup, cap, sizeof(size_t)) || grow(&s->sgroup, cap, sizeof(size_t)) ||
        grow(&s->first, cap, sizeof(size_t)) || grow(&s->hash, cap, sizeof(uint64_t)) ||
        grow(&s->mark, cap, sizeof(size_t)) || grow(&s->order, cap, sizeof(size_t)))
        return -1;
    s->cap = cap;
    return 0;
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

typedef int (*same_fn)(const sl_span *a, const sl_span *b);
static int same_resource(const sl_span *a, const sl_span *b)
{
    return same_str(a->service, b->service) && same_str(a->resource, b->resource);
}
static int same_scope(const sl_span *a, const sl_span *b) { return same_str(a->scope, b->scope); }

/* Number the distinct keys of spans in order of first appearance into
 * out[i]; returns how many there are. */
static size_t group(otlp_out *s, const sl_span *spans, size_t n, size_t *out, int by_scope)
{
    same_fn same = by_scope ? same_scope : same_resource;
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = by_scope ? sl_hash_str(SL_HASH_INIT, spans[i].scope)
                              : sl_hash_str(sl_hash_str(SL_HASH_INIT, spans[i].service), spans[i].resource);
        size_t g = 0;
        while (g < ng && !(s->hash[g] == h && same(&spans[s->first[g]], &spans[i]))) g++;
        if (g == ng) {
            s->hash[ng] = h;
            s->first[ng++] = i;
        }
        out[i] = g;
    }
    return ng;
}

/* Left-pad a short hex id with zeros to the width OTLP requires. */
static void write_id(sl_buf *b, const char *id, size_t width)
{
    size_t n = strlen(id);
    sl_buf_putc(b, '"');
    if (n < width && all_hex(id))
        for (size_t i = n; i < width; i++) sl_buf_putc(b, '0');
    sl_buf_puts(b, id);
    sl_buf_putc(b, '"');
}

static void write_resource(sl_buf *b, const sl_span *sp)
{
    cJSON *r = sp->resource ? sl_json_parse(sp->resource, strlen(sp->resource), NULL, 0) : NULL;
    sl_buf_puts(b, "{\"resource\":{\"attributes\":");
    /* A span from another format may name its service only in sl_span. */
    if (!sl_json_get(r, "service.name") && sp->service && strcmp(sp->service, "unknown_service")) {
        sl_buf_puts(b, "[{\"key\":\"service.name\",\"value\":{\"stringValue\":");
        sl_jw_string(b, sp->service);
        sl_buf_puts(b, "}}");
        size_t at = b->len;
        if (sl_attr_to_keyvalues(b, r, NULL) > 0) {
            b->p[at] = ','; /* continue the array begun above */
        } else {
            b->len = at;
            sl_buf_putc(b, ']');
        }
    } else {
        sl_attr_to_keyvalues(b, r, NULL);
    }
    sl_buf_puts(b, "},\"scopeSpans\":[");
    cJSON_Delete(r);
}

static void write_dropped_out(sl_buf *b, const cJSON *obj)
{
    int64_t n;
    if (!sl_json_int64(sl_json_get(obj, "dropped_attributes_count"), &n) && n)
        sl_buf_printf(b, ",\"droppedAttributesCount\":%lld", (long long)n);
}

static void write_scope(sl_buf *b, const char *scope)
{
    cJSON *s = scope ? sl_json_parse(scope, strlen(scope), NULL, 0) : NULL;
    const char *name = sl_json_str(s, "name"), *version = sl_json_str(s, "version");
    sl_buf_puts(b, "{\"scope\":{");
    int first = 1;
    if (name) {
        sl_jw_key(b, "name", &first);
        sl_jw_string(b, name);
    }
    if (version) {
        sl_jw_key(b, "version", &first);
        sl_jw_string(b, version);
    }
    const cJSON *attrs = sl_json_get(s, "attributes");
    if (cJSON_IsObject(attrs) && attrs->child) {
        sl_jw_key(b, "attributes", &first);
        sl_attr_to_keyvalues(b, attrs, NULL);
    }
    int64_t dropped;
    if (!sl_json_int64(sl_json_get(s, "dropped_attributes_count"), &dropped) && dropped) {
        sl_jw_key(b, "droppedAttributesCount", &first);
        sl_jw_int(b, dropped);
    }
    sl_buf_puts(b, "},\"spans\":[");
    cJSON_Delete(s);
}

static void write_time(sl_buf *b, const char *key, int64_t ns)
{
    sl_buf_printf(b, ",\"%s\":\"%lld\"", key, (long long)ns);
}

static void write_events(sl_buf *b, const char *events)
{
    cJSON *ev = events ? sl_json_parse(events, strlen(events), NULL, 0) : NULL;
    if (cJSON_IsArray(ev) && ev->child) {
        sl_buf_puts(b, ",\"events\":[");
        for (const cJSON *e = ev->child; e; e = e->next) {
            int64_t t = 0;
            sl_json_int64(sl_json_get(e, "time_ns"), &t);
            const char *name = sl_json_str(e, "name");
            if (e != ev->child) sl_buf_putc(b, ',');
            sl_buf_printf(b, "{\"timeUnixNano\":\"%lld\",\"name\":", (long long)t);
            sl_jw_string(b, name ? name : "");
            sl_buf_puts(b, ",\"attributes\":");
            sl_attr_to_keyvalues(b, sl_json_get(e, "attributes"), NULL);
            write_dropped_out(b, e);
            sl_buf_putc(b, '}');
        }
        sl_buf_putc(b, ']');
    }
    cJSON_Delete(ev);
}

static void write_links(sl_buf *b, const char *links)
{
    cJSON *lk = links ? sl_json_parse(links, strlen(links), NULL, 0) : NULL;
    if (cJSON_IsArray(lk) && lk->child) {
        sl_buf_puts(b, ",\"links\":[");
        for (const cJSON *l = lk->child; l; l = l->next) {
            const char *tid = sl_json_str(l, "trace_id"), *sid = sl_json_str(l, "span_id");
            const char *ts = sl_json_str(l, "trace_state");
            int64_t flags;
            if (l != lk->child) sl_buf_putc(b, ',');
            sl_buf_puts(b, "{\"traceId\":");
            write_id(b, tid ? tid : "", 32);
            sl_buf_puts(b, ",\"spanId\":");
            write_id(b, sid ? sid : "", 16);
            if (ts) {
                sl_buf_puts(b, ",\"traceState\":");
                sl_jw_string(b, ts);
            }
            sl_buf_puts(b, ",\"attributes\":");
            sl_attr_to_keyvalues(b, sl_json_get(l, "attributes"), NULL);
            write_dropped_out(b, l);
            if (!sl_json_int64(sl_json_get(l, "flags"), &flags) && flags)
                sl_buf_printf(b, ",\"flags\":%lld", (long long)flags);
            sl_buf_putc(b, '}');
        }
        sl_buf_putc(b, ']');
    }
    cJSON_Delete(lk);
}

/* Span attributes; a remote service known only to sl_span (Zipkin's
 * remoteEndpoint) goes out as peer.service. */
static void write_attributes(sl_buf *b, const sl_span *sp)
{
    cJSON *a = sp->attributes ? sl_json_parse(sp->attributes, strlen(sp->attributes), NULL, 0) : NULL;
    int add_peer = sp->remote_service && !sl_json_get(a, "peer.service");
    if ((cJSON_IsObject(a) && a->child) || add_peer) {
        sl_buf_puts(b, ",\"attributes\":");
        int n = sl_attr_to_keyvalues(b, a, NULL);
        if (add_peer) {
            b->len--; /* reopen the array */
            sl_buf_puts(b, n ? "," : "");
            sl_buf_puts(b, "{\"key\":\"peer.service\",\"value\":{\"stringValue\":");
            sl_jw_string(b, sp->remote_service);
            sl_buf_puts(b, "}}]");
        }
    }
    cJSON_Delete(a);
}

static void write_span(sl_buf *b, const sl_span *sp)
{
    sl_buf_puts(b, "{\"traceId\":");
    write_id(b, sp->trace_id, 32);
    sl_buf_puts(b, ",\"spanId\":");
    write_id(b, sp->span_id, 16);
    if (sp->parent_span_id && *sp->parent_span_id) {
        sl_buf_puts(b, ",\"parentSpanId\":");
        write_id(b, sp->parent_span_id, 16);
    }
    sl_buf_puts(b, ",\"name\":");
    sl_jw_string(b, sp->operation ? sp->operation : "");
    sl_buf_printf(b, ",\"kind\":%d", sp->kind);
    write_time(b, "startTimeUnixNano", sp->start_ns);
    write_time(b, "endTimeUnixNano", sp->start_ns + sp->duration_ns);
    write_attributes(b, sp);
    write_events(b, sp->events);
    write_links(b, sp->links);
    sl_buf_puts(b, ",\"status\":{");
    if (sp->status) sl_buf_printf(b, "\"code\":%d", sp->status);
    if (sp->status_message) {
        sl_buf_puts(b, sp->status ? ",\"message\":" : "\"message\":");
        sl_jw_string(b, sp->status_message);
    }
    sl_buf_puts(b, "}}");
}

/* Spans of resource group r, scope group by scope group. */
static void write_resource_group(sl_buf *b, otlp_out *s, const sl_span *spans, size_t n, size_t r)
{
    size_t nscopes = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->rgroup[i] != r || s->mark[s->sgroup[i]] == r + 1) continue;
        s->mark[s->sgroup[i]] = r + 1;
        s->order[nscopes++] = s->sgroup[i];
    }
    for (size_t k = 0; k < nscopes; k++) {
        int first = 1;
        for (size_t i = 0; i < n; i++) {
            if (s->rgroup[i] != r || s->sgroup[i] != s->order[k]) continue;
            if (first) {
                if (k) sl_buf_putc(b, ',');
                write_scope(b, spans[i].scope);
                first = 0;
            } else {
                sl_buf_putc(b, ',');
            }
            write_span(b, &spans[i]);
        }
        sl_buf_puts(b, "]}");
    }
}

static int otlp_trace(sl_export_out *o, const sl_span *spans, size_t n)
{
    otlp_out *s = o->state;
    if (!s && !(s = o->state = calloc(1, sizeof *s))) return -1;
    if (otlp_out_reserve(s, n)) return -1;
    size_t nres = group(s, spans, n, s->rgroup, 0);
    size_t nscope = group(s, spans, n, s->sgroup, 1);
    memset(s->mark, 0, nscope * sizeof *s->mark);
    sl_buf *b = &o->buf;
    sl_buf_puts(b, "{\"resourceSpans\":[");
    for (size_t r = 0; r < nres; r++) {
        size_t i = 0;
        while (s->rgroup[i] != r) i++;
        if (r) sl_buf_putc(b, ',');
        write_resource(b, &spans[i]);
        write_resource_group(b, s, spans, n, r);
        sl_buf_puts(b, "]}");
    }
    sl_buf_puts(b, "]}\n");
    if (b->oom) return -1;
    return sl_export_flush(o);
}

static int otlp_end(sl_export_out *o)
{
    otlp_out_free(o->state);
    o->state = NULL;
    return 0;
}

const sl_exporter sl_exporter_otlp = {"otlp", NULL, otlp_trace, otlp_end};
