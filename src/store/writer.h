/*
 * store/writer.h -- the span writer: turns sl_span records into rows of the
 * internal tables (schema/001_core.sql) on one connection.
 *
 * It owns the prepared statements and small caches that make the hot path
 * cheap (trace ids, service and operation names, resources), notes every
 * span it inserts to the derived tables (store/derived.h: trace
 * aggregates, rollups, links, the trace index), and skips exact
 * re-deliveries through the span_identity index.  The caller frames
 * transactions with sl_store_begin()/sl_store_commit(); caches are dropped on
 * rollback, since ids handed out inside the transaction are gone with it.
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <sqlite3.h>
#include <stdint.h>
#include "spanlite.h"

typedef struct sl_store sl_store;

sl_store *sl_store_new(sqlite3 *db, char *err, size_t errlen);
void sl_store_free(sl_store *s);

int sl_store_begin(sl_store *s);    /* BEGIN IMMEDIATE (waits on busy_timeout) */
int sl_store_commit(sl_store *s);   /* flushes trace aggregates, COMMIT */
void sl_store_rollback(sl_store *s);

/* Write n valid spans (see sl_span_check) inside the open transaction,
 * counting st->imported and st->duplicates.  hashes, when not NULL, holds
 * sl_span_hash() of each span already normalised by sl_span_normalize()
 * (the import pipeline does both on its parser thread); with NULL the
 * store does it.  SQLite result code. */
int sl_store_spans(sl_store *s, const sl_span *spans, const uint64_t *hashes, size_t n,
                   sl_import_stats *st);

/* Empty the warehouse inside the caller's write transaction: every base
 * table, then each derived table's clear.  Writers on db must roll back
 * (sl_store_rollback) afterwards to drop their cached ids.  SQLite code,
 * message in err. */
int sl_store_clear(sqlite3 *db, char *err, size_t errlen);

/* Message of the last failure. */
const char *sl_store_error(const sl_store *s);

#endif
