/*
 * api/workflow.c -- the public workflow calls of spanlite.h:
 * sl_workflow_sync_spans() (workflow/spans.c does the work) and the
 * workflow report (workflow/report.h does the work).
 */
#include "spanlite.h"
#include "api/warehouse.h"
#include "workflow/workflow.h"

int sl_workflow_sync_spans(sl_db *db, uint64_t *made)
{
    uint64_t local = 0;
    if (!made) made = &local;
    *made = 0;
    pthread_mutex_lock(&db->mu);
    int rc = SL_OK;
    char err[512];
    sl_store *s = sl_db_store(db);
    if (!s) rc = SL_ERROR;
    else if ((rc = sl_workflow_make_spans(db->db, s, made, err, sizeof err)) != SL_OK)
        sl_db_fail(db, rc, "%s", err);
    pthread_mutex_unlock(&db->mu);
    return rc;
}
