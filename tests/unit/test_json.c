/*
 * test_json.c -- the exact JSON layer of json.h: long integers read from
 * their text, reals remembered as written, the compact writer, string
 * escaping, decimal seconds to nanoseconds, and parse errors.
 *
 * Golden values are worked by hand from the inputs and spelled out beside
 * them: e.g. 1000.1 s = 1000 s + 0.1 s = 1000000000000 + 100000000 ns, and
 * byte offsets are counted character by character (1-based) in the input
 * text.  Nothing here is pasted from the library's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"

/* ---- helpers ---- */

/* Parse a NUL-terminated text, failing the test with the parser's message. */
static cJSON *parse_ok(const char *text)
{
    char err[160] = "";
    cJSON *root = sl_json_parse(text, strlen(text), err, sizeof err);
    if (!root) fail_msg("sl_json_parse(%s) failed: %s", text, err);
    return root;
}

/* Parse text that must be rejected; returns the message. */
static void parse_bad(const char *text, char *err, size_t errlen)
{
    err[0] = '\0';
    cJSON *root = sl_json_parse(text, strlen(text), err, errlen);
    if (root) {
        cJSON_Delete(root);
        fail_msg("sl_json_parse accepted %s", text);
    }
    assert_true(err[0] != '\0');
}

/* Parse, write back with sl_jw_cjson(), and compare with want. */
static void assert_rewrites(const char *text, const char *want)
{
    cJSON *root = parse_ok(text);
    sl_buf b = SL_BUF_INIT;
    sl_jw_cjson(&b, root);
    assert_false(b.oom);
    assert_string_equal(b.p, want);
    sl_buf_free(&b);
    cJSON_Delete(root);
}

static int64_t member_int64(const cJSON *o, const char *key)
{
    int64_t v = 0;
    const cJSON *it = sl_json_get(o, key);
    assert_non_null(it);
    if (sl_json_int64(it, &v) != 0) fail_msg("sl_json_int64(%s) failed", key);
    return v;
}

static void assert_seconds(const char *text, int64_t want)
{
    int64_t got = -7;
    if (sl_parse_seconds_ns(text, &got) != 0) fail_msg("sl_parse_seconds_ns(\"%s\") failed", text);
    if (got != want)
        fail_msg("sl_parse_seconds_ns(\"%s\") = %lld, want %lld", text, (long long)got,
                 (long long)want);
}

static void assert_seconds_bad(const char *text)
{
    int64_t got = -7;
    if (sl_parse_seconds_ns(text, &got) == 0)
        fail_msg("sl_parse_seconds_ns(\"%s\") accepted it as %lld", text, (long long)got);
}

/* ---- long integers ---- */

static void test_long_integers_exact(void **state)
{
    (void)state;
    /* 1700000000123456789 is 2023-11-14T22:13:20.123456789Z in ns; as a
     * double it would become 1700000000123456768 (ulp 256 at that size). */
    cJSON *o = parse_ok("{\"t\":1700000000123456789,\"neg\":-1700000000123456789,"
                        "\"s\":\"1700000000123456790\",\"max\":9223372036854775807,"
                        "\"min\":-9223372036854775808,\"short\":123456789012345,"
                        "\"sixteen\":1234567890123457}");
    assert_true(member_int64(o, "t") == 1700000000123456789LL);
    assert_true(member_int64(o, "neg") == -1700000000123456789LL);
    assert_true(member_int64(o, "s") == 1700000000123456790LL);
    assert_true(member_int64(o, "max") == INT64_MAX);
    assert_true(member_int64(o, "min") == INT64_MIN);
    assert_true(member_int64(o, "short") == 123456789012345LL);
    assert_true(member_int64(o, "sixteen") == 1234567890123457LL);
    /* A long integer is an integer, not a real. */
    assert_false(sl_json_is_real(sl_json_get(o, "t")));
    cJSON_Delete(o);
}

