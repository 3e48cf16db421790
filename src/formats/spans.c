/*
 * formats/spans.c -- the native format: JSON Lines, one span per line
 * (docs/formats.md), plus TracAgg's field names so its users can load what
 * they have.  Decoding is line by line, so memory is bounded by the longest
 * line; integers are read from their text (json.h), never via a double.
 *
 * Two readers give the same span: span_fast() reads a plain line (compact
 * members, no escapes, canonical numbers: what spangen and our own export
 * write) straight from its text; any other line, and every line that is to
 * be rejected, goes through a cJSON tree (span_from_json()).
 */
#include "formats/format.h"
#include "base/json.h"
#include "base/span.h"

#include <stdio.h>
#include <string.h>

/* Scratch reused across lines: JSON texts of the structured members. */
typedef struct spans_scratch {
    sl_buf attrs, resource, scope, events, links;
    sl_buf strs;       /* span_fast(): the line's strings, each NUL-terminated */
    char idbuf[3][32]; /* ids given as JSON numbers, as text */
} spans_scratch;

/* The members a span may have, found in one pass over the object (a
 * lookup per member would compare every key again for each). */
enum {
    F_TRACE_ID, F_SPAN_ID, F_PARENT, F_SERVICE, F_SERVICE_NAME, F_OPERATION, F_OPERATION_NAME,
    F_REMOTE, F_STATUS_MESSAGE, F_ERROR_MESSAGE, F_KIND, F_STATUS, F_SHARED, F_START_NS,
    F_START_TIME, F_END_NS, F_DURATION_NS, F_DURATION, F_ATTRIBUTES, F_RESOURCE, F_SCOPE,
    F_EVENTS, F_LINKS, F_COUNT
};
static const char *const field_names[F_COUNT] = {
    "trace_id", "span_id", "parent_span_id", "service", "service_name", "operation",
    "operation_name", "remote_service", "status_message", "error_message", "kind", "status",
    "shared", "start_ns", "start_time", "end_ns", "duration_ns", "duration", "attributes",
    "resource", "scope", "events", "links",
};

/* f[i] = the first member named field_names[i], or NULL; null values count as absent. */
static void collect_fields(const cJSON *o, const cJSON *f[F_COUNT])
{
    memset(f, 0, F_COUNT * sizeof *f);
    for (const cJSON *c = o->child; c; c = c->next) {
        const char *k = c->string;
        for (int i = 0; k && i < F_COUNT; i++) {
            if (k[0] != field_names[i][0] || strcmp(k, field_names[i]) != 0) continue;
            if (!f[i] && !cJSON_IsNull(c)) f[i] = c;
            break;
        }
    }
}

/* A string, or an integer as decimal text (ids are strings, but a producer
 * may well write 42). */
static const char *id_value(const cJSON *it, char *buf, size_t len)
{
    int64_t v;
    if (cJSON_IsString(it)) return it->valuestring;
    if (it && cJSON_IsNumber(it) && sl_json_int64(it, &v) == 0) {
        snprintf(buf, len, "%lld", (long long)v);
        return buf;
    }
    return NULL;
}

static const char *str_value(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsString(a)) return a->valuestring;
    return cJSON_IsString(b) ? b->valuestring : NULL;
}

/* JSON text of it if it has the wanted type, into buf; NULL if absent. */
static const char *json_value(const cJSON *it, int want_object, sl_buf *buf, const char **why)
{
    if (!it) return NULL;
    if (want_object ? !cJSON_IsObject(it) : !cJSON_IsArray(it)) {
        *why = want_object ? "member is not an object" : "member is not an array";
        return NULL;
    }
    sl_buf_reset(buf);
    sl_jw_cjson(buf, it);
    return buf->oom ? NULL : buf->p;
}

