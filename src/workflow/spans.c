/*
 * workflow/spans.c -- closed workflow transactions become spans, so every
 * span analysis (percentiles, critical path, rollups) covers them too.
 *
 *     sl_workflow_sync_spans(db, &n, err, sizeof err);
 *
 * For each transaction that has a transaction_close and has not been turned
 * into spans yet (wf_txn.spans_synced = 0, a partial index finds them), in
 * chunks of CHUNK transactions:
 *   1. replay the segments its events are in and pair its steps: a
 *      step_done closes the latest open step with the same "step" value;
 *   2. hand the spans to sl_ingest_spans():
 *        root   trace_id = the txn_id, span_id "txn", service = the
 *               workflow (or "workflow"), operation "transaction", from the
 *               latest transaction_open to the latest transaction_close,
 *               status error when an event said so;
 *        steps  span_id "step-N" (N = 1, 2, ... in order of opening),
 *               parent "txn", operation "step " + the step value, from
 *               step_open to step_done (zero length when one is missing);
 *   3. mark the transactions synced.
 * A transaction is turned into spans once: events that arrive for it later
 * do not change its spans (span identity includes the content, so changing
 * them would add a second version).  A transaction without a readable
 * transaction_open is marked synced without spans.
 *
 * Why separate from the import: the span store keeps several indexes and
 * rollups per span, and a workflow of five steps makes six spans, so doing
 * this inside the import would cost more than the whole script's run.  The
 * import stays cheap; this runs when spans are wanted (workflow.h).
 */
#include "workflow/workflow.h"
#include "workflow/dict.h"
#include "base/pyvalue.h"
#include "base/map.h"
#include "workflow/segment.h"
#include "base/arena.h"
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 8192          /* transactions per round */
#define SPAN_BATCH 4096     /* spans per sl_ingest_spans() call */
#define MS_LIMIT 9000000000000LL /* |ms| that still fits in int64 nanoseconds */

enum { K_OTHER, K_STEP_OPEN, K_STEP_DONE };

typedef struct sstep {
    char *tok;           /* JSON text of "step", or NULL */
    int64_t open_ms, done_ms;
    uint8_t has_open, has_done;
} sstep;

typedef struct stxn {
    int64_t ref;
    char *txn_id, *workflow;
    int64_t open_ms, close_ms;
    uint8_t has_open, error;
    sstep *steps;
    size_t nsteps, cap;
} stxn;

typedef struct syncer {
    sl_db *db;
    sqlite3 *c;
    char *err;
    size_t errlen;
    sl_wfdict dict;
    sl_wfseg_ctx ctx;
    sl_wfseg_slot *slots;
    size_t capslots;
    stxn *txns;
    size_t ntxns;
    sl_map index;          /* ref -> txns index + 1 */
    int64_t *kinds;          /* by type id: K_* (-1 unknown yet) */
    size_t nkinds;
    sl_buf tok;
} syncer;

