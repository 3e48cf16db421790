/*
 * workflow.h -- storage of workflow events (docs/workflows.md).
 * The import pipeline creates one writer per import, hands it each batch
 * of events inside its open transaction, and frees it at the end.
 */
#ifndef SL_WORKFLOW_H
#define SL_WORKFLOW_H

#include <sqlite3.h>
#include "batch.h"

typedef struct sl_workflow_writer sl_workflow_writer;

sl_workflow_writer *sl_workflow_writer_new(sqlite3 *db, char *err, size_t errlen);
/* Store n events inside the caller's transaction, counting st->imported and
 * st->duplicates.  0, or -1 with sl_workflow_writer_error() set. */
int sl_workflow_writer_store(sl_workflow_writer *w, const sl_event *ev, size_t n,
                             sl_import_stats *st);
const char *sl_workflow_writer_error(const sl_workflow_writer *w);
void sl_workflow_writer_free(sl_workflow_writer *w);

#endif
