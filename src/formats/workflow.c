/*
 * formats/workflow.c -- the `workflow` import format: JSON Lines of workflow
 * events (docs/workflows.md), read the way aggregate_workflows.py reads them.
 *
 * The script iterates the file in Python's text mode, where "\r", "\n" and
 * "\r\n" all end a line, strips each line with str.strip(), skips empty
 * ones and calls json.loads().  This decoder does the same and hands each
 * JSON object, in compact form, to the sink.  Where the script would stop
 * with a traceback instead (bytes that are not UTF-8, a JSON value that is
 * not an object) and where it skips silently (not JSON), the line is
 * rejected: reported, kept in --rejects, and never counted by the report,
 * just as the script never counts it.
 */
#include "formats/format.h"
#include "base/pyvalue.h"

#include <stdio.h>
#include <string.h>

/* The type and txn_id of an event, for the sink's copy (str() of each). */
static void event_names(const char *body, size_t len, sl_buf *type, sl_buf *txn, int *has_type,
                        int *has_txn)
{
    const char *p = body + 1, *end = body + len - 1;
    sl_wfj_val k, v, tv = {0, NULL, 0}, xv = {0, NULL, 0};
    while (sl_wfj_member(&p, end, &k, &v)) {
        if (sl_wfj_str_eq(&k, "type")) tv = v;
        else if (sl_wfj_str_eq(&k, "txn_id")) xv = v;
    }
    sl_buf_reset(type);
    sl_buf_reset(txn);
    *has_type = tv.kind != SL_WFJ_NONE;
    *has_txn = xv.kind != SL_WFJ_NONE;
    if (*has_type) sl_wfj_py_str(&tv, type);
    if (*has_txn) sl_wfj_py_str(&xv, txn);
    sl_buf_putc(type, '\0'); /* make p non-NULL even when empty */
    sl_buf_putc(txn, '\0');
}

typedef struct wf_decoder {
    sl_sink *sink;
    sl_buf body, type, txn;
    char reason[160];
} wf_decoder;

/* One logical line (no line break inside).  0, or -1 to stop. */
static int decode_record(wf_decoder *d, const char *raw, size_t rawlen, uint64_t lineno)
{
    const char *p = raw;
    size_t n = rawlen;
    sl_wfj_strip(&p, &n);
    if (n == 0) return 0;
    if (sl_wfj_utf8_check(raw, rawlen)) {
        sl_sink_reject(d->sink, lineno, "not UTF-8 text", raw, rawlen);
        return 0;
    }
    sl_buf_reset(&d->body);
    const char *why;
    size_t at;
    int kind = sl_wfj_compact(p, n, &d->body, &why, &at);
    if (kind < 0) {
        snprintf(d->reason, sizeof d->reason, "invalid JSON: %s column %zu", why,
                 at + 1 + (size_t)(p - raw));
        sl_sink_reject(d->sink, lineno, d->reason, raw, rawlen);
        return 0;
    }
    if (kind != SL_WFJ_OBJECT) {
        sl_sink_reject(d->sink, lineno, "not a JSON object", raw, rawlen);
        return 0;
    }
    int has_type, has_txn;
    event_names(d->body.p, d->body.len, &d->type, &d->txn, &has_type, &has_txn);
    if (d->body.oom || d->type.oom || d->txn.oom) return -1;
    sl_event ev = {has_type ? d->type.p : NULL, has_txn ? d->txn.p : NULL, d->body.p, lineno};
    return sl_sink_event(d->sink, &ev);
}

static int workflow_decode(sl_input *in, sl_sink *sink, char *err, size_t errlen)
{
    wf_decoder d = {sink, SL_BUF_INIT, SL_BUF_INIT, SL_BUF_INIT, ""};
    char *line;
    size_t len;
    uint64_t lineno;
    int rc, status = 0;
    while ((rc = sl_input_line(in, &line, &len, &lineno)) == 1) {
        /* a lone "\r" also ends a line in Python's text mode */
        const char *start = line, *end = line + len;
        for (;;) {
            const char *cr = memchr(start, '\r', (size_t)(end - start));
            const char *stop = cr ? cr : end;
            if (decode_record(&d, start, (size_t)(stop - start), lineno)) goto done;
            if (!cr) break;
            start = cr + 1;
        }
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s", sl_input_error(in));
        status = -1;
    }
done:
    if ((d.body.oom || d.type.oom || d.txn.oom) && status == 0) {
        snprintf(err, errlen, "out of memory");
        status = -1;
    }
    sl_buf_free(&d.body);
    sl_buf_free(&d.type);
    sl_buf_free(&d.txn);
    return status;
}

/* A first line carrying txn_id and one of the script's event types. */
static int workflow_detect(const char *head, size_t len)
{
    const char *p = head, *end = head + len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    if (p >= end || *p != '{') return 0;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    static const char *const types[] = {"\"transaction_open\"", "\"transaction_close\"",
                                        "\"step_open\"", "\"step_done\"", "\"inter_step_wait\""};
    int score = 0;
    if (memmem(p, n, "\"txn_id\"", 8)) score += 40;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (memmem(p, n, types[i], strlen(types[i]))) {
            score += 40;
            break;
        }
    return score;
}

const sl_format sl_format_workflow = {"workflow", workflow_detect, workflow_decode};