static int sfail(syncer *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sfail(syncer *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    return SL_ERROR;
}

static void chunk_free(syncer *s)
{
    for (size_t i = 0; i < s->ntxns; i++) {
        stxn *t = &s->txns[i];
        for (size_t j = 0; j < t->nsteps; j++) free(t->steps[j].tok);
        free(t->steps);
        free(t->txn_id);
        free(t->workflow);
    }
    free(s->txns);
    s->txns = NULL;
    s->ntxns = 0;
    sl_map_clear(&s->index);
}

static char *col_dup(sqlite3_stmt *q, int i)
{
    const char *t = (const char *)sqlite3_column_text(q, i);
    return t ? strdup(t) : NULL;
}

/* The next chunk of unsynced closed transactions after ref *after; 0, or an
 * SL_* code.  *lo and *hi receive the seq range their events are in. */
static int load_chunk(syncer *s, int64_t *after, int64_t *lo, int64_t *hi)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->c,
                           "SELECT t.ref, coalesce(t.txn_id, t.key), w.name, t.open_ms, t.close_ms, "
                           "t.error, t.first_seq, t.last_seq FROM wf_txn t "
                           "LEFT JOIN wf_workflow w ON w.id = t.workflow_id "
                           "WHERE t.spans_synced = 0 AND t.closes > 0 AND t.ref > ? "
                           "ORDER BY t.ref LIMIT ?",
                           -1, &q, NULL) != SQLITE_OK)
        return sfail(s, "workflow spans: %s", sqlite3_errmsg(s->c));
    sqlite3_bind_int64(q, 1, *after);
    sqlite3_bind_int(q, 2, CHUNK);
    s->txns = calloc(CHUNK, sizeof *s->txns);
    if (!s->txns) {
        sqlite3_finalize(q);
        return sfail(s, "out of memory");
    }
    int rc;
    *lo = INT64_MAX;
    *hi = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        stxn *t = &s->txns[s->ntxns];
        t->ref = sqlite3_column_int64(q, 0);
        t->txn_id = col_dup(q, 1);
        t->workflow = col_dup(q, 2);
        t->has_open = sqlite3_column_type(q, 3) != SQLITE_NULL;
        t->open_ms = sqlite3_column_int64(q, 3);
        t->close_ms = sqlite3_column_int64(q, 4);
        t->error = sqlite3_column_int64(q, 5) != 0;
        int64_t first = sqlite3_column_int64(q, 6), last = sqlite3_column_int64(q, 7);
        if (first < *lo) *lo = first;
        if (last > *hi) *hi = last;
        uint64_t *slot = sl_map_put(&s->index, (uint64_t)t->ref, NULL);
        s->ntxns++;
        if (!t->txn_id || !slot) {
            sqlite3_finalize(q);
            return sfail(s, "out of memory");
        }
        *slot = s->ntxns;
        *after = t->ref;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SL_OK : sfail(s, "workflow spans: %s", sqlite3_errmsg(s->c));
}

static int kind_of(syncer *s, uint32_t type_id)
{
    if (type_id >= s->nkinds) {
        size_t n = (size_t)type_id + 16;
        int64_t *k = realloc(s->kinds, n * sizeof *k);
        if (!k) return -1;
        for (size_t i = s->nkinds; i < n; i++) k[i] = -1;
        s->kinds = k;
        s->nkinds = n;
    }
    if (s->kinds[type_id] < 0) {
        const sl_wfdict_entry *e = sl_wfdict_type(&s->dict, type_id);
        s->kinds[type_id] = !e ? K_OTHER
                            : !strcmp(e->text, "step_open") ? K_STEP_OPEN
                            : !strcmp(e->text, "step_done") ? K_STEP_DONE : K_OTHER;
    }
    return (int)s->kinds[type_id];
}

/* The JSON text of the event's "step" member into s->tok; 0 found, 1 none. */
static int step_token(syncer *s, const sl_wfdict_entry *tpl, size_t nslots)
{
    size_t slot;
    const char *lit;
    size_t litn;
    sl_buf_reset(&s->tok);
    int where = sl_wfseg_template_member(tpl->text, tpl->len, "step", &slot, &lit, &litn);
    if (where == 1 && slot < nslots) {
        const sl_wfseg_slot *v = &s->slots[slot];
        if (v->kind == 1) {
            sl_buf_putc(&s->tok, '"');
            sl_buf_append(&s->tok, v->p, v->n);
            sl_buf_putc(&s->tok, '"');
        } else if (v->kind == 2) {
            sl_buf_printf(&s->tok, "%lld", (long long)v->i);
        } else {
            sl_buf_append(&s->tok, v->p, v->n);
        }
        return 0;
    }
    if (where == 2 && !memchr(lit, SL_WFSEG_M_SLOT, litn)) {
        sl_buf_append(&s->tok, lit, litn);
        return 0;
    }
    return 1;
}

