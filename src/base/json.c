/*
 * base/json.c -- exact JSON reading on top of cJSON, and a compact JSON writer.
 * See json.h for why integers need care.
 */
#include "base/json.h"
#include "base/buf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Flags on cJSON items, set by sl_json_parse(); cJSON masks types with
 * 0xFF, so high bits are ours to use. */
#define SL_JSON_REAL_FLAG (1 << 12)   /* a number written as a real */
#define SL_JSON_BIGINT_FLAG (1 << 13) /* a string that was a long integer literal */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Kinds of the value tokens (strings and numbers, not keys) of a document. */
enum { TOK_STRING, TOK_INT, TOK_REAL, TOK_BIGINT };
typedef struct tokkinds {
    size_t nquoted;    /* long integers quoted so far */
    size_t *quoted_at; /* output offset just past each one's closing quote */
    size_t quoted_cap; /* slots allocated for quoted_at[] */
    unsigned char *k;  /* kind of each token */
    size_t *off;       /* where a TOK_REAL's text starts in the input */
    unsigned *len;     /* and its length */
    size_t n;          /* tokens recorded */
    size_t kcap, ocap, lcap; /* slots allocated for k[], off[], len[] */
} tokkinds;

static int tokkinds_push(tokkinds *tk, unsigned char kind, size_t off, size_t len)
{
    if (sl_array_reserve(&tk->k, &tk->kcap, tk->n + 1, sizeof *tk->k, 64) ||
        sl_array_reserve(&tk->off, &tk->ocap, tk->n + 1, sizeof *tk->off, 64) ||
        sl_array_reserve(&tk->len, &tk->lcap, tk->n + 1, sizeof *tk->len, 64))
        return -1;
    tk->k[tk->n] = kind;
    tk->off[tk->n] = off;
    tk->len[tk->n++] = (unsigned)len;
    return 0;
}

static void tokkinds_free(tokkinds *tk)
{
    free(tk->quoted_at);
    free(tk->k);
    free(tk->off);
    free(tk->len);
}

/*
 * Copy text into out, quoting integer literals of more than 15 digits (which
 * a double may not hold), and record the kind of every value token so that
 * mark_tokens() can tell reals from integers and restore the long integers
 * when the tree is written back.
 */
static int protect_numbers(const char *text, size_t len, sl_buf *out, tokkinds *tk)
{
    size_t i = 0, copied = 0;
    while (i < len) {
        char c = text[i];
        if (c == '"') {
            for (i++; i < len && text[i] != '"'; i++)
                if (text[i] == '\\') i++;
            size_t j = ++i;
            while (j < len && is_ws(text[j])) j++;
            if ((j >= len || text[j] != ':') && tokkinds_push(tk, TOK_STRING, 0, 0)) return -1;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            i++;
            continue;
        }
        size_t start = i, digits = 0;
        int real = 0;
        for (; i < len; i++) {
            char d = text[i];
            if (d >= '0' && d <= '9') digits++;
            else if (d == '.' || d == 'e' || d == 'E') real = 1;
            else if (d != '-' && d != '+') break;
        }
        unsigned char kind = real ? TOK_REAL : TOK_INT;
        if (!real && digits > 15) {
            sl_buf_append(out, text + copied, start - copied);
            sl_buf_putc(out, '"');
            sl_buf_append(out, text + start, i - start);
            sl_buf_putc(out, '"');
            copied = i;
            kind = TOK_BIGINT;
            if (sl_array_reserve(&tk->quoted_at, &tk->quoted_cap, tk->nquoted + 1, sizeof *tk->quoted_at, 16))
                return -1;
            tk->quoted_at[tk->nquoted++] = out->len;
        }
        if (tokkinds_push(tk, kind, start, i - start)) return -1;
    }
    sl_buf_append(out, text + copied, len - copied);
    return out->oom ? -1 : 0;
}

/* Walk the tree in document order, flagging reals (and keeping their
 * text, in valuestring, which cJSON_Delete frees) and restored long integers. */
