/*
 * test_timeparse.c -- the one time, date and duration parser
 * (src/base/timeparse.h, rules T1-T9 and D1-D4; public as sl_parse_time and
 * sl_parse_duration of spanlite.h).
 *
 * Every case of ISSUE11 item 5 is here (2023-02-31, years 2300 and 9999,
 * +99:99, inf, nan, 1e30s, 9999999999h, 0x10ms), with the edges around them.
 * Golden nanoseconds were computed independently of this parser with
 * Python: (calendar.timegm((y, mo, d, h, mi, s)) - offset_minutes * 60)
 * * 10**9 + fraction_ns, and fractions.Fraction for the exact durations
 * (Fraction("1.0000000005") * 3600 * 10**9 = 3600000001800); the int64
 * ends are -2**63 and 2**63 - 1.  Each table row names the rule it checks.
 * Refusals check the reason's wording too (a fragment of it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spanlite.h"
#include "base/timeparse.h"

#define NOW 1700000000000000000LL /* 2023-11-14T22:13:20Z */

typedef struct tcase {
    const char *text;
    int ok;             /* 1: accepted as want; 0: refused with a reason containing why */
    int64_t want;
    const char *why;
} tcase;

#define OK(t, v) {t, 1, v, NULL}
#define NO(t, w) {t, 0, 0, w}

/* Run a table through parse; every mismatch is printed, then the test fails
 * with their count. */
static void run(const char *what, const tcase *c, size_t n,
                int (*parse)(const char *, int64_t *, const char **))
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t got = 12345;
        const char *why = NULL;
        int rc = parse(c[i].text, &got, &why);
        if (c[i].ok && (rc != SL_OK || got != c[i].want)) {
            print_error("%s(\"%s\"): rc %d value %lld, want %lld (%s)\n", what, c[i].text, rc,
                        (long long)got, (long long)c[i].want, why ? why : "");
            bad++;
        } else if (!c[i].ok && (rc != SL_INVALID || !why || !strstr(why, c[i].why) || got != 12345)) {
            print_error("%s(\"%s\"): rc %d value %lld reason \"%s\", want SL_INVALID, \"%s\"\n",
                        what, c[i].text, rc, (long long)got, why ? why : "(null)", c[i].why);
            bad++;
        }
    }
    if (bad) fail_msg("%d of %zu %s cases wrong", bad, n, what);
}

static int p_time(const char *s, int64_t *ns, const char **why) { return sl_parse_time(s, NOW, ns, why); }
static int p_abs(const char *s, int64_t *ns, const char **why) { return sl_time_parse(s, 0, NOW, ns, why); }
static int p_dur(const char *s, int64_t *ns, const char **why) { return sl_parse_duration(s, ns, why); }

#define RANGE "int64 nanosecond range"

static const tcase dates[] = {
    OK("1970-01-01", 0),                                          /* T1 */
    OK("2024-02-29", 1709164800000000000LL),                      /* T3: leap year */
    OK("2000-02-29", 951782400000000000LL),                       /* T3: divisible by 400 */
    NO("2023-02-29", "no such day in that month"),                /* ISSUE11 */
    NO("2023-02-31", "no such day in that month"),                /* ISSUE11 */
    NO("1900-02-29", "no such day in that month"),                /* divisible by 100 */
    NO("2024-04-31", "no such day in that month"),
    NO("2024-01-00", "no such day in that month"),
    NO("2024-13-01", "month must be 01-12"),
    NO("2024-00-10", "month must be 01-12"),
    NO("2024-5-01", "expected YYYY-MM-DD"),
    NO("24-05-01", "not a time"),
    NO("2300-01-01", RANGE),                                      /* ISSUE11: year 2300 */
    NO("9999-12-31", RANGE),                                      /* ISSUE11: --since 9999-12-31 */
    NO("2262-04-12", RANGE),
    NO("1677-09-21", RANGE),                                      /* midnight is before 00:12:43 */
    NO("0000-01-01", RANGE),
    NO("2024-05-01Z", "a zone needs a time"),
    NO("2024-05-01+02:00", "a zone needs a time"),
};

