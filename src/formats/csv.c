/*
 * formats/csv.c -- spans as CSV, in (sl_format_csv, through libcsv) and out
 * (sl_exporter_csv).  Documented in docs/formats.md.
 *
 * Import
 *   1. The first record is the header.  Each spanlite field is read from
 *      the column that `--map FIELD=COLUMN` names (sl_import_opts.csv_map;
 *      `--map FIELD=` turns a default off), else from the first column whose
 *      name, lower-cased and stripped of everything but letters and digits,
 *      is one of the field's default names (csv_fields[] below: "TraceID",
 *      "trace_id" and "traceId" are all "traceid").  Columns no field uses
 *      become string attributes; empty cells are left out.
 *   2. Times come from one field of each group: start (start_ns, start_us,
 *      start_ms, start_time), end (end_ns, ...) or duration (duration_ns,
 *      ...).  *_time is read by base/timeparse.h without its relative
 *      forms: an ISO 8601 / RFC 3339 date or date-time checked against the
 *      calendar, or an epoch number (an integer's unit by its magnitude, a
 *      decimal in seconds), inside int64 nanoseconds.  With both an end
 *      and a duration, the end decides and the duration must agree with it
 *      to within one unit of its own (so a truncated microsecond Duration
 *      column next to nanosecond times is accepted).  Decimal fractions are
 *      read exactly.
 *   3. A parent that is empty, "root", "0", "null", "none" (any case) or
 *      all zeros names no span: the span is a root.
 *   4. `pod` is a Kubernetes pod name: unless a service column is mapped,
 *      the service is the pod name without its ReplicaSet hash and pod
 *      suffix ("ts-gateway-service-6f6cfc45b-h5m2n" -> "ts-gateway-service"),
 *      and the resource keeps {"service.name", "k8s.pod.name"}.  A PodName
 *      column maps to pod by default; `--map service=PodName` keeps the
 *      whole pod name as the service instead.
 *   5. RFC 4180 quoting with fields spanning lines, a UTF-8 BOM, CRLF line
 *      ends, and ',', ';', tab or '|' as delimiter (the most frequent one in
 *      the header line) are accepted.
 *   6. A record with the wrong number of fields, a missing required value
 *      or a bad number or time is rejected with the physical line where it
 *      starts, the reason ("bad start_time \"2023-02-31\": no such day in
 *      that month") and its raw text; the rest imports.  A header that lacks a required
 *      field is a fatal error naming the --map to add.
 *   7. Memory is bounded by the longest record: the input is read line by
 *      line and fed to libcsv, never whole.
 *
 * Export: a header row, then one row per span, quoted per RFC 4180 with
 * CRLF line ends; `attributes` is the span's JSON object.  It imports back
 * with the defaults of point 1.
 */
#include <csv.h>

#include "formats/export.h"
#include "formats/format.h"
#include "base/json.h"
#include "base/span.h"
#include "base/timeparse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_MAX_RECORD (64u << 20) /* a longer record is an unterminated quote */

/* ---- Fields ------------------------------------------------------------- */

enum {
    F_TRACE, F_SPAN, F_PARENT, F_SERVICE, F_POD, F_OPERATION, F_KIND, F_STATUS,
    F_STATUS_MSG, F_REMOTE, F_ATTRS,
    F_START_NS, F_START_US, F_START_MS, F_START_TIME,
    F_END_NS, F_END_US, F_END_MS, F_END_TIME,
    F_DUR_NS, F_DUR_US, F_DUR_MS,
    NFIELDS
};
enum { G_NONE, G_START, G_END, G_DUR }; /* time groups: one field of each is read */
#define SCALE_TIME (-1) /* ISO 8601 or epoch seconds */

typedef struct csv_field {
    const char *name;     /* as in --map */
    int group;            /* G_* */
    int scale;            /* the unit as decimal digits of a nanosecond count: ns 0, us 3, ms 6 */
    const char *defaults; /* normalised header names, space-separated */
} csv_field;

