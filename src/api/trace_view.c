/*
 * api/trace_view.c -- sl_get_trace_view() (spanlite.h): fetch a trace with
 * sl_get_trace() and analyse it with the trace view engine
 * (analysis/trace_view.h, rules T1-T4).
 */
#include "spanlite.h"
#include "analysis/trace_view.h"
#include "api/warehouse.h"
#include "base/json.h"

#include <stdlib.h>
#include <string.h>

/* Fetch the trace, trying a lower-cased hex id too (the parsers store hex
 * ids lower-cased).  SL_OK, SL_NOTFOUND, or another code. */
static int fetch_trace(sl_db *db, const char *id, sl_trace **out)
{
    int rc = sl_get_trace(db, id, out);
    if (rc != SL_NOTFOUND) return rc;
    char *low = strdup(id);
    if (!low) return sl_db_fail(db, SL_NOMEM, "out of memory");
    sl_hex_lower(low);
    if (strcmp(low, id) != 0) rc = sl_get_trace(db, low, out);
    free(low);
    return rc;
}

int sl_get_trace_view(sl_db *db, const char *trace_id, sl_trace_view **out)
{
    sl_trace *t = NULL;
    sl_trace_view *v = NULL;
    *out = NULL;
    int rc = fetch_trace(db, trace_id, &t);
    if (rc != SL_OK) goto done;
    if (!(v = malloc(sizeof *v))) {
        rc = sl_db_fail(db, SL_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = sl_tv_build(t->spans, t->nspans, v)) != SL_OK) {
        sl_db_fail(db, rc, "trace view: %s", rc == SL_NOMEM ? "out of memory" : "no spans");
        free(v);
        v = NULL;
        goto done;
    }
    v->mem_ = t; /* the spans the view points into */
    t = NULL;
    *out = v;
done:
    sl_trace_free(t);
    return rc;
}

void sl_trace_view_free(sl_trace_view *v)
{
    if (!v) return;
    sl_tv_release(v);
    sl_trace_free(v->mem_);
    free(v);
}
