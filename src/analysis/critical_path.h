/*
 * analysis/critical_path.h -- the critical path of a trace, with the semantics of
 * Jaeger UI's critical path (jaegertracing/jaeger-ui,
 * packages/jaeger-ui/src/components/TracePage/CriticalPath/), as a pure C
 * routine over an array of spans.  The SQL table-valued function
 * critical_path(trace_id) over it is sql/critical_path.c (docs/sql-graph.md):
 *
 *     SELECT span_id, service, operation, start_ns, end_ns
 *       FROM critical_path('4bf92f3577b34da6a3ce929d0e0e4736');
 *
 *     SELECT t.trace_id, c.service, sum(c.end_ns - c.start_ns)
 *       FROM traces t, critical_path(t.trace_id) c GROUP BY 1, 2;
 *
 * C usage:
 *
 *     sl_cp_section *sec; size_t nsec;
 *     if (sl_critical_path_compute(nodes, n, &sec, &nsec) == SL_OK) {
 *         ... sec[i].node indexes nodes[] ...
 *         sl_critical_path_free(sec);
 *     }
 *
 * The rules (the header comment of critical_path.c numbers them, and
 * docs/sql-graph.md explains them with an example).
 */
#ifndef SL_CRITICAL_PATH_H
#define SL_CRITICAL_PATH_H

#include <stddef.h>
#include <stdint.h>

/* One span as the critical path sees it.  Strings are borrowed. */
typedef struct sl_cp_node {
    const char *span_id;        /* required */
    const char *parent_span_id; /* NULL or "" for a root */
    int kind;                   /* SL_KIND_* */
    int shared;                 /* nonzero: Zipkin server half sharing its client's id */
    int64_t start_ns;
    int64_t end_ns;             /* >= start_ns */
} sl_cp_node;

/* One section of the path: [start_ns, end_ns) of nodes[node]. */
typedef struct sl_cp_section {
    uint32_t node;
    int64_t start_ns;
    int64_t end_ns;
} sl_cp_section;

/*
 * Reusable working memory: computing many traces with one sl_cp_work
 * allocates only when a trace is larger than every earlier one.
 * sl_cp_work_run() returns sections owned by w, valid until the next run or
 * sl_cp_work_free().  Returns SL_OK or SL_NOMEM.
 */
typedef struct sl_cp_work sl_cp_work;
sl_cp_work *sl_cp_work_new(void);
void sl_cp_work_free(sl_cp_work *w);
int sl_cp_work_run(sl_cp_work *w, const sl_cp_node *nodes, size_t n,
                   const sl_cp_section **out, size_t *nout);

/*
 * One-shot form.  Compute the critical path of the n spans of one trace,
 * nodes[] in arrival order (the order the trace's spans were delivered:
 * ties of start time keep it, R0 of critical_path.c).  On SL_OK, *out
 * holds *nout sections in Jaeger UI's order (each root's path from its end
 * back to its start, roots by start time) and is released with
 * sl_critical_path_free(); *out is NULL when there are no sections.
 * Returns SL_OK or SL_NOMEM.  The input is not modified.
 */
int sl_critical_path_compute(const sl_cp_node *nodes, size_t n,
                             sl_cp_section **out, size_t *nout);
void sl_critical_path_free(sl_cp_section *sections);

/*
 * R1's shared-span rule, the one implementation (analysis/trace_view.c
 * builds its tree with it too).  Among spans sharing one id (Zipkin's client
 * and server halves), a client half is a CLIENT span without the shared
 * flag, and a span is a server half when it has the shared flag or is a
 * SERVER while its group has a client half.
 */
int sl_cp_client_half(int kind, int shared);
int sl_cp_server_half(int kind, int shared, int group_has_client);

#endif
