# graph_real.sh -- critical_path() and dependencies over every real trace file.
#
# Imports every file of $SPANLITE_SHARED/data/real (format auto-detected)
# into one warehouse, then runs both functions over every trace and checks
# properties that hold whatever the data:
#   - no SQL error;
#   - each critical path tiles its roots: the sections of a trace sum to the
#     summed durations of its top-level spans (rules 3, 5, 6 of
#     docs/sql-graph.md), sections are non-empty and inside the trace, and
#     name spans of the trace;
#   - dependency links have 0 <= errors <= calls and p50 <= p99, and the
#     whole-range window gives the same graph as no window.
# One golden value from upstream: jaeger-ui's CriticalPath/testCases/test3.js
# expects, for its fixture traceWithSingleChildLongerThanParentAndStartsAfterParent,
# the single section [100, 140] (microseconds) of the root span.
source "$SPANLITE_SRC/tests/cli/lib.sh"
need_shared

DB="$WORK/real.db"
q() { "$SPANLITE" --db "$DB" sql --format csv "$1" | tail -n +2; }

imported=0
for f in "$SPANLITE_SHARED"/data/real/*/*; do
    case "$f" in *.md) continue ;; esac
    "$SPANLITE" --db "$DB" import --quiet --rejects "$WORK/rejects" "$f" 2>"$WORK/err"
    rc=$?
    # 1 = some records rejected: the importers' business, tested elsewhere.
    if [ "$rc" -le 1 ]; then imported=$((imported + 1)); pass
    else fail "import $f: exit $rc: $(head -c 300 "$WORK/err")"; fi
done
expect_eq "files imported" 1 "$([ "$imported" -gt 40 ] && echo 1 || echo 0)"

ntraces=$(q "SELECT count(*) FROM traces")
expect_eq "some traces" 1 "$([ "${ntraces:-0}" -gt 100 ] && echo 1 || echo 0)"

# Every trace goes through critical_path without error.
if q "SELECT count(*) FROM traces t, critical_path(t.trace_id) c" >"$WORK/out" 2>"$WORK/err"; then
    pass
else
    fail "critical_path over every trace: $(head -c 300 "$WORK/err")"
fi

# Sections tile the roots exactly.
bad=$(q "
WITH roots AS (
  SELECT s.trace_id, sum(s.end_ns - s.start_ns) AS d FROM spans s
   WHERE s.parent_span_id IS NULL OR s.parent_span_id = '' OR s.parent_span_id = s.span_id
      OR NOT EXISTS (SELECT 1 FROM spans p WHERE p.trace_id = s.trace_id
                                             AND p.span_id = s.parent_span_id)
   GROUP BY s.trace_id),
cp AS (
  SELECT t.trace_id, sum(c.end_ns - c.start_ns) AS d FROM traces t, critical_path(t.trace_id) c
   GROUP BY t.trace_id)
SELECT count(*) FROM roots r LEFT JOIN cp ON cp.trace_id = r.trace_id
 WHERE coalesce(cp.d, 0) != r.d")
expect_eq "traces whose path does not tile its roots" 0 "$bad"

bad=$(q "
SELECT count(*) FROM traces t, critical_path(t.trace_id) c
 WHERE c.start_ns >= c.end_ns OR c.start_ns < t.start_ns OR c.end_ns > t.end_ns
    OR NOT EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND s.span_id = c.span_id)")
expect_eq "sections empty, outside the trace or of unknown spans" 0 "$bad"

# Jaeger UI test3 through the whole import pipeline, in a warehouse of its
# own (several jaeger-ui fixtures reuse that trace id).
t3db="$WORK/t3.db"
"$SPANLITE" --db "$t3db" import --quiet \
    "$SPANLITE_SHARED/data/real/jaeger/jaeger-ui__stats__traceWithSingleChildLongerThanParentAndStartsAfterParent.json"
got=$("$SPANLITE" --db "$t3db" sql --format csv \
      "SELECT group_concat(span_id || ':' || start_ns || '-' || end_ns, ' ') FROM critical_path('006c3cf93508f205')" | tail -n +2)
expect_eq "jaeger-ui test3" "006c3cf93508f205:100000-140000" "$got"

# Dependencies.
if q "SELECT * FROM dependencies" >"$WORK/deps" 2>"$WORK/err"; then pass
else fail "dependencies: $(head -c 300 "$WORK/err")"; fi
nlinks=$(wc -l <"$WORK/deps")
expect_eq "some links" 1 "$([ "$nlinks" -gt 5 ] && echo 1 || echo 0)"
bad=$(q "SELECT count(*) FROM dependencies
          WHERE call_count < 1 OR error_count < 0 OR error_count > call_count OR p50_ns > p99_ns
             OR parent IS NULL OR child IS NULL")
expect_eq "inconsistent links" 0 "$bad"
bad=$(q "SELECT count(*) FROM (
           SELECT parent, child, call_count, error_count FROM dependencies
           EXCEPT
           SELECT parent, child, call_count, error_count FROM dependencies(
             (SELECT min(start_ns) FROM traces), (SELECT max(start_ns) + 1 FROM traces)))")
expect_eq "whole window differs from no window" 0 "$bad"
# The CSV (kind-less) files alone still give a graph (rule 6).
csvdb="$WORK/csv.db"
"$SPANLITE" --db "$csvdb" import --quiet "$SPANLITE_SHARED"/data/real/csv/* 2>/dev/null
n=$("$SPANLITE" --db "$csvdb" sql --format csv "SELECT count(*) FROM dependencies WHERE parent != child" | tail -n +2)
expect_eq "kind-less CSV traces link services" 1 "$([ "${n:-0}" -gt 5 ] && echo 1 || echo 0)"

finish
