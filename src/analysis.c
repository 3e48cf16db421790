/* analysis.c -- one place that registers every SQL function; see analysis.h. */
#include "analysis.h"
#include "critical_path.h"
#include "stats.h"

/* Modules still landing; weak until present. */
int sl_dependencies_register(sqlite3 *db) __attribute__((weak));

int sl_analysis_register(sqlite3 *db)
{
    int rc = sl_stats_register(db);
    if (rc == SQLITE_OK) rc = sl_critical_path_register(db);
    if (rc == SQLITE_OK && sl_dependencies_register) rc = sl_dependencies_register(db);
    return rc;
}
