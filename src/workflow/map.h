/*
 * workflow/map.h -- two small open-addressing hash maps for the workflow code:
 * 64-bit keys to 64-bit values, and byte strings (copied in) to 64-bit
 * values.  No deletion: users clear a map, or rebuild it from what they
 * keep, which is all the bounded caches of workflow/writer.c need.
 */
#ifndef SL_WF_MAP_H
#define SL_WF_MAP_H

#include <stddef.h>
#include <stdint.h>

/* Slots hold key and value together (one cache line per probe); key 0
 * marks a free slot, so the entry for key 0 lives apart. */
typedef struct sl_wfmap_slot {
    uint64_t key, val;
} sl_wfmap_slot;

typedef struct sl_wfmap {
    sl_wfmap_slot *slots;
    size_t cap, n;   /* slots (a power of two), entries */
    int has_zero;    /* key 0 is present, its value in zero_val */
    uint64_t zero_val;
} sl_wfmap;

/* Visit every entry: for (i = 0; sl_wfmap_next(m, &i, &k, &v);) */
int sl_wfmap_next(const sl_wfmap *m, size_t *i, uint64_t *key, uint64_t *val);

void sl_wfmap_init(sl_wfmap *m);
void sl_wfmap_free(sl_wfmap *m);
void sl_wfmap_clear(sl_wfmap *m);
/* The value of key, or NULL. */
uint64_t *sl_wfmap_get(const sl_wfmap *m, uint64_t key);
/* The value slot of key, created (0) when absent; NULL when out of memory.
 * *created tells which, when not NULL. */
uint64_t *sl_wfmap_put(sl_wfmap *m, uint64_t key, int *created);

typedef struct sl_wfstrmap {
    struct sl_wfstr_entry *e; /* entries, in insertion order */
    size_t n, cap;
    sl_wfmap index;           /* hash of the bytes -> entry index + 1 chain head */
} sl_wfstrmap;

void sl_wfstrmap_init(sl_wfstrmap *m);
void sl_wfstrmap_free(sl_wfstrmap *m);
void sl_wfstrmap_clear(sl_wfstrmap *m);
/* The value of the bytes s[0..n), or NULL. */
uint64_t *sl_wfstrmap_get(const sl_wfstrmap *m, const char *s, size_t n);
/* Insert (the bytes are copied); NULL when out of memory.  Must not be
 * present already. */
uint64_t *sl_wfstrmap_add(sl_wfstrmap *m, const char *s, size_t n, uint64_t val);
size_t sl_wfstrmap_count(const sl_wfstrmap *m);

uint64_t sl_wf_hash_bytes(const void *p, size_t n);

#endif
