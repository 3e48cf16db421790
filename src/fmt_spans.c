/*
 * fmt_spans.c -- the native format: JSON Lines, one span per line
 * (docs/formats.md), plus TracAgg's field names so its users can load what
 * they have.  Decoding is line by line, so memory is bounded by the longest
 * line; integers are read from their text (json.h), never via a double.
 */
#include "format.h"
#include "json.h"
#include "span.h"

#include <stdio.h>
#include <string.h>

/* Scratch reused across lines: JSON texts of the structured members. */
typedef struct spans_scratch {
    sl_buf attrs, resource, scope, events, links;
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
    if (have_end && have_dur && end - sp->start_ns != dur) return "end_ns - start_ns != duration_ns";
    sp->duration_ns = have_dur ? dur : end - sp->start_ns;
    if (sp->duration_ns < 0) return "end before start";

    sp->attributes = json_value(f[F_ATTRIBUTES], 1, &x->attrs, &why);
    sp->resource = json_value(f[F_RESOURCE], 1, &x->resource, &why);
    sp->scope = json_value(f[F_SCOPE], 1, &x->scope, &why);
    sp->events = json_value(f[F_EVENTS], 0, &x->events, &why);
    sp->links = json_value(f[F_LINKS], 0, &x->links, &why);
    return why ? why : sl_span_check(sp); /* e.g. "" ids: reject here, with the line */
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
        cJSON *o = sl_json_parse(line, len, why, sizeof why);
        if (!o) {
            sl_sink_reject(sink, lineno, why, line, len);
            continue;
        }
        sl_span sp;
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
