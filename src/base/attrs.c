/*
 * base/attrs.c -- typed attribute values between OTLP/Jaeger wire forms and the
 * stored JSON; the storage rule is numbered in attrs.h.
 */
#include "base/attrs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"

/* Which member of an AnyValue carries the value. */
typedef enum { AV_STRING, AV_BOOL, AV_INT, AV_DOUBLE, AV_BYTES, AV_ARRAY, AV_KVLIST, AV_NONE } av_kind;

static const struct {
    const char *camel, *snake; /* proto3 JSON accepts both spellings */
    av_kind kind;
} av_keys[] = {
    {"stringValue", "string_value", AV_STRING}, {"boolValue", "bool_value", AV_BOOL},
    {"intValue", "int_value", AV_INT},          {"doubleValue", "double_value", AV_DOUBLE},
    {"bytesValue", "bytes_value", AV_BYTES},    {"arrayValue", "array_value", AV_ARRAY},
    {"kvlistValue", "kvlist_value", AV_KVLIST},
};

static av_kind av_kind_of(const char *key)
{
    /* Hot: once per attribute.  The first letter picks the only candidate. */
    for (size_t i = 0; key && i < sizeof av_keys / sizeof av_keys[0]; i++)
        if (key[0] == av_keys[i].camel[0] &&
            (!strcmp(key, av_keys[i].camel) || !strcmp(key, av_keys[i].snake)))
            return av_keys[i].kind;
    return AV_NONE;
}

void sl_attr_write_double(sl_buf *b, double d)
{
    if (isnan(d)) sl_buf_puts(b, "\"NaN\"");
    else if (isinf(d)) sl_buf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else sl_jw_double(b, d);
}

void sl_attr_write_bytes(sl_buf *b, const char *b64)
{
    sl_buf_puts(b, "{\"$bytes\":");
    sl_jw_string(b, b64 ? b64 : "");
    sl_buf_putc(b, '}');
}

/* doubleValue as a number, a numeric string, or proto3's "NaN"/"Infinity". */
static int write_double_member(sl_buf *b, const cJSON *m)
{
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring;
        if (!strcmp(s, "NaN") || !strcmp(s, "Infinity") || !strcmp(s, "-Infinity")) {
            sl_jw_string(b, s);
            return 0;
        }
    }
    double d;
    if (sl_json_double(m, &d)) return -1;
    sl_attr_write_double(b, d);
    return 0;
}

static int write_bool_member(sl_buf *b, const cJSON *m)
{
    int v;
    if (cJSON_IsBool(m)) v = cJSON_IsTrue(m);
    else if (cJSON_IsString(m) && !strcmp(m->valuestring, "true")) v = 1;
    else if (cJSON_IsString(m) && !strcmp(m->valuestring, "false")) v = 0;
    else return -1;
    sl_buf_puts(b, v ? "true" : "false");
    return 0;
}

static int write_array_member(sl_buf *b, const cJSON *m, char *err, size_t errlen)
{
    const cJSON *vals = sl_json_get(m, "values");
    sl_buf_putc(b, '[');
    if (cJSON_IsArray(vals)) {
        for (const cJSON *v = vals->child; v; v = v->next) {
            if (v != vals->child) sl_buf_putc(b, ',');
            if (sl_attr_from_anyvalue(b, v, err, errlen)) return -1;
        }
    }
    sl_buf_putc(b, ']');
    return 0;
}

static int write_member(sl_buf *b, av_kind kind, const cJSON *m, char *err, size_t errlen)
{
    int64_t i;
    switch (kind) {
    case AV_STRING:
    case AV_BYTES:
        if (cJSON_IsNull(m)) {
            sl_buf_puts(b, "null");
            return 0;
        }
        if (!cJSON_IsString(m)) break;
        if (kind == AV_STRING) sl_jw_string(b, m->valuestring);
        else sl_attr_write_bytes(b, m->valuestring);
        return 0;
    case AV_BOOL:
        if (write_bool_member(b, m) == 0) return 0;
        break;
    case AV_INT:
        if (sl_json_int64(m, &i) == 0) {
            sl_jw_int(b, i);
            return 0;
        }
        break;
    case AV_DOUBLE:
        if (write_double_member(b, m) == 0) return 0;
        break;
    case AV_ARRAY:
        return write_array_member(b, m, err, errlen);
    case AV_KVLIST:
        return sl_attr_from_keyvalues(b, sl_json_get(m, "values"), err, errlen) < 0 ? -1 : 0;
    case AV_NONE:
        break;
    }
    snprintf(err, errlen, "bad %s in attribute value", m->string ? m->string : "value");
    return -1;
}

