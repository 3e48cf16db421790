/*
 * test_import.c -- sl_import_file() on the native JSON Lines format:
 * rejects (line numbers, reasons, raw text) and the read = imported +
 * duplicates + rejected balance, re-import, gzip input, CRLF and blank
 * lines, TracAgg's field names, end/duration consistency, and an export
 * then import round trip through sl_export().
 *
 * Inputs are written inline so each line number can be read off the
 * source; expected values are worked by hand next to them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <zlib.h>

#include "spanlite.h"

/* ---- fixture: a scratch directory ---- */

typedef struct fixture {
    char dir[512];
    sl_db *db[3]; /* closed by teardown */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *root = getenv("TMPROOT");
    snprintf(f->dir, sizeof f->dir, "%s/imp.XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++) sl_close(f->db[i]);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* dir/name into buf. */
static const char *path_in(const fixture *f, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", f->dir, name);
    return buf;
}

/* Open warehouse number i (dir/w<i>.db). */
static sl_db *open_db(fixture *f, int i)
{
    char p[600], name[16];
    snprintf(name, sizeof name, "w%d.db", i);
    int rc = sl_open(path_in(f, name, p, sizeof p), 0, &f->db[i]);
    if (rc != SL_OK) fail_msg("sl_open: %s", sl_errmsg(f->db[i]));
    return f->db[i];
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void write_gzip(const char *path, const char *text)
{
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
    assert_int_equal(gzclose(gz), Z_OK);
}

/* ---- rejects ---- */

#define MAXREJ 16
typedef struct rejects {
    size_t n;
    char source[MAXREJ][600];
    uint64_t line[MAXREJ];
    char reason[MAXREJ][200];
    char record[MAXREJ][400];
    size_t len[MAXREJ];
} rejects;

static void on_reject(void *ctx, const char *source, uint64_t line, const char *reason,
                      const char *record, size_t len)
{
    rejects *r = ctx;
    if (r->n == MAXREJ) return;
    snprintf(r->source[r->n], sizeof r->source[r->n], "%s", source);
    r->line[r->n] = line;
    snprintf(r->reason[r->n], sizeof r->reason[r->n], "%s", reason);
    size_t k = len < sizeof r->record[0] - 1 ? len : sizeof r->record[0] - 1;
    memcpy(r->record[r->n], record, k);
    r->record[r->n][k] = '\0';
    r->len[r->n] = len;
    r->n++;
}

/* Import path into db collecting rejects; fails the test unless rc is want. */
static void import(sl_db *db, const char *path, rejects *rj, sl_import_stats *st, int want)
{
    sl_import_opts o = {NULL, NULL, on_reject, NULL, rj, NULL};
    memset(rj, 0, sizeof *rj);
    memset(st, 0, sizeof *st);
    int rc = sl_import_file(db, path, &o, st);
    if (rc != want) fail_msg("sl_import_file(%s) = %d, want %d: %s", path, rc, want, sl_errmsg(db));
    if (st->read != st->imported + st->duplicates + st->rejected)
        fail_msg("read %llu != imported %llu + duplicates %llu + rejected %llu",
                 (unsigned long long)st->read, (unsigned long long)st->imported,
                 (unsigned long long)st->duplicates, (unsigned long long)st->rejected);
    assert_int_equal(rj->n, st->rejected);
}

static void assert_stats(const sl_import_stats *st, uint64_t read, uint64_t imported,
                         uint64_t dups, uint64_t rejected)
{
    if (st->read != read || st->imported != imported || st->duplicates != dups ||
        st->rejected != rejected)
        fail_msg("stats %llu/%llu/%llu/%llu, want read %llu imported %llu duplicates %llu "
                 "rejected %llu",
                 (unsigned long long)st->read, (unsigned long long)st->imported,
                 (unsigned long long)st->duplicates, (unsigned long long)st->rejected,
                 (unsigned long long)read, (unsigned long long)imported,
                 (unsigned long long)dups, (unsigned long long)rejected);
}

/* Reject k: at line, reason containing why, raw text record. */
static void assert_reject(const rejects *r, size_t k, uint64_t line, const char *why,
                          const char *record)
{
    assert_true(k < r->n);
    if (r->line[k] != line) fail_msg("reject %zu at line %llu, want %llu", k,
                                     (unsigned long long)r->line[k], (unsigned long long)line);
    if (!strstr(r->reason[k], why))
        fail_msg("reject at line %llu: reason \"%s\" lacks \"%s\"", (unsigned long long)line,
                 r->reason[k], why);
    if (r->len[k] != strlen(record) || strcmp(r->record[k], record) != 0)
        fail_msg("reject at line %llu: record [%s] (%zu bytes), want the raw line [%s]",
                 (unsigned long long)line, r->record[k], r->len[k], record);
}

/* ---- reading the spans view ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every row of every column of the spans view, one line per row, each value
 * tagged with its SQLite type, rows sorted: two warehouses hold the same
 * spans exactly when their dumps are equal.  Caller frees. */
static char *dump_spans(sl_db *db, size_t *nrows)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sl_sqlite(db), "SELECT * FROM spans", -1, &st, NULL) != SQLITE_OK)
        fail_msg("dump: %s", sqlite3_errmsg(sl_sqlite(db)));
    char **rows = NULL;
    size_t n = 0, total = 1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t cap = 64;
        int ncol = sqlite3_column_count(st);
        for (int i = 0; i < ncol; i++) cap += (size_t)sqlite3_column_bytes(st, i) + 64;
        char *line = malloc(cap), *p = line;
        for (int i = 0; i < ncol; i++) {
            int t = sqlite3_column_type(st, i);
            const char *v = (const char *)sqlite3_column_text(st, i);
            p += sprintf(p, "%s%s=%d:%s", i ? " | " : "", sqlite3_column_name(st, i), t,
                         t == SQLITE_NULL ? "" : v);
        }
        rows = realloc(rows, (n + 1) * sizeof *rows);
        rows[n++] = line;
        total += (size_t)(p - line) + 1;
    }
    sqlite3_finalize(st);
    qsort(rows, n, sizeof *rows, cmp_str);
    char *out = malloc(total), *p = out;
    *p = '\0';
    for (size_t i = 0; i < n; i++) {
        p += sprintf(p, "%s\n", rows[i]);
        free(rows[i]);
    }
    free(rows);
    if (nrows) *nrows = n;
    return out;
}

