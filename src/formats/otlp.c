/*
 * formats/otlp.c -- OTLP JSON in and out (format and exporter "otlp").
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
 *      longest line) or a document, streamed: read in chunks through a
 *      window, each resourceSpans element decoded once it is whole there and
 *      then dropped, so memory is bounded by the biggest resourceSpans
 *      element plus a chunk (a document that is one giant resourceSpans
 *      element is held whole).  Either way each span is found by sl_jscan
 *      and read alone: a plain span (and resource) straight from its text
 *      (span_fast), any other through a cJSON tree, with the same result.
 *      Concatenated TracesData values are read in turn.
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

#include "base/attrs.h"
#include "base/buf.h"
#include "formats/docstream.h"
#include "formats/export.h"
#include "formats/format.h"
#include "base/json.h"
#include "base/span.h"

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
static const char *norm_id_str(char *s, char out[33])
{
    char *p;
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

static const char *norm_id(cJSON *item, char out[33])
{
    return cJSON_IsString(item) ? norm_id_str(item->valuestring, out) : NULL;
}

/* ---- Decoder state ------------------------------------------------------ */

typedef struct otlp_dec {
    sl_sink *sink;
    sl_linepos *lines;      /* line numbers in the document window; NULL: ... */
    uint64_t lineno;        /* ... JSON Lines, every position is on this line */
    int stop;               /* the sink asked us to stop */
    const char *service;    /* of the resource in effect (in res_tree or res_strs) */
    cJSON *res_tree;        /* parsed resource in effect */
    int has_resource, has_scope;
    sl_buf resource;        /* resource attributes JSON in effect */
    sl_buf scope;           /* scope JSON in effect */
    sl_buf attrs, events, links; /* of the span being built */
    sl_buf strs;            /* strings of the span read by span_fast() */
    sl_buf res_strs;        /* service name of the resource read by resource_fast() */
    const char *bad;        /* where the scanner failed */
    char err[200];
} otlp_dec;

static uint64_t line_at(otlp_dec *d, const char *pos)
{
    return d->lines ? sl_linepos_at(d->lines, pos) : d->lineno;
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
    if (__builtin_sub_overflow(end, start, &sp->duration_ns)) {
        snprintf(d->err, sizeof d->err, "span longer than 2^63 ns");
        return -1;
    }
    sp->start_ns = start;
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

/* ---- The common span, without a tree ------------------------------------
 *
 * Most spans are plain: ids, names, attribute keys and string values
 * without escapes, times as digit strings, attributes of strings, bools,
 * ints and doubles.  span_fast() reads such a span straight from its text
 * in one pass, without the cJSON tree whose node and string allocations
 * were most of the decoding time, and fills sp as span_fill() does from
 * the tree.  On anything else -- an escape (in a key too), a value of
 * another type or shape, a repeated member, whatever span_fill() would
 * reject -- it gives up (returns 0) before handing anything on, and the
 * span takes the tree path.  It accepts only text that any JSON parser
 * accepts, so the fast path changes no outcome, only its cost; the unit
 * test reads spans both ways and compares.  resource_fast() does the same
 * for a resource.
 */

/* Like sl_jscan_enter(), but a key with an escape is an error: the tree
 * path would compare it unescaped. */
static int fast_enter(sl_jscan *it, const char **k, size_t *kl, const char **v)
{
    int r = sl_jscan_enter(it, k, kl, v);
    return r == 1 && *k && memchr(*k, '\\', *kl) ? -1 : r;
}

/* End of the string at p if it has no escape or control character (so its
 * text between the quotes is its value), else NULL. */
static const char *plain_string_end(const char *p, const char *end)
{
    if (p >= end || *p != '"') return NULL;
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c == '\\' || c < 0x20) return NULL;
    }
    return NULL;
}

/* The plain string at p copied, NUL-terminated, into to (which the caller
 * reserved room in, so earlier copies stay put); *ve past it.  NULL if the
 * string is not plain. */
