/* sql/functions.c -- one place that registers every SQL function; see sql/functions.h. */
#include "sql/functions.h"
#include "analysis/critical_path.h"
#include "analysis/dependencies.h"
#include "store/ids.h"
#include "store/link_rollup.h"
#include "store/trace_index.h"
#include "analysis/stats.h"
#include "workflow/workflow.h"

int sl_analysis_register(sqlite3 *db)
{
    int rc = sl_stats_register(db);
    if (rc == SQLITE_OK) rc = sl_critical_path_register(db);
    if (rc == SQLITE_OK) rc = sl_dependencies_register(db);
    if (rc == SQLITE_OK) rc = sl_link_rollup_register(db);
    if (rc == SQLITE_OK) rc = sl_trace_index_register(db);
    if (rc == SQLITE_OK) rc = sl_ids_register(db);
    if (rc == SQLITE_OK) rc = sl_workflow_register(db);
    return rc;
}
