/*
 * test_fmt_otlp.c -- attrs.c (OTLP AnyValue <-> stored JSON, the document
 * scanner) and the OTLP format through the public API (sl_open(":memory:")
 * and sl_import_file()).
 *
 * Golden values are worked by hand from the storage rule numbered in
 * attrs.h; the base64 ids were decoded independently with
 *   python3 -c "import base64; print(base64.b64decode('Sc130fnc2TY=').hex())"
 * (49cd77d1f9dcd936) and likewise for the trace id.
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

#include "attrs.h"
#include "format.h"
#include "json.h"
#include "spanlite.h"

/* Named so that the linker takes fmt_otlp.o out of the static library. */
extern const sl_format sl_format_otlp;

/* ---- AnyValue -> stored JSON ---- */

/* The stored form of one AnyValue given as JSON text; NULL on error. */
static char *from_anyvalue(const char *av)
{
    char err[128];
    cJSON *t = sl_json_parse(av, strlen(av), err, sizeof err);
    assert_non_null(t);
    sl_buf b = SL_BUF_INIT;
    int rc = sl_attr_from_anyvalue(&b, t, err, sizeof err);
    cJSON_Delete(t);
    if (rc) {
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_take(&b);
}

static void check_from(const char *av, const char *want)
{
    char *got = from_anyvalue(av);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_anyvalue_scalars(void **state)
{
    (void)state;
    check_from("{\"stringValue\":\"a\\\"b\"}", "\"a\\\"b\"");
    check_from("{\"boolValue\":true}", "true");
    check_from("{\"bool_value\":false}", "false");
    check_from("{\"intValue\":\"200\"}", "200");
    check_from("{\"intValue\":-7}", "-7");
    /* int64 limits, as strings and as bare literals (rule 3) */
    check_from("{\"intValue\":\"9223372036854775807\"}", "9223372036854775807");
    check_from("{\"intValue\":\"-9223372036854775808\"}", "-9223372036854775808");
    check_from("{\"intValue\":1234567890123456789}", "1234567890123456789");
    /* rule 4: a double always keeps a fraction or an exponent */
    check_from("{\"doubleValue\":3}", "3.0");
    check_from("{\"doubleValue\":0.1}", "0.1");
    check_from("{\"doubleValue\":2.5e-07}", "2.5e-07");
    check_from("{\"doubleValue\":\"1.5\"}", "1.5");
    check_from("{\"doubleValue\":\"NaN\"}", "\"NaN\"");
    check_from("{\"doubleValue\":\"-Infinity\"}", "\"-Infinity\"");
    check_from("{\"bytesValue\":\"AAAwOQ==\"}", "{\"$bytes\":\"AAAwOQ==\"}");
    check_from("{}", "null");
    check_from("{\"unknownValue\":1}", "null");
}

static void test_anyvalue_nested(void **state)
{
    (void)state;
    check_from("{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"intValue\":\"7\"},"
               "{\"arrayValue\":{\"values\":[{\"boolValue\":true}]}}]}}",
               "[\"a\",7,[true]]");
    check_from("{\"arrayValue\":{}}", "[]");
    check_from("{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":{\"doubleValue\":1}},"
               "{\"key\":\"m\",\"value\":{\"kvlistValue\":{\"values\":[]}}}]}}",
               "{\"k\":1.0,\"m\":{}}");
}

static void test_anyvalue_errors(void **state)
{
    (void)state;
    assert_null(from_anyvalue("{\"intValue\":\"12x\"}"));
    assert_null(from_anyvalue("{\"intValue\":\"99999999999999999999\"}")); /* > int64 */
    assert_null(from_anyvalue("{\"intValue\":1.5}"));
    assert_null(from_anyvalue("{\"boolValue\":1}"));
    assert_null(from_anyvalue("{\"stringValue\":3}"));
    assert_null(from_anyvalue("\"bare\""));
    assert_null(from_anyvalue("{\"kvlistValue\":{\"values\":[{\"value\":{}}]}}")); /* no key */
}

static void test_keyvalues(void **state)
{
    (void)state;
    const char *kvs = "[{\"key\":\"a\",\"value\":{\"stringValue\":\"x\"}},{\"key\":\"b\"},"
                      "{\"key\":\"c\",\"value\":{\"intValue\":\"1\"}}]";
    char err[128];
    cJSON *t = sl_json_parse(kvs, strlen(kvs), err, sizeof err);
    sl_buf b = SL_BUF_INIT;
    assert_int_equal(sl_attr_from_keyvalues(&b, t, err, sizeof err), 3);
    assert_string_equal(b.p, "{\"a\":\"x\",\"b\":null,\"c\":1}");
    sl_buf_reset(&b);
    assert_int_equal(sl_attr_from_keyvalues(&b, NULL, err, sizeof err), 0);
    assert_string_equal(b.p, "{}");
    sl_buf_free(&b);
    cJSON_Delete(t);
}

/* ---- stored JSON -> AnyValue ---- */

static void check_to(const char *stored, const char *want)
{
    char err[128];
    cJSON *t = sl_json_parse(stored, strlen(stored), err, sizeof err);
    assert_non_null(t);
    sl_buf b = SL_BUF_INIT;
    sl_attr_to_anyvalue(&b, t);
    assert_string_equal(b.p, want);
    sl_buf_free(&b);
    cJSON_Delete(t);
}

static void test_to_anyvalue(void **state)
{
    (void)state;
    check_to("\"s\"", "{\"stringValue\":\"s\"}");
    check_to("true", "{\"boolValue\":true}");
    check_to("42", "{\"intValue\":\"42\"}");
    check_to("9223372036854775807", "{\"intValue\":\"9223372036854775807\"}");
    check_to("\"9223372036854775807\"", "{\"stringValue\":\"9223372036854775807\"}");
    check_to("3.0", "{\"doubleValue\":3.0}");
    check_to("1e3", "{\"doubleValue\":1000.0}");
    check_to("null", "{}");
    check_to("{\"$bytes\":\"AAAwOQ==\"}", "{\"bytesValue\":\"AAAwOQ==\"}");
    /* "$bytes" with company is an ordinary kvlist */
    check_to("{\"$bytes\":\"x\",\"y\":1}",
             "{\"kvlistValue\":{\"values\":[{\"key\":\"$bytes\",\"value\":{\"stringValue\":\"x\"}},"
             "{\"key\":\"y\",\"value\":{\"intValue\":\"1\"}}]}}");
    check_to("[1,\"a\"]", "{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{\"stringValue\":\"a\"}]}}");
}

static void test_type_of(void **state)
{
    (void)state;
    const char *doc = "{\"s\":\"x\",\"i\":1,\"big\":12345678901234567890,\"d\":1.0,\"b\":false,"
                      "\"y\":{\"$bytes\":\"AA==\"},\"a\":[],\"k\":{},\"n\":null}";
    char err[128];
    cJSON *t = sl_json_parse(doc, strlen(doc), err, sizeof err);
    assert_non_null(t);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "s")), SL_ATTR_STRING);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "i")), SL_ATTR_INT);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "d")), SL_ATTR_DOUBLE);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "b")), SL_ATTR_BOOL);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "y")), SL_ATTR_BYTES);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "a")), SL_ATTR_ARRAY);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "k")), SL_ATTR_KVLIST);
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "n")), SL_ATTR_EMPTY);
    /* 12345678901234567890 > INT64_MAX: an integer literal no int64 holds */
    assert_int_equal(sl_attr_type_of(sl_json_get(t, "big")), SL_ATTR_DOUBLE);
    assert_true(sl_attr_double(sl_json_get(t, "big")) == 12345678901234567890.0);
    int64_t v;
    assert_int_equal(sl_attr_int(sl_json_get(t, "big"), &v), -1);
    assert_int_equal(sl_attr_int(sl_json_get(t, "i"), &v), 0);
    assert_int_equal(v, 1);
    cJSON_Delete(t);
}