static void test_int64_rejects(void **state)
{
    (void)state;
    int64_t v;
    /* one past INT64_MAX, a fraction, a non-number string, a boolean */
    cJSON *o = parse_ok("{\"over\":9223372036854775808,\"frac\":1.5,\"word\":\"12ab\","
                        "\"empty\":\"\",\"b\":true,\"nul\":null}");
    assert_int_equal(sl_json_int64(sl_json_get(o, "over"), &v), -1);
    assert_int_equal(sl_json_int64(sl_json_get(o, "frac"), &v), -1);
    assert_int_equal(sl_json_int64(sl_json_get(o, "word"), &v), -1);
    assert_int_equal(sl_json_int64(sl_json_get(o, "empty"), &v), -1);
    assert_int_equal(sl_json_int64(sl_json_get(o, "b"), &v), -1);
    assert_int_equal(sl_json_int64(sl_json_get(o, "nul"), &v), -1);
    assert_int_equal(sl_json_int64(sl_json_get(o, "absent"), &v), -1);
    cJSON_Delete(o);

    assert_int_equal(sl_parse_int64("42", &v), 0);
    assert_true(v == 42);
    assert_int_equal(sl_parse_int64("-1700000000123456789", &v), 0);
    assert_true(v == -1700000000123456789LL);
    assert_int_equal(sl_parse_int64("", &v), -1);
    assert_int_equal(sl_parse_int64("4 2", &v), -1);
    assert_int_equal(sl_parse_int64("9223372036854775808", &v), -1);
}

/* ---- reals ---- */

static void test_reals_flagged(void **state)
{
    (void)state;
    cJSON *o = parse_ok("{\"a\":1.0,\"b\":1,\"c\":1e3,\"d\":1000.125,\"e\":-0.5E-3,\"f\":\"1.5\"}");
    assert_true(sl_json_is_real(sl_json_get(o, "a")));
    assert_false(sl_json_is_real(sl_json_get(o, "b")));
    assert_true(sl_json_is_real(sl_json_get(o, "c")));
    assert_true(sl_json_is_real(sl_json_get(o, "d")));
    assert_true(sl_json_is_real(sl_json_get(o, "e")));
    assert_false(sl_json_is_real(sl_json_get(o, "f"))); /* a string, not a number */

    assert_string_equal(sl_json_number_text(sl_json_get(o, "a")), "1.0");
    assert_string_equal(sl_json_number_text(sl_json_get(o, "c")), "1e3");
    assert_string_equal(sl_json_number_text(sl_json_get(o, "d")), "1000.125");
    assert_string_equal(sl_json_number_text(sl_json_get(o, "e")), "-0.5E-3");
    assert_null(sl_json_number_text(sl_json_get(o, "b")));
    assert_null(sl_json_number_text(sl_json_get(o, "f")));

    double d;
    assert_int_equal(sl_json_double(sl_json_get(o, "d"), &d), 0);
    assert_true(d == 1000.125); /* exactly representable: 1000 + 1/8 */
    assert_int_equal(sl_json_double(sl_json_get(o, "f"), &d), 0);
    assert_true(d == 1.5);
    cJSON_Delete(o);
}

/* ---- writer ---- */

static void test_writer_round_trip(void **state)
{
    (void)state;
    /* Reals keep their text, integers stay integers, long integers are
     * written unquoted, strings that merely look like numbers stay strings. */
    assert_rewrites("{\"a\":1.0,\"b\":1}", "{\"a\":1.0,\"b\":1}");
    assert_rewrites("{\"t\":1700000000123456789}", "{\"t\":1700000000123456789}");
    assert_rewrites("{\"s\":\"1700000000123456789\"}", "{\"s\":\"1700000000123456789\"}");
    assert_rewrites("[1.50,-2,0,-0.0,2.5e-3,12345678901234567890123]",
                    "[1.50,-2,0,-0.0,2.5e-3,12345678901234567890123]");
    assert_rewrites("{ \"n\" : null , \"t\" : true , \"f\" : false , \"o\" : { } , \"a\" : [ ] }",
                    "{\"n\":null,\"t\":true,\"f\":false,\"o\":{},\"a\":[]}");
    /* Token order across nesting: keys holding digits and ':' in strings
     * must not shift which number is which. */
    assert_rewrites("{\"k1\":\"v:1\",\"2\":[3.0,\"4\",{\"x:5\":6,\"y\":1700000000123456789}],"
                    "\"z\":-0.5e-3,\"w\":7}",
                    "{\"k1\":\"v:1\",\"2\":[3.0,\"4\",{\"x:5\":6,\"y\":1700000000123456789}],"
                    "\"z\":-0.5e-3,\"w\":7}");
    /* Escapes inside strings (an escaped quote, a backslash before the
     * closing quote) must not confuse number detection. */
    assert_rewrites("{\"q\":\"a\\\"1.0\\\\\",\"n\":2}", "{\"q\":\"a\\\"1.0\\\\\",\"n\":2}");
}

