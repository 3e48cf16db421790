/*
 * store/link_rollup.c -- hourly dependency link rollups; see link_rollup.h.
 *
 * A row of link_hour is (hour, parent service, child service) with the
 * number of calls, errors, their total duration and a sketch of their
 * durations.  A transaction's changes are gathered in memory first, keyed
 * the same way, as signed deltas (calls taken back count -1, and their
 * durations are removed from the stored sketch, which DDSketch allows
 * exactly), and merged into the table once per key at commit.
 */
#include "store/link_rollup.h"
#include "store/derived.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/map.h"
#include "store/ids.h"
#include "spanlite.h"
#include "analysis/dependencies.h"
#include "analysis/sketch.h"
#include "base/num.h"

#define HOUR_NS 3600000000000LL
#define MAX_BUCKET ((1LL << 23) - 1) /* as rollup_hour: hours until year 2926 */

/* A span noted in this transaction. */
typedef struct lr_span {
    int64_t ref, start_ns;
    uint32_t seq;            /* order of arrival, for a stable grouping */
    sl_dep_span dep;         /* strings in lr->notes */
} lr_span;

/* This transaction's change to one row of link_hour. */
typedef struct lr_delta {
    int64_t bucket_ns;
    uint32_t parent, child;
    int64_t calls, errors, sum_ns;
    sl_sketch *added;        /* durations of calls added */
    int64_t *removed;        /* durations of calls taken back */
    size_t nremoved, remcap;
    size_t next;             /* next delta with the same key hash, index + 1; 0 ends */
} lr_delta;

enum { Q_MAXES, Q_TRACE_START, Q_OLD_SPANS, Q_GET, Q_PUT, Q_DEL, Q_COUNT };

static const char *const q_sql[Q_COUNT] = {
    [Q_MAXES] = "SELECT (SELECT max(ref) FROM trace), (SELECT max(id) FROM span)",
    [Q_TRACE_START] = "SELECT start_ns FROM trace WHERE ref = ?1",
    [Q_OLD_SPANS] = "SELECT span_id, parent_span_id, service_id, remote_service_id, kind,"
                    " status, flags, duration_ns FROM span"
                    " WHERE trace_ref = ?1 AND id <= ?2 ORDER BY id",
    [Q_GET] = "SELECT calls, errors, sum_ns, sketch FROM link_hour"
              " WHERE bucket_ns = ?1 AND parent_id = ?2 AND child_id = ?3",
    [Q_PUT] = "INSERT OR REPLACE INTO link_hour(bucket_ns, parent_id, child_id, calls, errors,"
              " sum_ns, sketch) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    [Q_DEL] = "DELETE FROM link_hour WHERE bucket_ns = ?1 AND parent_id = ?2 AND child_id = ?3",
};

typedef struct sl_linkroll sl_linkroll;

struct sl_linkroll {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    sl_deps *deps;               /* emits into the deltas */
    int64_t max_ref, max_rowid;  /* the warehouse before this transaction */
    lr_span *notes;
    size_t nnotes, notecap;
    sl_arena note_text, old_text;
    sl_dep_span *trace;          /* one trace's spans for the linker */
    size_t tracecap;
    lr_delta *deltas;
    size_t ndeltas, deltacap;
    sl_map index;                /* delta_hash() -> first delta of that hash, index + 1 */
    int64_t cur_bucket;          /* where emitted calls go ... */
    int cur_sign;                /* ... and whether they are added or taken back */
    char err[256];
};

static int fail(sl_linkroll *lr, int rc, const char *what)
{
    snprintf(lr->err, sizeof lr->err, "link rollup: %s: %s", what, sqlite3_errmsg(lr->db));
    return rc;
}

/* ---- deltas -------------------------------------------------------------- */

/* The key (hour, parent, child) has 87 bits: hashed to 64, colliding
 * deltas chained through lr_delta.next. */
static uint64_t delta_hash(int64_t bucket, uint32_t parent, uint32_t child)
{
    return sl_hash_mix64((uint64_t)bucket) ^ ((uint64_t)parent << 32 | child);
}

