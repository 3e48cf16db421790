-- Summary statistics (TracAgg's get_summary_statistics): traces, spans,
-- services, and trace durations.  A trace is in the window when it starts in it.
-- With a service, every figure (service_count too) covers the traces touching it.
-- params: service (traces touching it), since, until (ns)
SELECT count(*) AS total_traces,
       coalesce(sum(t.span_count), 0) AS total_spans,
       (SELECT count(DISTINCT ts.service_id) FROM trace_service ts
         JOIN trace t2 ON t2.ref = ts.trace_ref
        WHERE t2.span_count > 0
          AND (:since IS NULL OR t2.start_ns >= :since)
          AND (:until IS NULL OR t2.start_ns < :until)
          AND (:service IS NULL OR t2.ref IN (SELECT trace_ref FROM trace_service
                                               WHERE service_id = (SELECT id FROM service WHERE name = :service)))) AS service_count,
       sum(t.error_count > 0) AS traces_with_errors,
       round(avg(t.end_ns - t.start_ns) / 1e6, 3) AS avg_trace_ms,
       round(percentile(t.end_ns - t.start_ns, 50) / 1e6, 3) AS p50_trace_ms,
       round(percentile(t.end_ns - t.start_ns, 95) / 1e6, 3) AS p95_trace_ms,
       round(percentile(t.end_ns - t.start_ns, 99) / 1e6, 3) AS p99_trace_ms
FROM trace t
WHERE t.span_count > 0
  AND (:since IS NULL OR t.start_ns >= :since)
  AND (:until IS NULL OR t.start_ns < :until)
  AND (:service IS NULL OR t.ref IN (SELECT trace_ref FROM trace_service
                                      WHERE service_id = (SELECT id FROM service WHERE name = :service)));
