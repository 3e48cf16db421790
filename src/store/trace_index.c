/*
 * store/trace_index.c -- trace id -> trace.ref by generation; see trace_index.h.
 *
 * Why generations: trace ids are random, so one index on trace.trace_id
 * takes each commit's new ids at as many places as there are new traces.
 * Once that index outgrew the page cache (about 550,000 traces, 10M spans)
 * every commit rewrote ~900 scattered pages of it on top of ~1,200 pages
 * of span data, and ingest fell to 0.67 of its rate on an empty warehouse.
 * Keyed by (gen, trace_id), a commit's new ids all fall in the newest
 * generation: at most its ~110 pages, whatever the warehouse's size.
 *
 * Why Bloom filters: a span's trace may have been first seen in any
 * generation (a late span, a re-import), so finding it exactly would cost
 * a probe per generation.  Each generation's filter (16 bits per id, one
 * 64-byte block per id, 7 bits set: about 0.1% false positives) rules out
 * almost all of them; the probe of a maybe is exact, so a false positive
 * costs one lookup and never a wrong answer.  Filters only gain bits:
 * deleted traces leave false positives, never false negatives.
 *
 * The limit: a new id is checked against every generation's filter, and
 * 0.1% of those checks cost a probe, so work per new trace grows with the
 * number of generations (68 at 10M spans; one per 150,000 spans or so).
 * Measured with generations of 1,024 instead, 540 of them by 10M spans as
 * 8,192 would give at about 80M: the tenth million of an import took
 * 6.5 s against 4.8 s for the first.  Merging old generations eight at a
 * time (an LSM tree) bounds their number but moves every id once per level
 * at ~7 us each, and a merge of 458,752 ids paused a commit for 3.5 s; a
 * tree of filters over the generations, built from their ids without
 * moving them, is the better next step.  docs/performance.md has figures.
 *
 * The filters live in trace_gen (gen, traces, bloom) and in memory while
 * a writer runs (10 KiB per 8,192 traces).  They are written at commit,
 * and reloaded at begin when another connection has committed, so
 * several processes can import into one warehouse.
 */
#include "store/trace_index.h"
#include "store/derived.h"
#include "base/buf.h"
#include "base/span.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_BYTES 64                      /* one cache line per id */
#define BLOOM_BYTES (TRACE_GEN_SIZE * 16 / 8) /* 16 bits per id */
#define NBLOCKS (BLOOM_BYTES / BLOCK_BYTES)
#define PROBES 7                            /* bits set per id: 7 x 9 of 64 */

typedef struct generation {
    int64_t gen;
    int64_t traces;          /* ids ever added; the newest is full at TRACE_GEN_SIZE */
    unsigned char *bloom;    /* BLOOM_BYTES */
    int dirty;               /* changed in this transaction */
} generation;

enum { Q_LOAD, Q_FIND, Q_ADD, Q_PUT, Q_LAST_GEN, Q_COUNT };

static const char *const query_sql[Q_COUNT] = {
    [Q_LOAD] = "SELECT gen, traces, bloom FROM trace_gen ORDER BY gen",
    [Q_FIND] = "SELECT ref FROM trace WHERE gen = ?1 AND trace_id = ?2",
    [Q_ADD] = "INSERT INTO trace(trace_id, gen) VALUES (?1, ?2)",
    [Q_PUT] = "INSERT OR REPLACE INTO trace_gen(gen, traces, bloom) VALUES (?1, ?2, ?3)",
    [Q_LAST_GEN] = "SELECT max(gen) FROM trace",
};

struct sl_trace_index {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    generation *gens;        /* ascending; new ids go to the last */
    size_t ngens, cap;
    int loaded;
    int opened;              /* a generation was started in this transaction */
    char err[256];
};

/* ---- the filter ---- */

static uint64_t id_hash(const char *id) { return sl_hash_str(SL_HASH_INIT, id); }