static char *plain_copy(sl_buf *to, const char *p, const char *end, const char **ve)
{
    if (!(*ve = plain_string_end(p, end))) return NULL;
    char *s = to->p + to->len;
    sl_buf_append(to, p + 1, (size_t)(*ve - p - 2));
    to->len++; /* keep the NUL */
    return s;
}

static const char *literal_end(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && !memcmp(p, lit, n) ? p + n : NULL;
}

/* End of the number at p under JSON's grammar, or NULL; *integral is set
 * when it has no fraction or exponent, *digits to its integer digits. */
static const char *number_end(const char *p, const char *end, int *integral, int *digits)
{
    const char *q = p;
    if (q < end && *q == '-') q++;
    const char *d = q;
    while (q < end && *q >= '0' && *q <= '9') q++;
    *digits = (int)(q - d);
    if (!*digits || (*d == '0' && *digits > 1)) return NULL;
    *integral = 1;
    if (q < end && *q == '.') {
        const char *f = ++q;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == f) return NULL;
        *integral = 0;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        if (++q < end && (*q == '+' || *q == '-')) q++;
        const char *x = q;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == x) return NULL;
        *integral = 0;
    }
    return q;
}

/* An integer as sl_json_int64() reads it: a bare integer of at most 15
 * digits (exact in the double cJSON makes of it), or a string of an
 * optional '-' and 1 to 19 digits within int64.  Its end, or NULL for
 * anything else. */
static const char *int_end(const char *p, const char *end, int64_t *out)
{
    int integral, digits;
    const char *q = p, *e;
    if (q < end && *q == '"') {
        q++;
        if (q < end && *q == '-') q++;
        const char *d = q;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == d || q - d > 19 || q >= end || *q != '"') return NULL;
        e = q + 1;
        q = p + 1;
    } else {
        if (!(e = number_end(p, end, &integral, &digits)) || !integral || digits > 15) return NULL;
        q = p;
    }
    int neg = *q == '-';
    uint64_t u = 0; /* 19 digits fit */
    for (q += neg; *q >= '0' && *q <= '9'; q++) u = u * 10 + (uint64_t)(*q - '0');
    if (u > (uint64_t)INT64_MAX + neg) return NULL; /* strtoll would overflow */
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return e;
}

/* A bare number as a double, as cJSON reads it (strtod); NULL for a long
 * integer (which sl_json_parse() would turn into a string) or other text. */
static const char *double_end(const char *p, const char *end, double *out)
{
    int integral, digits;
    char tmp[48];
    const char *e = number_end(p, end, &integral, &digits);
    if (!e || (integral && digits > 15) || (size_t)(e - p) >= sizeof tmp) return NULL;
    memcpy(tmp, p, (size_t)(e - p));
    tmp[e - p] = '\0';
    *out = strtod(tmp, NULL);
    return e;
}

/* End of a member value the tree path ignores, if it is a plain string, a
 * number, true, false or null; else NULL. */
static const char *scalar_end(const char *p, const char *end)
{
    int integral, digits;
    if (*p == '"') return plain_string_end(p, end);
    if (*p == '-' || (*p >= '0' && *p <= '9')) return number_end(p, end, &integral, &digits);
    const char *e = literal_end(p, end, "true");
    if (!e) e = literal_end(p, end, "false");
    return e ? e : literal_end(p, end, "null");
}

/* The KeyValue whose key kv_string() would look for, and what it finds. */
typedef struct kv_find {
    const char *key;   /* wanted key */
    int seen;          /* the first KeyValue with it has been read */
    sl_buf *to;        /* where a found value is copied */
    const char *value; /* its non-empty string value, or NULL */
} kv_find;

/* One AnyValue object at p appended to b under the storage rule (attrs.h);
 * [*sv, *sve) is set to a string value's text with quotes.  Its end, or
 * NULL when the tree path must read it. */
