/* store/migrate.c -- connection defaults and schema migrations; see store/migrate.h. */
#include "store/migrate.h"
#include "spanlite.h"

#include <stdio.h>

struct sl_embedded_sql {
    const char *name;
    const char *sql;
};
extern const struct sl_embedded_sql sl_migrations[]; /* schema_sql.c, NULL-terminated */

#define BUSY_TIMEOUT_MS 60000
#define CACHE_KIB 24576 /* page cache per connection; import RSS stays under 64 MB */

int sl_schema_version(void)
{
    int n = 0;
    while (sl_migrations[n].name) n++;
    return n;
}

int sl_configure(sqlite3 *db, int readonly, char *err, size_t errlen)
{
    char sql[256];
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* FULL: a commit is on disk when COMMIT returns, so an acknowledged
     * import survives power loss, not just a crash.  Commits are large, so
     * the fsync is cheap per span. */
    snprintf(sql, sizeof sql,
             "PRAGMA cache_size=-%d; PRAGMA foreign_keys=OFF; %s",
             CACHE_KIB, readonly ? "" : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                        " PRAGMA wal_autocheckpoint=4000;");
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "configuring the connection: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

int sl_migrate_version(sqlite3 *db, int *have)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(st);
    *have = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

int sl_migrate(sqlite3 *db, char *err, size_t errlen)
{
    int have, want = sl_schema_version();
    int rc = sl_migrate_version(db, &have);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "reading the schema version: %s", sqlite3_errmsg(db));
        return rc;
    }
    for (int v = have; rc == SQLITE_OK && v < want; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d;", v + 1);
        char *msg = NULL;
        int now = 0, began;
        /* Recheck inside the write lock: another process may have migrated. */
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
        began = rc == SQLITE_OK;
        if (rc == SQLITE_OK) rc = sl_migrate_version(db, &now);
        if (rc == SQLITE_OK && now > v) {
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
            if (rc == SQLITE_OK) v = now - 1;
        } else if (rc == SQLITE_OK) {
            rc = sqlite3_exec(db, sl_migrations[v].sql, NULL, NULL, &msg);
            if (rc == SQLITE_OK) rc = sqlite3_exec(db, bump, NULL, NULL, &msg);
            if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
        }
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "applying schema/%s: %s", sl_migrations[v].name,
                     msg ? msg : sqlite3_errmsg(db));
            if (began && !sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
        sqlite3_free(msg);
    }
    return rc;
}