static const csv_field csv_fields[NFIELDS] = {
    [F_TRACE] = {"trace_id", G_NONE, 0, "traceid"},
    [F_SPAN] = {"span_id", G_NONE, 0, "spanid"},
    [F_PARENT] = {"parent_span_id", G_NONE, 0, "parentspanid parentid parent parentspan"},
    [F_SERVICE] = {"service", G_NONE, 0, "service servicename"},
    [F_POD] = {"pod", G_NONE, 0, "podname pod k8spodname"},
    [F_OPERATION] = {"operation", G_NONE, 0, "operation operationname name spanname"},
    [F_KIND] = {"kind", G_NONE, 0, "kind spankind"},
    [F_STATUS] = {"status", G_NONE, 0, "status statuscode"},
    [F_STATUS_MSG] = {"status_message", G_NONE, 0, "statusmessage statusdescription errormessage"},
    [F_REMOTE] = {"remote_service", G_NONE, 0, "remoteservice peerservice"},
    [F_ATTRS] = {"attributes", G_NONE, 0, "attributes"},
    [F_START_NS] = {"start_ns", G_START, 0, "startns starttimeunixnano starttimens startnanos"},
    [F_START_US] = {"start_us", G_START, 3, "startus starttimeus startmicros"},
    [F_START_MS] = {"start_ms", G_START, 6, "startms starttimems startmillis"},
    [F_START_TIME] = {"start_time", G_START, SCALE_TIME, "starttime start"},
    [F_END_NS] = {"end_ns", G_END, 0, "endns endtimeunixnano endtimens endnanos"},
    [F_END_US] = {"end_us", G_END, 3, "endus endtimeus endmicros"},
    [F_END_MS] = {"end_ms", G_END, 6, "endms endtimems endmillis"},
    [F_END_TIME] = {"end_time", G_END, SCALE_TIME, "endtime end"},
    [F_DUR_NS] = {"duration_ns", G_DUR, 0, "durationns durationnanos"},
    [F_DUR_US] = {"duration_us", G_DUR, 3, "durationus durationmicros duration"},
    [F_DUR_MS] = {"duration_ms", G_DUR, 6, "durationms durationmillis"},
};

/* ---- Value parsing -------------------------------------------------------- */

/* A field's value as nanoseconds, by the field's unit: *_time columns
 * through base/timeparse.h (ISO 8601 / RFC 3339 or epoch, no relative
 * forms), the others as exact decimals of their unit.  0, or -1 with *why
 * set to the reason (NULL when it is only "bad"). */
static int csv_field_ns(int f, const char *s, int64_t *ns, const char **why)
{
    int scale = csv_fields[f].scale;
    *why = NULL;
    if (scale == SCALE_TIME) return sl_time_parse(s, 0, 0, ns, why) == SL_OK ? 0 : -1;
    return sl_parse_scaled(s, scale, ns);
}

static int csv_is_root_marker(const char *s)
{
    static const char *const markers[] = {"", "root", "null", "none", "nil"};
    for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
        if (strcasecmp(s, markers[i]) == 0) return 1;
    for (; *s == '0'; s++) {}
    return *s == '\0';
}

/* Characters Kubernetes uses in generated name suffixes (no vowels, no 0 1 3). */
static int csv_k8s_suffix(const char *s, size_t n, size_t min, size_t max)
{
    if (n < min || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("bcdfghjklmnpqrstvwxz2456789", s[i])) return 0;
    return 1;
}

/* Length of the workload name in a pod name (point 4). */
static size_t csv_pod_service_len(const char *pod)
{
    size_t n = strlen(pod);
    const char *dash = memrchr(pod, '-', n);
    if (!dash || dash == pod) return n;
    size_t seg = n - (size_t)(dash - pod) - 1;
    if (!csv_k8s_suffix(dash + 1, seg, 5, 5)) {
        int ordinal = seg > 0 && strspn(dash + 1, "0123456789") == seg;
        return ordinal ? (size_t)(dash - pod) : n; /* StatefulSet: name-0 */
    }
    n = (size_t)(dash - pod);
    dash = memrchr(pod, '-', n);
    if (dash && dash != pod && csv_k8s_suffix(dash + 1, n - (size_t)(dash - pod) - 1, 6, 10))
        n = (size_t)(dash - pod); /* Deployment: name-<replicaset hash>-<suffix> */
    return n;
}

/* Header name folded for matching defaults: lower-case letters and digits only. */
static void csv_fold(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    for (; *s && n + 1 < outlen; s++)
        if (isalnum((unsigned char)*s)) out[n++] = (char)tolower((unsigned char)*s);
    out[n] = '\0';
}