static const char *anyvalue_fast(sl_buf *b, const char *p, const char *end, const char **sv,
                                 const char **sve)
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    double x;
    int64_t i;
    *sv = NULL;
    if (sl_jscan_open(&it, p, end, '{')) return NULL;
    int r = fast_enter(&it, &k, &kl, &v);
    if (r == 0) { /* no value: empty (rule 8) */
        sl_buf_puts(b, "null");
        return it.p;
    }
    if (r < 0) return NULL;
    if (key_is(k, kl, "stringValue", "string_value")) {
        if (!(ve = plain_string_end(v, end))) return NULL;
        sl_buf_append(b, v, (size_t)(ve - v)); /* plain: its text is how it is written */
        *sv = v, *sve = ve;
    } else if (key_is(k, kl, "boolValue", "bool_value")) {
        if (!(ve = literal_end(v, end, "true")) && !(ve = literal_end(v, end, "false"))) return NULL;
        sl_buf_append(b, v, (size_t)(ve - v));
    } else if (key_is(k, kl, "intValue", "int_value")) {
        if (!(ve = int_end(v, end, &i))) return NULL;
        sl_jw_int(b, i);
    } else if (key_is(k, kl, "doubleValue", "double_value")) {
        if (!(ve = double_end(v, end, &x))) return NULL;
        sl_attr_write_double(b, x);
    } else {
        return NULL;
    }
    sl_jscan_resume(&it, ve);
    return fast_enter(&it, &k, &kl, &v) == 0 ? it.p : NULL; /* one member only */
}

/* One KeyValue {"key": ..., "value": ...} (in that order) at p appended to
 * b as a member (after a comma unless first).  Its end, or NULL. */
static const char *keyvalue_fast(sl_buf *b, int first, const char *p, const char *end, kv_find *f)
{
    sl_jscan it;
    const char *k, *v, *ke, *ve, *sv = NULL, *sve = NULL;
    size_t kl;
    if (sl_jscan_open(&it, p, end, '{') || fast_enter(&it, &k, &kl, &v) != 1 || !key_is(k, kl, "key", NULL) ||
        !(ke = plain_string_end(v, end)))
        return NULL;
    if (!first) sl_buf_putc(b, ',');
    sl_buf_append(b, v, (size_t)(ke - v));
    sl_buf_putc(b, ':');
    sl_jscan_resume(&it, ke);
    int r = fast_enter(&it, &k, &kl, &ve);
    if (r == 0) {
        sl_buf_puts(b, "null"); /* no value: empty */
    } else {
        if (r < 0 || !key_is(k, kl, "value", NULL)) return NULL;
        if (literal_end(ve, end, "null")) {
            sl_buf_puts(b, "null");
            ve += 4;
        } else if (!(ve = anyvalue_fast(b, ve, end, &sv, &sve))) {
            return NULL;
        }
        sl_jscan_resume(&it, ve);
        if (fast_enter(&it, &k, &kl, &ve) != 0) return NULL;
    }
    size_t wl = f ? strlen(f->key) : 0;
    if (f && !f->seen && (size_t)(ke - v - 2) == wl && !memcmp(v + 1, f->key, wl)) {
        f->seen = 1;
        if (sv && sve - sv > 2) f->value = plain_copy(f->to, sv, sve, &sve);
    }
    return it.p;
}

/* A KeyValue array at p appended to b as sl_attr_from_keyvalues() would;
 * *after past it.  The member count, or -1 when the tree path must read it. */
static int keyvalues_fast(sl_buf *b, const char *p, const char *end, const char **after, kv_find *f)
{
    sl_jscan it;
    const char *k, *e;
    size_t kl;
    int r, n = 0;
    if (sl_jscan_open(&it, p, end, '[')) return -1;
    sl_buf_putc(b, '{');
    while ((r = sl_jscan_enter(&it, &k, &kl, &e)) == 1) {
        if (!(e = keyvalue_fast(b, n == 0, e, end, f))) return -1;
        sl_jscan_resume(&it, e);
        n++;
    }
    if (r < 0) return -1;
    sl_buf_putc(b, '}');
    *after = it.p;
    return n;
}

