-- Where each span of one trace stands among all spans of its operation:
-- its percentile rank by duration (0 = fastest, 100 = slowest).
-- params: trace (required)
WITH ops AS (SELECT DISTINCT operation_id FROM span
             WHERE trace_ref = (SELECT ref FROM trace WHERE trace_id = :trace))
SELECT t.trace_id,
       CASE WHEN typeof(s.span_id) = 'blob' THEN lower(hex(s.span_id)) ELSE s.span_id END AS span_id,
       sv.name AS service, o.name AS operation,
       round(s.duration_ns / 1e6, 3) AS duration_ms, r.pct_rank
FROM (SELECT id, round(100.0 * percent_rank() OVER (PARTITION BY operation_id ORDER BY duration_ns), 2) AS pct_rank
      FROM span WHERE operation_id IN (SELECT operation_id FROM ops)) r
JOIN span s ON s.id = r.id
JOIN trace t ON t.ref = s.trace_ref
JOIN service sv ON sv.id = s.service_id
JOIN operation o ON o.id = s.operation_id
WHERE t.trace_id = :trace
ORDER BY s.start_ns;