static int64_t q_int(sl_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(sl_sqlite(db)));
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s: no row", sql);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The text of a one-row, one-column query with ?1 bound to arg. */
static void assert_query_text(sl_db *db, const char *sql, const char *arg, const char *want)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(sl_sqlite(db)));
    if (arg) sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s [%s]: no row", sql, arg ? arg : "");
    const char *v = (const char *)sqlite3_column_text(st, 0);
    if (!v || strcmp(v, want) != 0)
        fail_msg("%s [%s]:\n got  %s\n want %s", sql, arg ? arg : "", v ? v : "NULL", want);
    sqlite3_finalize(st);
}

/* One span of the spans view as "service|operation|kind|status|message|start|end|duration". */
#define SPAN_LINE                                                                              \
    "SELECT service||'|'||operation||'|'||kind||'|'||status||'|'||ifnull(status_message,'NULL')" \
    "||'|'||start_ns||'|'||end_ns||'|'||duration_ns FROM spans WHERE trace_id||'/'||span_id = ?1"

/* ---- inputs ---- */

#define L1 "{\"trace_id\":\"t1\",\"span_id\":\"a\",\"service\":\"gw\",\"operation\":\"GET /\",\"start_ns\":1000,\"duration_ns\":500}"
#define L2 "{\"trace_id\":\"t1\",\"span_id\":\"b\","
#define L4 "{\"trace_id\":\"t1\",\"span_id\":\"b\",\"parent_span_id\":\"a\",\"service\":\"users\",\"operation\":\"get\",\"start_ns\":1100,\"end_ns\":1300,\"status\":\"error\"}"
#define L5 "[1,2,3]"
#define L6 "{\"trace_id\":\"t1\",\"service\":\"users\",\"operation\":\"get\",\"start_ns\":1,\"duration_ns\":1}"
#define L7 "{\"trace_id\":\"t2\",\"span_id\":\"c\",\"service\":\"gw\",\"operation\":\"GET /\",\"start_ns\":2000,\"duration_ns\":5,\"kind\":\"server\",\"status\":\"ok\"}"
#define L8 "not json at all"
#define L9 "{\"trace_id\":\"t2\",\"span_id\":\"d\",\"service\":\"gw\",\"operation\":\"x\",\"duration_ns\":5}"

