-- Trend: requests, errors and latency per service per hour.
-- params: service, since, until (ns)
SELECT strftime('%Y-%m-%dT%H:00:00Z', s.start_ns / 1000000000, 'unixepoch') AS hour,
       sv.name AS service,
       count(*) AS requests,
       sum(s.status = 2) AS errors,
       round(percentile(s.duration_ns, 50) / 1e6, 3) AS p50_ms,
       round(percentile(s.duration_ns, 99) / 1e6, 3) AS p99_ms
FROM span s JOIN service sv ON sv.id = s.service_id
WHERE (:service IS NULL OR sv.name = :service)
  AND (:since IS NULL OR s.start_ns >= :since)
  AND (:until IS NULL OR s.start_ns < :until)
GROUP BY s.start_ns / 3600000000000, s.service_id
ORDER BY hour, service;
