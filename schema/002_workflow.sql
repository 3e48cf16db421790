-- 002_workflow.sql: workflow events (docs/workflows.md).
--
-- Events are kept whole, in arrival order, packed by segment (the events of
-- one import batch): wf_segment.cols holds what the report replays and
-- wf_segment.vals the rest of each event, against shared templates
-- (src/wf_seg.h has the layout).  Packing is what makes a durable import
-- cheaper than the script's in-memory pass: an event costs ~12 bytes on
-- disk instead of ~110.  The public surface is the views at the end;
-- workflow_events reads segments through the wf_events table-valued
-- function, which every spanlite connection (and the loadable extension)
-- registers.  Internal tables may change between versions.

CREATE TABLE wf_import (
    id         INTEGER PRIMARY KEY,
    started_ms INTEGER NOT NULL           -- wall clock, Unix epoch ms
);

-- Dictionaries: a text gets an id once and keeps it.
CREATE TABLE wf_type (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE             -- str() of the event's "type" (None when absent)
);
CREATE TABLE wf_workflow (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE wf_template (
    id    INTEGER PRIMARY KEY,
    shape BLOB NOT NULL UNIQUE            -- compact JSON with value markers
);

CREATE TABLE wf_segment (
    id        INTEGER PRIMARY KEY,        -- arrival order
    import_id INTEGER NOT NULL,           -- wf_import.id
    first_seq INTEGER NOT NULL,           -- seq of the first event (seq counts from 1)
    n         INTEGER NOT NULL,           -- events in the segment
    min_ts    INTEGER,                    -- range of int(ts_ms) over its events
    max_ts    INTEGER,
    cols      BLOB NOT NULL,
    vals      BLOB NOT NULL
);
CREATE INDEX wf_segment_seq ON wf_segment (first_seq);

-- Which segments hold events of a 4096 ms window of ts_ms (bucket = ts_ms >> 12;
-- events without a usable ts_ms share one bucket): the identity check of an
-- import decodes only the segments that can hold a copy of what arrives.
CREATE TABLE wf_zone (
    bucket  INTEGER NOT NULL,
    segment INTEGER NOT NULL,
    PRIMARY KEY (bucket, segment)
) WITHOUT ROWID;

-- One row per transaction id, maintained at import: the dictionary of
-- txn ids and the figures the transactions view shows.  Keys are found
-- through a 32-bit hash: txn ids are random, so their index takes random
-- inserts, and a small entry keeps the pages every commit rewrites few.
CREATE TABLE wf_txn (
    ref          INTEGER PRIMARY KEY,
    key          TEXT NOT NULL,           -- equality as Python's dict sees it (1 == 1.0); unique
    key_hash     INTEGER NOT NULL,        -- 32-bit hash of key
    txn_id       TEXT,                    -- str() of the first spelling, when not key itself
    workflow_id  INTEGER,                 -- first "workflow" named by its events
    opens        INTEGER NOT NULL DEFAULT 0,
    closes       INTEGER NOT NULL DEFAULT 0,
    open_ms      INTEGER,                 -- ts_ms of the latest transaction_open
    close_ms     INTEGER,                 -- ts_ms of the latest transaction_close
    step_opens   INTEGER NOT NULL DEFAULT 0,
    step_dones   INTEGER NOT NULL DEFAULT 0,
    error        INTEGER NOT NULL DEFAULT 0,
    events       INTEGER NOT NULL DEFAULT 0,
    first_seq    INTEGER,
    last_seq     INTEGER,
    spans_synced INTEGER NOT NULL DEFAULT 0  -- 1 once its spans are in the span store
);
CREATE INDEX wf_txn_key ON wf_txn (key_hash);
CREATE INDEX wf_txn_unsynced ON wf_txn (ref) WHERE spans_synced = 0 AND closes > 0;

-- ---- public views ----

CREATE VIEW workflow_events AS
SELECT seq, type, txn_id, ts_ms, workflow, body, import_id FROM wf_events;

CREATE VIEW transactions AS
SELECT coalesce(t.txn_id, t.key) AS txn_id,
       w.name AS workflow,
       t.open_ms,
       t.close_ms,
       t.close_ms - t.open_ms AS duration_ms,
       t.step_opens AS step_count,
       t.error,
       t.opens,
       t.closes,
       t.events,
       t.first_seq,
       t.last_seq
FROM wf_txn t
LEFT JOIN wf_workflow w ON w.id = t.workflow_id;

-- A step: a step_open and the next event of the same txn_id and "step"
-- when that is its step_done.  Computed from the events on each query.
CREATE VIEW steps AS
SELECT txn_id,
       step,
       ROW_NUMBER() OVER (PARTITION BY txn_id ORDER BY open_seq) AS step_index,
       open_seq,
       open_ms,
       done_ms,
       done_ms - open_ms AS duration_ms
FROM (
    SELECT txn_id,
           type,
           step,
           seq AS open_seq,
           ts_ms AS open_ms,
           CASE WHEN LEAD(type) OVER win = 'step_done' THEN LEAD(ts_ms) OVER win END AS done_ms
    FROM (SELECT seq, type, txn_id, ts_ms, body ->> '$.step' AS step
          FROM workflow_events WHERE type IN ('step_open', 'step_done'))
    WINDOW win AS (PARTITION BY txn_id, step ORDER BY seq)
)
WHERE type = 'step_open';

-- The gap between consecutive steps of a transaction (what
-- --derive-inter-step measures), with the planned wait that an
-- inter_step_wait event announced for it, if any.
CREATE VIEW step_gaps AS
SELECT g.txn_id,
       g.from_step,
       g.to_step,
       g.done_ms,
       g.open_ms,
       g.open_ms - g.done_ms AS gap_ms,
       w.planned_wait_ms,
       w.outlier_injected
FROM (
    SELECT txn_id,
           step AS from_step,
           done_ms,
           LEAD(step) OVER win AS to_step,
           LEAD(open_ms) OVER win AS open_ms,
           LEAD(1) OVER win AS has_next
    FROM steps
    WINDOW win AS (PARTITION BY txn_id ORDER BY open_seq)
) g
LEFT JOIN (
    SELECT txn_id,
           body ->> '$.from_step' AS from_step,
           max(body ->> '$.planned_wait_ms') AS planned_wait_ms,
           max(body ->> '$.outlier_injected') AS outlier_injected
    FROM workflow_events
    WHERE type = 'inter_step_wait'
    GROUP BY 1, 2
) w ON w.txn_id = g.txn_id AND w.from_step = g.from_step
WHERE g.has_next IS NOT NULL;