int sl_attr_from_anyvalue(sl_buf *b, const cJSON *av, char *err, size_t errlen)
{
    if (!av || cJSON_IsNull(av)) {
        sl_buf_puts(b, "null");
        return 0;
    }
    if (!cJSON_IsObject(av)) {
        snprintf(err, errlen, "attribute value is not an AnyValue object");
        return -1;
    }
    /* Unknown members are ignored, as OTLP/JSON receivers must. */
    for (const cJSON *m = av->child; m; m = m->next) {
        av_kind kind = av_kind_of(m->string);
        if (kind != AV_NONE) return write_member(b, kind, m, err, errlen);
    }
    sl_buf_puts(b, "null");
    return 0;
}

int sl_attr_from_keyvalues(sl_buf *b, const cJSON *kvs, char *err, size_t errlen)
{
    int n = 0;
    sl_buf_putc(b, '{');
    if (cJSON_IsArray(kvs)) {
        for (const cJSON *kv = kvs->child; kv; kv = kv->next) {
            const char *key = sl_json_str(kv, "key");
            if (!key) {
                snprintf(err, errlen, "attribute without a key");
                return -1;
            }
            if (n++) sl_buf_putc(b, ',');
            sl_jw_string(b, key);
            sl_buf_putc(b, ':');
            if (sl_attr_from_anyvalue(b, sl_json_get(kv, "value"), err, errlen)) return -1;
        }
    }
    sl_buf_putc(b, '}');
    return n;
}

/* ---- Stored -> wire ---- */

static int is_bigint(const cJSON *v) { return sl_json_is_bigint(v); }

sl_attr_type sl_attr_type_of(const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) return SL_ATTR_EMPTY;
    if (cJSON_IsBool(v)) return SL_ATTR_BOOL;
    if (cJSON_IsNumber(v)) return sl_json_is_real(v) ? SL_ATTR_DOUBLE : SL_ATTR_INT;
    if (cJSON_IsString(v) && is_bigint(v)) {
        int64_t i; /* an integer literal beyond int64 can only be a double */
        return sl_parse_int64(v->valuestring, &i) ? SL_ATTR_DOUBLE : SL_ATTR_INT;
    }
    if (cJSON_IsString(v)) return SL_ATTR_STRING;
    if (cJSON_IsArray(v)) return SL_ATTR_ARRAY;
    if (cJSON_IsObject(v)) return sl_attr_bytes(v) ? SL_ATTR_BYTES : SL_ATTR_KVLIST;
    return SL_ATTR_EMPTY;
}

int sl_attr_int(const cJSON *v, int64_t *out)
{
    if (is_bigint(v)) return sl_parse_int64(v->valuestring, out);
    if (!cJSON_IsNumber(v) || sl_json_is_real(v)) return -1;
    return sl_json_int64(v, out);
}

double sl_attr_double(const cJSON *v)
{
    if (cJSON_IsString(v)) return strtod(v->valuestring, NULL);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

const char *sl_attr_bytes(const cJSON *v)
{
    const cJSON *c = cJSON_IsObject(v) ? v->child : NULL;
    if (!c || c->next || !c->string || strcmp(c->string, "$bytes") || !cJSON_IsString(c)) return NULL;
    return c->valuestring;
}

void sl_attr_to_anyvalue(sl_buf *b, const cJSON *v)
{
    int64_t i = 0;
    switch (sl_attr_type_of(v)) {
    case SL_ATTR_EMPTY:
        sl_buf_puts(b, "{}");
        return;
    case SL_ATTR_STRING:
        sl_buf_puts(b, "{\"stringValue\":");
        sl_jw_string(b, v->valuestring);
        break;
    case SL_ATTR_BOOL:
        sl_buf_puts(b, cJSON_IsTrue(v) ? "{\"boolValue\":true" : "{\"boolValue\":false");
        break;
    case SL_ATTR_INT:
        sl_attr_int(v, &i);
        sl_buf_printf(b, "{\"intValue\":\"%lld\"", (long long)i);
        break;
    case SL_ATTR_DOUBLE:
        sl_buf_puts(b, "{\"doubleValue\":");
        sl_jw_double(b, sl_attr_double(v));
        break;
    case SL_ATTR_BYTES:
        sl_buf_puts(b, "{\"bytesValue\":");
        sl_jw_string(b, sl_attr_bytes(v));
        break;
    case SL_ATTR_ARRAY:
        sl_buf_puts(b, "{\"arrayValue\":{\"values\":[");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child) sl_buf_putc(b, ',');
            sl_attr_to_anyvalue(b, c);
        }
        sl_buf_puts(b, "]}");
        break;
    case SL_ATTR_KVLIST:
        sl_buf_puts(b, "{\"kvlistValue\":{\"values\":");
        sl_attr_to_keyvalues(b, v, NULL);
        sl_buf_putc(b, '}');
        break;
    }
    sl_buf_putc(b, '}');
}

