/* base/arena.c -- bump allocator; see arena.h. */
#include "base/arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (256u << 10)

struct sl_arena_block {
    sl_arena_block *next;
    size_t used, cap;
    char data[];
};

void sl_arena_init(sl_arena *a) { a->head = a->spare = NULL; }

static void free_chain(sl_arena_block *b)
{
    while (b) {
        sl_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void sl_arena_release(sl_arena *a)
{
    free_chain(a->head);
    free_chain(a->spare);
    a->head = a->spare = NULL;
}

void sl_arena_reset(sl_arena *a)
{
    /* Keep standard-sized blocks for reuse; oversized ones go back to malloc. */
    sl_arena_block *b = a->head;
    while (b) {
        sl_arena_block *next = b->next;
        if (b->cap == ARENA_BLOCK) {
            b->used = 0;
            b->next = a->spare;
            a->spare = b;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = NULL;
}

void *sl_arena_alloc(sl_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    sl_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        if (n <= ARENA_BLOCK && a->spare) {
            b = a->spare;
            a->spare = b->next;
        } else {
            size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
            b = malloc(sizeof *b + cap);
            if (!b) return NULL;
            b->cap = cap;
        }
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *sl_arena_strndup(sl_arena *a, const char *s, size_t n)
{
    if (!s) return NULL;
    char *p = sl_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sl_arena_strdup(sl_arena *a, const char *s)
{
    return s ? sl_arena_strndup(a, s, strlen(s)) : NULL;
}
