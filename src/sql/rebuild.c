/* sql/rebuild.c -- SQL functions over the derived tables; see sql/rebuild.h. */
#include "sql/rebuild.h"
#include "store/derived.h"

#include <stdio.h>

/* Rebuild e inside a savepoint; the result is its row count. */
static void rebuild_entry(sqlite3_context *ctx, const char *fn, const sl_derived *e)
{
    sqlite3 *db = sqlite3_context_db_handle(ctx);
    char err[512] = "";
    int64_t rows = 0;
    int rc = sqlite3_exec(db, "SAVEPOINT derived_rebuild", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, sizeof err, "%s", sqlite3_errmsg(db));
    } else {
        rc = e->rebuild(db, &rows, err, sizeof err);
        if (rc != SQLITE_OK)
            sqlite3_exec(db, "ROLLBACK TO derived_rebuild", NULL, NULL, NULL);
        int rel = sqlite3_exec(db, "RELEASE derived_rebuild", NULL, NULL, NULL);
        if (rc == SQLITE_OK && rel != SQLITE_OK) {
            rc = rel;
            snprintf(err, sizeof err, "%s", sqlite3_errmsg(db));
        }
    }
    if (rc == SQLITE_OK) {
        sqlite3_result_int64(ctx, rows);
    } else if (rc == SQLITE_NOMEM) {
        sqlite3_result_error_nomem(ctx);
    } else {
        char msg[600];
        snprintf(msg, sizeof msg, "%s: %s", fn, err[0] ? err : sqlite3_errstr(rc));
        sqlite3_result_error(ctx, msg, -1);
    }
}

/* derived_rebuild(name) */
static void derived_rebuild_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    const sl_derived *e = sl_derived_find(name);
    if (!e) {
        char msg[512];
        int n = snprintf(msg, sizeof msg, "derived_rebuild: no derived table '%s' (one of:",
                         name ? name : "NULL");
        for (const sl_derived *const *t = sl_derived_tables; *t && n > 0 && (size_t)n < sizeof msg; t++)
            n += snprintf(msg + n, sizeof msg - (size_t)n, " %s", (*t)->name);
        if (n > 0 && (size_t)n < sizeof msg) snprintf(msg + n, sizeof msg - (size_t)n, ")");
        sqlite3_result_error(ctx, msg, -1);
        return;
    }
    rebuild_entry(ctx, "derived_rebuild", e);
}

/* A named rebuild of one entry (the user data). */
static void named_rebuild_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    const sl_derived *e = sqlite3_user_data(ctx);
    rebuild_entry(ctx, e == &sl_derived_link_hour ? "link_rollup_rebuild" : "trace_index_rebuild", e);
}

int sl_derived_register(sqlite3 *db)
{
    return sqlite3_create_function(db, "derived_rebuild", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
                                   derived_rebuild_fn, NULL, NULL);
}

int sl_link_rollup_register(sqlite3 *db)
{
    return sqlite3_create_function(db, "link_rollup_rebuild", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                   (void *)&sl_derived_link_hour, named_rebuild_fn, NULL, NULL);
}

int sl_trace_index_register(sqlite3 *db)
{
    return sqlite3_create_function(db, "trace_index_rebuild", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                   (void *)&sl_derived_trace_gen, named_rebuild_fn, NULL, NULL);
}
