/*
 * base/buf.h -- a growable byte buffer, always NUL-terminated.
 * Allocation failure is sticky: the buffer records it in .oom and further
 * appends do nothing, so callers check once at the end.
 */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sl_buf {
    char *p;      /* contents, NUL-terminated (NULL until first append) */
    size_t len;   /* bytes used, excluding the NUL */
    size_t cap;   /* bytes allocated */
    int oom;      /* an allocation failed */
} sl_buf;

#define SL_BUF_INIT {NULL, 0, 0, 0}

void sl_buf_free(sl_buf *b);
void sl_buf_reset(sl_buf *b); /* empties, keeps memory */
int sl_buf_reserve(sl_buf *b, size_t extra);
void sl_buf_append(sl_buf *b, const void *p, size_t n);
void sl_buf_puts(sl_buf *b, const char *s);

/* One byte; inline because writers call it for every quote and comma. */
static inline void sl_buf_putc(sl_buf *b, char c)
{
    if (b->len + 2 > b->cap && sl_buf_reserve(b, 1)) return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}
void sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the contents over (caller frees); the buffer is left empty. */
char *sl_buf_take(sl_buf *b);

/* Room for at least need elements of size bytes in the array *(void **)pp
 * of capacity *cap, grown geometrically (first min_cap).  0, or -1 on
 * allocation failure with the array left as it was.  Inline for the common
 * case, room already there: callers reserve once per element. */
int sl_array_grow(void *pp, size_t *cap, size_t need, size_t size, size_t min_cap);
static inline int sl_array_reserve(void *pp, size_t *cap, size_t need, size_t size, size_t min_cap)
{
    return need <= *cap ? 0 : sl_array_grow(pp, cap, need, size, min_cap);
}

#endif
