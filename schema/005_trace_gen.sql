-- 005_trace_gen.sql: trace ids indexed by generation.
--
-- trace.trace_id had a UNIQUE index on a random key: each commit's new
-- traces dirtied as many scattered pages of it as there were new traces,
-- so ingest slowed as the warehouse grew (0.67 of the empty-warehouse rate
-- at 10M spans).  Now traces are filed in generations of 8,192 in order of
-- first sight (src/trace_index.h: TRACE_GEN_SIZE) and indexed by
-- (gen, trace_id): a commit's new ids fall in the newest generation's few
-- pages.  Uniqueness is kept by the writer, which probes only the
-- generations whose Bloom filter (trace_gen) may hold an id.  SQL finds an
-- id by skip-scan (one probe per generation), which the planner chooses
-- from the sqlite_stat1 row below; the writer keeps that row current.
-- SELECT trace_index_rebuild() refills trace_gen from trace.
--
-- The table is rebuilt to drop the UNIQUE constraint; the views over it
-- are dropped and created again unchanged.

DROP VIEW spans;
DROP VIEW traces;

CREATE TABLE trace_v5 (
    ref             INTEGER PRIMARY KEY,  -- increasing in order of first sight
    trace_id        TEXT NOT NULL,        -- unique: kept so by the writer
    start_ns        INTEGER,
    end_ns          INTEGER,
    span_count      INTEGER NOT NULL DEFAULT 0,
    service_count   INTEGER NOT NULL DEFAULT 0,
    error_count     INTEGER NOT NULL DEFAULT 0,
    root_span_rowid INTEGER,              -- span.id of the root (parentless, earliest)
    root_is_parentless INTEGER NOT NULL DEFAULT 0,
    gen             INTEGER NOT NULL      -- generation: trace_gen.gen
);
INSERT INTO trace_v5
SELECT ref, trace_id, start_ns, end_ns, span_count, service_count, error_count,
       root_span_rowid, root_is_parentless, (ref - 1) / 8192
FROM trace ORDER BY ref;
DROP TABLE trace;
ALTER TABLE trace_v5 RENAME TO trace;

CREATE INDEX trace_key ON trace (gen, trace_id);
CREATE INDEX trace_start ON trace (start_ns);

-- One row per generation: how many ids it was given (it is full at
-- 8,192) and a Bloom filter of them (10 bits per id, blocked).
CREATE TABLE trace_gen (
    gen    INTEGER PRIMARY KEY,
    traces INTEGER NOT NULL,
    bloom  BLOB NOT NULL
);
SELECT trace_index_rebuild();

-- The planner's row counts for trace_key: many rows per generation, one
-- per (generation, id), so `WHERE trace_id = ?` skip-scans trace_key.
ANALYZE trace_gen;
DELETE FROM sqlite_stat1 WHERE tbl = 'trace';
INSERT INTO sqlite_stat1(tbl, idx, stat)
SELECT 'trace', 'trace_key', max(count(*), 8192) || ' 8192 1' FROM trace;

CREATE VIEW spans AS
SELECT t.trace_id,
       s.span_id,
       s.parent_span_id,
       sv.name AS service,
       o.name AS operation,
       CASE s.kind WHEN 1 THEN 'internal' WHEN 2 THEN 'server' WHEN 3 THEN 'client'
                   WHEN 4 THEN 'producer' WHEN 5 THEN 'consumer' ELSE 'unspecified' END AS kind,
       CASE s.status WHEN 1 THEN 'ok' WHEN 2 THEN 'error' ELSE 'unset' END AS status,
       s.status_message,
       s.start_ns,
       s.start_ns + s.duration_ns AS end_ns,
       s.duration_ns,
       s.attributes,
       r.attributes AS resource,
       s.scope,
       s.events,
       s.links,
       rs.name AS remote_service,
       (s.flags & 1) AS shared
FROM span s
JOIN trace t ON t.ref = s.trace_ref
JOIN service sv ON sv.id = s.service_id
JOIN operation o ON o.id = s.operation_id
LEFT JOIN resource r ON r.id = s.resource_id
LEFT JOIN service rs ON rs.id = s.remote_service_id;

CREATE VIEW traces AS
SELECT t.trace_id,
       sv.name AS root_service,
       o.name AS root_operation,
       t.start_ns,
       t.end_ns,
       t.end_ns - t.start_ns AS duration_ns,
       t.span_count,
       t.service_count,
       t.error_count
FROM trace t
LEFT JOIN span rs ON rs.id = t.root_span_rowid
LEFT JOIN service sv ON sv.id = rs.service_id
LEFT JOIN operation o ON o.id = rs.operation_id
WHERE t.span_count > 0;
