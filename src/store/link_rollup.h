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
 * The writer reaches it as the entry sl_derived_link_hour of the derived
 * tables (store/derived.h): begin after BEGIN, note each stored span, and
 * commit before the trace rows' start_ns changes (the entry comes before
 * `trace` in sl_derived_tables for that reason).
 *
 * Its rebuild recomputes link_hour from every span: the 004 migration's
 * backfill through SQL link_rollup_rebuild() (sql/rebuild.c), and a
 * repair tool.  A row's sketch after a relink may keep an extreme of a
 * call taken back, to within the sketch's accuracy (analysis/sketch.c
 * skFixBounds); its buckets and counts are exact.
 */
#ifndef SL_LINK_ROLLUP_H
#define SL_LINK_ROLLUP_H

#include "store/derived.h"

#endif
