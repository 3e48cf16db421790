/*
 * store/ids.h -- span ids in their stored form (base/hexid.h) at the
 * SQLite boundary.
 *
 *   unsigned char buf[SL_HEXID_MAX];          outlives the statement's step
 *   sl_ids_bind(st, 2, "9c5cdfccab6854c1", buf);  binds the 8-byte BLOB
 *   sl_ids_bind(st, 2, "trace-123", buf);         binds the TEXT (id itself)
 *   sl_ids_bind(st, 3, NULL, buf);                binds NULL (also for "")
 *
 * Nothing is copied (SQLITE_STATIC): the bytes live in buf, the text in
 * id; both must stay until the statement is stepped and reset.  Reading
 * back, sl_ids_column() gives the text of a stored id.
 *
 * SQL: span_id_stored(id) (sql/ids.c) is the stored form of the text id
 * (so `SELECT * FROM span WHERE span_id = span_id_stored('9c5c...')` finds
 * a row); migration 006 converts existing rows with it.
 */
#ifndef SL_STORE_IDS_H
#define SL_STORE_IDS_H

#include <sqlite3.h>

#include "base/arena.h"
#include "base/hexid.h"

/* Bind the stored form of id (NULL or "" binds NULL), its bytes kept in
 * buf.  SQLite code. */
int sl_ids_bind(sqlite3_stmt *st, int i, const char *id, unsigned char buf[SL_HEXID_MAX]);

/* Room for the text of any stored id: two digits a byte and the NUL. */
#define SL_IDS_TEXT_MAX (2 * SL_HEXID_MAX + 1)

/* The text of the stored id in column col of st's current row: NULL when
 * NULL; a TEXT id as SQLite holds it (valid until the next step); a BLOB
 * id's hex digits written into buf.  *len (may be NULL) gets its length.
 * In C rather than SQL's lower(hex()), which costs ~0.5 us a row. */
const char *sl_ids_column(sqlite3_stmt *st, int col, char buf[SL_IDS_TEXT_MAX], size_t *len);

/* The same text copied into arena a (any column: text is taken as it is);
 * NULL when the column is NULL, or when out of memory with *oom set. */
const char *sl_ids_column_copy(sqlite3_stmt *st, int col, sl_arena *a, int *oom);

#endif
