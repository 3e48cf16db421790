/*
 * cmd_search.c -- `spanlite search`: find traces, as TracAgg's
 * search_traces() and Jaeger's search form do.
 *
 * A trace matches when
 *   S1 at least one of its spans matches ALL the span filters together:
 *      --service, --operation and every --attr KEY=VALUE;
 *   S2 and the trace itself matches the trace filters: --min-duration and
 *      --max-duration bound the trace duration (both inclusive), --errors
 *      wants error_count > 0, --since/--until bound the trace start
 *      (since inclusive, until exclusive, as everywhere in spanlite).
 * Rows come from the `traces` view, newest first, at most --limit of them.
 *
 * --attr KEY=VALUE compares json_extract(attributes, '$."KEY"') with VALUE
 * as text, and as a number when VALUE is one (so http.status_code=500
 * matches the JSON number 500 and the string "500"); true, false and null
 * match the JSON literals.  The same comparison runs over the span's
 * resource attributes and its events' attributes, and a few keys match the
 * span fields that hold Jaeger's tags (field_tags below), so that a search
 * finds what Jaeger's does (its memory store matches span tags, process
 * tags and log fields; tests/cli/cli_output.sh checks it on real files).
 *
 * The SQL is assembled from fixed fragments, one per filter given; every
 * value the user typed is bound as a parameter (sqlite3_bind_*), never
 * spliced into the text.
 */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct search_attr {
    const char *arg;    /* KEY=VALUE as typed */
    char *path;         /* '$."KEY"', owned; NULL when KEY holds a '"' */
    char *key;          /* KEY, owned */
    const char *value;  /* VALUE, inside arg */
} search_attr;

typedef struct search_opts {
    const char *service, *operation;
    int64_t min_dur, max_dur, since, until, limit;
    int has_min, has_max, has_since, has_until, errors;
    search_attr *attrs; /* nattrs, owned */
    int nattrs;
    int fmt;
} search_opts;

static void opts_free(search_opts *o)
{
    for (int i = 0; i < o->nattrs; i++) {
        free(o->attrs[i].path);
        free(o->attrs[i].key);
    }
    free(o->attrs);
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] search [OPTIONS]\n"
        "\n"
        "Find traces (TracAgg's search_traces, Jaeger's search).  A trace matches when one\n"
        "of its spans matches all of --service, --operation and every --attr together, and\n"
        "the trace matches the duration, error and time filters.  Newest first.\n"
        "\n"
        "Span filters:\n"
        "  --service S          the span's service\n"
        "  --operation O        the span's operation\n"
        "  --attr KEY=VALUE     KEY equals VALUE in the span's attributes, its resource's\n"
        "                       (OTLP resource, Jaeger process tags: host.name,\n"
        "                       k8s.pod.name ...) or one of its events' (Jaeger log\n"
        "                       fields), as Jaeger's search looks; compared as text and,\n"
        "                       when VALUE is a number, as a number; true/false/null\n"
        "                       match the JSON literals.  Jaeger's tags that spanlite\n"
        "                       keeps as span fields match those fields: error=true\n"
        "                       finds spans whose status is error; span.kind,\n"
        "                       otel.status_code (OK, ERROR), otel.status_description,\n"
        "                       otel.scope.name/version, peer.service, event (an event's\n"
        "                       name).  Repeatable: all must hold, on one span.\n"
        "Trace filters:\n"
        "  --min-duration D     trace duration >= D (\"250ms\", \"1.5s\", \"300us\"; bare = ms)\n"
        "  --max-duration D     trace duration <= D\n"
        "  --errors             traces with at least one error span\n"
        "  --since T            trace starts at or after T (ISO 8601, epoch, or -1h)\n"
        "  --until T            trace starts before T\n"
        "Output:\n"
        "  --limit N            at most N traces (default 20; 0 = all)\n"
        "  --format F           table (the default on a terminal), csv (the default\n"
        "                       otherwise), json or jsonl (dot and mermaid are deps's,\n"
        "                       json-tree is trace's: refused here)\n"
        "  --help               this help\n"
        "\n"
        "Columns: trace_id, root_service, root_operation, start (ISO 8601 UTC, ms),\n"
        "duration_ms, span_count, service_count, error_count.\n"
        "\n"
        "Exit status: 0 success (also when nothing matches), 1 failure, 2 usage error.\n");
}

/* ---- Options ------------------------------------------------------------- */

static int add_attr(search_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        cli_error("search", "--attr wants KEY=VALUE, not '%s'", arg);
        return -1;
    }
    search_attr *a = &o->attrs[o->nattrs];
    a->arg = arg;
    a->value = eq + 1;
    a->key = strndup(arg, (size_t)(eq - arg));
    a->path = NULL;
    if (!a->key) return -1;
    o->nattrs++;
    if (!strchr(a->key, '"')) {
        if (asprintf(&a->path, "$.\"%s\"", a->key) < 0) {
            a->path = NULL;
            return -1;
        }
    }
    return 0;
}

