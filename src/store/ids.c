/* store/ids.c -- span ids in their stored form; see store/ids.h. */
#include "store/ids.h"
#include "base/hexid.h"
#include "base/arena.h"

int sl_ids_bind(sqlite3_stmt *st, int i, const char *id, unsigned char buf[SL_HEXID_MAX])
{
    if (!id || !*id) return sqlite3_bind_null(st, i);
    size_t n = sl_hexid_encode(id, buf);
    if (n) return sqlite3_bind_blob(st, i, buf, (int)n, SQLITE_STATIC);
    return sqlite3_bind_text(st, i, id, -1, SQLITE_STATIC);
}

const char *sl_ids_column(sqlite3_stmt *st, int col, char buf[SL_IDS_TEXT_MAX], size_t *len)
{
    const char *s = NULL;
    size_t n = 0;
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL: break;
    case SQLITE_BLOB: {
        const unsigned char *b = sqlite3_column_blob(st, col);
        n = (size_t)sqlite3_column_bytes(st, col);
        if (n > SL_HEXID_MAX) n = SL_HEXID_MAX; /* never stored (R1) */
        sl_hexid_decode(b ? b : (const unsigned char *)"", n, buf);
        s = buf;
        n *= 2;
        break;
    }
    default:
        s = (const char *)sqlite3_column_text(st, col);
        n = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
    }
    if (len) *len = n;
    return s;
}

const char *sl_ids_column_copy(sqlite3_stmt *st, int col, sl_arena *a, int *oom)
{
    char buf[SL_IDS_TEXT_MAX];
    size_t n;
    const char *v = sl_ids_column(st, col, buf, &n);
    if (!v) return NULL;
    const char *copy = sl_arena_strndup(a, v, n);
    if (!copy && oom) *oom = 1;
    return copy;
}
