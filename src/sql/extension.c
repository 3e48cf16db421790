/*
 * sql/extension.c -- spanlite's analysis functions as a SQLite loadable
 * extension, so any SQLite client gets them:
 *
 *     sqlite3 traces.db
 *     sqlite> .load ./spanlite_ext
 *     sqlite> SELECT service, percentile(duration_ns, 99) FROM spans GROUP BY 1;
 *
 *     # Python, with a sqlite3 module built with extension loading
 *     con.enable_load_extension(True)
 *     con.load_extension("./spanlite_ext.so")
 *
 * Entry points: sqlite3_spanlite_init, and sqlite3_extension_init, the name
 * SQLite tries first when the caller names none.  Both register everything
 * sl_analysis_register() registers (sql/functions.h) on the connection.
 *
 * Linking: the functions live in the static libspanlite, which calls
 * sqlite3_* directly rather than through the sqlite3_api table, so the
 * module links against libsqlite3.  That is sound as long as the host
 * process uses that same shared libsqlite3 (the sqlite3 shell, Python's
 * sqlite3 module and most clients on a distribution do); a host with its
 * own statically linked SQLite would end up with two copies of SQLite and
 * must not load this module.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1 /* defines sqlite3_api, the one global SQLite requires */

#include "sql/functions.h"

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_spanlite_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi)
{
    SQLITE_EXTENSION_INIT2(pApi);
    int rc = sl_analysis_register(db);
    if (rc != SQLITE_OK && pzErrMsg)
        *pzErrMsg = sqlite3_mprintf("spanlite: cannot register the analysis functions: %s",
                                    sqlite3_errmsg(db));
    return rc;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_extension_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi)
{
    return sqlite3_spanlite_init(db, pzErrMsg, pApi);
}
