/*
 * workflow/vtab.c -- wf_events, the table-valued function that unpacks the
 * stored workflow events (the workflow_events view reads it).
 *
 *     SELECT seq, type, txn_id, ts_ms, body FROM wf_events WHERE seq BETWEEN 10 AND 20;
 *
 * Columns: seq (arrival order, from 1), type (str() of "type", as the
 * script counts it; 'None' when absent), txn_id (str() of "txn_id", NULL
 * when absent or unusable as a key), ts_ms (int(ts_ms), NULL when the
 * script could not read it), workflow (the event's own "workflow"),
 * body (the event as compact JSON; NaN becomes null and +-Infinity
 * +-9e999, so SQLite's JSON functions accept every body), import_id.
 *
 * Constraints on seq (=, <, <=, >, >=) narrow the segments read; anything
 * else scans every segment in order.
 */
#include "workflow/dict.h"
#include "base/pyvalue.h"
#include "workflow/segment.h"
#include "workflow/workflow.h"

#include <stdlib.h>
#include <string.h>

enum { COL_SEQ, COL_TYPE, COL_TXN, COL_TS, COL_WORKFLOW, COL_BODY, COL_IMPORT };

typedef struct wfv_vtab {
    sqlite3_vtab base;
    sqlite3 *db;
} wfv_vtab;

typedef struct wfv_cursor {
    sqlite3_vtab_cursor base;
    sqlite3 *db;
    sqlite3_stmt *segs;      /* segments in seq order */
    int have_seg;            /* segs is on a row */
    int64_t seg_first, seg_n, seg_import, idx;
    const uint8_t *c, *ce, *v, *ve; /* cursors into the row's blobs */
    sl_wfseg_ctx ctx;
    sl_wfseg_rec rec;
    uint32_t template_id;
    sl_wfseg_slot *slots;
    size_t nslots, capslots;
    int64_t hi;              /* last seq wanted */
    int eof;
    sl_wfdict dict;
    sl_buf body;
} wfv_cursor;

static int wfv_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **out, char **err)
{
    (void)aux, (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(seq INTEGER, type TEXT, txn_id TEXT, "
                                      "ts_ms INTEGER, workflow TEXT, body TEXT, import_id INTEGER)");
    if (rc != SQLITE_OK) return rc;
    wfv_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->db = db;
    *out = &v->base;
    return SQLITE_OK;
}

static int wfv_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* idxNum bits: 1 lower bound (argv), 2 strict lower, 4 upper bound, 8 strict upper. */
static int wfv_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    (void)vt;
    int lo = -1, hi = -1, eq = -1, bits = 0;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (!c->usable || c->iColumn != COL_SEQ) continue;
        switch (c->op) {
        case SQLITE_INDEX_CONSTRAINT_EQ: eq = i; break;
        case SQLITE_INDEX_CONSTRAINT_GT:
        case SQLITE_INDEX_CONSTRAINT_GE: lo = i; break;
        case SQLITE_INDEX_CONSTRAINT_LT:
        case SQLITE_INDEX_CONSTRAINT_LE: hi = i; break;
        }
    }
    int argi = 1;
    if (eq >= 0) {
        info->aConstraintUsage[eq].argvIndex = argi++;
        info->aConstraintUsage[eq].omit = 1;
        bits = 1 | 4 | 16; /* 16: the one value bounds both sides */
        info->estimatedCost = 10;
        info->estimatedRows = 1;
    } else {
        if (lo >= 0) {
            info->aConstraintUsage[lo].argvIndex = argi++;
            info->aConstraintUsage[lo].omit = 1;
            bits |= 1 | (info->aConstraint[lo].op == SQLITE_INDEX_CONSTRAINT_GT ? 2 : 0);
        }
        if (hi >= 0) {
            info->aConstraintUsage[hi].argvIndex = argi++;
            info->aConstraintUsage[hi].omit = 1;
            bits |= 4 | (info->aConstraint[hi].op == SQLITE_INDEX_CONSTRAINT_LT ? 8 : 0);
        }
        info->estimatedCost = bits ? 1e5 : 1e7;
        info->estimatedRows = bits ? 10000 : 1000000;
    }
    info->idxNum = bits;
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == COL_SEQ && !info->aOrderBy[0].desc)
        info->orderByConsumed = 1;
    return SQLITE_OK;
}

static int wfv_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    wfv_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->db = ((wfv_vtab *)vt)->db;
    sl_wfseg_ctx_init(&c->ctx);
    sl_wfdict_init(&c->dict, c->db);
    *out = &c->base;
    return SQLITE_OK;
}