/* events or links at p, through the tree (they are rare): build them into
 * their buffer; *after past them.  0, or -1. */
static int span_list_fast(otlp_dec *d, int (*build)(otlp_dec *, const cJSON *), const char *p,
                          const char *end, const char **after)
{
    if (*p != '[' || !(*after = sl_jscan_skip(p, end))) return -1;
    cJSON *t = sl_json_parse(p, (size_t)(*after - p), d->err, sizeof d->err);
    int rc = t ? build(d, t) : -1;
    cJSON_Delete(t);
    return rc;
}

/* status {"code", "message"}: into sp.  Its end, or NULL. */
static const char *status_fast(otlp_dec *d, const char *p, const char *end, sl_span *sp)
{
    sl_jscan it;
    const char *k, *v, *ve = NULL;
    size_t kl;
    int r, code_seen = 0, msg_seen = 0;
    int64_t i;
    if (sl_jscan_open(&it, p, end, '{')) return NULL;
    while ((r = fast_enter(&it, &k, &kl, &v)) == 1) {
        if (key_is(k, kl, "code", NULL) && !code_seen++) {
            char *name;
            if ((ve = int_end(v, end, &i)) && *v != '"') sp->status = i >= 0 && i <= SL_STATUS_ERROR ? (int)i : 0;
            else if ((name = plain_copy(&d->strs, v, end, &ve))) sp->status = sl_status_parse(name) >= 0 ? sl_status_parse(name) : 0;
            else return NULL;
        } else if (key_is(k, kl, "message", NULL) && !msg_seen++) {
            char *msg = plain_copy(&d->strs, v, end, &ve);
            if (!msg) return NULL;
            sp->status_message = *msg ? msg : NULL;
        } else {
            return NULL;
        }
        sl_jscan_resume(&it, ve);
    }
    return r == 0 ? it.p : NULL;
}

/* One span member into sp; ve past its value.  0, or -1. */
static int span_member_fast(otlp_dec *d, int field, const char *v, const char *end, const char **ve,
                            sl_span *sp, char ids[3][33], int64_t times[2], kv_find *peer, int *nattrs)
{
    char *s;
    int64_t i;
    switch (field) {
    case F_TRACE:
    case F_SPAN:
    case F_PARENT:
        if (!(s = plain_copy(&d->strs, v, end, ve))) return -1;
        if (field == F_TRACE) sp->trace_id = norm_id_str(s, ids[0]);
        else if (field == F_SPAN) sp->span_id = norm_id_str(s, ids[1]);
        else sp->parent_span_id = *s ? norm_id_str(s, ids[2]) : NULL;
        return 0;
    case F_NAME:
        return (sp->operation = plain_copy(&d->strs, v, end, ve)) ? 0 : -1;
    case F_KIND:
        if ((*ve = int_end(v, end, &i)) && *v != '"') {
            sp->kind = i >= 0 && i <= SL_KIND_CONSUMER ? (int)i : 0;
        } else if ((s = plain_copy(&d->strs, v, end, ve))) {
            int k = sl_kind_parse(s);
            sp->kind = k >= 0 ? k : 0;
        } else {
            return -1;
        }
        return 0;
    case F_START:
    case F_END:
        return (*ve = int_end(v, end, &times[field == F_END])) ? 0 : -1;
    case F_ATTRS:
        return (*nattrs = keyvalues_fast(&d->attrs, v, end, ve, peer)) < 0 ? -1 : 0;
    case F_EVENTS:
        return span_list_fast(d, build_events, v, end, ve);
    case F_LINKS:
        return span_list_fast(d, build_links, v, end, ve);
    case F_STATUS:
        return (*ve = status_fast(d, v, end, sp)) ? 0 : -1;
    default: /* a member the tree path ignores */
        return (*ve = scalar_end(v, end)) ? 0 : -1;
    }
}

static int span_field(const char *k, size_t kl)
{
    for (int i = 0; i < F_COUNT; i++)
        if (k[0] == span_fields[i].camel[0] && key_is(k, kl, span_fields[i].camel, span_fields[i].snake))
            return i;
    return F_COUNT;
}

