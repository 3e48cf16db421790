/*
 * test_ids.c -- span ids in their stored form (base/hexid.h, store/ids.h,
 * schema/006_compact_ids.sql) and the one list of kind and status names.
 *
 * Golden bytes are spelled from the ids by hand, two hex digits a byte
 * ("9c5c..." is 0x9c 0x5c ...); which ids stay text follows rules R1/R2 of
 * base/hexid.h.  The decoding side is SQLite's own hex() and lower(), run
 * on an in-memory database, so the round trip is checked against an
 * implementation that is not ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "spanlite.h"
#include "base/hexid.h"
#include "base/span.h"
#include "store/ids.h"
#include "sql/sql.h"

/* ---- sl_hexid_encode / sl_hexid_decode ---- */

static void test_encode_hex(void **state)
{
    (void)state;
    unsigned char b[SL_HEXID_MAX];
    static const unsigned char want[8] = {0x9c, 0x5c, 0xdf, 0xcc, 0xab, 0x68, 0x54, 0xc1};
    assert_int_equal(sl_hexid_encode("9c5cdfccab6854c1", b), 8);
    assert_memory_equal(b, want, 8);
    assert_int_equal(sl_hexid_encode("00", b), 1);
    assert_int_equal(b[0], 0);
    assert_int_equal(sl_hexid_encode("ff0a", b), 2);
    assert_int_equal(b[0], 0xff);
    assert_int_equal(b[1], 0x0a);
    /* The longest binary id: 64 bytes, 128 digits. */
    char longest[2 * SL_HEXID_MAX + 3];
    memset(longest, 'a', 2 * SL_HEXID_MAX);
    longest[2 * SL_HEXID_MAX] = '\0';
    assert_int_equal(sl_hexid_encode(longest, b), SL_HEXID_MAX);
    assert_int_equal(b[SL_HEXID_MAX - 1], 0xaa);
    strcpy(longest + 2 * SL_HEXID_MAX, "aa"); /* 130 digits: text */
    assert_int_equal(sl_hexid_encode(longest, b), 0);
}

static void test_encode_text(void **state)
{
    (void)state;
    static const char *const text[] = {
        "trace-123", /* not hex */
        "abc",       /* odd length */
        "a",         /* one digit */
        "",          /* empty */
        "ABCD",      /* upper case: the writer lower-cases first; raw, it stays text */
        "abcD",
        "0x12",
        "12 4",
        "g1",
    };
    unsigned char b[SL_HEXID_MAX];
    memset(b, 0x55, sizeof b);
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
        if (sl_hexid_encode(text[i], b) != 0) fail_msg("%s encoded as binary", text[i]);
    }
    assert_int_equal(sl_hexid_encode(NULL, b), 0);
    assert_int_equal(b[0], 0x55); /* untouched */
}

static void test_decode(void **state)
{
    (void)state;
    static const unsigned char bytes[] = {0x9c, 0x5c, 0x00, 0xff, 0x0a};
    char out[2 * sizeof bytes + 1];
    sl_hexid_decode(bytes, sizeof bytes, out);
    assert_string_equal(out, "9c5c00ff0a");
    sl_hexid_decode(bytes, 0, out);
    assert_string_equal(out, "");
}

/* ---- the SQL side: span_id_stored(), sl_ids_bind(), SL_HEXID_SQL ---- */

static sqlite3 *mem_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) fail_msg("sqlite3_open");
    if (sl_ids_register(db) != SQLITE_OK) fail_msg("sl_ids_register: %s", sqlite3_errmsg(db));
    return db;
}

/* Store id through sl_ids_bind, read back typeof, hex and the decoded text. */
static void bind_round_trip(sqlite3 *db, const char *id, const char *type, const char *hex)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT typeof(x), hex(x), " SL_HEXID_SQL("x")
                      ", x = span_id_stored(?1), typeof(span_id_stored(?1)) FROM (SELECT ?2 AS x)";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
    if (id) sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    unsigned char buf[SL_HEXID_MAX];
    assert_int_equal(sl_ids_bind(st, 2, id, buf), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), type);
    if (hex) assert_string_equal((const char *)sqlite3_column_text(st, 1), hex);
    if (id && *id) {
        assert_string_equal((const char *)sqlite3_column_text(st, 2), id); /* exact round trip */
        assert_int_equal(sqlite3_column_int(st, 3), 1); /* the SQL function agrees */
        assert_string_equal((const char *)sqlite3_column_text(st, 4), type);
    } else {
        assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL);
    }
    sqlite3_finalize(st);
}

static void test_sql_round_trip(void **state)
{
    (void)state;
    sqlite3 *db = mem_db();
    bind_round_trip(db, "9c5cdfccab6854c1", "blob", "9C5CDFCCAB6854C1");
    bind_round_trip(db, "00ff", "blob", "00FF");
    bind_round_trip(db, "b3f2af6d0fc710c5853b559647364cea", "blob", "B3F2AF6D0FC710C5853B559647364CEA");
    bind_round_trip(db, "trace-123", "text", "74726163652D313233"); /* the text's UTF-8 */
    bind_round_trip(db, "abc", "text", "616263");
    bind_round_trip(db, "ABCD", "text", "41424344");
    bind_round_trip(db, "7", "text", "37");
    bind_round_trip(db, NULL, "null", NULL);
    bind_round_trip(db, "", "null", NULL); /* "" is no parent */
    sqlite3_close(db);
}

