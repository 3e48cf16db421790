/*
 * store/link_rollup.h -- the service dependency graph kept per hour at ingest
 * (table link_hour, schema/004_links.sql), so that `dependencies` answers
 * over years of spans by adding up rows instead of re-linking every trace.
 *
 * A trace's links depend on all of its spans (Zipkin's rules read the
 * whole tree: a client that gains children stops linking, a server half
 * completes its client), and spans of one trace may arrive in several
 * transactions.  So the writer notes each span it stores and, at commit,
 * relinks every trace the transaction touched: the links its older spans
 * made are taken back from the hour the trace started in before, and the
 * links of all its spans are added to the hour it starts in now.  A trace
 * first seen in the transaction (nearly all of a bulk import) is linked
 * from memory without reading anything back.  The rows therefore always
 * equal what the full scan of dependencies.c computes for the same traces.
 *
 * The price of relinking: a trace that grows in a transaction is read back
 * whole, so a trace fed one span per transaction (sl_ingest_span() in a
 * loop) costs time quadratic in its size.  Batch its spans (sl_ingest_spans,
 * import) and the cost is one read per transaction that touches it.
 *
 *     sl_linkroll *lr = sl_linkroll_new(db, err, errlen);
 *     each transaction, after BEGIN:  sl_linkroll_begin(lr);
 *         for each stored span:       sl_linkroll_note(lr, trace_ref, start_ns, &dep_span);
 *         before trace rows change:   sl_linkroll_commit(lr);   then COMMIT
 *     sl_linkroll_free(lr);
 *
 * From SQL, link_rollup_rebuild() recomputes link_hour from every span
 * (the 004 migration's backfill, and a repair tool).
 */
#ifndef SL_LINK_ROLLUP_H
#define SL_LINK_ROLLUP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/dependencies.h"

typedef struct sl_linkroll sl_linkroll;

/* NULL on failure, with a message in err. */
sl_linkroll *sl_linkroll_new(sqlite3 *db, char *err, size_t errlen);
void sl_linkroll_free(sl_linkroll *lr);

/* Inside a fresh write transaction: remember where the warehouse stood. */
int sl_linkroll_begin(sl_linkroll *lr);

/* A span just stored in trace ref (strings are copied). */
int sl_linkroll_note(sl_linkroll *lr, int64_t ref, int64_t start_ns, const sl_dep_span *sp);

/* Relink the noted traces into link_hour; call before the transaction
 * updates trace.start_ns.  Forgets the notes.  SQLite result code. */
int sl_linkroll_commit(sl_linkroll *lr);

/* Forget the notes (the transaction rolled back). */
void sl_linkroll_reset(sl_linkroll *lr);

const char *sl_linkroll_error(const sl_linkroll *lr);

/* Register link_rollup_rebuild() on db.  SQLite code. */
int sl_link_rollup_register(sqlite3 *db);

#endif