/* An id sets PROBES bits of one 64-byte block: the block chosen by the
 * high half of its hash, the bits by 9-bit slices of the low half times an
 * odd constant.  Bit j of that product depends only on bits 0..j of the
 * hash, so this relies on sl_hash_str() mixing every bit well.  Measured
 * with 8,192 random ids in and 1,000,000 others probed: 0.105% false
 * positives (with 10 bits per id and 6 set, 0.95%, which cost 0.65
 * needless probes per new trace at 68 generations). */
static unsigned char *bloom_block(const unsigned char *bloom, uint64_t h)
{
    return (unsigned char *)bloom + (size_t)((uint32_t)(h >> 32) % NBLOCKS) * BLOCK_BYTES;
}

static uint64_t bloom_bits(uint64_t h) { return (h & 0xFFFFFFFFu) * 0x9E3779B97F4A7C15ULL; }

static void bloom_add(unsigned char *bloom, uint64_t h)
{
    unsigned char *b = bloom_block(bloom, h);
    uint64_t g = bloom_bits(h);
    for (int i = 0; i < PROBES; i++, g >>= 9) b[(g & 511) / 8] |= (unsigned char)(1u << (g & 7));
}

static int bloom_has(const unsigned char *bloom, uint64_t h)
{
    const unsigned char *b = bloom_block(bloom, h);
    uint64_t g = bloom_bits(h);
    for (int i = 0; i < PROBES; i++, g >>= 9)
        if (!(b[(g & 511) / 8] & (1u << (g & 7)))) return 0;
    return 1;
}

/* ---- generations in memory ---- */

static void gens_clear(sl_trace_index *x)
{
    for (size_t i = 0; i < x->ngens; i++) free(x->gens[i].bloom);
    x->ngens = 0;
    x->loaded = 0;
}

static generation *gens_push(sl_trace_index *x, int64_t gen, int64_t traces, const void *bloom)
{
    if (sl_array_reserve(&x->gens, &x->cap, x->ngens + 1, sizeof *x->gens, 16)) return NULL;
    unsigned char *b = bloom ? malloc(BLOOM_BYTES) : calloc(1, BLOOM_BYTES);
    if (!b) return NULL;
    if (bloom) memcpy(b, bloom, BLOOM_BYTES);
    generation *g = &x->gens[x->ngens++];
    *g = (generation){gen, traces, b, 0};
    return g;
}

static int fail(sl_trace_index *x, int rc, const char *what)
{
    snprintf(x->err, sizeof x->err, "trace index: %s: %s", what, sqlite3_errmsg(x->db));
    return rc ? rc : SQLITE_ERROR;
}

/* Traces filed in a generation that has no filter would never be found
 * again: refuse, rather than add them a second time.  (Checks the newest
 * generation only: one index probe, where a lost row is likeliest.) */
static int check_last_gen(sl_trace_index *x)
{
    sqlite3_stmt *q = x->q[Q_LAST_GEN];
    int rc = sqlite3_step(q);
    int has = rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL;
    int64_t last = has ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW) return fail(x, rc, "reading trace");
    if (has && (x->ngens == 0 || x->gens[x->ngens - 1].gen < last)) {
        snprintf(x->err, sizeof x->err,
                 "trace index: traces of generation %lld have no trace_gen row; "
                 "SELECT trace_index_rebuild() repairs it", (long long)last);
        return SQLITE_CORRUPT;
    }
    x->loaded = 1;
    return SQLITE_OK;
}

