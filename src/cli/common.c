/* common.c -- helpers shared by the spanlite commands; see cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "spanlite%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_isatty(int fd) { return isatty(fd); }

/* Every --format name, indexed by cli_outfmt, and the command that writes
 * the ones that are not everyone's. */
static const struct {
    const char *name;
    const char *owner; /* NULL: every command with result sets */
} formats[] = {
    [OUT_TABLE] = {"table", NULL},     [OUT_CSV] = {"csv", NULL},
    [OUT_JSON] = {"json", NULL},       [OUT_JSONL] = {"jsonl", NULL},
    [OUT_DOT] = {"dot", "deps"},       [OUT_MERMAID] = {"mermaid", "deps"},
    [OUT_JSON_TREE] = {"json-tree", "trace"},
};
#define NFORMATS (int)(sizeof formats / sizeof *formats)

int cli_default_format(void) { return cli_isatty(1) ? OUT_TABLE : OUT_CSV; }

int cli_parse_format(const char *cmd, const char *s, unsigned accepted, int *fmt)
{
    char list[128] = "";
    for (int i = 0; i < NFORMATS; i++)
        if (accepted & (1u << i))
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? ", " : "",
                     formats[i].name);
    for (int i = 0; i < NFORMATS; i++) {
        if (strcmp(s, formats[i].name) != 0) continue;
        if (accepted & (1u << i)) {
            *fmt = i;
            return 0;
        }
        if (formats[i].owner)
            cli_error(cmd, "%s does not write %s (%s is for spanlite %s); %s writes %s", cmd, s, s,
                      formats[i].owner, cmd, list);
        else
            cli_error(cmd, "%s does not write %s; it writes %s", cmd, s, list);
        return -1;
    }
    cli_error(cmd, "unknown format '%s' (%s writes %s)", s, cmd, list);
    return -1;
}

sl_db *cli_open(cli_ctx *ctx, int readonly)
{
    sl_db *db;
    if (readonly && access(ctx->db_path, F_OK) != 0) {
        cli_error(NULL, "%s: no such warehouse (create one with `spanlite --db %s init`)",
                  ctx->db_path, ctx->db_path);
        return NULL;
    }
    if (sl_open(ctx->db_path, readonly ? SL_OPEN_READONLY : 0, &db) != SL_OK) {
        cli_error(NULL, "%s", sl_errmsg(db));
        sl_close(db);
        return NULL;
    }
    return db;
}

/* Time and duration arguments: the library's parser (sl_parse_time,
 * sl_parse_duration), with the message a user sees when it refuses. */
int cli_parse_time(const char *cmd, const char *opt, const char *s, int64_t *ns)
{
    struct timespec now;
    const char *why = "";
    clock_gettime(CLOCK_REALTIME, &now);
    if (sl_parse_time(s, (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec, ns, &why) == SL_OK)
        return 0;
    cli_error(cmd, "%s: cannot read '%s' as a time: %s", opt, s, why);
    return -1;
}

int cli_parse_duration(const char *cmd, const char *opt, const char *s, int64_t *ns)
{
    const char *why = "";
    if (sl_parse_duration(s, ns, &why) == SL_OK) return 0;
    cli_error(cmd, "%s: cannot read '%s' as a duration: %s", opt, s, why);
    return -1;
}

/* Bind every --param NAME=VALUE to :NAME, @NAME or $NAME. */
void cli_bind_params(sqlite3_stmt *st, char *const *params, int nparams)
{
    for (int i = 0; i < nparams; i++) {
        char *eq = strchr(params[i], '=');
        char name[256];
        const char *value = eq + 1;
        for (const char *pfx = ":@$"; *pfx; pfx++) {
            snprintf(name, sizeof name, "%c%.*s", *pfx, (int)(eq - params[i]), params[i]);
            int idx = sqlite3_bind_parameter_index(st, name);
            if (!idx) continue;
            char *end;
            errno = 0;
            long long iv = strtoll(value, &end, 10);
            if (*value && !*end && errno == 0) {
                sqlite3_bind_int64(st, idx, iv);
                continue;
            }
            double dv = strtod(value, &end);
            if (*value && !*end) sqlite3_bind_double(st, idx, dv);
            else sqlite3_bind_text(st, idx, value, -1, SQLITE_TRANSIENT);
        }
    }
}

int cli_run_sql(sqlite3 *h, const char *sql, char *const *params, int nparams, cli_outfmt fmt,
                const char *cmd)
{
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, tail, -1, &st, &tail) != SQLITE_OK) {
            cli_error(cmd, "%s", sqlite3_errmsg(h));
            return EXIT_FAIL;
        }
        if (!st) continue; /* whitespace or a comment */
        /* The connection is read-only, yet VACUUM INTO would still write a
         * copy anywhere, and pragmas that set would fail obscurely: run only
         * what reads (ATTACH, to read other warehouses, counts as reading). */
        if (!sqlite3_stmt_readonly(st)) {
            cli_error(cmd, "refused: the warehouse is open read-only, and this statement writes: %.80s", sqlite3_sql(st));
            sqlite3_finalize(st);
            return EXIT_FAIL;
        }
        cli_bind_params(st, params, nparams);
        int rc = cli_print_stmt(st, fmt, stdout);
        if (rc != SQLITE_DONE) cli_error(cmd, "%s", sqlite3_errmsg(h));
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return EXIT_FAIL;
    }
    return EXIT_OK;
}

