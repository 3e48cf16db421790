-- Operation metrics from the hourly rollups: fast over any span count; percentiles within 1%.
-- params: service, since, until (ns; rounded out to whole hours), limit
SELECT sv.name AS service,
       o.name AS operation,
       sum(r.calls) AS calls,
       sum(r.errors) AS errors,
       round(1.0 * sum(r.errors) / sum(r.calls), 4) AS error_rate,
       round(1.0 * sum(r.sum_ns) / sum(r.calls) / 1e6, 3) AS avg_ms,
       round(sketch_quantile(sketch_merge(r.sketch), 0.50) / 1e6, 3) AS p50_ms,
       round(sketch_quantile(sketch_merge(r.sketch), 0.95) / 1e6, 3) AS p95_ms,
       round(sketch_quantile(sketch_merge(r.sketch), 0.99) / 1e6, 3) AS p99_ms
FROM rollup_hour r
JOIN operation o ON o.id = r.operation_id
JOIN service sv ON sv.id = r.service_id
WHERE (:service IS NULL OR sv.name = :service)
  AND (:since IS NULL OR r.bucket_ns > :since - 3600000000000)
  AND (:until IS NULL OR r.bucket_ns < :until)
GROUP BY r.operation_id
ORDER BY calls DESC, service, operation
LIMIT coalesce(:limit, -1);