/* The delta for (bucket, parent, child), created empty; NULL on OOM. */
static lr_delta *delta_for(sl_linkroll *lr, int64_t bucket, uint32_t parent, uint32_t child)
{
    int created;
    uint64_t *head = sl_map_put(&lr->index, delta_hash(bucket, parent, child), &created);
    if (!head) return NULL;
    for (size_t i = *head; i; i = lr->deltas[i - 1].next) {
        lr_delta *d = &lr->deltas[i - 1];
        if (d->bucket_ns == bucket && d->parent == parent && d->child == child) return d;
    }
    if (sl_array_reserve(&lr->deltas, &lr->deltacap, lr->ndeltas + 1, sizeof *lr->deltas, 64))
        return NULL;
    lr_delta *d = &lr->deltas[lr->ndeltas];
    memset(d, 0, sizeof *d);
    d->bucket_ns = bucket;
    d->parent = parent;
    d->child = child;
    d->next = *head;
    if (!(d->added = sl_sketch_new())) return NULL;
    *head = ++lr->ndeltas;
    return d;
}

static void deltas_clear(sl_linkroll *lr)
{
    for (size_t i = 0; i < lr->ndeltas; i++) {
        sl_sketch_free(lr->deltas[i].added);
        free(lr->deltas[i].removed);
    }
    lr->ndeltas = 0;
    if (lr->index.n) sl_map_clear(&lr->index);
}

/* sl_dep_emit: one call of the trace being linked. */
static int emit_call(void *ctx, uint32_t parent, uint32_t child, int error, int64_t dur)
{
    sl_linkroll *lr = ctx;
    lr_delta *d = delta_for(lr, lr->cur_bucket, parent, child);
    if (!d) return SL_NOMEM;
    d->calls += lr->cur_sign;
    d->errors += error ? lr->cur_sign : 0;
    d->sum_ns = sl_add_sat64(d->sum_ns, sl_mul_sat64(lr->cur_sign, dur));
    if (lr->cur_sign > 0) return sl_sketch_add(d->added, (double)dur) == SQLITE_OK ? SL_OK : SL_NOMEM;
    if (sl_array_reserve(&d->removed, &d->remcap, d->nremoved + 1, sizeof *d->removed, 8))
        return SL_NOMEM;
    d->removed[d->nremoved++] = dur;
    return SL_OK;
}

static int64_t hour_of(int64_t start_ns)
{
    int64_t b = start_ns < 0 ? 0 : start_ns / HOUR_NS;
    return (b > MAX_BUCKET ? MAX_BUCKET : b) * HOUR_NS;
}

/* Add (sign 1) or take back (-1) the links of one trace starting at start_ns. */
static int link_trace(sl_linkroll *lr, const sl_dep_span *spans, size_t n, int64_t start_ns, int sign)
{
    lr->cur_bucket = hour_of(start_ns);
    lr->cur_sign = sign;
    return sl_deps_put_trace(lr->deps, spans, n) == SL_OK ? SQLITE_OK : SQLITE_NOMEM;
}

/* ---- merging into link_hour ------------------------------------------- */

static int delta_merge(sl_linkroll *lr, const lr_delta *d, int64_t *calls, int64_t *errors,
                       int64_t *sum, sl_sketch *sk)
{
    sqlite3_stmt *g = lr->q[Q_GET];
    sqlite3_bind_int64(g, 1, d->bucket_ns);
    sqlite3_bind_int64(g, 2, d->parent);
    sqlite3_bind_int64(g, 3, d->child);
    int rc = sqlite3_step(g);
    *calls = d->calls;
    *errors = d->errors;
    *sum = d->sum_ns;
    if (rc == SQLITE_ROW) {
        *calls += sqlite3_column_int64(g, 0);
        *errors += sqlite3_column_int64(g, 1);
        *sum = sl_add_sat64(*sum, sqlite3_column_int64(g, 2));
        const void *blob = sqlite3_column_blob(g, 3);
        if (blob && (rc = sl_sketch_merge_blob(sk, blob, (size_t)sqlite3_column_bytes(g, 3)))) {
            sqlite3_reset(g);
            snprintf(lr->err, sizeof lr->err, "link_hour: stored sketch is unreadable (%s)",
                     sqlite3_errstr(rc));
            return rc;
        }
        rc = SQLITE_DONE;
    }
    sqlite3_reset(g);
    if (rc != SQLITE_DONE) return fail(lr, rc, "reading link_hour");
    rc = sl_sketch_merge(sk, d->added);
    for (size_t i = 0; rc == SQLITE_OK && i < d->nremoved; i++) sl_sketch_remove(sk, (double)d->removed[i]);
    return rc;
}

