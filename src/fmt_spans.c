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

/* A string member, or an integer member as decimal text (ids are strings,
 * but a producer may well write 42). */
static const char *id_member(const cJSON *o, const char *key, char *buf, size_t len)
{
    const cJSON *it = sl_json_get(o, key);
    int64_t v;
    if (cJSON_IsString(it)) return it->valuestring;
    if (it && cJSON_IsNumber(it) && sl_json_int64(it, &v) == 0) {
        snprintf(buf, len, "%lld", (long long)v);
        return buf;
    }
    return NULL;
}

static const char *str_alias(const cJSON *o, const char *a, const char *b)
{
    const char *v = sl_json_str(o, a);
    return v ? v : sl_json_str(o, b);
}

/* JSON text of member key if it has the wanted type, into buf; NULL if absent. */
static const char *json_member(const cJSON *o, const char *key, int want_object, sl_buf *buf,
                               const char **why)
{
    const cJSON *it = sl_json_get(o, key);
    if (!it || cJSON_IsNull(it)) return NULL;
    if (want_object ? !cJSON_IsObject(it) : !cJSON_IsArray(it)) {
        *why = want_object ? "member is not an object" : "member is not an array";
        return NULL;
    }
    sl_buf_reset(buf);
    sl_jw_cjson(buf, it);
    return buf->oom ? NULL : buf->p;
}

/* Kind or status: a name (any case) or an integer. */
static int enum_member(const cJSON *o, const char *key, int (*parse)(const char *), int *out)
{
    const cJSON *it = sl_json_get(o, key);
    int64_t v;
    if (!it || cJSON_IsNull(it)) return 0;
    if (cJSON_IsString(it)) *out = parse(it->valuestring);
    else if (sl_json_int64(it, &v) == 0) *out = (int)(v >= 0 && v <= 5 ? v : -1);
    else *out = -1;
    return *out < 0 ? -1 : 0;
}

/* An integer time in ns, or seconds given as a decimal (TracAgg). */
static int time_member(const cJSON *o, const char *ns_key, const char *s_key, int64_t *out, int *have)
{
    const cJSON *it = sl_json_get(o, ns_key);
    *have = 0;
    if (it && !cJSON_IsNull(it)) {
        *have = 1;
        return sl_json_int64(it, out);
    }
    it = s_key ? sl_json_get(o, s_key) : NULL;
    if (!it || cJSON_IsNull(it)) return 0;
    *have = 1;
    const char *text = cJSON_IsString(it) ? it->valuestring : sl_json_number_text(it);
    char tmp[32];
    if (!text && cJSON_IsNumber(it)) { /* an integer number of seconds */
        int64_t v;
        if (sl_json_int64(it, &v)) return -1;
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        text = tmp;
    }
    return text ? sl_parse_seconds_ns(text, out) : -1;
}

/* Fill sp from the object o; NULL on success, else the reason to reject. */
static const char *span_from_json(const cJSON *o, sl_span *sp, spans_scratch *x)
{
    const char *why = NULL;
    memset(sp, 0, sizeof *sp);
    if (!cJSON_IsObject(o)) return "not a JSON object";
    sp->trace_id = id_member(o, "trace_id", x->idbuf[0], sizeof x->idbuf[0]);
    sp->span_id = id_member(o, "span_id", x->idbuf[1], sizeof x->idbuf[1]);
    sp->parent_span_id = id_member(o, "parent_span_id", x->idbuf[2], sizeof x->idbuf[2]);
    sp->service = str_alias(o, "service", "service_name");
    sp->operation = str_alias(o, "operation", "operation_name");
    sp->remote_service = sl_json_str(o, "remote_service");
    sp->status_message = str_alias(o, "status_message", "error_message");
    if (!sp->trace_id) return "missing trace_id";
    if (!sp->span_id) return "missing span_id";
    if (!sp->service) return "missing service";
    if (!sp->operation) return "missing operation";
    if (enum_member(o, "kind", sl_kind_parse, &sp->kind)) return "bad kind";
    if (enum_member(o, "status", sl_status_parse, &sp->status)) return "bad status";
    if (cJSON_IsTrue(sl_json_get(o, "shared"))) sp->flags |= SL_SPAN_SHARED;

    int64_t end = 0, dur = 0;
    int have_start, have_end, have_dur;
    if (time_member(o, "start_ns", "start_time", &sp->start_ns, &have_start)) return "bad start_ns";
    if (!have_start) return "missing start_ns";
    if (time_member(o, "end_ns", NULL, &end, &have_end)) return "bad end_ns";
    if (time_member(o, "duration_ns", "duration", &dur, &have_dur)) return "bad duration_ns";
    if (!have_end && !have_dur) return "missing end_ns or duration_ns";
    if (have_end && have_dur && end - sp->start_ns != dur) return "end_ns - start_ns != duration_ns";
    sp->duration_ns = have_dur ? dur : end - sp->start_ns;
    if (sp->duration_ns < 0) return "end before start";

    sp->attributes = json_member(o, "attributes", 1, &x->attrs, &why);
    sp->resource = json_member(o, "resource", 1, &x->resource, &why);
    sp->scope = json_member(o, "scope", 1, &x->scope, &why);
    sp->events = json_member(o, "events", 0, &x->events, &why);
    sp->links = json_member(o, "links", 0, &x->links, &why);
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
