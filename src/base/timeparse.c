/* base/timeparse.c -- times, dates and durations from text; the rules are
 * in timeparse.h (T1-T9, D1-D4), the public entry points in spanlite.h. */
#include "base/timeparse.h"
#include "spanlite.h"

#include <stddef.h>
#include <string.h>

#define NS_PER_S 1000000000LL
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static const char R_RANGE[] =
    "outside the int64 nanosecond range (1677-09-21T00:12:43Z to 2262-04-11T23:47:16Z)";
static const char R_DUR_RANGE[] = "over the int64 nanosecond range (about 292 years)";
static const char R_NOT_DUR[] = "not a duration: expected a number and a unit (250ms, 1.5s, 2m, 1h, 1d)";

/* ---- Decimal numbers, exactly ------------------------------------------- */

/* A decimal number as scanned, before conversion. */
typedef struct decnum {
    const char *digits; /* first digit; a '.' may follow the nint-th */
    size_t nint, nfrac; /* digits before and after the '.' */
    int64_t exp;        /* decimal exponent, clamped to +-1e9 */
    int neg;            /* a leading '-' */
    int is_int;         /* neither '.' nor exponent */
    const char *end;    /* first byte after the number */
} decnum;

/* Scan [-]digits[.digits][(e|E)[+-]digits] at s (the sign only with
 * allow_neg).  0, or -1 when there is no digit.  An 'e' that no digit
 * follows is left to the caller as trailing text. */
static int dn_scan(const char *s, int allow_neg, decnum *n)
{
    memset(n, 0, sizeof *n);
    n->is_int = 1;
    if (allow_neg && *s == '-') n->neg = 1, s++;
    n->digits = s;
    for (; IS_DIGIT(*s); s++) n->nint++;
    if (*s == '.') {
        n->is_int = 0;
        for (s++; IS_DIGIT(*s); s++) n->nfrac++;
    }
    if (n->nint + n->nfrac == 0) return -1;
    if (*s == 'e' || *s == 'E') {
        const char *q = s + 1;
        int eneg = 0;
        if (*q == '+' || *q == '-') eneg = *q++ == '-';
        if (IS_DIGIT(*q)) {
            int64_t e = 0;
            for (; IS_DIGIT(*q); q++)
                if (e < 1000000000) e = e * 10 + (*q - '0');
            n->exp = eneg ? -e : e;
            n->is_int = 0;
            s = q;
        }
    }
    n->end = s;
    return 0;
}

/* The i-th digit of n, counting both sides of the '.'. */
static unsigned dn_digit(const decnum *n, int64_t i)
{
    return (unsigned)(n->digits[(size_t)i + ((size_t)i >= n->nint)] - '0');
}

/*
 * |n| * m * 10^k, rounded to an integer half up, into *out; -1 when it is
 * over lim.  The integer part is accumulated digit by digit; the fraction
 * F (the digits right of the scaled point) is multiplied by m from its
 * last digit to its first, which yields floor(m * 0.F) as the final carry
 * and the first digit of the product's fraction, which decides rounding.
 * m <= 864, so the carry stays below 10^3.
 */
static int dn_value(const decnum *n, unsigned m, int k, uint64_t lim, uint64_t *out)
{
    int64_t nd = (int64_t)(n->nint + n->nfrac);
    int64_t q = (int64_t)n->nint + n->exp + k; /* digits left of the scaled point */
    uint64_t ip = 0;
    for (int64_t i = 0; i < nd && i < q; i++) {
        unsigned d = dn_digit(n, i);
        if (ip > (lim - d) / 10) return -1;
        ip = ip * 10 + d;
    }
    for (int64_t z = nd; z < q && ip; z++) { /* zeros the exponent adds */
        if (ip > lim / 10) return -1;
        ip *= 10;
    }
    unsigned carry = 0, first = 0;
    for (int64_t j = nd - 1; j >= (q > 0 ? q : 0); j--) {
        unsigned p = m * dn_digit(n, j) + carry;
        first = p % 10;
        carry = p / 10;
    }
    for (int64_t z = 0; z < -q && z < 4; z++) { /* zeros between the point and the digits; */
        first = carry % 10;                      /* after 3 of them the carry is 0 */
        carry /= 10;
    }
    if (ip && m > lim / ip) return -1;
    uint64_t v = ip * m, add = carry + (first >= 5);
    if (v > lim - add) return -1;
    *out = v + add;
    return 0;
}

