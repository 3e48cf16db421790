-- 001_core.sql: the span store.
--
-- Internal tables are dictionary-encoded and laid out so that every index
-- grows at its right-hand edge while spans arrive in time order: span rows
-- get increasing rowids, traces get increasing refs when first seen, and the
-- only index keyed by a random value (trace.trace_id) has one entry per
-- trace, not per span.  The public surface is the views at the end; see
-- docs/schema.md.  Internal tables may change between versions.

CREATE TABLE service (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE operation (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES service(id),
    name       TEXT NOT NULL,
    UNIQUE (service_id, name)
);

-- Resource and scope JSON repeat for every span of a process: store once.
CREATE TABLE resource (
    id         INTEGER PRIMARY KEY,
    hash       INTEGER NOT NULL UNIQUE,   -- 64-bit hash of json
    attributes TEXT NOT NULL              -- JSON object
);

-- One row per trace, maintained at ingest (aggregates across imports).
CREATE TABLE trace (
    ref             INTEGER PRIMARY KEY,  -- increasing in order of first sight
    trace_id        TEXT NOT NULL UNIQUE,
    start_ns        INTEGER,
    end_ns          INTEGER,
    span_count      INTEGER NOT NULL DEFAULT 0,
    service_count   INTEGER NOT NULL DEFAULT 0,
    error_count     INTEGER NOT NULL DEFAULT 0,
    root_span_rowid INTEGER,              -- span.id of the root (parentless, earliest)
    root_is_parentless INTEGER NOT NULL DEFAULT 0
);

-- Which services a trace touches: keeps trace.service_count exact across imports.
CREATE TABLE trace_service (
    trace_ref  INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    PRIMARY KEY (trace_ref, service_id)
) WITHOUT ROWID;

CREATE TABLE span (
    id              INTEGER PRIMARY KEY,
    trace_ref       INTEGER NOT NULL,     -- trace.ref
    span_id         TEXT NOT NULL,
    parent_span_id  TEXT,                 -- NULL for a root
    service_id      INTEGER NOT NULL,
    operation_id    INTEGER NOT NULL,
    kind            INTEGER NOT NULL,     -- 0..5, OTLP numbering
    status          INTEGER NOT NULL,     -- 0 unset, 1 ok, 2 error
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
    content_hash    INTEGER NOT NULL      -- 64-bit hash of every field above
);

-- Identity, as Jaeger's Cassandra schema has it: an exact re-delivery
-- collides here and is skipped; two different spans sharing an id do not.
CREATE UNIQUE INDEX span_identity ON span (trace_ref, span_id, content_hash);
-- Per-service time windows (an operation's spans are found within its
-- service's).  Every index here costs ingest speed; per-operation figures
-- over time come from the rollups (003_rollup.sql) instead of an index.
CREATE INDEX span_service_time ON span (service_id, start_ns);
CREATE INDEX span_time ON span (start_ns);

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

CREATE VIEW services AS
SELECT name AS service FROM service
WHERE EXISTS (SELECT 1 FROM span WHERE span.service_id = service.id);