static int load(sl_trace_index *x)
{
    gens_clear(x);
    sqlite3_stmt *q = x->q[Q_LOAD];
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t gen = sqlite3_column_int64(q, 0);
        const void *bloom = sqlite3_column_blob(q, 2);
        if (sqlite3_column_bytes(q, 2) != BLOOM_BYTES) {
            sqlite3_reset(q);
            snprintf(x->err, sizeof x->err,
                     "trace index: trace_gen row %lld is damaged; SELECT trace_index_rebuild() repairs it",
                     (long long)gen);
            return SQLITE_CORRUPT;
        }
        if (!gens_push(x, gen, sqlite3_column_int64(q, 1), bloom)) {
            sqlite3_reset(q);
            snprintf(x->err, sizeof x->err, "trace index: out of memory");
            return SQLITE_NOMEM;
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return fail(x, rc, "loading trace_gen");
    return check_last_gen(x);
}

/* ---- the writer's calls ---- */

sl_trace_index *sl_trace_index_new(sqlite3 *db, char *err, size_t errlen)
{
    sl_trace_index *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->db = db;
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(db, query_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &x->q[i], NULL)) {
            snprintf(err, errlen, "preparing the trace index: %s", sqlite3_errmsg(db));
            sl_trace_index_free(x);
            return NULL;
        }
    }
    return x;
}

void sl_trace_index_free(sl_trace_index *x)
{
    if (!x) return;
    for (int i = 0; i < Q_COUNT; i++) sqlite3_finalize(x->q[i]);
    gens_clear(x);
    free(x->gens);
    free(x);
}

int sl_trace_index_begin(sl_trace_index *x, int others_committed)
{
    x->opened = 0;
    return x->loaded && !others_committed ? SQLITE_OK : load(x);
}

static int find_in(sl_trace_index *x, int64_t gen, const char *id, int64_t *ref, int *got)
{
    sqlite3_stmt *q = x->q[Q_FIND];
    sqlite3_bind_int64(q, 1, gen);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    *got = rc == SQLITE_ROW;
    if (*got) *ref = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : fail(x, rc, "lookup");
}

/* The generation new ids go to, starting one when the newest is full. */
static generation *newest(sl_trace_index *x)
{
    generation *last = x->ngens ? &x->gens[x->ngens - 1] : NULL;
    if (last && last->traces < TRACE_GEN_SIZE) return last;
    x->opened = 1;
    return gens_push(x, last ? last->gen + 1 : 0, 0, NULL);
}

int sl_trace_index_ref(sl_trace_index *x, const char *trace_id, int64_t *ref)
{
    uint64_t h = id_hash(trace_id);
    int rc, got;
    /* Newest first: a trace still growing was most likely seen lately. */
    for (size_t i = x->ngens; i-- > 0;) {
        if (!bloom_has(x->gens[i].bloom, h)) continue;
        if ((rc = find_in(x, x->gens[i].gen, trace_id, ref, &got))) return rc;
        if (got) return SQLITE_OK;
    }
    generation *g = newest(x);
    if (!g) {
        snprintf(x->err, sizeof x->err, "trace index: out of memory");
        return SQLITE_NOMEM;
    }
    sqlite3_stmt *q = x->q[Q_ADD];
    sqlite3_bind_text(q, 1, trace_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, g->gen);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return fail(x, rc, "adding a trace");
    *ref = sqlite3_last_insert_rowid(x->db);
    bloom_add(g->bloom, h);
    g->traces++;
    g->dirty = 1;
    return SQLITE_OK;
}

