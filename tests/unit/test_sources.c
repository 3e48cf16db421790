/*
 * test_sources.c -- sl_source (file, memory, byte range) and the import's
 * after-commit callback, through the public API only.
 *
 *   - a memory source and range sources import exactly the rows the file does;
 *   - on_commit offsets only grow, end at the input's size, and when on_commit
 *     runs a second connection already sees every record before the offset
 *     (and no other);
 *   - positions in messages are the source's own form;
 *   - progress on a multi-batch import (under TSan: no race on the counters).
 *
 * Includes testutil.h without TESTUTIL_PREFIX: that used to define its reject
 * helpers twice (a misplaced #endif) and did not compile.
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

#include "spanlite.h"
#include "testutil.h"

#define NSPANS 50000 /* over three commits of 16384 records, a dozen batches */

/* A native JSON Lines file of n spans; ends[i] is the offset just after line
 * i + 1 (its "\n").  Returns the file's text (malloc'd); *size its length. */
static char *make_spans(const char *name, char *path, size_t pathlen, int n, uint64_t *ends,
                        size_t *size)
{
    size_t cap = (size_t)n * 200 + 1, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"trace_id\":\"%08x\",\"span_id\":\"%04x\",\"service\":\"svc%d\","
                                "\"operation\":\"op%d\",\"start_ns\":%d,\"duration_ns\":%d}\n",
                                i / 7, i % 7, i % 5, i % 11, 1000 + i, 10 + i % 97);
        if (ends) ends[i] = len;
    }
    path_in(path, pathlen, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    *size = len;
    return text;
}

#define ROWS "SELECT count(*) || '|' || (SELECT group_concat(x, ',') FROM (SELECT trace_id || '/' || " \
             "span_id || '/' || service || '/' || operation || '/' || start_ns || '/' || duration_ns " \
             "AS x FROM spans ORDER BY trace_id, span_id)) FROM spans"

static void import_ok(sl_db *db, sl_source *src, const sl_import_opts *o, uint64_t want)
{
    sl_import_stats st = {0};
    int rc = sl_import_source(db, src, o, &st);
    if (rc != SL_OK) fail_msg("import %s: %d %s", sl_source_name(src), rc, sl_errmsg(db));
    assert_int_equal(st.imported, want);
}

static void test_memory_and_range_same_rows(void **state)
{
    (void)state;
    char path[600];
    size_t size;
    uint64_t ends[2000];
    char *text = make_spans("same.jsonl", path, sizeof path, 2000, ends, &size);

    sl_db *a = open_db("file.db");
    assert_int_equal(sl_import_file(a, path, NULL, NULL), SL_OK);
    char *want = q(a, ROWS);
    assert_non_null(want);
    assert_true(strncmp(want, "2000|", 5) == 0);

    sl_db *b = open_db("memory.db");
    sl_source *m = sl_source_memory("spans/0@7", text, size);
    assert_non_null(m);
    import_ok(b, m, NULL, 2000);
    expect_q(b, ROWS, want);

    /* the whole file as a range, and the same file as two ranges cut at a
     * line boundary (the first part, then "the rest of a grown log") */
    sl_db *c = open_db("range.db");
    sl_source *r = sl_source_range(path, 0, SL_RANGE_END);
    import_ok(c, r, NULL, 2000);
    expect_q(c, ROWS, want);

    sl_db *d = open_db("ranges.db");
    sl_source *r1 = sl_source_range(path, 0, ends[1233]);
    sl_source *r2 = sl_source_range(path, ends[1233], SL_RANGE_END);
    import_ok(d, r1, NULL, 1234);
    import_ok(d, r2, NULL, 2000 - 1234);
    expect_q(d, ROWS, want);
    /* a source is a description: importing it again adds nothing */
    sl_import_stats st = {0};
    assert_int_equal(sl_import_source(d, r2, NULL, &st), SL_OK);
    assert_int_equal(st.read, 2000 - 1234);
    assert_int_equal(st.duplicates, 2000 - 1234);

    /* a range past the end of the file is empty, a missing file an SL_IO */
    sl_source *past = sl_source_range(path, size + 10, 5);
    assert_int_equal(sl_import_source(d, past, NULL, &st), SL_OK);
    sl_source *missing = sl_source_range("/nonexistent/x.jsonl", 0, 10);
    assert_int_equal(sl_import_source(d, missing, NULL, &st), SL_IO);
    assert_non_null(strstr(sl_errmsg(d), "/nonexistent/x.jsonl"));

    sl_source_free(m);
    sl_source_free(r);
    sl_source_free(r1);
    sl_source_free(r2);
    sl_source_free(past);
    sl_source_free(missing);
    sl_close(a);
    sl_close(b);
    sl_close(c);
    sl_close(d);
    free(want);
    free(text);
}

