/*
 * store/ids.h -- span ids in their stored form (base/hexid.h) at the
 * SQLite boundary.
 *
 *   sl_ids_bind(st, 2, "9c5cdfccab6854c1");  binds the 8-byte BLOB
 *   sl_ids_bind(st, 2, "trace-123");         binds the TEXT
 *   sl_ids_bind(st, 3, NULL);                binds NULL (also for "")
 *
 * SQL: span_id_stored(id) is the stored form of the text id (so
 * `SELECT * FROM span WHERE span_id = span_id_stored('9c5c...')` finds a
 * row); migration 006 converts existing rows with it.  Deterministic.
 */
#ifndef SL_STORE_IDS_H
#define SL_STORE_IDS_H

#include <sqlite3.h>

/* Bind the stored form of id (NULL or "" binds NULL).  SQLite code. */
int sl_ids_bind(sqlite3_stmt *st, int i, const char *id);

/* Register span_id_stored() on db.  SQLite code. */
int sl_ids_register(sqlite3 *db);

#endif
