/* base/span.c -- validity, naming and identity of spans; see span.h. */
#include "base/span.h"
#include "base/hash.h"
#include "base/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint64_t sl_span_hash(const sl_span *sp)
{
    uint64_t h = SL_HASH_INIT;
    const char *parent = sp->parent_span_id && *sp->parent_span_id ? sp->parent_span_id : NULL;
    const char *strs[] = {sp->trace_id, sp->span_id, parent, sp->service, sp->operation,
                          sp->remote_service, sp->status_message, sp->attributes, sp->resource,
                          sp->scope, sp->events, sp->links};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) h = sl_hash_str(h, strs[i]);
    int64_t nums[] = {sp->kind, sp->status, sp->flags, sp->start_ns, sp->duration_ns};
    return sl_hash_bytes(h, nums, sizeof nums);
}

const char *sl_span_check(const sl_span *sp)
{
    if (!sp->trace_id || !*sp->trace_id) return "missing trace_id";
    if (!sp->span_id || !*sp->span_id) return "missing span_id";
    if (!sp->service || !*sp->service) return "missing service";
    if (!sp->operation) return "missing operation";
    if (sp->duration_ns < 0) return "end before start";
    /* Every reader computes the end as start + duration: it must fit. */
    if (sp->start_ns > INT64_MAX - sp->duration_ns) return "ends after the year 2262 (int64 nanoseconds)";
    if (sp->kind < 0 || sp->kind > 5) return "bad kind";
    if (sp->status < 0 || sp->status > 2) return "bad status";
    return NULL;
}

static const char *const kind_names[] = {"unspecified", "internal", "server",
                                         "client", "producer", "consumer"};
static const char *const status_names[] = {"unset", "ok", "error"};

/* Index of s in names (any case, optional prefix such as "SPAN_KIND_"), or
 * a decimal index, or -1. */
static int name_index(const char *s, const char *const *names, int n, const char *prefix,
                      const char *alias0)
{
    if (!s) return -1;
    size_t plen = strlen(prefix);
    if (strncasecmp(s, prefix, plen) == 0) s += plen;
    for (int i = 0; i < n; i++)
        if (strcasecmp(s, names[i]) == 0) return i;
    if (alias0 && strcasecmp(s, alias0) == 0) return 0;
    if (s[0] >= '0' && s[0] <= '9' && s[1] == '\0' && s[0] - '0' < n) return s[0] - '0';
    return -1;
}

int sl_kind_parse(const char *s)
{
    return name_index(s, kind_names, 6, "SPAN_KIND_", "");
}

int sl_status_parse(const char *s)
{
    return name_index(s, status_names, 3, "STATUS_CODE_", "");
}

const char *sl_kind_name(int kind)
{
    return kind >= 0 && kind <= 5 ? kind_names[kind] : "unspecified";
}

const char *sl_status_name(int status)
{
    return status >= 0 && status <= 2 ? status_names[status] : "unset";
}

void sl_span_normalize(sl_span *sp)
{
    sl_hex_lower((char *)sp->trace_id);
    sl_hex_lower((char *)sp->span_id);
    if (sp->parent_span_id && !*sp->parent_span_id) sp->parent_span_id = NULL;
    if (sp->parent_span_id) sl_hex_lower((char *)sp->parent_span_id);
    const char **optional[] = {&sp->remote_service, &sp->status_message, &sp->attributes,
                               &sp->resource, &sp->scope, &sp->events, &sp->links};
    for (size_t i = 0; i < sizeof optional / sizeof *optional; i++)
        if (*optional[i] && !**optional[i]) *optional[i] = NULL;
}
