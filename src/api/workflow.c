/*
 * api/workflow.c -- the public workflow calls of spanlite.h:
 * sl_workflow_sync_spans() (workflow/spans.c does the work) and the
 * workflow report (workflow/report.h does the work).
 */
#include "spanlite.h"
#include "api/warehouse.h"
#include "workflow/workflow.h"
#include "workflow/report.h"
#include "base/pyvalue.h"

#include <stdlib.h>
#include <string.h>

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

/* ---- The workflow report ---- */

struct sl_workflow_report {
    sl_wfreport *r;
};

int sl_workflow_report_run(sl_db *db, const sl_workflow_report_opts *opts, sl_workflow_report **out)
{
    sl_wfreport_opts o = {SL_WFREPORT_DEFAULT_OUTLIER_MS, 0, 0, 0, 0, 0, NULL};
    if (opts) {
        o.outlier_ms = opts->outlier_ms;
        o.derive_inter_step = opts->derive_inter_step;
        o.has_since = opts->has_since;
        o.has_until = opts->has_until;
        o.since_ms = opts->since_ms;
        o.until_ms = opts->until_ms;
        o.workflow = opts->workflow;
    }
    *out = NULL;
    sl_workflow_report *r = calloc(1, sizeof *r);
    if (!r) return sl_db_fail(db, SL_NOMEM, "out of memory");
    char err[512];
    pthread_mutex_lock(&db->mu);
    int rc = sl_wfreport_run(db->db, &o, &r->r, err, sizeof err) ? SL_ERROR : SL_OK;
    if (rc != SL_OK) sl_db_fail(db, rc, "%s", err);
    pthread_mutex_unlock(&db->mu);
    if (rc != SL_OK) free(r);
    else *out = r;
    return rc;
}

int sl_workflow_report_write(sl_db *db, sl_workflow_report *r, int what, FILE *out)
{
    char err[256] = "writing failed";
    int failed = 0;
    if (what == SL_WFREPORT_TEXT || what == SL_WFREPORT_JSON) {
        sl_buf b = SL_BUF_INIT;
        if (what == SL_WFREPORT_TEXT) sl_wfreport_text(r->r, &b);
        else sl_wfreport_json(r->r, &b);
        if (b.oom) snprintf(err, sizeof err, "out of memory");
        failed = b.oom || fwrite(b.p, 1, b.len, out) != b.len;
        sl_buf_free(&b);
    } else if (what == SL_WFREPORT_TXN_CSV) {
        failed = sl_wfreport_txn_csv(r->r, out, err, sizeof err) != 0;
    } else if (what == SL_WFREPORT_GAP_CSV) {
        failed = sl_wfreport_gap_csv(r->r, out, err, sizeof err) != 0;
    } else {
        return sl_db_fail(db, SL_INVALID, "unknown workflow report rendering %d", what);
    }
    return failed ? sl_db_fail(db, SL_IO, "%s", err) : SL_OK;
}

uint64_t sl_workflow_report_unprocessable(const sl_workflow_report *r, int64_t *first_seq)
{
    return sl_wfreport_unprocessable(r->r, first_seq);
}

void sl_workflow_report_free(sl_workflow_report *r)
{
    if (!r) return;
    sl_wfreport_free(r->r);
    free(r);
}

int sl_workflow_parse_int(const char *s, int64_t *out)
{
    return sl_wfj_int_from_text(s, strlen(s), out) ? SL_INVALID : SL_OK;
}
