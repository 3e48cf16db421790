/*
 * ingest/pipeline.c -- the one import pipeline every format plugs into:
 *
 *   sl_input --decode (parser thread)--> sl_batch queue --> writer (caller's thread)
 *
 * The parser thread runs the format's decoder, which fills batches through
 * the sink; full batches go through a small bounded queue to the writer,
 * which stores them with sl_store inside a transaction committed every
 * COMMIT_EVERY records and at the end.  The queue holds at most POOL
 * batches, so memory is bounded whatever the input size, and parsing
 * overlaps with SQLite work on a second core.
 *
 * Threads: the sink's state (counters, the current batch) and the input
 * belong to the parser thread.  What the writer needs of them (progress
 * counters, the resume offset) is stamped into each batch before it is
 * queued, so the writer reads only batches it has taken from the queue.
 *
 * Callbacks: on_reject runs on the parser thread, on_progress and on_commit
 * on the caller's; none runs concurrently with itself.  on_commit follows
 * each COMMIT that returned SQLITE_OK, with the offset up to which the input
 * is then safe (sl_input_mark(): a record handed over after the mark was
 * taken starts at or after it).
 *
 * Return codes in ingest/: a function that reports a status returns an SL_*
 * code (SL_OK == 0) and writes its message into the err buffer it was given
 * (the writer's own, then the caller's); SQLite codes and store/workflow
 * messages are turned into SL_ERROR plus their text where they are called.
 * The decoder-facing calls of formats/format.h (sl_sink_*, decode) keep that
 * header's contract: 0, or -1 for "stop decoding".
 */
#include "ingest/batch.h"
#include "formats/format.h"
#include "base/source.h"
#include "base/span.h"
#include "ingest/pipeline.h"
#include "store/writer.h"
#include "workflow/workflow.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL 3               /* batches in flight */
#define COMMIT_EVERY 16384   /* records per transaction */

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    sl_batch *free[POOL];  /* batches ready to be filled */
    size_t nfree;
    sl_batch *full[POOL];  /* FIFO of filled batches */
    size_t head, nfull;
    int done;              /* the parser has finished */
} queue;

struct sl_sink {
    queue *q;
    sl_batch *cur;             /* being filled; NULL until needed */
    const sl_import_opts *opts;
    sl_input *in;              /* read by the parser thread only */
    const char *source;        /* input name for messages */
    uint64_t read, rejected;   /* parser-side counters */
    uint64_t last_end;         /* input offset just after the last record handed over */
    uint64_t last_line;        /* its line */
    uint64_t pushed;           /* resume offset of the last batch queued */
    atomic_int abort;          /* set by the writer on a fatal error */
};

static void queue_init(queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->changed, NULL);
}

static void queue_destroy(queue *q)
{
    for (size_t i = 0; i < q->nfree; i++) sl_batch_free(q->free[i]);
    for (size_t i = 0; i < q->nfull; i++) sl_batch_free(q->full[(q->head + i) % POOL]);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->changed);
}

/* Parser side: a free batch, waiting for one if all are in flight. */
static sl_batch *queue_take_free(queue *q, atomic_int *abort)
{
    pthread_mutex_lock(&q->mu);
    while (q->nfree == 0 && !atomic_load(abort)) pthread_cond_wait(&q->changed, &q->mu);
    sl_batch *b = q->nfree ? q->free[--q->nfree] : NULL;
    pthread_mutex_unlock(&q->mu);
    return b;
}

static void queue_push_full(queue *q, sl_batch *b)
{
    pthread_mutex_lock(&q->mu); /* publishes b's stamps to the writer */
    q->full[(q->head + q->nfull++) % POOL] = b;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}

/* Writer side: next filled batch, or NULL once the parser is done and the
 * queue is drained. */
static sl_batch *queue_take_full(queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->nfull == 0 && !q->done) pthread_cond_wait(&q->changed, &q->mu);
    sl_batch *b = NULL;
    if (q->nfull) {
        b = q->full[q->head];
        q->head = (q->head + 1) % POOL;
        q->nfull--;
    }
    pthread_mutex_unlock(&q->mu);
    return b;
}

static void queue_give_back(queue *q, sl_batch *b)
{
    sl_batch_reset(b);
    pthread_mutex_lock(&q->mu);
    q->free[q->nfree++] = b;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}

static void queue_finish(queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->done = 1;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}

/* ---- the sink, as decoders see it (format.h) ---- */

/* Stamp b with what the writer may know of the parser's progress, resuming
 * at resume, and queue it. */
static void sink_push(sl_sink *s, sl_batch *b, uint64_t resume)
{
    b->read = s->read;
    b->bytes = sl_input_bytes(s->in);
    b->resume = resume > s->pushed ? resume : s->pushed;
    b->last_line = s->last_line;
    s->pushed = b->resume;
    queue_push_full(s->q, b);
}