/* Kind or status: a name (any case) or an integer in 0..max. */
static int enum_value(const cJSON *it, int (*parse)(const char *), int max, int *out)
{
    int64_t v;
    if (!it) return 0;
    if (cJSON_IsString(it)) *out = parse(it->valuestring);
    else if (sl_json_int64(it, &v) == 0) *out = (int)(v >= 0 && v <= max ? v : -1);
    else *out = -1;
    return *out < 0 ? -1 : 0;
}

/* An integer time in ns, or else seconds given as a decimal (TracAgg). */
static int time_value(const cJSON *ns, const cJSON *secs, int64_t *out, int *have)
{
    *have = ns || secs;
    if (ns) return sl_json_int64(ns, out);
    if (!secs) return 0;
    const char *text = cJSON_IsString(secs) ? secs->valuestring : sl_json_number_text(secs);
    char tmp[32];
    if (!text && cJSON_IsNumber(secs)) { /* an integer number of seconds */
        int64_t v;
        if (sl_json_int64(secs, &v)) return -1;
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        text = tmp;
    }
    return text ? sl_parse_seconds_ns(text, out) : -1;
}

/* end - start; -1, which is rejected as "end before start", when the
 * difference does not fit (e.g. start near 2^63 and end near -2^63). */
static int64_t span_length(int64_t start, int64_t end)
{
    int64_t d;
    return __builtin_sub_overflow(end, start, &d) ? -1 : d;
}

/* Fill sp from the object o; NULL on success, else the reason to reject. */
static const char *span_from_json(const cJSON *o, sl_span *sp, spans_scratch *x)
{
    const char *why = NULL;
    const cJSON *f[F_COUNT];
    memset(sp, 0, sizeof *sp);
    if (!cJSON_IsObject(o)) return "not a JSON object";
    collect_fields(o, f);
    sp->trace_id = id_value(f[F_TRACE_ID], x->idbuf[0], sizeof x->idbuf[0]);
    sp->span_id = id_value(f[F_SPAN_ID], x->idbuf[1], sizeof x->idbuf[1]);
    sp->parent_span_id = id_value(f[F_PARENT], x->idbuf[2], sizeof x->idbuf[2]);
    sp->service = str_value(f[F_SERVICE], f[F_SERVICE_NAME]);
    sp->operation = str_value(f[F_OPERATION], f[F_OPERATION_NAME]);
    sp->remote_service = str_value(f[F_REMOTE], NULL);
    sp->status_message = str_value(f[F_STATUS_MESSAGE], f[F_ERROR_MESSAGE]);
    if (!sp->trace_id) return "missing trace_id";
    if (!sp->span_id) return "missing span_id";
    if (!sp->service) return "missing service";
    if (!sp->operation) return "missing operation";
    if (enum_value(f[F_KIND], sl_kind_parse, 5, &sp->kind)) return "bad kind";
    if (enum_value(f[F_STATUS], sl_status_parse, 2, &sp->status)) return "bad status";
    if (cJSON_IsTrue(f[F_SHARED])) sp->flags |= SL_SPAN_SHARED;

    int64_t end = 0, dur = 0;
    int have_start, have_end, have_dur;
    if (time_value(f[F_START_NS], f[F_START_TIME], &sp->start_ns, &have_start)) return "bad start_ns";
    if (!have_start) return "missing start_ns";
    if (time_value(f[F_END_NS], NULL, &end, &have_end)) return "bad end_ns";
    if (time_value(f[F_DURATION_NS], f[F_DURATION], &dur, &have_dur)) return "bad duration_ns";
    if (!have_end && !have_dur) return "missing end_ns or duration_ns";
    if (have_end && have_dur && span_length(sp->start_ns, end) != dur)
        return "end_ns - start_ns != duration_ns";
    sp->duration_ns = have_dur ? dur : span_length(sp->start_ns, end);
    if (sp->duration_ns < 0) return "end before start";

    sp->attributes = json_value(f[F_ATTRIBUTES], 1, &x->attrs, &why);
    sp->resource = json_value(f[F_RESOURCE], 1, &x->resource, &why);
    sp->scope = json_value(f[F_SCOPE], 1, &x->scope, &why);
    sp->events = json_value(f[F_EVENTS], 0, &x->events, &why);
    sp->links = json_value(f[F_LINKS], 0, &x->links, &why);
    return why ? why : sl_span_check(sp); /* e.g. "" ids: reject here, with the line */
}