static int put_gen(sqlite3_stmt *q, int64_t gen, int64_t traces, const unsigned char *bloom)
{
    sqlite3_bind_int64(q, 1, gen);
    sqlite3_bind_int64(q, 2, traces);
    sqlite3_bind_blob(q, 3, bloom, BLOOM_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Keep the planner's skip-scan of trace_key for `WHERE trace_id = ?`: it
 * needs sqlite_stat1 to say a generation holds many rows, and an ANALYZE
 * run on an almost empty warehouse would say otherwise.  Best effort: a
 * missing sqlite_stat1 only costs query plans. */
static void refresh_stat(sl_trace_index *x)
{
    int64_t rows = 0;
    for (size_t i = 0; i < x->ngens; i++) rows += x->gens[i].traces;
    char sql[256];
    snprintf(sql, sizeof sql,
             "DELETE FROM sqlite_stat1 WHERE tbl = 'trace' AND idx = 'trace_key';"
             "INSERT INTO sqlite_stat1(tbl, idx, stat) VALUES ('trace', 'trace_key', '%lld %d 1')",
             (long long)(rows > TRACE_GEN_SIZE ? rows : TRACE_GEN_SIZE), TRACE_GEN_SIZE);
    sqlite3_exec(x->db, sql, NULL, NULL, NULL);
}

int sl_trace_index_commit(sl_trace_index *x)
{
    for (size_t i = 0; i < x->ngens; i++) {
        generation *g = &x->gens[i];
        if (!g->dirty) continue;
        int rc = put_gen(x->q[Q_PUT], g->gen, g->traces, g->bloom);
        if (rc) return fail(x, rc, "writing trace_gen");
        g->dirty = 0;
    }
    if (x->opened) refresh_stat(x);
    x->opened = 0;
    return SQLITE_OK;
}

void sl_trace_index_reset(sl_trace_index *x) { gens_clear(x); }

const char *sl_trace_index_error(const sl_trace_index *x) { return x->err; }

/* ---- the derived-table entry (store/derived.h) ---- */

/* Refill trace_gen from trace; *rows is the number of generations. */
static int rebuild(sqlite3 *db, int64_t *rows, char *err, size_t errlen)
{
    sqlite3_stmt *rd = NULL, *wr = NULL;
    unsigned char *bloom = calloc(1, BLOOM_BYTES);
    int64_t gen = -1, traces = 0, ngens = 0;
    int rc = bloom ? sqlite3_exec(db, "DELETE FROM trace_gen", NULL, NULL, NULL) : SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT gen, trace_id FROM trace ORDER BY gen", -1, &rd, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, query_sql[Q_PUT], -1, &wr, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
        int64_t g = sqlite3_column_int64(rd, 0);
        if (g != gen && traces) {
            if ((rc = put_gen(wr, gen, traces, bloom))) break;
            memset(bloom, 0, BLOOM_BYTES);
            traces = 0;
            ngens++;
        }
        gen = g;
        bloom_add(bloom, id_hash((const char *)sqlite3_column_text(rd, 1)));
        traces++;
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE) rc = traces ? put_gen(wr, gen, traces, bloom) : SQLITE_OK;
    if (rc == SQLITE_OK && traces) ngens++;
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    free(bloom);
    if (rc == SQLITE_OK) *rows = ngens;
    else if (rc == SQLITE_NOMEM) snprintf(err, errlen, "trace index: out of memory");
    else snprintf(err, errlen, "trace index: %s", sqlite3_errmsg(db));
    return rc;
}

static void *ix_new(sqlite3 *db, char *err, size_t errlen) { return sl_trace_index_new(db, err, errlen); }
static void ix_free(void *x) { sl_trace_index_free(x); }
static int ix_begin(void *x, int others_committed) { return sl_trace_index_begin(x, others_committed); }
static int ix_commit(void *x) { return sl_trace_index_commit(x); }
static void ix_rollback(void *x) { sl_trace_index_reset(x); }
static const char *ix_error(const void *x) { return sl_trace_index_error(x); }

static int ix_clear(sqlite3 *db, char *err, size_t errlen)
{
    int rc = sqlite3_exec(db, "DELETE FROM trace_gen", NULL, NULL, NULL);
    if (rc) snprintf(err, errlen, "clearing trace_gen: %s", sqlite3_errmsg(db));
    return rc;
}

/* No note: the writer asks sl_trace_index_ref() for each span's trace. */
const sl_derived sl_derived_trace_gen = {
    .name = "trace_gen",
    .new = ix_new,
    .free = ix_free,
    .begin = ix_begin,
    .note = NULL,
    .commit = ix_commit,
    .rollback = ix_rollback,
    .error = ix_error,
    .clear = ix_clear,
    .rebuild = rebuild,
};
