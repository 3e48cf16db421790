/*
 * formats/zipkin.c -- Zipkin v2 JSON in (sl_format_zipkin) and out
 * (sl_exporter_zipkin).  The mapping is documented in
 * docs/formats.md; in short:
 *
 *   traceId, id, parentId   -> trace_id, span_id, parent_span_id (lower-cased;
 *                              an absent, empty or all-zero parentId is a root)
 *   name                    -> operation ("" when absent)
 *   kind                    -> kind (absent: unspecified)
 *   timestamp, duration     -> start_ns, duration_ns (microseconds * 1000, exact)
 *   localEndpoint           -> service = serviceName, lower-cased as Zipkin's
 *                              Endpoint builder does ("unknown" when absent);
 *                              resource {"service.name", "network.local.address",
 *                              "network.local.port", "zipkin.local_ipv6"}
 *   remoteEndpoint          -> remote_service = serviceName (lower-cased); attributes
 *                              "network.peer.address", "network.peer.port",
 *                              "zipkin.remote_ipv6"
 *   tags                    -> attributes, every value a JSON string
 *   tag "error"             -> status error, status_message = its value
 *   tag "otel.status_code"  -> status ok/error when there is no "error" tag
 *   annotations             -> events [{"time_ns","name"}]
 *   shared: true            -> flags |= SL_SPAN_SHARED
 *   debug: true             -> attribute "zipkin.debug": true
 *
 * Requirements this file meets:
 *   1. Input is a span object, an array of spans, an array of arrays of
 *      spans (a list of traces, as GET /api/v2/traces answers), or several
 *      of those one after the other (JSON Lines).
 *   2. The document is streamed through a window (sl_window); a scanner
 *      finds each span's bytes and line and only that span is parsed into a
 *      tree, then dropped, so memory is about twice the biggest span plus a
 *      256 KB chunk (and a copy of each span that waits for a timestamp,
 *      requirement 4).  Spans are handed to the sink as they are met.
 *   3. A bad span (not JSON, not an object, no traceId or id, bad numbers)
 *      is rejected with its line and its verbatim text; the rest imports.
 *   4. A span without a timestamp (Zipkin allows it for late fragments of a
 *      shared span) is placed at the earliest of its annotations, else at
 *      the start of another span with its id, else of its parent, else of
 *      the earliest span of its trace in the document; only a span with
 *      none of these is rejected.  Such spans are emitted after the others.
 *   5. Export writes one JSON array that POST /api/v2/spans accepts, one
 *      trace at a time; importing it again gives back the same rows.
 */
#include "base/buf.h"
#include "base/hash.h"
#include "base/map.h"
#include "formats/docstream.h"
#include "formats/export.h"
#include "formats/format.h"
#include "base/json.h"
#include "base/span.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ZK_UNKNOWN_SERVICE "unknown" /* what Zipkin's UI shows for a span without one */

/* Attribute and resource keys for endpoint fields (kept so export restores them). */
#define K_PEER_ADDR "network.peer.address"
#define K_PEER_PORT "network.peer.port"
#define K_PEER_IPV6 "zipkin.remote_ipv6" /* only when an endpoint has both addresses */
#define K_LOCAL_ADDR "network.local.address"
#define K_LOCAL_PORT "network.local.port"
#define K_LOCAL_IPV6 "zipkin.local_ipv6"
#define K_SERVICE_NAME "service.name"
#define K_DEBUG "zipkin.debug"

/* ---- Small helpers ------------------------------------------------------- */

/* A Zipkin time or duration in microseconds (integer, real or numeric string)
 * as nanoseconds. */
static int zk_micros_ns(const cJSON *it, int64_t *ns)
{
    int64_t us;
    if (sl_json_int64(it, &us) == 0) {
        if (us > INT64_MAX / 1000 || us < INT64_MIN / 1000) return -1;
        *ns = us * 1000;
        return 0;
    }
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble * 1000.0;
        if (!(fabs(d) < 9.2e18)) return -1;
        *ns = (int64_t)llround(d);
        return 0;
    }
    if (cJSON_IsString(it)) return sl_parse_scaled(it->valuestring, 3, ns);
    return -1;
}

/* Append v as a JSON string: strings as they are, other scalars as their
 * JSON text, arrays and objects as compact JSON (OTel's rule for tags). */
static void zk_jw_as_string(sl_buf *b, const cJSON *v, sl_buf *tmp)
{
    if (cJSON_IsString(v)) {
        sl_jw_string(b, v->valuestring);
        return;
    }
    sl_buf_reset(tmp);
    sl_jw_cjson(tmp, v);
    sl_jw_stringn(b, tmp->p ? tmp->p : "", tmp->len);
}

static int zk_is_ipv4(const char *s)
{
    int dots = 0, digits = 0;
    for (; *s; s++) {
        if (*s == '.') {
            if (!digits) return 0;
            dots++;
            digits = 0;
        } else if (*s >= '0' && *s <= '9') {
            if (++digits > 3) return 0;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits;
}

static int zk_is_ipv6(const char *s)
{
    if (!strchr(s, ':')) return 0;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) && *s != ':' && *s != '.') return 0;
    return 1;
}