/* ---- the fast path ----
 *
 * A cJSON tree costs some fifty allocations a line, a quarter of the
 * parser thread's time at 10M spans.  span_fast() takes a line only when
 * the tree path would accept it and yield the same fields: every value is
 * "plain" (no whitespace inside it, strings without escapes or control
 * bytes, numbers as sl_jw_cjson() would write them back), so a structured
 * member's text can be copied verbatim; the known fields have their usual
 * types; and the span passes every check.  Otherwise it declines and the
 * tree path decides, messages included. */

#define PLAIN_DEPTH 32 /* deeper values go to the tree path */

static const char *plain_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}

/* Past the string at p ('"'), or NULL if it has an escape or control byte. */
static const char *plain_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c == '\\' || c < 0x20) return NULL;
    }
    return NULL;
}

static const char *digits(const char *p, const char *end)
{
    const char *s = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    return p > s ? p : NULL;
}

/* Past the number at p in JSON's grammar, or NULL.  Reals are written back
 * as given (json.h); an integer is written back from its value, so it must
 * already be in canonical form: no "-0". */
static const char *plain_number(const char *p, const char *end)
{
    const char *s = p;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') p++;
    else if (p < end && *p >= '1' && *p <= '9') p = digits(p, end);
    else return NULL;
    int real = 0;
    if (p < end && *p == '.') {
        real = 1;
        if (!(p = digits(p + 1, end))) return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!(p = digits(p, end))) return NULL;
    }
    if (!real && p - s == 2 && s[0] == '-' && s[1] == '0') return NULL; /* -0 */
    if (p - s > 63) return NULL; /* upstream cJSON rejects longer numbers */
    return p;
}

static const char *plain_word(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(end - p) >= n && memcmp(p, w, n) == 0 ? p + n : NULL;
}

/* Past the plain value at p, or NULL. */
static const char *plain_value(const char *p, const char *end, int depth)
{
    if (p >= end || depth > PLAIN_DEPTH) return NULL;
    switch (*p) {
    case '"': return plain_string(p, end);
    case 't': return plain_word(p, end, "true");
    case 'f': return plain_word(p, end, "false");
    case 'n': return plain_word(p, end, "null");
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        if (++p < end && *p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= end || *p != '"' || !(p = plain_string(p, end)) || p >= end || *p++ != ':')
                    return NULL;
            }
            if (!(p = plain_value(p, end, depth + 1)) || p >= end) return NULL;
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    default: return plain_number(p, end);
    }
}

static int field_of(const char *k, size_t klen)
{
    for (int i = 0; i < F_COUNT; i++)
        if (k[0] == field_names[i][0] && strlen(field_names[i]) == klen && !memcmp(k, field_names[i], klen))
            return i;
    return -1;
}

/* The value's bytes, NUL-terminated, in the reserved x->strs. */
static const char *fast_copy(spans_scratch *x, const char *v, size_t n)
{
    const char *at = x->strs.p + x->strs.len;
    sl_buf_append(&x->strs, v, n);
    sl_buf_putc(&x->strs, '\0');
    return at;
}

/* A string member; *odd set when present with another type. */
static const char *fast_str(spans_scratch *x, const char *v, const char *ve, int *odd)
{
    if (!v) return NULL;
    if (*v != '"') {
        *odd = 1;
        return NULL;
    }
    return fast_copy(x, v + 1, (size_t)(ve - v) - 2);
}

static int fast_int(const char *v, const char *ve, int64_t *out)
{
    char tmp[32];
    size_t n = (size_t)(ve - v);
    if (n >= sizeof tmp || memchr(v, '.', n) || memchr(v, 'e', n) || memchr(v, 'E', n) || *v == '"')
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    return sl_parse_int64(tmp, out);
}

