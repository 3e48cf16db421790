/*
 * test_workflow_report.c -- the arithmetic of workflow/report.c and the
 * Python value rules of base/pyvalue.c that the report depends on.
 *
 * Golden values come from Python 3.11 evaluating the same expressions that
 * aggregate_workflows.py evaluates (statistics.mean, statistics.median,
 * round(), f"{x:.1f}", int(), float(), str()); the one-liner that produced
 * each group is quoted above it.  They are not taken from our output.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/pyvalue.h"
#include "workflow/report.h"

#define N(a) (sizeof(a) / sizeof *(a))

/* [max(1, int(round(p/100.0*n))) for p, n in [(90,5),(95,10),(99,50),(99,150),(90,1),
 *  (95,1),(50,3),(50,5),(0,7),(90,15),(95,30)]] -> [4,10,50,148,1,1,2,2,1,14,28] */
static void test_rank_half_to_even(void **state)
{
    (void)state;
    static const struct {
        double p;
        size_t n, rank;
    } cases[] = {{90, 5, 4},  {95, 10, 10}, {99, 50, 50}, {99, 150, 148}, {90, 1, 1}, {95, 1, 1},
                 {50, 3, 2},  {50, 5, 2},   {0, 7, 1},    {90, 15, 14},   {95, 30, 28}};
    for (size_t i = 0; i < N(cases); i++)
        assert_int_equal(sl_wfreport_rank(cases[i].p, cases[i].n), cases[i].rank);
}

/* statistics.mean of ints is exact, then one rounding (float(Fraction)):
 * mean([0,0,0,1]) 0.25; mean([1,2]) 1.5; mean([2**63-1]*2) 9223372036854775807 (printed
 * as float: 9223372036854775808.0); mean([1,2,2]) 1.6666666666666667;
 * mean([2**53+1]*3) 9007199254740993 -> float 9007199254740992.0;
 * mean([2**62, 2**62+1, 2**62+1]) 4.611686018427388e+18; mean([-1,-2]) -1.5;
 * mean([-2**63, -2**63+1]) -9.223372036854776e+18; mean([5]) 5 */
static void test_mean_of_integers(void **state)
{
    (void)state;
    int64_t a[] = {0, 0, 0, 1}, b[] = {1, 2}, c[] = {INT64_MAX, INT64_MAX}, d[] = {1, 2, 2};
    int64_t e[] = {(1LL << 53) + 1, (1LL << 53) + 1, (1LL << 53) + 1};
    int64_t f[] = {1LL << 62, (1LL << 62) + 1, (1LL << 62) + 1}, g[] = {-1, -2};
    int64_t h[] = {INT64_MIN, INT64_MIN + 1}, k[] = {5};
    assert_true(sl_wfreport_mean_i64(a, N(a)) == 0.25);
    assert_true(sl_wfreport_mean_i64(b, N(b)) == 1.5);
    assert_true(sl_wfreport_mean_i64(c, N(c)) == 9223372036854775808.0);
    assert_true(sl_wfreport_mean_i64(d, N(d)) == 1.6666666666666667);
    assert_true(sl_wfreport_mean_i64(e, N(e)) == 9007199254740992.0);
    assert_true(sl_wfreport_mean_i64(f, N(f)) == 4.611686018427388e+18);
    assert_true(sl_wfreport_mean_i64(g, N(g)) == -1.5);
    assert_true(sl_wfreport_mean_i64(h, N(h)) == -9.223372036854776e+18);
    assert_true(sl_wfreport_mean_i64(k, N(k)) == 5.0);
}

/* mean([1e16, 1.0, -1e16]) 0.3333333333333333 (a float sum gives 0.0);
 * mean([0.1, 0.2]) 0.15000000000000002; mean([inf, 5.0]) inf; mean([inf, -inf]) nan;
 * mean([-0.0]) 0.0; mean([1e308, 1e308]) 1e+308 (no overflow); mean([5e-324]*3) 5e-324;
 * mean([0.1]*10) 0.1; mean([1e-300, 1e300, -1e300]) 3.3333333333333334e-301 */