static int zk_all_zero(const char *s)
{
    for (; *s; s++)
        if (*s != '0') return 0;
    return 1;
}

/* ---- Timestamp index (requirement 4) -------------------------------------- */

/* Maps (base/map.h) from a 64-bit key hash to the earliest start seen.
 * Keys are hashes, not strings, so an entry is 16 bytes; a collision
 * can only misplace a span that had no timestamp at all. */
static int tsmap_put_min(sl_map *m, uint64_t key, int64_t v)
{
    int created;
    uint64_t *slot = sl_map_put(m, key, &created);
    if (!slot) return -1;
    if (created || v < (int64_t)*slot) *slot = (uint64_t)v;
    return 0;
}

static int tsmap_get(const sl_map *m, uint64_t key, int64_t *v)
{
    const uint64_t *slot = sl_map_get(m, key);
    if (!slot) return -1;
    *v = (int64_t)*slot;
    return 0;
}

static uint64_t zk_key(const char *trace_id, const char *span_id)
{
    uint64_t h = sl_hash_str(SL_HASH_INIT, trace_id);
    return span_id ? sl_hash_str(h, span_id) : h;
}

/* ---- Decoder state ------------------------------------------------------ */

typedef struct zk_deferred {
    char *text; /* a copy of the span's bytes: the window moves on */
    size_t len;
    uint64_t line;
} zk_deferred;

typedef struct zk_dec {
    const char *doc;     /* the window's bytes, NUL-terminated at len */
    size_t len, pos;     /* scanner position in doc */
    uint64_t line;       /* line of pos, 1-based */
    sl_sink *sink;
    int stop;            /* the sink asked to stop, or out of memory */
    char *err;           /* fatal error message (the driver's ds.why) */
    size_t errlen;
    sl_buf attrs, res, events, msg, tmp; /* per-span JSON being built */
    sl_map by_span;      /* (trace, id) -> earliest start */
    sl_map by_trace;     /* trace -> earliest start */
    zk_deferred *defer;  /* spans waiting for a timestamp */
    size_t ndefer, defcap;
} zk_dec;

static void zk_reject(zk_dec *d, uint64_t line, const char *why, const char *text, size_t len)
{
    sl_sink_reject(d->sink, line, why, text, len);
}

/* ---- One span: JSON tree -> sl_span --------------------------------------- */

/* Id member: a non-empty string, lower-cased in place when hex. */
static const char *zk_id(cJSON *obj, const char *key, const char **why, const char *missing)
{
    cJSON *it = sl_json_get(obj, key);
    if (!cJSON_IsString(it) || !*it->valuestring) {
        *why = missing;
        return NULL;
    }
    sl_hex_lower(it->valuestring);
    return it->valuestring;
}

/* An endpoint's serviceName, lower-cased in place as Zipkin's
 * Endpoint.Builder does (toLowerCase(Locale.ROOT)), so "stLogin" and
 * "stlogin" are one service.  ASCII letters only: other characters are
 * kept as given.  NULL when absent or not a string. */