static const tcase datetimes[] = {
    OK("2024-05-01T12:00:00Z", 1714564800000000000LL),            /* T2 */
    OK("2024-05-01t12:00:00z", 1714564800000000000LL),
    OK("2024-05-01 12:00:00", 1714564800000000000LL),             /* no zone = UTC */
    OK("2024-05-01T12:00", 1714564800000000000LL),
    OK("2024-05-01T12:00:00.123456789+02:00", 1714557600123456789LL),
    OK("2024-05-01T12:00:00+0200", 1714557600000000000LL),
    OK("2024-05-01T12:00+02", 1714557600000000000LL),
    OK("2024-05-01T12:00:00-05:30", 1714584600000000000LL),
    OK("2024-05-01T12:00:00+23:59", 1714564800000000000LL - (23 * 60 + 59) * 60000000000LL),
    OK("2024-05-01T12:00:00,5Z", 1714564800500000000LL),
    OK("2024-12-31T23:59:59.999999999-00:00", 1735689599999999999LL),
    OK("2024-12-31T23:59:59.9999999995Z", 1735689600000000000LL), /* T5: rounds up */
    OK("2024-05-01T12:00:00.1234567894Z", 1714564800123456789LL), /* T5: rounds down */
    OK("2024-05-01T12:00:00.1234567895Z", 1714564800123456790LL),
    OK("1969-12-31T23:59:59.5Z", -500000000LL),
    OK("2016-12-31T23:59:60Z", 1483228800000000000LL),            /* T4: = 2017-01-01 */
    OK("2015-06-30T23:59:60Z", 1435708800000000000LL),
    OK("2017-01-01T05:29:60+05:30", 1483228800000000000LL),       /* 23:59:60 UTC */
    OK("1677-09-21T00:12:43.145224192Z", INT64_MIN),              /* T9: the ends */
    OK("2262-04-11T23:47:16.854775807Z", INT64_MAX),
    NO("1677-09-21T00:12:43.145224191Z", RANGE),
    NO("2262-04-11T23:47:16.854775808Z", RANGE),
    NO("2262-04-11T23:47:17Z", RANGE),
    /* The range is checked on the instant, after the zone, not on the date. */
    OK("2262-04-12T00:00:00+23:59", 9223286460000000000LL),       /* 2262-04-11T00:01Z */
    OK("1677-09-20T23:59:00-00:30", -9223371060000000000LL),      /* 1677-09-21T00:29Z */
    NO("2024-05-01T12:00:00+99:99", "zone hours must be 00-23"),  /* ISSUE11 */
    NO("2024-05-01T12:00+24:00", "zone hours must be 00-23"),
    NO("2024-05-01T12:00+23:60", "zone minutes must be 00-59"),
    NO("2024-05-01T12:00+2:00", "expected a zone"),
    NO("2024-05-01T12:00+02:0", "zone minutes"),
    NO("2024-05-01T12:00+02:00:00", "unexpected text"),
    NO("2024-05-01T24:00", "hour must be 00-23"),
    NO("2024-05-01T12:60", "minute must be 00-59"),
    NO("2024-05-01T12:00:61", "second must be 00-59"),
    NO("2024-05-01T12:00:60Z", "leap second"),
    NO("2016-12-30T23:59:60Z", "leap second"),
    NO("2016-12-31T23:59:60+01:00", "leap second"),              /* 22:59:60 UTC */
    NO("2024-05-01T", "expected hh:mm"),
    NO("2024-05-01T12", "expected hh:mm"),
    NO("2024-05-01T1:00", "expected hh:mm"),
    NO("2024-05-01T12:00:0", "two digits of seconds"),
    NO("2024-05-01T12:00:00.", "digits after the decimal point"),
    NO("2024-05-01T12:00:00Zjunk", "unexpected text"),
    NO("2024-05-01 ", "expected hh:mm"),
};

static const tcase epochs[] = {
    OK("0", 0),                                                   /* T6 */
    OK("1714523400", 1714523400000000000LL),                      /* seconds */
    OK("-1714523400", -1714523400000000000LL),
    OK("1714525200000", 1714525200000000000LL),                   /* milliseconds */
    OK("100000000000", 100000000000000000LL),                     /* 1e11: ms */
    OK("1714523400000000", 1714523400000000000LL),                /* microseconds */
    OK("1714523400000000000", 1714523400000000000LL),             /* nanoseconds */
    OK("9223372036854775807", INT64_MAX),
    OK("-9223372036854775808", INT64_MIN),
    OK("1700000000.25", 1700000000250000000LL),                   /* T7: seconds */
    OK("1.7e9", 1700000000000000000LL),
    OK("17e8", 1700000000000000000LL),                            /* an exponent: seconds */
    OK("-0.5", -500000000LL),
    OK("1e-9", 1),
    OK("0.0000000005", 1),                                        /* half up */
    OK("-0.0000000005", -1),                                      /* half away from zero */
    OK("-5", -5000000000LL),                                      /* T8: epoch, not relative */
    NO("99999999999", RANGE),                                     /* < 1e11: seconds, too many */
    NO("9223372036854775808", RANGE),
    NO("-9223372036854775809", RANGE),
    NO("1e30", RANGE),
    NO("9223372037", RANGE),
    NO("", "empty"),
    NO("+1714523400", "not a time"),
    NO(" 1714523400", "not a time"),
    NO("1714523400 ", "not a time"),
    NO("0x10", "not a time"),
    NO("inf", "not a time"),
    NO("nan", "not a time"),
    NO("1.5.5", "not a time"),
    NO("12abc", "not a time"),
    NO("yesterday-ish", "not a time"),
};

static const tcase relative[] = {
    OK("now", NOW),                                               /* T8 */
    OK("-1h", NOW - 3600000000000LL),
    OK("-1.5d", NOW - 129600000000000LL),
    OK("-250ms", NOW - 250000000LL),
    OK("-90s", NOW - 90000000000LL),
    NO("-1x", "expected a unit"),
    NO("-inf", "not a duration"),
    NO("-9999999999h", "292 years"),
    NO("now ", "not a time"),
    NO("+1h", "not a time"),
};

