/*
 * test_workflow_store.c -- workflow events through the import pipeline into
 * the warehouse: what is kept (workflow_events), the transactions, steps and
 * step_gaps views, idempotent re-import, and the spans of closed
 * transactions (made by the import, and by sl_workflow_sync_spans).
 *
 * The input is a dozen hand-written lines; every expected value below is
 * worked out by hand from them (comments show the arithmetic).
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
#include "workflow/workflow.h"

static const char *const lines[] = {
    "{\"type\":\"transaction_open\",\"txn_id\":\"pay-1\",\"ts_ms\":1000,\"workflow\":\"pay\"}",
    "{\"type\": \"step_open\", \"txn_id\": \"pay-1\", \"step\": 1, \"ts_ms\": 1010}",
    "{\"type\":\"step_done\",\"txn_id\":\"pay-1\",\"step\":1,\"ts_ms\":1030}",
    "{\"type\":\"inter_step_wait\",\"txn_id\":\"pay-1\",\"from_step\":1,\"planned_wait_ms\":40,"
    "\"outlier_injected\":false,\"ts_ms\":1030}",
    "{\"type\":\"step_open\",\"txn_id\":\"pay-1\",\"step\":2,\"ts_ms\":1070}",
    "{\"type\":\"step_done\",\"txn_id\":\"pay-1\",\"step\":2,\"ts_ms\":1100,\"status\":\"FAILED\"}",
    "{\"type\":\"transaction_close\",\"txn_id\":\"pay-1\",\"ts_ms\":1200,\"extra\":{\"x\":[1,2.50,\"y\"]}}",
    "{\"type\":\"transaction_open\",\"txn_id\":7,\"ts_ms\":\"2000\"}",
    "{\"type\":\"transaction_close\",\"txn_id\":7.0,\"ts_ms\":2500.9}",
    "not json",
    "{\"type\":\"odd\",\"txn_id\":[\"x\"],\"ts_ms\":3000,\"v\":NaN}",
    "   ",
};

typedef struct fixture {
    char dir[256], input[300], dbpath[300];
    sl_db *db;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *root = getenv("TMPROOT");
    snprintf(f->dir, sizeof f->dir, "%s/wfstore.XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->input, sizeof f->input, "%s/events.jsonl", f->dir);
    snprintf(f->dbpath, sizeof f->dbpath, "%s/wf.db", f->dir);
    FILE *in = fopen(f->input, "w");
    if (!in) return -1;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) fprintf(in, "%s\n", lines[i]);
    fclose(in);
    if (sl_open(f->dbpath, 0, &f->db) != SL_OK) return -1;
    if (sl_workflow_register(sl_sqlite(f->db)) != SQLITE_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_close(f->db);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static sl_import_stats import(fixture *f)
{
    sl_import_opts o = {"workflow", NULL, NULL, NULL, NULL, NULL};
    sl_import_stats st = {0};
    assert_int_equal(sl_import_file(f->db, f->input, &o, &st), SL_OK);
    return st;
}

/* The single text or integer value of a query (NULL -> "NULL"). */
static void query_is(fixture *f, const char *sql, const char *want)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(sl_sqlite(f->db), sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(sl_sqlite(f->db)));
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    const char *got = (const char *)sqlite3_column_text(q, 0);
    if (strcmp(got ? got : "NULL", want) != 0) fail_msg("%s\n  got  %s\n  want %s", sql, got ? got : "NULL", want);
    sqlite3_finalize(q);
}

static void test_import_keeps_every_event(void **state)
{
    fixture *f = *state;
    sl_import_stats st = import(f);
    /* 12 lines: one blank (not a record), "not json" rejected, 10 events */
    assert_int_equal(st.read, 11);
    assert_int_equal(st.imported, 10);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.duplicates, 0);
    query_is(f, "SELECT count(*) || ' ' || min(seq) || ' ' || max(seq) FROM workflow_events", "10 1 10");
    /* compact form, fields in their order, number text kept (2.50) */
    query_is(f, "SELECT body FROM workflow_events WHERE seq = 2",
             "{\"type\":\"step_open\",\"txn_id\":\"pay-1\",\"step\":1,\"ts_ms\":1010}");
    query_is(f, "SELECT body FROM workflow_events WHERE seq = 7",
             "{\"type\":\"transaction_close\",\"txn_id\":\"pay-1\",\"ts_ms\":1200,"
             "\"extra\":{\"x\":[1,2.50,\"y\"]}}");
    /* NaN is written null so SQLite's JSON functions accept the body */
    query_is(f, "SELECT body FROM workflow_events WHERE seq = 10",
             "{\"type\":\"odd\",\"txn_id\":[\"x\"],\"ts_ms\":3000,\"v\":null}");
    query_is(f, "SELECT json_extract(body, '$.extra.x[2]') FROM workflow_events WHERE seq = 7", "y");
    /* str() of the values: int("2000") = 2000, int(2500.9) = 2500, a list txn_id is NULL */
    query_is(f, "SELECT ts_ms FROM workflow_events WHERE seq = 8", "2000");
    query_is(f, "SELECT ts_ms FROM workflow_events WHERE seq = 9", "2500");
    query_is(f, "SELECT txn_id FROM workflow_events WHERE seq = 9", "7.0");
    query_is(f, "SELECT coalesce(txn_id, 'NULL') || ' ' || type FROM workflow_events WHERE seq = 10",
             "NULL odd");
    query_is(f, "SELECT workflow FROM workflow_events WHERE seq = 1", "pay");
    query_is(f, "SELECT group_concat(seq) FROM workflow_events WHERE seq > 3 AND seq <= 6", "4,5,6");
}

