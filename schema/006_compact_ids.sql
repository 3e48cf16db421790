-- 006_compact_ids.sql: span ids stored as the bytes they spell; kind and
-- status names in tables.
--
-- A span id is nearly always 16 lower-case hex digits, held twice per span
-- (span and span_identity) as 16 bytes of text.  Now an id that is
-- lower-case hex of even length is stored as a BLOB of its bytes (8), any
-- other id ("trace-123", odd lengths) as its TEXT, unchanged; the views
-- give the text back with built-in functions only, so a plain sqlite3
-- reads them: CASE WHEN typeof(x) = 'blob' THEN lower(hex(x)) ELSE x END.
-- The rules: src/base/hexid.h; span_id_stored(id) gives the stored form.
-- Trace ids stay TEXT: one row per trace, and `spans`/`traces` keep
-- finding `WHERE trace_id = ?` through trace_key.
--
-- The span table is rebuilt (as in 005, legacy_alter_table keeps the
-- rename from rewriting or re-checking the views that name `span`), so
-- its pages are written full; the old pages go to the free list, where
-- imports reuse them (VACUUM returns them to the file system).
PRAGMA legacy_alter_table = ON;

-- The one list of kind and status names for SQL; the C side's
-- sl_kind_name()/sl_status_name() (src/base/span.c) must agree, which
-- tests/unit/test_warehouse.c checks.
CREATE TABLE span_kind (
    code INTEGER PRIMARY KEY,  -- span.kind, OTLP numbering
    name TEXT NOT NULL UNIQUE
);
INSERT INTO span_kind(code, name) VALUES
    (0, 'unspecified'), (1, 'internal'), (2, 'server'),
    (3, 'client'), (4, 'producer'), (5, 'consumer');

CREATE TABLE span_status (
    code INTEGER PRIMARY KEY,  -- span.status
    name TEXT NOT NULL UNIQUE
);
INSERT INTO span_status(code, name) VALUES (0, 'unset'), (1, 'ok'), (2, 'error');

-- Indexes first: the pages they free take the new table's rows, so the
-- file grows by less than one copy of the span table.
DROP INDEX span_identity;
DROP INDEX span_service_time;
DROP INDEX span_time;

CREATE TABLE span_v6 (
    id              INTEGER PRIMARY KEY,
    trace_ref       INTEGER NOT NULL,     -- trace.ref
    span_id         BLOB NOT NULL,        -- stored form: BLOB of hex bytes, else TEXT
    parent_span_id  BLOB,                 -- the same; NULL for a root
    service_id      INTEGER NOT NULL,
    operation_id    INTEGER NOT NULL,
    kind            INTEGER NOT NULL,     -- span_kind.code
    status          INTEGER NOT NULL,     -- span_status.code
    flags           INTEGER NOT NULL DEFAULT 0, -- 1 = Zipkin shared server half
    start_ns        INTEGER NOT NULL,
    duration_ns     INTEGER NOT NULL,
    remote_service_id INTEGER,            -- service.id of the peer, if known
    status_message  TEXT,
    attributes      TEXT,                 -- JSON object
    resource_id     INTEGER,              -- resource.id
    scope           TEXT,                 -- JSON object
    events          TEXT,                 -- JSON array
    links           TEXT,                 -- JSON array
    content_hash    INTEGER NOT NULL      -- 64-bit hash of every field above (ids as text)
);
INSERT INTO span_v6
SELECT id, trace_ref, span_id_stored(span_id), span_id_stored(parent_span_id), service_id,
       operation_id, kind, status, flags, start_ns, duration_ns, remote_service_id,
       status_message, attributes, resource_id, scope, events, links, content_hash
FROM span ORDER BY id;
DROP VIEW spans;
DROP TABLE span;
ALTER TABLE span_v6 RENAME TO span;

CREATE UNIQUE INDEX span_identity ON span (trace_ref, span_id, content_hash);
CREATE INDEX span_service_time ON span (service_id, start_ns);
CREATE INDEX span_time ON span (start_ns);

CREATE VIEW spans AS
SELECT t.trace_id,
       CASE WHEN typeof(s.span_id) = 'blob' THEN lower(hex(s.span_id))
            ELSE s.span_id END AS span_id,
       CASE WHEN typeof(s.parent_span_id) = 'blob' THEN lower(hex(s.parent_span_id))
            ELSE s.parent_span_id END AS parent_span_id,
       sv.name AS service,
       o.name AS operation,
       -- A code outside the tables reads as code 0's name, as sl_kind_name() has it.
       coalesce((SELECT name FROM span_kind WHERE code = s.kind),
                (SELECT name FROM span_kind WHERE code = 0)) AS kind,
       coalesce((SELECT name FROM span_status WHERE code = s.status),
                (SELECT name FROM span_status WHERE code = 0)) AS status,
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

PRAGMA legacy_alter_table = OFF;
