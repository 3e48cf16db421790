/*
 * cli.h -- shared pieces of the `spanlite` command: global options, option
 * parsing helpers, output of result sets in the formats people and
 * programs want, and the command table.
 *
 * Exit codes: 0 success, 1 failure or rejected input, 2 usage or fatal
 * error.  Data goes to stdout, diagnostics to stderr.
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include "spanlite.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef struct cli_ctx {
    const char *db_path; /* --db, $SPANLITE_DB, or ./spanlite.db */
    const char *prog;    /* "spanlite" */
} cli_ctx;

typedef struct cli_command {
    const char *name;
    int (*run)(cli_ctx *ctx, int argc, char **argv); /* argv[0] is the command name */
    const char *summary; /* one line for `spanlite --help` */
} cli_command;

/* Output formats (--format).  The first four are every command's result
 * set formats (output.c); the others are the formats a single command adds:
 * deps writes dot and mermaid, trace writes json-tree. */
typedef enum { OUT_TABLE, OUT_CSV, OUT_JSON, OUT_JSONL, OUT_DOT, OUT_MERMAID, OUT_JSON_TREE } cli_outfmt;
/* The --format of a command that writes the formats whose bits are set in
 * accepted (1 << OUT_*): 0 and *fmt set, or -1 after printing either
 * "spanlite CMD: unknown format 'S' (CMD writes A, B, ...)" or, for a
 * format another command writes, "spanlite CMD: CMD does not write S (...
 * is for spanlite OTHER); CMD writes A, B, ...". */
int cli_parse_format(const char *cmd, const char *s, unsigned accepted, int *fmt);
/* The accepted set of a command that writes result sets only. */
#define CLI_ROW_FORMATS (1u << OUT_TABLE | 1u << OUT_CSV | 1u << OUT_JSON | 1u << OUT_JSONL)
/* The format when --format is not given: table when standard output is a
 * terminal, csv otherwise (docs/cli.md). */
int cli_default_format(void);
/* One CSV field, RFC 4180 quoting (only when it holds , " CR or LF). */
void cli_csv_field(FILE *out, const char *s);

/* Display width of UTF-8 text in a terminal's columns (width.c): East Asian
 * Wide and Fullwidth characters 2, combining marks and other zero-width
 * characters 0, the rest 1.  Every table printer pads by this. */
size_t cli_display_width(const char *s);
/* The same for one code point: 0, 1 or 2. */
int cli_codepoint_width(uint32_t cp);
/* Run stmt to completion, writing every row to out in fmt.  Returns
 * SQLITE_DONE or the failing SQLite code (message via sqlite3_errmsg). */
int cli_print_stmt(sqlite3_stmt *stmt, cli_outfmt fmt, FILE *out);

/* Bind each "NAME=VALUE" of params to :NAME/@NAME/$NAME of st; values that
 * read as numbers bind as numbers. */
void cli_bind_params(sqlite3_stmt *st, char *const *params, int nparams);
/* Run every statement of sql, printing each one's rows.  EXIT_OK, or
 * EXIT_FAIL with SQLite's message on stderr (prefixed by cmd). */
int cli_run_sql(sqlite3 *h, const char *sql, char *const *params, int nparams, cli_outfmt fmt,
                const char *cmd);

/* Named queries (queries/NAME.sql, embedded): the SQL of name, or NULL. */
const char *cli_query_sql(const char *name);

/* Open the warehouse (readonly or read-write, migrating); prints the error
 * and returns NULL on failure. */
sl_db *cli_open(cli_ctx *ctx, int readonly);

/* The time argument s of option opt (--since) of command cmd, by
 * sl_parse_time() of spanlite.h with now from the clock: ISO 8601 / RFC 3339
 * dates and date-times, epoch numbers, "now", "-1h" (docs/cli.md lists every
 * form).  0 and *ns set, or -1 after printing
 * "spanlite CMD: OPT: cannot read 'S' as a time: REASON". */
int cli_parse_time(const char *cmd, const char *opt, const char *s, int64_t *ns);
/* The same for durations (sl_parse_duration): "250ms", "1.5s", "2m", bare
 * number = ms. */
int cli_parse_duration(const char *cmd, const char *opt, const char *s, int64_t *ns);

/* Print "spanlite CMD: msg" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when fd is a terminal (progress is shown only then). */
int cli_isatty(int fd);

/* Subcommands of `spanlite report` (src/cli/report.c dispatches). */
typedef struct cli_report {
    const char *name;
    int (*run)(cli_ctx *ctx, int argc, char **argv); /* argv[0] is the report name */
    const char *summary;
} cli_report;

#endif