static int csv_in_list(const char *word, const char *list)
{
    size_t n = strlen(word);
    if (!n) return 0;
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && memcmp(p, word, n) == 0) return 1;
        p += k;
        while (*p == ' ') p++;
    }
    return 0;
}

/* ---- Decoder state -------------------------------------------------------- */

typedef struct csv_dec {
    sl_sink *sink;
    char *err;             /* fatal error message (caller's buffer) */
    size_t errlen;
    struct csv_parser p;
    sl_buf fields;         /* fields of the current record, each NUL-terminated */
    size_t *offs;          /* start of each field in fields.p */
    size_t nf, offcap;
    int row_done;          /* libcsv ended a record */
    int oom;
    sl_buf raw;            /* raw text of the current record */
    uint64_t rec_line;     /* physical line where it starts */
    char **cols;           /* header names */
    size_t ncols;
    int fieldcol[NFIELDS]; /* column of each field, or -1 */
    unsigned char *used;   /* per column: read by a field (else an attribute) */
    int stop;
    sl_buf attrs, res, svc, tmp;
    char why[256];         /* reject reason naming the field, the value and why */
} csv_dec;

static void csv_cb_field(void *s, size_t len, void *data)
{
    csv_dec *d = data;
    if (sl_array_reserve(&d->offs, &d->offcap, d->nf + 1, sizeof *d->offs, 32)) {
        d->oom = 1;
        return;
    }
    d->offs[d->nf++] = d->fields.len;
    sl_buf_append(&d->fields, s ? s : "", s ? len : 0);
    sl_buf_putc(&d->fields, '\0');
}

static void csv_cb_row(int c, void *data)
{
    (void)c;
    ((csv_dec *)data)->row_done = 1;
}

static int csv_is_term(unsigned char c) { return c == '\n'; }
static int csv_is_space(unsigned char c) { return c == ' '; }

/* libcsv grows its field buffer through this, so one field cannot take
 * more than CSV_MAX_RECORD. */
static void *csv_realloc_capped(void *p, size_t n)
{
    return n > CSV_MAX_RECORD ? NULL : realloc(p, n);
}

static char *csv_field_at(csv_dec *d, size_t i) { return d->fields.p + d->offs[i]; }

/* The value of field f in the current record, or NULL when unmapped. */
static char *csv_val(csv_dec *d, int f)
{
    return d->fieldcol[f] >= 0 ? csv_field_at(d, (size_t)d->fieldcol[f]) : NULL;
}

static void csv_reject(csv_dec *d, const char *why)
{
    size_t n = d->raw.len;
    if (n && d->raw.p[n - 1] == '\n') n--;
    sl_sink_reject(d->sink, d->rec_line, why, d->raw.p ? d->raw.p : "", n);
}

static int csv_fail(csv_dec *d, const char *fmt, const char *a, const char *b)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a, b);
    snprintf(d->err, d->errlen, "line %llu: %s", (unsigned long long)d->rec_line, msg);
    return -1;
}

/* ---- Header -------------------------------------------------------------- */

static int csv_find_field(const char *name, size_t n)
{
    for (int f = 0; f < NFIELDS; f++)
        if (strlen(csv_fields[f].name) == n && strncasecmp(csv_fields[f].name, name, n) == 0)
            return f;
    return -1;
}

static int csv_find_column(const csv_dec *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (strcmp(d->cols[i], name) == 0) return (int)i;
    for (size_t i = 0; i < d->ncols; i++)
        if (strcasecmp(d->cols[i], name) == 0) return (int)i;
    return -1;
}

static int csv_group_taken(const csv_dec *d, int group)
{
    if (group == G_NONE) return 0;
    for (int f = 0; f < NFIELDS; f++)
        if (csv_fields[f].group == group && d->fieldcol[f] >= 0) return 1;
    return 0;
}

