/*
 * formats/docstream.h -- the one streaming driver of the document formats
 * (OTLP JSON documents, Jaeger JSON, Zipkin JSON): it runs a format's
 * scanner over a sliding window (sl_window, base/source.h) so that a
 * document of any size is read with bounded memory.
 *
 * What a format supplies (sl_docformat):
 *   step(ctx, ds)   scans ONE element (a token group, a record, whatever its
 *                   state machine takes in one go) at ds->w.buf + ds->pos,
 *                   the window holding w.buf[0, w.len) (NUL-terminated at
 *                   w.len; w.eof set when that is all the input left), and
 *                   answers:
 *       SL_DOC_STEP  it moved on: ds->pos is set past what it consumed
 *                    (records it found are handed on before it returns).
 *       SL_DOC_MORE  the element is cut off at w.len and w.eof is not set:
 *                    it changed nothing but, perhaps, ds->pos over bytes it
 *                    is done with.  The driver drops w.buf[0, pos), reads
 *                    more, sets pos to 0 and calls step again, at the same
 *                    element.  Positions into w.buf do not survive this.
 *       SL_DOC_DONE  the end of the document (or the format stops).
 *       SL_DOC_FAIL  broken input.  Either ds->bad points into w.buf where
 *                    it starts, and ds->why says why: the driver reads the
 *                    rest of the input and hands bad..end to reject() as one
 *                    record, at the line of bad, and the run succeeds;  or
 *                    ds->bad is NULL: a fatal error, ds->why goes to err and
 *                    the run fails.
 *   reject(ctx, line, why, text, len)   takes that rest (a sink's reject);
 *                   may be NULL for a format that never sets ds->bad.
 *   stop            (an argument of the run) the format's flag "the sink
 *                   asked to stop": checked before each step and before the
 *                   rest is rejected; once set the run ends with success.
 *
 * What the driver guarantees:
 *   - the first step sees the first chunk of the input (or all of it, when
 *     shorter), never an empty window unless the input is empty (w.eof);
 *   - bounded memory: the window holds what is not yet consumed plus a
 *     chunk or so; each read at least doubles what is held after pos, so
 *     re-scanning an element cut off again and again costs linear time in
 *     all, however big the element;
 *   - line numbers: sl_linepos_at(&ds->w.lines, p) is the line of any p in
 *     w.buf, right across window drops (ask in increasing order for one pass);
 *   - after a FAIL with ds->bad set, the rest of the input from bad is
 *     rejected whole, with the line of bad, exactly as when the document was
 *     read in one piece (a format prepares its message in ds->why);
 *   - a read error (or out of memory) ends the run: -1, message in err.
 *
 * A step must not answer SL_DOC_MORE once w.eof is set (nothing more will
 * come); the driver takes that for the end of input cut off and fails.
 *
 *   sl_docstream ds;
 *   sl_docstream_init(&ds, CHUNK);
 *   d.lines = &ds.w.lines;              // line numbers for the format's rejects
 *   rc = sl_docstream_run(&ds, in, &fmt, &d, &d.stop, err, errlen);
 *   sl_docstream_free(&ds);
 */
#ifndef SL_DOCSTREAM_H
#define SL_DOCSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/source.h"

/* What a step did. */
enum { SL_DOC_FAIL = -1, SL_DOC_MORE, SL_DOC_STEP, SL_DOC_DONE };

typedef struct sl_docstream {
    sl_window w;     /* the held part of the document */
    size_t pos;      /* w.buf[0, pos) is consumed */
    const char *bad; /* SL_DOC_FAIL: where the rejected rest starts, or NULL: fatal */
    char why[320];   /* SL_DOC_FAIL: the reason (rest rejected) or the message (fatal) */
} sl_docstream;

typedef struct sl_docformat {
    int (*step)(void *ctx, sl_docstream *ds);
    void (*reject)(void *ctx, uint64_t line, const char *why, const char *text, size_t len);
} sl_docformat;

void sl_docstream_init(sl_docstream *ds, size_t chunk);
void sl_docstream_free(sl_docstream *ds);

/* Run f over the input until DONE, a stop, or a fatal error.  0, or -1 with
 * a message in err. */
int sl_docstream_run(sl_docstream *ds, sl_input *in, const sl_docformat *f, void *ctx,
                     const int *stop, char *err, size_t errlen);

#endif