/* ---- scanner ---- */

static void test_jscan(void **state)
{
    (void)state;
    const char *doc = " {\"a\" : [1, {\"x\":\"}\\\"]\"}], \"b\":\"q\\\\\", \"c\":true } tail";
    const char *end = doc + strlen(doc);
    const char *p = sl_jscan_ws(doc, end);
    const char *e = sl_jscan_skip(p, end);
    assert_non_null(e);
    assert_string_equal(e, " tail");
    sl_jscan it;
    const char *k, *v, *ve;
    size_t kl;
    assert_int_equal(sl_jscan_open(&it, p, end, '{'), 0);
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), 1);
    assert_true(sl_jscan_key_is(k, kl, "a"));
    assert_int_equal((int)(ve - v), (int)strlen("[1, {\"x\":\"}\\\"]\"}]"));
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), 1);
    assert_true(sl_jscan_key_is(k, kl, "b"));
    assert_int_equal(sl_jscan_enter(&it, &k, &kl, &v), 1);
    assert_true(sl_jscan_key_is(k, kl, "c"));
    sl_jscan_resume(&it, v + 4);
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), 0);
    assert_ptr_equal(it.p, e);

    const char *bad[] = {"{\"a\":[1,2}", "{\"a\":\"unterminated}", "[[[", "{\"a\" 1}"};
    for (size_t i = 0; i < 3; i++) assert_null(sl_jscan_skip(bad[i], bad[i] + strlen(bad[i])));
    assert_int_equal(sl_jscan_open(&it, bad[3], bad[3] + strlen(bad[3]), '{'), 0);
    assert_int_equal(sl_jscan_next(&it, &k, &kl, &v, &ve), -1);
    /* a byte order mark is whitespace */
    const char *bom = "\xEF\xBB\xBF {}";
    assert_ptr_equal(sl_jscan_ws(bom, bom + strlen(bom)), bom + 4);
}

/* ---- the format through the public API ---- */

