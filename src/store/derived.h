/*
 * store/derived.h -- derived tables: the tables the writer keeps up to date
 * from the spans it stores, each one an entry of one table of hooks, as
 * formats are entries of sl_format on the read side.
 *
 * A derived table holds nothing that cannot be recomputed from the base
 * tables (span, trace's identity columns, service, operation, resource):
 * clear() then rebuild() must leave it exactly as the writer would have
 * left it.  The entries, in the order sl_derived_tables lists them:
 *
 *     link_hour    the dependency graph per hour          store/link_rollup.c
 *     trace        trace aggregates and trace_service     store/trace_aggs.c
 *     rollup_hour  latency per operation per hour         store/rollup_hour.c
 *     trace_gen    Bloom filters of the trace index       store/trace_index.c
 *
 * Order matters: the writer calls begin, note and commit in table order,
 * and link_hour's commit reads each trace's start as it was before this
 * transaction, so it comes before trace's commit, which changes it.
 *
 * The writer's protocol, per transaction (store/writer.c):
 *
 *     x = e->new(db, err, errlen)              once per writer
 *     e->begin(x, others_committed)            after BEGIN IMMEDIATE
 *     e->note(x, &noted)                       each span inserted (not duplicates)
 *     e->commit(x)                             before COMMIT, in table order
 *     e->rollback(x)                           after a ROLLBACK: forget the notes
 *     e->free(x)
 *
 * and, with no writer state, inside the caller's write transaction:
 *
 *     e->clear(db, err, errlen)                empty the table (sl_clear, repairs)
 *     e->rebuild(db, &rows, err, errlen)       recompute it from the base tables
 *                                              (migrations, derived_rebuild(name))
 *
 * A rebuild reads base tables only, never another derived table, so the
 * rebuilds may run in any order (link_hour takes a trace's start from its
 * spans, not from trace.start_ns).
 *
 * Hooks return SQLite result codes; on failure the message is in
 * e->error(x) (state hooks) or err (clear, rebuild).  note may be NULL (an
 * entry that only needs begin/commit, as the trace index).
 *
 * Adding a derived table (a per-day bucket, an aggregated critical path):
 *   1. a migration schema/NNN_name.sql creating it and filling it with
 *      SELECT derived_rebuild('name');
 *   2. one file store/name.c defining `const sl_derived sl_derived_name`
 *      with its hooks (the state keeps its own prepared statements and
 *      per-transaction aggregates, merged into the table at commit);
 *   3. one row in sl_derived_tables (store/derived.c) and its extern below.
 * sl_clear, derived_rebuild() and tests/unit/test_derived.c pick it up
 * from the table; nothing else changes.
 */
#ifndef SL_STORE_DERIVED_H
#define SL_STORE_DERIVED_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/span.h"

/* A span the writer has just inserted, with the ids it was stored under. */
typedef struct sl_noted_span {
    const sl_span *span;       /* normalised (lower-case ids, empty fields NULL) */
    int64_t rowid;             /* span.id */
    int64_t trace_ref;         /* trace.ref */
    int64_t service_id;        /* service.id */
    int64_t operation_id;      /* operation.id */
    int64_t remote_service_id; /* service.id, 0 = none */
} sl_noted_span;

typedef struct sl_derived {
    const char *name; /* the table it keeps; derived_rebuild(name) */
    void *(*new)(sqlite3 *db, char *err, size_t errlen); /* NULL with err set */
    void (*free)(void *x);
    /* In a fresh write transaction; others_committed: another connection
     * committed since this writer's last commit (reload what is cached). */
    int (*begin)(void *x, int others_committed);
    int (*note)(void *x, const sl_noted_span *sp);
    int (*commit)(void *x);    /* write what the notes add; forget them */
    void (*rollback)(void *x); /* forget the notes and anything cached */
    const char *(*error)(const void *x);
    int (*clear)(sqlite3 *db, char *err, size_t errlen);
    int (*rebuild)(sqlite3 *db, int64_t *rows, char *err, size_t errlen);
} sl_derived;

extern const sl_derived sl_derived_link_hour;   /* store/link_rollup.c */
extern const sl_derived sl_derived_trace;       /* store/trace_aggs.c */
extern const sl_derived sl_derived_rollup_hour; /* store/rollup_hour.c */
extern const sl_derived sl_derived_trace_gen;   /* store/trace_index.c */

/* Every entry, in writer order, NULL-terminated. */
extern const sl_derived *const sl_derived_tables[];

/* The entry named name, or NULL. */
const sl_derived *sl_derived_find(const char *name);

/* Every entry's clear, in table order.  SQLite code, message in err. */
int sl_derived_clear_all(sqlite3 *db, char *err, size_t errlen);

#endif
