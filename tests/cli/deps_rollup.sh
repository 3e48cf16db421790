# Hourly dependency links (schema/004_links.sql, link_rollup.c): a trace
# whose spans arrive in several imports is relinked, not counted twice;
# the rollups equal the full scan (dependencies(..., exact = 1)) however the
# input is split; the migration's rebuild gives the same rows.
source "$SPANLITE_SRC/tests/cli/lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 shell"; exit 77; }

H=1700002800000000000   # an hour boundary (472223 h after the epoch)
HOUR=3600000000000
DB="$WORK/w.db"
links() { # hour_ns|parent|child|calls|errors|sum_ns, one line per row
    "$SPANLITE" --db "$1" sql --format csv \
        "SELECT (hour_ns - $H) / $HOUR, parent, child, calls, errors, sum_ns FROM link_rollups
         ORDER BY 1, 2, 3" | tail -n +2 | tr '\n' ' '
}
span() { # trace span parent service kind remote start_offset duration [status]
    local parent=null remote=""
    [ "$3" != - ] && parent="\"$3\""
    [ "$6" != - ] && remote=",\"remote_service\":\"$6\""
    printf '{"trace_id":"%s","span_id":"%s","parent_span_id":%s,"service":"%s","operation":"op","kind":"%s"%s,"status":"%s","start_ns":%s,"duration_ns":%s}\n' \
        "$1" "$2" "$parent" "$4" "$5" "$remote" "${9:-unset}" "$(($H + $7))" "$8"
}

# --- Hand-worked (Zipkin's DependencyLinker rules, dependencies.c R4/R6/R8/R10) ---
# 1. A root client web -> api: one call web->api of 100 ns (R6).
span t1 c1 - web client api 0 100 > "$WORK/1.jsonl"
"$SPANLITE" --db "$DB" import --quiet "$WORK/1.jsonl"
expect_eq "a lone client links to its remote" "0,web,api,1,0,100 " "$(links "$DB")"

# 2. Its server arrives later, failed: the client now has a child, so the
#    server makes the link (R4), with the client's duration (R10) and the
#    server's error.  Still one call: the first import's link is taken back.
span t1 s1 c1 api server - 10 80 error > "$WORK/2.jsonl"
"$SPANLITE" --db "$DB" import --quiet "$WORK/2.jsonl"
expect_eq "a late server replaces its client's link" "0,web,api,1,1,100 " "$(links "$DB")"

# 3. A client of the server, in a third import: a second edge api->db.
span t1 d1 s1 api client db 20 30 > "$WORK/3.jsonl"
"$SPANLITE" --db "$DB" import --quiet "$WORK/3.jsonl"
expect_eq "a third import adds its edge only" "0,api,db,1,0,30 0,web,api,1,1,100 " "$(links "$DB")"

# 4. Re-importing everything adds nothing.
cat "$WORK/1.jsonl" "$WORK/2.jsonl" "$WORK/3.jsonl" > "$WORK/all.jsonl"
"$SPANLITE" --db "$DB" import --quiet "$WORK/all.jsonl"
expect_eq "re-import changes no link" "0,api,db,1,0,30 0,web,api,1,1,100 " "$(links "$DB")"

# 5. A trace's links follow its start: t2 starts in hour 1 until its root,
#    100 ns before hour 1, arrives; then the edge web->cache moves to hour 0.
span t2 x2 r2 web client cache $((HOUR + 5)) 10 > "$WORK/5a.jsonl"
"$SPANLITE" --db "$DB" import --quiet "$WORK/5a.jsonl"
expect_eq "the edge is in the hour the trace starts" \
    "0,api,db,1,0,30 0,web,api,1,1,100 1,web,cache,1,0,10 " "$(links "$DB")"
span t2 r2 - web server - $((HOUR - 100)) 1000 > "$WORK/5b.jsonl"
"$SPANLITE" --db "$DB" import --quiet "$WORK/5b.jsonl"
expect_eq "an earlier root moves the trace's edges to its hour" \
    "0,api,db,1,0,30 0,web,api,1,1,100 0,web,cache,1,0,10 " "$(links "$DB")"

# --- Rollups equal the full scan, however the input is split ---------------
# 4 x 800 spans in 4 hours, shuffled and imported in 7 parts so that most
# traces straddle imports.
for k in 0 1 2 3; do
    "$SPANGEN" --seed $((21 + k)) --spans 800 --start-ns $((H + k * HOUR + k * 600000000000)) \
        >> "$WORK/gen.jsonl"
