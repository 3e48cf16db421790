/*
 * cmd_trace.c -- `spanlite trace ID`: one trace as an indented tree with its
 * critical path and TracAgg's analyze_trace figures (total duration, the
 * critical path with each span's share, time per service).
 *
 * Owns: the command's options and its renderings: the text tree (table),
 * a row per span (csv, jsonl), one JSON object with the spans flat (json)
 * or nested (json-tree).  The figures come from sl_get_trace_view()
 * (spanlite.h; the rules T1-T4 are in src/analysis/trace_view.h), so an API
 * or a web page serving the same call shows exactly what this command
 * shows.  A share is a figure over the trace duration.
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

static void put_right(FILE *out, const char *s, size_t w)
{
    for (size_t k = cli_display_width(s); k < w; k++) fputc(' ', out);
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
        if ((k = cli_display_width(human(x->span->start_ns - v->start_ns, b))) > w->off) w->off = k;
        if ((k = cli_display_width(human(x->span->duration_ns, b))) > w->dur) w->dur = k;
        if (x->nsections && (k = cli_display_width(human(x->critical_ns, b))) > w->crit) w->crit = k;
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

/* ---- The tree order ------------------------------------------------------ */

/* The spans in the order the tree shows them: depth first, each root's tree
 * in T2 order, children by start.  Built once, iteratively (traces can be
 * deep), for the text tree and for the flat renderings. */
typedef struct tree_walk {
    uint32_t *order;  /* n: index in v->spans of the k-th span shown */
    uint32_t *depth;  /* n: its depth (roots 0) */
    uint32_t *parent; /* n: position k of its parent in order, or NONE for a root */
    size_t n;
} tree_walk;

static void walk_free(tree_walk *w)
{
    free(w->order);
    free(w->depth);
    free(w->parent);
}

/* 0, or -1 when out of memory. */
static int walk_tree(const tview *v, tree_walk *w)
{
    size_t n = v->nspans ? v->nspans : 1;
    uint32_t *stack = malloc(sizeof *stack * n), *sdepth = malloc(sizeof *sdepth * n);
    uint32_t *sparent = malloc(sizeof *sparent * n);
    int rc = -1;
    w->n = 0;
    w->order = malloc(sizeof *w->order * n);
    w->depth = malloc(sizeof *w->depth * n);
    w->parent = malloc(sizeof *w->parent * n);
    if (!stack || !sdepth || !sparent || !w->order || !w->depth || !w->parent) goto done;
    for (uint32_t r = 0; r < v->nroots; r++) {
        uint32_t top = 0;
        stack[top] = v->roots[r];
        sdepth[top] = 0;
        sparent[top++] = NONE;
        while (top && w->n < v->nspans) {
            top--;
            uint32_t i = stack[top], d = sdepth[top], k = (uint32_t)w->n++;
            w->order[k] = i;
            w->depth[k] = d;
            w->parent[k] = sparent[top];
            /* push children in reverse so the earliest pops first */
            uint32_t first = top;
            for (uint32_t c = v->spans[i].first_child; c != NONE && top < v->nspans;
                 c = v->spans[c].next_sibling) {
                stack[top] = c;
                sdepth[top] = d + 1;
                sparent[top++] = k;
            }
            for (uint32_t a = first, b = top; b > a + 1; a++, b--) {
                uint32_t t = stack[a];
                stack[a] = stack[b - 1];
                stack[b - 1] = t;
            }
        }
    }
    rc = 0;
done:
    free(stack);
    free(sdepth);
    free(sparent);
    if (rc) walk_free(w);
    return rc;
}