static const char *zk_service_name(const cJSON *ep)
{
    cJSON *it = sl_json_get(ep, "serviceName");
    if (!cJSON_IsString(it)) return NULL;
    for (char *c = it->valuestring; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    return it->valuestring;
}

/* localEndpoint -> service and the resource object. */
static void zk_local_endpoint(zk_dec *d, const cJSON *ep, sl_span *sp)
{
    const char *svc = zk_service_name(ep);
    const char *v4 = sl_json_str(ep, "ipv4"), *v6 = sl_json_str(ep, "ipv6");
    const cJSON *port = sl_json_get(ep, "port");
    int first = 1;
    sl_buf *b = &d->res;
    sl_buf_putc(b, '{');
    if (svc && *svc) {
        sl_jw_key(b, K_SERVICE_NAME, &first);
        sl_jw_string(b, svc);
    }
    if (v4 || v6) {
        sl_jw_key(b, K_LOCAL_ADDR, &first);
        sl_jw_string(b, v4 ? v4 : v6);
    }
    if (v4 && v6) {
        sl_jw_key(b, K_LOCAL_IPV6, &first);
        sl_jw_string(b, v6);
    }
    if (cJSON_IsNumber(port) && port->valuedouble > 0) {
        sl_jw_key(b, K_LOCAL_PORT, &first);
        sl_jw_int(b, (int64_t)port->valuedouble);
    }
    sl_buf_putc(b, '}');
    sp->service = svc && *svc ? svc : ZK_UNKNOWN_SERVICE;
}

/* tags -> attributes (opened by the caller) and status. */
static const char *zk_tags(zk_dec *d, const cJSON *tags, sl_span *sp, int *first)
{
    if (!tags || cJSON_IsNull(tags)) return NULL;
    if (!cJSON_IsObject(tags)) return "tags is not an object";
    const cJSON *err = NULL, *code = NULL, *desc = NULL;
    for (const cJSON *t = tags->child; t; t = t->next) {
        if (cJSON_IsNull(t) || !t->string) continue;
        sl_jw_key(&d->attrs, t->string, first);
        zk_jw_as_string(&d->attrs, t, &d->tmp);
        if (strcmp(t->string, "error") == 0) err = t;
        else if (strcmp(t->string, "otel.status_code") == 0) code = t;
        else if (strcmp(t->string, "otel.status_description") == 0) desc = t;
    }
    const cJSON *msg = NULL;
    if (err) {
        sp->status = SL_STATUS_ERROR;
        msg = err;
    } else if (cJSON_IsString(code) && strcasecmp(code->valuestring, "ERROR") == 0) {
        sp->status = SL_STATUS_ERROR;
        msg = desc;
    } else if (cJSON_IsString(code) && strcasecmp(code->valuestring, "OK") == 0) {
        sp->status = SL_STATUS_OK;
    }
    if (msg) {
        sl_buf_reset(&d->msg);
        if (cJSON_IsString(msg)) sl_buf_puts(&d->msg, msg->valuestring);
        else sl_jw_cjson(&d->msg, msg);
        if (d->msg.len) sp->status_message = d->msg.p;
    }
    return NULL;
}

/* remoteEndpoint -> remote_service and attributes (unless a tag took the key). */
static void zk_remote_endpoint(zk_dec *d, const cJSON *ep, const cJSON *tags, sl_span *sp,
                               int *first)
{
    const char *svc = zk_service_name(ep);
    const char *v4 = sl_json_str(ep, "ipv4"), *v6 = sl_json_str(ep, "ipv6");
    const cJSON *port = sl_json_get(ep, "port");
    if (svc && *svc) sp->remote_service = svc;
    if ((v4 || v6) && !sl_json_get(tags, K_PEER_ADDR)) {
        sl_jw_key(&d->attrs, K_PEER_ADDR, first);
        sl_jw_string(&d->attrs, v4 ? v4 : v6);
    }
    if (v4 && v6 && !sl_json_get(tags, K_PEER_IPV6)) {
        sl_jw_key(&d->attrs, K_PEER_IPV6, first);
        sl_jw_string(&d->attrs, v6);
    }
    if (cJSON_IsNumber(port) && port->valuedouble > 0 && !sl_json_get(tags, K_PEER_PORT)) {
        sl_jw_key(&d->attrs, K_PEER_PORT, first);
        sl_jw_int(&d->attrs, (int64_t)port->valuedouble);
    }
}

/* annotations -> events; *earliest gets the first annotation time. */
static const char *zk_annotations(zk_dec *d, const cJSON *anns, sl_span *sp, int64_t *earliest,
                                  int *have)
{
    if (!anns || cJSON_IsNull(anns)) return NULL;
    if (!cJSON_IsArray(anns)) return "annotations is not an array";
    if (!anns->child) return NULL;
    sl_buf *b = &d->events;
    sl_buf_putc(b, '[');
    for (const cJSON *a = anns->child; a; a = a->next) {
        int64_t ns;
        const char *value = sl_json_str(a, "value");
        if (!cJSON_IsObject(a) || !value) return "annotation without a value";
        if (zk_micros_ns(sl_json_get(a, "timestamp"), &ns)) return "annotation without a timestamp";
        if (a != anns->child) sl_buf_putc(b, ',');
        sl_buf_puts(b, "{\"time_ns\":");
        sl_jw_int(b, ns);
        sl_buf_puts(b, ",\"name\":");
        sl_jw_string(b, value);
        sl_buf_putc(b, '}');
        if (!*have || ns < *earliest) *earliest = ns;
        *have = 1;
    }
    sl_buf_putc(b, ']');
    sp->events = b->p;
    return NULL;
}

/* Member "kind" -> SL_KIND_*; -1 if present but unknown. */
static int zk_kind(const cJSON *obj)
{
    const cJSON *k = sl_json_get(obj, "kind");
    if (!k || cJSON_IsNull(k)) return SL_KIND_UNSPECIFIED;
    if (!cJSON_IsString(k)) return -1;
    return sl_kind_parse(k->valuestring);
}

/*
 * Fill sp from the span object js.  Returns NULL, or why the span is
 * rejected.  *has_ts is 0 when neither timestamp nor annotations place it
 * (requirement 4); sp->start_ns is then 0.
 */
static const char *zk_convert(zk_dec *d, cJSON *js, sl_span *sp, int *has_ts)
{
    const char *why = NULL;
    memset(sp, 0, sizeof *sp);
    sl_buf_reset(&d->attrs);
    sl_buf_reset(&d->res);
    sl_buf_reset(&d->events);
    sl_buf_reset(&d->msg);
    if (!cJSON_IsObject(js)) return "not a span object";
    sp->trace_id = zk_id(js, "traceId", &why, "missing traceId");
    if (why) return why;
    sp->span_id = zk_id(js, "id", &why, "missing id");
    if (why) return why;
    const cJSON *parent = sl_json_get(js, "parentId");
    if (cJSON_IsString(parent) && *parent->valuestring && !zk_all_zero(parent->valuestring)) {
        sl_hex_lower(parent->valuestring);
        sp->parent_span_id = parent->valuestring;
    } else if (parent && !cJSON_IsNull(parent) && !cJSON_IsString(parent)) {
        return "parentId is not a string";
    }
    const char *name = sl_json_str(js, "name");
    sp->operation = name ? name : "";
    if ((sp->kind = zk_kind(js)) < 0) return "unknown kind";

    const cJSON *ts = sl_json_get(js, "timestamp"), *dur = sl_json_get(js, "duration");
    *has_ts = 0;
    if (ts && !cJSON_IsNull(ts)) {
        if (zk_micros_ns(ts, &sp->start_ns)) return "bad timestamp";
        *has_ts = sp->start_ns != 0; /* Zipkin reads 0 as absent */
    }
    if (dur && !cJSON_IsNull(dur) && zk_micros_ns(dur, &sp->duration_ns)) return "bad duration";
    if (sp->duration_ns < 0) return "negative duration";

    zk_local_endpoint(d, sl_json_get(js, "localEndpoint"), sp);
    sp->resource = d->res.p;

    const cJSON *tags = sl_json_get(js, "tags");
    int first = 1;
    sl_buf_putc(&d->attrs, '{');
    if ((why = zk_tags(d, tags, sp, &first))) return why;
    zk_remote_endpoint(d, sl_json_get(js, "remoteEndpoint"), tags, sp, &first);
    if (cJSON_IsTrue(sl_json_get(js, "debug")) && !sl_json_get(tags, K_DEBUG)) {
        sl_jw_key(&d->attrs, K_DEBUG, &first);
        sl_buf_puts(&d->attrs, "true");
    }
    sl_buf_putc(&d->attrs, '}');
    if (!first) sp->attributes = d->attrs.p;

    int64_t earliest = 0;
    int have = 0;
    if ((why = zk_annotations(d, sl_json_get(js, "annotations"), sp, &earliest, &have)))
        return why;
    if (!*has_ts && have) {
        sp->start_ns = earliest;
        *has_ts = 1;
    }
    if (cJSON_IsTrue(sl_json_get(js, "shared"))) sp->flags |= SL_SPAN_SHARED;
    if (d->attrs.oom || d->res.oom || d->events.oom || d->msg.oom || d->tmp.oom)
        return "out of memory";
    return sl_span_check(sp);
}

/* Place a span that has no time of its own (requirement 4). */
static int zk_resolve_start(const zk_dec *d, sl_span *sp)
{
    if (tsmap_get(&d->by_span, zk_key(sp->trace_id, sp->span_id), &sp->start_ns) == 0) return 0;
    if (sp->parent_span_id &&
        tsmap_get(&d->by_span, zk_key(sp->trace_id, sp->parent_span_id), &sp->start_ns) == 0)
        return 0;
    return tsmap_get(&d->by_trace, zk_key(sp->trace_id, NULL), &sp->start_ns);
}

static int zk_defer(zk_dec *d, const char *text, size_t len, uint64_t line)
{
    if (sl_array_reserve(&d->defer, &d->defcap, d->ndefer + 1, sizeof *d->defer, 64)) return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    d->defer[d->ndefer++] = (zk_deferred){copy, len, line};
    return 0;
}

/* Decode the span text[0, len).  final: the deferred pass. */
static void zk_span(zk_dec *d, const char *text, size_t len, uint64_t line, int final)
{
    char perr[128];
    cJSON *js = sl_json_parse(text, len, perr, sizeof perr);
    if (!js) {
        zk_reject(d, line, perr, text, len);
        return;
    }
    sl_span sp;
    int has_ts;
    const char *why = zk_convert(d, js, &sp, &has_ts);
    if (!why && !has_ts && !final) {
        if (zk_defer(d, text, len, line)) d->stop = 1;
    } else if (!why && !has_ts && zk_resolve_start(d, &sp)) {
        zk_reject(d, line, "missing timestamp", text, len);
    } else if (why) {
        zk_reject(d, line, why, text, len);
    } else {
        if (!final && (tsmap_put_min(&d->by_span, zk_key(sp.trace_id, sp.span_id), sp.start_ns) ||
                       tsmap_put_min(&d->by_trace, zk_key(sp.trace_id, NULL), sp.start_ns)))
            d->stop = 1;
        if (!d->stop && sl_sink_span(d->sink, &sp, line)) d->stop = 1;
    }
    cJSON_Delete(js);
}

/* ---- The scanner (requirement 2) ----------------------------------------
 *
 * The input passes through a window run by the document driver
 * (formats/docstream.h: it drops, reads more and keeps the window's lines):
 * a small state machine walks the top level and up to two levels of arrays
 * one token group at a time, and each span is decoded once it is whole in
 * the window, then dropped.  Zipkin counts its own lines as it scans.  A
 * step that meets the window's end before its value ends puts pos and line
 * back and asks for more; the window drops what was consumed and at least
 * doubles what it holds, so memory stays within about twice the biggest
 * span plus a chunk.  Broken JSON is met exactly where the whole-document
 * scanner met it, so messages and rejects are the same.
 */

#ifndef ZK_CHUNK /* a seam: the unit test compiles this file with a tiny window */
#define ZK_CHUNK (256u << 10)
#endif

/* Where an open array is: just past '[', before an element, after one. */
enum { ZA_FIRST, ZA_ELEM, ZA_AFTER };

/* The walk's state; a step answers SL_DOC_* (formats/docstream.h), a
 * fatal SL_DOC_FAIL with its message in d->err. */
typedef struct zk_stream {
    zk_dec *d;
    int started;   /* past the byte order mark, if any */
    int eof;       /* the window's eof: what is held is all that is left */
    int depth;     /* arrays open (at most 2) */
    int state[2];  /* ZA_* of each open array */
} zk_stream;

static void zk_skip_ws(zk_dec *d)
{
    while (d->pos < d->len) {
        char c = d->doc[d->pos];
        if (c == '\n') d->line++;
        else if (c != ' ' && c != '\t' && c != '\r') break;
        d->pos++;
    }
}

/* Move past the value at pos (an object, array, string or scalar).
 * Returns 0, or -1 at the end of the input inside it. */
static int zk_skip_value(zk_dec *d)
{
    int depth = 0;
    while (d->pos < d->len) {
        char c = d->doc[d->pos];
        if (c == '"') {
            for (d->pos++; d->pos < d->len && d->doc[d->pos] != '"'; d->pos++) {
                if (d->doc[d->pos] == '\\') d->pos++;
                else if (d->doc[d->pos] == '\n') d->line++;
            }
            if (d->pos >= d->len) return -1;
            d->pos++;
            if (depth == 0) return 0;
            continue;
        }
        if (depth == 0 && (c == '\0' || strchr(",]} \t\r\n", c))) return 0; /* end of a scalar */
        d->pos++;
        if (c == '\n') d->line++;
        else if (c == '{' || c == '[') depth++;
        else if ((c == '}' || c == ']') && --depth == 0) return 0;
    }
    return depth ? -1 : 0;
}

/* The element at pos: a span object, or (at depth < 2) an array, opened.
 * SL_DOC_DONE after a rejected truncated element (it stops the import). */
static int zk_element(zk_dec *d, zk_stream *s)
{
    size_t start = d->pos;
    uint64_t line = d->line;
    char c = d->doc[d->pos];
    if (c == '[' && s->depth < 2) {
        d->pos++;
        s->state[s->depth++] = ZA_FIRST;
        return SL_DOC_STEP;
    }
    int cut = zk_skip_value(d);
    /* A value that reaches the window's end may go on (a scalar): look again
     * with more of the input. */
    if (!s->eof && (cut || d->pos >= d->len)) {
        d->pos = start;
        d->line = line;
        return SL_DOC_MORE;
    }
    if (cut) {
        zk_reject(d, line, "unexpected end of input inside a span", d->doc + start, d->len - start);
        return SL_DOC_DONE;
    }
    if (c == '{') zk_span(d, d->doc + start, d->pos - start, line, 0);
    else zk_reject(d, line, "not a span object", d->doc + start, d->pos - start);
    return SL_DOC_STEP;
}

/* "line N: unexpected end of input: missing ']'" */
static int zk_missing_bracket(zk_dec *d)
{
    snprintf(d->err, d->errlen, "line %llu: unexpected end of input: missing ']'",
             (unsigned long long)d->line);
    return SL_DOC_FAIL;
}

/* One step inside the innermost open array. */
static int zk_step_array(zk_dec *d, zk_stream *s)
{
    int *st = &s->state[s->depth - 1];
    if (d->stop) return SL_DOC_DONE;
    zk_skip_ws(d);
    if (d->pos >= d->len) return s->eof ? zk_missing_bracket(d) : SL_DOC_MORE;
    char c = d->doc[d->pos];
    if (*st == ZA_FIRST) {
        *st = ZA_ELEM;
        if (c == ']') {
            d->pos++;
            s->depth--;
            if (s->depth) s->state[s->depth - 1] = ZA_AFTER;
        }
        return SL_DOC_STEP;
    }
    if (*st == ZA_ELEM) {
        *st = ZA_AFTER; /* the element may open an array, which ends in AFTER */
        int r = zk_element(d, s);
        if (r == SL_DOC_MORE) *st = ZA_ELEM;
        return r;
    }
    d->pos++;
    if (c == ']') {
        s->depth--;
        if (s->depth) s->state[s->depth - 1] = ZA_AFTER;
        return SL_DOC_STEP;
    }
    if (c != ',') {
        snprintf(d->err, d->errlen, "line %llu: expected ',' or ']' after a span, found '%c'",
                 (unsigned long long)d->line, c);
        return SL_DOC_FAIL;
    }
    *st = ZA_ELEM;
    return SL_DOC_STEP;
}

/* One step between top-level values. */
static int zk_step_top(zk_dec *d, zk_stream *s)
{
    zk_skip_ws(d);
    if (d->stop) return SL_DOC_DONE;
    if (d->pos >= d->len) return s->eof ? SL_DOC_DONE : SL_DOC_MORE;
    char c = d->doc[d->pos];
    if (c != '{' && c != '[') {
        snprintf(d->err, d->errlen,
                 "line %llu: expected a Zipkin span object or an array of spans, found '%c'",
                 (unsigned long long)d->line, c);
        return SL_DOC_FAIL;
    }
    return zk_element(d, s);
}

/* One step, with d->doc, len and pos on the window.  A byte order mark
 * is looked for at the start only. */
static int zk_doc_step(void *ctx, sl_docstream *ds)
{
    zk_stream *s = ctx;
    zk_dec *d = s->d;
    int r = SL_DOC_STEP;
    d->doc = ds->w.buf;
    d->len = ds->w.len;
    d->pos = ds->pos;
    s->eof = ds->w.eof;
    if (!s->started) {
        if (!s->eof && d->len < 3) return SL_DOC_MORE;
        s->started = 1;
        if (d->len >= 3 && memcmp(d->doc, "\xEF\xBB\xBF", 3) == 0) d->pos = 3;
    } else {
        r = s->depth ? zk_step_array(d, s) : zk_step_top(d, s);
    }
    ds->pos = d->pos;
    return r;
}

static const sl_docformat zk_document = {zk_doc_step, NULL};

static int zk_walk(zk_dec *d, sl_input *in, char *err, size_t errlen)
{
    sl_docstream ds;
    zk_stream s;
    memset(&s, 0, sizeof s);
    s.d = d;
    sl_docstream_init(&ds, ZK_CHUNK);
    d->err = ds.why;
    d->errlen = sizeof ds.why;
    int rc = sl_docstream_run(&ds, in, &zk_document, &s, &d->stop, err, errlen);
    sl_docstream_free(&ds);
    d->err = NULL;
    d->doc = NULL;
    d->len = d->pos = 0;
    return rc;
}

static int zk_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    zk_dec d;
    memset(&d, 0, sizeof d);
    d.line = 1;
    sl_map_init(&d.by_span);
    sl_map_init(&d.by_trace);
    d.sink = sink;
    int rc = zk_walk(&d, in, err, errlen);
    for (size_t i = 0; i < d.ndefer && !d.stop; i++)
        zk_span(&d, d.defer[i].text, d.defer[i].len, d.defer[i].line, 1);
    for (size_t i = 0; i < d.ndefer; i++) free(d.defer[i].text);
    sl_buf_free(&d.attrs);
    sl_buf_free(&d.res);
    sl_buf_free(&d.events);
    sl_buf_free(&d.msg);
    sl_buf_free(&d.tmp);
    sl_map_free(&d.by_span);
    sl_map_free(&d.by_trace);
    free(d.defer);
    return rc;
}

