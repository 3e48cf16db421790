-- 004_links.sql: the service dependency graph per hour, kept up to date at
-- ingest (link_rollup.c), so `dependencies` over years of spans adds up
-- rows instead of re-linking every trace.
--
-- A row is what the traces starting in one hour add to one edge of the
-- graph, by the rules of dependencies.c: calls, errors, their total
-- duration and a sketch of their durations (sketch() format, so
-- sketch_merge/sketch_quantile combine hours).  The writer relinks each
-- trace a transaction touches, taking back what its older spans linked, so
-- spans of one trace arriving in different imports still count once.

CREATE TABLE link_hour (
    bucket_ns  INTEGER NOT NULL,  -- start of the hour the traces start in, epoch ns
    parent_id  INTEGER NOT NULL,  -- service.id of the caller
    child_id   INTEGER NOT NULL,  -- service.id of the callee
    calls      INTEGER NOT NULL,
    errors     INTEGER NOT NULL,
    sum_ns     INTEGER NOT NULL,  -- total duration of the calls
    sketch     BLOB,              -- durations of the calls
    PRIMARY KEY (bucket_ns, parent_id, child_id)
) WITHOUT ROWID;

-- Spans stored before this migration.
SELECT link_rollup_rebuild();

CREATE VIEW link_rollups AS
SELECT l.bucket_ns AS hour_ns,
       p.name AS parent,
       c.name AS child,
       l.calls, l.errors, l.sum_ns, l.sketch
FROM link_hour l
JOIN service p ON p.id = l.parent_id
JOIN service c ON c.id = l.child_id;
