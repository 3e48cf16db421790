/*
 * ingest/pipeline.h -- the import pipeline: an input, a format and a span
 * writer in, counters and callbacks out.  It knows no warehouse handle: the
 * caller (api/import.c) owns the connection and its lock, and turns the
 * pipeline's message into the handle's error.
 *
 *   const sl_format *fmt;
 *   rc = sl_pipeline_format(in, opts->format, &fmt, err, sizeof err);
 *   if (rc == SL_OK) rc = sl_pipeline_run(conn, store, fmt, in, src, opts, st, err, sizeof err);
 *
 * Status: every function here returns an SL_* code (SL_OK == 0) and writes
 * its message into the caller's err buffer (see pipeline.c).
 */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include <sqlite3.h>
#include "spanlite.h"
#include "base/source.h"
#include "formats/format.h"
#include "store/writer.h"

/* The format named name ("auto" or NULL: detected from the input's first
 * bytes).  SL_INVALID when unknown or not recognisable. */
int sl_pipeline_format(sl_input *in, const char *name, const sl_format **fmt, char *err,
                       size_t errlen);

/*
 * Decode in with fmt and store its records with store (on conn, which the
 * workflow writer shares), committing every so many records.  opts gives the
 * callbacks (on_reject with sl_input_name(in), on_progress, on_commit with
 * source, passed through as it is) and csv_map; its format is not looked at.
 * Adds to *st.  Records of transactions that committed stay when a later one
 * fails.
 */
int sl_pipeline_run(sqlite3 *conn, sl_store *store, const sl_format *fmt, sl_input *in,
                    const sl_source *source, const sl_import_opts *opts, sl_import_stats *st,
                    char *err, size_t errlen);

#endif