static void test_sql_stored_passes_blobs(void **state)
{
    (void)state;
    sqlite3 *db = mem_db();
    sqlite3_stmt *st = NULL;
    /* Converting a stored value again leaves it alone; NULL stays NULL;
     * an integer is taken as its text (never hex of even length here: "12"
     * would be, so the test uses 123). */
    const char *sql = "SELECT hex(span_id_stored(x'ab01')), span_id_stored(NULL) IS NULL,"
                      " typeof(span_id_stored(123)), span_id_stored(123),"
                      " hex(span_id_stored('ab01'))";
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "AB01");
    assert_int_equal(sqlite3_column_int(st, 1), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "text");
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "123");
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "AB01");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- kind and status names: schema tables == sl_kind_name/sl_status_name ---- */

/* Rows of table (code, name) in code order must be exactly names(0..n-1). */
static void check_names(sqlite3 *db, const char *table, const char *(*name)(int), int n)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT code, name FROM %s ORDER BY code", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int code = sqlite3_column_int(st, 0);
        assert_int_equal(code, rows);
        const char *got = (const char *)sqlite3_column_text(st, 1);
        if (strcmp(got, name(code)) != 0)
            fail_msg("%s row %d is '%s', the C name is '%s'", table, code, got, name(code));
        rows++;
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, n);
}

static void test_names_one_list(void **state)
{
    (void)state;
    const char *root = getenv("TMPROOT");
    char dir[512], path[600], cmd[700];
    snprintf(dir, sizeof dir, "%s/ids.XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(dir)) fail_msg("mkdtemp");
    snprintf(path, sizeof path, "%s/w.db", dir);
    sl_db *db = NULL;
    assert_int_equal(sl_open(path, 0, &db), SL_OK);
    /* Every code the record model knows (sl_span_check: kind 0..5, status 0..2). */
    check_names(sl_sqlite(db), "span_kind", sl_kind_name, 6);
    check_names(sl_sqlite(db), "span_status", sl_status_name, 3);
    /* The parsers agree: each name parses back to its code. */
    for (int k = 0; k < 6; k++) assert_int_equal(sl_kind_parse(sl_kind_name(k)), k);
    for (int s = 0; s < 3; s++) assert_int_equal(sl_status_parse(sl_status_name(s)), s);
    /* An out-of-range code reads as code 0's name in the view, as in C. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db),
        "SELECT coalesce((SELECT name FROM span_kind WHERE code = 9),"
        " (SELECT name FROM span_kind WHERE code = 0))", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), sl_kind_name(9));
    sqlite3_finalize(st);
    sl_close(db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the writer stores the binary form, the readers give the text ---- */

static void test_warehouse_ids(void **state)
{
    (void)state;
    const char *root = getenv("TMPROOT");
    char dir[512], path[600], cmd[700];
    snprintf(dir, sizeof dir, "%s/ids.XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(dir)) fail_msg("mkdtemp");
    snprintf(path, sizeof path, "%s/w.db", dir);
    sl_db *db = NULL;
    assert_int_equal(sl_open(path, 0, &db), SL_OK);
    sl_span sp[3];
    memset(sp, 0, sizeof sp);
    for (int i = 0; i < 3; i++) {
        sp[i].trace_id = "trace-123";
        sp[i].service = "svc";
        sp[i].operation = "op";
        sp[i].start_ns = 1000 + i;
        sp[i].duration_ns = 10;
    }
    sp[0].span_id = "00AB";          /* upper-case hex: lower-cased, then binary */
    sp[1].span_id = "abc";           /* odd: text */
    sp[1].parent_span_id = "00ab";
    sp[2].span_id = "c1";
    sp[2].parent_span_id = "abc";
    sl_import_stats st = {0};
    assert_int_equal(sl_ingest_spans(db, sp, 3, &st), SL_OK);
    assert_int_equal(st.imported, 3);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db),
        "SELECT typeof(s.span_id), hex(s.span_id), quote(s.parent_span_id), v.span_id,"
        " quote(v.parent_span_id) FROM span s JOIN spans v ON v.start_ns = s.start_ns"
        " ORDER BY s.start_ns", -1, &q, NULL), SQLITE_OK);
    static const char *const want[3][5] = {
        {"blob", "00AB", "NULL", "00ab", "NULL"},
        {"text", "616263", "X'00AB'", "abc", "'00ab'"},
        {"blob", "C1", "'abc'", "c1", "'abc'"},
    };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        for (int c = 0; c < 5; c++)
            assert_string_equal((const char *)sqlite3_column_text(q, c), want[i][c]);
    }
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    /* The C API reads the text back. */
    sl_trace *t = NULL;
    assert_int_equal(sl_get_trace(db, "trace-123", &t), SL_OK);
    assert_int_equal(t->nspans, 3);
    assert_string_equal(t->spans[0].span_id, "00ab");
    assert_string_equal(t->spans[1].span_id, "abc");
    assert_string_equal(t->spans[1].parent_span_id, "00ab");
    assert_string_equal(t->spans[2].parent_span_id, "abc");
    sl_trace_free(t);
    /* A re-delivery collides in span_identity on the stored form. */
    st = (sl_import_stats){0};
    assert_int_equal(sl_ingest_spans(db, sp, 3, &st), SL_OK);
    assert_int_equal(st.duplicates, 3);
    sl_close(db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_hex),
        cmocka_unit_test(test_encode_text),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_sql_round_trip),
        cmocka_unit_test(test_sql_stored_passes_blobs),
        cmocka_unit_test(test_names_one_list),
        cmocka_unit_test(test_warehouse_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