/* --map FIELD=COLUMN entries; explicit[f] set for every field they name. */
static int csv_apply_map(csv_dec *d, const char *const *map, int *explicit)
{
    for (; map && *map; map++) {
        const char *eq = strchr(*map, '=');
        int f = eq ? csv_find_field(*map, (size_t)(eq - *map)) : -1;
        if (!eq) return csv_fail(d, "--map %s: expected FIELD=COLUMN%s", *map, "");
        if (f < 0) return csv_fail(d, "--map %s: unknown field (see docs/formats.md)%s", *map, "");
        explicit[f] = 1;
        if (!eq[1]) continue; /* FIELD= : no column */
        int c = csv_find_column(d, eq + 1);
        if (c < 0) return csv_fail(d, "--map %s: the header has no column '%s'", *map, eq + 1);
        d->fieldcol[f] = c;
        d->used[c] = 1;
    }
    return 0;
}

/* Defaults for the fields --map left alone (point 1). */
static void csv_apply_defaults(csv_dec *d, const int *explicit)
{
    char folded[128];
    for (int f = 0; f < NFIELDS; f++) {
        if (explicit[f] || csv_group_taken(d, csv_fields[f].group)) continue;
        for (size_t c = 0; c < d->ncols; c++) {
            if (d->used[c]) continue;
            csv_fold(d->cols[c], folded, sizeof folded);
            if (!csv_in_list(folded, csv_fields[f].defaults)) continue;
            d->fieldcol[f] = (int)c;
            d->used[c] = 1;
            break;
        }
    }
}

static int csv_check_required(csv_dec *d)
{
    static const int required[] = {F_TRACE, F_SPAN, F_OPERATION};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (d->fieldcol[required[i]] < 0)
            return csv_fail(d, "no column for %s: name it with --map %s=COLUMN",
                            csv_fields[required[i]].name, csv_fields[required[i]].name);
    if (d->fieldcol[F_SERVICE] < 0 && d->fieldcol[F_POD] < 0)
        return csv_fail(d, "no column for %s: name it with --map %s=COLUMN", "service", "service");
    if (!csv_group_taken(d, G_START))
        return csv_fail(d, "no column for the start time: name it with --map %s=COLUMN (or %s)",
                        "start_ns", "start_us, start_ms, start_time");
    if (!csv_group_taken(d, G_END) && !csv_group_taken(d, G_DUR))
        return csv_fail(d, "no column for the end or duration: name it with --map %s=COLUMN (or %s)",
                        "end_ns", "end_us, duration_ns, duration_us, ...");
    return 0;
}

static int csv_header(csv_dec *d, const char *const *map)
{
    d->ncols = d->nf;
    d->cols = calloc(d->ncols ? d->ncols : 1, sizeof *d->cols);
    d->used = calloc(d->ncols ? d->ncols : 1, 1);
    if (!d->cols || !d->used) return csv_fail(d, "%s%s", "out of memory", "");
    for (size_t i = 0; i < d->ncols; i++) {
        char name[32];
        const char *s = csv_field_at(d, i);
        if (!*s) snprintf(name, sizeof name, "column%zu", i + 1), s = name;
        if (!(d->cols[i] = strdup(s))) return csv_fail(d, "%s%s", "out of memory", "");
    }
    for (int f = 0; f < NFIELDS; f++) d->fieldcol[f] = -1;
    int explicit[NFIELDS] = {0};
    if (csv_apply_map(d, map, explicit)) return -1;
    csv_apply_defaults(d, explicit);
    return csv_check_required(d);
}

/* ---- Records -------------------------------------------------------------- */

/* The first mapped field of a time group, or -1. */
static int csv_group_field(const csv_dec *d, int group)
{
    for (int f = 0; f < NFIELDS; f++)
        if (csv_fields[f].group == group && d->fieldcol[f] >= 0) return f;
    return -1;
}

/* "bad start_ns \"abc\"" in d->why. */
static const char *csv_bad(csv_dec *d, int f, const char *v)
{
    snprintf(d->why, sizeof d->why, "bad %s \"%.48s\"", csv_fields[f].name, v);
    return d->why;
}

/* The same with the time parser's reason: "bad start_time \"2023-02-31\":
 * no such day in that month". */
static const char *csv_bad_time(csv_dec *d, int f, const char *v, const char *reason)
{
    if (!reason) return csv_bad(d, f, v);
    snprintf(d->why, sizeof d->why, "bad %s \"%.48s\": %s", csv_fields[f].name, v, reason);
    return d->why;
}

