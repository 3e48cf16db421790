/*
 * formats/export.h -- the contract between sl_export() and one output format.
 *
 * sl_export() reads the selected spans trace by trace (ordered by trace,
 * then start time) and hands each whole trace to the format's trace()
 * callback, so memory is bounded by the largest trace, not by the export.
 */
#ifndef SL_EXPORT_H
#define SL_EXPORT_H

#include <stdio.h>
#include "spanlite.h"
#include "base/buf.h"

typedef struct sl_export_out {
    FILE *out;      /* destination */
    sl_buf buf;     /* scratch, reused across calls; write it out with sl_export_flush() */
    uint64_t ntraces; /* traces written so far (0 in the first trace() call) */
    void *state;    /* the format's own, if it needs any */
} sl_export_out;

typedef struct sl_exporter {
    const char *name;
    int (*begin)(sl_export_out *o);                       /* may be NULL */
    int (*trace)(sl_export_out *o, const sl_span *spans, size_t n);
    int (*end)(sl_export_out *o);                         /* may be NULL */
} sl_exporter;

/* Write o->buf to o->out and empty it.  0, or -1 on a write error. */
int sl_export_flush(sl_export_out *o);

const sl_exporter *sl_exporter_find(const char *name);

#endif