/* Without SL_TIME_RELATIVE (the CSV reader) the relative forms are refused. */
static const tcase absolute_only[] = {
    OK("2024-05-01T12:00:00Z", 1714564800000000000LL),
    OK("1700000000.25", 1700000000250000000LL),
    NO("now", "not a time"),
    NO("-1h", "not a time"),
};

static const tcase durations[] = {
    OK("250ms", 250000000LL),                                     /* D1 */
    OK("1.5s", 1500000000LL),
    OK("2m", 120000000000LL),
    OK("1h", 3600000000000LL),
    OK("1d", 86400000000000LL),
    OK("300us", 300000LL),
    OK("300\xC2\xB5s", 300000LL),                                 /* U+00B5 */
    OK("300\xCE\xBCs", 300000LL),                                 /* U+03BC */
    OK("10ns", 10),
    OK("0s", 0),
    OK(".5h", 1800000000000LL),
    OK("5.s", 5000000000LL),
    OK("1e3us", 1000000LL),
    OK("1.5e3ms", 1500000000LL),
    OK("0.1h", 360000000000LL),
    OK("5", 5000000LL),                                           /* D2: bare = ms */
    OK("0", 0),
    OK("9007199254740993ns", 9007199254740993LL),                 /* D3: a double gives ...992 */
    OK("0.5ns", 1),
    OK("0.4ns", 0),
    OK("1.0000000005h", 3600000001800LL),
    OK("1e-400s", 0),
    OK("0e400s", 0),
    OK("106751d", 9223286400000000000LL),
    OK("2562047h", 9223369200000000000LL),
    OK("9223372036854775807ns", INT64_MAX),
    OK("9223372036.854775807s", INT64_MAX),
    NO("inf", "not a duration"),                                  /* ISSUE11 */
    NO("nan", "not a duration"),
    NO("infms", "not a duration"),
    NO("1e30s", "292 years"),
    NO("9999999999h", "292 years"),
    NO("0x10ms", "expected a unit"),
    NO("106752d", "292 years"),
    NO("2562048h", "292 years"),
    NO("9223372036854775808ns", "292 years"),
    NO("9223372036.854775808s", "292 years"),
    NO("1e400s", "292 years"),
    NO("-5ms", "negative"),
    NO("+5ms", "not a duration"),
    NO("", "empty"),
    NO(" 5ms", "not a duration"),
    NO("5 ms", "expected a unit"),
    NO("5ms ", "expected a unit"),
    NO("1h30m", "expected a unit"),
    NO("5x", "expected a unit"),
    NO("ms", "not a duration"),
    NO(".", "not a duration"),
    NO("1e", "expected a unit"),
    NO("1..5s", "expected a unit"),
    NO("1,5s", "expected a unit"),
    NO("5S", "expected a unit"),
};

#define RUN(name, parse) run(#name, name, sizeof name / sizeof *name, parse)

static void test_dates(void **state) { (void)state; RUN(dates, p_time); }
static void test_datetimes(void **state) { (void)state; RUN(datetimes, p_time); }
static void test_epochs(void **state) { (void)state; RUN(epochs, p_time); }
static void test_relative(void **state) { (void)state; RUN(relative, p_time); }
static void test_absolute_only(void **state) { (void)state; RUN(absolute_only, p_abs); }
static void test_durations(void **state) { (void)state; RUN(durations, p_dur); }

/* The same tables through the internal entry point give the same answers,
 * and a relative time that would fall below INT64_MIN is refused. */
static void test_edges(void **state)
{
    (void)state;
    int64_t v = 7;
    const char *why = NULL;
    assert_int_equal(sl_parse_time("-1h", INT64_MIN + 1, &v, &why), SL_INVALID);
    assert_non_null(strstr(why, RANGE));
    assert_int_equal(v, 7);
    assert_int_equal(sl_parse_time("-1ns", INT64_MIN + 1, &v, NULL), SL_OK);
    assert_int_equal(v, INT64_MIN);
    assert_int_equal(sl_parse_time(NULL, NOW, &v, &why), SL_INVALID);
    assert_int_equal(sl_parse_duration(NULL, &v, NULL), SL_INVALID);
    assert_int_equal(sl_time_parse("-1h", SL_TIME_RELATIVE, NOW, &v, NULL), SL_OK);
    assert_int_equal(v, NOW - 3600000000000LL);
    /* A long run of fraction digits is read whole, exactly. */
    char s[600] = "2024-05-01T12:00:00.";
    size_t n = strlen(s);
    memset(s + n, '9', 500);
    strcpy(s + n + 500, "Z");
    assert_int_equal(sl_parse_time(s, NOW, &v, NULL), SL_OK);
    assert_int_equal(v, 1714564801000000000LL);
    memset(s + n, '0', 500);
    s[n + 499] = '5';
    assert_int_equal(sl_parse_time(s, NOW, &v, NULL), SL_OK);
    assert_int_equal(v, 1714564800000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),    cmocka_unit_test(test_datetimes),
        cmocka_unit_test(test_epochs),   cmocka_unit_test(test_relative),
        cmocka_unit_test(test_absolute_only), cmocka_unit_test(test_durations),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