static int print_tree(const tview *v, const tree_walk *tw, FILE *out)
{
    colw w;
    tree_widths(v, &w);
    put_right(out, "OFFSET", w.off);
    fputs("  ", out);
    put_right(out, "DURATION", w.dur);
    fputs("  ", out);
    put_right(out, "CRITICAL", w.crit);
    fputs("    SPAN  (* = on the critical path)\n", out);
    for (size_t k = 0; k < tw->n; k++) tree_line(v, &w, tw->order[k], tw->depth[k], out);
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
        size_t x = cli_display_width(human(v->spans[list[k]].critical_ns, b1));
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
        size_t x = cli_display_width(human(v->services[k].self_ns, b));
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
    tree_walk tw;
    if (walk_tree(v, &tw)) return -1;
    print_tree(v, &tw, out);
    walk_free(&tw);
    print_critical(v, out);
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

/*
 * One span's fields, the same in every rendering (docs/cli.md lists them):
 * written as a CSV header, a CSV row, or the members of a JSON object.
 * The flat renderings (csv, jsonl, json) add the span's place in the tree:
 * index (its position in tree order), parent_index (its parent's index;
 * null for a root) and depth; trace_id leads each csv and jsonl row.
 */
typedef enum { EMIT_CSV_HEAD, EMIT_CSV, EMIT_JSON } emit_mode;

typedef struct emitter {
    FILE *out;
    emit_mode mode;
    int first; /* no field written yet */
} emitter;

static void emit_key(emitter *e, const char *key)
{
    if (!e->first) fputc(',', e->out);
    e->first = 0;
    if (e->mode == EMIT_CSV_HEAD) cli_csv_field(e->out, key);
    if (e->mode == EMIT_JSON) {
        sl_json_write_string(e->out, key);
        fputc(':', e->out);
    }
}

/* s NULL: JSON null, an empty CSV field. */
static void emit_str(emitter *e, const char *key, const char *s)
{
    emit_key(e, key);
    if (e->mode == EMIT_CSV && s) cli_csv_field(e->out, s);
    if (e->mode == EMIT_JSON) sl_json_write_string(e->out, s);
}

static void emit_int(emitter *e, const char *key, int64_t v)
{
    emit_key(e, key);
    if (e->mode != EMIT_CSV_HEAD) jint(e->out, v);
}

/* An index, or null (empty in CSV) for NONE. */
static void emit_index(emitter *e, const char *key, uint32_t v)
{
    emit_key(e, key);
    if (e->mode == EMIT_CSV_HEAD) return;
    if (v != NONE) jint(e->out, v);
    else if (e->mode == EMIT_JSON) fputs("null", e->out);
}

static void emit_span(const tview *v, uint32_t i, emitter *e)
{
    const sl_trace_view_span *x = &v->spans[i];
    const sl_span *s = x->span;
    emit_str(e, "span_id", s->span_id);
    emit_str(e, "parent_span_id", s->parent_span_id && *s->parent_span_id ? s->parent_span_id : NULL);
    emit_str(e, "service", s->service);
    emit_str(e, "operation", s->operation);
    emit_str(e, "kind", sl_kind_name(s->kind));
    emit_str(e, "status", sl_status_name(s->status));
    emit_str(e, "status_message", s->status_message);
    emit_int(e, "start_ns", s->start_ns);
    emit_int(e, "offset_ns", s->start_ns - v->start_ns);
    emit_int(e, "duration_ns", s->duration_ns);
    emit_int(e, "self_ns", x->self_ns);
    emit_int(e, "critical_ns", x->critical_ns);
    emit_int(e, "critical_sections", x->nsections);
}

/* The k-th span of the tree order, with its place in the tree; trace_id
 * first when lead (csv and jsonl rows stand alone). */
static void emit_flat(const tview *v, const tree_walk *tw, size_t k, int lead, emitter *e)
{
    if (lead) emit_str(e, "trace_id", v->trace_id);
    emit_int(e, "index", (int64_t)k);
    emit_index(e, "parent_index", tw->parent[k]);
    emit_int(e, "depth", tw->depth[k]);
    emit_span(v, tw->order[k], e);
}

/* --format csv and jsonl: a row per span, in tree order. */
static int print_rows(const tview *v, int csv, FILE *out)
{
    tree_walk tw;
    if (walk_tree(v, &tw)) return -1;
    if (csv) {
        emitter e = {out, EMIT_CSV_HEAD, 1};
        emit_flat(v, &tw, 0, 1, &e);
        fputc('\n', out);
    }
    for (size_t k = 0; k < tw.n; k++) {
        emitter e = {out, csv ? EMIT_CSV : EMIT_JSON, 1};
        if (!csv) fputc('{', out);
        emit_flat(v, &tw, k, 1, &e);
        fputs(csv ? "\n" : "}\n", out);
    }
    walk_free(&tw);
    return 0;
}

/* json: a flat array in tree order, each span with its parent's index. */
static int json_spans_flat(const tview *v, FILE *out)
{
    tree_walk tw;
    if (walk_tree(v, &tw)) return -1;
    fputc('[', out);
    for (size_t k = 0; k < tw.n; k++) {
        emitter e = {out, EMIT_JSON, 1};
        fputs(k ? ",\n{" : "\n{", out);
        emit_flat(v, &tw, k, 0, &e);
        fputc('}', out);
    }
    fputs(tw.n ? "\n]" : "]", out);
    walk_free(&tw);
    return 0;
}

/* A span object up to (not including) its "children" array contents. */
static void json_span_open(const tview *v, uint32_t i, FILE *out)
{
    emitter e = {out, EMIT_JSON, 1};
    fputc('{', out);
    emit_span(v, i, &e);
    emit_key(&e, "children");
    fputc('[', out);
}

/* json-tree: nested spans, iteratively: a frame per open span, holding its
 * next child.  As deep as the trace: a reader that recurses per level
 * (Python's json module) cannot read a chain of many thousand spans. */
static int json_spans_tree(const tview *v, FILE *out)
{
    uint32_t *next = malloc(sizeof *next * (v->nspans ? v->nspans : 1));
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

static int print_json(const tview *v, int tree, FILE *out)
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
    if (tree ? json_spans_tree(v, out) : json_spans_flat(v, out)) return -1;
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
        "usage: spanlite [--db FILE] trace ID [--format F]\n"
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
        "  --format F   table: the tree and the figures above (the default on a\n"
        "                 terminal);\n"
        "               csv: a row per span in tree order (the default otherwise):\n"
        "                 trace_id, index, parent_index, depth, span_id,\n"
        "                 parent_span_id, service, operation, kind, status,\n"
        "                 status_message, start_ns, offset_ns, duration_ns, self_ns,\n"
        "                 critical_ns, critical_sections;\n"
        "               jsonl: the same rows as JSON objects, one per line;\n"
        "               json: one object {trace_id, start_ns, duration_ns, span_count,\n"
        "                 service_count, error_count, spans: [flat, in tree order, each\n"
        "                 with index, parent_index and depth], critical_path: [...],\n"
        "                 services: [{service, self_ns, percentage}]};\n"
        "               json-tree: the same object with each span's children nested\n"
        "                 in it (as deep as the trace: some JSON readers cannot\n"
        "                 read a chain of thousands of spans; json can always be).\n"
        "               dot and mermaid are refused: they draw the service graph of\n"
        "               spanlite deps.\n"
        "  --help       this help\n"
        "\n"
        "Exit status: 0 shown, 1 no such trace or a failure, 2 usage error.\n");
}

