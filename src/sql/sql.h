/*
 * sql/sql.h -- inside the SQL layer: what each file of sql/ hands to the
 * one registration table of sql/functions.c.  Nothing outside sql/
 * includes this; the rest of the library calls sl_analysis_register()
 * (sql/functions.h).
 *
 *   sql/stats.c          the callbacks of percentile, percentile_cont,
 *                        median, percentile_nr and the sketch functions
 *   sql/critical_path.c  the eponymous virtual table critical_path
 *   sql/dependencies.c   the eponymous virtual table dependencies
 */
#ifndef SL_SQL_H
#define SL_SQL_H

#include <sqlite3.h>

/* sql/stats.c.  The exact percentiles share their callbacks; what tells
 * them apart (name, range of P, method) is their user data. */
typedef struct sl_stats_pctl sl_stats_pctl;
extern const sl_stats_pctl sl_stats_percentile, sl_stats_percentile_cont, sl_stats_median,
    sl_stats_percentile_nr;
void sl_stats_pctl_step(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void sl_stats_pctl_inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void sl_stats_pctl_value(sqlite3_context *ctx);
void sl_stats_pctl_final(sqlite3_context *ctx);
void sl_stats_sketch_step(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void sl_stats_sketch_merge_step(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void sl_stats_sketch_final(sqlite3_context *ctx);
void sl_stats_sketch_quantile(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void sl_stats_sketch_count(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* sql/critical_path.c and sql/dependencies.c: eponymous-only modules. */
extern const sqlite3_module sl_critical_path_module;
extern const sqlite3_module sl_dependencies_module;

/* span_id_stored() (sql/ids.c).  SQLite code. */
int sl_ids_register(sqlite3 *db);

#endif
