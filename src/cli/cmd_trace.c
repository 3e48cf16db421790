/*
 * cmd_trace.c -- `spanlite trace ID`: one trace as an indented tree with its
 * critical path and TracAgg's analyze_trace figures (total duration, the
 * critical path with each span's share, time per service).
 *
 * Owns: the command's options and the text and JSON renderings.  The
 * figures come from sl_get_trace_view() (spanlite.h; the rules T1-T4 are in
 * src/analysis/trace_view.h), so an API or a web page serving the same call
 * shows exactly what this command shows.  A share is a figure over the
 * trace duration.
 */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE SL_TRACE_VIEW_NONE
#define MAX_INDENT 40 /* levels of indentation shown; deeper spans say their depth */

typedef sl_trace_view tview;

/* ---- Text rendering ------------------------------------------------------ */

/* Human duration: ns below 1 µs, µs with 3 decimals (exact) below 1 ms, ms
 * with 3 decimals below 1 s, else s with 3 decimals; rounding half up. */
static const char *human(int64_t ns, char buf[40])
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    if (a == 0) {
        snprintf(buf, 40, "0ms");
    } else if (a < 1000) {
        snprintf(buf, 40, "%s%" PRIu64 "ns", sign, a);
    } else if (a < 1000000) {
        snprintf(buf, 40, "%s%" PRIu64 ".%03" PRIu64 "\xc2\xb5s", sign, a / 1000, a % 1000);
    } else if ((a + 500) / 1000 < 1000000) {
        uint64_t us = (a + 500) / 1000;
        snprintf(buf, 40, "%s%" PRIu64 ".%03" PRIu64 "ms", sign, us / 1000, us % 1000);
    } else {
        uint64_t ms = (a + 500000) / 1000000;
        snprintf(buf, 40, "%s%" PRIu64 ".%03" PRIu64 "s", sign, ms / 1000, ms % 1000);
    }
    return buf;
}

