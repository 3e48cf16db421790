#!/bin/bash
# concurrency.sh -- several processes import into ONE warehouse at the same
# time while others query it: WAL and the busy timeout must serialise the
# writers without "database is locked", readers must never block or see a
# count go backwards, and nothing may be lost or doubled.  Then the same
# three imports again, concurrently: every span is a duplicate.
#
# Expected totals are the generators' line counts (one span per line; the
# seeds differ, so the three files share no trace).
source "$SPANLITE_SRC/tests/cli/lib.sh"
: "${SPANGEN:?SPANGEN must point at the spangen binary}"

S=$SPANLITE
DB="$WORK/c.db"
N=20000
SEEDS="101 202 303"

want=0
for seed in $SEEDS; do
    "$SPANGEN" --seed "$seed" --spans "$N" -o "$WORK/in$seed.jsonl" || { fail "spangen --seed $seed"; finish; exit; }
    want=$((want + $(wc -l < "$WORK/in$seed.jsonl")))
done
expect_eq "generated spans" $((3 * N)) "$want"
expect_exit 0 "init" -- "$S" --db "$DB" init

# A reader loop: one `spanlite sql` process after another until told to stop;
# each sample is "EXIT COUNT", every stderr line is kept.
reader() {
    local tag=$1 out rc
    while [ ! -e "$WORK/stop" ]; do
        out=$("$S" --db "$DB" sql "SELECT count(*) AS n FROM spans" 2>>"$WORK/reader$tag.err")
        rc=$?
        echo "$rc $(printf '%s\n' "$out" | tail -n 1)" >> "$WORK/reader$tag.log"
    done
}

# run_imports ROUND: the three imports at once, readers running meanwhile.
run_imports() {
    local round=$1 seed pids=()
    rm -f "$WORK/stop"
    reader "$round" &
    local rpid=$!
    for seed in $SEEDS; do
        "$S" --db "$DB" import "$WORK/in$seed.jsonl" > /dev/null 2> "$WORK/imp$round-$seed.err" &
        pids+=($!)
    done
    local i=0
    for seed in $SEEDS; do
        wait "${pids[$i]}"
        expect_eq "round $round: import --seed $seed exit status (stderr: $(head -c 300 "$WORK/imp$round-$seed.err"))" 0 "$?"
        i=$((i + 1))
    done
    touch "$WORK/stop"
    wait "$rpid"
    # one last sample after all imports finished
    reader_final=$("$S" --db "$DB" sql "SELECT count(*) AS n FROM spans" | tail -n 1)
}

check_readers() {
    local round=$1 log="$WORK/reader$1.log"
    local samples
    samples=$(wc -l < "$log")
    [ "$samples" -ge 1 ] && pass || fail "round $round: no reader samples"
    expect_eq "round $round: every reader exited 0" "" "$(awk '$1 != 0' "$log" | head -n 3)"
    # non-decreasing counts, never above the final total
    awk -v max="$reader_final" 'NR > 1 && $2 < prev { print "count went down: " prev " -> " $2; exit }
         $2 > max { print "count above final: " $2; exit } { prev = $2 }' "$log" > "$WORK/mono$round"
    expect_eq "round $round: reader counts non-decreasing" "" "$(cat "$WORK/mono$round")"
    echo "round $round: $samples reader samples: $(awk '{print $2}' "$log" | uniq | tr '\n' ' ' | head -c 300)"
}

no_locked() {
    if grep -il "locked\|busy" "$WORK"/imp*.err "$WORK"/reader*.err 2>/dev/null; then
        fail "\"database is locked\" (or busy) reported: $(grep -ih "locked\|busy" "$WORK"/imp*.err "$WORK"/reader*.err | head -n 3)"
    else
        pass
    fi
}

# ---- round 1: everything is new ----
run_imports 1
check_readers 1
no_locked
expect_eq "round 1: final count" "$want" "$reader_final"
for seed in $SEEDS; do
    grep -q "$N read, $N imported, 0 duplicates skipped, 0 rejected" "$WORK/imp1-$seed.err" && pass ||
        fail "round 1 seed $seed summary: $(cat "$WORK/imp1-$seed.err")"
done
# The per-trace aggregates agree with the spans, across interleaved commits.
q() { "$S" --db "$DB" sql "$1" | tail -n 1; }
expect_eq "round 1: sum(span_count)" "$want" "$(q "SELECT sum(span_count) AS n FROM traces")"
expect_eq "round 1: traces = distinct trace ids" "$(q "SELECT count(DISTINCT trace_id) AS n FROM spans")" \
    "$(q "SELECT count(*) AS n FROM traces")"
expect_eq "round 1: distinct trace ids = the generators'" \
    "$(cat "$WORK"/in*.jsonl | python3 -c 'import json,sys; print(len({json.loads(l)["trace_id"] for l in sys.stdin}))')" \
    "$(q "SELECT count(*) AS n FROM traces")"

# ---- round 2: the same three files again, concurrently ----
run_imports 2
check_readers 2
no_locked
expect_eq "round 2: count unchanged" "$want" "$reader_final"
for seed in $SEEDS; do
    grep -q "$N read, 0 imported, $N duplicates skipped, 0 rejected" "$WORK/imp2-$seed.err" && pass ||
        fail "round 2 seed $seed summary: $(cat "$WORK/imp2-$seed.err")"
done
expect_eq "round 2: every reader saw the full count" "" "$(awk -v w="$want" '$2 != w' "$WORK/reader2.log" | head -n 3)"
expect_eq "round 2: sum(span_count)" "$want" "$(q "SELECT sum(span_count) AS n FROM traces")"

finish