/* n * m * 10^k as a signed int64; -1 on overflow. */
static int dn_int64(const decnum *n, unsigned m, int k, int64_t *out)
{
    uint64_t lim = n->neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v;
    if (dn_value(n, m, k, lim, &v)) return -1;
    *out = !n->neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return 0;
}

/* ---- Durations --------------------------------------------------------- */

/* ns per unit as m * 10^k (D1, D2). */
static const struct { const char *name; unsigned m; int k; } dur_units[] = {
    {"ns", 1, 0}, {"us", 1, 3}, {"\xC2\xB5s", 1, 3}, {"\xCE\xBCs", 1, 3}, {"ms", 1, 6}, {"s", 1, 9},
    {"m", 6, 10}, {"h", 36, 11}, {"d", 864, 11}, {"", 1, 6}};

static const char *duration(const char *s, int64_t *out)
{
    decnum n;
    if (!*s) return "empty";
    if (*s == '-') return "negative: a duration is 0 or more";
    if (dn_scan(s, 0, &n)) return R_NOT_DUR;
    for (size_t i = 0; i < sizeof dur_units / sizeof *dur_units; i++) {
        if (strcmp(n.end, dur_units[i].name) != 0) continue;
        return dn_int64(&n, dur_units[i].m, dur_units[i].k, out) ? R_DUR_RANGE : NULL;
    }
    return "expected a unit (ns, us, ms, s, m, h, d) right after the number";
}

int sl_duration_parse(const char *s, int64_t *ns, const char **why)
{
    int64_t v = 0;
    const char *w = s ? duration(s, &v) : "empty";
    if (w) {
        if (why) *why = w;
        return SL_INVALID;
    }
    *ns = v;
    return SL_OK;
}

/* ---- Calendar ---------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Month and day of a day number (the inverse, same source). */
static void civil_from_days(int64_t z, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
}

static int days_in_month(int y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : mdays[m - 1];
}

/* n decimal digits at s into *v; 1, or 0 if they are not all digits. */
static int fixed_digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!IS_DIGIT(s[i])) return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* ---- Times ------------------------------------------------------------- */

/* The zone at *p (T2, T3) as seconds east of UTC; advances *p. */
static const char *zone(const char **p, int64_t *off)
{
    const char *s = *p;
    int oh, om = 0, sign = *s == '-' ? -1 : 1;
    *off = 0;
    if (*s == 'Z' || *s == 'z') {
        *p = s + 1;
        return NULL;
    }
    if (*s != '+' && *s != '-') return NULL;
    if (!fixed_digits(s + 1, 2, &oh)) return "expected a zone: Z, +hh:mm, +hhmm or +hh";
    s += 3;
    if (*s == ':' || IS_DIGIT(*s)) {
        s += *s == ':';
        if (!fixed_digits(s, 2, &om)) return "expected two digits of zone minutes";
        s += 2;
    }
    if (oh > 23) return "zone hours must be 00-23";
    if (om > 59) return "zone minutes must be 00-59";
    *off = sign * (oh * 3600 + om * 60);
    *p = s;
    return NULL;
}