static void test_writer_numbers(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    sl_jw_int(&b, 1700000000123456789LL);
    sl_buf_putc(&b, ' ');
    sl_jw_int(&b, INT64_MIN);
    sl_buf_putc(&b, ' ');
    sl_jw_double(&b, 1.0);   /* integral value keeps ".0" */
    sl_buf_putc(&b, ' ');
    sl_jw_double(&b, 0.1);   /* shortest text that reads back as 0.1 */
    sl_buf_putc(&b, ' ');
    sl_jw_double(&b, -2.5);
    assert_string_equal(b.p, "1700000000123456789 -9223372036854775808 1.0 0.1 -2.5");
    sl_buf_free(&b);
}

static void test_string_escaping(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT;
    /* quote, backslash, the named control escapes, other controls as
     * \u00XX (lower-case hex), and UTF-8 (é = C3 A9, € = E2 82 AC,
     * U+1F600 = F0 9F 98 80) and DEL passed through untouched. */
    sl_jw_string(&b, "a\"b\\c\n\t\r\b\f\x01\x1f\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/");
    assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\x7f"
                             "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\"");
    sl_buf_reset(&b);
    sl_jw_string(&b, NULL);
    assert_string_equal(b.p, "null");
    sl_buf_reset(&b);
    sl_jw_stringn(&b, "a\0b", 3); /* an embedded NUL is escaped, not a terminator */
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.p, "\"a\\u0000b\"", 10);
    sl_buf_reset(&b);
    int first = 1;
    sl_buf_putc(&b, '{');
    sl_jw_key(&b, "k\"1", &first);
    sl_jw_int(&b, 1);
    sl_jw_key(&b, "k2", &first);
    sl_jw_string(&b, "");
    sl_buf_putc(&b, '}');
    assert_string_equal(b.p, "{\"k\\\"1\":1,\"k2\":\"\"}");
    sl_buf_free(&b);

    /* Parsed escapes come back as the same escapes. */
    assert_rewrites("{\"k\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00e9\"}",
                    "{\"k\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xc3\xa9\"}");
}

/* ---- seconds to nanoseconds ---- */

static void test_seconds_exact(void **state)
{
    (void)state;
    assert_seconds("1000.1", 1000100000000LL);       /* 1000e9 + 0.1e9 */
    assert_seconds("0.000000001", 1);                /* one nanosecond */
    assert_seconds("-1.5", -1500000000LL);
    assert_seconds("1000", 1000000000000LL);
    assert_seconds("1000.0", 1000000000000LL);
    assert_seconds("1000.125", 1000125000000LL);
    assert_seconds("0.5", 500000000LL);
    assert_seconds("0.15", 150000000LL);
    assert_seconds("+2.25", 2250000000LL);
    assert_seconds("1e3", 1000000000000LL);          /* exponent form */
    /* 9 decimals at epoch magnitude: a double holds only ~7 of them here. */
    assert_seconds("1700000000.123456789", 1700000000123456789LL);
    /* 9200000000 s = 9.2e18 ns, still below INT64_MAX = 9223372036854775807 */
    assert_seconds("9200000000", 9200000000000000000LL);
}