done
python3 - "$WORK/gen.jsonl" "$WORK/shuf.jsonl" <<'EOF'
import random, sys
lines = open(sys.argv[1]).readlines()
random.Random(7).shuffle(lines)
open(sys.argv[2], "w").writelines(lines)
EOF
split -n l/7 "$WORK/shuf.jsonl" "$WORK/part."
G="$WORK/g.db"
for f in "$WORK"/part.*; do "$SPANLITE" --db "$G" import --quiet "$f"; done
hours=$("$SPANLITE" --db "$G" sql --format csv "SELECT count(DISTINCT hour_ns) FROM link_rollups" | tail -1)
[ "$hours" -ge 3 ] && pass || fail "the generated links should span 3 hours or more, got $hours"

# compare SINCE UNTIL: rollup rows against exact rows of the same window.
compare() {
    local args="$1, $2" what="$3"
    local q="SELECT r.parent, r.child FROM dependencies($args) r
             FULL JOIN dependencies($args, 1) x ON x.parent = r.parent AND x.child = r.child
             WHERE r.call_count IS NOT x.call_count OR r.error_count IS NOT x.error_count
                OR abs(r.avg_ns - x.avg_ns) > 1e-9 * x.avg_ns
                OR abs(r.p50_ns - x.p50_ns) > 0.011 * x.p50_ns
                OR abs(r.p99_ns - x.p99_ns) > 0.011 * x.p99_ns"
    expect_eq "$what: rollups equal the full scan" "" \
        "$("$SPANLITE" --db "$G" sql --format csv "$q" 2>&1 | tail -n +2)"
    expect_eq "$what: there are links" "yes" \
        "$("$SPANLITE" --db "$G" sql --format csv "SELECT CASE WHEN count(*) > 3 THEN 'yes' ELSE 'no' END FROM dependencies($args, 1)" | tail -1)"
}
compare NULL NULL "all hours"
# Without p50/p99 the rollups skip the sketches: the same counts.
expect_eq "counts alone equal the full rows" \
    "$("$SPANLITE" --db "$G" sql --format csv "SELECT parent, child, call_count, error_count, avg_ns, p99_ns FROM dependencies" | cut -d, -f1-5)" \
    "$("$SPANLITE" --db "$G" sql --format csv "SELECT parent, child, call_count, error_count, avg_ns FROM dependencies")"
compare "$((H + HOUR))" "$((H + 3 * HOUR))" "hours 1-2"
compare "$H" "$((H + HOUR))" "hour 0"

# The rollup path really answers hour-aligned windows (it carries sketch
# estimates, so a p50 that is not a stored duration shows it is in use),
# and an unaligned window falls back to the exact scan.
expect_eq "an unaligned window is exact" "" "$("$SPANLITE" --db "$G" sql --format csv "
    SELECT 1 FROM dependencies($H + 1, NULL) r JOIN dependencies($H + 1, NULL, 1) x
      ON x.parent = r.parent AND x.child = r.child WHERE r.p99_ns <> x.p99_ns" | tail -n +2)"

# link_rollup_rebuild() (the 004 migration's backfill) gives the same rows.
dump="SELECT hour_ns, parent, child, calls, errors, sum_ns FROM link_rollups ORDER BY 1, 2, 3"
"$SPANLITE" --db "$G" sql "$dump" > "$WORK/incremental.txt"
if [ -n "${SPANLITE_EXT:-}" ]; then
    cp "$G" "$WORK/r.db"
    sqlite3 "$WORK/r.db" ".load $SPANLITE_EXT" "SELECT link_rollup_rebuild() > 0" > "$WORK/rb.out" 2>&1 \
        || fail "link_rollup_rebuild: $(cat "$WORK/rb.out")"
    "$SPANLITE" --db "$WORK/r.db" sql "$dump" > "$WORK/rebuilt.txt"
    expect_eq "rebuild equals incremental" "" "$(cmp "$WORK/incremental.txt" "$WORK/rebuilt.txt" 2>&1)"
fi

# Migration from schema 3: the warehouse without link_hour is backfilled.
cp "$G" "$WORK/old.db"
to_schema4 "$WORK/old.db"
sqlite3 "$WORK/old.db" "DROP VIEW link_rollups; DROP TABLE link_hour; PRAGMA user_version = 3;"
"$SPANLITE" --db "$WORK/old.db" init > /dev/null 2>&1 || fail "migrating a schema 3 warehouse"
"$SPANLITE" --db "$WORK/old.db" sql "$dump" > "$WORK/migrated.txt"
expect_eq "the migration backfills the same rows" "" "$(cmp "$WORK/incremental.txt" "$WORK/migrated.txt" 2>&1)"

finish