static int mark_tokens(cJSON *item, const tokkinds *tk, const char *text, size_t *next)
{
    for (; item; item = item->next) {
        if (cJSON_IsNumber(item) || cJSON_IsString(item)) {
            size_t t = *next;
            unsigned char kind = t < tk->n ? tk->k[t] : TOK_STRING;
            if (kind == TOK_REAL && cJSON_IsNumber(item)) {
                item->type |= SL_JSON_REAL_FLAG;
                item->valuestring = strndup(text + tk->off[t], tk->len[t]);
                if (!item->valuestring) return -1;
            }
            if (kind == TOK_BIGINT && cJSON_IsString(item)) item->type |= SL_JSON_BIGINT_FLAG;
            (*next)++;
        } else if (item->child && mark_tokens(item->child, tk, text, next)) {
            return -1;
        }
    }
    return 0;
}

cJSON *sl_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    sl_buf buf = SL_BUF_INIT;
    tokkinds tk;
    memset(&tk, 0, sizeof tk);
    cJSON *root = NULL;

    if (protect_numbers(text, len, &buf, &tk)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(buf.p ? buf.p : "", buf.len, &end, 0);
    if (!root) {
        size_t off = end && buf.p ? (size_t)(end - buf.p) : 0;
        int at_end = off >= buf.len;
        /* Back to an offset in the caller's text: two quotes were added
         * around each long integer before this point. */
        size_t shift = 0;
        for (size_t k = 0; k < tk.nquoted && tk.quoted_at[k] <= off; k++) shift += 2;
        off -= shift;
        if (at_end) snprintf(err, errlen, "invalid JSON: unexpected end of input");
        else snprintf(err, errlen, "invalid JSON near byte %zu", off + 1);
        goto done;
    }
    while (end && end < buf.p + buf.len && is_ws(*end)) end++;
    if (end && end < buf.p + buf.len) {
        size_t off = (size_t)(end - buf.p);
        for (size_t k = 0; k < tk.nquoted && tk.quoted_at[k] <= (size_t)(end - buf.p); k++) off -= 2;
        snprintf(err, errlen, "invalid JSON: trailing data at byte %zu", off + 1);
        cJSON_Delete(root);
        root = NULL;
        goto done;
    }
    size_t next = 0;
    if (mark_tokens(root, &tk, text, &next)) {
        snprintf(err, errlen, "out of memory");
        cJSON_Delete(root);
        root = NULL;
    }
done:
    sl_buf_free(&buf);
    tokkinds_free(&tk);
    return root;
}

int sl_json_is_real(const cJSON *item)
{
    return item && cJSON_IsNumber(item) && (item->type & SL_JSON_REAL_FLAG);
}

int sl_json_is_bigint(const cJSON *item)
{
    return item && cJSON_IsString(item) && (item->type & SL_JSON_BIGINT_FLAG);
}

const char *sl_json_number_text(const cJSON *item)
{
    return sl_json_is_real(item) ? item->valuestring : NULL;
}

cJSON *sl_json_get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

const char *sl_json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = sl_json_get(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

int sl_parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *out = (int64_t)v;
    return 0;
}

int sl_json_int64(const cJSON *item, int64_t *out)
{
    if (cJSON_IsString(item)) return sl_parse_int64(item->valuestring, out);
    if (!cJSON_IsNumber(item)) return -1;
    double d = item->valuedouble;
    if (!(d >= -9.2e18 && d <= 9.2e18) || d != floor(d)) return -1;
    *out = (int64_t)d;
    return 0;
}

int sl_json_double(const cJSON *item, double *out)
{
    if (cJSON_IsNumber(item)) {
        *out = item->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(item) || !*item->valuestring) return -1;
    char *end;
    errno = 0;
    double d = strtod(item->valuestring, &end);
    if (errno || *end) return -1;
    *out = d;
    return 0;
}