/* The span [p, pe) into sp as span_fill() would, or 0 to leave it to that. */
static int span_fast(otlp_dec *d, const char *p, const char *pe, sl_span *sp, char ids[3][33])
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    int r, seen = 0, nattrs = 0;
    int64_t times[2];
    kv_find peer = {"peer.service", 0, &d->strs, NULL};
    memset(sp, 0, sizeof *sp);
    sl_buf_reset(&d->strs);
    sl_buf_reset(&d->attrs);
    sl_buf_reset(&d->events);
    sl_buf_reset(&d->links);
    /* Copies of its strings fit in its length: none moves once made. */
    if (sl_buf_reserve(&d->strs, (size_t)(pe - p) + 1) || sl_jscan_open(&it, p, pe, '{')) return 0;
    while ((r = fast_enter(&it, &k, &kl, &v)) == 1) {
        int field = span_field(k, kl);
        if (field < F_COUNT && (seen & (1 << field))) return 0; /* the tree path takes the first */
        if (field < F_COUNT) seen |= 1 << field;
        if (span_member_fast(d, field, v, pe, &ve, sp, ids, times, &peer, &nattrs)) return 0;
        sl_jscan_resume(&it, ve);
    }
    int need = 1 << F_TRACE | 1 << F_SPAN | 1 << F_START | 1 << F_END;
    if (r < 0 || sl_jscan_ws(it.p, pe) != pe || (seen & need) != need || !*sp->trace_id || !*sp->span_id ||
        times[1] < times[0] || __builtin_sub_overflow(times[1], times[0], &sp->duration_ns) ||
        d->attrs.oom || d->events.oom || d->links.oom)
        return 0;
    sp->start_ns = times[0];
    if (!sp->operation) sp->operation = "";
    sp->service = d->service;
    sp->attributes = nattrs ? d->attrs.p : NULL;
    sp->events = d->events.len ? d->events.p : NULL;
    sp->links = d->links.len ? d->links.p : NULL;
    sp->remote_service = peer.value;
    sp->resource = d->has_resource ? d->resource.p : NULL;
    sp->scope = d->has_scope ? d->scope.p : NULL;
    return 1;
}

