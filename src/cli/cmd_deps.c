/*
 * cmd_deps.c -- `spanlite deps`: the service dependency graph, from the
 * table-valued function dependencies(since_ns, until_ns) (Zipkin's
 * DependencyLinker rules, src/analysis/dependencies.c), as every result
 * set format (table, csv, json, jsonl: cli.h), DOT for Graphviz and a
 * Mermaid flowchart for Markdown.
 *
 *     spanlite deps --format dot | dot -Tsvg > deps.svg
 *
 * D1 DOT: `digraph services`, one edge per row with the label
 *    "calls=N errors=M" (red when M > 0); names are quoted with '\' and '"'
 *    escaped, so any service name is a valid DOT ID.
 * D2 Mermaid: `flowchart LR`; every service is declared once as
 *    ID["name"], the ID made of the name's letters, digits and '_' (others
 *    become '_') behind "s_", with _2, _3 ... appended on a clash; labels
 *    are quoted with '"', '#', '<', '>' written as Mermaid entity codes.
 * Rows, nodes and edges are ordered by (parent, child) names so the output
 * is stable.  The graph comes from the hourly link rollups (link_hour)
 * unless --exact or a window that is not whole hours asks for a scan.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Latencies in ms with 3 decimals, as `spanlite search` shows durations. */
/* DOT and Mermaid draw counts only: without p50/p99 the rollups skip
 * merging latency sketches, their main cost over many hours. */
static const char EDGES_SQL[] =
    "SELECT parent, child, call_count, error_count"
    " FROM dependencies(:since, :until, :exact) ORDER BY parent, child";

static const char REAL_SQL[] =
    "SELECT parent, child, call_count, error_count, round(avg_ns / 1e6, 3) AS avg_ms,"
    " round(p50_ns / 1e6, 3) AS p50_ms, round(p99_ns / 1e6, 3) AS p99_ms"
    " FROM dependencies(:since, :until, :exact) ORDER BY parent, child";

/* One edge, strings owned. */
typedef struct dep_edge {
    char *parent, *child;
    int64_t calls, errors;
} dep_edge;

typedef struct dep_graph {
    dep_edge *e; /* n edges */
    size_t n;
} dep_graph;

static void graph_free(dep_graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->e[i].parent);
        free(g->e[i].child);
    }
    free(g->e);
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: spanlite [--db FILE] deps [--since T] [--until T] [--exact] [--format F]\n"
        "\n"
        "The service dependency graph: one row per (parent, child) pair of services with\n"
        "the number of calls and of failed calls, by the rules of Zipkin's\n"
        "DependencyLinker (the SQL function dependencies, docs/sql.md).\n"
        "\n"
        "Options:\n"
        "  --since T    only traces starting at or after T (ISO 8601, epoch, or -1h)\n"
        "  --until T    only traces starting before T\n"
        "  --exact      link every selected trace now and give exact p50/p99 (the default\n"
        "               adds up the hourly link rollups: counts exact, p50/p99 within 1%%;\n"
        "               a window that is not whole hours is always exact)\n"
        "  --format F   table (the default on a terminal), csv (the default otherwise),\n"
        "               json, jsonl: the rows with latencies; dot (Graphviz: spanlite\n"
        "               deps --format dot | dot -Tsvg > deps.svg) or mermaid (a\n"
        "               flowchart for Markdown): the edges with their counts.  Every\n"
        "               format but json-tree (trace's nested spans) is accepted.\n"
        "  --help       this help\n"
        "\n"
        "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

/* Every format deps writes; json-tree is trace's only. */
#define DEPS_FORMATS (1u << OUT_TABLE | 1u << OUT_CSV | 1u << OUT_JSON | 1u << OUT_JSONL | \
                      1u << OUT_DOT | 1u << OUT_MERMAID)

static int parse_when(const char *opt, const char *s, int64_t *out, int *has)
{
    if (cli_parse_time("deps", opt, s, out) != 0) return -1;
    *has = 1;
    return 0;
}

