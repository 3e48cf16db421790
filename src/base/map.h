/*
 * base/map.h -- the project's hash maps, open addressing with linear
 * probing: sl_map takes 64-bit keys to 64-bit values, sl_strmap byte
 * strings (copied in) to 64-bit values.  No deletion: users clear a map,
 * or rebuild it from what they keep (bounded caches, per-transaction
 * tables).  Use these rather than a hand-made table; keys are spread with
 * base/hash.h.
 */
#ifndef SL_MAP_H
#define SL_MAP_H

#include <stddef.h>
#include <stdint.h>

/* Slots hold key and value together (one cache line per probe); key 0
 * marks a free slot, so the entry for key 0 lives apart. */
typedef struct sl_map_slot {
    uint64_t key, val;
} sl_map_slot;

typedef struct sl_map {
    sl_map_slot *slots;
    size_t cap, n;   /* slots (a power of two), entries */
    int has_zero;    /* key 0 is present, its value in zero_val */
    uint64_t zero_val;
} sl_map;

/* Visit every entry: for (i = 0; sl_map_next(m, &i, &k, &v);) */
int sl_map_next(const sl_map *m, size_t *i, uint64_t *key, uint64_t *val);

void sl_map_init(sl_map *m);
void sl_map_free(sl_map *m);
void sl_map_clear(sl_map *m);
/* The value of key, or NULL. */
uint64_t *sl_map_get(const sl_map *m, uint64_t key);
/* The value slot of key, created (0) when absent; NULL when out of memory.
 * *created tells which, when not NULL. */
uint64_t *sl_map_put(sl_map *m, uint64_t key, int *created);

typedef struct sl_strmap {
    struct sl_str_entry *e; /* entries, in insertion order */
    size_t n, cap;
    sl_map index;           /* hash of the bytes -> entry index + 1 chain head */
} sl_strmap;

void sl_strmap_init(sl_strmap *m);
void sl_strmap_free(sl_strmap *m);
void sl_strmap_clear(sl_strmap *m);
/* The value of the bytes s[0..n), or NULL. */
uint64_t *sl_strmap_get(const sl_strmap *m, const char *s, size_t n);
/* Insert (the bytes are copied); NULL when out of memory.  Must not be
 * present already. */
uint64_t *sl_strmap_add(sl_strmap *m, const char *s, size_t n, uint64_t val);
size_t sl_strmap_count(const sl_strmap *m);

#endif
