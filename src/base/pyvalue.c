/*
 * base/pyvalue.c -- JSON and Python value rules for workflow events; see
 * base/pyvalue.h for what each rule reproduces and why.
 */
#include "base/pyvalue.h"
#include "base/buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ---- */

/* Decode one code point of UTF-8 (or of the 3-byte form of a surrogate,
 * which unescaped strings may hold); returns its length, 1 for a bad byte. */
static size_t utf8_decode(const unsigned char *s, const unsigned char *e, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (!len || (size_t)(e - s) < len) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return len;
}

static void utf8_put(sl_buf *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sl_buf_append(b, t, n);
}

int sl_wfj_utf8_check(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    while (s < e) {
        unsigned c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        size_t len;
        uint32_t min;
        if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
        else return -1;
        if ((size_t)(e - s) < len) return -1;
        for (size_t i = 1; i < len; i++)
            if ((s[i] & 0xC0) != 0x80) return -1;
        uint32_t cp;
        utf8_decode(s, e, &cp);
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
        s += len;
    }
    return 0;
}

/* str.isspace() for one code point (Python's table: Zs, Zl, Zp and the
 * bidirectional whitespace and separators). */
static int py_isspace(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Length of the whitespace character ending at e, or 0. */
static size_t space_before(const unsigned char *s, const unsigned char *e)
{
    for (size_t len = 1; len <= 3 && (size_t)(e - s) >= len; len++) {
        const unsigned char *c = e - len;
        if ((*c & 0xC0) == 0x80) continue; /* a continuation byte: look further back */
        uint32_t cp;
        if (utf8_decode(c, e, &cp) != len) return 0;
        return py_isspace(cp) ? len : 0;
    }
    return 0;
}

void sl_wfj_strip(const char **p, size_t *n)
{
    const unsigned char *s = (const unsigned char *)*p, *e = s + *n;
    while (s < e) {
        uint32_t cp;
        size_t len = utf8_decode(s, e, &cp);
        if (!py_isspace(cp)) break;
        s += len;
    }
    size_t len;
    while (e > s && (len = space_before(s, e)) > 0) e -= len;
    *p = (const char *)s;
    *n = (size_t)(e - s);
}

/* ---- validating compactor ---- */

/* Bytes a string scan must stop at: the quote, the backslash, controls. */
static const unsigned char str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
};