/* ---- on_commit ---- */

typedef struct commits {
    const char *db_path;    /* opened again, as a second connection */
    const sl_source *src;   /* what the callback must be told */
    const uint64_t *ends;   /* line ends of the input */
    int nlines;
    uint64_t base;          /* lines before the input (a range's start) */
    long long all;          /* > 0: a re-import, the warehouse holds this many */
    int per;                /* > 0: records per line (then lines may straddle commits) */
    int n;
    uint64_t last_offset, records;
    int bad;                /* failures seen inside the callback */
} commits;

static void on_commit(void *ctx, const sl_commit_info *c)
{
    commits *k = ctx;
    k->n++;
    if (c->source != k->src) k->bad++;
    if (c->offset <= k->last_offset) {
        fprintf(stderr, "commit %d: offset %llu after %llu\n", k->n, (unsigned long long)c->offset,
                (unsigned long long)k->last_offset);
        k->bad++;
    }
    k->last_offset = c->offset;
    k->records += c->records;
    /* lines wholly before the offset */
    int whole = 0;
    while (whole < k->nlines && k->ends[whole] <= c->offset) whole++;
    sqlite3 *other = NULL;
    sqlite3_open_v2(k->db_path, &other, SQLITE_OPEN_READONLY, NULL);
    sqlite3_busy_timeout(other, 10000);
    sqlite3_stmt *st = NULL;
    long long have = -1;
    if (sqlite3_prepare_v2(other, "SELECT count(*) FROM span", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(other);
    /* every record before the offset is in, and (one span a line) no more */
    long long want = k->all > 0 ? k->all : (long long)(k->base + (uint64_t)whole);
    int ok = have == want && (uint64_t)whole == c->line;
    /* several records a line: all of the lines before the offset are in, and
     * the line after it is not wholly in (else the offset could be further) */
    if (k->per > 0)
        ok = have >= (long long)whole * k->per && have < ((long long)whole + 1) * k->per;
    if (!ok) {
        fprintf(stderr, "commit %d at %llu (line %llu): %lld spans seen, %d whole lines before it\n",
                k->n, (unsigned long long)c->offset, (unsigned long long)c->line, have, whole);
        k->bad++;
    }
}

static void test_on_commit_offsets(void **state)
{
    (void)state;
    char path[600], dbp[600];
    size_t size;
    uint64_t *ends = malloc(NSPANS * sizeof *ends);
    assert_non_null(ends);
    free(make_spans("commits.jsonl", path, sizeof path, NSPANS, ends, &size));
    sl_db *db = open_db("commits.db");
    path_in(dbp, sizeof dbp, "commits.db");

    sl_source *src = sl_source_file(path);
    commits k = {dbp, src, ends, NSPANS, 0, 0, 0, 0, 0, 0, 0};
    sl_import_opts o = {0};
    o.on_commit = on_commit;
    o.ctx = &k;
    import_ok(db, src, &o, NSPANS);
    assert_int_equal(k.bad, 0);
    assert_true(k.n >= 4); /* 16384 records a commit */
    assert_int_equal(k.last_offset, size);
    assert_int_equal(k.records, NSPANS);

    /* importing it again: the same offsets, all duplicates */
    commits again = {dbp, src, ends, NSPANS, 0, NSPANS, 0, 0, 0, 0, 0};
    o.ctx = &again;
    assert_int_equal(sl_import_source(db, src, &o, NULL), SL_OK);
    assert_int_equal(again.bad, 0);
    assert_int_equal(again.last_offset, size);
    assert_int_equal(again.records, NSPANS);
    sl_source_free(src);
    sl_close(db);

    /* the rest of the file from line 20001, after the first part: offsets
     * count from the file's start, lines from the range's */
    db = open_db("commits.db");
    sl_source *first = sl_source_range(path, 0, ends[19999]);
    sl_source *rest = sl_source_range(path, ends[19999], SL_RANGE_END);
    import_ok(db, first, NULL, 20000);
    commits kr = {dbp, rest, ends + 20000, NSPANS - 20000, 20000, 0, 0, 0, ends[19999], 0, 0};
    o.ctx = &kr;
    sl_import_stats st = {0};
    assert_int_equal(sl_import_source(db, rest, &o, &st), SL_OK);
    assert_int_equal(st.imported, NSPANS - 20000);
    assert_int_equal(kr.bad, 0);
    assert_int_equal(kr.last_offset, size);
    sl_source_free(rest);
    sl_source_free(first);
    sl_close(db);
    free(ends);
}

/* OTLP JSON Lines, three spans a line: a commit that ends inside a line
 * reports the offset before that line, not after it. */
static void test_on_commit_inside_a_line(void **state)
{
    (void)state;
    enum { LINES = 6000, PER = 3 };
    char path[600], dbp[600];
    uint64_t *ends = malloc(LINES * sizeof *ends);
    size_t cap = (size_t)LINES * 600, len = 0;
    char *text = malloc(cap);
    assert_non_null(ends);
    assert_non_null(text);
    for (int i = 0; i < LINES; i++) {
        len += (size_t)snprintf(text + len, cap - len,
            "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
            "\"value\":{\"stringValue\":\"s\"}}]},\"scopeSpans\":[{\"spans\":[");
        for (int j = 0; j < PER; j++)
            len += (size_t)snprintf(text + len, cap - len,
                "%s{\"traceId\":\"%08x\",\"spanId\":\"%02x\",\"name\":\"op\","
                "\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"7\"}", j ? "," : "", i, j);
        len += (size_t)snprintf(text + len, cap - len, "]}]}]}\n");
        ends[i] = len;
    }
    path_in(path, sizeof path, "otlp.jsonl");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    sl_db *db = open_db("otlp.db");
    path_in(dbp, sizeof dbp, "otlp.db");
    sl_source *src = sl_source_file(path);
    commits k = {dbp, src, ends, LINES, 0, 0, PER, 0, 0, 0, 0};
    sl_import_opts o = {0};
    o.format = "otlp";
    o.on_commit = on_commit;
    o.ctx = &k;
    import_ok(db, src, &o, LINES * PER);
    assert_int_equal(k.bad, 0);
    assert_true(k.n >= 2);
    assert_int_equal(k.last_offset, len);
    sl_source_free(src);
    sl_close(db);
    free(text);
    free(ends);
}

/* Rejects and blank lines at the end: the last commit still reaches the end. */
static void test_on_commit_trailing_rejects(void **state)
{
    (void)state;
    char text[] =
        "{\"trace_id\":\"t\",\"span_id\":\"a\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":1,\"duration_ns\":1}\n"
        "not json\n"
        "\n";
    sl_db *db = open_db("trailing.db");
    char dbp[600];
    path_in(dbp, sizeof dbp, "trailing.db");
    sl_source *src = sl_source_memory("mem", text, strlen(text));
    uint64_t ends[] = {strchr(text, '\n') + 1 - text};
    commits k = {dbp, src, ends, 1, 0, 0, 0, 0, 0, 0, 0};
    sl_import_opts o = {0};
    o.on_commit = on_commit;
    o.ctx = &k;
    sl_import_stats st = {0};
    assert_int_equal(sl_import_source(db, src, &o, &st), SL_OK);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(k.last_offset, strlen(text));
    assert_int_equal(k.records, 1);
    sl_source_free(src);
    sl_close(db);
}

/* ---- positions in messages ---- */

typedef struct seen {
    const sl_source *src;
    char source[256];
    char where[256];
    int n;
} seen;

static void on_reject_where(void *ctx, const char *source, uint64_t line, const char *reason,
                            const char *record, size_t len)
{
    (void)reason, (void)record, (void)len;
    seen *s = ctx;
    snprintf(s->source, sizeof s->source, "%s", source);
    sl_source_where(s->src, line, s->where, sizeof s->where);
    s->n++;
}

static void test_positions(void **state)
{
    (void)state;
    static const char body[] =
        "{\"trace_id\":\"t\",\"span_id\":\"a\",\"service\":\"s\",\"operation\":\"o\",\"start_ns\":1,\"duration_ns\":1}\n"
        "{\"trace_id\":\"t\",\"span_id\":\"b\"}\n";
    sl_db *db = open_db("where.db");
    sl_import_opts o = {0};
    o.on_reject = on_reject_where;

    /* a Kafka message: one position per message */
    sl_source *kafka = sl_source_memory("spans/3@1042", body, sizeof body - 1);
    assert_int_equal(sl_source_set_position(kafka, "%n"), SL_OK);
    seen s = {kafka, "", "", 0};
    o.ctx = &s;
    assert_int_equal(sl_import_source(db, kafka, &o, NULL), SL_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.source, "spans/3@1042");
    assert_string_equal(s.where, "spans/3@1042");

    /* a request body, with the line */
    sl_source *http = sl_source_memory("POST /v1/traces from 127.0.0.1", body, sizeof body - 1);
    assert_int_equal(sl_source_set_position(http, "%n, line %l (100%%)"), SL_OK);
    seen h = {http, "", "", 0};
    o.ctx = &h;
    assert_int_equal(sl_import_source(db, http, &o, NULL), SL_OK);
    assert_string_equal(h.where, "POST /v1/traces from 127.0.0.1, line 2 (100%)");

    /* a file: FILE:LINE */
    char path[600];
    write_file(path, sizeof path, "where.jsonl", body);
    sl_source *file = sl_source_file(path);
    seen f = {file, "", "", 0};
    o.ctx = &f;
    assert_int_equal(sl_import_source(db, file, &o, NULL), SL_OK);
    char want[700];
    snprintf(want, sizeof want, "%s:2", path);
    assert_string_equal(f.where, want);

    /* truncation keeps the length needed, like snprintf */
    char small[8];
    assert_int_equal(sl_source_where(http, 2, small, sizeof small), strlen(h.where));
    assert_string_equal(small, "POST /v");

    /* a fatal error names the memory source */
    static const char junk[] = "\x01\x02 binary junk";
    sl_source *bad = sl_source_memory("spans/3@1043", junk, sizeof junk - 1);
    assert_int_equal(sl_import_source(db, bad, NULL, NULL), SL_INVALID);
    assert_true(strncmp(sl_errmsg(db), "spans/3@1043: ", 14) == 0);

    sl_source_free(kafka);
    sl_source_free(http);
    sl_source_free(file);
    sl_source_free(bad);
    sl_close(db);
}

/* ---- progress ---- */

typedef struct progress {
    int n;
    uint64_t read, bytes;
    int bad;
} progress;

static void on_progress(void *ctx, const sl_import_stats *now)
{
    progress *p = ctx;
    p->n++;
    if (now->read < p->read || now->bytes < p->bytes) p->bad++;
    p->read = now->read;
    p->bytes = now->bytes;
}

static void test_progress_multi_batch(void **state)
{
    (void)state;
    char path[600];
    size_t size;
    free(make_spans("progress.jsonl", path, sizeof path, NSPANS, NULL, &size));
    sl_db *db = open_db("progress.db");
    progress p = {0, 0, 0, 0};
    sl_import_opts o = {0};
    o.on_progress = on_progress;
    o.ctx = &p;
    sl_import_stats st = {0};
    assert_int_equal(sl_import_file(db, path, &o, &st), SL_OK);
    assert_true(p.n >= 10); /* once per batch of 4096 */
    assert_int_equal(p.bad, 0);
    assert_true(p.read <= NSPANS && p.read > 0);
    assert_true(p.bytes <= size && p.bytes > 0);
    assert_int_equal(st.read, NSPANS);
    sl_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_and_range_same_rows),
        cmocka_unit_test(test_on_commit_offsets),
        cmocka_unit_test(test_on_commit_inside_a_line),
        cmocka_unit_test(test_on_commit_trailing_rejects),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_progress_multi_batch),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