static sstep *add_step(stxn *t, const char *tok)
{
    if (sl_array_reserve(&t->steps, &t->cap, t->nsteps + 1, sizeof *t->steps, 8)) return NULL;
    sstep *st = &t->steps[t->nsteps];
    memset(st, 0, sizeof *st);
    if (tok && !(st->tok = strdup(tok))) return NULL;
    t->nsteps++;
    return st;
}

static int same_tok(const sstep *st, const char *tok)
{
    return tok ? st->tok && !strcmp(st->tok, tok) : st->tok == NULL;
}

static int apply_step(syncer *s, stxn *t, int kind, const sl_wfseg_rec *r, const char *tok)
{
    int ts_ok = (r->flags & SL_WFSEG_TS_OK) && r->ts > -MS_LIMIT && r->ts < MS_LIMIT;
    if (kind == K_STEP_OPEN) {
        sstep *st = add_step(t, tok);
        if (!st) return sfail(s, "out of memory");
        st->has_open = (uint8_t)ts_ok;
        st->open_ms = r->ts;
        return SL_OK;
    }
    sstep *st = NULL;
    for (size_t i = t->nsteps; i-- > 0 && !st;)
        if (!t->steps[i].has_done && same_tok(&t->steps[i], tok)) st = &t->steps[i];
    if (!st && !(st = add_step(t, tok))) return sfail(s, "out of memory");
    st->has_done = (uint8_t)ts_ok;
    st->done_ms = r->ts;
    return SL_OK;
}

/* Replay one segment: the step events of the chunk's transactions. */
static int replay_segment(syncer *s, sqlite3_stmt *q)
{
    int64_t n = sqlite3_column_int64(q, 0);
    const uint8_t *c = sqlite3_column_blob(q, 1), *ce = c + sqlite3_column_bytes(q, 1);
    const uint8_t *v = sqlite3_column_blob(q, 2), *ve = v + sqlite3_column_bytes(q, 2);
    sl_wfseg_ctx_reset(&s->ctx);
    for (int64_t i = 0; i < n; i++) {
        sl_wfseg_rec r;
        uint64_t tid;
        if (sl_wfseg_get_hot(&c, ce, &s->ctx, &r) || sl_wfseg_get_uv(&v, ve, &tid))
            return sfail(s, "workflow spans: a stored segment is damaged");
        const sl_wfdict_entry *tpl = sl_wfdict_template(&s->dict, tid);
        if (!tpl) return sfail(s, "workflow spans: unknown template %llu", (unsigned long long)tid);
        size_t nslots = tpl->nslots;
        if (nslots > s->capslots) {
            sl_wfseg_slot *a = realloc(s->slots, nslots * sizeof *a);
            if (!a) return sfail(s, "out of memory");
            s->slots = a;
            s->capslots = nslots;
        }
        if (sl_wfseg_get_slots(&v, ve, &s->ctx, (uint32_t)tid, s->slots, nslots))
            return sfail(s, "workflow spans: a stored segment is damaged");
        if (!(r.flags & SL_WFSEG_TXN)) continue;
        uint64_t *slot = sl_map_get(&s->index, (uint64_t)r.ref);
        if (!slot) continue;
        int kind = kind_of(s, r.type_id);
        if (kind < 0) return sfail(s, "out of memory");
        if (kind == K_OTHER) continue;
        tpl = sl_wfdict_template(&s->dict, tid); /* kind_of may have reloaded the dictionary */
        int none = step_token(s, tpl, nslots);
        if (s->tok.oom) return sfail(s, "out of memory");
        int rc = apply_step(s, &s->txns[*slot - 1], kind, &r, none ? NULL : s->tok.p);
        if (rc) return rc;
    }
    return SL_OK;
}