static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }
static int is_hex(unsigned c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_ws(unsigned c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

typedef struct cstate {
    const unsigned char *s, *e, *start;
    char *o;            /* output cursor */
    const char *why;    /* reason of the failure */
    size_t at;          /* offset of the failure */
    unsigned char *stack; /* 'o' or 'a' per open container */
    size_t depth, cap;
    unsigned char small[64];
} cstate;

static int fail(cstate *c, const char *why, const unsigned char *where)
{
    c->why = why;
    c->at = (size_t)(where - c->start);
    return -1;
}

static void skip_ws(cstate *c)
{
    while (c->s < c->e && is_ws(*c->s)) c->s++;
}

static int push(cstate *c, unsigned char t)
{
    if (c->depth == c->cap) {
        /* The stack starts in small[]; the first growth moves it to the heap. */
        int inline_stack = c->stack == c->small;
        unsigned char *heap = inline_stack ? NULL : c->stack;
        size_t cap = inline_stack ? 0 : c->cap;
        if (sl_array_reserve(&heap, &cap, c->depth + 1, 1, 2 * c->cap)) return -1;
        if (inline_stack) memcpy(heap, c->small, c->depth);
        c->stack = heap;
        c->cap = cap;
    }
    c->stack[c->depth++] = t;
    return 0;
}

static int scan_string(cstate *c)
{
    const unsigned char *q = c->s + 1, *e = c->e;
    for (;;) {
        while (q < e && !str_stop[*q]) q++;
        if (q >= e) return fail(c, "Unterminated string starting at", c->s);
        if (*q == '"') break;
        if (*q < 0x20) return fail(c, "Invalid control character at", q);
        /* backslash */
        if (q + 1 >= e) return fail(c, "Unterminated string starting at", c->s);
        unsigned x = q[1];
        if (x == 'u') {
            if (e - q < 6 || !is_hex(q[2]) || !is_hex(q[3]) || !is_hex(q[4]) || !is_hex(q[5]))
                return fail(c, "Invalid \\uXXXX escape", q);
            q += 6;
        } else if (strchr("\"\\/bfnrt", (int)x) && x) {
            q += 2;
        } else {
            return fail(c, "Invalid \\escape", q);
        }
    }
    q++;
    size_t n = (size_t)(q - c->s);
    memcpy(c->o, c->s, n);
    c->o += n;
    c->s = q;
    return SL_WFJ_STRING;
}

static int literal(cstate *c, const char *word, int kind)
{
    size_t n = strlen(word);
    if ((size_t)(c->e - c->s) < n || memcmp(c->s, word, n) != 0)
        return fail(c, "Expecting value", c->s);
    memcpy(c->o, word, n);
    c->o += n;
    c->s += n;
    return kind;
}

static int scan_number(cstate *c)
{
    const unsigned char *q = c->s, *e = c->e;
    if (*q == '-') {
        q++;
        if (q < e && *q == 'I') {
            c->s++;
            *c->o++ = '-';
            int k = literal(c, "Infinity", SL_WFJ_NINF);
            if (k < 0) c->at--; /* point at the sign */
            return k;
        }
    }
    if (q >= e || !is_digit(*q)) return fail(c, "Expecting value", c->s);
    if (*q == '0') q++;
    else
        while (q < e && is_digit(*q)) q++;
    int kind = SL_WFJ_INT;
    if (q + 1 < e && *q == '.' && is_digit(q[1])) {
        q += 2;
        while (q < e && is_digit(*q)) q++;
        kind = SL_WFJ_REAL;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        const unsigned char *x = q + 1;
        if (x < e && (*x == '+' || *x == '-')) x++;
        if (x < e && is_digit(*x)) {
            while (x < e && is_digit(*x)) x++;
            q = x;
            kind = SL_WFJ_REAL;
        }
    }
    size_t n = (size_t)(q - c->s);
    memcpy(c->o, c->s, n);
    c->o += n;
    c->s = q;
    return kind;
}

/* One value that is not a container (or the opening of one: returns
 * OBJECT/ARRAY after writing the bracket, the caller handles the rest). */
static int scan_value_start(cstate *c)
{
    if (c->s >= c->e) return fail(c, "Expecting value", c->s);
    switch (*c->s) {
    case '"': return scan_string(c);
    case '{':
    case '[':
        /* Bounded, so that every later walk of the value (str(), dict keys)
         * may recurse; Python's own json.loads gives up near this depth. */
        if (c->depth >= SL_WFJ_MAX_DEPTH) return fail(c, "nested deeper than 1000 levels", c->s);
        *c->o++ = (char)*c->s;
        return *c->s++ == '{' ? SL_WFJ_OBJECT : SL_WFJ_ARRAY;
    case 't': return literal(c, "true", SL_WFJ_TRUE);
    case 'f': return literal(c, "false", SL_WFJ_FALSE);
    case 'n': return literal(c, "null", SL_WFJ_NULL);
    case 'N': return literal(c, "NaN", SL_WFJ_NAN);
    case 'I': return literal(c, "Infinity", SL_WFJ_INF);
    default: return scan_number(c);
    }
}

/* The key of an object member and its colon; 0 or -1. */
static int scan_key(cstate *c)
{
    skip_ws(c);
    if (c->s >= c->e || *c->s != '"')
        return fail(c, "Expecting property name enclosed in double quotes", c->s);
    if (scan_string(c) < 0) return -1;
    skip_ws(c);
    if (c->s >= c->e || *c->s != ':') return fail(c, "Expecting ':' delimiter", c->s);
    *c->o++ = ':';
    c->s++;
    return 0;
}

/*
 * The document as a loop over a container stack (no recursion, so any
 * depth is fine).  After each value: close containers or expect a comma.
 */
static int scan_document(cstate *c)
{
    int top = -1;
    for (;;) {
        skip_ws(c);
        int k = scan_value_start(c);
        if (k < 0) return -1;
        if (top < 0) top = k;
        if (k == SL_WFJ_OBJECT || k == SL_WFJ_ARRAY) {
            if (push(c, k == SL_WFJ_OBJECT ? 'o' : 'a')) return fail(c, "out of memory", c->s);
            skip_ws(c);
            unsigned char close = k == SL_WFJ_OBJECT ? '}' : ']';
            if (c->s < c->e && *c->s == close) {
                c->s++;
                *c->o++ = (char)close;
                c->depth--;
            } else {
                if (k == SL_WFJ_OBJECT && scan_key(c)) return -1;
                continue;
            }
        }
        /* after a complete value */
        for (;;) {
            skip_ws(c);
            if (c->depth == 0) {
                if (c->s != c->e) return fail(c, "Extra data", c->s);
                return top;
            }
            unsigned char t = c->stack[c->depth - 1];
            unsigned char close = t == 'o' ? '}' : ']';
            if (c->s < c->e && *c->s == close) {
                c->s++;
                *c->o++ = (char)close;
                c->depth--;
                continue;
            }
            if (c->s >= c->e || *c->s != ',') return fail(c, "Expecting ',' delimiter", c->s);
            c->s++;
            *c->o++ = ',';
            if (t == 'o' && scan_key(c)) return -1;
            break;
        }
    }
}

int sl_wfj_compact(const char *p, size_t n, sl_buf *out, const char **why, size_t *at)
{
    if (sl_buf_reserve(out, n + 1)) {
        *why = "out of memory";
        *at = 0;
        return -1;
    }
    cstate c;
    c.s = c.start = (const unsigned char *)p;
    c.e = c.s + n;
    c.o = out->p + out->len;
    c.why = NULL;
    c.at = 0;
    c.stack = c.small;
    c.depth = 0;
    c.cap = sizeof c.small;
    int k = scan_document(&c);
    if (c.stack != c.small) free(c.stack);
    if (k < 0) {
        *why = c.why;
        *at = c.at;
        out->p[out->len] = '\0';
        return -1;
    }
    out->len = (size_t)(c.o - out->p);
    out->p[out->len] = '\0';
    return k;
}

/* ---- walking compact text ---- */

/* End of the string token at p (just past its closing quote): the first
 * quote not escaped, i.e. not preceded by an odd run of backslashes. */
static const char *skip_string(const char *p, const char *end)
{
    const char *start = ++p;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) return end;
        const char *b = q;
        while (b > start && b[-1] == '\\') b--;
        if ((q - b) % 2 == 0) return q + 1;
        p = q + 1;
    }
}