static int delta_flush(sl_linkroll *lr, const lr_delta *d)
{
    if (d->calls == 0 && d->nremoved == 0) return SQLITE_OK; /* nothing added nor taken back */
    int64_t calls, errors, sum;
    sl_sketch *sk = sl_sketch_new();
    if (!sk) return SQLITE_NOMEM;
    int rc = delta_merge(lr, d, &calls, &errors, &sum, sk);
    sqlite3_stmt *w = lr->q[calls > 0 ? Q_PUT : Q_DEL];
    if (rc == SQLITE_OK) {
        int64_t key[] = {d->bucket_ns, d->parent, d->child, calls, errors, sum};
        for (int i = 0; i < (calls > 0 ? 6 : 3); i++) sqlite3_bind_int64(w, i + 1, key[i]);
        if (calls > 0) {
            size_t n = 0;
            void *blob = sl_sketch_encode(sk, &n);
            if (blob) sqlite3_bind_blob(w, 7, blob, (int)n, sqlite3_free);
            else sqlite3_bind_null(w, 7);
        }
        rc = sqlite3_step(w);
        sqlite3_reset(w);
        rc = rc == SQLITE_DONE ? SQLITE_OK : fail(lr, rc, "writing link_hour");
    }
    sl_sketch_free(sk);
    return rc;
}

static int deltas_flush(sl_linkroll *lr)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < lr->ndeltas; i++) rc = delta_flush(lr, &lr->deltas[i]);
    deltas_clear(lr);
    return rc;
}

/* ---- the handle ---------------------------------------------------------- */

static void sl_linkroll_free(sl_linkroll *lr);

static sl_linkroll *sl_linkroll_new(sqlite3 *db, char *err, size_t errlen)
{
    sl_linkroll *lr = calloc(1, sizeof *lr);
    if (!lr || !(lr->deps = sl_deps_new())) {
        snprintf(err, errlen, "out of memory");
        free(lr);
        return NULL;
    }
    lr->db = db;
    sl_deps_set_emit(lr->deps, emit_call, lr);
    sl_arena_init(&lr->note_text);
    sl_arena_init(&lr->old_text);
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &lr->q[i], NULL)) {
            snprintf(err, errlen, "link rollup: %s", sqlite3_errmsg(db));
            sl_linkroll_free(lr);
            return NULL;
        }
    }
    return lr;
}

static void sl_linkroll_free(sl_linkroll *lr)
{
    if (!lr) return;
    for (int i = 0; i < Q_COUNT; i++) sqlite3_finalize(lr->q[i]);
    deltas_clear(lr);
    free(lr->deltas);
    sl_map_free(&lr->index);
    free(lr->notes);
    free(lr->trace);
    sl_arena_release(&lr->note_text);
    sl_arena_release(&lr->old_text);
    sl_deps_free(lr->deps);
    free(lr);
}

static const char *sl_linkroll_error(const sl_linkroll *lr) { return lr->err; }

static void sl_linkroll_reset(sl_linkroll *lr)
{
    lr->nnotes = 0;
    sl_arena_reset(&lr->note_text);
    deltas_clear(lr);
}

static int sl_linkroll_begin(sl_linkroll *lr)
{
    sl_linkroll_reset(lr);
    sqlite3_stmt *q = lr->q[Q_MAXES];
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        lr->max_ref = sqlite3_column_int64(q, 0);  /* NULL (empty) reads as 0 */
        lr->max_rowid = sqlite3_column_int64(q, 1);
        rc = SQLITE_OK;
    }
    sqlite3_reset(q);
    return rc == SQLITE_OK ? rc : fail(lr, rc, "reading the warehouse's extent");
}

static int sl_linkroll_note(sl_linkroll *lr, int64_t ref, int64_t start_ns, const sl_dep_span *sp)
{
    if (sl_array_reserve(&lr->notes, &lr->notecap, lr->nnotes + 1, sizeof *lr->notes, 1024))
        return SQLITE_NOMEM;
    lr_span *n = &lr->notes[lr->nnotes];
    n->ref = ref;
    n->start_ns = start_ns;
    n->seq = (uint32_t)lr->nnotes;
    n->dep = *sp;
    n->dep.span_id = sl_arena_strdup(&lr->note_text, sp->span_id);
    n->dep.parent_span_id = sl_arena_strdup(&lr->note_text, sp->parent_span_id);
    if (!n->dep.span_id || (sp->parent_span_id && !n->dep.parent_span_id)) return SQLITE_NOMEM;
    lr->nnotes++;
    return SQLITE_OK;
}

static int trace_reserve(sl_linkroll *lr, size_t n)
{
    return sl_array_reserve(&lr->trace, &lr->tracecap, n, sizeof *lr->trace, 256) ? SQLITE_NOMEM : SQLITE_OK;
}

