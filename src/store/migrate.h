/*
 * store/migrate.h -- a connection's defaults and the warehouse's schema.
 *
 * Schema: schema/NNN_name.sql are embedded at build time (schema_sql.c) and
 * applied in order, each in its own transaction together with the bump of
 * PRAGMA user_version, so a warehouse is always at exactly one version.
 * Migrations may call SQL functions (003 sketch(), 004 link_rollup_rebuild(),
 * 005 trace_index_rebuild()): the caller registers them on the connection
 * first (api/warehouse.c sl_open, through sql/functions.h), so this file
 * needs nothing of sql/.
 */
#ifndef SL_STORE_MIGRATE_H
#define SL_STORE_MIGRATE_H

#include <sqlite3.h>
#include <stddef.h>

/* Default pragmas of a connection (WAL, busy timeout, cache).  SQLite
 * code, message in err. */
int sl_configure(sqlite3 *db, int readonly, char *err, size_t errlen);

/* db's PRAGMA user_version in *have.  SQLite code. */
int sl_migrate_version(sqlite3 *db, int *have);

/* Apply every migration newer than db's version.  The caller has checked
 * that the version is not newer than sl_schema_version() (spanlite.h).
 * SQLite code, message in err. */
int sl_migrate(sqlite3 *db, char *err, size_t errlen);

#endif
