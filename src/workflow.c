/* workflow.c -- placeholder until workflow event storage lands. */
#include "workflow.h"

#include <stdio.h>

sl_workflow_writer *sl_workflow_writer_new(sqlite3 *db, char *err, size_t errlen)
{
    (void)db;
    snprintf(err, errlen, "workflow events are not supported by this build");
    return NULL;
}

int sl_workflow_writer_store(sl_workflow_writer *w, const sl_event *ev, size_t n, sl_import_stats *st)
{
    (void)w, (void)ev, (void)n, (void)st;
    return -1;
}

const char *sl_workflow_writer_error(const sl_workflow_writer *w)
{
    (void)w;
    return "workflow events are not supported by this build";
}

void sl_workflow_writer_free(sl_workflow_writer *w) { (void)w; }
