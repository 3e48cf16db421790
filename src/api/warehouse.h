/*
 * api/warehouse.h -- the sl_db handle (internal view).  The migrator is
 * store/migrate.h.
 */
#ifndef SL_WAREHOUSE_H
#define SL_WAREHOUSE_H

#include <pthread.h>
#include <sqlite3.h>
#include "spanlite.h"
#include "store/writer.h"

struct sl_db {
    sqlite3 *db;
    pthread_mutex_t mu;  /* serialises every public call on this handle */
    int readonly;
    sl_store *store;     /* created on first write */
    char err[1024];      /* message of the last failure */
};

/* Set db->err from a format; returns code. */
int sl_db_fail(sl_db *db, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The writer, created on demand; NULL with db->err set on failure. */
sl_store *sl_db_store(sl_db *db);

#endif