/* Nine lines: 3 good (1, 4, 7), one blank (3), 5 bad (2, 5, 6, 8, 9). */
static const char mixed[] =
    L1 "\n" L2 "\n" "\n" L4 "\n" L5 "\n" L6 "\n" L7 "\n" L8 "\n" L9 "\n";

static void check_mixed_rejects(const rejects *rj, const char *source)
{
    assert_int_equal(rj->n, 5);
    assert_reject(rj, 0, 2, "invalid JSON", L2);
    assert_reject(rj, 1, 5, "object", L5);
    assert_reject(rj, 2, 6, "missing span_id", L6);
    assert_reject(rj, 3, 8, "invalid JSON", L8);
    assert_reject(rj, 4, 9, "start", L9);
    for (size_t k = 0; k < rj->n; k++) assert_string_equal(rj->source[k], source);
}

/* ---- tests ---- */

static void test_rejects_and_reimport(void **state)
{
    fixture *f = *state;
    char p[600];
    path_in(f, "mixed.jsonl", p, sizeof p);
    write_file(p, mixed, strlen(mixed));
    sl_db *db = open_db(f, 0);
    rejects rj;
    sl_import_stats st;
    import(db, p, &rj, &st, SL_OK);
    /* 8 non-blank lines: 3 imported + 5 rejected */
    assert_stats(&st, 8, 3, 0, 5);
    assert_int_equal(st.bytes, strlen(mixed));
    check_mixed_rejects(&rj, p);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 3);
    assert_query_text(db, SPAN_LINE, "t1/b", "users|get|unspecified|error|NULL|1100|1300|200");
    assert_query_text(db, SPAN_LINE, "t2/c", "gw|GET /|server|ok|NULL|2000|2005|5");

    /* Again: everything valid is a duplicate, the same lines are rejected. */
    import(db, p, &rj, &st, SL_OK);
    assert_stats(&st, 8, 0, 3, 5);
    check_mixed_rejects(&rj, p);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 3);
    assert_int_equal(q_int(db, "SELECT span_count FROM traces WHERE trace_id='t1'"), 2);
}

/* Lines that parse and have every member, but whose values the span model
 * refuses (empty required strings, a status out of range), must be reported
 * with their raw text like any other reject: the rejects file replays them. */
#define S1 "{\"trace_id\":\"t1\",\"span_id\":\"x\",\"service\":\"\",\"operation\":\"op\",\"start_ns\":1,\"duration_ns\":1}"
#define S2 "{\"trace_id\":\"\",\"span_id\":\"x\",\"service\":\"s\",\"operation\":\"op\",\"start_ns\":1,\"duration_ns\":1}"
#define S3 "{\"trace_id\":\"t1\",\"span_id\":\"y\",\"service\":\"s\",\"operation\":\"op\",\"start_ns\":1,\"duration_ns\":1,\"status\":4}"

static void test_rejects_by_span_rules_keep_raw_text(void **state)
{
    fixture *f = *state;
    char p[600];
    static const char text[] = L1 "\n" S1 "\n" S2 "\n" S3 "\n";
    path_in(f, "semantic.jsonl", p, sizeof p);
    write_file(p, text, strlen(text));
    sl_db *db = open_db(f, 0);
    rejects rj;
    sl_import_stats st;
    import(db, p, &rj, &st, SL_OK);
    assert_stats(&st, 4, 1, 0, 3);
    assert_reject(&rj, 0, 2, "service", S1);
    assert_reject(&rj, 1, 3, "trace_id", S2);
    assert_reject(&rj, 2, 4, "status", S3);
}

