/*
 * workflow/workflow.h -- storage of workflow events (docs/workflows.md).
 *
 * Writer: the import pipeline creates one writer per import, hands it each
 * batch of events inside its open transaction, and frees it at the end:
 *
 *     w = sl_workflow_writer_new(db, err, sizeof err);   // inside the txn
 *     sl_workflow_writer_store(w, events, n, &stats);    // per batch
 *     sl_workflow_writer_free(w);
 *
 * Each batch becomes one packed segment (workflow/segment.h) plus the rows of the
 * transactions it touched.  An event already in the warehouse is counted in
 * st->duplicates and skipped: identity is the event's content together with
 * its occurrence number among equal events of this import, so re-importing
 * a file (or the same events from elsewhere) adds nothing, a file that grew
 * adds its new lines, and two equal lines of one file are two events.
 * Memory is bounded: the identity state and the transaction cache hold a
 * fixed number of entries and are reloaded from the warehouse on demand.
 *
 * Spans: sl_workflow_make_spans() turns closed transactions into spans (a
 * root span per transaction, a child per step) through the span writer,
 * once per transaction.  The import calls it after its last commit, and
 * sl_workflow_sync_spans() (spanlite.h) on request, so that reading never
 * writes (workflow/spans.c).
 *
 * SQL: sl_workflow_register() adds the wf_events table-valued function that
 * the workflow_events view reads (every spanlite connection needs it).
 */
#ifndef SL_WORKFLOW_H
#define SL_WORKFLOW_H

#include <sqlite3.h>
#include "spanlite.h"
#include "base/span.h"
#include "store/writer.h"

typedef struct sl_workflow_writer sl_workflow_writer;

sl_workflow_writer *sl_workflow_writer_new(sqlite3 *db, char *err, size_t errlen);
/* Store n events inside the caller's transaction, counting st->imported and
 * st->duplicates.  0, or -1 with sl_workflow_writer_error() set. */
int sl_workflow_writer_store(sl_workflow_writer *w, const sl_event *ev, size_t n,
                             sl_import_stats *st);
const char *sl_workflow_writer_error(const sl_workflow_writer *w);
void sl_workflow_writer_free(sl_workflow_writer *w);

/* Add the spans of every closed transaction not yet turned into spans,
 * through store on its connection db, one write transaction per chunk of
 * transactions (the caller has none open).  *nspans (may be NULL) receives
 * the number of spans written or skipped as already there.  SL_OK or an
 * SL_* code with the message in err. */
int sl_workflow_make_spans(sqlite3 *db, sl_store *store, uint64_t *nspans, char *err,
                           size_t errlen);
/* True when some closed transaction still waits for its spans (one probe
 * of a partial index: cheap enough to ask before every span analysis). */
int sl_workflow_spans_pending(sqlite3 *db);

/* Register wf_events(); SQLite result code. */
int sl_workflow_register(sqlite3 *db);

#endif
