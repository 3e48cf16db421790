/*
 * workflow/dict.h -- read side of the workflow dictionaries: type names,
 * workflow names and template shapes by id, and the str() of a transaction
 * by ref.  Used by everything that decodes segments (the report, the
 * wf_events table and the import's identity check).  Ids are small and
 * dense, so names live in arrays loaded on first use and reloaded when an
 * id is past what was loaded; transactions go through one prepared lookup
 * and a small cache.
 */
#ifndef SL_WF_DICT_H
#define SL_WF_DICT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include "base/map.h"

typedef struct sl_wfdict_entry {
    char *text;    /* NUL-terminated (templates may hold no NUL either) */
    size_t len;
    size_t nslots; /* templates: generic slots */
} sl_wfdict_entry;

typedef struct sl_wfdict_table {
    sl_wfdict_entry *e; /* indexed by id */
    size_t n;           /* ids 0..n-1 loaded (id 0 unused) */
} sl_wfdict_table;

typedef struct sl_wfdict {
    sqlite3 *db;
    sl_wfdict_table types, workflows, templates;
    sqlite3_stmt *txn_stmt;  /* SELECT txn_id FROM wf_txn WHERE ref = ? */
    sl_map txn_cache;      /* ref -> index into txn_names + 1 */
    char **txn_names;
    size_t ntxn, captxn;
} sl_wfdict;

void sl_wfdict_init(sl_wfdict *d, sqlite3 *db);
void sl_wfdict_free(sl_wfdict *d);

/* The entry of id, or NULL if there is none.  The pointer stays valid until
 * the next call that loads (any call may reload). */
const sl_wfdict_entry *sl_wfdict_type(sl_wfdict *d, uint64_t id);
const sl_wfdict_entry *sl_wfdict_workflow(sl_wfdict *d, uint64_t id);
const sl_wfdict_entry *sl_wfdict_template(sl_wfdict *d, uint64_t id);
/* str() of transaction ref, or NULL; valid until the next call (the cache
 * starts over when full). */
const char *sl_wfdict_txn(sl_wfdict *d, int64_t ref);
/* Forget what is cached (after another connection may have written). */
void sl_wfdict_reset(sl_wfdict *d);

#endif
