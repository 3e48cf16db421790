-- Slowest operations by average duration (TracAgg's get_slowest_operations).
-- params: service, since, until (ns), limit (default 10)
SELECT sv.name AS service,
       o.name AS operation,
       round(avg(s.duration_ns) / 1e6, 3) AS avg_ms,
       round(max(s.duration_ns) / 1e6, 3) AS max_ms,
       count(*) AS calls
FROM span s
JOIN operation o ON o.id = s.operation_id
JOIN service sv ON sv.id = s.service_id
WHERE (:service IS NULL OR sv.name = :service)
  AND (:since IS NULL OR s.start_ns >= :since)
  AND (:until IS NULL OR s.start_ns < :until)
GROUP BY s.operation_id
ORDER BY avg(s.duration_ns) DESC, service, operation
LIMIT coalesce(:limit, 10);