/* Room in the current batch for the record about to be handed over.  A
 * full batch is queued first; the new record starts at or after the mark,
 * so nothing before min(mark, end of the batch's last record) is left out. */
static int sink_room(sl_sink *s)
{
    if (atomic_load(&s->abort)) return -1;
    if (s->cur && sl_batch_full(s->cur)) {
        uint64_t mark = sl_input_mark(s->in);
        sink_push(s, s->cur, mark < s->last_end ? mark : s->last_end);
        s->cur = NULL;
    }
    if (!s->cur) s->cur = queue_take_free(s->q, &s->abort);
    return s->cur ? 0 : -1;
}

/* A record went into the current batch. */
static void sink_added(sl_sink *s, uint64_t line)
{
    s->read++;
    s->last_end = sl_input_origin(s->in) + sl_input_bytes(s->in);
    s->last_line = line;
}

int sl_sink_span(sl_sink *s, const sl_span *sp, uint64_t line)
{
    if (sink_room(s)) return -1;
    const char *why = sl_span_check(sp);
    if (why) {
        sl_sink_reject(s, line, why, NULL, 0);
        return 0;
    }
    if (sl_batch_add(s->cur, sp, line)) {
        atomic_store(&s->abort, 1);
        return -1;
    }
    sink_added(s, line);
    return 0;
}

int sl_sink_event(sl_sink *s, const sl_event *ev)
{
    if (sink_room(s)) return -1;
    if (sl_batch_add_event(s->cur, ev)) {
        atomic_store(&s->abort, 1);
        return -1;
    }
    sink_added(s, s->last_line);
    return 0;
}

void sl_sink_reject(sl_sink *s, uint64_t line, const char *reason, const char *record, size_t len)
{
    s->read++;
    s->rejected++;
    if (s->opts->on_reject)
        s->opts->on_reject(s->opts->ctx, s->source, line, reason, record ? record : "", record ? len : 0);
}

const sl_import_opts *sl_sink_opts(const sl_sink *s) { return s->opts; }

/* ---- the parser thread ---- */

typedef struct parse_job {
    const sl_format *fmt;
    sl_input *in;
    sl_sink *sink;
    int rc;         /* decoder's result */
    char err[512];
} parse_job;

static void *parse_main(void *arg)
{
    parse_job *job = arg;
    job->rc = job->fmt->decode(job->in, job->sink, job->err, sizeof job->err);
    sl_sink *s = job->sink;
    /* At a clean end all of the input is handled; after a read error only
     * what came before the last record's unit is sure. */
    uint64_t mark = sl_input_mark(job->in);
    uint64_t resume = job->rc == 0 ? sl_input_origin(job->in) + sl_input_bytes(job->in)
                                   : (mark < s->last_end ? mark : s->last_end);
    /* The last batch goes even when empty if it moves the resume offset
     * (rejects or blank lines at the end), so that on_commit reaches it. */
    if (!s->cur && resume > s->pushed && !atomic_load(&s->abort))
        s->cur = queue_take_free(s->q, &s->abort);
    if (s->cur) {
        if (s->cur->nspans || s->cur->nevents || resume > s->pushed) sink_push(s, s->cur, resume);
        else queue_give_back(s->q, s->cur);
        s->cur = NULL;
    }
    queue_finish(s->q);
    return NULL;
}

/* ---- the writer ---- */

typedef struct writer {
    sqlite3 *conn;
    sl_store *store;
    sl_workflow_writer *wf; /* created on the first workflow event */
    const sl_source *source;
    const sl_import_opts *opts;
    int in_txn;
    uint64_t since_commit;
    uint64_t resume, last_line; /* of the last batch stored */
    sl_import_stats txn;        /* imported/duplicates of the open transaction */
    char *err;                  /* the caller's message buffer */
    size_t errlen;
} writer;

static int writer_fail(writer *w, int code, const char *msg)
{
    snprintf(w->err, w->errlen, "%s", msg);
    return code;
}

/* Commit the open transaction and only then count what it added and say so. */
static int writer_commit(writer *w, sl_import_stats *st)
{
    w->in_txn = 0;
    w->since_commit = 0;
    if (sl_store_commit(w->store)) return writer_fail(w, SL_ERROR, sl_store_error(w->store));
    st->imported += w->txn.imported;
    st->duplicates += w->txn.duplicates;
    if (w->opts->on_commit) {
        sl_commit_info c = {w->source, w->txn.imported + w->txn.duplicates, w->resume,
                            w->last_line};
        w->opts->on_commit(w->opts->ctx, &c);
    }
    memset(&w->txn, 0, sizeof w->txn);
    return SL_OK;
}