/*
 * Zipkin v2 JSON starts with '{' or '[' and uses "traceId" (OTLP also does,
 * but always with "spanId"; Jaeger writes "traceID").  Endpoint keys are
 * Zipkin's alone, so they make it certain.
 */
static int zk_has(const char *head, size_t len, const char *needle)
{
    return memmem(head, len, needle, strlen(needle)) != NULL;
}

static int zk_detect(const char *head, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < len && strchr(" \t\r\n", head[i]) && head[i]) i++;
    if (i >= len || (head[i] != '{' && head[i] != '[')) return 0;
    if (!zk_has(head, len, "\"traceId\"")) return 0;
    if (zk_has(head, len, "\"localEndpoint\"") || zk_has(head, len, "\"remoteEndpoint\"")) return 90;
    if (zk_has(head, len, "\"spanId\"") || zk_has(head, len, "\"resourceSpans\"")) return 0;
    return zk_has(head, len, "\"id\"") ? 70 : 0;
}

const sl_format sl_format_zipkin = {"zipkin", zk_detect, zk_decode};

/* ---- Export ------------------------------------------------------------- */

typedef struct zk_out {
    cJSON *attrs, *res, *events, *scope; /* parsed JSON members of the span, or NULL */
    sl_buf tmp;
} zk_out;

