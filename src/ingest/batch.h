/*
 * ingest/batch.h -- a batch of parsed spans on their way from a parser to the
 * writer.  A batch owns copies of every string of its spans in one arena, so
 * the parser's buffers can be reused as soon as sl_batch_add() returns and
 * the whole batch is released (or recycled with sl_batch_reset()) at once.
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include "spanlite.h"
#include "base/arena.h"
#include "base/span.h"

#define SL_BATCH_SPANS 4096 /* spans per batch: a few MB, amortises locking */

typedef struct sl_batch {
    sl_span *spans;       /* nspans used of cap */
    uint64_t *lines;      /* source line (or record number) of each span */
    uint64_t *hashes;     /* sl_span_hash() of each (normalised) span */
    size_t nspans, cap;
    sl_event *events;     /* nevents used of ecap */
    size_t nevents, ecap;
    sl_arena arena;       /* owns the strings of spans[] and events[] */
    /* Stamped by the parser thread when it hands the batch over (the queue's
     * mutex then publishes them to the writer, which must read no other
     * parser-side state): */
    uint64_t read;        /* records seen by the parser up to here (progress) */
    uint64_t bytes;       /* input bytes consumed up to here (progress) */
    uint64_t resume;      /* offset from which a re-read misses nothing not in
                             this or an earlier batch (sl_commit_info.offset) */
    uint64_t last_line;   /* line of the batch's last record (0: none) */
} sl_batch;

sl_batch *sl_batch_new(void);
void sl_batch_free(sl_batch *b);
void sl_batch_reset(sl_batch *b);
/* Copy sp (and its strings) in, normalised and hashed (span.h), so that the
 * writer thread has less to do; returns 0, or -1 when out of memory. */
int sl_batch_add(sl_batch *b, const sl_span *sp, uint64_t line);
/* Copy ev in; 0 or -1. */
int sl_batch_add_event(sl_batch *b, const sl_event *ev);
int sl_batch_full(const sl_batch *b);

#endif