/* A kind or status given by name; -1 otherwise. */
static int fast_enum(spans_scratch *x, const char *v, const char *ve, int (*parse)(const char *))
{
    int odd = 0;
    const char *name = fast_str(x, v, ve, &odd);
    return name ? parse(name) : v ? -1 : 0;
}

static const char *fast_json(sl_buf *b, const char *v, const char *ve, char open, int *odd)
{
    if (!v) return NULL;
    if (*v != open) {
        *odd = 1;
        return NULL;
    }
    sl_buf_reset(b);
    sl_buf_append(b, v, (size_t)(ve - v));
    if (b->oom) *odd = 1;
    return b->p;
}

/* Find each known member's first non-null value; 0 unless the whole line
 * is one plain object. */
static int fast_members(const char *p, const char *end, const char *v[F_COUNT], const char *ve[F_COUNT])
{
    memset(v, 0, F_COUNT * sizeof *v);
    p = plain_ws(p, end);
    if (p >= end || *p != '{') return 0;
    p = plain_ws(p + 1, end);
    if (p < end && *p == '}') return plain_ws(p + 1, end) == end;
    for (;;) {
        const char *k = p, *ke = p < end && *p == '"' ? plain_string(p, end) : NULL;
        if (!ke) return 0;
        p = plain_ws(ke, end);
        if (p >= end || *p != ':') return 0;
        const char *val = plain_ws(p + 1, end), *vend = plain_value(val, end, 0);
        if (!vend) return 0;
        int f = field_of(k + 1, (size_t)(ke - k) - 2);
        if (f >= 0 && !v[f] && !(vend - val == 4 && !memcmp(val, "null", 4))) {
            v[f] = val;
            ve[f] = vend;
        }
        p = plain_ws(vend, end);
        if (p < end && *p == ',') {
            p = plain_ws(p + 1, end);
            continue;
        }
        return p < end && *p == '}' && plain_ws(p + 1, end) == end;
    }
}