const char *sl_wfj_skip(const char *p, const char *end, int *kind)
{
    if (p >= end) {
        *kind = SL_WFJ_NONE;
        return p;
    }
    switch (*p) {
    case '"': *kind = SL_WFJ_STRING; return skip_string(p, end);
    case 't': *kind = SL_WFJ_TRUE; return p + 4;
    case 'f': *kind = SL_WFJ_FALSE; return p + 5;
    case 'n': *kind = SL_WFJ_NULL; return p + 4;
    case 'N': *kind = SL_WFJ_NAN; return p + 3;
    case 'I': *kind = SL_WFJ_INF; return p + 8;
    case '{':
    case '[': {
        *kind = *p == '{' ? SL_WFJ_OBJECT : SL_WFJ_ARRAY;
        size_t depth = 0;
        while (p < end) {
            char c = *p;
            if (c == '"') {
                p = skip_string(p, end);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
            p++;
        }
        return end;
    }
    default:
        if (*p == '-' && p + 1 < end && p[1] == 'I') {
            *kind = SL_WFJ_NINF;
            return p + 9;
        }
        *kind = SL_WFJ_INT;
        for (p++; p < end; p++) {
            char c = *p;
            if (c == '.' || c == 'e' || c == 'E') *kind = SL_WFJ_REAL;
            else if (!is_digit((unsigned char)c) && c != '+' && c != '-') break;
        }
        return p;
    }
}

int sl_wfj_member(const char **pos, const char *end, sl_wfj_val *key, sl_wfj_val *val)
{
    const char *p = *pos;
    if (p < end && *p == ',') p++;
    if (p >= end || *p != '"') return 0;
    key->kind = SL_WFJ_STRING;
    key->p = p;
    p = skip_string(p, end);
    key->n = (size_t)(p - key->p);
    p++; /* ':' */
    val->p = p;
    p = sl_wfj_skip(p, end, &val->kind);
    val->n = (size_t)(p - val->p);
    *pos = p;
    return 1;
}

/* ---- strings ---- */

static unsigned hexval(unsigned c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static uint32_t hex4(const char *p)
{
    return (hexval((unsigned char)p[0]) << 12) | (hexval((unsigned char)p[1]) << 8) |
           (hexval((unsigned char)p[2]) << 4) | hexval((unsigned char)p[3]);
}

void sl_wfj_unescape(const sl_wfj_val *v, sl_buf *out)
{
    const char *p = v->p + 1, *e = v->p + v->n - 1;
    while (p < e) {
        const char *run = p;
        while (p < e && *p != '\\') p++;
        sl_buf_append(out, run, (size_t)(p - run));
        if (p >= e) break;
        char x = p[1];
        p += 2;
        switch (x) {
        case 'b': sl_buf_putc(out, '\b'); break;
        case 'f': sl_buf_putc(out, '\f'); break;
        case 'n': sl_buf_putc(out, '\n'); break;
        case 'r': sl_buf_putc(out, '\r'); break;
        case 't': sl_buf_putc(out, '\t'); break;
        case 'u': {
            uint32_t cp = hex4(p);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                uint32_t lo = hex4(p + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            utf8_put(out, cp);
            break;
        }
        default: sl_buf_putc(out, x); /* " \ / */
        }
    }
}

int sl_wfj_str_eq(const sl_wfj_val *v, const char *name)
{
    if (v->kind != SL_WFJ_STRING) return 0;
    size_t n = strlen(name);
    if (!memchr(v->p, '\\', v->n)) return v->n == n + 2 && memcmp(v->p + 1, name, n) == 0;
    sl_buf b = SL_BUF_INIT;
    sl_wfj_unescape(v, &b);
    int eq = !b.oom && b.len == n && memcmp(b.p ? b.p : "", name, n) == 0;
    sl_buf_free(&b);
    return eq;
}

/* ---- Python's int(str) and float(str) ---- */

/* Code points of the digit zero of every Unicode decimal digit run (category
 * Nd, Unicode 14 as in the reference Python 3.11); each run is 0..9. */
static const uint32_t nd_zeros[] = {
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6,
    0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
    0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0,
    0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0,
    0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50,
    0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC,
    0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
};

/* The decimal value of cp, or -1. */
static int py_decimal(uint32_t cp)
{
    if (cp < 0x80) return is_digit(cp) ? (int)(cp - '0') : -1;
    size_t lo = 0, hi = sizeof nd_zeros / sizeof *nd_zeros;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (nd_zeros[mid] <= cp) lo = mid;
        else hi = mid;
    }
    return cp - nd_zeros[lo] < 10 ? (int)(cp - nd_zeros[lo]) : -1;
}

/*
 * Python's preparation of number text: strip whitespace, turn every decimal
 * digit into ASCII; anything else non-ASCII makes the text invalid.  The
 * result (NUL-terminated) goes to out; 0 or -1.
 */
static int to_ascii_number(const char *s, size_t n, char *out, size_t cap)
{
    sl_wfj_strip(&s, &n);
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    size_t o = 0;
    while (p < e) {
        uint32_t cp;
        p += utf8_decode(p, e, &cp);
        int d = py_decimal(cp);
        char c;
        if (d >= 0) c = (char)('0' + d);
        else if (cp < 0x80) c = (char)cp;
        else return -1;
        if (o + 1 >= cap) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return o ? 0 : -1;
}

/* digitpart := digit (['_'] digit)*; returns the end, or p if none. */
static const char *digitpart(const char *p, char **w)
{
    if (!is_digit((unsigned char)*p)) return p;
    *(*w)++ = *p++;
    for (;;) {
        if (is_digit((unsigned char)*p)) *(*w)++ = *p++;
        else if (*p == '_' && is_digit((unsigned char)p[1])) p++;
        else return p;
    }
}

int sl_wfj_int_from_text(const char *s, size_t n, int64_t *out)
{
    char buf[128], digits[128];
    if (to_ascii_number(s, n, buf, sizeof buf)) return -1;
    const char *p = buf;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    char *w = digits;
    const char *end = digitpart(p, &w);
    if (end == p || *end) return -1;
    uint64_t v = 0;
    for (char *d = digits; d < w; d++) {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(*d - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

int sl_wfj_float_from_text(const char *s, size_t n, double *out)
{
    char buf[512], clean[512];
    if (to_ascii_number(s, n, buf, sizeof buf)) return -1;
    const char *p = buf;
    char *w = clean;
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        *w++ = *p++;
    }
    if (ieq(p, "inf") || ieq(p, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return 0;
    }
    if (ieq(p, "nan")) {
        *out = NAN;
        return 0;
    }
    const char *q = digitpart(p, &w);
    int have = q != p;
    if (*q == '.') {
        *w++ = *q++;
        const char *r = digitpart(q, &w);
        have |= r != q;
        q = r;
    }
    if (!have) return -1;
    if (*q == 'e' || *q == 'E') {
        *w++ = *q++;
        if (*q == '+' || *q == '-') *w++ = *q++;
        const char *r = digitpart(q, &w);
        if (r == q) return -1;
        q = r;
    }
    if (*q) return -1;
    *w = '\0';
    *out = strtod(clean, NULL);
    return 0;
}

/* ---- conversions of one value ---- */

/* Exact int64 of an integer token; -1 when it does not fit. */
static int int_token(const char *p, size_t n, int64_t *out)
{
    int neg = *p == '-';
    uint64_t v = 0;
    for (size_t i = (size_t)neg; i < n; i++) {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static double real_token(const sl_wfj_val *v)
{
    char tmp[64];
    if (v->n < sizeof tmp) {
        memcpy(tmp, v->p, v->n);
        tmp[v->n] = '\0';
        return strtod(tmp, NULL);
    }
    char *t = strndup(v->p, v->n);
    double d = t ? strtod(t, NULL) : NAN;
    free(t);
    return d;
}

int sl_wfj_py_int(const sl_wfj_val *v, int64_t *out)
{
    switch (v->kind) {
    case SL_WFJ_INT: return int_token(v->p, v->n, out);
    case SL_WFJ_REAL: {
        double d = trunc(real_token(v));
        if (!(d > -9.2e18 && d < 9.2e18)) return -1;
        *out = (int64_t)d;
        return 0;
    }
    case SL_WFJ_TRUE: *out = 1; return 0;
    case SL_WFJ_FALSE: *out = 0; return 0;
    case SL_WFJ_STRING: {
        sl_buf b = SL_BUF_INIT;
        sl_wfj_unescape(v, &b);
        int rc = b.oom ? -1 : sl_wfj_int_from_text(b.p ? b.p : "", b.len, out);
        sl_buf_free(&b);
        return rc;
    }
    default: return -1;
    }
}

int sl_wfj_py_float(const sl_wfj_val *v, double *out)
{
    switch (v->kind) {
    case SL_WFJ_INT:
        *out = real_token(v);
        return isinf(*out) ? -1 : 0; /* int too large to convert to float */
    case SL_WFJ_REAL: *out = real_token(v); return 0;
    case SL_WFJ_TRUE: *out = 1.0; return 0;
    case SL_WFJ_FALSE: *out = 0.0; return 0;
    case SL_WFJ_NAN: *out = NAN; return 0;
    case SL_WFJ_INF: *out = INFINITY; return 0;
    case SL_WFJ_NINF: *out = -INFINITY; return 0;
    case SL_WFJ_STRING: {
        sl_buf b = SL_BUF_INIT;
        sl_wfj_unescape(v, &b);
        int rc = b.oom ? -1 : sl_wfj_float_from_text(b.p ? b.p : "", b.len, out);
        sl_buf_free(&b);
        return rc;
    }
    default: return -1;
    }
}

int sl_wfj_py_truthy(const sl_wfj_val *v)
{
    switch (v->kind) {
    case SL_WFJ_STRING:
    case SL_WFJ_OBJECT:
    case SL_WFJ_ARRAY: return v->n > 2;
    case SL_WFJ_INT:
        for (size_t i = 0; i < v->n; i++)
            if (v->p[i] >= '1' && v->p[i] <= '9') return 1;
        return 0;
    case SL_WFJ_REAL: return real_token(v) != 0.0;
    case SL_WFJ_TRUE:
    case SL_WFJ_NAN:
    case SL_WFJ_INF:
    case SL_WFJ_NINF: return 1;
    default: return 0;
    }
}

void sl_wfj_float_repr(double d, sl_buf *out)
{
    if (isnan(d)) {
        sl_buf_puts(out, "nan");
        return;
    }
    if (isinf(d)) {
        sl_buf_puts(out, d < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[40];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    if (prec == 17) snprintf(tmp, sizeof tmp, "%.16e", d);
    /* tmp is [-]D[.DDD]e[+-]XX: collect the digits and the exponent */
    char digits[24];
    size_t nd = 0;
    const char *p = tmp;
    int neg = *p == '-';
    if (neg) p++;
    for (; *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int decpt = exp10 + 1; /* digits before the point */
    if (neg) sl_buf_putc(out, '-');
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            sl_buf_puts(out, "0.");
            for (int i = 0; i < -decpt; i++) sl_buf_putc(out, '0');
            sl_buf_append(out, digits, nd);
        } else if ((size_t)decpt >= nd) {
            sl_buf_append(out, digits, nd);
            for (size_t i = nd; i < (size_t)decpt; i++) sl_buf_putc(out, '0');
            sl_buf_puts(out, ".0");
        } else {
            sl_buf_append(out, digits, (size_t)decpt);
            sl_buf_putc(out, '.');
            sl_buf_append(out, digits + decpt, nd - (size_t)decpt);
        }
    } else {
        sl_buf_putc(out, digits[0]);
        if (nd > 1) {
            sl_buf_putc(out, '.');
            sl_buf_append(out, digits + 1, nd - 1);
        }
        sl_buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
}

/* str.isprintable() for a non-ASCII code point, approximately: controls,
 * separators, format characters, surrogates and private use are not. */
static int py_printable(uint32_t c)
{
    if (c <= 0xA0 || c == 0xAD) return 0;
    if (py_isspace(c)) return 0;
    if ((c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x180E)
        return 0;
    if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
        (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB))
        return 0;
    if ((c >= 0xD800 && c <= 0xF8FF) || c >= 0xF0000) return 0;
    return 1;
}

/* repr() of a decoded string. */
static void str_repr(const char *s, size_t n, sl_buf *out)
{
    char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    sl_buf_putc(out, quote);
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        uint32_t c;
        size_t len = utf8_decode(p, e, &c);
        if (c == (uint32_t)quote || c == '\\') {
            sl_buf_putc(out, '\\');
            sl_buf_putc(out, (char)c);
        } else if (c == '\t') sl_buf_puts(out, "\\t");
        else if (c == '\n') sl_buf_puts(out, "\\n");
        else if (c == '\r') sl_buf_puts(out, "\\r");
        else if (c < 0x20 || c == 0x7F) sl_buf_printf(out, "\\x%02x", c);
        else if (c < 0x80) sl_buf_putc(out, (char)c);
        else if (!py_printable(c)) {
            if (c <= 0xFF) sl_buf_printf(out, "\\x%02x", c);
            else if (c <= 0xFFFF) sl_buf_printf(out, "\\u%04x", c);
            else sl_buf_printf(out, "\\U%08x", c);
        } else sl_buf_append(out, p, len);
        p += len;
    }
    sl_buf_putc(out, quote);
}

static void py_repr(const sl_wfj_val *v, sl_buf *out);

static void int_str(const sl_wfj_val *v, sl_buf *out)
{
    if (v->n == 2 && v->p[0] == '-' && v->p[1] == '0') sl_buf_putc(out, '0');
    else sl_buf_append(out, v->p, v->n);
}

static void array_repr(const sl_wfj_val *v, sl_buf *out)
{
    const char *p = v->p + 1, *end = v->p + v->n - 1;
    sl_buf_putc(out, '[');
    while (p < end) {
        if (*p == ',') {
            p++;
            sl_buf_puts(out, ", ");
        }
        sl_wfj_val e = {0, p, 0};
        p = sl_wfj_skip(p, end, &e.kind);
        e.n = (size_t)(p - e.p);
        py_repr(&e, out);
    }
    sl_buf_putc(out, ']');
}

/* A dict keeps a repeated key at its first position with its last value. */
static void object_repr(const sl_wfj_val *v, sl_buf *out)
{
    const char *end = v->p + v->n - 1;
    sl_buf kb = SL_BUF_INIT, kb2 = SL_BUF_INIT;
    sl_buf_putc(out, '{');
    const char *p = v->p + 1;
    sl_wfj_val k, val;
    int first = 1;
    while (sl_wfj_member(&p, end, &k, &val)) {
        sl_buf_reset(&kb);
        sl_wfj_unescape(&k, &kb);
        /* skip a key already shown; find the last value of this key */
        const char *q = v->p + 1;
        sl_wfj_val k2, v2, last = val;
        int seen_before = 0;
        while (sl_wfj_member(&q, end, &k2, &v2)) {
            sl_buf_reset(&kb2);
            sl_wfj_unescape(&k2, &kb2);
            int same = kb.len == kb2.len && memcmp(kb.p ? kb.p : "", kb2.p ? kb2.p : "", kb.len) == 0;
            if (!same) continue;
            if (k2.p < k.p) seen_before = 1;
            if (k2.p > k.p) last = v2;
        }
        if (seen_before) continue;
        if (!first) sl_buf_puts(out, ", ");
        first = 0;
        str_repr(kb.p ? kb.p : "", kb.len, out);
        sl_buf_puts(out, ": ");
        py_repr(&last, out);
    }
    sl_buf_putc(out, '}');
    sl_buf_free(&kb);
    sl_buf_free(&kb2);
}

static void py_repr(const sl_wfj_val *v, sl_buf *out)
{
    switch (v->kind) {
    case SL_WFJ_STRING: {
        sl_buf b = SL_BUF_INIT;
        sl_wfj_unescape(v, &b);
        str_repr(b.p ? b.p : "", b.len, out);
        sl_buf_free(&b);
        break;
    }
    case SL_WFJ_ARRAY: array_repr(v, out); break;
    case SL_WFJ_OBJECT: object_repr(v, out); break;
    default: sl_wfj_py_str(v, out);
    }
}

void sl_wfj_py_str(const sl_wfj_val *v, sl_buf *out)
{
    switch (v->kind) {
    case SL_WFJ_STRING: sl_wfj_unescape(v, out); break;
    case SL_WFJ_INT: int_str(v, out); break;
    case SL_WFJ_REAL: sl_wfj_float_repr(real_token(v), out); break;
    case SL_WFJ_TRUE: sl_buf_puts(out, "True"); break;
    case SL_WFJ_FALSE: sl_buf_puts(out, "False"); break;
    case SL_WFJ_NAN: sl_buf_puts(out, "nan"); break;
    case SL_WFJ_INF: sl_buf_puts(out, "inf"); break;
    case SL_WFJ_NINF: sl_buf_puts(out, "-inf"); break;
    case SL_WFJ_ARRAY:
    case SL_WFJ_OBJECT: py_repr(v, out); break;
    default: sl_buf_puts(out, "None");
    }
}

/*
 * Keys: a string is itself unless it starts with the marker byte 0x1F,
 * every other value is the marker plus a tag, so no string can collide with
 * a number.  Numbers equal in Python share a key: an integral value of any
 * spelling (1, 1.0, 1e0, true) is "\x1fn" and its exact integer digits.
 */
int sl_wfj_py_key(const sl_wfj_val *v, sl_buf *out)
{
    switch (v->kind) {
    case SL_WFJ_STRING: {
        size_t start = out->len;
        sl_wfj_unescape(v, out);
        if (out->len > start && out->p[start] == '\x1f') {
            /* rare: re-tag so it cannot pass for a number's key */
            sl_buf tmp = SL_BUF_INIT;
            sl_buf_append(&tmp, out->p + start, out->len - start);
            out->len = start;
            sl_buf_puts(out, "\x1fs");
            sl_buf_append(out, tmp.p, tmp.len);
            sl_buf_free(&tmp);
        }
        return SL_WFJ_KEY_OK;
    }
    case SL_WFJ_INT:
        sl_buf_puts(out, "\x1fn");
        int_str(v, out);
        return SL_WFJ_KEY_OK;
    case SL_WFJ_TRUE: sl_buf_puts(out, "\x1fn1"); return SL_WFJ_KEY_OK;
    case SL_WFJ_FALSE: sl_buf_puts(out, "\x1fn0"); return SL_WFJ_KEY_OK;
    case SL_WFJ_NULL: sl_buf_puts(out, "\x1fz"); return SL_WFJ_KEY_OK;
    case SL_WFJ_INF: sl_buf_puts(out, "\x1f" "finf"); return SL_WFJ_KEY_OK;
    case SL_WFJ_NINF: sl_buf_puts(out, "\x1f" "f-inf"); return SL_WFJ_KEY_OK;
    case SL_WFJ_NAN:
        /* json.loads returns one shared float object for every NaN literal,
         * so dict lookups (identity first) find it: NaN is one key */
        sl_buf_puts(out, "\x1f" "nan");
        return SL_WFJ_KEY_OK;
    case SL_WFJ_REAL: {
        double d = real_token(v);
        if (isinf(d)) {
            sl_buf_puts(out, d < 0 ? "\x1f" "f-inf" : "\x1f" "finf");
        } else if (d == trunc(d)) {
            char tmp[400];
            snprintf(tmp, sizeof tmp, "%.0f", d);
            sl_buf_puts(out, "\x1fn");
            sl_buf_puts(out, strcmp(tmp, "-0") == 0 ? "0" : tmp);
        } else {
            sl_buf_puts(out, "\x1f" "f");
            sl_wfj_float_repr(d, out);
        }
        return SL_WFJ_KEY_OK;
    }
    default: return SL_WFJ_KEY_UNHASHABLE;
    }
}