static void test_gzip_same_rows(void **state)
{
    fixture *f = *state;
    char plain[600], gz[600];
    path_in(f, "plain.jsonl", plain, sizeof plain);
    /* Named without .gz: compression is recognised by content. */
    path_in(f, "packed.jsonl", gz, sizeof gz);
    write_file(plain, mixed, strlen(mixed));
    write_gzip(gz, mixed);
    sl_db *a = open_db(f, 0), *b = open_db(f, 1);
    rejects rj;
    sl_import_stats st;
    import(a, plain, &rj, &st, SL_OK);
    import(b, gz, &rj, &st, SL_OK);
    assert_stats(&st, 8, 3, 0, 5);
    assert_int_equal(st.bytes, strlen(mixed)); /* uncompressed bytes */
    check_mixed_rejects(&rj, gz);
    size_t na, nb;
    char *da = dump_spans(a, &na), *db = dump_spans(b, &nb);
    assert_int_equal(na, 3);
    assert_int_equal(nb, 3);
    assert_string_equal(da, db);
    free(da);
    free(db);
    /* The compressed copy of the same spans is all duplicates. */
    import(a, gz, &rj, &st, SL_OK);
    assert_stats(&st, 8, 0, 3, 5);
}

static void test_crlf_and_blank_lines(void **state)
{
    fixture *f = *state;
    char crlf[600], lf[600];
    path_in(f, "crlf.jsonl", crlf, sizeof crlf);
    path_in(f, "lf.jsonl", lf, sizeof lf);
    /* 1 good, 2 empty, 3 spaces and a tab, 4 good, 5 bad, 6 empty, 7 good
     * without a final newline. */
    static const char text_crlf[] =
        L1 "\r\n" "\r\n" "   \t\r\n" L4 "\r\n" "{bad\r\n" "\r\n" L7;
    static const char text_lf[] = L1 "\n" "\n" "   \t\n" L4 "\n" "{bad\n" "\n" L7;
    write_file(crlf, text_crlf, strlen(text_crlf));
    write_file(lf, text_lf, strlen(text_lf));
    sl_db *a = open_db(f, 0), *b = open_db(f, 1);
    rejects rj;
    sl_import_stats st;
    import(a, crlf, &rj, &st, SL_OK);
    assert_stats(&st, 4, 3, 0, 1);
    assert_int_equal(rj.line[0], 5);
    /* The raw text is the line's content; its "\r\n" ending is not part of it. */
    assert_string_equal(rj.record[0], "{bad");
    import(b, lf, &rj, &st, SL_OK);
    assert_stats(&st, 4, 3, 0, 1);
    assert_int_equal(rj.line[0], 5);
    char *da = dump_spans(a, NULL), *db = dump_spans(b, NULL);
    assert_string_equal(da, db);
    free(da);
    free(db);
    /* L7's last member, just before the "\r", was read as 5. */
    assert_query_text(a, SPAN_LINE, "t2/c", "gw|GET /|server|ok|NULL|2000|2005|5");
}