static int wfv_close(sqlite3_vtab_cursor *cur)
{
    wfv_cursor *c = (wfv_cursor *)cur;
    sqlite3_finalize(c->segs);
    sl_wfseg_ctx_free(&c->ctx);
    sl_wfdict_free(&c->dict);
    sl_buf_free(&c->body);
    free(c->slots);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int corrupt(wfv_cursor *c)
{
    sqlite3_free(c->base.pVtab->zErrMsg);
    c->base.pVtab->zErrMsg = sqlite3_mprintf("wf_events: a stored segment is damaged");
    return SQLITE_CORRUPT;
}

/* Move the segment statement to its next row and set up its blobs. */
static int next_segment(wfv_cursor *c)
{
    int rc = sqlite3_step(c->segs);
    if (rc == SQLITE_DONE) {
        c->have_seg = 0;
        c->eof = 1;
        return SQLITE_OK;
    }
    if (rc != SQLITE_ROW) return rc;
    c->have_seg = 1;
    c->seg_import = sqlite3_column_int64(c->segs, 0);
    c->seg_first = sqlite3_column_int64(c->segs, 1);
    c->seg_n = sqlite3_column_int64(c->segs, 2);
    c->c = sqlite3_column_blob(c->segs, 3);
    c->ce = c->c + sqlite3_column_bytes(c->segs, 3);
    c->v = sqlite3_column_blob(c->segs, 4);
    c->ve = c->v + sqlite3_column_bytes(c->segs, 4);
    c->idx = -1;
    sl_wfseg_ctx_reset(&c->ctx);
    if (c->seg_first > c->hi) {
        c->have_seg = 0;
        c->eof = 1;
    }
    return SQLITE_OK;
}

/* Decode the next event of the current segment (or of the next ones). */
static int advance(wfv_cursor *c)
{
    for (;;) {
        if (c->eof) return SQLITE_OK;
        if (c->have_seg && c->idx + 1 < c->seg_n) break;
        int rc = next_segment(c);
        if (rc != SQLITE_OK) return rc;
    }
    c->idx++;
    uint64_t tid;
    if (sl_wfseg_get_hot(&c->c, c->ce, &c->ctx, &c->rec) || sl_wfseg_get_uv(&c->v, c->ve, &tid))
        return corrupt(c);
    const sl_wfdict_entry *t = sl_wfdict_template(&c->dict, tid);
    if (!t) return corrupt(c);
    if (t->nslots > c->capslots) {
        sl_wfseg_slot *s = realloc(c->slots, t->nslots * sizeof *s);
        if (!s) return SQLITE_NOMEM;
        c->slots = s;
        c->capslots = t->nslots;
    }
    c->nslots = t->nslots;
    c->template_id = (uint32_t)tid;
    if (sl_wfseg_get_slots(&c->v, c->ve, &c->ctx, c->template_id, c->slots, c->nslots))
        return corrupt(c);
    if (c->seg_first + c->idx > c->hi) c->eof = 1;
    return SQLITE_OK;
}

static int wfv_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv)
{
    (void)idxStr, (void)argc;
    wfv_cursor *c = (wfv_cursor *)cur;
    int64_t lo = 1, hi = INT64_MAX;
    int a = 0;
    if (idxNum & 16) {
        lo = hi = sqlite3_value_int64(argv[0]);
    } else {
        if (idxNum & 1) {
            double d = sqlite3_value_double(argv[a++]);
            lo = (idxNum & 2) ? (int64_t)d + 1 : (int64_t)d;
            if ((idxNum & 2) == 0 && d > (double)(int64_t)d) lo++;
        }
        if (idxNum & 4) {
            double d = sqlite3_value_double(argv[a++]);
            hi = (idxNum & 8) ? (int64_t)d - (d == (double)(int64_t)d) : (int64_t)d;
        }
    }
    c->hi = hi;
    c->eof = 0;
    c->have_seg = 0;
    if (!c->segs) {
        int rc = sqlite3_prepare_v2(c->db,
                                    "SELECT import_id, first_seq, n, cols, vals FROM wf_segment "
                                    "WHERE first_seq >= coalesce((SELECT max(first_seq) FROM "
                                    "wf_segment WHERE first_seq <= ?1), 1) ORDER BY first_seq",
                                    -1, &c->segs, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_free(cur->pVtab->zErrMsg);
            cur->pVtab->zErrMsg = sqlite3_mprintf("wf_events: %s", sqlite3_errmsg(c->db));
            return rc;
        }
    } else {
        sqlite3_reset(c->segs);
    }
    sqlite3_bind_int64(c->segs, 1, lo);
    int rc;
    do {
        rc = advance(c);
    } while (rc == SQLITE_OK && !c->eof && c->seg_first + c->idx < lo);
    return rc;
}

static int wfv_next(sqlite3_vtab_cursor *cur) { return advance((wfv_cursor *)cur); }

static int wfv_eof(sqlite3_vtab_cursor *cur) { return ((wfv_cursor *)cur)->eof; }

/* A body SQLite's JSON functions accept: the literals only Python reads
 * become null and +-9e999 (outside strings, where they can only be values). */
