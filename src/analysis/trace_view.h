/*
 * analysis/trace_view.h -- the trace view: one trace's span tree, self times,
 * critical path per span and time per service, as `spanlite trace` shows
 * them and sl_get_trace_view() (spanlite.h) returns them.  Pure C over an
 * array of spans: no SQL (api/trace_view.c fetches the spans).
 *
 *     sl_trace_view v;
 *     if (sl_tv_build(spans, n, &v) == SL_OK) { ... sl_tv_release(&v); }
 *
 * The rules, numbered for the code (docs/api.md explains them):
 *   T1 A span's parent is the span whose id is its parent_span_id.  Spans
 *      sharing an id (Zipkin's client and server halves) follow
 *      critical_path.c R1, through its one implementation of the rule
 *      (sl_cp_server_half): the server half hangs under the client half,
 *      and children naming the id hang under the server half.
 *   T2 Children are ordered by start, then span id.  A span whose parent is
 *      not in the trace is an extra root; roots are ordered the same way.
 *      Spans caught in a parent cycle are roots too (the earliest first),
 *      so every span appears exactly once.
 *   T3 Self time of a span: its duration minus the length of the union of
 *      its children's intervals, each clamped to the span's own interval.
 *      A service's time is the sum of its spans' self times.  Concurrent
 *      children each keep their own time, so the shares of the services may
 *      add up to more than the trace duration.
 *   T4 A span's critical time is the sum of the lengths of its sections of
 *      the critical path (sl_critical_path_compute over the same spans).
 */
#ifndef SL_TRACE_VIEW_H
#define SL_TRACE_VIEW_H

#include <stddef.h>
#include "spanlite.h"

/* Analyse the n >= 1 spans of one trace into *v.  spans is sorted in place
 * into T2 order and borrowed by v (v->spans[i].span == &spans[i]).  SL_OK,
 * or SL_NOMEM with nothing left to release. */
int sl_tv_build(sl_span *spans, size_t n, sl_trace_view *v);
/* Free the arrays of a built view (not the spans, not v itself). */
void sl_tv_release(sl_trace_view *v);

#endif