static int parse_limit(const char *s, int64_t *out)
{
    if (sl_parse_int64(s, out) != 0 || *out < 0) {
        cli_error("search", "--limit wants a whole number >= 0, not '%s'", s);
        return -1;
    }
    return 0;
}

static int parse_dur(const char *opt, const char *s, int64_t *out, int *has)
{
    if (cli_parse_duration("search", opt, s, out) != 0) return -1;
    *has = 1;
    return 0;
}

static int parse_when(const char *opt, const char *s, int64_t *out, int *has)
{
    if (cli_parse_time("search", opt, s, out) != 0) return -1;
    *has = 1;
    return 0;
}

/* The result set formats; dot and mermaid (deps) and json-tree (trace) are not. */
#define SEARCH_FORMATS CLI_ROW_FORMATS

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, search_opts *o)
{
    enum { O_MIN = 256, O_MAX, O_SINCE, O_UNTIL };
    static const struct option opts[] = {
        {"service", required_argument, NULL, 's'},   {"operation", required_argument, NULL, 'o'},
        {"min-duration", required_argument, NULL, O_MIN},
        {"max-duration", required_argument, NULL, O_MAX},
        {"errors", no_argument, NULL, 'e'},          {"attr", required_argument, NULL, 'a'},
        {"since", required_argument, NULL, O_SINCE}, {"until", required_argument, NULL, O_UNTIL},
        {"limit", required_argument, NULL, 'n'},     {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
    int c, bad = 0;
    o->limit = 20;
    o->fmt = cli_default_format();
    o->attrs = calloc((size_t)argc, sizeof *o->attrs);
    if (!o->attrs) return EXIT_FAIL;
    while (!bad && (c = getopt_long(argc, argv, "s:o:ea:n:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': o->service = optarg; break;
        case 'o': o->operation = optarg; break;
        case 'e': o->errors = 1; break;
        case 'a': bad = add_attr(o, optarg); break;
        case 'n': bad = parse_limit(optarg, &o->limit); break;
        case O_MIN: bad = parse_dur("--min-duration", optarg, &o->min_dur, &o->has_min); break;
        case O_MAX: bad = parse_dur("--max-duration", optarg, &o->max_dur, &o->has_max); break;
        case O_SINCE: bad = parse_when("--since", optarg, &o->since, &o->has_since); break;
        case O_UNTIL: bad = parse_when("--until", optarg, &o->until, &o->has_until); break;
        case 'f': bad = cli_parse_format("search", optarg, SEARCH_FORMATS, &o->fmt); break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (bad) return EXIT_USAGE;
    if (optind < argc) {
        cli_error("search", "unexpected argument '%s' (see spanlite search --help)", argv[optind]);
        return EXIT_USAGE;
    }
    if (o->has_min && o->has_max && o->min_dur > o->max_dur) {
        cli_error("search", "--min-duration is above --max-duration");
        return EXIT_USAGE;
    }
    return -1;
}

/* ---- SQL ----------------------------------------------------------------- */

/*
 * Tags that Jaeger shows on a span but that spanlite keeps in span fields
 * (the Jaeger reader takes them out of the attributes, the Jaeger export
 * writes them back from the fields): --attr KEY=VALUE with one of these
 * keys also matches the field, so that a search finds what Jaeger UI's
 * search finds in the same data.  Each fragment names :at%d once.
 */
static const struct {
    const char *key;
    const char *sql;
} field_tags[] = {
    {"error", "(:at%d = 'true' AND s.status = 2)"},
    {"span.kind", "s.kind = CASE :at%d WHEN 'internal' THEN 1 WHEN 'server' THEN 2"
                  " WHEN 'client' THEN 3 WHEN 'producer' THEN 4 WHEN 'consumer' THEN 5 END"},
    {"otel.status_code", "s.status = CASE :at%d WHEN 'OK' THEN 1 WHEN 'ERROR' THEN 2 END"},
    {"otel.status_description", "s.status_message = :at%d"},
    {"otel.scope.name", "json_extract(s.scope, '$.name') = :at%d"},
    {"otel.scope.version", "json_extract(s.scope, '$.version') = :at%d"},
    {"otel.library.name", "json_extract(s.scope, '$.name') = :at%d"},
    {"otel.library.version", "json_extract(s.scope, '$.version') = :at%d"},
    {"peer.service", "s.remote_service_id = (SELECT id FROM service WHERE name = :at%d)"},
    {"event", "EXISTS (SELECT 1 FROM json_each(s.events) e WHERE json_extract(e.value, '$.name') = :at%d)"},
};

/*
 * The clause of attribute i: KEY=VALUE holds in the span's attributes, in
 * its resource's attributes (OTLP resource, Jaeger process tags), in the
 * attributes of one of its events (Jaeger log fields), or in the span field
 * that holds a Jaeger tag (field_tags).  Jaeger's search looks in the same
 * places.  Parameters: :ak<i> (path, or KEY when a path cannot name it),
 * :kk<i> (KEY), :at<i> (text), :an<i> (number or NULL), :al<i> (literal or
 * NULL).  Resources are few: the subquery over them runs once.
 */
static void attr_clause(sqlite3_str *b, const search_attr *a, int i)
{
    sqlite3_str_appendall(b, " AND (");
    if (a->path)
        sqlite3_str_appendf(b,
            "json_extract(s.attributes, :ak%d) = :at%d"
            " OR json_extract(s.attributes, :ak%d) = :an%d"
            " OR json_type(s.attributes, :ak%d) = :al%d", i, i, i, i, i, i);
    else /* a key JSON paths cannot name: look it up among the members */
        sqlite3_str_appendf(b,
            "EXISTS (SELECT 1 FROM json_each(s.attributes) j WHERE j.key = :ak%d"
            " AND (j.value = :at%d OR j.value = :an%d OR j.type = :al%d))", i, i, i, i);
    sqlite3_str_appendf(b,
        " OR s.resource_id IN (SELECT r.id FROM resource r, json_each(r.attributes) j"
        " WHERE j.key = :kk%d AND (j.value = :at%d OR j.value = :an%d OR j.type = :al%d))"
        " OR (s.events IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(s.events) e,"
        " json_each(e.value, '$.attributes') j WHERE j.key = :kk%d"
        " AND (j.value = :at%d OR j.value = :an%d OR j.type = :al%d)))", i, i, i, i, i, i, i, i);
    for (size_t k = 0; k < sizeof field_tags / sizeof *field_tags; k++)
        if (strcmp(a->key, field_tags[k].key) == 0) {
            sqlite3_str_appendall(b, " OR ");
            sqlite3_str_appendf(b, field_tags[k].sql, i);
        }
    sqlite3_str_appendchar(b, 1, ')');
}

static int has_span_filter(const search_opts *o)
{
    return o->service || o->operation || o->nattrs;
}

/*
 * The query for o; caller frees.  NULL when out of memory.
 *
 * The page of traces is chosen from the internal tables trace and span
 * (schema/001_core.sql), and only that page gets its root's names, joined
 * by ref as the traces view does: the root-span join costs a random read
 * per trace, which over every trace of a large warehouse took a second
 * where the page takes milliseconds, and matching the page back to the
 * view by trace_id would cost a probe per id generation (schema/005) for
 * each trace.  Names are matched to their ids once, so that the span
 * indexes on service_id and operation_id serve the span filters.
 */
static char *build_sql(const search_opts *o)
{
    sqlite3_str *b = sqlite3_str_new(NULL);
    sqlite3_str_appendall(b,
        "SELECT t.trace_id, sv.name AS root_service, o.name AS root_operation,"
        " strftime('%Y-%m-%dT%H:%M:%S', t.start_ns / 1000000000, 'unixepoch')"
        " || printf('.%03dZ', (t.start_ns / 1000000) % 1000) AS start,"
        " round(t.duration_ns / 1e6, 3) AS duration_ms,"
        " t.span_count, t.service_count, t.error_count"
        " FROM (SELECT tr.trace_id, tr.start_ns, tr.end_ns - tr.start_ns AS duration_ns,"
        " tr.span_count, tr.service_count, tr.error_count, tr.root_span_rowid"
        " FROM trace tr WHERE tr.span_count > 0");
    if (o->has_min) sqlite3_str_appendall(b, " AND tr.end_ns - tr.start_ns >= :min_dur");
    if (o->has_max) sqlite3_str_appendall(b, " AND tr.end_ns - tr.start_ns <= :max_dur");
    if (o->errors) sqlite3_str_appendall(b, " AND tr.error_count > 0");
    if (o->has_since) sqlite3_str_appendall(b, " AND tr.start_ns >= :since");
    if (o->has_until) sqlite3_str_appendall(b, " AND tr.start_ns < :until");
    if (has_span_filter(o)) {
        sqlite3_str_appendall(b, " AND tr.ref IN (SELECT s.trace_ref FROM span s WHERE 1");
        if (o->service)
            sqlite3_str_appendall(b, " AND s.service_id = (SELECT id FROM service WHERE name = :service)");
        if (o->operation)
            sqlite3_str_appendall(b, " AND s.operation_id IN (SELECT id FROM operation WHERE name = :operation)");
        /* No span starts before its trace: lets the service index skip old spans. */
        if (o->has_since) sqlite3_str_appendall(b, " AND s.start_ns >= :since");
        for (int i = 0; i < o->nattrs; i++) attr_clause(b, &o->attrs[i], i);
        sqlite3_str_appendchar(b, 1, ')');
    }
    sqlite3_str_appendall(b, " ORDER BY tr.start_ns DESC, tr.trace_id");
    if (o->limit > 0) sqlite3_str_appendall(b, " LIMIT :limit");
    sqlite3_str_appendall(b, ") t LEFT JOIN span rs ON rs.id = t.root_span_rowid"
                    " LEFT JOIN service sv ON sv.id = rs.service_id"
                    " LEFT JOIN operation o ON o.id = rs.operation_id"
                    " ORDER BY t.start_ns DESC, t.trace_id");
    if (sqlite3_str_errcode(b) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(b));
        return NULL;
    }
    return sqlite3_str_finish(b);
}

static int bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int idx = sqlite3_bind_parameter_index(st, name);
    return idx ? sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC) : SQLITE_OK;
}

static int bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    int idx = sqlite3_bind_parameter_index(st, name);
    return idx ? sqlite3_bind_int64(st, idx, v) : SQLITE_OK;
}

/* VALUE as a number (an integer exactly), or left NULL when it is none. */
static int bind_number(sqlite3_stmt *st, const char *name, const char *v)
{
    int idx = sqlite3_bind_parameter_index(st, name);
    int64_t iv;
    char *end;
    if (!idx || !*v) return SQLITE_OK;
    if (sl_parse_int64(v, &iv) == 0) return sqlite3_bind_int64(st, idx, iv);
    double dv = strtod(v, &end);
    if (*end || !isfinite(dv)) return SQLITE_OK;
    return sqlite3_bind_double(st, idx, dv);
}

static int bind_attr(sqlite3_stmt *st, const search_attr *a, int i)
{
    char name[32];
    int rc;
    snprintf(name, sizeof name, ":ak%d", i);
    rc = bind_text(st, name, a->path ? a->path : a->key);
    snprintf(name, sizeof name, ":kk%d", i);
    if (rc == SQLITE_OK) rc = bind_text(st, name, a->key);
    snprintf(name, sizeof name, ":at%d", i);
    if (rc == SQLITE_OK) rc = bind_text(st, name, a->value);
    snprintf(name, sizeof name, ":an%d", i);
    if (rc == SQLITE_OK) rc = bind_number(st, name, a->value);
    snprintf(name, sizeof name, ":al%d", i);
    if (rc == SQLITE_OK && (!strcmp(a->value, "true") || !strcmp(a->value, "false") ||
                            !strcmp(a->value, "null")))
        rc = bind_text(st, name, a->value); /* json_type() names the literals so */
    return rc;
}

static int bind_all(sqlite3_stmt *st, const search_opts *o)
{
    int rc = SQLITE_OK;
    if (o->service) rc = bind_text(st, ":service", o->service);
    if (rc == SQLITE_OK && o->operation) rc = bind_text(st, ":operation", o->operation);
    if (rc == SQLITE_OK && o->has_min) rc = bind_int(st, ":min_dur", o->min_dur);
    if (rc == SQLITE_OK && o->has_max) rc = bind_int(st, ":max_dur", o->max_dur);
    if (rc == SQLITE_OK && o->has_since) rc = bind_int(st, ":since", o->since);
    if (rc == SQLITE_OK && o->has_until) rc = bind_int(st, ":until", o->until);
    if (rc == SQLITE_OK && o->limit > 0) rc = bind_int(st, ":limit", o->limit);
    for (int i = 0; rc == SQLITE_OK && i < o->nattrs; i++) rc = bind_attr(st, &o->attrs[i], i);
    return rc;
}

static int run_search(sqlite3 *db, const search_opts *o)
{
    char *sql = build_sql(o);
    sqlite3_stmt *st = NULL;
    int status = EXIT_FAIL;
    if (!sql) {
        cli_error("search", "out of memory");
        return EXIT_FAIL;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || bind_all(st, o) != SQLITE_OK)
        cli_error("search", "%s", sqlite3_errmsg(db));
    else if (cli_print_stmt(st, (cli_outfmt)o->fmt, stdout) != SQLITE_DONE)
        cli_error("search", "%s", sqlite3_errmsg(db));
    else
        status = EXIT_OK;
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return status;
}

int cmd_search(cli_ctx *ctx, int argc, char **argv)
{
    search_opts o = {0};
    int status = parse_args(argc, argv, &o);
    if (status < 0) {
        sl_db *db = cli_open(ctx, 1);
        if (!db) {
            status = EXIT_USAGE;
        } else {
            status = run_search(sl_sqlite(db), &o);
            if (fflush(stdout) != 0) status = EXIT_FAIL;
            sl_close(db);
        }
    }
    opts_free(&o);
    return status;
}
