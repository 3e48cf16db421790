/*
 * store/trace_index.h -- trace id -> trace.ref, for the writer, without a
 * random-key index that grows with the warehouse.
 *
 * Traces are filed in generations of TRACE_GEN_SIZE in order of first
 * sight (trace.gen); the index trace_key is (gen, trace_id), so a commit's
 * new ids land in the newest generation's few pages instead of all over
 * one index as large as the warehouse.  Each generation keeps a Bloom
 * filter of its ids (table trace_gen); the writer probes only the
 * generations whose filter may hold the id.  SQL finds an id with a
 * skip-scan of trace_key (one probe per generation), which the planner
 * chooses because sqlite_stat1 says a generation is large.  Layout and
 * figures: docs/schema.md, docs/performance.md.
 *
 *   sl_trace_index *x = sl_trace_index_new(db, err, sizeof err);
 *   sl_trace_index_begin(x, others_committed);  after BEGIN IMMEDIATE
 *   sl_trace_index_ref(x, "4bf9...", &ref);     find or add
 *   sl_trace_index_commit(x);                   before COMMIT
 *   sl_trace_index_reset(x);                    after a rollback
 *   sl_trace_index_free(x);
 */
#ifndef SL_TRACE_INDEX_H
#define SL_TRACE_INDEX_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_GEN_SIZE 8192 /* traces per generation */

typedef struct sl_trace_index sl_trace_index;

sl_trace_index *sl_trace_index_new(sqlite3 *db, char *err, size_t errlen);
void sl_trace_index_free(sl_trace_index *x);

/* Inside the write transaction: reload the filters when another
 * connection may have added ids (or when reset).  SQLite result code. */
int sl_trace_index_begin(sl_trace_index *x, int others_committed);

/* The ref of trace_id, adding a trace row when it is new.  SQLite code. */
int sl_trace_index_ref(sl_trace_index *x, const char *trace_id, int64_t *ref);

/* Write the filters this transaction changed.  SQLite result code. */
int sl_trace_index_commit(sl_trace_index *x);

/* Forget in-memory state; the next begin reloads it. */
void sl_trace_index_reset(sl_trace_index *x);

const char *sl_trace_index_error(const sl_trace_index *x);

/* The writer drives the index as the derived-table entry
 * sl_derived_trace_gen (store/derived.h), whose state is an sl_trace_index;
 * its rebuild refills trace_gen from trace (after a bulk change to trace
 * outside the writer; schema/005 runs it as SQL trace_index_rebuild(),
 * sql/rebuild.c), its rows being the number of generations. */

#endif