/* Start and duration of the record (point 2).  NULL or why not. */
static const char *csv_times(csv_dec *d, sl_span *sp)
{
    int fs = csv_group_field(d, G_START), fe = csv_group_field(d, G_END);
    int fd = csv_group_field(d, G_DUR);
    const char *s = csv_val(d, fs), *reason;
    if (!*s) return "missing start time";
    if (csv_field_ns(fs, s, &sp->start_ns, &reason)) return csv_bad_time(d, fs, s, reason);
    const char *e = fe >= 0 ? csv_val(d, fe) : NULL;
    const char *du = fd >= 0 ? csv_val(d, fd) : NULL;
    int64_t dur = 0, end = 0;
    int have_dur = du && *du;
    if (have_dur && csv_field_ns(fd, du, &dur, &reason)) return csv_bad_time(d, fd, du, reason);
    if (e && *e) {
        if (csv_field_ns(fe, e, &end, &reason)) return csv_bad_time(d, fe, e, reason);
        if (end < sp->start_ns) return "end before start";
        if (__builtin_sub_overflow(end, sp->start_ns, &sp->duration_ns)) return "span longer than 2^63 ns";
        if (have_dur) {
            int64_t unit = 1, diff;
            for (int k = 0; k < csv_fields[fd].scale; k++) unit *= 10;
            if (__builtin_sub_overflow(dur, sp->duration_ns, &diff) || diff >= unit || diff <= -unit)
                return "duration disagrees with end - start";
        }
        return NULL;
    }
    if (!have_dur) return "missing end time and duration";
    if (dur < 0) return "negative duration";
    sp->duration_ns = dur;
    return NULL;
}

/* Attributes: the attributes column's object, then unused columns (point 1). */
static const char *csv_attributes(csv_dec *d, sl_span *sp)
{
    sl_buf *b = &d->attrs;
    int first = 1, any = 0;
    sl_buf_reset(b);
    sl_buf_putc(b, '{');
    const char *js = d->fieldcol[F_ATTRS] >= 0 ? csv_val(d, F_ATTRS) : NULL;
    if (js && *js) {
        char err[96];
        cJSON *obj = sl_json_parse(js, strlen(js), err, sizeof err);
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            return "attributes is not a JSON object";
        }
        for (const cJSON *a = obj->child; a; a = a->next) {
            sl_jw_key(b, a->string ? a->string : "", &first);
            sl_jw_cjson(b, a);
        }
        cJSON_Delete(obj);
        any = 1;
    }
    for (size_t c = 0; c < d->ncols; c++) {
        const char *v = csv_field_at(d, c);
        if (d->used[c] || !*v) continue;
        sl_jw_key(b, d->cols[c], &first);
        sl_jw_string(b, v);
        any = 1;
    }
    sl_buf_putc(b, '}');
    sp->attributes = any ? b->p : NULL;
    return NULL;
}

/* Service, and the resource when a pod is named (point 4). */
static void csv_service(csv_dec *d, sl_span *sp)
{
    const char *svc = d->fieldcol[F_SERVICE] >= 0 ? csv_val(d, F_SERVICE) : NULL;
    const char *pod = d->fieldcol[F_POD] >= 0 ? csv_val(d, F_POD) : NULL;
    sl_buf_reset(&d->svc);
    if (svc && *svc) sl_buf_puts(&d->svc, svc);
    else if (pod && *pod) sl_buf_append(&d->svc, pod, csv_pod_service_len(pod));
    sp->service = d->svc.len ? d->svc.p : NULL;
    if (!pod || !*pod || !sp->service) return;
    sl_buf_reset(&d->res);
    sl_buf_puts(&d->res, "{\"service.name\":");
    sl_jw_string(&d->res, sp->service);
    sl_buf_puts(&d->res, ",\"k8s.pod.name\":");
    sl_jw_string(&d->res, pod);
    sl_buf_putc(&d->res, '}');
    sp->resource = d->res.p;
}

