/*
 * stats.h -- spanlite's statistical SQL functions: exact percentiles
 * (percentile, percentile_cont, median, percentile_nr) and a mergeable
 * quantile sketch (sketch, sketch_merge, sketch_quantile, sketch_count).
 * The definitions, error messages and the sketch's error guarantee and
 * binary encoding are in the header comment of stats.c and in
 * docs/sql-stats.md.
 *
 * Usage:
 *
 *     sqlite3 *db;
 *     sqlite3_open(":memory:", &db);
 *     if (sl_stats_register(db) != SQLITE_OK) ... sqlite3_errmsg(db) ...
 *     -- then, in SQL:
 *     SELECT percentile(duration_ns, 99) FROM spans;
 *
 * The functions keep no state outside their SQLite aggregate contexts, so
 * one registration per connection is all there is to it.
 */
#ifndef SL_STATS_H
#define SL_STATS_H

typedef struct sqlite3 sqlite3;

/* Register every function of stats.c on db.  Returns an SQLite result code
 * (SQLITE_OK on success; on failure the error is in sqlite3_errmsg(db)
 * and functions registered before the failure stay registered). */
int sl_stats_register(sqlite3 *db);

#endif