int sl_parse_scaled(const char *s, int digits, int64_t *out)
{
    int neg = 0;
    if (*s == '-' || *s == '+') neg = (*s++ == '-');
    int64_t v = 0, frac = 0;
    int nd = 0, nf = 0, round = 0;
    for (; *s >= '0' && *s <= '9'; s++, nd++) {
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, nf++) {
            if (nf < digits) frac = frac * 10 + (*s - '0');
            else if (nf == digits) round = *s >= '5';
        }
    }
    if (*s || (nd == 0 && nf == 0)) return -1;
    for (int k = nf; k < digits; k++) frac *= 10;
    for (int k = 0; k < digits; k++) {
        if (v > INT64_MAX / 10) return -1;
        v *= 10;
    }
    if (v > INT64_MAX - frac - round) return -1;
    v += frac + round;
    *out = neg ? -v : v;
    return 0;
}

int sl_parse_seconds_ns(const char *s, int64_t *out)
{
    /* Scaled in integers, so "1000.1" is exactly 1000100000000 ns;
     * exponents fall back to a double. */
    if (strpbrk(s, "eE")) {
        char *end;
        double d = strtod(s, &end);
        if (*end || end == s || !(fabs(d) < 9.2e9)) return -1;
        *out = (int64_t)llround(d * 1e9);
        return 0;
    }
    return sl_parse_scaled(s, 9, out);
}

void sl_hex_lower(char *s)
{
    char *p;
    for (p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            return;
    for (p = s; *p; p++)
        if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
}

/* ---- Writer ---- */

void sl_jw_stringn(sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (sl_buf_reserve(b, n + 2)) return;
    sl_buf_putc(b, '"');
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sl_buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        sl_buf_puts(b, esc);
    }
    sl_buf_append(b, s + run, n - run);
    sl_buf_putc(b, '"');
}

void sl_jw_string(sl_buf *b, const char *s)
{
    if (!s) sl_buf_puts(b, "null");
    else sl_jw_stringn(b, s, strlen(s));
}

void sl_jw_int(sl_buf *b, int64_t v)
{
    /* By hand: printf is a visible cost when exporting millions of spans. */
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    sl_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void sl_jw_double(sl_buf *b, double v)
{
    if (!isfinite(v)) {
        sl_buf_puts(b, "null");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    sl_buf_puts(b, tmp);
    if (!strpbrk(tmp, ".eE")) sl_buf_puts(b, ".0");
}

void sl_jw_key(sl_buf *b, const char *key, int *first)
{
    if (!*first) sl_buf_putc(b, ',');
    *first = 0;
    sl_jw_string(b, key);
    sl_buf_putc(b, ':');
}

void sl_jw_cjson(sl_buf *b, const cJSON *item)
{
    if (!item || cJSON_IsNull(item)) {
        sl_buf_puts(b, "null");
    } else if (cJSON_IsFalse(item)) {
        sl_buf_puts(b, "false");
    } else if (cJSON_IsTrue(item)) {
        sl_buf_puts(b, "true");
    } else if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (sl_json_number_text(item))
            sl_buf_puts(b, item->valuestring); /* exactly as written */
        else if (!sl_json_is_real(item) && d == floor(d) && fabs(d) < 9007199254740992.0)
            sl_jw_int(b, (int64_t)d);
        else
            sl_jw_double(b, d);
    } else if (cJSON_IsString(item)) {
        if (item->type & SL_JSON_BIGINT_FLAG) sl_buf_puts(b, item->valuestring);
        else sl_jw_string(b, item->valuestring);
    } else if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
        int obj = cJSON_IsObject(item);
        sl_buf_putc(b, obj ? '{' : '[');
        for (const cJSON *c = item->child; c; c = c->next) {
            if (c != item->child) sl_buf_putc(b, ',');
            if (obj) {
                sl_jw_string(b, c->string ? c->string : "");
                sl_buf_putc(b, ':');
            }
            sl_jw_cjson(b, c);
        }
        sl_buf_putc(b, obj ? '}' : ']');
    } else if (cJSON_IsRaw(item)) {
        sl_buf_puts(b, item->valuestring);
    }
}
