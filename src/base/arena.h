/*
 * base/arena.h -- a bump allocator for many small strings with one lifetime.
 * Blocks are kept on reset, so a recycled arena allocates nothing.
 */
#ifndef SL_ARENA_H
#define SL_ARENA_H

#include <stddef.h>

typedef struct sl_arena_block sl_arena_block;
typedef struct sl_arena {
    sl_arena_block *head;  /* block being filled */
    sl_arena_block *spare; /* emptied blocks kept by sl_arena_reset() */
} sl_arena;

void sl_arena_init(sl_arena *a);
void sl_arena_reset(sl_arena *a);
void sl_arena_release(sl_arena *a);
void *sl_arena_alloc(sl_arena *a, size_t n);
/* Copy of s (NULL stays NULL); NULL on allocation failure of a non-NULL s. */
char *sl_arena_strdup(sl_arena *a, const char *s);
char *sl_arena_strndup(sl_arena *a, const char *s, size_t n);

#endif