static void decode_span(otlp_dec *d, const char *p, const char *pe)
{
    cJSON *tree = NULL;
    sl_span sp;
    char ids[3][33];
    const char *why = NULL;
    if (!span_fast(d, p, pe, &sp, ids) &&
        (!(tree = sl_json_parse(p, (size_t)(pe - p), d->err, sizeof d->err)) || span_fill(d, tree, &sp, ids))) {
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

/* The resource at [p, pe) made current without a tree, as resource_tree()
 * would (after clear_resource()); 0 to leave it to that. */
static int resource_fast(otlp_dec *d, const char *p, const char *pe)
{
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    int r, n = 0, seen = 0;
    kv_find svc = {"service.name", 0, &d->res_strs, NULL};
    sl_buf_reset(&d->res_strs);
    if (sl_buf_reserve(&d->res_strs, (size_t)(pe - p) + 1) || sl_jscan_open(&it, p, pe, '{')) return 0;
    while ((r = fast_enter(&it, &k, &kl, &v)) == 1) {
        if (key_is(k, kl, "attributes", NULL)) {
            if (seen++ || (n = keyvalues_fast(&d->resource, v, pe, &ve, &svc)) < 0) return 0;
        } else if (!(ve = scalar_end(v, pe))) {
            return 0;
        }
        sl_jscan_resume(&it, ve);
    }
    if (r < 0 || sl_jscan_ws(it.p, pe) != pe || d->resource.oom) return 0;
    if (!seen) sl_buf_puts(&d->resource, "{}");
    d->has_resource = n > 0;
    if (svc.value) d->service = svc.value;
    return 1;
}

/* The resource at [p, pe) parsed and made current (after clear_resource()). */
static int resource_tree(otlp_dec *d, const char *p, const char *pe)
{
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

/* The resource at [p, pe) (p NULL: none) made current. */
static int set_resource(otlp_dec *d, const char *p, const char *pe)
{
    clear_resource(d);
    if (!p || resource_fast(d, p, pe)) return 0;
    clear_resource(d);
    return resource_tree(d, p, pe);
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
    sl_buf_free(&d->strs);
    sl_buf_free(&d->res_strs);
}

/* Every TracesData value on one line of JSON Lines; broken JSON rejects
 * the line. */
static void decode_line(otlp_dec *d, const char *line, size_t len)
{
    const char *p = line, *end = line + len;
    while (!d->stop && (p = sl_jscan_ws(p, end)) < end) {
        const char *next;
        clear_resource(d);
        if (decode_traces_data(d, p, end, &next)) {
            reject(d, line, d->err, line, len);
            return;
        }
        p = next;
    }
}

/* JSON Lines when the first line holds a whole JSON value.  A first line
 * longer than the peek window may be a huge compact document: read it as a
 * document, which decodes JSON Lines just as well (only less frugally). */
/* JSON Lines when the first line holds one whole value, or when it does
 * not (a broken first record) but the next non-empty line is a whole object
 * starting in its first column, as every line of a JSON Lines file is.  A
 * pretty-printed or multi-line document's second line is indented or is
 * not whole, so a document is not taken for lines. */
static int whole_line(const char *p, const char *nl)
{
    const char *ve = sl_jscan_skip(p, nl);
    return ve && sl_jscan_ws(ve, nl) == nl;
}

static int looks_like_lines(const char *head, size_t len)
{
    const char *end = head + len, *p = sl_jscan_ws(head, end);
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return 0;
    if (whole_line(p, nl)) return 1;
    for (p = nl + 1; p < end && (*p == '\n' || *p == '\r'); p++) {}
    if (p >= end || *p != '{' || !(nl = memchr(p, '\n', (size_t)(end - p)))) return 0;
    return whole_line(p, nl);
}

/* OTLP protobuf (TracesData: field 1, length-delimited, tag 0x0a) given as
 * OTLP JSON: say so once rather than reject every line as not JSON. */
static int looks_like_protobuf(const char *head, size_t len)
{
    if (len < 2 || (unsigned char)head[0] != 0x0a) return 0;
    for (size_t i = 0; i < len && i < 4096; i++) {
        unsigned char c = (unsigned char)head[i];
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return 1; /* binary, not JSON text */
    }
    return 0;
}

static int decode_lines(otlp_dec *d, sl_input *in, char *err, size_t errlen)
{
    char *line;
    size_t len;
    int r;
    while (!d->stop && (r = sl_input_line(in, &line, &len, &d->lineno)) == 1) decode_line(d, line, len);
    if (!d->stop && r < 0) {
        snprintf(err, errlen, "%s", sl_input_error(in));
        return -1;
    }
    return 0;
}

/* ---- Streaming a document ------------------------------------------------
 *
 * Rule 5's document mode.  The input passes through a window run by the
 * document driver (formats/docstream.h: it drops, reads more, keeps line
 * numbers and rejects the rest after broken JSON); the top level of each
 * TracesData -- its resourceSpans (resource_spans,
 * batches) arrays and Tempo's "trace" wrapper -- is walked one token group
 * at a time by a small state machine whose only hold on the window is an
 * offset, and each resourceSpans element is handed to
 * decode_resource_spans() once it is whole in the window.  A step that finds
 * its tokens cut off at the window's end changes nothing and asks for more
 * input; the window then drops what was consumed (counting its lines) and at
 * least doubles what it holds, so memory stays within about twice the
 * biggest resourceSpans element (or other TracesData member) plus a chunk
 * (256 KB).  A document that is one giant resourceSpans element is held
 * whole, as before.
 *
 * At the end of the input, an element still cut off is decoded as far as it
 * goes (its spans before the cut are imported).  On broken JSON the rest of
 * the input is read and rejected in one piece, as when the document was
 * read whole; brackets that do not match look like an element cut off, so
 * they are only found (and the rest held) once the input ends.
 */

#ifndef OTLP_CHUNK /* a seam: the unit test compiles this file with a tiny window */
#define OTLP_CHUNK (256u << 10)
#endif
#define OTLP_NEST 64 /* containers open at once: TracesData objects nested by "trace", arrays */

/* The walk's state; a step answers SL_DOC_* (formats/docstream.h), on
 * SL_DOC_FAIL with the broken JSON at d->bad and the message in d->err. */
typedef struct otlp_stream {
    otlp_dec *d;
    sl_docstream *ds; /* the window: ds->w.buf[0, ds->pos) is consumed */
    int depth;    /* containers open */
    struct {
        char close; /* '}': a TracesData object; ']': its resourceSpans array */
        int n;      /* members or elements walked so far */
    } open[OTLP_NEST];
} otlp_stream;

/* Did the scanner stop at at because the window ends, not because the JSON
 * is wrong?  (It fails at the window's end, or on a key whose closing quote
 * is not there yet.) */
static int cut_off(const otlp_stream *s, const char *at, const char *end)
{
    /* (sl_jscan_ws() takes a byte order mark for whitespace: part of one
     * at the end may be one.) */
    return !s->ds->w.eof && (at >= end || (*at == '"' && !sl_jscan_skip(at, end)) ||
                         (end - at < 3 && !memcmp(at, "\xEF\xBB\xBF", (size_t)(end - at))));
}

/* Is a value scanned to ve whole?  One ending exactly at the window's end
 * may be a number that goes on. */
static int whole(const otlp_stream *s, const char *ve, const char *end)
{
    return ve && (ve < end || s->ds->w.eof);
}

static int stream_push(otlp_dec *d, otlp_stream *s, const char *at, char close)
{
    if (s->depth == OTLP_NEST) return scan_error(d, at, "TracesData (nested too deeply)");
    s->open[s->depth].close = close;
    s->open[s->depth++].n = 0;
    s->ds->pos = (size_t)(at + 1 - s->ds->w.buf);
    return SL_DOC_STEP;
}

/* Between TracesData values: the next one opens. */
static int step_top(otlp_dec *d, otlp_stream *s, const char *p, const char *end)
{
    p = sl_jscan_ws(p, end);
    s->ds->pos = (size_t)(p - s->ds->w.buf);
    if (p == end) return s->ds->w.eof ? SL_DOC_DONE : SL_DOC_MORE;
    if (*p != '{') {
        if (cut_off(s, p, end)) return SL_DOC_MORE;
        d->bad = p;
        snprintf(d->err, sizeof d->err, "expected a JSON object (OTLP TracesData)");
        return SL_DOC_FAIL;
    }
    clear_resource(d);
    return stream_push(d, s, p, '}');
}

/* The next member of a TracesData object. */
static int step_traces_data(otlp_dec *d, otlp_stream *s, const char *p, const char *end)
{
    sl_jscan it = {p, end, '}', s->open[s->depth - 1].n};
    const char *k, *v, *ve;
    size_t kl;
    int r = sl_jscan_enter(&it, &k, &kl, &v);
    if (r < 0) return cut_off(s, it.p, end) ? SL_DOC_MORE : scan_error(d, it.p, "TracesData");
    if (r == 0) {
        s->depth--;
        s->ds->pos = (size_t)(it.p - s->ds->w.buf);
        return SL_DOC_STEP;
    }
    if ((key_is(k, kl, "resourceSpans", "resource_spans") || key_is(k, kl, "batches", NULL)) && *v == '[') {
        s->open[s->depth - 1].n = it.n;
        return stream_push(d, s, v, ']');
    }
    if (key_is(k, kl, "trace", NULL) && *v == '{') {
        s->open[s->depth - 1].n = it.n;
        return stream_push(d, s, v, '}');
    }
    ve = sl_jscan_skip(v, end);
    if (!whole(s, ve, end)) return s->ds->w.eof ? scan_error(d, v, "TracesData") : SL_DOC_MORE;
    s->open[s->depth - 1].n = it.n;
    s->ds->pos = (size_t)(ve - s->ds->w.buf);
    return SL_DOC_STEP;
}

/* The next element of a resourceSpans array, decoded once it is whole. */
static int step_resource_spans(otlp_dec *d, otlp_stream *s, const char *p, const char *end)
{
    sl_jscan it = {p, end, ']', s->open[s->depth - 1].n};
    const char *k, *e, *ee, *after;
    size_t kl;
    int r = sl_jscan_enter(&it, &k, &kl, &e);
    if (r < 0) return cut_off(s, it.p, end) ? SL_DOC_MORE : scan_error(d, it.p, "resourceSpans");
    if (r == 0) {
        s->depth--;
        s->ds->pos = (size_t)(it.p - s->ds->w.buf);
        return SL_DOC_STEP;
    }
    ee = sl_jscan_skip(e, end);
    if (!whole(s, ee, end)) {
        if (!s->ds->w.eof) return SL_DOC_MORE;
        ee = end; /* cut off for good: decode what there is */
    }
    if (decode_resource_spans(d, e, ee, &after)) return SL_DOC_FAIL;
    s->open[s->depth - 1].n = it.n;
    s->ds->pos = (size_t)(after - s->ds->w.buf);
    return SL_DOC_STEP;
}

static int stream_step(void *ctx, sl_docstream *ds)
{
    otlp_stream *s = ctx;
    otlp_dec *d = s->d;
    const char *p = ds->w.buf + ds->pos, *end = ds->w.buf + ds->w.len;
    int r;
    if (!s->depth) r = step_top(d, s, p, end);
    else if (s->open[s->depth - 1].close == '}') r = step_traces_data(d, s, p, end);
    else r = step_resource_spans(d, s, p, end);
    if (r == SL_DOC_FAIL) {
        /* Broken JSON at d->bad: it and the rest of the input are rejected. */
        ds->bad = d->bad;
        snprintf(ds->why, sizeof ds->why, "%s (the rest of the input is rejected)", d->err);
    }
    return r;
}

static void stream_reject(void *ctx, uint64_t line, const char *why, const char *text, size_t len)
{
    otlp_stream *s = ctx;
    sl_sink_reject(s->d->sink, line, why, text, len);
}

static const sl_docformat otlp_document = {stream_step, stream_reject};

static int decode_document(otlp_dec *d, sl_input *in, char *err, size_t errlen)
{
    sl_docstream ds;
    otlp_stream s;
    memset(&s, 0, sizeof s);
    s.d = d;
    s.ds = &ds;
    sl_docstream_init(&ds, OTLP_CHUNK);
    d->lines = &ds.w.lines;
    int rc = sl_docstream_run(&ds, in, &otlp_document, &s, &d->stop, err, errlen);
    d->lines = NULL;
    sl_docstream_free(&ds);
    return rc;
}

static int otlp_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    otlp_dec d;
    size_t hl = 0;
    const char *head = sl_input_peek(in, OTLP_PEEK, &hl);
    if (head && looks_like_protobuf(head, hl)) {
        snprintf(err, errlen, "this looks like OTLP protobuf (binary), not OTLP JSON; "
                              "--format otlp reads OTLP JSON");
        return -1;
    }
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
    size_t cap;              /* of every array above */
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

/* Room for n spans in every array; they share one capacity (each grows
 * from the same one to the same one). */
static int otlp_out_reserve(otlp_out *s, size_t n)
{
    void *arrays[] = {&s->rgroup, &s->sgroup, &s->first, &s->hash, &s->mark, &s->order};
    size_t sizes[] = {sizeof(size_t), sizeof(size_t), sizeof(size_t), sizeof(uint64_t),
                      sizeof(size_t), sizeof(size_t)};
    size_t cap = s->cap;
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        cap = s->cap;
        if (sl_array_reserve(arrays[i], &cap, n, sizes[i], 64)) return -1;
    }
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