static void test_mean_of_floats(void **state)
{
    (void)state;
    double a[] = {1e16, 1.0, -1e16}, b[] = {0.1, 0.2}, c[] = {INFINITY, 5.0};
    double d[] = {INFINITY, -INFINITY}, e[] = {-0.0}, f[] = {1e308, 1e308};
    double g[] = {5e-324, 5e-324, 5e-324}, h[10], k[] = {1e-300, 1e300, -1e300};
    for (size_t i = 0; i < N(h); i++) h[i] = 0.1;
    assert_true(sl_wfreport_mean_f64(a, N(a)) == 0.3333333333333333);
    assert_true(sl_wfreport_mean_f64(b, N(b)) == 0.15000000000000002);
    assert_true(isinf(sl_wfreport_mean_f64(c, N(c))));
    assert_true(isnan(sl_wfreport_mean_f64(d, N(d))));
    double z = sl_wfreport_mean_f64(e, N(e));
    assert_true(z == 0.0 && !signbit(z));
    assert_true(sl_wfreport_mean_f64(f, N(f)) == 1e308);
    assert_true(sl_wfreport_mean_f64(g, N(g)) == 5e-324);
    assert_true(sl_wfreport_mean_f64(h, N(h)) == 0.1);
    assert_true(sl_wfreport_mean_f64(k, N(k)) == 3.3333333333333334e-301);
}

/* sorted([0.0, -0.0, 1.0, -0.0, -1.0]) keeps the zeros in input order (stable):
 * [-1.0, 0.0, -0.0, -0.0, 1.0] */
static void test_sort_is_stable_for_zeros(void **state)
{
    (void)state;
    double v[] = {0.0, -0.0, 1.0, -0.0, -1.0};
    sl_wfreport_sort_f64(v, N(v));
    assert_true(v[0] == -1.0 && v[4] == 1.0);
    assert_false(signbit(v[1]));
    assert_true(signbit(v[2]) && signbit(v[3]));
    double w[] = {INFINITY, -2.5, 3, -INFINITY, 1e-300, -1e300};
    sl_wfreport_sort_f64(w, N(w));
    for (size_t i = 1; i < N(w); i++) assert_true(w[i - 1] <= w[i]);
    int64_t x[] = {5, -3, INT64_MAX, INT64_MIN, 0, 5, -1};
    sl_wfreport_sort_i64(x, N(x));
    for (size_t i = 1; i < N(x); i++) assert_true(x[i - 1] <= x[i]);
    assert_true(x[0] == INT64_MIN && x[N(x) - 1] == INT64_MAX);
}

/* median([1,2]) 1.5; median([1,2,3]) 2; median([2**63-2, 2**63-1]) 9.223372036854776e+18;
 * median([0.1, 0.2]) 0.15000000000000002; median([-3,-2]) -2.5 */
static void test_median(void **state)
{
    (void)state;
    int64_t a[] = {1, 2}, b[] = {1, 2, 3}, c[] = {INT64_MAX - 1, INT64_MAX}, e[] = {-3, -2};
    double d[] = {0.1, 0.2};
    assert_true(sl_wfreport_median_i64(a, N(a)) == 1.5);
    assert_true(sl_wfreport_median_i64(b, N(b)) == 2.0);
    assert_true(sl_wfreport_median_i64(c, N(c)) == 9.223372036854776e+18);
    assert_true(sl_wfreport_median_f64(d, N(d)) == 0.15000000000000002);
    assert_true(sl_wfreport_median_i64(e, N(e)) == -2.5);
}

static void fmt_is(double x, int prec, const char *want)
{
    sl_buf b = SL_BUF_INIT;
    sl_wfreport_fmt(&b, x, prec);
    assert_string_equal(b.p, want);
    sl_buf_free(&b);
}

/* f"{0.25:.1f}" 0.2; f"{0.35:.1f}" 0.3; f"{1.0005:.3f}" 1.000; f"{-0.0:.1f}" -0.0;
 * f"{float('-inf'):.1f}" -inf; f"{float('nan'):.1f}" nan; f"{1e22:.1f}"
 * 10000000000000000000000.0; f"{0.05:.1f}" 0.1; f"{123456.789e3/1000.0:.3f}" 123456.789 */
static void test_format(void **state)
{
    (void)state;
    fmt_is(0.25, 1, "0.2");
    fmt_is(0.35, 1, "0.3");
    fmt_is(1.0005, 3, "1.000");
    fmt_is(-0.0, 1, "-0.0");
    fmt_is(-INFINITY, 1, "-inf");
    fmt_is(-NAN, 1, "nan");
    fmt_is(1e22, 1, "10000000000000000000000.0");
    fmt_is(0.05, 1, "0.1");
    fmt_is(123456.789e3 / 1000.0, 3, "123456.789");
}

