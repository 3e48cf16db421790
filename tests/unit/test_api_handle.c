/*
 * test_api_handle.c -- the handle's contract under sharing and misuse:
 *
 *   - two threads calling sl_ingest_spans() on one handle with invalid spans:
 *     the message goes into db->err under the handle's mutex (a TSan build
 *     reported the race when the checks ran before the lock);
 *   - sl_export() inside the caller's own transaction: BEGIN fails, so the
 *     export fails and the caller's transaction stays open and uncommitted
 *     (it used to go on and COMMIT the caller's work).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "spanlite.h"
#define TESTUTIL_PREFIX "handle"
#include "testutil.h"

static const sl_span good = {"t1", "a", NULL, "svc", "op", NULL, 0, 0, 0, NULL, 100, 5,
                             NULL, NULL, NULL, NULL, NULL};

typedef struct worker {
    sl_db *db;
    int bad; /* calls that did not return SL_INVALID */
} worker;

static void *ingest_invalid(void *arg)
{
    worker *w = arg;
    sl_span sp = good;
    sp.span_id = NULL; /* required: every call fails its check */
    for (int i = 0; i < 2000; i++)
        if (sl_ingest_spans(w->db, &sp, 1, NULL) != SL_INVALID) w->bad++;
    return NULL;
}

static void test_ingest_shared_handle(void **state)
{
    (void)state;
    sl_db *db = open_db("shared.db");
    worker a = {db, 0}, b = {db, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, ingest_invalid, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, ingest_invalid, &b), 0);
    /* and valid calls in between, which take the lock */
    for (int i = 0; i < 50; i++) assert_int_equal(sl_ingest_spans(db, &good, 1, NULL), SL_OK);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.bad + b.bad, 0);
    assert_non_null(strstr(sl_errmsg(db), "span 0:"));
    expect_q(db, "SELECT count(*) FROM span", "1");
    sl_close(db);
}

static void test_export_inside_callers_transaction(void **state)
{
    (void)state;
    sl_db *db = open_db("export.db");
    assert_int_equal(sl_ingest_span(db, &good), SL_OK);
    sqlite3 *c = sl_sqlite(db);
    assert_int_equal(sqlite3_exec(c, "BEGIN; CREATE TABLE mine (x); INSERT INTO mine VALUES (1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    FILE *out = tmpfile();
    assert_non_null(out);
    uint64_t n = 99;
    assert_int_equal(sl_export(db, out, NULL, &n), SL_ERROR);
    assert_int_equal(n, 0);
    assert_non_null(strstr(sl_errmsg(db), "BEGIN"));
    /* the caller's transaction is still open, and still theirs to undo */
    assert_int_equal(sqlite3_get_autocommit(c), 0);
    assert_int_equal(sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    expect_q(db, "SELECT count(*) FROM sqlite_master WHERE name = 'mine'", "0");

    /* outside a transaction it works, and leaves none open */
    rewind(out);
    assert_int_equal(sl_export(db, out, NULL, &n), SL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sqlite3_get_autocommit(c), 1);
    fclose(out);
    sl_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_shared_handle),
        cmocka_unit_test(test_export_inside_callers_transaction),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
