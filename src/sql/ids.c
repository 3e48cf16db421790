/* sql/ids.c -- span_id_stored(X): a span id's stored form (store/ids.h), so
 * that the internal span table can be searched by id from SQL. */
#include "base/hexid.h"
#include "sql/sql.h"

/* span_id_stored(X): X's stored form.  A BLOB or NULL X is returned as it
 * is (already stored), so converting twice is harmless; other values are
 * taken as their text. */
static void span_id_stored(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int type = sqlite3_value_type(argv[0]);
    if (type == SQLITE_NULL || type == SQLITE_BLOB) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    const char *id = (const char *)sqlite3_value_text(argv[0]);
    if (!id) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    unsigned char bytes[SL_HEXID_MAX];
    size_t n = sl_hexid_encode(id, bytes);
    if (n) sqlite3_result_blob(ctx, bytes, (int)n, SQLITE_TRANSIENT);
    else sqlite3_result_text(ctx, id, -1, SQLITE_TRANSIENT);
}

int sl_ids_register(sqlite3 *db)
{
    return sqlite3_create_function(db, "span_id_stored", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   span_id_stored, NULL, NULL);
}
