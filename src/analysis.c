/* analysis.c -- one place that registers every SQL function; see analysis.h. */
#include "analysis.h"
#include "critical_path.h"
#include "dependencies.h"
#include "link_rollup.h"
#include "trace_index.h"
#include "stats.h"
#include "workflow.h"

int sl_analysis_register(sqlite3 *db)
{
    int rc = sl_stats_register(db);
    if (rc == SQLITE_OK) rc = sl_critical_path_register(db);
    if (rc == SQLITE_OK) rc = sl_dependencies_register(db);
    if (rc == SQLITE_OK) rc = sl_link_rollup_register(db);
    if (rc == SQLITE_OK) rc = sl_trace_index_register(db);
    if (rc == SQLITE_OK) rc = sl_workflow_register(db);
    return rc;
}
