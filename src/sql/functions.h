/*
 * sql/functions.h -- registers every analysis routine of spanlite as SQL
 * functions on a connection: statistics (stats.c), critical paths
 * (critical_path.c) and service dependencies (dependencies.c).  Called for
 * every connection sl_open() makes, and by the loadable extension.
 */
#ifndef SL_ANALYSIS_H
#define SL_ANALYSIS_H

#include <sqlite3.h>

/* SQLite result code. */
int sl_analysis_register(sqlite3 *db);

#endif
