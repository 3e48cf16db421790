/*
 * cmd_check.c -- `spanlite check`: is the warehouse sound?  Read-only.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] check\n"
        "\n"
        "Check the warehouse without changing it: SQLite's integrity check of every\n"
        "page and index, then every derived table against the spans it comes from\n"
        "(each trace's counts and bounds, the hourly rollups, the dependency links).\n"
        "Prints one line per check and one per problem found.  Exit status: 0 sound,\n"
        "1 problems found, 2 the warehouse cannot be read.\n"
        "\n"
        "When a check fails: stop importing into the file and keep a copy of it.\n"
        "If only derived tables are off (traces, rollups, links) and integrity is ok,\n"
        "export the spans and import them into a new warehouse, which rebuilds every\n"
        "derived row.  If integrity fails, recover what SQLite can read\n"
        "(sqlite3 FILE .recover | sqlite3 NEW) or restore a backup, then check again.\n"
        "\n"
        "Options:\n"
        "  --help   this help\n");
}

static void on_problem(void *ctx, const char *check, const char *problem)
{
    (void)ctx;
    printf("%s: %s\n", check, problem);
}

static void on_done(void *ctx, const char *check, uint64_t problems)
{
    (void)ctx;
    if (problems) printf("%s: %llu problem%s\n", check, (unsigned long long)problems, problems == 1 ? "" : "s");
    else printf("%s: ok\n", check);
    fflush(stdout);
}

int cmd_check(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return EXIT_OK;
        }
        usage(stderr);
        return EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("check", "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    sl_db *db = cli_open(ctx, 1);
    if (!db) return EXIT_USAGE;
    uint64_t problems = 0;
    int rc = sl_check(db, on_problem, on_done, NULL, &problems);
    if (rc != SL_OK) cli_error("check", "%s", sl_errmsg(db));
    sl_close(db);
    if (rc != SL_OK) return EXIT_USAGE;
    if (problems)
        fprintf(stderr, "spanlite check: %llu problem%s found (spanlite check --help says what to do)\n",
                (unsigned long long)problems, problems == 1 ? "" : "s");
    return problems ? EXIT_FAIL : EXIT_OK;
}