static int replay(syncer *s, int64_t lo, int64_t hi)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->c,
                           "SELECT n, cols, vals FROM wf_segment WHERE first_seq >= coalesce("
                           "(SELECT max(first_seq) FROM wf_segment WHERE first_seq <= ?1), 1) "
                           "AND first_seq <= ?2 ORDER BY first_seq",
                           -1, &q, NULL) != SQLITE_OK)
        return sfail(s, "workflow spans: %s", sqlite3_errmsg(s->c));
    sqlite3_bind_int64(q, 1, lo);
    sqlite3_bind_int64(q, 2, hi);
    int rc, status = SL_OK;
    while (status == SL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) status = replay_segment(s, q);
    if (status == SL_OK && rc != SQLITE_DONE)
        status = sfail(s, "workflow spans: %s", sqlite3_errmsg(s->c));
    sqlite3_finalize(q);
    return status;
}

/* "step 3" for 3, "step charge" for "charge" (the decoded string). */
static char *step_operation(sl_arena *a, const char *tok)
{
    if (!tok) return sl_arena_strdup(a, "step");
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "step ");
    size_t n = strlen(tok);
    if (n >= 2 && tok[0] == '"') {
        sl_wfj_val v = {SL_WFJ_STRING, tok, n};
        sl_wfj_unescape(&v, &b);
    } else {
        sl_buf_append(&b, tok, n);
    }
    char *r = b.oom ? NULL : sl_arena_strndup(a, b.p, b.len);
    sl_buf_free(&b);
    return r;
}

static char *json_attr(sl_arena *a, const char *key, const char *raw_json, const char *str)
{
    sl_buf b = SL_BUF_INIT;
    sl_buf_puts(&b, "{\"");
    sl_buf_puts(&b, key);
    sl_buf_puts(&b, "\":");
    if (raw_json) {
        sl_buf_puts(&b, raw_json);
    } else {
        sl_buf_putc(&b, '"');
        for (const char *p = str; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\') sl_buf_printf(&b, "\\%c", c);
            else if (c < 0x20) sl_buf_printf(&b, "\\u%04x", c);
            else sl_buf_putc(&b, (char)c);
        }
        sl_buf_putc(&b, '"');
    }
    sl_buf_putc(&b, '}');
    char *r = b.oom ? NULL : sl_arena_strndup(a, b.p, b.len);
    sl_buf_free(&b);
    return r;
}

static int flush_spans(syncer *s, sl_span *spans, size_t *n, sl_arena *a, uint64_t *total)
{
    if (!*n) return SL_OK;
    sl_import_stats st = {0};
    int rc = sl_ingest_spans(s->db, spans, *n, &st);
    if (rc != SL_OK) return sfail(s, "workflow spans: %s", sl_errmsg(s->db));
    *total += *n;
    *n = 0;
    sl_arena_reset(a);
    return SL_OK;
}

