/*
 * report.c -- `spanlite report NAME`: the table of named reports.
 */
#include "cli.h"

#include <string.h>

int cli_report_workflows(cli_ctx *ctx, int argc, char **argv) __attribute__((weak));

static const cli_report reports[] = {
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
