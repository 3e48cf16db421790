/*
 * analysis/dependencies.h -- the service dependency graph, with the rules of
 * Zipkin's DependencyLinker (openzipkin/zipkin, zipkin2/internal/
 * DependencyLinker.java, SpanNode.java, Trace.java), as a pure C linker fed
 * one trace at a time.  The SQL table-valued function dependencies over it
 * is sql/dependencies.c (docs/sql-graph.md):
 *
 *     SELECT parent, child, call_count, error_count FROM dependencies;
 *     SELECT * FROM dependencies(1700000000000000000, 1700003600000000000);
 *     SELECT * FROM dependencies WHERE since_ns = 1700000000000000000;
 *     SELECT * FROM dependencies(NULL, NULL, 1);       -- exact: full scan
 *
 * The optional arguments since_ns and until_ns select the traces that start
 * in [since_ns, until_ns); NULL leaves a side open.  With no window, or one
 * of whole hours, the rows are added up from the hourly link rollups kept at
 * ingest (store/link_rollup.h; p50/p99 then within 1%); otherwise, or with a true
 * third argument `exact`, every selected trace is linked from its spans in
 * one pass over the table span, without a join.
 *
 * C usage:
 *
 *     sl_deps *d = sl_deps_new();
 *     for each trace: sl_deps_put_trace(d, spans, n);
 *     sl_deps_links(d, &links, &nlinks);  ... sl_deps_free(d);
 *
 * The rules are numbered in the header comment of dependencies.c and
 * explained, with an example, in docs/sql-graph.md.
 */
#ifndef SL_DEPENDENCIES_H
#define SL_DEPENDENCIES_H

#include <stddef.h>
#include <stdint.h>

/* One span as the linker sees it.  Services are small integers chosen by
 * the caller (the warehouse's service.id); 0 means unknown.  Strings are
 * borrowed for the duration of sl_deps_put_trace(). */
typedef struct sl_dep_span {
    const char *span_id;        /* required */
    const char *parent_span_id; /* NULL or "" for a root */
    uint32_t service;           /* local service, 0 = unknown */
    uint32_t remote_service;    /* peer (Zipkin remoteEndpoint), 0 = unknown */
    int kind;                   /* SL_KIND_*; UNSPECIFIED and INTERNAL are Zipkin's "no kind" */
    int error;                  /* nonzero: the span failed (Zipkin's "error" tag) */
    int shared;                 /* nonzero: Zipkin server half sharing its client's id */
    int64_t duration_ns;
    /* The rest of the local endpoint (Zipkin's localEndpoint ipv4, ipv6,
     * port): NULL / 0 when absent or unknown.  Spans sharing an id are kept
     * apart, and children placed, by the whole endpoint (R1, R2).  A caller
     * that leaves them NULL/0 gets the rules on the service alone. */
    const char *ipv4, *ipv6;
    int port;
} sl_dep_span;

/* One edge of the graph with the latency of its calls (see dependencies.c, R10). */
typedef struct sl_dep_link {
    uint32_t parent, child;     /* services */
    uint64_t calls, errors;
    double avg_ns, p50_ns, p99_ns;
} sl_dep_link;

typedef struct sl_deps sl_deps;

sl_deps *sl_deps_new(void);
void sl_deps_free(sl_deps *d);

/* Add the links of one trace (all spans share a trace id).  The input is
 * not modified.  SL_OK or SL_NOMEM. */
int sl_deps_put_trace(sl_deps *d, const sl_dep_span *spans, size_t n);

/* Send each call to fn instead of aggregating it (sl_deps_links() then has
 * nothing to report): the hourly link rollups (link_rollup.c) file each
 * call under the hour its trace starts in.  fn returns SL_OK or an error
 * code, which sl_deps_put_trace() passes on.  fn NULL aggregates again. */
typedef int (*sl_dep_emit)(void *ctx, uint32_t parent, uint32_t child, int error,
                           int64_t duration_ns);
void sl_deps_set_emit(sl_deps *d, sl_dep_emit fn, void *ctx);

/* The links so far, ordered by (parent, child), owned by d and valid until
 * the next call on d.  SL_OK or SL_NOMEM. */
int sl_deps_links(sl_deps *d, const sl_dep_link **out, size_t *n);

#endif
