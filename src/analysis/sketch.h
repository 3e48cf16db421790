/*
 * analysis/sketch.h -- the quantile sketch (DDSketch: Masson, Rim and Lee,
 * VLDB 2019) as a plain C type: build one from values, take values back,
 * merge sketches, read quantiles, and encode it as the BLOB that the SQL
 * aggregate sketch() returns and the rollup tables store.  The bucket
 * rules, the error guarantee and the binary encoding (version 1) are the
 * numbered requirements in the header comment of sketch.c; the SQL
 * functions over this API (sketch, sketch_merge, sketch_quantile,
 * sketch_count) are in sql/stats.c.
 *
 * Usage (the hourly rollups of store/ do this at ingest):
 *
 *     sl_sketch *s = sl_sketch_new();
 *     for each duration: if (sl_sketch_add(s, d) != SQLITE_OK) ...
 *     size_t n; void *blob = sl_sketch_encode(s, &n);
 *     sqlite3_bind_blob(stmt, 1, blob, (int)n, sqlite3_free);
 *     sl_sketch_free(s);
 *
 * Return codes are SQLite result codes (SQLITE_OK, SQLITE_NOMEM, ...), the
 * convention of the store and SQL layers that use the sketch; this header
 * does not need sqlite3.h, a caller that tests for a code other than 0
 * includes it.  A sketch is not shared between threads.
 */
#ifndef SL_SKETCH_H
#define SL_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SL_SKETCH_DEFAULT_ALPHA 0.01  /* relative accuracy of sl_sketch_new() */
#define SL_SKETCH_MIN_ALPHA 0.0001    /* the accuracies a sketch may have */
#define SL_SKETCH_MAX_ALPHA 0.5

typedef struct sl_sketch sl_sketch;

/* An empty sketch of relative accuracy SL_SKETCH_DEFAULT_ALPHA, or of alpha
 * (which the caller has checked to be within MIN_ALPHA..MAX_ALPHA).  NULL
 * on OOM.  Release with sl_sketch_free() (NULL is a no-op). */
sl_sketch *sl_sketch_new(void);
sl_sketch *sl_sketch_new_alpha(double alpha);
void sl_sketch_free(sl_sketch *s);

/* Count one value.  SQLITE_OK, SQLITE_NOMEM, or SQLITE_MISMATCH for an
 * infinite or NaN v (nothing counted). */
int sl_sketch_add(sl_sketch *s, double v);
/* Take back one value added before; a value never added is ignored.
 * Counts stay exact; quantiles keep the relative accuracy. */
void sl_sketch_remove(sl_sketch *s, double v);

/* Add src into dst; both must have the same alpha (sl_sketch_alpha()).
 * Merging is exact (Requirement 14).  SQLITE_OK, SQLITE_NOMEM, or
 * SQLITE_TOOBIG when the count would pass 2^63-1 (dst unchanged). */
int sl_sketch_merge(sl_sketch *dst, const sl_sketch *src);
/* Decode a BLOB and merge it into s: sl_sketch_decode() then
 * sl_sketch_merge(); SQLITE_MISMATCH when its alpha differs. */
int sl_sketch_merge_blob(sl_sketch *s, const void *blob, size_t n);

uint64_t sl_sketch_count(const sl_sketch *s);
double sl_sketch_alpha(const sl_sketch *s);
/* Quantile q (0..1) of a sketch of n >= 1 values: the estimates of ranks
 * floor(q*(n-1)) and the next, interpolated as percentile_cont() interpolates
 * exact values (Requirement 13 of sketch.c states the error bound). */
double sl_sketch_quantile(const sl_sketch *s, double q);
/* Percentile p (0..100) of a sketch BLOB: the same definition as
 * sl_sketch_quantile() with the fractional rank p*(n-1)*0.01 that
 * percentile() uses.  SQLITE_EMPTY
 * for an empty sketch, SQLITE_CORRUPT for a BLOB that is not a sketch. */
int sl_sketch_blob_percentile(const void *blob, size_t n, double p, double *out);

/* The encoding of s (Requirement 16) in memory to release with
 * sqlite3_free() (so it can go straight to sqlite3_bind_blob or
 * sqlite3_result_blob64), its size in *n; NULL for an empty sketch or on
 * OOM. */
void *sl_sketch_encode(const sl_sketch *s, size_t *n);
/* A new sketch from a BLOB into *out (NULL on failure).  SQLITE_OK,
 * SQLITE_NOMEM, or SQLITE_CORRUPT for anything that is not a sketch of
 * version 1. */
int sl_sketch_decode(const void *blob, size_t n, sl_sketch **out);

#endif