/* Every format trace writes; dot and mermaid are deps's. */
#define TRACE_FORMATS (1u << OUT_TABLE | 1u << OUT_CSV | 1u << OUT_JSON | 1u << OUT_JSONL | \
                       1u << OUT_JSON_TREE)

/* Parse options; returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, const char **id, int *fmt)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    *fmt = cli_default_format();
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cli_parse_format("trace", optarg, TRACE_FORMATS, fmt)) return EXIT_USAGE;
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

static int print_view(const tview *v, int fmt, FILE *out)
{
    switch (fmt) {
    case OUT_CSV: return print_rows(v, 1, out);
    case OUT_JSONL: return print_rows(v, 0, out);
    case OUT_JSON: return print_json(v, 0, out);
    case OUT_JSON_TREE: return print_json(v, 1, out);
    default: return print_text(v, out);
    }
}

int cmd_trace(cli_ctx *ctx, int argc, char **argv)
{
    const char *id;
    int fmt;
    int status = parse_args(argc, argv, &id, &fmt);
    if (status >= 0) return status;
    sl_db *db = cli_open(ctx, 1);
    if (!db) return EXIT_USAGE;
    sl_trace_view *v = NULL;
    int rc = sl_get_trace_view(db, id, &v);
    status = EXIT_FAIL;
    if (rc == SL_NOTFOUND) cli_error("trace", "no trace with id '%s'", id);
    else if (rc != SL_OK) cli_error("trace", "%s", sl_errmsg(db));
    else if (print_view(v, fmt, stdout) != 0)
        cli_error("trace", "out of memory");
    else status = EXIT_OK;
    sl_trace_view_free(v);
    if (fflush(stdout) != 0 || ferror(stdout)) status = EXIT_FAIL;
    sl_close(db);
    return status;
}
