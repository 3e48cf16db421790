-- Error-prone operations by error rate (TracAgg's get_error_prone_operations):
-- only operations with at least one error.
-- params: service, since, until (ns), limit (default 10)
SELECT sv.name AS service,
       o.name AS operation,
       round(1.0 * sum(s.status = 2) / count(*), 4) AS error_rate,
       sum(s.status = 2) AS errors,
       count(*) AS calls
FROM span s
JOIN operation o ON o.id = s.operation_id
JOIN service sv ON sv.id = s.service_id
WHERE (:service IS NULL OR sv.name = :service)
  AND (:since IS NULL OR s.start_ns >= :since)
  AND (:until IS NULL OR s.start_ns < :until)
GROUP BY s.operation_id
HAVING errors > 0
ORDER BY 1.0 * sum(s.status = 2) / count(*) DESC, errors DESC, service, operation
LIMIT coalesce(:limit, 10);
