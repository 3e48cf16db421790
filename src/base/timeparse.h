/*
 * base/timeparse.h -- the one parser of time, date and duration text.  The
 * CLI reaches it through sl_parse_time() and sl_parse_duration() of
 * include/spanlite.h; the CSV reader's *_time columns call sl_time_parse()
 * without SL_TIME_RELATIVE.  docs/cli.md and docs/formats.md repeat this list.
 *
 * Every result is int64 nanoseconds (since 1970-01-01T00:00:00Z for a time).
 * All arithmetic is on the decimal digits, checked for overflow; no double.
 *
 * TIMES (sl_time_parse)
 *   T1. A date: YYYY-MM-DD (exactly 4, 2 and 2 digits), midnight UTC.
 *   T2. A date and time: the date, then 'T', 't' or one space, then
 *       hh:mm, hh:mm:ss or hh:mm:ss.f (',' for '.' too; f is 1 or more
 *       digits), then an optional zone: 'Z', 'z', +hh:mm, +hhmm, +hh (or
 *       with '-').  No zone means UTC; -00:00 is UTC.
 *   T3. The date must exist in the proleptic Gregorian calendar: month
 *       01-12, day 01 to the month's length (2024-02-29 is accepted,
 *       2023-02-29 and 2023-02-31 are refused); hour 00-23, minute 00-59,
 *       second 00-59; zone hours 00-23 and zone minutes 00-59 (+99:99 and
 *       +24:00 are refused).
 *   T4. Leap second: second 60 is accepted only where one can occur, at
 *       23:59:60 UTC (after the zone is applied) on 30 June or 31 December,
 *       and it reads as the instant of the next second (00:00:00 of the next
 *       day), as Unix time counts it.  Anywhere else :60 is refused.
 *   T5. Fraction digits past the ninth are accepted and round the time to
 *       the nearest nanosecond, half up (.0000000005 -> 1 ns), as decimal
 *       epoch seconds do (T7) and as the native reader does.
 *   T6. Epoch integer: an optional '-' and decimal digits; its magnitude
 *       gives its unit: |v| < 1e11 seconds, < 1e14 milliseconds, < 1e17
 *       microseconds, else nanoseconds.
 *   T7. Epoch decimal: an optional '-', digits with a '.' and/or an
 *       exponent (1700000000.5, 1.7e9, 17e8): seconds, exactly, rounded to
 *       the nearest nanosecond half away from zero.
 *   T8. With SL_TIME_RELATIVE only: "now" is now_ns, and '-' followed by a
 *       duration with a unit (D1, e.g. -1h, -30m, -1.5d) is that long before
 *       now_ns.  "-5" stays T6 (epoch), not a relative time.
 *   T9. Refused: the empty string; any space, sign or character the forms
 *       above do not name (leading '+', " 2024-...", trailing text); a zone
 *       after a bare date; hh without :mm; 24:00; years written with other
 *       than 4 digits; and every value outside int64 nanoseconds, that is
 *       before 1677-09-21T00:12:43.145224192Z or after
 *       2262-04-11T23:47:16.854775807Z (so 9999-12-31 and 2300-01-01 are
 *       refused, as are epoch numbers that overflow, and -1h when now_ns is
 *       within an hour of the lower end).
 *
 * DURATIONS (sl_duration_parse)
 *   D1. A non-negative decimal number (digits, an optional '.' and
 *       fraction, an optional exponent e[+-]digits; at least one digit
 *       before the exponent) immediately followed by a unit: ns, us, µs,
 *       ms, s, m (60 s), h (3600 s), d (86400 s).  250ms, 1.5s, .5h, 1e3us.
 *   D2. A bare number (no unit) is milliseconds, the CLI's rule for
 *       --min-duration since its first release.
 *   D3. Exact: the digits are multiplied out, never through a double;
 *       digits below a nanosecond round half up (0.4ns is 0, 0.5ns
 *       is 1 ns; 9007199254740993ns stays odd, as no double would keep it).
 *   D4. Refused: empty; a sign (negative durations have no meaning);
 *       inf, nan, hex (0x10ms), spaces, units other than D1's, several
 *       units (1h30m), trailing text, and anything over INT64_MAX ns
 *       (about 292 years: 1e30s, 9999999999h).
 *
 * ERRORS: each function returns SL_OK, or SL_INVALID with *ns unchanged and,
 * when why is not NULL, *why pointing at a static English reason (never
 * freed, never NULL after a failure) such as "no such day in that month".
 */
#ifndef SL_TIMEPARSE_H
#define SL_TIMEPARSE_H

#include <stdint.h>

/* sl_time_parse() flags */
enum {
    SL_TIME_RELATIVE = 1 /* accept "now" and "-DURATION" (T8) */
};

int sl_time_parse(const char *s, int flags, int64_t now_ns, int64_t *ns, const char **why);
int sl_duration_parse(const char *s, int64_t *ns, const char **why);

#endif
