/*
 * main.c -- the `spanlite` command: global options and the command table.
 * Each command lives in its own file and parses its own options; all share
 * cli.h.  The command is a thin layer over libspanlite.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int cmd_init(cli_ctx *ctx, int argc, char **argv);
int cmd_import(cli_ctx *ctx, int argc, char **argv);
int cmd_sql(cli_ctx *ctx, int argc, char **argv);
int cmd_export(cli_ctx *ctx, int argc, char **argv);
int cmd_report(cli_ctx *ctx, int argc, char **argv);
int cmd_query(cli_ctx *ctx, int argc, char **argv);
int cmd_trace(cli_ctx *ctx, int argc, char **argv);
int cmd_search(cli_ctx *ctx, int argc, char **argv);
int cmd_deps(cli_ctx *ctx, int argc, char **argv);
int cmd_check(cli_ctx *ctx, int argc, char **argv);

static const cli_command commands[] = {
    {"init", cmd_init, "create a warehouse, or migrate it to this version's schema"},
    {"import", cmd_import, "import spans or workflow events from files or stdin"},
    {"sql", cmd_sql, "run SQL over the warehouse (read-only)"},
    {"export", cmd_export, "write spans out as spans, otlp, jaeger, zipkin or csv"},
    {"report", cmd_report, "reports: services, operations, trend, slowest, errors, summary, workflows"},
    {"query", cmd_query, "run a named SQL report from queries/ with parameters"},
    {"trace", cmd_trace, "one trace as a tree, with its critical path and time per service"},
    {"search", cmd_search, "find traces by service, operation, duration, errors, attributes, time"},
    {"deps", cmd_deps, "the service dependency graph (table, json, dot, mermaid)"},
    {"check", cmd_check, "check the warehouse: integrity, and derived tables against the spans"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: spanlite [--db FILE] COMMAND [ARGS...]\n"
            "\n"
            "A persistent trace warehouse on SQLite.\n"
            "\n"
            "Options:\n"
            "  --db FILE     the warehouse (default: $SPANLITE_DB, then ./spanlite.db);\n"
            "                also accepted after the command\n"
            "  --help        this help; `spanlite COMMAND --help` for a command's\n"
            "  --version     print the version\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nExit status: 0 success, 1 failure or rejected records, 2 usage or fatal error.\n");
}

int main(int argc, char **argv)
{
    cli_ctx ctx = {NULL, "spanlite"};
    /* The process is ours: skip SQLite's allocation statistics, which take a
     * global mutex on every malloc. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    const char *env = getenv("SPANLITE_DB");
    ctx.db_path = env && *env ? env : "spanlite.db";

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("spanlite %s (schema %d)\n", sl_version(), sl_schema_version());
            return EXIT_OK;
        } else if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            ctx.db_path = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) {
            ctx.db_path = a + 5;
        } else {
            cli_error(NULL, "unknown option '%s' (see spanlite --help)", a);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* --db is global wherever it stands: `spanlite report summary --db W`
     * means what `spanlite --db W report summary` means.  Taken out of the
     * command's arguments before it parses them (up to a "--"). */
    int n = i + 1;
    for (int j = i + 1; j < argc; j++) {
        if (strcmp(argv[j], "--") == 0) {
            while (j < argc) argv[n++] = argv[j++];
            break;
        }
        if (strcmp(argv[j], "--db") == 0 && j + 1 < argc) ctx.db_path = argv[++j];
        else if (strncmp(argv[j], "--db=", 5) == 0) ctx.db_path = argv[j] + 5;
        else argv[n++] = argv[j];
    }
    argc = n;
    argv[argc] = NULL;
    for (size_t c = 0; c < NCOMMANDS; c++)
        if (strcmp(argv[i], commands[c].name) == 0) {
            optind = 1; /* each command parses its own argv from the start */
            return commands[c].run(&ctx, argc - i, argv + i);
        }
    cli_error(NULL, "unknown command '%s' (see spanlite --help)", argv[i]);
    return EXIT_USAGE;
}
