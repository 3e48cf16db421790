/* store/ids.c -- span ids in their stored form; see store/ids.h. */
#include "store/ids.h"
#include "base/hexid.h"

int sl_ids_bind(sqlite3_stmt *st, int i, const char *id, unsigned char buf[SL_HEXID_MAX])
{
    if (!id || !*id) return sqlite3_bind_null(st, i);
    size_t n = sl_hexid_encode(id, buf);
    if (n) return sqlite3_bind_blob(st, i, buf, (int)n, SQLITE_STATIC);
    return sqlite3_bind_text(st, i, id, -1, SQLITE_STATIC);
}
