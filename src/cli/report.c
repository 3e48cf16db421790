/*
 * report.c -- `spanlite report NAME`: the reports users ask for by name.
 * The span reports are the named queries of queries/ with options turned
 * into parameters; `workflows` has its own implementation.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_report_workflows(cli_ctx *ctx, int argc, char **argv) __attribute__((weak));
static int span_report(cli_ctx *ctx, int argc, char **argv);

static const cli_report reports[] = {
    {"services", span_report, "requests, errors, error rate, latency percentiles per service"},
    {"operations", span_report, "the same per operation"},
    {"trend", span_report, "per service per hour: requests, errors, p50, p99 (rollups)"},
    {"slowest", span_report, "slowest operations by average duration"},
    {"errors", span_report, "error-prone operations by error rate"},
    {"summary", span_report, "traces, spans, services, trace duration percentiles"},
    {"workflows", cli_report_workflows, "workflow latency summary (aggregate_workflows.py's report)"},
};
#define NREPORTS (sizeof reports / sizeof *reports)

static void usage(FILE *out)
{
    fprintf(out, "usage: spanlite [--db FILE] report NAME [OPTIONS]\n\nReports:\n");
    for (size_t i = 0; i < NREPORTS; i++)
        if (reports[i].run) fprintf(out, "  %-12s %s\n", reports[i].name, reports[i].summary);
    fprintf(out, "\n`spanlite report NAME --help` for a report's options.\n");
}

/* What each span report takes and says about itself in its --help. */
enum { OPT_SERVICE = 1, OPT_WINDOW = 2, OPT_LIMIT = 4, OPT_EXACT = 8 };

typedef struct span_report_info {
    const char *name;
    int opts;          /* OPT_* it accepts (--format and --help always) */
    const char *about; /* the paragraph of its --help */
} span_report_info;

static const span_report_info span_reports[] = {
    {"services", OPT_SERVICE | OPT_WINDOW | OPT_LIMIT | OPT_EXACT,
     "Per service: requests, errors, error rate, average and p50/p95/p99 latency\n"
     "(ms), busiest first.  Without a window it reads the hourly rollups (counts,\n"
     "errors and averages exact, percentiles within 1%); with --since/--until or\n"
     "--exact it reads every span in the window (exact percentiles).\n"},
    {"operations", OPT_SERVICE | OPT_WINDOW | OPT_LIMIT | OPT_EXACT,
     "The figures of `report services` per service and operation.\n"},
    {"trend", OPT_SERVICE | OPT_WINDOW,
     "Per service and hour: requests, errors, p50 and p99 latency (ms).  Hours\n"
     "wholly inside the window come from the hourly rollups (percentiles within\n"
     "1%); an hour that --since or --until cuts is counted from its spans inside\n"
     "the window, so the counts equal those of `report services`.\n"},
    {"slowest", OPT_SERVICE | OPT_WINDOW | OPT_LIMIT,
     "Operations by average duration, slowest first (10 unless --limit).\n"},
    {"errors", OPT_SERVICE | OPT_WINDOW | OPT_LIMIT,
     "Operations with at least one error, by error rate (10 unless --limit).\n"},
    {"summary", OPT_SERVICE | OPT_WINDOW,
     "Traces, spans, services, traces with errors, and the average and\n"
     "p50/p95/p99 trace duration (ms).  A trace counts when it starts in the\n"
     "window; with --service, every figure covers the traces touching it.\n"},
};

static const span_report_info *span_report_find(const char *name)
{
    for (size_t i = 0; i < sizeof span_reports / sizeof *span_reports; i++)
        if (strcmp(span_reports[i].name, name) == 0) return &span_reports[i];
    return NULL;
}

static void span_report_usage(FILE *out, const span_report_info *r)
{
    char twin[64];
    snprintf(twin, sizeof twin, "%s_rollup", r->name);
    fprintf(out, "usage: spanlite [--db FILE] report %s [OPTIONS]\n\n%s\nOptions:\n", r->name, r->about);
    if (r->opts & OPT_SERVICE) fprintf(out, "  --service S     only service S\n");
    if (r->opts & OPT_WINDOW)
        fprintf(out, "  --since T       only spans starting at or after T (ISO 8601, epoch, or -1h)\n"
                     "  --until T       only spans starting before T\n");
    if (r->opts & OPT_LIMIT) fprintf(out, "  --limit N       at most N rows\n");
    if (r->opts & OPT_EXACT) fprintf(out, "  --exact         exact percentiles from every span, not the rollups\n");
    fprintf(out, "  --format F      table (default on a terminal), csv, json, jsonl\n"
                 "  --help          this help\n"
                 "\nThe SQL: spanlite query --show %s", r->name);
    if (cli_query_sql(twin)) fprintf(out, "  (from the rollups: spanlite query --show %s)", twin);
    fputc('\n', out);
}

