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

/*
 * The contract of a named query, read from its leading comment:
 *
 *     -- What it answers, on one or more lines.
 *     -- params: service, since, until (ns), trace (required), limit (default 10)
 *
 * A parameter whose note says "required" must be given; since and until take
 * the times --since takes.  Any other --param name is refused.
 */
#define QUERY_MAX_PARAMS 16

typedef struct query_param {
    char name[32];
    int required;
} query_param;

typedef struct query_info {
    char desc[512];                  /* the comment lines before "params:", joined */
    query_param p[QUERY_MAX_PARAMS]; /* np used */
    int np;
} query_info;

static void query_info_params(query_info *qi, const char *s, const char *end)
{
    while (s < end && qi->np < QUERY_MAX_PARAMS) {
        while (s < end && (*s == ' ' || *s == ',')) s++;
        const char *name = s;
        while (s < end && (*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))) s++;
        if (s == name) break;
        query_param *p = &qi->p[qi->np++];
        snprintf(p->name, sizeof p->name, "%.*s", (int)(s - name), name);
        int depth = 0;
        const char *note = s;
        for (; s < end && (depth || *s != ','); s++) depth += (*s == '(') - (*s == ')');
        p->required = memmem(note, (size_t)(s - note), "required", 8) != NULL;
    }
}

static void query_info_read(const char *sql, query_info *qi)
{
    memset(qi, 0, sizeof *qi);
    size_t used = 0;
    while (strncmp(sql, "-- ", 3) == 0) {
        const char *text = sql + 3, *end = strchr(text, '\n');
        if (!end) end = text + strlen(text);
        if (strncmp(text, "params:", 7) == 0) {
            query_info_params(qi, text + 7, end);
        } else if (used + 2 < sizeof qi->desc) {
            int n = snprintf(qi->desc + used, sizeof qi->desc - used, "%s%.*s", used ? " " : "",
                             (int)(end - text), text);
            used = n < 0 ? used : used + (size_t)n < sizeof qi->desc ? used + (size_t)n : sizeof qi->desc - 1;
        }
        sql = *end ? end + 1 : end;
    }
}

static const query_param *query_param_find(const query_info *qi, const char *name, size_t len)
{
    for (int i = 0; i < qi->np; i++)
        if (strlen(qi->p[i].name) == len && strncmp(qi->p[i].name, name, len) == 0) return &qi->p[i];
    return NULL;
}

/* Each query's name, then its description wrapped under a hanging indent. */
static void list(FILE *out)
{
    int width = 0;
    for (const struct sl_embedded_sql *q = sl_queries; q->name; q++)
        if ((int)strlen(q->name) - 4 > width) width = (int)strlen(q->name) - 4;
    for (const struct sl_embedded_sql *q = sl_queries; q->name; q++) {
        query_info qi;
        query_info_read(q->sql, &qi);
        int col = fprintf(out, "  %-*.*s  ", width, (int)(strlen(q->name) - 4), q->name);
        const char *w = qi.desc;
        int at = col;
        while (*w) {
            size_t n = strcspn(w, " ");
            if (at > col && at + (int)n > 79) {
                fprintf(out, "\n%*s", col, "");
                at = col;
            }
            at += fprintf(out, "%s%.*s", at > col ? " " : "", (int)n, w);
            w += n;
            while (*w == ' ') w++;
        }
        fputc('\n', out);
    }
}

/* Check every --param against the query's contract and turn since/until
 * into nanoseconds (into conv[i], which params[i] then points at).
 * EXIT_OK, or EXIT_USAGE after saying why. */
static int check_params(const char *name, const char *sql, char **params, int nparams,
                        char (*conv)[64])
{
    query_info qi;
    query_info_read(sql, &qi);
    for (int i = 0; i < nparams; i++) {
        const char *eq = strchr(params[i], '=');
        size_t len = (size_t)(eq - params[i]);
        if (!query_param_find(&qi, params[i], len)) {
            char known[512] = "";
            for (int k = 0; k < qi.np; k++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", k ? ", " : "",
                         qi.p[k].name);
            cli_error("query", "%s has no parameter '%.*s' (its parameters: %s)", name, (int)len,
                      params[i], qi.np ? known : "none");
            return EXIT_USAGE;
        }
        if ((len == 5 && strncmp(params[i], "since", 5) == 0) ||
            (len == 5 && strncmp(params[i], "until", 5) == 0)) {
            int64_t ns;
            if (cli_parse_time("query", params[i][0] == 's' ? "--param since" : "--param until",
                               eq + 1, &ns))
                return EXIT_USAGE;
            snprintf(conv[i], sizeof conv[i], "%.5s=%lld", params[i], (long long)ns);
            params[i] = conv[i];
        }
    }
    for (int k = 0; k < qi.np; k++) {
        if (!qi.p[k].required) continue;
        int given = 0;
        for (int i = 0; i < nparams && !given; i++)
            given = strncmp(params[i], qi.p[k].name, strlen(qi.p[k].name)) == 0 &&
                    params[i][strlen(qi.p[k].name)] == '=';
        if (!given) {
            cli_error("query", "%s needs --param %s=VALUE", name, qi.p[k].name);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] query [--format table|csv|json|jsonl] [--param NAME=VALUE]... NAME\n"
        "       spanlite query --list\n"
        "       spanlite query --show NAME\n"
        "\n"
        "Run a named report (queries/NAME.sql).  Parameters bind to :NAME in the SQL;\n"
        "unset ones are NULL, which the queries read as 'no filter'.  since and until\n"
        "take the times --since takes (ISO 8601, epoch, -1h); a name the query does not\n"
        "have, or a required one left out, is refused.\n"
        "\nQueries:\n");
    list(out);
}

int cmd_query(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"param", required_argument, NULL, 'p'},
        {"list", no_argument, NULL, 'l'},         {"show", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int fmt = cli_default_format(), c, show = 0, status = EXIT_USAGE;
    char **params = calloc((size_t)argc, sizeof *params);
    char (*conv)[64] = calloc((size_t)argc, sizeof *conv); /* since/until as ns */
    int nparams = 0;
    sl_db *db = NULL;
    if (!params || !conv) goto done;
    while ((c = getopt_long(argc, argv, "f:p:lsh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cli_parse_format("query", optarg, CLI_ROW_FORMATS, &fmt) == 0) break;
            goto done;
        case 'p':
            if (strchr(optarg, '=')) {
                params[nparams++] = optarg;
                break;
            }
            cli_error("query", "--param wants NAME=VALUE, not '%s'", optarg);
            goto done;
        case 'l': list(stdout); status = EXIT_OK; goto done;
        case 's': show = 1; break;
        case 'h': usage(stdout); status = EXIT_OK; goto done;
        default: usage(stderr); goto done;
        }
    }
    const char *sql = optind == argc - 1 ? cli_query_sql(argv[optind]) : NULL;
    if (!sql) {
        if (optind == argc - 1) cli_error("query", "no query named '%s' (see spanlite query --list)", argv[optind]);
        else usage(stderr);
        goto done;
    }
    if (show) {
        fputs(sql, stdout);
        status = EXIT_OK;
        goto done;
    }
    if (check_params(argv[optind], sql, params, nparams, conv) != EXIT_OK) goto done;
    if (!(db = cli_open(ctx, 1))) goto done;
    status = cli_run_sql(sl_sqlite(db), sql, params, nparams, (cli_outfmt)fmt, "query");
done:
    sl_close(db);
    free(params);
    free(conv);
    return status;
}
