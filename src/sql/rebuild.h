/*
 * sql/rebuild.h -- the SQL functions that recompute derived tables
 * (store/derived.h), each a write, so DIRECTONLY (never from a view or a
 * trigger):
 *
 *     SELECT derived_rebuild('rollup_hour');  -- any entry of sl_derived_tables
 *     SELECT link_rollup_rebuild();           -- derived_rebuild('link_hour')
 *     SELECT trace_index_rebuild();           -- derived_rebuild('trace_gen')
 *
 * Each returns the entry's row count (generations for trace_gen) and runs
 * inside a savepoint, so a failure leaves the table as it was.  The two
 * named ones are the 004 and 005 migrations' backfills.
 */
#ifndef SL_SQL_REBUILD_H
#define SL_SQL_REBUILD_H

#include <sqlite3.h>

int sl_derived_register(sqlite3 *db);     /* derived_rebuild(name) */
int sl_link_rollup_register(sqlite3 *db); /* link_rollup_rebuild() */
int sl_trace_index_register(sqlite3 *db); /* trace_index_rebuild() */

#endif
