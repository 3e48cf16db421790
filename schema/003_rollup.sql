-- 003_rollup.sql: hourly rollups per operation, kept up to date at ingest.
--
-- Percentiles over years of spans cannot be re-sorted for every report, and
-- stored p99 values cannot be combined across windows; mergeable sketches
-- can (sketch_merge / sketch_quantile, docs/sql.md).  Each row covers one
-- operation in one hour (by span start); the writer merges every
-- transaction's spans into the rows it touches (store.c).

CREATE TABLE rollup_hour (
    bucket_ns    INTEGER NOT NULL,  -- start of the hour, epoch ns
    operation_id INTEGER NOT NULL,
    service_id   INTEGER NOT NULL,
    calls        INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    sum_ns       INTEGER NOT NULL,  -- total duration
    min_ns       INTEGER NOT NULL,
    max_ns       INTEGER NOT NULL,
    sketch       BLOB NOT NULL,     -- durations, sketch() format
    PRIMARY KEY (bucket_ns, operation_id)
) WITHOUT ROWID;

-- Spans stored before this migration.
INSERT INTO rollup_hour
SELECT (start_ns / 3600000000000) * 3600000000000, operation_id, service_id,
       count(*), sum(status = 2), sum(duration_ns), min(duration_ns), max(duration_ns),
       sketch(duration_ns)
FROM span GROUP BY 1, 2;

CREATE VIEW rollups AS
SELECT r.bucket_ns AS hour_ns,
       sv.name AS service,
       o.name AS operation,
       r.calls, r.errors, r.sum_ns, r.min_ns, r.max_ns, r.sketch
FROM rollup_hour r
JOIN service sv ON sv.id = r.service_id
JOIN operation o ON o.id = r.operation_id;

-- Traces by start time: search and windowed reports without a sort.
CREATE INDEX trace_start ON trace (start_ns);
