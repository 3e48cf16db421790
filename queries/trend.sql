-- Trend per service per hour: requests, errors, p50/p99.
-- Hours wholly inside the window come from the hourly rollups (percentiles
-- within the sketch's 1%); an hour cut by --since or --until is computed from
-- its spans inside the window (exact percentiles), so every count equals
-- what `report services` says for the same window.
-- params: service, since, until (ns)
WITH h(ns) AS (SELECT 3600000000000),
w AS (SELECT :since AS s, :until AS u,
             -- first hour boundary at or after since; last at or before until
             CASE WHEN :since IS NULL THEN NULL
                  ELSE :since - (:since % h.ns) + CASE WHEN :since % h.ns > 0 THEN h.ns ELSE 0 END END AS s_hi,
             CASE WHEN :until IS NULL THEN NULL
                  ELSE :until - (:until % h.ns) - CASE WHEN :until % h.ns < 0 THEN h.ns ELSE 0 END END AS u_lo
      FROM h),
whole AS (
    SELECT r.bucket_ns, r.service_id, sum(r.calls) AS requests, sum(r.errors) AS errors,
           sketch_quantile(sketch_merge(r.sketch), 0.50) AS p50, sketch_quantile(sketch_merge(r.sketch), 0.99) AS p99
    FROM rollup_hour r, w, h
    WHERE (w.s IS NULL OR r.bucket_ns >= w.s_hi)
      AND (w.u IS NULL OR r.bucket_ns + h.ns <= w.u)
    GROUP BY r.bucket_ns, r.service_id),
cut AS (  -- spans of the hours the window cuts: [since, s_hi) and [max(u_lo, s_hi), until)
    SELECT s.start_ns, s.service_id, s.duration_ns, s.status FROM span s, w
    WHERE w.s IS NOT NULL AND s.start_ns >= w.s AND s.start_ns < min(w.s_hi, coalesce(w.u, w.s_hi))
    UNION ALL
    SELECT s.start_ns, s.service_id, s.duration_ns, s.status FROM span s, w
    WHERE w.u IS NOT NULL AND s.start_ns >= max(w.u_lo, coalesce(w.s_hi, w.u_lo)) AND s.start_ns < w.u),
partial AS (
    SELECT c.start_ns - (c.start_ns % h.ns) - CASE WHEN c.start_ns % h.ns < 0 THEN h.ns ELSE 0 END AS bucket_ns,
           c.service_id, count(*) AS requests, sum(c.status = 2) AS errors,
           percentile(c.duration_ns, 50) AS p50, percentile(c.duration_ns, 99) AS p99
    FROM cut c, h
    GROUP BY 1, 2)
SELECT strftime('%Y-%m-%dT%H:00:00Z', t.bucket_ns / 1000000000, 'unixepoch') AS hour,
       sv.name AS service,
       t.requests, t.errors,
       round(t.p50 / 1e6, 3) AS p50_ms,
       round(t.p99 / 1e6, 3) AS p99_ms
FROM (SELECT * FROM whole UNION ALL SELECT * FROM partial) t
JOIN service sv ON sv.id = t.service_id
WHERE (:service IS NULL OR sv.name = :service)
ORDER BY hour, service;
