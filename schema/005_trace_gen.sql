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
-- The table is rebuilt to drop the UNIQUE constraint (SQLite's 12-step
-- ALTER TABLE).  legacy_alter_table keeps the rename from rewriting or
-- re-checking the views: `spans` and `traces` name `trace` and go on
-- reading the new table unchanged.
PRAGMA legacy_alter_table = ON;

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
-- 8,192) and a Bloom filter of them (16 bits per id, blocked).
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

PRAGMA legacy_alter_table = OFF;