static const char *csv_span(csv_dec *d, sl_span *sp)
{
    memset(sp, 0, sizeof *sp);
    char *v;
    if (!*(v = csv_val(d, F_TRACE))) return "missing trace_id";
    sl_hex_lower(v);
    sp->trace_id = v;
    if (!*(v = csv_val(d, F_SPAN))) return "missing span_id";
    sl_hex_lower(v);
    sp->span_id = v;
    if ((v = csv_val(d, F_PARENT)) && !csv_is_root_marker(v)) {
        sl_hex_lower(v);
        sp->parent_span_id = v;
    }
    csv_service(d, sp);
    if (!sp->service) return "missing service";
    sp->operation = csv_val(d, F_OPERATION);
    if ((v = csv_val(d, F_KIND)) && *v && (sp->kind = sl_kind_parse(v)) < 0)
        return csv_bad(d, F_KIND, v);
    if ((v = csv_val(d, F_STATUS)) && *v && (sp->status = sl_status_parse(v)) < 0)
        return csv_bad(d, F_STATUS, v);
    if ((v = csv_val(d, F_STATUS_MSG)) && *v) sp->status_message = v;
    if ((v = csv_val(d, F_REMOTE)) && *v) sp->remote_service = v;
    const char *why = csv_times(d, sp);
    if (!why) why = csv_attributes(d, sp);
    if (!why && (d->attrs.oom || d->res.oom || d->svc.oom)) why = "out of memory";
    return why ? why : sl_span_check(sp);
}

/* A complete record: the header, or a span. */
static int csv_record(csv_dec *d, const char *const *map, int *have_header)
{
    if (!*have_header) {
        *have_header = 1;
        return csv_header(d, map);
    }
    if (d->nf != d->ncols) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu fields, the header has %zu", d->nf, d->ncols);
        csv_reject(d, msg);
        return 0;
    }
    sl_span sp;
    const char *why = csv_span(d, &sp);
    if (why) {
        csv_reject(d, why);
    } else if (sl_sink_span(d->sink, &sp, d->rec_line)) {
        d->stop = 1;
    }
    return 0;
}

static void csv_next_record(csv_dec *d)
{
    sl_buf_reset(&d->raw);
    sl_buf_reset(&d->fields);
    d->nf = 0;
    d->row_done = 0;
}

/* The delimiter of a header line: the most frequent of , ; tab | outside quotes. */
static char csv_sniff_delim(const char *line, size_t len)
{
    static const char cands[] = ",;\t|";
    size_t best = 0;
    char delim = ',';
    for (const char *c = cands; *c; c++) {
        size_t n = 0;
        int quoted = 0;
        for (size_t i = 0; i < len; i++) {
            if (line[i] == '"') quoted = !quoted;
            else if (!quoted && line[i] == *c) n++;
        }
        if (n > best) best = n, delim = *c;
    }
    return delim;
}

/* Feed one physical line (point 7); handle the record it completes. */
static int csv_feed_line(csv_dec *d, const char *line, size_t len, uint64_t lineno,
                         const char *const *map, int *have_header)
{
    if (d->raw.len == 0) {
        if (len == 0) return 0; /* blank line between records */
        d->rec_line = lineno;
        if (!*have_header) {
            char delim = csv_sniff_delim(line, len);
            csv_set_delim(&d->p, (unsigned char)delim);
        }
    }
    sl_buf_append(&d->raw, line, len);
    sl_buf_putc(&d->raw, '\n');
    if (d->raw.len > CSV_MAX_RECORD)
        return csv_fail(d, "record longer than %s bytes (an unterminated quote?)%s", "67108864", "");
    if (csv_parse(&d->p, line, len, csv_cb_field, csv_cb_row, d) != len ||
        csv_parse(&d->p, "\n", 1, csv_cb_field, csv_cb_row, d) != 1)
        return csv_fail(d, "%s%s", csv_strerror(csv_error(&d->p)), "");
    if (d->oom || d->fields.oom || d->raw.oom) return csv_fail(d, "%s%s", "out of memory", "");
    if (d->row_done) {
        int rc = csv_record(d, map, have_header);
        csv_next_record(d);
        return rc;
    }
    /* libcsv's public state: nothing begun means the line held only blanks. */
    if (d->p.pstate == 0) csv_next_record(d);
    return 0;
}

