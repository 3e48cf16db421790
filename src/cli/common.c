/* common.c -- helpers shared by the spanlite commands; see cli.h. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "spanlite%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_isatty(int fd) { return isatty(fd); }

int cli_parse_outfmt(const char *s)
{
    static const char *const names[] = {"table", "csv", "json", "jsonl"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

sl_db *cli_open(cli_ctx *ctx, int readonly)
{
    sl_db *db;
    if (readonly && access(ctx->db_path, F_OK) != 0) {
        cli_error(NULL, "%s: no such warehouse (create one with `spanlite --db %s init`)",
                  ctx->db_path, ctx->db_path);
        return NULL;
    }
    if (sl_open(ctx->db_path, readonly ? SL_OPEN_READONLY : 0, &db) != SL_OK) {
        cli_error(NULL, "%s", sl_errmsg(db));
        sl_close(db);
        return NULL;
    }
    return db;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* ISO 8601: YYYY-MM-DD[(T| )hh:mm[:ss[.frac]]][Z|+hh:mm|-hh:mm]; no zone = UTC. */
static int parse_iso(const char *s, int64_t *ns)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return -1;
    const char *p = s + n;
    int64_t frac = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        int k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &k) != 2 || k != 5) return -1;
        p += 1 + k;
        if (*p == ':') {
            if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2])) return -1;
            sec = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == '.' || *p == ',') {
                int digits = 0;
                for (p++; isdigit((unsigned char)*p); p++, digits++)
                    if (digits < 9) frac = frac * 10 + (*p - '0');
                if (!digits) return -1;
                for (; digits < 9; digits++) frac *= 10;
            }
        }
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om = 0, k = 0;
        if (sscanf(p + 1, "%2d%n", &oh, &k) != 1 || k != 2) return -1;
        const char *q = p + 3;
        if (*q == ':') q++;
        if (isdigit((unsigned char)*q)) {
            if (sscanf(q, "%2d", &om) != 1) return -1;
            q += 2;
        }
        off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p = q;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *ns = secs * 1000000000LL + frac;
    return 0;
}

int cli_parse_duration(const char *s, int64_t *ns)
{
    static const struct { const char *unit; double scale; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9},
        {"h", 3600e9}, {"d", 86400e9}, {"", 1e6}};
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            *ns = (int64_t)llround(v * units[i].scale);
            return 0;
        }
    }
    return -1;
}

int cli_parse_time(const char *s, int64_t *ns)
{
    if (!s || !*s) return -1;
    int64_t d;
    size_t n = strlen(s);
    if (s[0] == '-' && isalpha((unsigned char)s[n - 1]) && cli_parse_duration(s + 1, &d) == 0) {
        /* "-1h": that long before now */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        *ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - d;
        return 0;
    }
    if (strcmp(s, "now") == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        *ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
        return 0;
    }
    if (parse_iso(s, ns) == 0) return 0;
    /* Epoch: an integer's magnitude tells its unit (s < 1e11 <= ms < 1e14 <= us < 1e17 <= ns);
     * a decimal is seconds. */
    int64_t v;
    if (sl_parse_int64(s, &v) == 0) {
        int64_t a = v < 0 ? -v : v;
        *ns = a < 100000000000LL ? v * 1000000000LL
            : a < 100000000000000LL ? v * 1000000LL
            : a < 100000000000000000LL ? v * 1000LL : v;
        return 0;
    }
    return sl_parse_seconds_ns(s, ns);
}

/* Bind every --param NAME=VALUE to :NAME, @NAME or $NAME. */
void cli_bind_params(sqlite3_stmt *st, char *const *params, int nparams)
{
    for (int i = 0; i < nparams; i++) {
        char *eq = strchr(params[i], '=');
        char name[256];
        const char *value = eq + 1;
        for (const char *pfx = ":@$"; *pfx; pfx++) {
            snprintf(name, sizeof name, "%c%.*s", *pfx, (int)(eq - params[i]), params[i]);
            int idx = sqlite3_bind_parameter_index(st, name);
            if (!idx) continue;
            char *end;
            errno = 0;
            long long iv = strtoll(value, &end, 10);
            if (*value && !*end && errno == 0) {
                sqlite3_bind_int64(st, idx, iv);
                continue;
            }
            double dv = strtod(value, &end);
            if (*value && !*end) sqlite3_bind_double(st, idx, dv);
            else sqlite3_bind_text(st, idx, value, -1, SQLITE_TRANSIENT);
        }
    }
}

int cli_run_sql(sqlite3 *h, const char *sql, char *const *params, int nparams, cli_outfmt fmt,
                const char *cmd)
{
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, tail, -1, &st, &tail) != SQLITE_OK) {
            cli_error(cmd, "%s", sqlite3_errmsg(h));
            return EXIT_FAIL;
        }
        if (!st) continue; /* whitespace or a comment */
        cli_bind_params(st, params, nparams);
        int rc = cli_print_stmt(st, fmt, stdout);
        if (rc != SQLITE_DONE) cli_error(cmd, "%s", sqlite3_errmsg(h));
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return EXIT_FAIL;
    }
    return EXIT_OK;
}