/* 14999.999 >= 15000 False; 15000.0 >= 15000 True; -0.5 >= 0 False; -0.0 >= 0 True;
 * nan >= 0 False; inf >= 2**62 True; 9.3e18 >= 2**63-1 True; -1e19 >= -2**63 False;
 * 9.223372036854775807e18 >= 2**63-1 True; 4611686018427387904.0 >= 4611686018427387905 False */
static void test_float_int_comparison(void **state)
{
    (void)state;
    assert_false(sl_wfreport_ge(14999.999, 15000));
    assert_true(sl_wfreport_ge(15000.0, 15000));
    assert_false(sl_wfreport_ge(-0.5, 0));
    assert_true(sl_wfreport_ge(-0.0, 0));
    assert_false(sl_wfreport_ge(NAN, 0));
    assert_true(sl_wfreport_ge(INFINITY, 1LL << 62));
    assert_true(sl_wfreport_ge(9.3e18, INT64_MAX));
    assert_false(sl_wfreport_ge(-1e19, INT64_MIN));
    assert_true(sl_wfreport_ge(9.223372036854775807e18, INT64_MAX));
    assert_false(sl_wfreport_ge(4611686018427387904.0, 4611686018427387905LL));
}

/* int(s) for s in [" 1_000 ", "0012", "+5", "\u0663", "-0"] -> 1000, 12, 5, 3, 0;
 * ValueError for "1__0", "_1", "1_", "+_1", "1.0", "", " ", "0x10", "1e3" */
static void test_python_int(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t v;
    } ok[] = {{" 1_000 ", 1000}, {"0012", 12}, {"+5", 5}, {"\xd9\xa3", 3}, {"-0", 0},
              {"\xc2\xa0" "42\xe2\x80\x83", 42}, {"-9223372036854775808", INT64_MIN}};
    for (size_t i = 0; i < N(ok); i++) {
        int64_t v = -1;
        assert_int_equal(sl_wfj_int_from_text(ok[i].s, strlen(ok[i].s), &v), 0);
        assert_true(v == ok[i].v);
    }
    static const char *bad[] = {"1__0", "_1", "1_", "+_1", "1.0", "", " ", "0x10", "1e3",
                                "9223372036854775808"};
    for (size_t i = 0; i < N(bad); i++) {
        int64_t v;
        assert_int_equal(sl_wfj_int_from_text(bad[i], strlen(bad[i]), &v), -1);
    }
}

/* float(s): "1_0.5_5e1_0" 105500000000.0, "inf" inf, "-Infinity" -inf, "nAn" nan,
 * " 12 " 12.0, ".5" 0.5, "5." 5.0, "1_000.0" 1000.0; ValueError: "0x1p3", "1_.5", "1e",
 * "e1", "+nan(1)" */
static void test_python_float(void **state)
{
    (void)state;
    double v;
    assert_int_equal(sl_wfj_float_from_text("1_0.5_5e1_0", 11, &v), 0);
    assert_true(v == 105500000000.0);
    assert_int_equal(sl_wfj_float_from_text("inf", 3, &v), 0);
    assert_true(isinf(v) && v > 0);
    assert_int_equal(sl_wfj_float_from_text("-Infinity", 9, &v), 0);
    assert_true(isinf(v) && v < 0);
    assert_int_equal(sl_wfj_float_from_text("nAn", 3, &v), 0);
    assert_true(isnan(v));
    assert_int_equal(sl_wfj_float_from_text(" 12 ", 4, &v), 0);
    assert_true(v == 12.0);
    assert_int_equal(sl_wfj_float_from_text(".5", 2, &v), 0);
    assert_true(v == 0.5);
    assert_int_equal(sl_wfj_float_from_text("5.", 2, &v), 0);
    assert_true(v == 5.0);
    assert_int_equal(sl_wfj_float_from_text("1_000.0", 7, &v), 0);
    assert_true(v == 1000.0);
    static const char *bad[] = {"0x1p3", "1_.5", "1e", "e1", "+nan(1)", "", "1 2"};
    for (size_t i = 0; i < N(bad); i++)
        assert_int_equal(sl_wfj_float_from_text(bad[i], strlen(bad[i]), &v), -1);
}