/* Append one row of (span_id, parent_span_id, service_id, remote_service_id,
 * kind, status, flags, duration_ns) starting at column c to lr->trace[*n]. */
static int read_span(sl_linkroll *lr, sqlite3_stmt *st, int c, sl_arena *text, size_t *n)
{
    if (trace_reserve(lr, *n + 1)) return SQLITE_NOMEM;
    sl_dep_span *s = &lr->trace[*n];
    char idbuf[SL_IDS_TEXT_MAX], pidbuf[SL_IDS_TEXT_MAX];
    const char *id = sl_ids_column(st, c, idbuf, NULL);
    const char *pid = sl_ids_column(st, c + 1, pidbuf, NULL);
    s->span_id = sl_arena_strdup(text, id ? id : "");
    s->parent_span_id = sl_arena_strdup(text, pid);
    if (!s->span_id || (pid && !s->parent_span_id)) return SQLITE_NOMEM;
    s->service = (uint32_t)sqlite3_column_int64(st, c + 2);
    s->remote_service = (uint32_t)sqlite3_column_int64(st, c + 3);
    s->kind = sqlite3_column_int(st, c + 4);
    s->error = sqlite3_column_int(st, c + 5) == SL_STATUS_ERROR;
    s->shared = (sqlite3_column_int(st, c + 6) & SL_SPAN_SHARED) != 0;
    s->duration_ns = sqlite3_column_int64(st, c + 7);
    s->ipv4 = s->ipv6 = NULL; /* as the writer's spans: service only */
    s->port = 0;
    (*n)++;
    return SQLITE_OK;
}

/* Spans of trace ref stored before this transaction, into lr->trace;
 * *start is the trace's start then. */
static int read_old(sl_linkroll *lr, int64_t ref, size_t *n, int64_t *start)
{
    sqlite3_stmt *t = lr->q[Q_TRACE_START], *q = lr->q[Q_OLD_SPANS];
    sqlite3_bind_int64(t, 1, ref);
    int rc = sqlite3_step(t);
    *start = rc == SQLITE_ROW ? sqlite3_column_int64(t, 0) : 0;
    sqlite3_reset(t);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(lr, rc, "reading a trace");
    sl_arena_reset(&lr->old_text);
    sqlite3_bind_int64(q, 1, ref);
    sqlite3_bind_int64(q, 2, lr->max_rowid);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if ((rc = read_span(lr, q, 0, &lr->old_text, n)) != SQLITE_OK) break;
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) return SQLITE_OK;
    return rc == SQLITE_NOMEM ? rc : fail(lr, rc, "reading a trace's spans");
}

/* Relink one trace: notes[0..k) are this transaction's spans of it. */
static int relink(sl_linkroll *lr, const lr_span *notes, size_t k)
{
    size_t n = 0;
    int64_t start = notes[0].start_ns;
    int rc;
    if (notes[0].ref <= lr->max_ref) {
        int64_t old_start;
        if ((rc = read_old(lr, notes[0].ref, &n, &old_start))) return rc;
        if (n && (rc = link_trace(lr, lr->trace, n, old_start, -1))) return rc;
        if (n && old_start < start) start = old_start;
    }
    if ((rc = trace_reserve(lr, n + k))) return rc;
    for (size_t i = 0; i < k; i++) {
        lr->trace[n + i] = notes[i].dep;
        if (notes[i].start_ns < start) start = notes[i].start_ns;
    }
    return link_trace(lr, lr->trace, n + k, start, 1);
}

