# Hourly rollups (schema/003_rollup.sql, store/writer.c): kept exact at ingest,
# whatever the batching, rebuilt identically by the migration, and their
# sketches within the stated 1% of the true quantile.
source "$SPANLITE_SRC/tests/cli/lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 shell"; exit 77; }

# Three hours apart, so that rollups span several buckets.
for k in 0 1 2; do
    "$SPANGEN" --seed $((11 + k)) --spans 2000 --start-ns $((1700000000000000000 + k * 3 * 3600000000000)) \
        >> "$WORK/all.jsonl"
done
head -n 2500 "$WORK/all.jsonl" > "$WORK/a.jsonl"
tail -n +2501 "$WORK/all.jsonl" > "$WORK/b.jsonl"

"$SPANLITE" --db "$WORK/one.db" import --quiet "$WORK/all.jsonl"
"$SPANLITE" --db "$WORK/two.db" import --quiet "$WORK/a.jsonl"
"$SPANLITE" --db "$WORK/two.db" import --quiet "$WORK/b.jsonl" "$WORK/a.jsonl"

dump='SELECT hour_ns, service, operation, calls, errors, sum_ns, min_ns, max_ns, hex(sketch)
      FROM rollups ORDER BY hour_ns, service, operation'
"$SPANLITE" --db "$WORK/one.db" sql "$dump" > "$WORK/one.txt"
"$SPANLITE" --db "$WORK/two.db" sql "$dump" > "$WORK/two.txt"
expect_eq "rollups do not depend on how the input was split" "" "$(cmp "$WORK/one.txt" "$WORK/two.txt" 2>&1)"
expect_eq "the data spans several hours" "yes" \
    "$("$SPANLITE" --db "$WORK/one.db" sql "SELECT CASE WHEN count(DISTINCT hour_ns) > 1 THEN 'yes' ELSE 'no' END FROM rollups" | tail -1)"

# Counts against the spans themselves, computed another way.
mismatch=$("$SPANLITE" --db "$WORK/two.db" sql "
  SELECT count(*) FROM (
    SELECT (start_ns / 3600000000000) * 3600000000000 AS h, service, operation,
           count(*) AS c, sum(status = 'error') AS e, sum(duration_ns) AS s,
           min(duration_ns) AS mn, max(duration_ns) AS mx
    FROM spans GROUP BY 1, 2, 3) x
  FULL JOIN rollups r ON r.hour_ns = x.h AND r.service = x.service AND r.operation = x.operation
  WHERE x.c IS NOT r.calls OR x.e IS NOT r.errors OR x.s IS NOT r.sum_ns
     OR x.mn IS NOT r.min_ns OR x.mx IS NOT r.max_ns" 2>&1 | tail -1)
expect_eq "rollup counts equal span aggregates" "0" "$mismatch"

# Each service's p99 from merged sketches is within 1% of the exact p99,
# percentile() over its spans (both interpolate between the closest ranks).
bad=$("$SPANLITE" --db "$WORK/two.db" sql "
  WITH est AS (SELECT service, sketch_quantile(sketch_merge(sketch), 0.99) AS q FROM rollups GROUP BY service),
       ex AS (SELECT service, percentile(duration_ns, 99) AS v FROM spans GROUP BY service)
  SELECT sum(abs(e.q - k.v) > 0.01 * k.v) || '/' || count(*) FROM est e JOIN ex k ON k.service = e.service" | tail -1)
nsvc=$("$SPANLITE" --db "$WORK/two.db" sql "SELECT count(DISTINCT service) FROM spans" | tail -1)
expect_eq "sketch p99 within 1% of percentile(), every service" "0/$nsvc" "$bad"

# An older warehouse (schema 2) gets its rollups from the migration.
cp "$WORK/one.db" "$WORK/old.db"
to_schema4 "$WORK/old.db"
sqlite3 "$WORK/old.db" "DROP VIEW rollups; DROP TABLE rollup_hour; DROP INDEX trace_start;
    DROP VIEW link_rollups; DROP TABLE link_hour; PRAGMA user_version=2;"
"$SPANLITE" --db "$WORK/old.db" init 2>/dev/null || fail "migrating the schema-2 copy"
"$SPANLITE" --db "$WORK/old.db" sql "$dump" > "$WORK/old.txt"
expect_eq "migration rebuilds the same rollups" "" "$(cmp "$WORK/one.txt" "$WORK/old.txt" 2>&1)"

# Reports read the rollups by default and the spans with --exact: counts agree.
r=$("$SPANLITE" --db "$WORK/two.db" report services --format csv | cut -d, -f1-5)
x=$("$SPANLITE" --db "$WORK/two.db" report services --exact --format csv | cut -d, -f1-5)
expect_eq "report services: rollup and exact counts agree" "$x" "$r"
finish
