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

/* Standard input whole, through SQLite's string builder; NULL on a read
 * error or when out of memory.  Caller frees with sqlite3_free(). */
static char *read_stdin(void)
{
    sqlite3_str *b = sqlite3_str_new(NULL);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        sqlite3_str_append(b, chunk, (int)got);
    if (ferror(stdin) || sqlite3_str_errcode(b) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(b));
        return NULL;
    }
    char *s = sqlite3_str_finish(b);
    return s ? s : sqlite3_mprintf("%s", ""); /* finish gives NULL for no input */
}

int cmd_sql(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"param", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int fmt = cli_default_format(), c;
    char **params = calloc((size_t)argc, sizeof *params);
    int nparams = 0;
    if (!params) return EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "f:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cli_parse_format("sql", optarg, CLI_ROW_FORMATS, &fmt) != 0) {
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
    char *sql = strcmp(argv[optind], "-") == 0 ? read_stdin() : sqlite3_mprintf("%s", argv[optind]);
    if (!sql) cli_error("sql", "cannot read the SQL (a read error on standard input, or out of memory)");
    sl_db *db = sql ? cli_open(ctx, 1) : NULL;
    if (!db) {
        sqlite3_free(sql);
        free(params);
        return EXIT_USAGE;
    }
    int status = cli_run_sql(sl_sqlite(db), sql, params, nparams, (cli_outfmt)fmt, "sql");
    if (fflush(stdout) != 0) status = EXIT_FAIL;
    sl_close(db);
    sqlite3_free(sql);
    free(params);
    return status;
}