static void str_is(const char *json, const char *want)
{
    sl_buf c = SL_BUF_INIT, out = SL_BUF_INIT;
    const char *why;
    size_t at;
    int kind = sl_wfj_compact(json, strlen(json), &c, &why, &at);
    assert_true(kind > 0);
    sl_wfj_val v = {kind, c.p, c.len};
    sl_wfj_py_str(&v, &out);
    assert_string_equal(out.p, want);
    sl_buf_free(&c);
    sl_buf_free(&out);
}

/* str(json.loads(x)) for the values: 1e16 -> 1e+16, 1.0 -> 1.0, 1e15 -> 1000000000000000.0,
 * 0.0001 -> 0.0001, 1e-05 -> 1e-05, -0 -> 0, -0.0 -> -0.0, true -> True, null -> None,
 * NaN -> nan, [1, "a", {"b": null}] -> [1, 'a', {'b': None}], {"k": 1, "k": 2} -> {'k': 2},
 * ["it's", "say \"hi\""] -> ["it's", 'say "hi"'], "\u0085\u00e9" -> \x85é (str: raw) */
static void test_python_str(void **state)
{
    (void)state;
    str_is("1e16", "1e+16");
    str_is("1.0", "1.0");
    str_is("1e15", "1000000000000000.0");
    str_is("0.0001", "0.0001");
    str_is("1e-5", "1e-05");
    str_is("-0", "0");
    str_is("-0.0", "-0.0");
    str_is("true", "True");
    str_is("null", "None");
    str_is("NaN", "nan");
    str_is("[1, \"a\", {\"b\": null}]", "[1, 'a', {'b': None}]");
    str_is("{\"k\": 1, \"k\": 2}", "{'k': 2}");
    str_is("[\"it's\", \"say \\\"hi\\\"\"]", "[\"it's\", 'say \"hi\"']");
    str_is("[\"\\u0085\\u00e9\\t\"]", "['\\x85\xc3\xa9\\t']");
    str_is("\"\\u0085\\u00e9\"", "\xc2\x85\xc3\xa9");
}

/* json.loads accepts: NaN, -Infinity, " {} "; rejects: "01", "1.", ".5", "[1,]",
 * "{\"a\":1,}", "\"\\x\"", "\"a<TAB>b\"" (raw control), "-NaN", "\ufeff{}" */
static void test_json_grammar(void **state)
{
    (void)state;
    static const char *ok[] = {"NaN", "-Infinity", " {} ", "[1e400, -0]", "{\"a\":{\"b\":[]}}"};
    static const char *bad[] = {"01", "1.", ".5", "[1,]", "{\"a\":1,}", "\"\\x\"", "\"a\tb\"",
                                "-NaN", "\xef\xbb\xbf{}", "{\"a\" 1}", "", "nul", "{} {}"};
    for (size_t i = 0; i < N(ok); i++) {
        sl_buf c = SL_BUF_INIT;
        const char *why;
        size_t at;
        assert_true(sl_wfj_compact(ok[i], strlen(ok[i]), &c, &why, &at) > 0);
        sl_buf_free(&c);
    }
    for (size_t i = 0; i < N(bad); i++) {
        sl_buf c = SL_BUF_INIT;
        const char *why = NULL;
        size_t at;
        assert_int_equal(sl_wfj_compact(bad[i], strlen(bad[i]), &c, &why, &at), -1);
        assert_non_null(why);
        sl_buf_free(&c);
    }
}

/* Python's str.strip(): "\u00a0 x \u2003\x1f" -> "x"; "\ufeffx" is not stripped */
static void test_strip(void **state)
{
    (void)state;
    const char *s = "\xc2\xa0 x \xe2\x80\x83\x1f";
    size_t n = strlen(s);
    sl_wfj_strip(&s, &n);
    assert_int_equal(n, 1);
    assert_int_equal(s[0], 'x');
    const char *t = "\xef\xbb\xbfx";
    size_t m = strlen(t);
    sl_wfj_strip(&t, &m);
    assert_int_equal(m, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_half_to_even),
        cmocka_unit_test(test_mean_of_integers),
        cmocka_unit_test(test_mean_of_floats),
        cmocka_unit_test(test_sort_is_stable_for_zeros),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_float_int_comparison),
        cmocka_unit_test(test_python_int),
        cmocka_unit_test(test_python_float),
        cmocka_unit_test(test_python_str),
        cmocka_unit_test(test_json_grammar),
        cmocka_unit_test(test_strip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
