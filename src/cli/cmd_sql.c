/*
 * cmd_sql.c -- `spanlite sql`: ad hoc SQL over the warehouse, opened
 * read-only so that a query cannot damage it.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] sql [--format table|csv|json|jsonl] [--param NAME=VALUE]... SQL\n"
        "\n"
        "Run SQL over the warehouse, read-only.  SQL may hold several statements; the rows\n"
        "of each are printed.  '-' reads the SQL from standard input.  Only statements\n"
        "that read are run (SELECT, read-only pragmas, ATTACH of another warehouse);\n"
        "VACUUM, writing pragmas and changes are refused.\n"
        "Public views: spans, traces, services (docs/schema.md); functions: docs/sql.md.\n"
        "\n"
        "Options:\n"
        "  --format F          table (default on a terminal), csv, json (one array of\n"
        "                      objects, numbers as numbers), jsonl (an object per line)\n"
        "  --param NAME=VALUE  bind :NAME (numbers bind as numbers)\n"
        "  --help              this help\n");
}

static char *read_stdin(void)
{
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t got;
    while (s && (got = fread(s + n, 1, cap - n - 1, stdin)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *t = realloc(s, cap *= 2);
            if (!t) free(s);
            s = t;
        }
    }
    if (s) s[n] = '\0';
    return s;
}

int cmd_sql(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"param", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int fmt = cli_isatty(1) ? OUT_TABLE : OUT_CSV, c;
    char **params = calloc((size_t)argc, sizeof *params);
    int nparams = 0;
    if (!params) return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "f:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if ((fmt = cli_parse_outfmt(optarg)) < 0) {
                cli_error("sql", "unknown format '%s' (table, csv, json, jsonl)", optarg);
                free(params);
                return EXIT_USAGE;
            }
            break;
        case 'p':
            if (!strchr(optarg, '=')) {
                cli_error("sql", "--param wants NAME=VALUE, not '%s'", optarg);
                free(params);
                return EXIT_USAGE;
            }
            params[nparams++] = optarg;
            break;
        case 'h': usage(stdout); free(params); return EXIT_OK;
        default: usage(stderr); free(params); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("sql", "expected one SQL argument (see spanlite sql --help)");
        free(params);
        return EXIT_USAGE;
    }
    char *sql = strcmp(argv[optind], "-") == 0 ? read_stdin() : strdup(argv[optind]);
    sl_db *db = sql ? cli_open(ctx, 1) : NULL;
    if (!db) {
        free(sql);
        free(params);
        return EXIT_USAGE;
    }
    int status = cli_run_sql(sl_sqlite(db), sql, params, nparams, (cli_outfmt)fmt, "sql");
    if (fflush(stdout) != 0) status = EXIT_FAIL;
    sl_close(db);
    free(sql);
    free(params);
    return status;
}
