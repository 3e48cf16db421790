/*
 * api/json_out.c -- the library's JSON text rules (base/json.h) for callers
 * that write JSON to a FILE: sl_json_write_string(), sl_json_write_double()
 * (spanlite.h).  The `spanlite` command's JSON output goes through these, so
 * there is one escaper and one number format.
 */
#include "spanlite.h"
#include "base/buf.h"
#include "base/json.h"

#include <string.h>

static int put(FILE *out, sl_buf *b)
{
    int rc = b->oom || (b->len && fwrite(b->p, 1, b->len, out) != b->len) ? EOF : 0;
    sl_buf_free(b);
    return rc;
}

int sl_json_write_stringn(FILE *out, const char *s, size_t n)
{
    sl_buf b = SL_BUF_INIT;
    sl_jw_stringn(&b, s, n);
    return put(out, &b);
}

int sl_json_write_string(FILE *out, const char *s)
{
    sl_buf b = SL_BUF_INIT;
    sl_jw_string(&b, s);
    return put(out, &b);
}

int sl_json_write_double(FILE *out, double v)
{
    sl_buf b = SL_BUF_INIT;
    sl_jw_double(&b, v);
    return put(out, &b);
}