static const char *zk_kind_name(int kind)
{
    switch (kind) {
    case SL_KIND_SERVER: return "SERVER";
    case SL_KIND_CLIENT: return "CLIENT";
    case SL_KIND_PRODUCER: return "PRODUCER";
    case SL_KIND_CONSUMER: return "CONSUMER";
    default: return NULL; /* INTERNAL and unspecified: Zipkin omits kind */
    }
}

static cJSON *zk_parse_member(const char *json)
{
    char err[64];
    return json && *json ? sl_json_parse(json, strlen(json), err, sizeof err) : NULL;
}

/* Attribute keys that export moves into an endpoint or a flag. */
static int zk_moved_attr(const cJSON *v)
{
    const char *k = v->string;
    if (strcmp(k, K_PEER_ADDR) == 0)
        return cJSON_IsString(v) && (zk_is_ipv4(v->valuestring) || zk_is_ipv6(v->valuestring));
    if (strcmp(k, K_PEER_IPV6) == 0) return cJSON_IsString(v) && zk_is_ipv6(v->valuestring);
    if (strcmp(k, K_PEER_PORT) == 0 || strcmp(k, K_LOCAL_PORT) == 0)
        return cJSON_IsNumber(v) && !sl_json_is_real(v) && v->valuedouble > 0 &&
               v->valuedouble < 65536;
    if (strcmp(k, K_DEBUG) == 0) return cJSON_IsTrue(v);
    return 0;
}

