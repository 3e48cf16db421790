/* base/map.c -- the project's hash maps; see base/map.h. */
#include "base/map.h"
#include "base/buf.h"
#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

struct sl_str_entry {
    char *s;
    size_t n;
    uint64_t hash;
    uint64_t val;
    size_t next; /* next entry with the same index slot, + 1; 0 ends */
};

void sl_map_init(sl_map *m) { memset(m, 0, sizeof *m); }

void sl_map_free(sl_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

void sl_map_clear(sl_map *m)
{
    if (m->slots) memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = 0;
    m->has_zero = 0;
}

uint64_t *sl_map_get(const sl_map *m, uint64_t key)
{
    if (key == 0) return m->has_zero ? (uint64_t *)&m->zero_val : NULL;
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = sl_hash_mix64(key) & mask;; i = (i + 1) & mask) {
        sl_map_slot *s = &m->slots[i];
        if (s->key == key) return &s->val;
        if (s->key == 0) return NULL;
    }
}

/* Double the table and rehash into a new one (not sl_array_reserve: the
 * slots move, so the old table cannot be realloc'ed in place). */
static int grow(sl_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    sl_map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        size_t j = sl_hash_mix64(m->slots[i].key) & (cap - 1);
        while (slots[j].key) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

uint64_t *sl_map_put(sl_map *m, uint64_t key, int *created)
{
    if (key == 0) {
        if (created) *created = !m->has_zero;
        if (!m->has_zero) m->zero_val = 0, m->has_zero = 1, m->n++;
        return &m->zero_val;
    }
    if ((m->n + 1) * 2 > m->cap && grow(m)) return NULL;
    size_t mask = m->cap - 1;
    size_t i = sl_hash_mix64(key) & mask;
    for (;; i = (i + 1) & mask) {
        sl_map_slot *s = &m->slots[i];
        if (s->key == key) {
            if (created) *created = 0;
            return &s->val;
        }
        if (s->key == 0) break;
    }
    m->slots[i].key = key;
    m->slots[i].val = 0;
    m->n++;
    if (created) *created = 1;
    return &m->slots[i].val;
}

int sl_map_next(const sl_map *m, size_t *i, uint64_t *key, uint64_t *val)
{
    /* index 0 stands for the key-0 entry, i + 1 for slot i */
    if (*i == 0) {
        (*i)++;
        if (m->has_zero) {
            *key = 0;
            *val = m->zero_val;
            return 1;
        }
    }
    for (; *i <= m->cap; (*i)++) {
        const sl_map_slot *s = &m->slots[*i - 1];
        if (s->key) {
            *key = s->key;
            *val = s->val;
            (*i)++;
            return 1;
        }
    }
    return 0;
}

void sl_strmap_init(sl_strmap *m)
{
    memset(m, 0, sizeof *m);
    sl_map_init(&m->index);
}

void sl_strmap_clear(sl_strmap *m)
{
    for (size_t i = 0; i < m->n; i++) free(m->e[i].s);
    m->n = 0;
    sl_map_clear(&m->index);
}

void sl_strmap_free(sl_strmap *m)
{
    sl_strmap_clear(m);
    free(m->e);
    sl_map_free(&m->index);
    memset(m, 0, sizeof *m);
}

uint64_t *sl_strmap_get(const sl_strmap *m, const char *s, size_t n)
{
    uint64_t h = sl_hash_bytes(SL_HASH_INIT, s, n);
    uint64_t *head = sl_map_get(&m->index, h);
    for (size_t i = head ? (size_t)*head : 0; i; i = m->e[i - 1].next) {
        struct sl_str_entry *e = &m->e[i - 1];
        if (e->hash == h && e->n == n && memcmp(e->s, s, n) == 0) return &e->val;
    }
    return NULL;
}

uint64_t *sl_strmap_add(sl_strmap *m, const char *s, size_t n, uint64_t val)
{
    if (sl_array_reserve(&m->e, &m->cap, m->n + 1, sizeof *m->e, 32)) return NULL;
    char *copy = malloc(n + 1);
    if (!copy) return NULL;
    if (n) memcpy(copy, s, n);
    copy[n] = '\0';
    uint64_t h = sl_hash_bytes(SL_HASH_INIT, s, n);
    int created;
    uint64_t *head = sl_map_put(&m->index, h, &created);
    if (!head) {
        free(copy);
        return NULL;
    }
    struct sl_str_entry *e = &m->e[m->n];
    e->s = copy;
    e->n = n;
    e->hash = h;
    e->val = val;
    e->next = created ? 0 : (size_t)*head;
    *head = ++m->n;
    return &e->val;
}

size_t sl_strmap_count(const sl_strmap *m) { return m->n; }
