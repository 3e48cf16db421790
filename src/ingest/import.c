/*
 * ingest/import.c -- the one import pipeline every format plugs into:
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
 * Callbacks: on_reject runs on the parser thread, on_progress on the
 * caller's; neither runs concurrently with itself.
 */
#include "ingest/batch.h"
#include "formats/format.h"
#include "base/source.h"
#include "base/span.h"
#include "store/writer.h"
#include "api/warehouse.h"
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
    const char *source;        /* input name for messages */
    uint64_t read, rejected;   /* parser-side counters */
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
    pthread_mutex_lock(&q->mu);
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

static int sink_room(sl_sink *s)
{
    if (atomic_load(&s->abort)) return -1;
    if (s->cur && sl_batch_full(s->cur)) {
        queue_push_full(s->q, s->cur);
        s->cur = NULL;
    }
    if (!s->cur) s->cur = queue_take_free(s->q, &s->abort);
    return s->cur ? 0 : -1;
}

int sl_sink_span(sl_sink *s, const sl_span *sp, uint64_t line)
{
    if (sink_room(s)) return -1;
    s->read++;
    const char *why = sl_span_check(sp);
    if (why) {
        s->read--; /* counted again by the reject */
        sl_sink_reject(s, line, why, NULL, 0);
        return 0;
    }
    if (sl_batch_add(s->cur, sp, line)) {
        atomic_store(&s->abort, 1);
        return -1;
    }
    return 0;
}

int sl_sink_event(sl_sink *s, const sl_event *ev)
{
    if (sink_room(s)) return -1;
    s->read++;
    if (sl_batch_add_event(s->cur, ev)) {
        atomic_store(&s->abort, 1);
        return -1;
    }
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
    if (s->cur) {
        if (s->cur->nspans || s->cur->nevents) queue_push_full(s->q, s->cur);
        else queue_give_back(s->q, s->cur);
        s->cur = NULL;
    }
    queue_finish(s->q);
    return NULL;
}

/* ---- the writer ---- */

typedef struct writer {
    sl_db *db;
    sl_store *store;
    sl_workflow_writer *wf; /* created on the first workflow event */
    int in_txn;
    uint64_t since_commit;
    sl_import_stats txn; /* imported/duplicates of the open transaction */
} writer;

/* Commit the open transaction and only then count what it added. */
static int writer_commit(writer *w, sl_import_stats *st)
{
    w->in_txn = 0;
    w->since_commit = 0;
    if (sl_store_commit(w->store))
        return sl_db_fail(w->db, SL_ERROR, "%s", sl_store_error(w->store));
    st->imported += w->txn.imported;
    st->duplicates += w->txn.duplicates;
    memset(&w->txn, 0, sizeof w->txn);
    return SL_OK;
}

static int writer_batch(writer *w, sl_batch *b, sl_import_stats *st)
{
    sl_import_stats *txn = &w->txn;
    if (!w->in_txn) {
        if (sl_store_begin(w->store))
            return sl_db_fail(w->db, SL_ERROR, "%s", sl_store_error(w->store));
        w->in_txn = 1;
    }
    if (b->nspans && sl_store_spans(w->store, b->spans, b->hashes, b->nspans, txn))
        return sl_db_fail(w->db, SL_ERROR, "%s", sl_store_error(w->store));
    if (b->nevents) {
        char err[512] = "";
        if (!w->wf && !(w->wf = sl_workflow_writer_new(w->db->db, err, sizeof err)))
            return sl_db_fail(w->db, SL_ERROR, "%s", err);
        if (sl_workflow_writer_store(w->wf, b->events, b->nevents, txn))
            return sl_db_fail(w->db, SL_ERROR, "%s", sl_workflow_writer_error(w->wf));
    }
    w->since_commit += b->nspans + b->nevents;
    if (w->since_commit >= COMMIT_EVERY) return writer_commit(w, st);
    return SL_OK;
}

static const sl_format *choose_format(sl_db *db, sl_input *in, const char *name)
{
    if (name && strcmp(name, "auto") != 0) {
        const sl_format *f = sl_format_find(name);
        if (!f) sl_db_fail(db, SL_INVALID, "unknown format '%s'", name);
        return f;
    }
    size_t n;
    const char *head = sl_input_peek(in, 64 << 10, &n);
    const sl_format *f = sl_format_detect(head, n);
    if (!f) {
        if (n == 0) return sl_format_find("spans"); /* empty input: nothing to detect */
        sl_db_fail(db, SL_INVALID, "%s: cannot tell the format from the content; use --format",
                   sl_input_name(in));
    }
    return f;
}

int sl_import_file(sl_db *db, const char *path, const sl_import_opts *opts, sl_import_stats *st)
{
    static const sl_import_opts no_opts;
    sl_import_stats local = {0};
    if (!opts) opts = &no_opts;
    if (!st) st = &local;
    char err[512];

    pthread_mutex_lock(&db->mu);
    int rc = SL_OK;
    sl_input *in = sl_input_open(path, err, sizeof err);
    if (!in) {
        rc = sl_db_fail(db, SL_IO, "%s", err);
        pthread_mutex_unlock(&db->mu);
        return rc;
    }
    const sl_format *fmt = choose_format(db, in, opts->format);
    writer w = {db, sl_db_store(db), NULL, 0, 0, {0}};
    if (!fmt || !w.store) {
        sl_input_free(in);
        pthread_mutex_unlock(&db->mu);
        return fmt ? SL_ERROR : SL_INVALID;
    }

    queue q;
    queue_init(&q);
    sl_sink sink = {&q, NULL, opts, sl_input_name(in), 0, 0, 0};
    for (int i = 0; i < POOL; i++) {
        sl_batch *b = sl_batch_new();
        if (!b) {
            rc = sl_db_fail(db, SL_NOMEM, "out of memory");
            break;
        }
        q.free[q.nfree++] = b;
    }
    parse_job job = {fmt, in, &sink, 0, ""};
    pthread_t tid;
    if (rc == SL_OK && pthread_create(&tid, NULL, parse_main, &job) != 0)
        rc = sl_db_fail(db, SL_ERROR, "cannot start the parser thread");
    if (rc != SL_OK) {
        queue_destroy(&q);
        sl_input_free(in);
        pthread_mutex_unlock(&db->mu);
        return rc;
    }

    sl_batch *b;
    while ((b = queue_take_full(&q))) {
        if (rc == SL_OK) {
            rc = writer_batch(&w, b, st);
            if (rc != SL_OK) atomic_store(&sink.abort, 1); /* stop the parser, drain */
            else if (opts->on_progress) {
                sl_import_stats now = *st;
                now.read += sink.read; /* approximate: the parser runs ahead */
                now.bytes = sl_input_bytes(in);
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
    if (rc == SL_OK && job.rc != 0)
        rc = sl_db_fail(db, SL_IO, "%s: %s", sl_input_name(in), job.err);
    /* Closed workflow transactions become spans now, so that reading never
     * writes (workflow/spans.c). */
    if (rc == SL_OK && w.wf && sl_workflow_make_spans(db->db, w.store, NULL, err, sizeof err))
        rc = sl_db_fail(db, SL_ERROR, "%s", err);
    st->read += sink.read;
    st->rejected += sink.rejected;
    st->bytes += sl_input_bytes(in);
    sl_workflow_writer_free(w.wf);
    queue_destroy(&q);
    sl_input_free(in);
    pthread_mutex_unlock(&db->mu);
    return rc;
}