static int zk_moved_res(const cJSON *v)
{
    const char *k = v->string;
    if (strcmp(k, K_SERVICE_NAME) == 0) return 1;
    if (strcmp(k, K_LOCAL_ADDR) == 0)
        return cJSON_IsString(v) && (zk_is_ipv4(v->valuestring) || zk_is_ipv6(v->valuestring));
    if (strcmp(k, K_LOCAL_IPV6) == 0) return cJSON_IsString(v) && zk_is_ipv6(v->valuestring);
    if (strcmp(k, K_LOCAL_PORT) == 0) return zk_moved_attr(v);
    return 0;
}

/* Write the address/port members of an endpoint; returns members written. */
static int zk_endpoint_addrs(sl_buf *b, const cJSON *obj, const char *addr_key,
                             const char *v6_key, const char *port_key, int *first)
{
    int n = 0;
    const cJSON *addr = sl_json_get(obj, addr_key), *v6 = sl_json_get(obj, v6_key);
    const cJSON *port = sl_json_get(obj, port_key);
    if (cJSON_IsString(addr) && (zk_is_ipv4(addr->valuestring) || zk_is_ipv6(addr->valuestring))) {
        sl_jw_key(b, zk_is_ipv4(addr->valuestring) ? "ipv4" : "ipv6", first);
        sl_jw_string(b, addr->valuestring);
        n++;
    }
    if (cJSON_IsString(v6) && zk_is_ipv6(v6->valuestring)) {
        sl_jw_key(b, "ipv6", first);
        sl_jw_string(b, v6->valuestring);
        n++;
    }
    if (port && zk_moved_attr(port)) {
        sl_jw_key(b, "port", first);
        sl_jw_int(b, (int64_t)port->valuedouble);
        n++;
    }
    return n;
}

