/*
 * formats/format.h -- the contract between the import pipeline and one input format.
 *
 *   read (sl_input) -> decode (sl_format.decode) -> batch (sl_sink) -> write
 *
 * A decoder reads its input, turns each record into an sl_span and hands it
 * to sl_sink_span(), or hands a bad record to sl_sink_reject() with a reason
 * and the record's raw text, and carries on.  It never touches SQLite: the
 * sink batches spans and passes them to the writer (on another thread).
 * Adding a format is adding one file that defines an sl_format and one line
 * in format.c's table.
 */
#ifndef SL_FORMAT_H
#define SL_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "spanlite.h"
#include "base/source.h"
#include "base/span.h"

typedef struct sl_sink sl_sink;

/* Hand over one span (copied; sp's strings may be reused on return).
 * Returns 0, or -1 if the import is being aborted (stop decoding). */
int sl_sink_span(sl_sink *s, const sl_span *sp, uint64_t line);
/* Hand over one workflow event (copied).  0, or -1 as above. */
int sl_sink_event(sl_sink *s, const sl_event *ev);
/* Report a rejected record.  record/len is its raw text, kept verbatim in
 * the rejects file; reason is a short phrase ("missing span_id"). */
void sl_sink_reject(sl_sink *s, uint64_t line, const char *reason,
                    const char *record, size_t len);
/* Options of the import (csv_map, ...). */
const sl_import_opts *sl_sink_opts(const sl_sink *s);

typedef struct sl_format {
    const char *name;
    /* Score how likely head (the first bytes of the input) is this format:
     * 0 = no, higher = more sure.  NULL: never auto-detected. */
    int (*detect)(const char *head, size_t len);
    /* Decode the whole input.  Returns 0, or -1 on a fatal input error
     * (message written to err). */
    int (*decode)(sl_input *in, sl_sink *sink, char *err, size_t errlen);
} sl_format;

/* Lookup by name; NULL if unknown. */
const sl_format *sl_format_find(const char *name);
/* Best match for head, or NULL. */
const sl_format *sl_format_detect(const char *head, size_t len);

#endif
