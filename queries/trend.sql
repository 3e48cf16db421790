-- Trend per service per hour from the rollups: requests, errors, p50/p99 (within 1%).
-- params: service, since, until (ns; whole hours)
SELECT strftime('%Y-%m-%dT%H:00:00Z', r.bucket_ns / 1000000000, 'unixepoch') AS hour,
       sv.name AS service,
       sum(r.calls) AS requests,
       sum(r.errors) AS errors,
       round(sketch_quantile(sketch_merge(r.sketch), 0.50) / 1e6, 3) AS p50_ms,
       round(sketch_quantile(sketch_merge(r.sketch), 0.99) / 1e6, 3) AS p99_ms
FROM rollup_hour r JOIN service sv ON sv.id = r.service_id
WHERE (:service IS NULL OR sv.name = :service)
  AND (:since IS NULL OR r.bucket_ns > :since - 3600000000000)
  AND (:until IS NULL OR r.bucket_ns < :until)
GROUP BY r.bucket_ns, r.service_id
ORDER BY hour, service;