static void zk_write_local(sl_buf *b, const sl_span *sp, zk_out *z)
{
    /* Import names a span without serviceName "unknown" and leaves
     * service.name out of its resource: write it back without one. */
    int omit = z->res && !sl_json_get(z->res, K_SERVICE_NAME) &&
               strcmp(sp->service, ZK_UNKNOWN_SERVICE) == 0;
    size_t mark = b->len;
    int first = 1, n = 0;
    sl_buf_puts(b, ",\"localEndpoint\":{");
    if (!omit) {
        sl_jw_key(b, "serviceName", &first);
        sl_jw_string(b, sp->service);
        n++;
    }
    n += zk_endpoint_addrs(b, z->res, K_LOCAL_ADDR, K_LOCAL_IPV6, K_LOCAL_PORT, &first);
    sl_buf_putc(b, '}');
    if (!n) b->len = mark, b->p[mark] = '\0';
}

static void zk_write_remote(sl_buf *b, const sl_span *sp, zk_out *z)
{
    size_t mark = b->len;
    int first = 1, n = 0;
    sl_buf_puts(b, ",\"remoteEndpoint\":{");
    if (sp->remote_service && *sp->remote_service) {
        sl_jw_key(b, "serviceName", &first);
        sl_jw_string(b, sp->remote_service);
        n++;
    }
    n += zk_endpoint_addrs(b, z->attrs, K_PEER_ADDR, K_PEER_IPV6, K_PEER_PORT, &first);
    sl_buf_putc(b, '}');
    if (!n) b->len = mark, b->p[mark] = '\0';
}

static void zk_write_annotations(sl_buf *b, zk_out *z)
{
    if (!cJSON_IsArray(z->events) || !z->events->child) return;
    sl_buf_puts(b, ",\"annotations\":[");
    for (const cJSON *e = z->events->child; e; e = e->next) {
        int64_t ns = 0;
        sl_json_int64(sl_json_get(e, "time_ns"), &ns);
        const char *name = sl_json_str(e, "name");
        const cJSON *attrs = sl_json_get(e, "attributes");
        if (e != z->events->child) sl_buf_putc(b, ',');
        sl_buf_puts(b, "{\"timestamp\":");
        sl_jw_int(b, ns / 1000);
        sl_buf_puts(b, ",\"value\":");
        if (cJSON_IsObject(attrs) && attrs->child) {
            /* Zipkin annotations carry no attributes: OTel's rule appends them as JSON. */
            sl_buf tmp = SL_BUF_INIT;
            sl_buf_puts(&tmp, name ? name : "");
            sl_buf_putc(&tmp, ' ');
            sl_jw_cjson(&tmp, attrs);
            sl_jw_stringn(b, tmp.p, tmp.len);
            sl_buf_free(&tmp);
        } else {
            sl_jw_string(b, name ? name : "");
        }
        sl_buf_putc(b, '}');
    }
    sl_buf_putc(b, ']');
}