static int csv_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    csv_dec d;
    memset(&d, 0, sizeof d);
    d.sink = sink;
    d.err = err;
    d.errlen = errlen;
    if (csv_init(&d.p, CSV_APPEND_NULL) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    csv_set_term_func(&d.p, csv_is_term);
    csv_set_space_func(&d.p, csv_is_space);
    csv_set_realloc_func(&d.p, csv_realloc_capped);
    const char *const *map = sl_sink_opts(sink)->csv_map;

    int rc = 0, have_header = 0, r;
    char *line;
    size_t len;
    uint64_t lineno;
    while (rc == 0 && !d.stop && (r = sl_input_line(in, &line, &len, &lineno)) == 1) {
        if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) line += 3, len -= 3;
        rc = csv_feed_line(&d, line, len, lineno, map, &have_header);
    }
    if (rc == 0 && !d.stop && r < 0) {
        const char *e = sl_input_error(in);
        snprintf(err, errlen, "%s", e && *e ? e : "read error");
        rc = -1;
    }
    if (rc == 0 && !d.stop && d.raw.len) csv_reject(&d, "unterminated quoted field");
    csv_free(&d.p);
    for (size_t i = 0; i < d.ncols; i++) free(d.cols[i]);
    free(d.cols);
    free(d.used);
    free(d.offs);
    sl_buf_free(&d.fields);
    sl_buf_free(&d.raw);
    sl_buf_free(&d.attrs);
    sl_buf_free(&d.res);
    sl_buf_free(&d.svc);
    sl_buf_free(&d.tmp);
    return rc;
}

/*
 * CSV: text whose first line is not JSON and splits on a delimiter.  A
 * header naming a trace id column makes it nearly certain; any other
 * delimited first line is a weak guess that every JSON format outbids.
 */
static int csv_detect(const char *head, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0) i = 3;
    if (i >= len || head[i] == '{' || head[i] == '[' || isspace((unsigned char)head[i]))
        return 0;
    const char *nl = memchr(head + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - head) - i : len - i;
    const char *line = head + i;
    if (memchr(line, '\0', n)) return 0;
    char delim = csv_sniff_delim(line, n);
    if (!memchr(line, delim, n)) return 0;
    int score = 15;
    char cell[128], folded[128];
    for (size_t k = 0; k < n;) {
        size_t m = 0;
        while (k < n && line[k] != delim) {
            if (line[k] != '"' && m + 1 < sizeof cell) cell[m++] = line[k];
            k++;
        }
        cell[m] = '\0';
        k++;
        csv_fold(cell, folded, sizeof folded);
        if (strcmp(folded, "traceid") == 0) score = 80;
    }
    return score;
}

const sl_format sl_format_csv = {"csv", csv_detect, csv_decode};

/* ---- Export -------------------------------------------------------------- */

/* One RFC 4180 field: quoted when it holds a delimiter, quote, line break
 * or edge blank (which readers such as libcsv would trim). */
static void csv_put(sl_buf *b, const char *s)
{
    if (!s) return;
    size_t n = strlen(s);
    int quote = n && (strpbrk(s, ",\"\r\n") || isspace((unsigned char)s[0]) ||
                      isspace((unsigned char)s[n - 1]));
    if (!quote) {
        sl_buf_append(b, s, n);
        return;
    }
    sl_buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"') sl_buf_putc(b, '"');
        sl_buf_putc(b, *p);
    }
    sl_buf_putc(b, '"');
}

static int csv_begin(sl_export_out *o)
{
    sl_buf_puts(&o->buf, "trace_id,span_id,parent_span_id,service,operation,kind,status,"
                         "status_message,start_ns,end_ns,duration_ns,attributes\r\n");
    return 0;
}

static void csv_row(sl_buf *b, const sl_span *sp)
{
    const char *strs[] = {sp->trace_id, sp->span_id, sp->parent_span_id, sp->service,
                          sp->operation, sl_kind_name(sp->kind), sl_status_name(sp->status),
                          sp->status_message};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        csv_put(b, strs[i]);
        sl_buf_putc(b, ',');
    }
    sl_buf_printf(b, "%lld,%lld,%lld,", (long long)sp->start_ns,
                  (long long)(sp->start_ns + sp->duration_ns), (long long)sp->duration_ns);
    csv_put(b, sp->attributes);
    sl_buf_puts(b, "\r\n");
}

static int csv_trace(sl_export_out *o, const sl_span *spans, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        csv_row(&o->buf, &spans[i]);
        if (o->buf.len >= (1u << 20) && sl_export_flush(o)) return -1;
    }
    if (o->buf.oom) return -1;
    return sl_export_flush(o);
}

static int csv_end(sl_export_out *o) { return sl_export_flush(o); }

const sl_exporter sl_exporter_csv = {"csv", csv_begin, csv_trace, csv_end};