int sl_attr_to_keyvalues(sl_buf *b, const cJSON *obj, const char *skip_key)
{
    int n = 0;
    sl_buf_putc(b, '[');
    for (const cJSON *c = cJSON_IsObject(obj) ? obj->child : NULL; c; c = c->next) {
        if (skip_key && c->string && !strcmp(c->string, skip_key)) continue;
        if (n++) sl_buf_putc(b, ',');
        sl_buf_puts(b, "{\"key\":");
        sl_jw_string(b, c->string ? c->string : "");
        sl_buf_puts(b, ",\"value\":");
        sl_attr_to_anyvalue(b, c);
        sl_buf_putc(b, '}');
    }
    sl_buf_putc(b, ']');
    return n;
}

/* ---- Document scanner ---- */

#define JSCAN_MAX_DEPTH 1000 /* as cJSON's CJSON_NESTING_LIMIT */

const char *sl_jscan_ws(const char *p, const char *end)
{
    if (end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* Just past the closing quote of the string opening at p, or NULL. */
static const char *string_end(const char *p, const char *end)
{
    for (p++; p < end;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) return NULL;
        size_t bs = 0; /* an odd run of backslashes escapes the quote */
        while (q - bs > p && q[-1 - (ptrdiff_t)bs] == '\\') bs++;
        if (!(bs & 1)) return q + 1;
        p = q + 1;
    }
    return NULL;
}

static int is_delim(char c)
{
    return c == ',' || c == '}' || c == ']' || c == ':' || c == ' ' || c == '\n' || c == '\r' ||
           c == '\t';
}

const char *sl_jscan_skip(const char *p, const char *end)
{
    if (p >= end) return NULL;
    if (*p == '"') return string_end(p, end);
    if (*p != '{' && *p != '[') {
        const char *s = p;
        while (p < end && !is_delim(*p) && *p != '"' && *p != '{' && *p != '[') p++;
        return p > s ? p : NULL;
    }
    char stack[JSCAN_MAX_DEPTH];
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            if (!(p = string_end(p, end))) return NULL;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == JSCAN_MAX_DEPTH) return NULL;
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (!depth || stack[--depth] != c) return NULL;
            if (!depth) return p + 1;
        }
        p++;
    }
    return NULL;
}

int sl_jscan_open(sl_jscan *it, const char *p, const char *end, char open)
{
    it->end = end;
    it->n = 0;
    it->close = open == '{' ? '}' : ']';
    it->p = p;
    if (p >= end || *p != open) return -1;
    it->p = p + 1;
    return 0;
}

/* Up to the start of the next value; NULL at the closing bracket (it->p past
 * it) or on a syntax error (it->p at it, *bad set). */
static const char *next_value(sl_jscan *it, const char **key, size_t *klen, int *bad)
{
    const char *p = sl_jscan_ws(it->p, it->end);
    *bad = 0;
    if (p < it->end && *p == it->close) {
        it->p = p + 1;
        return NULL;
    }
    if (it->n) {
        if (p >= it->end || *p != ',') goto bad;
        p = sl_jscan_ws(p + 1, it->end);
    }
    if (it->close == '}') {
        const char *ke = p < it->end && *p == '"' ? string_end(p, it->end) : NULL;
        if (!ke) goto bad;
        *key = p + 1;
        *klen = (size_t)(ke - p - 2);
        p = sl_jscan_ws(ke, it->end);
        if (p >= it->end || *p != ':') goto bad;
        p = sl_jscan_ws(p + 1, it->end);
    } else {
        *key = NULL;
        *klen = 0;
    }
    if (p >= it->end) goto bad;
    it->n++;
    return p;
bad:
    it->p = p;
    *bad = 1;
    return NULL;
}

int sl_jscan_next(sl_jscan *it, const char **key, size_t *klen, const char **val,
                  const char **vend)
{
    int bad;
    const char *p = next_value(it, key, klen, &bad);
    if (!p) return bad ? -1 : 0;
    const char *e = sl_jscan_skip(p, it->end);
    if (!e) {
        it->p = p;
        return -1;
    }
    *val = p;
    *vend = e;
    it->p = e;
    return 1;
}

int sl_jscan_enter(sl_jscan *it, const char **key, size_t *klen, const char **val)
{
    int bad;
    const char *p = next_value(it, key, klen, &bad);
    if (!p) return bad ? -1 : 0;
    *val = p;
    it->p = p;
    return 1;
}

void sl_jscan_resume(sl_jscan *it, const char *after) { it->p = after; }

int sl_jscan_key_is(const char *key, size_t klen, const char *name)
{
    return key && strlen(name) == klen && !memcmp(key, name, klen);
}
