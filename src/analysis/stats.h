/*
 * analysis/stats.h -- spanlite's statistical SQL functions: exact percentiles
 * (percentile, percentile_cont, median, percentile_nr) and a mergeable
 * quantile sketch (sketch, sketch_merge, sketch_quantile, sketch_count).
 * The definitions, error messages and the sketch's error guarantee and
 * binary encoding are in the header comment of stats.c and in
 * docs/sql.md.
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

#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* Register every function of stats.c on db.  Returns an SQLite result code
 * (SQLITE_OK on success; on failure the error is in sqlite3_errmsg(db)
 * and functions registered before the failure stay registered). */
int sl_stats_register(sqlite3 *db);


/*
 * The sketch from C, for rollups kept at ingest: build one from values,
 * merge stored BLOBs into it, and encode it in the format sketch() writes.
 * Default alpha (0.01).  sl_sketch_encode() returns memory to release with
 * sqlite3_free(), or NULL for an empty sketch or on OOM.
 */
typedef struct sl_sketch sl_sketch;
sl_sketch *sl_sketch_new(void);
void sl_sketch_free(sl_sketch *s);
int sl_sketch_add(sl_sketch *s, double v);                            /* SQLite code */
int sl_sketch_merge_blob(sl_sketch *s, const void *blob, size_t n);  /* SQLite code */
int sl_sketch_merge(sl_sketch *dst, const sl_sketch *src);           /* SQLite code */
/* Take back one value added before; a value never added is ignored.
 * Counts stay exact; quantiles keep the relative accuracy. */
void sl_sketch_remove(sl_sketch *s, double v);
uint64_t sl_sketch_count(const sl_sketch *s);
/* Percentile p (0..100) of a sketch BLOB, interpolated between the
 * estimates of the two closest ranks the way percentile() interpolates
 * exact values, so each stays within the relative accuracy.  SQLITE_EMPTY
 * for an empty sketch. */
int sl_sketch_blob_percentile(const void *blob, size_t n, double p, double *out);
void *sl_sketch_encode(const sl_sketch *s, size_t *n);

#endif