/* One extra tag unless the span's attributes already have that key. */
static void zk_extra_tag(sl_buf *b, zk_out *z, const char *key, const cJSON *v,
                         const char *s, int *first)
{
    if (sl_json_get(z->attrs, key)) return;
    sl_jw_key(b, key, first);
    if (v) zk_jw_as_string(b, v, &z->tmp);
    else sl_jw_string(b, s);
}

static void zk_write_tags(sl_buf *b, const sl_span *sp, zk_out *z)
{
    size_t mark = b->len;
    int first = 1;
    sl_buf_puts(b, ",\"tags\":{");
    if (cJSON_IsObject(z->attrs))
        for (const cJSON *a = z->attrs->child; a; a = a->next) {
            if (!a->string || cJSON_IsNull(a) || zk_moved_attr(a)) continue;
            /* OTel: a false "error" attribute must not become Zipkin's error tag. */
            if (cJSON_IsFalse(a) && strcmp(a->string, "error") == 0) continue;
            sl_jw_key(b, a->string, &first);
            zk_jw_as_string(b, a, &z->tmp);
        }
    if (sp->status == SL_STATUS_ERROR)
        zk_extra_tag(b, z, "error", NULL, sp->status_message ? sp->status_message : "", &first);
    else if (sp->status == SL_STATUS_OK)
        zk_extra_tag(b, z, "otel.status_code", NULL, "OK", &first);
    if (cJSON_IsObject(z->res))
        for (const cJSON *r = z->res->child; r; r = r->next)
            if (r->string && !cJSON_IsNull(r) && !zk_moved_res(r))
                zk_extra_tag(b, z, r->string, r, NULL, &first);
    const char *sname = sl_json_str(z->scope, "name"), *sver = sl_json_str(z->scope, "version");
    if (sname && *sname) zk_extra_tag(b, z, "otel.scope.name", NULL, sname, &first);
    if (sver && *sver) zk_extra_tag(b, z, "otel.scope.version", NULL, sver, &first);
    sl_buf_putc(b, '}');
    if (first) b->len = mark, b->p[mark] = '\0';
}

static void zk_write_span(sl_buf *b, const sl_span *sp, zk_out *z)
{
    z->attrs = zk_parse_member(sp->attributes);
    z->res = zk_parse_member(sp->resource);
    z->events = zk_parse_member(sp->events);
    z->scope = zk_parse_member(sp->scope);

    sl_buf_puts(b, "{\"traceId\":");
    sl_jw_string(b, sp->trace_id);
    if (sp->parent_span_id && *sp->parent_span_id) {
        sl_buf_puts(b, ",\"parentId\":");
        sl_jw_string(b, sp->parent_span_id);
    }
    sl_buf_puts(b, ",\"id\":");
    sl_jw_string(b, sp->span_id);
    const char *kind = zk_kind_name(sp->kind);
    if (kind) sl_buf_printf(b, ",\"kind\":\"%s\"", kind);
    sl_buf_puts(b, ",\"name\":");
    sl_jw_string(b, sp->operation ? sp->operation : "");
    sl_buf_puts(b, ",\"timestamp\":");
    sl_jw_int(b, sp->start_ns / 1000);
    if (sp->duration_ns > 0) {
        /* Zipkin rounds sub-microsecond durations up rather than to absent. */
        sl_buf_puts(b, ",\"duration\":");
        sl_jw_int(b, (sp->duration_ns + 999) / 1000);
    }
    zk_write_local(b, sp, z);
    zk_write_remote(b, sp, z);
    zk_write_annotations(b, z);
    zk_write_tags(b, sp, z);
    if (cJSON_IsTrue(sl_json_get(z->attrs, K_DEBUG))) sl_buf_puts(b, ",\"debug\":true");
    if (sp->flags & SL_SPAN_SHARED) sl_buf_puts(b, ",\"shared\":true");
    sl_buf_putc(b, '}');

    cJSON_Delete(z->attrs);
    cJSON_Delete(z->res);
    cJSON_Delete(z->events);
    cJSON_Delete(z->scope);
}

static int zk_begin(sl_export_out *o)
{
    sl_buf_putc(&o->buf, '[');
    return 0;
}

static int zk_trace(sl_export_out *o, const sl_span *spans, size_t n)
{
    zk_out z;
    memset(&z, 0, sizeof z);
    for (size_t i = 0; i < n; i++) {
        if (o->ntraces > 0 || i > 0) sl_buf_putc(&o->buf, ',');
        sl_buf_putc(&o->buf, '\n');
        zk_write_span(&o->buf, &spans[i], &z);
        if (o->buf.len >= (1u << 20) && sl_export_flush(o)) break;
    }
    sl_buf_free(&z.tmp);
    if (o->buf.oom) return -1;
    return sl_export_flush(o);
}

static int zk_end(sl_export_out *o)
{
    sl_buf_puts(&o->buf, o->ntraces ? "\n]\n" : "]\n");
    return sl_export_flush(o);
}

const sl_exporter sl_exporter_zipkin = {"zipkin", zk_begin, zk_trace, zk_end};