/* The spans of one transaction into spans[*n...]; flushes when full. */
static int emit(syncer *s, const stxn *t, sl_span *spans, size_t *n, sl_arena *a, uint64_t *total)
{
    if (!t->has_open || t->open_ms <= -MS_LIMIT || t->open_ms >= MS_LIMIT ||
        t->close_ms <= -MS_LIMIT || t->close_ms >= MS_LIMIT)
        return SL_OK;
    if (*n + t->nsteps + 1 > SPAN_BATCH) {
        int rc = flush_spans(s, spans, n, a, total);
        if (rc) return rc;
    }
    const char *service = t->workflow ? t->workflow : "workflow";
    sl_span *root = &spans[(*n)++];
    memset(root, 0, sizeof *root);
    root->trace_id = t->txn_id;
    root->span_id = "txn";
    root->service = service;
    root->operation = "transaction";
    root->kind = SL_KIND_INTERNAL;
    root->status = t->error ? SL_STATUS_ERROR : SL_STATUS_UNSET;
    root->start_ns = t->open_ms * 1000000;
    root->duration_ns = t->close_ms > t->open_ms ? (t->close_ms - t->open_ms) * 1000000 : 0;
    root->attributes = json_attr(a, "workflow.txn_id", NULL, t->txn_id);
    for (size_t i = 0; i < t->nsteps && *n < SPAN_BATCH; i++) {
        const sstep *st = &t->steps[i];
        if (!st->has_open && !st->has_done) continue;
        sl_span *sp = &spans[(*n)++];
        memset(sp, 0, sizeof *sp);
        char id[32];
        snprintf(id, sizeof id, "step-%zu", i + 1);
        sp->trace_id = t->txn_id;
        sp->span_id = sl_arena_strdup(a, id);
        sp->parent_span_id = "txn";
        sp->service = service;
        sp->operation = step_operation(a, st->tok);
        sp->kind = SL_KIND_INTERNAL;
        int64_t start = st->has_open ? st->open_ms : st->done_ms;
        sp->start_ns = start * 1000000;
        sp->duration_ns = st->has_open && st->has_done && st->done_ms > st->open_ms
                              ? (st->done_ms - st->open_ms) * 1000000 : 0;
        sp->attributes = json_attr(a, "workflow.step", st->tok ? st->tok : "null", NULL);
        if (!sp->span_id || !sp->operation || !sp->attributes) return sfail(s, "out of memory");
    }
    return root->attributes ? SL_OK : sfail(s, "out of memory");
}

static int mark_synced(syncer *s)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_exec(s->c, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->c, "UPDATE wf_txn SET spans_synced = 1 WHERE ref = ?", -1, &q, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < s->ntxns; i++) {
        sqlite3_bind_int64(q, 1, s->txns[i].ref);
        rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->c, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int r = sfail(s, "workflow spans: marking transactions: %s", sqlite3_errmsg(s->c));
        sqlite3_exec(s->c, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    return SL_OK;
}

static int sync_chunk(syncer *s, int64_t lo, int64_t hi, uint64_t *total)
{
    int rc = replay(s, lo, hi);
    if (rc) return rc;
    sl_span *spans = malloc(SPAN_BATCH * sizeof *spans);
    sl_arena a;
    sl_arena_init(&a);
    size_t n = 0;
    if (!spans) rc = sfail(s, "out of memory");
    for (size_t i = 0; rc == SL_OK && i < s->ntxns; i++) rc = emit(s, &s->txns[i], spans, &n, &a, total);
    if (rc == SL_OK) rc = flush_spans(s, spans, &n, &a, total);
    sl_arena_release(&a);
    free(spans);
    /* spans first, then the marks: a crash in between only repeats spans,
     * which the span store skips as exact re-deliveries */
    return rc ? rc : mark_synced(s);
}

int sl_workflow_sync_spans(sl_db *db, uint64_t *nspans, char *err, size_t errlen)
{
    syncer s;
    memset(&s, 0, sizeof s);
    s.db = db;
    s.c = sl_sqlite(db);
    s.err = err;
    s.errlen = errlen;
    sl_wfdict_init(&s.dict, s.c);
    sl_wfseg_ctx_init(&s.ctx);
    sl_map_init(&s.index);
    uint64_t total = 0;
    int64_t after = 0;
    int rc = SL_OK;
    for (;;) {
        int64_t lo = 0, hi = 0;
        rc = load_chunk(&s, &after, &lo, &hi);
        if (rc || s.ntxns == 0) break;
        rc = sync_chunk(&s, lo, hi, &total);
        chunk_free(&s);
        if (rc) break;
    }
    chunk_free(&s);
    sl_wfdict_free(&s.dict);
    sl_wfseg_ctx_free(&s.ctx);
    sl_map_free(&s.index);
    free(s.slots);
    free(s.kinds);
    sl_buf_free(&s.tok);
    if (nspans) *nspans = total;
    return rc;
}

int sl_workflow_spans_pending(sqlite3 *db)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM wf_txn WHERE spans_synced = 0 AND closes > 0 LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return 0;
    int pending = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return pending;
}