static int writer_batch(writer *w, sl_batch *b, sl_import_stats *st)
{
    sl_import_stats *txn = &w->txn;
    if (!w->in_txn) {
        if (sl_store_begin(w->store)) return writer_fail(w, SL_ERROR, sl_store_error(w->store));
        w->in_txn = 1;
    }
    if (b->nspans && sl_store_spans(w->store, b->spans, b->hashes, b->nspans, txn))
        return writer_fail(w, SL_ERROR, sl_store_error(w->store));
    if (b->nevents) {
        if (!w->wf && !(w->wf = sl_workflow_writer_new(w->conn, w->err, w->errlen)))
            return SL_ERROR;
        if (sl_workflow_writer_store(w->wf, b->events, b->nevents, txn))
            return writer_fail(w, SL_ERROR, sl_workflow_writer_error(w->wf));
    }
    w->resume = b->resume;
    if (b->last_line) w->last_line = b->last_line;
    w->since_commit += b->nspans + b->nevents;
    if (w->since_commit >= COMMIT_EVERY) return writer_commit(w, st);
    return SL_OK;
}

int sl_pipeline_format(sl_input *in, const char *name, const sl_format **fmt, char *err,
                       size_t errlen)
{
    if (name && strcmp(name, "auto") != 0) {
        *fmt = sl_format_find(name);
        if (!*fmt) snprintf(err, errlen, "unknown format '%s'", name);
        return *fmt ? SL_OK : SL_INVALID;
    }
    size_t n;
    const char *head = sl_input_peek(in, 64 << 10, &n);
    *fmt = sl_format_detect(head, n);
    if (!*fmt && n == 0) *fmt = sl_format_find("spans"); /* empty input: nothing to detect */
    if (!*fmt)
        snprintf(err, errlen, "%s: cannot tell the format from the content; use --format",
                 sl_input_name(in));
    return *fmt ? SL_OK : SL_INVALID;
}

int sl_pipeline_run(sqlite3 *conn, sl_store *store, const sl_format *fmt, sl_input *in,
                    const sl_source *source, const sl_import_opts *opts, sl_import_stats *st,
                    char *err, size_t errlen)
{
    int rc = SL_OK, started = 0;
    writer w = {conn, store, NULL, source, opts, 0, 0, 0, 0, {0}, err, errlen};
    queue q;
    queue_init(&q);
    sl_sink sink = {&q, NULL, opts, in, sl_input_name(in), 0, 0, 0, 0, 0, 0};
    parse_job job = {fmt, in, &sink, 0, ""};
    pthread_t tid;
    for (int i = 0; i < POOL && rc == SL_OK; i++) {
        sl_batch *b = sl_batch_new();
        if (b) q.free[q.nfree++] = b;
        else rc = writer_fail(&w, SL_NOMEM, "out of memory");
    }
    if (rc == SL_OK && pthread_create(&tid, NULL, parse_main, &job) != 0)
        rc = writer_fail(&w, SL_ERROR, "cannot start the parser thread");
    if (rc != SL_OK) goto done;
    started = 1;

    sl_batch *b;
    while ((b = queue_take_full(&q))) {
        if (rc == SL_OK) {
            rc = writer_batch(&w, b, st);
            if (rc != SL_OK) atomic_store(&sink.abort, 1); /* stop the parser, drain */
            else if (opts->on_progress) {
                sl_import_stats now = *st;
                now.read += b->read; /* as of this batch: the parser runs ahead */
                now.bytes = b->bytes;
                opts->on_progress(opts->ctx, &now);
            }
        }
        queue_give_back(&q, b);
    }
    pthread_join(tid, NULL);

    /* A decoder's fatal error (unreadable input) still keeps what was
     * parsed before it: those records were read and are valid. */
    if (rc == SL_OK && w.in_txn) rc = writer_commit(&w, st);
    if (w.in_txn) sl_store_rollback(w.store); /* counted nothing: not imported */
    if (rc == SL_OK && job.rc != 0) {
        snprintf(err, errlen, "%s: %s", sl_input_name(in), job.err);
        rc = SL_IO;
    }
    /* Closed workflow transactions become spans now, so that reading never
     * writes (workflow/spans.c). */
    if (rc == SL_OK && w.wf && sl_workflow_make_spans(conn, w.store, NULL, err, errlen)) rc = SL_ERROR;
done:
    if (started) { /* the parser thread is joined: its counters are ours now */
        st->read += sink.read;
        st->rejected += sink.rejected;
        st->bytes += sl_input_bytes(in);
    }
    sl_workflow_writer_free(w.wf);
    queue_destroy(&q);
    return rc;
}
