/*
 * sql/functions.c -- the one table of spanlite's SQL functions and virtual
 * tables, and sl_analysis_register() that registers it; see functions.h.
 *
 * To add a SQL function: write its callbacks in a file of sql/ (declared in
 * sql/sql.h) and add one row below.  Inside a function, fail through
 * sqlite3_result_error() with the function's name and the bad argument
 * ("2nd argument to percentile() is not a number between 0.0 and 100.0"),
 * and sqlite3_result_error_nomem() when memory runs out.
 */
#include "sql/functions.h"

#include <stddef.h>

#include "sql/sql.h"
#include "sql/rebuild.h"
#include "workflow/workflow.h"

typedef void (*sql_args_fn)(sqlite3_context *, int, sqlite3_value **);
typedef void (*sql_ctx_fn)(sqlite3_context *);

/* One row: a scalar (xFunc), an aggregate (xStep, xFinal), a window
 * function (also xValue, xInverse), an eponymous module, or a family that
 * another layer registers itself (reg). */
typedef struct sql_entry {
    const char *name;
    int nargs;                    /* -1: any number */
    const void *user;             /* sqlite3_user_data() of the function */
    sql_args_fn xFunc, xStep;
    sql_ctx_fn xFinal, xValue;
    sql_args_fn xInverse;
    const sqlite3_module *module;
    int (*reg)(sqlite3 *db);      /* SQLite result code */
} sql_entry;

#define WINDOW(name, n, user, prefix) \
    {name, n, &user, NULL, prefix##_step, prefix##_final, prefix##_value, prefix##_inverse, NULL, NULL}
#define AGGREGATE(name, n, step, final) {name, n, NULL, NULL, step, final, NULL, NULL, NULL, NULL}
#define SCALAR(name, n, fn) {name, n, NULL, fn, NULL, NULL, NULL, NULL, NULL, NULL}
#define MODULE(name, mod) {name, 0, NULL, NULL, NULL, NULL, NULL, NULL, &mod, NULL}
#define ELSEWHERE(name, fn) {name, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, fn}

static const sql_entry sql_entries[] = {
    /* statistics: sql/stats.c */
    WINDOW("percentile", 2, sl_stats_percentile, sl_stats_pctl),
    WINDOW("percentile_cont", 2, sl_stats_percentile_cont, sl_stats_pctl),
    WINDOW("median", 1, sl_stats_median, sl_stats_pctl),
    WINDOW("percentile_nr", 2, sl_stats_percentile_nr, sl_stats_pctl),
    AGGREGATE("sketch", 1, sl_stats_sketch_step, sl_stats_sketch_final),
    AGGREGATE("sketch", 2, sl_stats_sketch_step, sl_stats_sketch_final),
    AGGREGATE("sketch_merge", 1, sl_stats_sketch_merge_step, sl_stats_sketch_final),
    SCALAR("sketch_quantile", 2, sl_stats_sketch_quantile),
    SCALAR("sketch_count", 1, sl_stats_sketch_count),
    /* graphs: sql/critical_path.c, sql/dependencies.c */
    MODULE("critical_path", sl_critical_path_module),
    MODULE("dependencies", sl_dependencies_module),
    /* registered by their own layers (writes are SQLITE_DIRECTONLY there) */
    ELSEWHERE("link_rollup_rebuild", sl_link_rollup_register),
    ELSEWHERE("trace_index_rebuild", sl_trace_index_register),
    ELSEWHERE("derived_rebuild", sl_derived_register),
    ELSEWHERE("span_id_stored", sl_ids_register),
    ELSEWHERE("wf_events", sl_workflow_register),
};

static int sql_register_one(sqlite3 *db, const sql_entry *e)
{
    /* The functions are pure: usable from views, triggers and indexes. */
    int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC;
    void *user = (void *)e->user; /* SQLite only hands it back */
    if (e->reg) return e->reg(db);
    if (e->module) return sqlite3_create_module(db, e->name, e->module, NULL);
    if (e->xValue)
        return sqlite3_create_window_function(db, e->name, e->nargs, flags, user, e->xStep,
                                              e->xFinal, e->xValue, e->xInverse, NULL);
    return sqlite3_create_function(db, e->name, e->nargs, flags, user, e->xFunc, e->xStep,
                                   e->xFinal);
}

int sl_analysis_register(sqlite3 *db)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof sql_entries / sizeof sql_entries[0]; i++)
        rc = sql_register_one(db, &sql_entries[i]);
    return rc;
}
