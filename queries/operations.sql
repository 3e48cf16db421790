-- Operation metrics: calls, errors and latency per service and operation.
-- params: service, since, until (ns), limit
SELECT sv.name AS service,
       o.name AS operation,
       count(*) AS calls,
       sum(s.status = 2) AS errors,
       round(1.0 * sum(s.status = 2) / count(*), 4) AS error_rate,
       round(avg(s.duration_ns) / 1e6, 3) AS avg_ms,
       round(percentile(s.duration_ns, 50) / 1e6, 3) AS p50_ms,
       round(percentile(s.duration_ns, 95) / 1e6, 3) AS p95_ms,
       round(percentile(s.duration_ns, 99) / 1e6, 3) AS p99_ms
FROM span s
JOIN operation o ON o.id = s.operation_id
JOIN service sv ON sv.id = s.service_id
WHERE (:service IS NULL OR sv.name = :service)
  AND (:since IS NULL OR s.start_ns >= :since)
  AND (:until IS NULL OR s.start_ns < :until)
GROUP BY s.operation_id
ORDER BY calls DESC, service, operation
LIMIT coalesce(:limit, -1);
