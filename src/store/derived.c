/* store/derived.c -- the table of derived tables; see store/derived.h. */
#include "store/derived.h"

#include <string.h>

/* Writer order: link_hour reads trace.start_ns before trace's commit moves it. */
const sl_derived *const sl_derived_tables[] = {
    &sl_derived_link_hour,
    &sl_derived_trace,
    &sl_derived_rollup_hour,
    &sl_derived_trace_gen,
    NULL,
};

const sl_derived *sl_derived_find(const char *name)
{
    for (const sl_derived *const *e = sl_derived_tables; name && *e; e++)
        if (strcmp((*e)->name, name) == 0) return *e;
    return NULL;
}

int sl_derived_clear_all(sqlite3 *db, char *err, size_t errlen)
{
    int rc = SQLITE_OK;
    for (const sl_derived *const *e = sl_derived_tables; rc == SQLITE_OK && *e; e++)
        rc = (*e)->clear(db, err, errlen);
    return rc;
}