typedef struct rejects {
    int n;
    uint64_t lines[8];
    char reasons[8][128];
} rejects;

static void on_reject(void *ctx, const char *source, uint64_t line, const char *reason,
                      const char *record, size_t len)
{
    rejects *r = ctx;
    (void)source, (void)record, (void)len;
    if (r->n < 8) {
        r->lines[r->n] = line;
        snprintf(r->reasons[r->n], sizeof r->reasons[0], "%s", reason);
    }
    r->n++;
}

/* Import text (written to a temporary file) into a fresh in-memory warehouse. */
static sl_db *import_text(const char *text, const char *format, rejects *rj, sl_import_stats *st)
{
    char path[] = "/tmp/test_fmt_otlp.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sl_db *db = NULL;
    assert_int_equal(sl_open(":memory:", 0, &db), SL_OK);
    sl_import_opts o = {format, NULL, on_reject, NULL, rj};
    memset(rj, 0, sizeof *rj);
    memset(st, 0, sizeof *st);
    int rc = sl_import_file(db, path, &o, st);
    unlink(path);
    if (rc != SL_OK && rc != SL_INVALID) fail_msg("sl_import_file: %d %s", rc, sl_errmsg(db));
    return db;
}

/* The single text value of sql, copied into out. */
static void query_text(sl_db *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, cap, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
}

static void test_tempo_batches_base64(void **state)
{
    (void)state;
    const char *doc =
        "{\"batches\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        "{\"stringValue\":\"gw\"}}]},\"scopeSpans\":[{\"scope\":{},\"spans\":[{\"traceId\":"
        "\"O6VWCcPN5JZJzXfR+dzZNg==\",\"spanId\":\"Sc130fnc2TY=\",\"name\":\"op\",\"kind\":"
        "\"SPAN_KIND_CLIENT\",\"startTimeUnixNano\":\"1701779876570888000\",\"endTimeUnixNano\":"
        "\"1701779876582820000\",\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"m\"}}]}]}]}";
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(doc, NULL, &rj, &st); /* auto-detected */
    assert_int_equal(rj.n, 0);
    assert_int_equal(st.imported, 1);
    char got[256];
    query_text(db,
               "SELECT trace_id||' '||span_id||' '||service||' '||kind||' '||status||' '||"
               "status_message||' '||duration_ns||' '||(scope IS NULL) FROM spans",
               got, sizeof got);
    assert_string_equal(got, "3ba55609c3cde49649cd77d1f9dcd936 49cd77d1f9dcd936 gw client error m 11932000 1");
    sl_close(db);
}

static void test_json_lines_rejects(void **state)
{
    (void)state;
    const char *text =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"01\","
        "\"name\":\"x\",\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"7\"}]}]}]}\n"
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"02\","
        "\"name\":\"y\",\"startTimeUnixNano\":\"5\"}]}]}]}\n"
        "{\"resourceSpans\":[\n"
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"03\","
        "\"name\":\"z\",\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"5\"}]}]}]}\n";
    rejects rj;
    sl_import_stats st;
    sl_db *db = import_text(text, "otlp", &rj, &st);
    assert_int_equal(st.imported, 2);
    assert_int_equal(rj.n, 2);
    assert_int_equal(rj.lines[0], 2);
    assert_string_equal(rj.reasons[0], "missing endTimeUnixNano");
    assert_int_equal(rj.lines[1], 3);
    char got[64];
    query_text(db, "SELECT group_concat(span_id) FROM (SELECT span_id FROM spans ORDER BY span_id)", got,
               sizeof got);
    assert_string_equal(got, "01,03");
    query_text(db, "SELECT service FROM spans LIMIT 1", got, sizeof got);
    assert_string_equal(got, "unknown_service");
    sl_close(db);
}

static void test_detect(void **state)
{
    (void)state;
    const char *otlp = "\xEF\xBB\xBF{\"resourceSpans\":[";
    assert_true(sl_format_otlp.detect(otlp, strlen(otlp)) > 0);
    const char *tempo = "{\n  \"batches\": [";
    assert_true(sl_format_otlp.detect(tempo, strlen(tempo)) > 0);
    const char *native = "{\"trace_id\":\"a\",\"span_id\":\"b\"}";
    assert_int_equal(sl_format_otlp.detect(native, strlen(native)), 0);
    const char *jaeger = "{\"data\":[{\"traceID\":\"a\",\"spans\":[]}]}";
    assert_int_equal(sl_format_otlp.detect(jaeger, strlen(jaeger)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anyvalue_scalars),   cmocka_unit_test(test_anyvalue_nested),
        cmocka_unit_test(test_anyvalue_errors),    cmocka_unit_test(test_keyvalues),
        cmocka_unit_test(test_to_anyvalue),        cmocka_unit_test(test_type_of),
        cmocka_unit_test(test_jscan),              cmocka_unit_test(test_tempo_batches_base64),
        cmocka_unit_test(test_json_lines_rejects), cmocka_unit_test(test_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
