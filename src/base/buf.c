/* base/buf.c -- growable byte buffer; see buf.h. */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_buf_free(sl_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void sl_buf_reset(sl_buf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = '\0';
    b->oom = 0;
}

int sl_buf_reserve(sl_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void sl_buf_append(sl_buf *b, const void *p, size_t n)
{
    if (sl_buf_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sl_buf_puts(sl_buf *b, const char *s) { sl_buf_append(b, s, strlen(s)); }

void sl_buf_printf(sl_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sl_buf_append(b, tmp, (size_t)n);
        return;
    }
    if (sl_buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *sl_buf_take(sl_buf *b)
{
    char *p = b->p;
    if (!p) p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

int sl_array_grow(void *pp, size_t *cap, size_t need, size_t size, size_t min_cap)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : min_cap;
    while (nc < need) nc *= 2;
    void *p = realloc(*(void **)pp, nc * size);
    if (!p) return -1;
    *(void **)pp = p;
    *cap = nc;
    return 0;
}