static void sqlite_json(sl_buf *b)
{
    if (!memchr(b->p, 'N', b->len) && !memchr(b->p, 'I', b->len)) return;
    sl_buf out = SL_BUF_INIT;
    const char *p = b->p, *e = b->p + b->len;
    while (p < e) {
        if (*p == '"') {
            const char *q = p + 1;
            while (q < e && *q != '"') q += *q == '\\' ? 2 : 1;
            sl_buf_append(&out, p, (size_t)(q + 1 - p));
            p = q + 1;
        } else if (*p == 'N' && e - p >= 3 && !memcmp(p, "NaN", 3)) {
            sl_buf_puts(&out, "null");
            p += 3;
        } else if (*p == 'I' && e - p >= 8 && !memcmp(p, "Infinity", 8)) {
            sl_buf_puts(&out, "9e999");
            p += 8;
        } else {
            sl_buf_putc(&out, *p++);
        }
    }
    if (!out.oom) {
        sl_buf_free(b);
        *b = out;
    } else {
        sl_buf_free(&out);
    }
}

static const char *txn_name(wfv_cursor *c, size_t *len)
{
    const sl_wfseg_rec *r = &c->rec;
    if (r->flags & SL_WFSEG_ALT) {
        *len = r->alt_len;
        return r->alt;
    }
    if (!(r->flags & SL_WFSEG_TXN)) return NULL;
    const char *s = sl_wfdict_txn(&c->dict, r->ref);
    *len = s ? strlen(s) : 0;
    return s;
}

static int column_body(wfv_cursor *c, sqlite3_context *ctx)
{
    const sl_wfdict_entry *t = sl_wfdict_template(&c->dict, c->template_id);
    const sl_wfdict_entry *type = sl_wfdict_type(&c->dict, c->rec.type_id);
    sl_wfseg_names names = {type ? type->text : NULL, NULL, 0, NULL};
    char *type_copy = names.type ? strdup(names.type) : NULL; /* the dict may reload */
    names.type = type_copy;
    names.txn = txn_name(c, &names.txn_len);
    const sl_wfdict_entry *wf =
        (c->rec.flags & SL_WFSEG_WORKFLOW) ? sl_wfdict_workflow(&c->dict, c->rec.workflow_id) : NULL;
    names.workflow = wf ? wf->text : NULL;
    t = sl_wfdict_template(&c->dict, c->template_id);
    sl_buf_reset(&c->body);
    int rc = !t || sl_wfseg_body(t->text, t->len, &c->rec, c->slots, c->nslots, &names, &c->body);
    free(type_copy);
    if (rc) return corrupt(c);
    sqlite_json(&c->body);
    if (c->body.oom) return SQLITE_NOMEM;
    sqlite3_result_text(ctx, c->body.p, (int)c->body.len, SQLITE_TRANSIENT);
    return SQLITE_OK;
}

static int wfv_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    wfv_cursor *c = (wfv_cursor *)cur;
    const sl_wfseg_rec *r = &c->rec;
    switch (col) {
    case COL_SEQ: sqlite3_result_int64(ctx, c->seg_first + c->idx); break;
    case COL_TYPE: {
        const sl_wfdict_entry *t = sl_wfdict_type(&c->dict, r->type_id);
        if (t) sqlite3_result_text(ctx, t->text, (int)t->len, SQLITE_TRANSIENT);
        break;
    }
    case COL_TXN: {
        size_t n;
        const char *s = txn_name(c, &n);
        if (s) sqlite3_result_text(ctx, s, (int)n, SQLITE_TRANSIENT);
        break;
    }
    case COL_TS:
        if (r->flags & SL_WFSEG_TS_OK) sqlite3_result_int64(ctx, r->ts);
        break;
    case COL_WORKFLOW: {
        if (!(r->flags & SL_WFSEG_WORKFLOW)) break;
        const sl_wfdict_entry *w = sl_wfdict_workflow(&c->dict, r->workflow_id);
        if (w) sqlite3_result_text(ctx, w->text, (int)w->len, SQLITE_TRANSIENT);
        break;
    }
    case COL_BODY: return column_body(c, ctx);
    case COL_IMPORT: sqlite3_result_int64(ctx, c->seg_import); break;
    }
    return SQLITE_OK;
}

static int wfv_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    wfv_cursor *c = (wfv_cursor *)cur;
    *rowid = c->seg_first + c->idx;
    return SQLITE_OK;
}

static const sqlite3_module wfv_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = wfv_connect,
    .xBestIndex = wfv_best_index,
    .xDisconnect = wfv_disconnect,
    .xDestroy = wfv_disconnect,
    .xOpen = wfv_open,
    .xClose = wfv_close,
    .xFilter = wfv_filter,
    .xNext = wfv_next,
    .xEof = wfv_eof,
    .xColumn = wfv_column,
    .xRowid = wfv_rowid,
};

int sl_workflow_register(sqlite3 *db)
{
    return sqlite3_create_module(db, "wf_events", &wfv_module, NULL);
}
