/* workflow/dict.c -- workflow dictionaries, read side; see workflow/dict.h. */
#include "workflow/dict.h"
#include "base/buf.h"
#include "workflow/segment.h"

#include <stdlib.h>
#include <string.h>

#define TXN_CACHE_MAX 65536 /* cached transaction names before starting over */

void sl_wfdict_init(sl_wfdict *d, sqlite3 *db)
{
    memset(d, 0, sizeof *d);
    d->db = db;
    sl_map_init(&d->txn_cache);
}

static void table_free(sl_wfdict_table *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->e[i].text);
    free(t->e);
    t->e = NULL;
    t->n = 0;
}

static void txn_cache_clear(sl_wfdict *d)
{
    for (size_t i = 0; i < d->ntxn; i++) free(d->txn_names[i]);
    d->ntxn = 0;
    sl_map_clear(&d->txn_cache);
}

void sl_wfdict_reset(sl_wfdict *d)
{
    table_free(&d->types);
    table_free(&d->workflows);
    table_free(&d->templates);
    txn_cache_clear(d);
}

void sl_wfdict_free(sl_wfdict *d)
{
    sl_wfdict_reset(d);
    free(d->txn_names);
    sl_map_free(&d->txn_cache);
    sqlite3_finalize(d->txn_stmt);
    memset(d, 0, sizeof *d);
}

/* Load the whole table (they are small: one row per distinct name). */
static int table_load(sl_wfdict *d, sl_wfdict_table *t, const char *sql, int is_template)
{
    table_free(t);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id < 0 || id > (1 << 30)) continue;
        if ((size_t)id >= cap) {
            size_t old = cap;
            if (sl_array_reserve(&t->e, &cap, (size_t)id + 1, sizeof *t->e, 64)) break;
            memset(t->e + old, 0, (cap - old) * sizeof *t->e);
        }
        const void *p = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        char *s = malloc(n + 1);
        if (!s) break;
        if (n) memcpy(s, p, n);
        s[n] = '\0';
        t->e[id].text = s;
        t->e[id].len = n;
        t->e[id].nslots = is_template ? sl_wfseg_template_slots(s, n) : 0;
        if ((size_t)id >= t->n) t->n = (size_t)id + 1;
    }
    /* entries between n and cap were zeroed; trim n to what is loaded */
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static const sl_wfdict_entry *lookup(sl_wfdict *d, sl_wfdict_table *t, uint64_t id,
                                     const char *sql, int is_template)
{
    if (id < t->n && t->e[id].text) return &t->e[id];
    if (table_load(d, t, sql, is_template)) return NULL;
    return id < t->n && t->e[id].text ? &t->e[id] : NULL;
}

const sl_wfdict_entry *sl_wfdict_type(sl_wfdict *d, uint64_t id)
{
    return lookup(d, &d->types, id, "SELECT id, name FROM wf_type", 0);
}

const sl_wfdict_entry *sl_wfdict_workflow(sl_wfdict *d, uint64_t id)
{
    return lookup(d, &d->workflows, id, "SELECT id, name FROM wf_workflow", 0);
}

const sl_wfdict_entry *sl_wfdict_template(sl_wfdict *d, uint64_t id)
{
    return lookup(d, &d->templates, id, "SELECT id, shape FROM wf_template", 1);
}

const char *sl_wfdict_txn(sl_wfdict *d, int64_t ref)
{
    uint64_t *slot = sl_map_get(&d->txn_cache, (uint64_t)ref);
    if (slot) return d->txn_names[*slot - 1];
    if (!d->txn_stmt &&
        sqlite3_prepare_v2(d->db, "SELECT coalesce(txn_id, key) FROM wf_txn WHERE ref = ?", -1, &d->txn_stmt,
                           NULL) != SQLITE_OK)
        return NULL;
    if (d->ntxn >= TXN_CACHE_MAX) txn_cache_clear(d);
    sqlite3_bind_int64(d->txn_stmt, 1, ref);
    char *name = NULL;
    if (sqlite3_step(d->txn_stmt) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(d->txn_stmt, 0);
        name = strdup(t ? t : "");
    }
    sqlite3_reset(d->txn_stmt);
    if (!name) return NULL;
    if (sl_array_reserve(&d->txn_names, &d->captxn, d->ntxn + 1, sizeof *d->txn_names, 256)) {
        free(name);
        return NULL;
    }
    d->txn_names[d->ntxn++] = name;
    slot = sl_map_put(&d->txn_cache, (uint64_t)ref, NULL);
    if (!slot) {
        d->ntxn--;
        free(name);
        return NULL;
    }
    *slot = d->ntxn;
    return name;
}