static void test_tracagg_fields(void **state)
{
    fixture *f = *state;
    char p[600];
    /* TracAgg's README example trace plus exactness cases. */
    static const char text[] =
        "{\"trace_id\":\"trace-1\",\"span_id\":\"span-1\",\"service_name\":\"api-gateway\","
        "\"operation_name\":\"handle_request\",\"start_time\":1000.0,\"duration\":0.5,"
        "\"status\":\"OK\",\"kind\":\"SERVER\"}\n"
        "{\"trace_id\":\"trace-1\",\"span_id\":\"span-2\",\"parent_span_id\":\"span-1\","
        "\"service_name\":\"user-service\",\"operation_name\":\"get_user\",\"start_time\":1000.1,"
        "\"duration\":0.2,\"status\":\"ERROR\",\"error_message\":\"Payment failed\",\"kind\":\"CLIENT\"}\n"
        "{\"trace_id\":\"trace-1\",\"span_id\":\"span-3\",\"parent_span_id\":\"span-2\","
        "\"service_name\":\"db-service\",\"operation_name\":\"query\",\"start_time\":1000.15,"
        "\"duration\":0.15}\n"
        "{\"trace_id\":\"trace-2\",\"span_id\":\"span-1\",\"service_name\":\"auth-service\","
        "\"operation_name\":\"login\",\"start_time\":\"1700000000.123456789\",\"duration\":2,"
        "\"status\":\"ok\"}\n"
        "{\"trace_id\":\"trace-2\",\"span_id\":\"span-2\",\"parent_span_id\":\"span-1\","
        "\"service_name\":\"auth-service\",\"operation_name\":\"check\","
        "\"start_time\":1700000000.123456789,\"duration\":0.000000001}\n";
    path_in(f, "tracagg.jsonl", p, sizeof p);
    write_file(p, text, strlen(text));
    sl_db *db = open_db(f, 0);
    rejects rj;
    sl_import_stats st;
    import(db, p, &rj, &st, SL_OK);
    assert_stats(&st, 5, 5, 0, 0);
    /* 1000.0 s = 1000000000000 ns; +0.5 s = 1000500000000 */
    assert_query_text(db, SPAN_LINE, "trace-1/span-1",
                      "api-gateway|handle_request|server|ok|NULL|1000000000000|1000500000000|500000000");
    /* 1000.1 s = 1000100000000 ns; 0.2 s = 200000000 ns; end 1000300000000 */
    assert_query_text(db, SPAN_LINE, "trace-1/span-2",
                      "user-service|get_user|client|error|Payment failed|1000100000000|1000300000000|200000000");
    /* 1000.15 s = 1000150000000; 0.15 s = 150000000; end 1000300000000 */
    assert_query_text(db, SPAN_LINE, "trace-1/span-3",
                      "db-service|query|unspecified|unset|NULL|1000150000000|1000300000000|150000000");
    /* 9 decimals kept: 1700000000.123456789 s; 2 s later ends at ...002.123456789 */
    assert_query_text(db, SPAN_LINE, "trace-2/span-1",
                      "auth-service|login|unspecified|ok|NULL|1700000000123456789|1700000002123456789|2000000000");
    assert_query_text(db, SPAN_LINE, "trace-2/span-2",
                      "auth-service|check|unspecified|unset|NULL|1700000000123456789|1700000000123456790|1");
    /* trace-1: 1000.0 .. 1000.5 s, 3 spans, 3 services, 1 error, rooted at span-1 */
    assert_query_text(db,
                      "SELECT root_service||'|'||root_operation||'|'||start_ns||'|'||end_ns||'|'||"
                      "duration_ns||'|'||span_count||'|'||service_count||'|'||error_count "
                      "FROM traces WHERE trace_id = ?1",
                      "trace-1",
                      "api-gateway|handle_request|1000000000000|1000500000000|500000000|3|3|1");
}