/* Fill sp from a plain line; 1 if taken, 0 to leave it to the tree path. */
static int span_fast(const char *line, size_t len, sl_span *sp, spans_scratch *x)
{
    const char *v[F_COUNT], *ve[F_COUNT];
    memset(sp, 0, sizeof *sp);
    if (!fast_members(line, line + len, v, ve)) return 0;
    /* TracAgg's seconds and shared flags other than true go the long way. */
    if (v[F_START_TIME] || v[F_DURATION] || (v[F_SHARED] && *v[F_SHARED] != 't' && *v[F_SHARED] != 'f'))
        return 0;
    sl_buf_reset(&x->strs);
    if (sl_buf_reserve(&x->strs, len + F_COUNT)) return 0;
    int odd = 0;
    sp->trace_id = fast_str(x, v[F_TRACE_ID], ve[F_TRACE_ID], &odd);
    sp->span_id = fast_str(x, v[F_SPAN_ID], ve[F_SPAN_ID], &odd);
    sp->parent_span_id = fast_str(x, v[F_PARENT], ve[F_PARENT], &odd);
    const char *svc = fast_str(x, v[F_SERVICE], ve[F_SERVICE], &odd);
    const char *svc_name = fast_str(x, v[F_SERVICE_NAME], ve[F_SERVICE_NAME], &odd);
    const char *op = fast_str(x, v[F_OPERATION], ve[F_OPERATION], &odd);
    const char *op_name = fast_str(x, v[F_OPERATION_NAME], ve[F_OPERATION_NAME], &odd);
    const char *msg = fast_str(x, v[F_STATUS_MESSAGE], ve[F_STATUS_MESSAGE], &odd);
    const char *err_msg = fast_str(x, v[F_ERROR_MESSAGE], ve[F_ERROR_MESSAGE], &odd);
    sp->remote_service = fast_str(x, v[F_REMOTE], ve[F_REMOTE], &odd);
    sp->service = svc ? svc : svc_name;
    sp->operation = op ? op : op_name;
    sp->status_message = msg ? msg : err_msg;
    sp->kind = fast_enum(x, v[F_KIND], ve[F_KIND], sl_kind_parse);
    sp->status = fast_enum(x, v[F_STATUS], ve[F_STATUS], sl_status_parse);
    if (v[F_SHARED] && *v[F_SHARED] == 't') sp->flags |= SL_SPAN_SHARED;
    int64_t end = 0, dur = 0;
    if (odd || sp->kind < 0 || sp->status < 0 || !v[F_START_NS] ||
        fast_int(v[F_START_NS], ve[F_START_NS], &sp->start_ns) ||
        (v[F_END_NS] && fast_int(v[F_END_NS], ve[F_END_NS], &end)) ||
        (v[F_DURATION_NS] && fast_int(v[F_DURATION_NS], ve[F_DURATION_NS], &dur)) ||
        (!v[F_END_NS] && !v[F_DURATION_NS]) ||
        (v[F_END_NS] && v[F_DURATION_NS] && span_length(sp->start_ns, end) != dur))
        return 0;
    sp->duration_ns = v[F_DURATION_NS] ? dur : span_length(sp->start_ns, end);
    sp->attributes = fast_json(&x->attrs, v[F_ATTRIBUTES], ve[F_ATTRIBUTES], '{', &odd);
    sp->resource = fast_json(&x->resource, v[F_RESOURCE], ve[F_RESOURCE], '{', &odd);
    sp->scope = fast_json(&x->scope, v[F_SCOPE], ve[F_SCOPE], '{', &odd);
    sp->events = fast_json(&x->events, v[F_EVENTS], ve[F_EVENTS], '[', &odd);
    sp->links = fast_json(&x->links, v[F_LINKS], ve[F_LINKS], '[', &odd);
    return !odd && sp->duration_ns >= 0 && sp->trace_id && sp->span_id && sp->service &&
           sp->operation && !sl_span_check(sp);
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\f\v", s[i])) return 0;
    return 1;
}

static int spans_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    spans_scratch x;
    memset(&x, 0, sizeof x);
    char *line, why[160];
    size_t len;
    uint64_t lineno = 0;
    int rc, result = 0;
    while ((rc = sl_input_line(in, &line, &len, &lineno)) > 0) {
        if (is_blank(line, len)) continue;
        sl_span sp;
        if (span_fast(line, len, &sp, &x)) {
            if (sl_sink_span(sink, &sp, lineno)) {
                result = -1;
                break;
            }
            continue;
        }
        cJSON *o = sl_json_parse(line, len, why, sizeof why);
        if (!o) {
            sl_sink_reject(sink, lineno, why, line, len);
            continue;
        }
        const char *bad = span_from_json(o, &sp, &x);
        if (bad) sl_sink_reject(sink, lineno, bad, line, len);
        else if (sl_sink_span(sink, &sp, lineno)) result = -1;
        cJSON_Delete(o);
        if (result) break;
    }
    if (rc < 0) {
        snprintf(err, errlen, "line %llu: %s", (unsigned long long)lineno + 1, sl_input_error(in));
        result = -1;
    }
    sl_buf_free(&x.attrs);
    sl_buf_free(&x.resource);
    sl_buf_free(&x.scope);
    sl_buf_free(&x.events);
    sl_buf_free(&x.links);
    sl_buf_free(&x.strs);
    return result;
}

/* Lines of JSON objects with span fields; other JSON formats score higher
 * on their own keys. */
static int spans_detect(const char *head, size_t len)
{
    (void)len;
    const char *p = head;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (*p != '{') return 0;
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    int score = 10;
    if (memmem(p, n, "\"span_id\"", 9)) score += 30;
    if (memmem(p, n, "\"trace_id\"", 10)) score += 30;
    return score;
}

const sl_format sl_format_spans = {"spans", spans_detect, spans_decode};
