/*
 * raw_insert.c -- the baseline of bench/ingest: how fast plain SQLite takes
 * the same spans with no indexes, no dictionaries, no dedup.
 *
 *   raw_insert SPANS.jsonl OUT.db
 *
 * It reads native spanlite JSON Lines (docs/formats.md) the way the
 * importer does (sl_json_parse, integers read exactly with sl_json_int64,
 * attributes and resource written back with sl_jw_cjson), and INSERTs
 * trace_id, span_id, parent_span_id, service, operation, kind, status,
 * status_message, start_ns, duration_ns, attributes and resource into one
 * unindexed rowid table through one prepared statement, in WAL mode with
 * synchronous=NORMAL, committing every 50,000 rows.  OUT.db is replaced.
 *
 * Prints one line to stdout:
 *   raw_insert: ROWS rows in SECONDS s: RATE rows/s (SKIPPED skipped);
 *   inside SQLite SECONDS s: RATE rows/s
 * The first clock covers reading, parsing, inserting and the last commit
 * (not creating the table): the same work an import does, the baseline
 * bench/ingest compares with.  The second counts only the time spent in
 * sqlite3_step and COMMIT, the plain INSERT rate without JSON parsing.
 * Exit status 0, or 2 on any error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "base/json.h"

#define ROWS_PER_TXN 50000

static const char create_sql[] =
    "CREATE TABLE raw_span (trace_id TEXT, span_id TEXT, parent_span_id TEXT, service TEXT,"
    " operation TEXT, kind INTEGER, status INTEGER, status_message TEXT, start_ns INTEGER,"
    " duration_ns INTEGER, attributes TEXT, resource TEXT)";
static const char insert_sql[] = "INSERT INTO raw_span VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";

typedef struct loader {
    sqlite3 *db;
    sqlite3_stmt *ins;
    sl_buf attrs, resource; /* reused JSON text of the current row */
    uint64_t rows, skipped, in_txn;
    double sql_s;           /* seconds inside SQLite (step, commit), for the insert-only rate */
} loader;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The same mapping the importer applies: names (any case) to OTLP numbers. */
static int enum_value(const cJSON *item, const char *const *names, int n)
{
    if (cJSON_IsNumber(item))
        return item->valueint;
    if (cJSON_IsString(item))
        for (int i = 0; i < n; i++)
            if (strcasecmp(item->valuestring, names[i]) == 0)
                return i;
    return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "raw_insert: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static int loader_open(loader *l, const char *path)
{
    memset(l, 0, sizeof *l);
    unlink(path);
    if (sqlite3_open(path, &l->db) != SQLITE_OK) {
        fprintf(stderr, "raw_insert: %s: %s\n", path, sqlite3_errmsg(l->db));
        return -1;
    }
    if (exec(l->db, "PRAGMA journal_mode=WAL") || exec(l->db, "PRAGMA synchronous=NORMAL") ||
        exec(l->db, create_sql))
        return -1;
    if (sqlite3_prepare_v2(l->db, insert_sql, -1, &l->ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "raw_insert: %s\n", sqlite3_errmsg(l->db));
        return -1;
    }
    return 0;
}

static void loader_close(loader *l)
{
    sqlite3_finalize(l->ins);
    sqlite3_close(l->db);
    sl_buf_free(&l->attrs);
    sl_buf_free(&l->resource);
}

static void bind_text(sqlite3_stmt *st, int col, const char *s)
{
    if (s)
        sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, col);
}

static void bind_json(sqlite3_stmt *st, int col, sl_buf *b, const cJSON *item)
{
    sl_buf_reset(b);
    if (!item) {
        sqlite3_bind_null(st, col);
        return;
    }
    sl_jw_cjson(b, item);
    sqlite3_bind_text(st, col, b->p, (int)b->len, SQLITE_STATIC);
}

/* Bind one span; -1 if a required field is missing (the row is skipped). */
static int bind_span(loader *l, const cJSON *o)
{
    static const char *const kinds[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
    static const char *const statuses[] = {"unset", "ok", "error"};
    sqlite3_stmt *st = l->ins;
    int64_t start, dur, end;
    const char *trace = sl_json_str(o, "trace_id"), *span = sl_json_str(o, "span_id");
    const char *service = sl_json_str(o, "service"), *op = sl_json_str(o, "operation");
    if (!trace || !span || !service || !op || sl_json_int64(sl_json_get(o, "start_ns"), &start))
        return -1;
    if (sl_json_int64(sl_json_get(o, "duration_ns"), &dur)) {
        if (sl_json_int64(sl_json_get(o, "end_ns"), &end))
            return -1;
        dur = end - start;
    }
    bind_text(st, 1, trace);
    bind_text(st, 2, span);
    bind_text(st, 3, sl_json_str(o, "parent_span_id"));
    bind_text(st, 4, service);
    bind_text(st, 5, op);
    sqlite3_bind_int(st, 6, enum_value(sl_json_get(o, "kind"), kinds, 6));
    sqlite3_bind_int(st, 7, enum_value(sl_json_get(o, "status"), statuses, 3));
    bind_text(st, 8, sl_json_str(o, "status_message"));
    sqlite3_bind_int64(st, 9, start);
    sqlite3_bind_int64(st, 10, dur);
    bind_json(st, 11, &l->attrs, sl_json_get(o, "attributes"));
    bind_json(st, 12, &l->resource, sl_json_get(o, "resource"));
    return 0;
}

static double now_s(void);

static int insert_line(loader *l, const char *line, size_t len)
{
    char err[128];
    cJSON *o = sl_json_parse(line, len, err, sizeof err);
    int rc = 0;
    if (!o || bind_span(l, o) != 0) {
        l->skipped++;
        goto done;
    }
    double t0 = now_s();
    if (l->in_txn == 0 && exec(l->db, "BEGIN")) {
        rc = -1;
        goto done;
    }
    if (sqlite3_step(l->ins) != SQLITE_DONE) {
        fprintf(stderr, "raw_insert: insert: %s\n", sqlite3_errmsg(l->db));
        rc = -1;
    }
    sqlite3_reset(l->ins);
    l->rows++;
    if (rc == 0 && ++l->in_txn == ROWS_PER_TXN) {
        rc = exec(l->db, "COMMIT");
        l->in_txn = 0;
    }
    l->sql_s += now_s() - t0;
done:
    cJSON_Delete(o);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: raw_insert SPANS.jsonl OUT.db\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    loader l;
    int rc = loader_open(&l, argv[2]);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    double t0 = now_s();
    while (rc == 0 && (n = getline(&line, &cap, in)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n > 0)
            rc = insert_line(&l, line, (size_t)n);
    }
    double tc = now_s();
    if (rc == 0 && l.in_txn)
        rc = exec(l.db, "COMMIT");
    double secs = now_s() - t0;
    l.sql_s += now_s() - tc;
    if (rc == 0)
        printf("raw_insert: %llu rows in %.2f s: %.0f rows/s (%llu skipped); "
               "inside SQLite %.2f s: %.0f rows/s\n",
               (unsigned long long)l.rows, secs, l.rows / (secs > 0 ? secs : 1e-9),
               (unsigned long long)l.skipped, l.sql_s, l.rows / (l.sql_s > 0 ? l.sql_s : 1e-9));
    free(line);
    fclose(in);
    loader_close(&l);
    return rc == 0 ? 0 : 2;
}