static void test_seconds_bad(void **state)
{
    (void)state;
    const char *bad[] = {"", "abc", "1.2.3", "1,5", " 1", "1 ", "-", ".", "1e", "--1", "1s",
                         "0x10", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_seconds_bad(bad[i]);
}

static void test_seconds_out_of_range(void **state)
{
    (void)state;
    /* INT64_MAX ns is 9223372036.854775807 s: anything larger must be
     * refused, not wrapped around. */
    assert_seconds_bad("9300000000");
    assert_seconds_bad("99999999999");
    assert_seconds_bad("-9300000000.5");
}

/* ---- errors ---- */

static void test_parse_errors(void **state)
{
    (void)state;
    char err[160];
    /* {"a":1,"b":x}: '{'=1 '"a"'=2-4 ':'=5 '1'=6 ','=7 '"b"'=8-10 ':'=11 'x'=12 */
    parse_bad("{\"a\":1,\"b\":x}", err, sizeof err);
    if (!strstr(err, "byte 12")) fail_msg("offset of the bad byte: want \"byte 12\" in \"%s\"", err);

    /* trailing garbage after a complete value; '{"a":1}' is bytes 1-7, ' ' 8, 'x' 9 */
    parse_bad("{\"a\":1} x", err, sizeof err);
    if (!strstr(err, "trailing")) fail_msg("want \"trailing\" in \"%s\"", err);
    if (!strstr(err, "byte 9")) fail_msg("want \"byte 9\" in \"%s\"", err);
    parse_bad("{\"a\":1}{\"b\":2}", err, sizeof err);
    parse_bad("{\"a\":1},", err, sizeof err);

    parse_bad("", err, sizeof err);
    parse_bad("{\"a\":", err, sizeof err);
    parse_bad("{\"a\":1", err, sizeof err);
    parse_bad("{\"a\":\"unterminated}", err, sizeof err);
    parse_bad("{a:1}", err, sizeof err);
    parse_bad("{\"a\":01x}", err, sizeof err);

    /* Trailing whitespace (as left by CRLF files) is fine. */
    cJSON *o = parse_ok("{\"a\":1} \t\r\n");
    cJSON_Delete(o);

    /* len bounds the text: bytes after it are not looked at. */
    const char *text = "{\"a\":2}GARBAGE";
    o = sl_json_parse(text, 7, err, sizeof err);
    assert_non_null(o);
    assert_true(member_int64(o, "a") == 2);
    cJSON_Delete(o);
}

static void test_parse_error_offset_after_long_integer(void **state)
{
    (void)state;
    char err[160];
    /* {"t":1700000000123456789,"b":x}: '{'=1 '"t"'=2-4 ':'=5, 19 digits =
     * 6-24, ','=25 '"b"'=26-28 ':'=29 'x'=30.  The offset must count bytes
     * of the input, not of any rewritten copy. */
    parse_bad("{\"t\":1700000000123456789,\"b\":x}", err, sizeof err);
    if (!strstr(err, "byte 30"))
        fail_msg("offset of the bad byte: want \"byte 30\" in \"%s\"", err);
}

static void test_hex_lower(void **state)
{
    (void)state;
    char a[] = "4BF92F3577B34DA6A3CE929D0E0E4736";
    sl_hex_lower(a);
    assert_string_equal(a, "4bf92f3577b34da6a3ce929d0e0e4736");
    char b[] = "Trace-ABC"; /* not all hex: kept as given */
    sl_hex_lower(b);
    assert_string_equal(b, "Trace-ABC");
    char c[] = "00f067aa0ba902b7";
    sl_hex_lower(c);
    assert_string_equal(c, "00f067aa0ba902b7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_integers_exact),
        cmocka_unit_test(test_int64_rejects),
        cmocka_unit_test(test_reals_flagged),
        cmocka_unit_test(test_writer_round_trip),
        cmocka_unit_test(test_writer_numbers),
        cmocka_unit_test(test_string_escaping),
        cmocka_unit_test(test_seconds_exact),
        cmocka_unit_test(test_seconds_bad),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_error_offset_after_long_integer),
        cmocka_unit_test(test_hex_lower),
        /* last: the overflow it probes stops a UBSan build (halt_on_error) */
        cmocka_unit_test(test_seconds_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