static void test_end_and_duration(void **state)
{
    fixture *f = *state;
    char p[600];
#define E1 "{\"trace_id\":\"t\",\"span_id\":\"a\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":100,\"end_ns\":200,\"duration_ns\":50}"
#define E3 "{\"trace_id\":\"t\",\"span_id\":\"c\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":100,\"end_ns\":90}"
#define E4 "{\"trace_id\":\"t\",\"span_id\":\"d\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":100}"
#define E7 "{\"trace_id\":\"t\",\"span_id\":\"g\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":100,\"duration_ns\":-5}"
#define E8 "{\"trace_id\":\"t\",\"span_id\":\"h\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":\"12x\",\"duration_ns\":5}"
    static const char text[] =
        E1 "\n"
        "{\"trace_id\":\"t\",\"span_id\":\"b\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":100,\"end_ns\":150,\"duration_ns\":50}\n"
        E3 "\n" E4 "\n"
        "{\"trace_id\":\"t\",\"span_id\":\"e\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":\"1700000000123456789\",\"end_ns\":\"1700000000123456799\"}\n"
        "{\"trace_id\":\"t\",\"span_id\":\"f\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":1700000000123456789,\"duration_ns\":1}\n"
        E7 "\n" E8 "\n";
    path_in(f, "times.jsonl", p, sizeof p);
    write_file(p, text, strlen(text));
    sl_db *db = open_db(f, 0);
    rejects rj;
    sl_import_stats st;
    import(db, p, &rj, &st, SL_OK);
    assert_stats(&st, 8, 3, 0, 5);
    assert_reject(&rj, 0, 1, "duration", E1); /* 200 - 100 = 100, not 50 */
    assert_reject(&rj, 1, 3, "start", E3);    /* ends 10 ns before it starts */
    assert_reject(&rj, 2, 4, "duration", E4); /* neither end nor duration */
    assert_reject(&rj, 3, 7, "start", E7);    /* negative duration: end before start */
    assert_reject(&rj, 4, 8, "start_ns", E8);
    assert_query_text(db, SPAN_LINE, "t/b", "s|o|unspecified|unset|NULL|100|150|50");
    assert_query_text(db, SPAN_LINE, "t/e",
                      "s|o|unspecified|unset|NULL|1700000000123456789|1700000000123456799|10");
    assert_query_text(db, SPAN_LINE, "t/f",
                      "s|o|unspecified|unset|NULL|1700000000123456789|1700000000123456790|1");
}

/* Spans using every member of the format. */
static const char rich[] =
    "{\"trace_id\":\"4BF92F3577B34DA6A3CE929D0E0E4736\",\"span_id\":\"00F067AA0BA902B7\","
    "\"parent_span_id\":null,\"service\":\"frontend\",\"operation\":\"GET /cart\",\"kind\":\"server\","
    "\"status\":\"ok\",\"start_ns\":1700000000123456789,\"duration_ns\":12500000,"
    "\"attributes\":{\"http.status_code\":200,\"ratio\":1.0,\"big\":1700000000123456789,"
    "\"s\":\"q\\\"uote\\\\ \\u00e9 \\n\",\"arr\":[1,2.5,\"x\",null,true]},"
    "\"resource\":{\"service.name\":\"frontend\",\"host.name\":\"h1\"},"
    "\"scope\":{\"name\":\"otel\",\"version\":\"1.0\"}}\n"
    "{\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"1111111111111111\","
    "\"parent_span_id\":\"00f067aa0ba902b7\",\"service\":\"frontend\",\"operation\":\"call cart\","
    "\"kind\":\"client\",\"status\":\"error\",\"status_message\":\"timeout, retried \\\"twice\\\"\","
    "\"start_ns\":1700000000124000000,\"end_ns\":1700000000130000001,\"remote_service\":\"cartservice\","
    "\"events\":[{\"time_ns\":1700000000125000000,\"name\":\"retry\",\"attributes\":{\"n\":1}}],"
    "\"links\":[{\"trace_id\":\"aaaa\",\"span_id\":\"bbbb\",\"attributes\":{}}],"
    "\"resource\":{\"service.name\":\"frontend\",\"host.name\":\"h1\"}}\n"
    "{\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"1111111111111111\","
    "\"parent_span_id\":\"00f067aa0ba902b7\",\"service\":\"cartservice\",\"operation\":\"call cart\","
    "\"kind\":\"server\",\"start_ns\":1700000000124500000,\"duration_ns\":5000000,\"shared\":true}\n"
    "{\"trace_id\":\"trace-1\",\"span_id\":\"span-1\",\"service_name\":\"api\",\"operation_name\":\"op\","
    "\"start_time\":1000.1,\"duration\":0.2,\"status\":\"ERROR\",\"error_message\":\"bad\"}\n"
    "{\"trace_id\":\"trace-1\",\"span_id\":\"span-2\",\"parent_span_id\":\"span-1\",\"service\":\"api\","
    "\"operation\":\"publish\",\"kind\":\"producer\",\"start_ns\":1000200000000,\"duration_ns\":0,"
    "\"attributes\":{}}\n"
    "{\"trace_id\":\"trace-2\",\"span_id\":\"s\",\"service\":\"worker\",\"operation\":\"consume\","
    "\"kind\":5,\"status\":1,\"start_ns\":5,\"duration_ns\":7,\"attributes\":{\"k\":\"v\"}}\n";