/* T1-T5. */
static const char *iso(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    int64_t frac = 0, off = 0;
    const char *p = s, *w;
    if (!fixed_digits(p, 4, &y) || p[4] != '-' || !fixed_digits(p + 5, 2, &mo) || p[7] != '-' ||
        !fixed_digits(p + 8, 2, &d))
        return "not a date: expected YYYY-MM-DD";
    p += 10;
    if (mo < 1 || mo > 12) return "month must be 01-12";
    if (d < 1 || d > days_in_month(y, mo)) return "no such day in that month";
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!fixed_digits(p, 2, &h) || p[2] != ':' || !fixed_digits(p + 3, 2, &mi))
            return "expected hh:mm after the date";
        p += 5;
        if (*p == ':') {
            if (!fixed_digits(p + 1, 2, &se)) return "expected two digits of seconds";
            p += 3;
            if (*p == '.' || *p == ',') {
                decnum n;
                memset(&n, 0, sizeof n);
                n.digits = p++; /* the '.': no integer digits */
                for (; IS_DIGIT(*p); p++) n.nfrac++;
                if (!n.nfrac) return "expected digits after the decimal point";
                uint64_t f;
                if (dn_value(&n, 1, 9, NS_PER_S, &f)) return "bad fraction"; /* cannot happen */
                frac = (int64_t)f;
            }
        }
        if (h > 23) return "hour must be 00-23";
        if (mi > 59) return "minute must be 00-59";
        if (se > 60) return "second must be 00-59";
        if ((w = zone(&p, &off))) return w;
    } else if (*p == 'Z' || *p == 'z' || *p == '+' || *p == '-') {
        return "a zone needs a time: YYYY-MM-DDThh:mm...";
    }
    if (*p) return "unexpected text after the time";
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - off;
    if (se == 60) { /* T4 */
        int64_t day = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
        int um, ud;
        civil_from_days(day, &um, &ud);
        if (secs - day * 86400 != 86399 || !((um == 6 && ud == 30) || (um == 12 && ud == 31)))
            return "second 60 is a leap second: only 23:59:60 UTC on 30 June or 31 December";
        secs += 1;
    }
    if (secs < 0 && frac > 0) { /* keep secs * 1e9 in range near the lower end */
        secs += 1;
        frac -= NS_PER_S;
    }
    int64_t t;
    if (__builtin_mul_overflow(secs, NS_PER_S, &t) || __builtin_add_overflow(t, frac, &t))
        return R_RANGE;
    *out = t;
    return NULL;
}

/* T6, T7. */
static const char *epoch(const char *s, int relative, int64_t *out)
{
    decnum n;
    if (dn_scan(s, 1, &n) || *n.end)
        return relative ? "not a time: expected YYYY-MM-DD[Thh:mm[:ss[.f]][zone]], an epoch number, "
                          "now or -DURATION (-1h)"
                        : "not a time: expected YYYY-MM-DD[Thh:mm[:ss[.f]][zone]] or an epoch number";
    int k = 9;
    if (n.is_int) {
        uint64_t mag;
        if (dn_value(&n, 1, 0, UINT64_MAX, &mag)) return R_RANGE;
        k = mag < 100000000000ULL ? 9 : mag < 100000000000000ULL ? 6 : mag < 100000000000000000ULL ? 3 : 0;
    }
    return dn_int64(&n, 1, k, out) ? R_RANGE : NULL;
}

int sl_time_parse(const char *s, int flags, int64_t now_ns, int64_t *ns, const char **why)
{
    int rel = (flags & SL_TIME_RELATIVE) != 0;
    int64_t v = 0, d;
    const char *w = NULL;
    size_t len = s ? strlen(s) : 0;
    if (!len) {
        w = "empty";
    } else if (len >= 5 && IS_DIGIT(s[0]) && IS_DIGIT(s[1]) && IS_DIGIT(s[2]) && IS_DIGIT(s[3]) &&
               s[4] == '-') {
        w = iso(s, &v);
    } else if (rel && strcmp(s, "now") == 0) {
        v = now_ns;
    } else if (rel && s[0] == '-' && !IS_DIGIT(s[len - 1]) && s[len - 1] != '.') {
        if (!(w = duration(s + 1, &d)) && __builtin_sub_overflow(now_ns, d, &v)) w = R_RANGE;
    } else {
        w = epoch(s, rel, &v);
    }
    if (w) {
        if (why) *why = w;
        return SL_INVALID;
    }
    *ns = v;
    return SL_OK;
}

/* ---- Public API (spanlite.h) ------------------------------------------- */

int sl_parse_time(const char *s, int64_t now_ns, int64_t *ns, const char **why)
{
    return sl_time_parse(s, SL_TIME_RELATIVE, now_ns, ns, why);
}

int sl_parse_duration(const char *s, int64_t *ns, const char **why)
{
    return sl_duration_parse(s, ns, why);
}