static int cmp_note(const void *a, const void *b)
{
    const lr_span *x = a, *y = b;
    if (x->ref != y->ref) return x->ref < y->ref ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int sl_linkroll_commit(sl_linkroll *lr)
{
    int rc = SQLITE_OK;
    /* Spans of a trace are usually adjacent already; sorting groups the rest. */
    if (lr->nnotes > 1) qsort(lr->notes, lr->nnotes, sizeof *lr->notes, cmp_note);
    for (size_t i = 0, j; rc == SQLITE_OK && i < lr->nnotes; i = j) {
        for (j = i + 1; j < lr->nnotes && lr->notes[j].ref == lr->notes[i].ref; j++) {}
        rc = relink(lr, &lr->notes[i], j - i);
    }
    if (rc == SQLITE_NOMEM) snprintf(lr->err, sizeof lr->err, "link rollup: out of memory");
    if (rc == SQLITE_OK) rc = deltas_flush(lr);
    sl_linkroll_reset(lr);
    return rc;
}

/* ---- link_rollup_rebuild() ------------------------------------------------ */

/* Every trace, its spans in rowid order, linked into fresh deltas that
 * replace link_hour; *rows is the number of rows written.  Reads span only. */
static int rebuild(sl_linkroll *lr, size_t *rows)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(lr->db,
        "SELECT s.trace_ref, s.start_ns, s.span_id, s.parent_span_id, s.service_id,"
        " s.remote_service_id, s.kind, s.status, s.flags, s.duration_ns"
        " FROM span s ORDER BY s.trace_ref, s.id",
        -1, &st, NULL);
    if (rc != SQLITE_OK) return fail(lr, rc, "rebuild");
    int64_t ref = 0, start = 0;
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t r = sqlite3_column_int64(st, 0);
        if (n && r != ref) {
            if ((rc = link_trace(lr, lr->trace, n, start, 1))) break;
            n = 0;
            sl_arena_reset(&lr->old_text);
        }
        ref = r;
        /* The trace's start from its spans, not trace.start_ns: the trace
         * entry may be being rebuilt too (derived.h: no order among rebuilds). */
        int64_t t = sqlite3_column_int64(st, 1);
        if (n == 0 || t < start) start = t;
        if ((rc = read_span(lr, st, 2, &lr->old_text, &n))) break;
    }
    if (rc == SQLITE_DONE) rc = n ? link_trace(lr, lr->trace, n, start, 1) : SQLITE_OK;
    else if (rc != SQLITE_NOMEM) fail(lr, rc, "rebuild");
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && (rc = sqlite3_exec(lr->db, "DELETE FROM link_hour", NULL, NULL, NULL)))
        fail(lr, rc, "rebuild");
    *rows = lr->ndeltas;
    return rc == SQLITE_OK ? deltas_flush(lr) : rc;
}

/* ---- the derived-table entry (store/derived.h) ----------------------------- */

static void *lr_new(sqlite3 *db, char *err, size_t errlen) { return sl_linkroll_new(db, err, errlen); }
static void lr_free(void *x) { sl_linkroll_free(x); }

static int lr_begin(void *x, int others_committed)
{
    (void)others_committed;
    return sl_linkroll_begin(x);
}

/* Remember the span for its trace's dependency links. */
static int lr_note(void *x, const sl_noted_span *n)
{
    const sl_span *sp = n->span;
    sl_dep_span d = {
        .span_id = sp->span_id,
        .parent_span_id = sp->parent_span_id,
        .service = (uint32_t)n->service_id,
        .remote_service = (uint32_t)n->remote_service_id,
        .kind = sp->kind,
        .error = sp->status == SL_STATUS_ERROR,
        .shared = (sp->flags & SL_SPAN_SHARED) != 0,
        .duration_ns = sp->duration_ns,
    };
    int rc = sl_linkroll_note(x, n->trace_ref, sp->start_ns, &d);
    return rc == SQLITE_NOMEM ? fail(x, rc, "noting a span's links") : rc;
}

static int lr_commit(void *x) { return sl_linkroll_commit(x); }
static void lr_rollback(void *x) { sl_linkroll_reset(x); }
static const char *lr_error(const void *x) { return sl_linkroll_error(x); }

static int lr_clear(sqlite3 *db, char *err, size_t errlen)
{
    int rc = sqlite3_exec(db, "DELETE FROM link_hour", NULL, NULL, NULL);
    if (rc) snprintf(err, errlen, "clearing link_hour: %s", sqlite3_errmsg(db));
    return rc;
}

static int lr_rebuild(sqlite3 *db, int64_t *rows, char *err, size_t errlen)
{
    size_t n = 0;
    sl_linkroll *lr = sl_linkroll_new(db, err, errlen);
    if (!lr) return SQLITE_ERROR; /* message in err */
    int rc = rebuild(lr, &n);
    if (rc == SQLITE_NOMEM && !lr->err[0]) snprintf(err, errlen, "link rollup: out of memory");
    else if (rc) snprintf(err, errlen, "%s", lr->err);
    *rows = (int64_t)n;
    sl_linkroll_free(lr);
    return rc;
}

const sl_derived sl_derived_link_hour = {
    .name = "link_hour",
    .new = lr_new,
    .free = lr_free,
    .begin = lr_begin,
    .note = lr_note,
    .commit = lr_commit,
    .rollback = lr_rollback,
    .error = lr_error,
    .clear = lr_clear,
    .rebuild = lr_rebuild,
};