typedef struct deps_opts {
    int fmt;
    int64_t since, until;
    int has_since, has_until;
    int exact;
} deps_opts;

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, deps_opts *o)
{
    static const struct option opts[] = {{"since", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 'u'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"exact", no_argument, NULL, 'x'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c, bad = 0;
    o->fmt = cli_default_format();
    while (!bad && (c = getopt_long(argc, argv, "s:u:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': bad = parse_when("--since", optarg, &o->since, &o->has_since); break;
        case 'u': bad = parse_when("--until", optarg, &o->until, &o->has_until); break;
        case 'f': bad = cli_parse_format("deps", optarg, DEPS_FORMATS, &o->fmt); break;
        case 'x': o->exact = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (bad) return EXIT_USAGE;
    if (optind < argc) {
        cli_error("deps", "unexpected argument '%s' (see spanlite deps --help)", argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

/* ---- Query --------------------------------------------------------------- */

static void bind_window(sqlite3_stmt *st, const deps_opts *o)
{
    int i = sqlite3_bind_parameter_index(st, ":since");
    if (i && o->has_since) sqlite3_bind_int64(st, i, o->since);
    i = sqlite3_bind_parameter_index(st, ":until");
    if (i && o->has_until) sqlite3_bind_int64(st, i, o->until);
    sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":exact"), o->exact);
}

/* The graph query; NULL after printing the error. */
static sqlite3_stmt *prepare_deps(sqlite3 *db, const deps_opts *o)
{
    sqlite3_stmt *st = NULL;
    int edges_only = o->fmt == OUT_DOT || o->fmt == OUT_MERMAID;
    if (sqlite3_prepare_v2(db, edges_only ? EDGES_SQL : REAL_SQL, -1, &st, NULL) != SQLITE_OK) {
        cli_error("deps", "%s", sqlite3_errmsg(db));
        return NULL;
    }
    bind_window(st, o);
    return st;
}

static int column_index(sqlite3_stmt *st, const char *name)
{
    for (int i = 0; i < sqlite3_column_count(st); i++)
        if (strcmp(sqlite3_column_name(st, i), name) == 0) return i;
    return -1;
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return strdup(s ? s : "");
}

/* Read every row into g.  SQLITE_DONE or an SQLite code.  The edges
 * collect in a memory stream (libc grows it), then become g->e. */
static int read_graph(sqlite3_stmt *st, dep_graph *g)
{
    int cp = column_index(st, "parent"), cc = column_index(st, "child");
    int cn = column_index(st, "call_count"), ce = column_index(st, "error_count");
    if (cp < 0 || cc < 0 || cn < 0 || ce < 0) return SQLITE_MISMATCH;
    char *mem = NULL;
    size_t bytes = 0;
    FILE *m = open_memstream(&mem, &bytes);
    if (!m) return SQLITE_NOMEM;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        dep_edge e = {column_dup(st, cp), column_dup(st, cc), sqlite3_column_int64(st, cn),
                      sqlite3_column_int64(st, ce)};
        if (!e.parent || !e.child || fwrite(&e, sizeof e, 1, m) != 1) {
            free(e.parent);
            free(e.child);
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (fclose(m) != 0 && rc == SQLITE_DONE) rc = SQLITE_NOMEM;
    g->e = (dep_edge *)mem; /* malloc'd: aligned for any type */
    g->n = bytes / sizeof *g->e;
    return rc;
}

/* ---- DOT (D1) ------------------------------------------------------------ */

static void dot_quoted(sqlite3_str *b, const char *s)
{
    sqlite3_str_appendchar(b, 1, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sqlite3_str_appendchar(b, 1, '\\');
        if (*s == '\n') sqlite3_str_appendall(b, "\\n");
        else if (*s != '\r') sqlite3_str_appendchar(b, 1, *s);
    }
    sqlite3_str_appendchar(b, 1, '"');
}

static void render_dot(const dep_graph *g, sqlite3_str *b)
{
    sqlite3_str_appendall(b, "digraph services {\n  rankdir=LR;\n  node [shape=box];\n");
    for (size_t i = 0; i < g->n; i++) {
        const dep_edge *e = &g->e[i];
        sqlite3_str_appendall(b, "  ");
        dot_quoted(b, e->parent);
        sqlite3_str_appendall(b, " -> ");
        dot_quoted(b, e->child);
        sqlite3_str_appendf(b, " [label=\"calls=%lld errors=%lld\"%s];\n", (long long)e->calls,
                      (long long)e->errors, e->errors > 0 ? ", color=red" : "");
    }
    sqlite3_str_appendall(b, "}\n");
}

/* ---- Mermaid (D2) -------------------------------------------------------- */

typedef struct mm_node {
    const char *name; /* borrowed from the graph */
    char *id;         /* owned */
} mm_node;

static int cmp_mm_name(const void *a, const void *b)
{
    return strcmp(((const mm_node *)a)->name, ((const mm_node *)b)->name);
}

/* "s_" and the name with every byte but [A-Za-z0-9_] made '_'; malloc'd. */
static char *mm_base_id(const char *name)
{
    size_t n = strlen(name);
    char *id = malloc(n + 3);
    if (!id) return NULL;
    memcpy(id, "s_", 2);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        id[i + 2] = ok ? (char)c : '_';
    }
    id[n + 2] = '\0';
    return id;
}

static int id_taken(const mm_node *nodes, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].id, id) == 0) return 1;
    return 0;
}

/* Distinct names, sorted, each with a unique id.  NULL when out of memory. */
static mm_node *mm_nodes(const dep_graph *g, size_t *count)
{
    mm_node *v = calloc(2 * g->n + 1, sizeof *v);
    size_t n = 0, m = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < g->n; i++) {
        v[n++].name = g->e[i].parent;
        v[n++].name = g->e[i].child;
    }
    qsort(v, n, sizeof *v, cmp_mm_name);
    for (size_t i = 0; i < n; i++)
        if (!m || strcmp(v[m - 1].name, v[i].name) != 0) v[m++] = v[i];
    for (size_t i = 0; i < m; i++) {
        char *base = mm_base_id(v[i].name), *id = base ? strdup(base) : NULL;
        for (int k = 2; id && id_taken(v, i, id); k++) {
            free(id);
            if (asprintf(&id, "%s_%d", base, k) < 0) id = NULL;
        }
        free(base);
        v[i].id = id;
        if (!v[i].id) {
            for (size_t k = 0; k < i; k++) free(v[k].id);
            free(v);
            return NULL;
        }
    }
    *count = m;
    return v;
}

static const char *mm_id(const mm_node *nodes, size_t n, const char *name)
{
    mm_node key = {name, NULL};
    const mm_node *hit = bsearch(&key, nodes, n, sizeof *nodes, cmp_mm_name);
    return hit ? hit->id : "";
}

static void mm_label(sqlite3_str *b, const char *s)
{
    sqlite3_str_appendchar(b, 1, '"');
    for (; *s; s++) {
        switch (*s) {
        case '"': sqlite3_str_appendall(b, "#quot;"); break;
        case '#': sqlite3_str_appendall(b, "#35;"); break;
        case '<': sqlite3_str_appendall(b, "#lt;"); break;
        case '>': sqlite3_str_appendall(b, "#gt;"); break;
        case '\n': case '\r': sqlite3_str_appendchar(b, 1, ' '); break;
        default: sqlite3_str_appendchar(b, 1, *s);
        }
    }
    sqlite3_str_appendchar(b, 1, '"');
}

static int render_mermaid(const dep_graph *g, sqlite3_str *b)
{
    size_t n = 0;
    mm_node *nodes = mm_nodes(g, &n);
    if (!nodes) return -1;
    sqlite3_str_appendall(b, "flowchart LR\n");
    for (size_t i = 0; i < n; i++) {
        sqlite3_str_appendf(b, "  %s[", nodes[i].id);
        mm_label(b, nodes[i].name);
        sqlite3_str_appendall(b, "]\n");
    }
    for (size_t i = 0; i < g->n; i++) {
        const dep_edge *e = &g->e[i];
        sqlite3_str_appendf(b, "  %s -->|\"calls=%lld errors=%lld\"| %s\n", mm_id(nodes, n, e->parent),
                      (long long)e->calls, (long long)e->errors, mm_id(nodes, n, e->child));
    }
    for (size_t i = 0; i < n; i++) free(nodes[i].id);
    free(nodes);
    return 0;
}

/* ---- The command --------------------------------------------------------- */

static int print_graph(sqlite3 *db, sqlite3_stmt *st, int fmt)
{
    dep_graph g = {0};
    sqlite3_str *b = sqlite3_str_new(NULL);
    int rc = read_graph(st, &g), status = EXIT_FAIL;
    if (rc == SQLITE_MISMATCH) {
        cli_error("deps", "dependencies() lacks a parent, child, call_count or error_count column");
    } else if (rc != SQLITE_DONE) {
        cli_error("deps", "%s", sqlite3_errmsg(db));
    } else {
        int oom = 0;
        if (fmt == OUT_DOT) render_dot(&g, b);
        else if (render_mermaid(&g, b)) oom = 1;
        size_t len = (size_t)sqlite3_str_length(b);
        if (oom || sqlite3_str_errcode(b) != SQLITE_OK) cli_error("deps", "out of memory");
        else if (len) status = fwrite(sqlite3_str_value(b), 1, len, stdout) == len ? EXIT_OK : EXIT_FAIL;
    }
    sqlite3_free(sqlite3_str_finish(b));
    graph_free(&g);
    return status;
}

static int run_deps(sqlite3 *db, const deps_opts *o)
{
    sqlite3_stmt *st = prepare_deps(db, o);
    int status = EXIT_FAIL;
    if (!st) return EXIT_FAIL;
    if (o->fmt == OUT_DOT || o->fmt == OUT_MERMAID)
        status = print_graph(db, st, o->fmt);
    else if (cli_print_stmt(st, (cli_outfmt)o->fmt, stdout) != SQLITE_DONE)
        cli_error("deps", "%s", sqlite3_errmsg(db));
    else
        status = EXIT_OK;
    sqlite3_finalize(st);
    return status;
}

int cmd_deps(cli_ctx *ctx, int argc, char **argv)
{
    deps_opts o = {0};
    int status = parse_args(argc, argv, &o);
    if (status >= 0) return status;
    sl_db *db = cli_open(ctx, 1);
    if (!db) return EXIT_USAGE;
    status = run_deps(sl_sqlite(db), &o);
    if (fflush(stdout) != 0) status = EXIT_FAIL;
    sl_close(db);
    return status;
}