static void test_export_import_round_trip(void **state)
{
    fixture *f = *state;
    char src[600], out1[600], out2[600];
    path_in(f, "rich.jsonl", src, sizeof src);
    path_in(f, "export1.jsonl", out1, sizeof out1);
    path_in(f, "export2.jsonl", out2, sizeof out2);
    write_file(src, rich, strlen(rich));
    sl_db *a = open_db(f, 0), *b = open_db(f, 1);
    rejects rj;
    sl_import_stats st;
    import(a, src, &rj, &st, SL_OK);
    assert_stats(&st, 6, 6, 0, 0);

    FILE *fp = fopen(out1, "w");
    assert_non_null(fp);
    uint64_t count = 0;
    assert_int_equal(sl_export(a, fp, NULL, &count), SL_OK);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(count, 6);
    sl_export_opts eo = {0};
    eo.format = "spans";
    fp = fopen(out2, "w");
    assert_non_null(fp);
    assert_int_equal(sl_export(a, fp, &eo, &count), SL_OK);
    assert_int_equal(fclose(fp), 0);

    import(b, out1, &rj, &st, SL_OK);
    assert_stats(&st, 6, 6, 0, 0);
    size_t na, nb;
    char *da = dump_spans(a, &na), *db = dump_spans(b, &nb);
    assert_int_equal(na, 6);
    assert_string_equal(da, db);
    free(da);
    free(db);
    /* "spans" is the default format: the same bytes. */
    import(b, out2, &rj, &st, SL_OK);
    assert_stats(&st, 6, 0, 6, 0);

    /* What went out comes back as exact re-deliveries. */
    import(a, out1, &rj, &st, SL_OK);
    assert_stats(&st, 6, 0, 6, 0);

    /* Spot checks of the values themselves, worked by hand from rich[]. */
    assert_query_text(b, "SELECT attributes FROM spans WHERE trace_id||'/'||span_id = ?1",
                      "4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7",
                      "{\"http.status_code\":200,\"ratio\":1.0,\"big\":1700000000123456789,"
                      "\"s\":\"q\\\"uote\\\\ \xc3\xa9 \\n\",\"arr\":[1,2.5,\"x\",null,true]}");
    /* end 1700000000130000001 - start 1700000000124000000 = 6000001 */
    assert_query_text(b, "SELECT duration_ns||'|'||status_message||'|'||remote_service||'|'||events "
                         "FROM spans WHERE kind = ?1",
                      "client",
                      "6000001|timeout, retried \"twice\"|cartservice|"
                      "[{\"time_ns\":1700000000125000000,\"name\":\"retry\",\"attributes\":{\"n\":1}}]");
    assert_query_text(b, "SELECT count(*) FROM spans WHERE span_id = ?1 AND shared = 1 AND kind = 'server'",
                      "1111111111111111", "1");
    assert_query_text(b, SPAN_LINE, "trace-2/s", "worker|consume|consumer|ok|NULL|5|12|7");
    assert_query_text(b, SPAN_LINE, "trace-1/span-1", "api|op|unspecified|error|bad|1000100000000|1000300000000|200000000");
}

/* Optional strings given as "" are stored as absent (NULL); exporting them
 * and importing the export again must still be a re-delivery, not a second
 * copy of the same span. */
