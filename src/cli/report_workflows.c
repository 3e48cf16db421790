/*
 * report_workflows.c -- `spanlite report workflows`: aggregate_workflows.py's
 * report from the warehouse: sl_workflow_report_run() and
 * sl_workflow_report_write() of spanlite.h (docs/workflows.md has the
 * contract).
 *
 * With the script's options the output is the script's, byte for byte:
 * the summary on stdout, then --txn-csv, then --gap-csv.  Beyond the script:
 * --format json, and filters that choose which stored events are replayed.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] report workflows [OPTIONS]\n"
        "\n"
        "aggregate_workflows.py's latency report over the stored workflow events:\n"
        "the same text, figures and CSV files as `aggregate_workflows.py --file F`\n"
        "prints for the events imported (docs/workflows.md).\n"
        "\n"
        "Options (the script's):\n"
        "  --outlier-ms N        gap threshold for outliers, ms (default 15000)\n"
        "  --derive-inter-step   gaps from step_done to the next step_open\n"
        "  --txn-csv FILE        write per-transaction durations\n"
        "  --gap-csv FILE        write inter-step gaps\n"
        "Options (spanlite's):\n"
        "  --format text|json    text (default) is the script's output\n"
        "  --since T, --until T  only events with since <= ts_ms < until (ISO 8601,\n"
        "                        epoch s/ms/us/ns, or -1h style)\n"
        "  --workflow NAME       only events of this workflow\n"
        "  --help                this help\n"
        "\n"
        "Exit status: 0 done, 1 a CSV could not be written, 2 usage or warehouse error.\n");
}

/* Nanoseconds to the first whole millisecond at or after them. */
static int64_t ceil_ms(int64_t ns)
{
    int64_t q = ns / 1000000, r = ns % 1000000;
    return r > 0 ? q + 1 : q;
}

static int write_csv(sl_db *db, sl_workflow_report *r, const char *path, int what)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("report workflows", "cannot write %s", path);
        return EXIT_FAIL;
    }
    int rc = sl_workflow_report_write(db, r, what, f);
    if (fclose(f) != 0 && rc == SL_OK) {
        cli_error("report workflows", "%s: writing failed", path);
        return EXIT_FAIL;
    }
    if (rc != SL_OK) {
        cli_error("report workflows", "%s: %s", path, sl_errmsg(db));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

typedef struct report_args {
    sl_workflow_report_opts o;
    const char *txn_csv, *gap_csv;
    int json;
} report_args;

static int parse_args(int argc, char **argv, report_args *a)
{
    static const struct option opts[] = {
        {"outlier-ms", required_argument, NULL, 'o'}, {"derive-inter-step", no_argument, NULL, 'd'},
        {"txn-csv", required_argument, NULL, 't'},     {"gap-csv", required_argument, NULL, 'g'},
        {"format", required_argument, NULL, 'f'},      {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},       {"workflow", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};
    int c;
    int64_t ns;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            /* argparse's type=int is Python's int() */
            if (sl_workflow_parse_int(optarg, &a->o.outlier_ms) != SL_OK) {
                cli_error("report workflows", "--outlier-ms wants an integer, not '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'd': a->o.derive_inter_step = 1; break;
        case 't': a->txn_csv = optarg; break;
        case 'g': a->gap_csv = optarg; break;
        case 'f':
            if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
                cli_error("report workflows", "unknown format '%s' (text, json)", optarg);
                return EXIT_USAGE;
            }
            a->json = strcmp(optarg, "json") == 0;
            break;
        case 's':
        case 'u':
            if (cli_parse_time("report workflows", c == 's' ? "--since" : "--until", optarg, &ns))
                return EXIT_USAGE;
            if (c == 's') a->o.has_since = 1, a->o.since_ms = ceil_ms(ns);
            else a->o.has_until = 1, a->o.until_ms = ceil_ms(ns);
            break;
        case 'w': a->o.workflow = optarg; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("report workflows", "unexpected argument '%s' (see --help)", argv[optind]);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_report_workflows(cli_ctx *ctx, int argc, char **argv)
{
    report_args a;
    memset(&a, 0, sizeof a);
    a.o.outlier_ms = SL_WFREPORT_DEFAULT_OUTLIER_MS;
    int status = parse_args(argc, argv, &a);
    if (status < 0) return EXIT_OK; /* --help */
    if (status) return status;

    sl_db *db = cli_open(ctx, 1);
    if (!db) return EXIT_USAGE;
    sl_workflow_report *r;
    if (sl_workflow_report_run(db, &a.o, &r) != SL_OK) {
        cli_error("report workflows", "%s", sl_errmsg(db));
        sl_close(db);
        return EXIT_USAGE;
    }
    int64_t first;
    uint64_t bad = sl_workflow_report_unprocessable(r, &first);
    if (bad)
        cli_error("report workflows",
                  "warning: %llu event%s (the first at seq %lld, see workflow_events) would stop "
                  "aggregate_workflows.py with an error; counted under their type only",
                  (unsigned long long)bad, bad == 1 ? "" : "s", (long long)first);
    if (sl_workflow_report_write(db, r, a.json ? SL_WFREPORT_JSON : SL_WFREPORT_TEXT, stdout) != SL_OK ||
        fflush(stdout) != 0) {
        cli_error("report workflows", "writing the report failed");
        status = EXIT_FAIL;
    }
    if (status == EXIT_OK && a.txn_csv) status = write_csv(db, r, a.txn_csv, SL_WFREPORT_TXN_CSV);
    if (status == EXIT_OK && a.gap_csv) status = write_csv(db, r, a.gap_csv, SL_WFREPORT_GAP_CSV);
    sl_workflow_report_free(r);
    sl_close(db);
    return status;
}