static void test_transactions_steps_gaps(void **state)
{
    fixture *f = *state;
    import(f);
    /* pay-1: open 1000, close 1200 -> 200; two step_opens; status FAILED -> error */
    query_is(f, "SELECT workflow || ' ' || open_ms || ' ' || close_ms || ' ' || duration_ms || ' ' || "
                "step_count || ' ' || error || ' ' || events FROM transactions WHERE txn_id = 'pay-1'",
             "pay 1000 1200 200 2 1 7");
    /* 7 and 7.0 are one transaction, named by its first spelling: 2500 - 2000 = 500 */
    query_is(f, "SELECT count(*) || ' ' || max(duration_ms) || ' ' || max(error) FROM transactions "
                "WHERE txn_id = '7'", "1 500 0");
    query_is(f, "SELECT count(*) FROM transactions", "2");
    /* steps of pay-1: 1030 - 1010 = 20, 1100 - 1070 = 30 */
    query_is(f, "SELECT group_concat(step || ':' || open_ms || '-' || done_ms || '=' || duration_ms, ' ') "
                "FROM (SELECT * FROM steps WHERE txn_id = 'pay-1' ORDER BY step_index)",
             "1:1010-1030=20 2:1070-1100=30");
    /* gap 1 -> 2: 1070 - 1030 = 40, planned 40, not an injected outlier */
    query_is(f, "SELECT from_step || '>' || to_step || ' ' || gap_ms || ' ' || planned_wait_ms || ' ' || "
                "outlier_injected FROM step_gaps WHERE txn_id = 'pay-1'", "1>2 40 40 0");
}

static void test_reimport_adds_nothing(void **state)
{
    fixture *f = *state;
    import(f);
    sl_import_stats st = import(f);
    assert_int_equal(st.imported, 0);
    assert_int_equal(st.duplicates, 10);
    query_is(f, "SELECT count(*) FROM workflow_events", "10");
    query_is(f, "SELECT events FROM transactions WHERE txn_id = 'pay-1'", "7");
}

static void test_spans_of_closed_transactions(void **state)
{
    fixture *f = *state;
    /* The import itself turns closed transactions into spans. */
    import(f);
    assert_false(sl_workflow_spans_pending(sl_sqlite(f->db)));
    /* pay-1: a root and two steps; 7: a root */
    query_is(f, "SELECT count(*) FROM spans", "4");
    query_is(f, "SELECT service || ' ' || operation || ' ' || start_ns || ' ' || duration_ns || ' ' || status "
                "FROM spans WHERE trace_id = 'pay-1' AND span_id = 'txn'",
             "pay transaction 1000000000 200000000 error");
    query_is(f, "SELECT parent_span_id || ' ' || operation || ' ' || start_ns || ' ' || duration_ns "
                "FROM spans WHERE trace_id = 'pay-1' AND span_id = 'step-2'",
             "txn step 2 1070000000 30000000");
    query_is(f, "SELECT service || ' ' || duration_ns FROM spans WHERE trace_id = '7'",
             "workflow 500000000");
    query_is(f, "SELECT span_count FROM traces WHERE trace_id = 'pay-1'", "3");
    uint64_t n = 99;
    assert_int_equal(sl_workflow_sync_spans(f->db, &n), SL_OK);
    assert_int_equal(n, 0);
    query_is(f, "SELECT count(*) FROM spans", "4");
}

/* sl_workflow_sync_spans() on transactions an import left without spans
 * (as imports of an earlier spanlite did): the two closed ones are handed over again,
 * and the span store keeps one copy of each span. */
static void test_sync_spans_on_request(void **state)
{
    fixture *f = *state;
    import(f);
    assert_int_equal(sqlite3_exec(sl_sqlite(f->db), "UPDATE wf_txn SET spans_synced = 0", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(sl_workflow_spans_pending(sl_sqlite(f->db)));
    uint64_t n = 0;
    assert_int_equal(sl_workflow_sync_spans(f->db, &n), SL_OK);
    assert_int_equal(n, 4);
    assert_false(sl_workflow_spans_pending(sl_sqlite(f->db)));
    query_is(f, "SELECT count(*) FROM spans", "4");
}

/* wf_txn.key_hash is persisted and looked up by later imports, so its
 * function (sl_hash_wf_txn_key) must keep its values.  Golden values from
 * an independent Python implementation of the documented algorithm
 * (base/hash.h), equal to what the code before the hash consolidation
 * stored. */
static void test_txn_key_hash_is_stable(void **state)
{
    fixture *f = *state;
    import(f);
    query_is(f, "SELECT key_hash FROM wf_txn WHERE key = 'pay-1'", "2656714427");
    query_is(f, "SELECT key_hash FROM wf_txn WHERE key = CAST(x'1F6E37' AS TEXT)", "3161348624"); /* txn_id 7 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_keeps_every_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions_steps_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reimport_adds_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spans_of_closed_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_spans_on_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn_key_hash_is_stable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
