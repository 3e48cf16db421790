/*
 * cmd_query.c -- `spanlite query`: the named reports of queries/NAME.sql,
 * embedded at build time, run with parameters.  `spanlite report NAME` for
 * the span reports is the same thing with friendlier options (report.c).
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct sl_embedded_sql {
    const char *name;
    const char *sql;
};
extern const struct sl_embedded_sql sl_queries[];

const char *cli_query_sql(const char *name)
{
    size_t n = strlen(name);
    for (const struct sl_embedded_sql *q = sl_queries; q->name; q++)
        if (strncmp(q->name, name, n) == 0 && strcmp(q->name + n, ".sql") == 0) return q->sql;
    return NULL;
}

/* The first line of the leading comment: the query's description. */
static void print_description(FILE *out, const char *sql)
{
    if (strncmp(sql, "-- ", 3) != 0) return;
    const char *end = strchr(sql, '\n');
    fprintf(out, "%.*s", (int)(end ? end - sql - 3 : (long)strlen(sql) - 3), sql + 3);
}

static void list(FILE *out)
{
    for (const struct sl_embedded_sql *q = sl_queries; q->name; q++) {
        fprintf(out, "  %-14.*s ", (int)(strlen(q->name) - 4), q->name);
        print_description(out, q->sql);
        fputc('\n', out);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] query [--format table|csv|json|jsonl] [--param NAME=VALUE]... NAME\n"
        "       spanlite query --list\n"
        "       spanlite query --show NAME\n"
        "\n"
        "Run a named report (queries/NAME.sql).  Parameters bind to :NAME in the SQL;\n"
        "unset ones are NULL, which the queries read as 'no filter'.  Times are ns.\n"
        "\nQueries:\n");
    list(out);
}

int cmd_query(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"param", required_argument, NULL, 'p'},
        {"list", no_argument, NULL, 'l'},         {"show", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int fmt = cli_isatty(1) ? OUT_TABLE : OUT_CSV, c, show = 0, status;
    char **params = calloc((size_t)argc, sizeof *params);
    int nparams = 0;
    if (!params) return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "f:p:lsh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if ((fmt = cli_parse_outfmt(optarg)) >= 0) break;
            cli_error("query", "unknown format '%s' (table, csv, json, jsonl)", optarg);
            free(params);
            return EXIT_USAGE;
        case 'p':
            if (strchr(optarg, '=')) {
                params[nparams++] = optarg;
                break;
            }
            cli_error("query", "--param wants NAME=VALUE, not '%s'", optarg);
            free(params);
            return EXIT_USAGE;
        case 'l': list(stdout); free(params); return EXIT_OK;
        case 's': show = 1; break;
        case 'h': usage(stdout); free(params); return EXIT_OK;
        default: usage(stderr); free(params); return EXIT_USAGE;
        }
    }
    const char *sql = optind == argc - 1 ? cli_query_sql(argv[optind]) : NULL;
    if (!sql) {
        if (optind == argc - 1) cli_error("query", "no query named '%s' (see spanlite query --list)", argv[optind]);
        else usage(stderr);
        free(params);
        return EXIT_USAGE;
    }
    if (show) {
        fputs(sql, stdout);
        free(params);
        return EXIT_OK;
    }
    sl_db *db = cli_open(ctx, 1);
    if (!db) {
        free(params);
        return EXIT_USAGE;
    }
    status = cli_run_sql(sl_sqlite(db), sql, params, nparams, (cli_outfmt)fmt, "query");
    sl_close(db);
    free(params);
    return status;
}
