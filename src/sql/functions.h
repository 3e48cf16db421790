/*
 * sql/functions.h -- registers every SQL function and virtual table of
 * spanlite on a connection, from the one table of sql/functions.c.  Called
 * for every connection sl_open() makes, and by the loadable extension
 * (sql/extension.c).  The families it registers:
 *
 *   statistics        percentile, percentile_cont, median, percentile_nr,
 *                     sketch, sketch_merge, sketch_quantile, sketch_count
 *                     (sql/stats.c over analysis/sketch.h; docs/sql.md)
 *   critical paths    critical_path(trace_id), a table-valued function
 *                     (sql/critical_path.c; docs/sql-graph.md)
 *   dependencies      dependencies(since_ns, until_ns, exact), a table-valued
 *                     function (sql/dependencies.c; docs/sql-graph.md)
 *   link rollups      link_rollup_rebuild() (store/link_rollup.h)
 *   trace index       trace_index_rebuild() (store/trace_index.h)
 *   workflow events   wf_events, a table-valued function (workflow/vtab.c)
 */
#ifndef SL_SQL_FUNCTIONS_H
#define SL_SQL_FUNCTIONS_H

#include <sqlite3.h>

/* Register everything on db, row by row, stopping at the first failure.
 * SQLite result code (SQLITE_OK, or that failure's code with SQLite's
 * message in sqlite3_errmsg(db)); what was registered before a failure
 * stays registered. */
int sl_analysis_register(sqlite3 *db);

#endif