static double percent(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Display width of UTF-8 text: code points. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

static void put_right(FILE *out, const char *s, size_t w)
{
    for (size_t k = width(s); k < w; k++) fputc(' ', out);
    fputs(s, out);
}

typedef struct colw {
    size_t off, dur, crit;
} colw;

static void tree_widths(const tview *v, colw *w)
{
    char b[40];
    w->off = strlen("OFFSET");
    w->dur = strlen("DURATION");
    w->crit = strlen("CRITICAL");
    for (size_t i = 0; i < v->nspans; i++) {
        const sl_trace_view_span *x = &v->spans[i];
        size_t k;
        if ((k = width(human(x->span->start_ns - v->start_ns, b))) > w->off) w->off = k;
        if ((k = width(human(x->span->duration_ns, b))) > w->dur) w->dur = k;
        if (x->nsections && (k = width(human(x->critical_ns, b))) > w->crit) w->crit = k;
    }
}

static void tree_line(const tview *v, const colw *w, uint32_t i, size_t depth, FILE *out)
{
    const sl_trace_view_span *x = &v->spans[i];
    const sl_span *s = x->span;
    char b[40];
    put_right(out, human(s->start_ns - v->start_ns, b), w->off);
    fputs("  ", out);
    put_right(out, human(s->duration_ns, b), w->dur);
    fputs("  ", out);
    put_right(out, x->nsections ? human(x->critical_ns, b) : "", w->crit);
    fputs(x->nsections ? "  * " : "    ", out);
    /* A chain of thousands of spans would indent each line by kilobytes. */
    for (size_t d = 0; d < depth && d < MAX_INDENT; d++) fputs("  ", out);
    if (depth > MAX_INDENT) fprintf(out, "[depth %zu] ", depth);
    fprintf(out, "%s: %s", s->service, s->operation);
    if (s->status == SL_STATUS_ERROR) {
        if (s->status_message && *s->status_message) fprintf(out, "  [error: %s]", s->status_message);
        else fputs("  [error]", out);
    }
    fputc('\n', out);
}

/* Depth-first, iteratively: traces can be deep. */
static int print_tree(const tview *v, FILE *out)
{
    colw w;
    tree_widths(v, &w);
    uint32_t *stack = malloc(sizeof *stack * v->nspans);
    uint32_t *depth = malloc(sizeof *depth * v->nspans);
    if (!stack || !depth) {
        free(stack);
        free(depth);
        return -1;
    }
    put_right(out, "OFFSET", w.off);
    fputs("  ", out);
    put_right(out, "DURATION", w.dur);
    fputs("  ", out);
    put_right(out, "CRITICAL", w.crit);
    fputs("    SPAN  (* = on the critical path)\n", out);
    for (uint32_t r = 0; r < v->nroots; r++) {
        uint32_t top = 0;
        stack[top] = v->roots[r];
        depth[top++] = 0;
        while (top) {
            uint32_t i = stack[--top], d = depth[top];
            tree_line(v, &w, i, d, out);
            /* push children in reverse so the earliest pops first */
            uint32_t first = top;
            for (uint32_t c = v->spans[i].first_child; c != NONE; c = v->spans[c].next_sibling) {
                stack[top] = c;
                depth[top++] = d + 1;
            }
            for (uint32_t a = first, b = top; b > a + 1; a++, b--) {
                uint32_t t = stack[a];
                stack[a] = stack[b - 1];
                stack[b - 1] = t;
            }
        }
    }
    free(stack);
    free(depth);
    return 0;
}

static int print_critical(const tview *v, FILE *out)
{
    int64_t total = v->end_ns - v->start_ns, path = 0;
    char b1[40];
    for (size_t k = 0; k < v->nsections; k++) path += v->sections[k].end_ns - v->sections[k].start_ns;
    const uint32_t *list = v->critical;
    size_t m = v->ncritical;
    fprintf(out, "\ncritical path: %s in %zu section%s\n", human(path, b1), v->nsections,
            v->nsections == 1 ? "" : "s");
    size_t tw = strlen("TIME");
    for (size_t k = 0; k < m; k++) {
        size_t x = width(human(v->spans[list[k]].critical_ns, b1));
        if (x > tw) tw = x;
    }
    fputs("   SHARE  ", out);
    put_right(out, "TIME", tw);
    fputs("  SPAN\n", out);
    for (size_t k = 0; k < m; k++) {
        const sl_trace_view_span *x = &v->spans[list[k]];
        fprintf(out, "  %5.1f%%  ", percent(x->critical_ns, total));
        put_right(out, human(x->critical_ns, b1), tw);
        fprintf(out, "  %s: %s", x->span->service, x->span->operation);
        if (x->nsections > 1) fprintf(out, " (%u sections)", x->nsections);
        fputc('\n', out);
    }
    return 0;
}

static void print_services(const tview *v, FILE *out)
{
    int64_t total = v->end_ns - v->start_ns;
    char b[40];
    size_t tw = strlen("SELF");
    for (size_t k = 0; k < v->nservices; k++) {
        size_t x = width(human(v->services[k].self_ns, b));
        if (x > tw) tw = x;
    }
    fputs("\nservice time (self time: span durations minus the time their children cover)\n", out);
    fputs("   SHARE  ", out);
    put_right(out, "SELF", tw);
    fputs("  SERVICE\n", out);
    for (size_t k = 0; k < v->nservices; k++) {
        fprintf(out, "  %5.1f%%  ", percent(v->services[k].self_ns, total));
        put_right(out, human(v->services[k].self_ns, b), tw);
        fprintf(out, "  %s\n", v->services[k].service);
    }
}

static int print_text(const tview *v, FILE *out)
{
    char b[40];
    fprintf(out, "trace %s\n", v->trace_id);
    fprintf(out, "duration %s, %zu span%s, %zu service%s, %zu error%s\n\n",
            human(v->end_ns - v->start_ns, b), v->nspans, v->nspans == 1 ? "" : "s",
            v->nservices, v->nservices == 1 ? "" : "s", v->nerrors, v->nerrors == 1 ? "" : "s");
    if (print_tree(v, out) || print_critical(v, out)) return -1;
    print_services(v, out);
    return 0;
}

/* ---- JSON rendering ------------------------------------------------------ */

/* Writes go straight to out; its error flag is checked once at the end. */

static void jkey(FILE *out, const char *key, int *first)
{
    if (!*first) fputc(',', out);
    *first = 0;
    sl_json_write_string(out, key);
    fputc(':', out);
}

static void jint(FILE *out, int64_t v) { fprintf(out, "%" PRId64, v); }

/* Percentages rounded to 3 decimals: the raw nanoseconds are given too. */
static void jpercent(FILE *out, int64_t part, int64_t whole)
{
    double p = percent(part, whole);
    sl_json_write_double(out, (double)llround(p * 1000.0) / 1000.0);
}

/* A span object up to (not including) its "children" array contents. */
static void json_span_open(const tview *v, uint32_t i, FILE *out)
{
    const sl_trace_view_span *x = &v->spans[i];
    const sl_span *s = x->span;
    int first = 1;
    fputc('{', out);
    jkey(out, "span_id", &first);
    sl_json_write_string(out, s->span_id);
    jkey(out, "parent_span_id", &first);
    sl_json_write_string(out, s->parent_span_id && *s->parent_span_id ? s->parent_span_id : NULL);
    jkey(out, "service", &first);
    sl_json_write_string(out, s->service);
    jkey(out, "operation", &first);
    sl_json_write_string(out, s->operation);
    jkey(out, "kind", &first);
    sl_json_write_string(out, sl_kind_name(s->kind));
    jkey(out, "status", &first);
    sl_json_write_string(out, sl_status_name(s->status));
    jkey(out, "status_message", &first);
    sl_json_write_string(out, s->status_message);
    jkey(out, "start_ns", &first);
    jint(out, s->start_ns);
    jkey(out, "offset_ns", &first);
    jint(out, s->start_ns - v->start_ns);
    jkey(out, "duration_ns", &first);
    jint(out, s->duration_ns);
    jkey(out, "self_ns", &first);
    jint(out, x->self_ns);
    jkey(out, "critical_ns", &first);
    jint(out, x->critical_ns);
    jkey(out, "children", &first);
    fputc('[', out);
}

/* Nested spans, iteratively: a frame per open span, holding its next child. */
static int json_spans(const tview *v, FILE *out)
{
    uint32_t *next = malloc(sizeof *next * v->nspans);
    if (!next) return -1;
    fputc('[', out);
    for (size_t r = 0; r < v->nroots; r++) {
        if (r) fputc(',', out);
        uint32_t top = 0;
        json_span_open(v, v->roots[r], out);
        next[top++] = v->spans[v->roots[r]].first_child;
        while (top) {
            uint32_t c = next[top - 1];
            if (c == NONE) {
                fputs("]}", out);
                top--;
                continue;
            }
            next[top - 1] = v->spans[c].next_sibling;
            if (c != v->spans[v->spans[c].parent].first_child) fputc(',', out);
            json_span_open(v, c, out);
            next[top++] = v->spans[c].first_child;
        }
    }
    fputc(']', out);
    free(next);
    return 0;
}

static void json_sections_of(const tview *v, uint32_t node, FILE *out)
{
    int any = 0;
    fputc('[', out);
    for (size_t k = 0; k < v->nsections; k++) {
        if (v->sections[k].span != node) continue;
        if (any++) fputc(',', out);
        int first = 1;
        fputc('{', out);
        jkey(out, "start_ns", &first);
        jint(out, v->sections[k].start_ns);
        jkey(out, "end_ns", &first);
        jint(out, v->sections[k].end_ns);
        fputc('}', out);
    }
    fputc(']', out);
}

static void json_critical(const tview *v, FILE *out)
{
    int64_t total = v->end_ns - v->start_ns;
    fputc('[', out);
    for (size_t k = 0; k < v->ncritical; k++) {
        const sl_trace_view_span *x = &v->spans[v->critical[k]];
        int first = 1;
        if (k) fputc(',', out);
        fputc('{', out);
        jkey(out, "span_id", &first);
        sl_json_write_string(out, x->span->span_id);
        jkey(out, "service", &first);
        sl_json_write_string(out, x->span->service);
        jkey(out, "operation", &first);
        sl_json_write_string(out, x->span->operation);
        jkey(out, "critical_ns", &first);
        jint(out, x->critical_ns);
        jkey(out, "percentage", &first);
        jpercent(out, x->critical_ns, total);
        jkey(out, "sections", &first);
        json_sections_of(v, v->critical[k], out);
        fputc('}', out);
    }
    fputc(']', out);
}

static void json_services(const tview *v, FILE *out)
{
    int64_t total = v->end_ns - v->start_ns;
    fputc('[', out);
    for (size_t k = 0; k < v->nservices; k++) {
        int first = 1;
        if (k) fputc(',', out);
        fputc('{', out);
        jkey(out, "service", &first);
        sl_json_write_string(out, v->services[k].service);
        jkey(out, "self_ns", &first);
        jint(out, v->services[k].self_ns);
        jkey(out, "percentage", &first);
        jpercent(out, v->services[k].self_ns, total);
        fputc('}', out);
    }
    fputc(']', out);
}

static int print_json(const tview *v, FILE *out)
{
    int first = 1;
    fputc('{', out);
    jkey(out, "trace_id", &first);
    sl_json_write_string(out, v->trace_id);
    jkey(out, "start_ns", &first);
    jint(out, v->start_ns);
    jkey(out, "duration_ns", &first);
    jint(out, v->end_ns - v->start_ns);
    jkey(out, "span_count", &first);
    jint(out, (int64_t)v->nspans);
    jkey(out, "service_count", &first);
    jint(out, (int64_t)v->nservices);
    jkey(out, "error_count", &first);
    jint(out, (int64_t)v->nerrors);
    jkey(out, "spans", &first);
    if (json_spans(v, out)) return -1;
    jkey(out, "critical_path", &first);
    json_critical(v, out);
    jkey(out, "services", &first);
    json_services(v, out);
    fputs("}\n", out);
    return 0;
}

/* ---- The command --------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] trace ID [--format table|json]\n"
        "\n"
        "Show one trace: its spans as a tree (children under their parents, by start\n"
        "time; spans whose parent is missing are extra roots) with each span's start\n"
        "offset from the trace start, duration and errors; the spans on the critical\n"
        "path are marked '*' with their time on it (critical_path(), Jaeger UI's rules).\n"
        "Then TracAgg's analyze_trace figures: total duration, the critical path with\n"
        "each span's share (its critical time over the trace duration), and the time\n"
        "per service with its percentage of the trace duration.\n"
        "\n"
        "Service time is self time: a span's duration minus the union of its children's\n"
        "intervals (clamped to the span), summed over the service's spans.  Concurrent\n"
        "children each count, so the percentages can add up to more than 100.\n"
        "\n"
        "Options:\n"
        "  --format F   table (default) or json: one object {trace_id, start_ns,\n"
        "               duration_ns, span_count, service_count, error_count,\n"
        "               spans: [nested, with children], critical_path: [...],\n"
        "               services: [{service, self_ns, percentage}]}\n"
        "  --help       this help\n"
        "\n"
        "Exit status: 0 shown, 1 no such trace or a failure, 2 usage error.\n");
}

/* Parse options; returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, const char **id, int *json)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    *json = 0;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0) *json = 1;
            else if (strcmp(optarg, "table") == 0) *json = 0;
            else {
                cli_error("trace", "unknown format '%s' (table, json)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !*argv[optind]) {
        cli_error("trace", "expected one trace ID (see spanlite trace --help)");
        return EXIT_USAGE;
    }
    *id = argv[optind];
    return -1;
}

int cmd_trace(cli_ctx *ctx, int argc, char **argv)
{
    const char *id;
    int json;
    int status = parse_args(argc, argv, &id, &json);
    if (status >= 0) return status;
    sl_db *db = cli_open(ctx, 1);
    if (!db) return EXIT_USAGE;
    sl_trace_view *v = NULL;
    int rc = sl_get_trace_view(db, id, &v);
    status = EXIT_FAIL;
    if (rc == SL_NOTFOUND) cli_error("trace", "no trace with id '%s'", id);
    else if (rc != SL_OK) cli_error("trace", "%s", sl_errmsg(db));
    else if ((json ? print_json(v, stdout) : print_text(v, stdout)) != 0)
        cli_error("trace", "out of memory");
    else status = EXIT_OK;
    sl_trace_view_free(v);
    if (fflush(stdout) != 0 || ferror(stdout)) status = EXIT_FAIL;
    sl_close(db);
    return status;
}