static int span_report(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"service", required_argument, NULL, 's'}, {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},   {"limit", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},  {"exact", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *name = argv[0];
    const span_report_info *info = span_report_find(name);
    char pbuf[4][96];
    char *params[4];
    int nparams = 0, c, fmt = cli_default_format(), exact = 0, window = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:n:f:h", opts, NULL)) != -1) {
        int64_t t;
        int need = c == 's' ? OPT_SERVICE : c == 'S' || c == 'U' ? OPT_WINDOW
                 : c == 'n' ? OPT_LIMIT : c == 'x' ? OPT_EXACT : 0;
        if (need && !(info->opts & need)) {
            const char *opt = c == 's' ? "--service" : c == 'S' ? "--since" : c == 'U' ? "--until"
                            : c == 'n' ? "--limit" : "--exact";
            cli_error("report", "report %s takes no %s (see spanlite report %s --help)", name, opt, name);
            return EXIT_USAGE;
        }
        switch (c) {
        case 's':
            snprintf(pbuf[nparams], sizeof pbuf[0], "service=%s", optarg);
            break;
        case 'S':
        case 'U':
            if (cli_parse_time("report", c == 'S' ? "--since" : "--until", optarg, &t))
                return EXIT_USAGE;
            snprintf(pbuf[nparams], sizeof pbuf[0], "%s=%lld", c == 'S' ? "since" : "until", (long long)t);
            window = 1;
            break;
        case 'n': {
            int64_t n;
            char *end;
            n = strtoll(optarg, &end, 10);
            if (*end || n < 0) {
                cli_error("report", "--limit wants a whole number, not '%s'", optarg);
                return EXIT_USAGE;
            }
            snprintf(pbuf[nparams], sizeof pbuf[0], "limit=%lld", (long long)n);
            break;
        }
        case 'f':
            if (cli_parse_format("report", optarg, CLI_ROW_FORMATS, &fmt) != 0) {
                return EXIT_USAGE;
            }
            continue;
        case 'x': exact = 1; continue;
        case 'h': span_report_usage(stdout, info); return EXIT_OK;
        default: span_report_usage(stderr, info); return EXIT_USAGE;
        }
        /* a repeated option overrides: keep one slot per name */
        char *eq = strchr(pbuf[nparams], '=');
        int slot = nparams;
        for (int i = 0; i < nparams; i++)
            if (strncmp(params[i], pbuf[nparams], (size_t)(eq - pbuf[nparams]) + 1) == 0) slot = i;
        if (slot != nparams) {
            memcpy(params[slot], pbuf[nparams], sizeof pbuf[0]);
        } else {
            params[nparams] = pbuf[nparams];
            nparams++;
        }
    }
    if (optind < argc) {
        cli_error("report", "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    /* services and operations have a rollup twin: exact figures need every
     * span, the rollups answer in milliseconds over years. */
    char twin[64];
    snprintf(twin, sizeof twin, "%s_rollup", name);
    const char *sql = !exact && !window && cli_query_sql(twin) ? cli_query_sql(twin) : cli_query_sql(name);
    sl_db *db = sql ? cli_open(ctx, 1) : NULL;
    if (!db) return EXIT_USAGE;
    int status = cli_run_sql(sl_sqlite(db), sql, params, nparams, (cli_outfmt)fmt, "report");
    sl_close(db);
    return status;
}

int cmd_report(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    for (size_t i = 0; i < NREPORTS; i++)
        if (reports[i].run && strcmp(argv[1], reports[i].name) == 0)
            return reports[i].run(ctx, argc - 1, argv + 1);
    cli_error("report", "unknown report '%s' (see spanlite report --help)", argv[1]);
    return EXIT_USAGE;
}