static void test_round_trip_empty_strings_idempotent(void **state)
{
    fixture *f = *state;
    char src[600], out[600];
    static const char text[] =
        "{\"trace_id\":\"t\",\"span_id\":\"a\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":1,"
        "\"duration_ns\":2,\"status_message\":\"\",\"remote_service\":\"\"}\n";
    path_in(f, "empty.jsonl", src, sizeof src);
    path_in(f, "empty-out.jsonl", out, sizeof out);
    write_file(src, text, strlen(text));
    sl_db *a = open_db(f, 0);
    rejects rj;
    sl_import_stats st;
    import(a, src, &rj, &st, SL_OK);
    assert_stats(&st, 1, 1, 0, 0);
    FILE *fp = fopen(out, "w");
    assert_non_null(fp);
    assert_int_equal(sl_export(a, fp, NULL, NULL), SL_OK);
    assert_int_equal(fclose(fp), 0);
    import(a, out, &rj, &st, SL_OK);
    assert_stats(&st, 1, 0, 1, 0);
    assert_int_equal(q_int(a, "SELECT count(*) FROM spans"), 1);
}

/* A line far longer than the reader's 256 KiB chunk: the buffer grows, the
 * value survives whole, and the following lines keep their numbers. */
static void test_long_line(void **state)
{
    fixture *f = *state;
    char p[600];
    enum { BLOB = 600000 };
    static const char head[] = "{\"trace_id\":\"t\",\"span_id\":\"a\",\"service\":\"s\","
                               "\"operation\":\"o\",\"start_ns\":1,\"duration_ns\":1,"
                               "\"attributes\":{\"blob\":\"";
    static const char tail[] = "\"}}\ngarbage\n" L1 "\n";
    size_t len = strlen(head) + BLOB + strlen(tail);
    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, head, strlen(head));
    memset(text + strlen(head), 'x', BLOB);
    memcpy(text + strlen(head) + BLOB, tail, strlen(tail) + 1);
    path_in(f, "long.jsonl", p, sizeof p);
    write_file(p, text, len);
    free(text);
    sl_db *db = open_db(f, 0);
    rejects rj;
    sl_import_stats st;
    import(db, p, &rj, &st, SL_OK);
    assert_stats(&st, 3, 2, 0, 1);
    assert_reject(&rj, 0, 2, "invalid JSON", "garbage");
    /* {"blob":"<600000 x>"} is 9 + 600000 + 2 characters */
    assert_int_equal(q_int(db, "SELECT length(attributes) FROM spans WHERE span_id = 'a' AND trace_id = 't'"),
                     BLOB + 11);
}

static void test_import_errors(void **state)
{
    fixture *f = *state;
    char p[600];
    sl_db *db = open_db(f, 0);
    sl_import_stats st = {0};
    /* A missing file is an I/O error, with the path in the message. */
    path_in(f, "absent.jsonl", p, sizeof p);
    assert_int_equal(sl_import_file(db, p, NULL, &st), SL_IO);
    if (!strstr(sl_errmsg(db), "absent.jsonl")) fail_msg("message: %s", sl_errmsg(db));
    /* An unknown format name. */
    path_in(f, "one.jsonl", p, sizeof p);
    write_file(p, L1 "\n", strlen(L1) + 1);
    sl_import_opts o = {"no-such-format", NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(sl_import_file(db, p, &o, &st), SL_INVALID);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 0);
    /* An empty file imports nothing, successfully. */
    path_in(f, "empty.jsonl", p, sizeof p);
    write_file(p, "", 0);
    memset(&st, 0, sizeof st);
    assert_int_equal(sl_import_file(db, p, NULL, &st), SL_OK);
    assert_stats(&st, 0, 0, 0, 0);
    /* Explicit format "spans", no callbacks, stats optional. */
    path_in(f, "one.jsonl", p, sizeof p);
    o.format = "spans";
    assert_int_equal(sl_import_file(db, p, &o, NULL), SL_OK);
    assert_int_equal(q_int(db, "SELECT count(*) FROM spans"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rejects_and_reimport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_by_span_rules_keep_raw_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_same_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf_and_blank_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracagg_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_and_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_import_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_empty_strings_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
