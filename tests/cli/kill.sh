# Durability: an import killed with SIGKILL in the middle leaves a consistent
# warehouse holding whole committed batches, and running it again adds just
# the rest.
source "$SPANLITE_SRC/tests/cli/lib.sh"
DB="$WORK/k.db"
N=200000
"$SPANGEN" --seed 5 --spans $N -o "$WORK/in.jsonl"

"$SPANLITE" --db "$DB" import --quiet "$WORK/in.jsonl" 2>/dev/null &
pid=$!
# Kill it once a batch or two is committed (or at once, if it is that fast).
for _ in $(seq 1 400); do
    n=$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM span" 2>/dev/null | tail -1)
    [ -n "$n" ] && [ "$n" -gt 0 ] 2>/dev/null && break
    sleep 0.02
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
before=$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM span" | tail -1)
echo "killed with $before of $N spans committed"

expect_eq "integrity after the kill" "ok" "$("$SPANLITE" --db "$DB" sql "PRAGMA integrity_check" | tail -1)"
expect_eq "a whole number of commits (16384 records each) or all" "yes" \
    "$([ $((before % 16384)) -eq 0 ] || [ "$before" -eq $N ] && echo yes || echo no)"
expect_eq "traces agree with spans after the kill" "$before" \
    "$("$SPANLITE" --db "$DB" sql "SELECT coalesce(sum(span_count), 0) FROM traces" | tail -1)"
expect_eq "rollups agree with spans after the kill" "$before" \
    "$("$SPANLITE" --db "$DB" sql "SELECT coalesce(sum(calls), 0) FROM rollup_hour" | tail -1)"

"$SPANLITE" --db "$DB" import "$WORK/in.jsonl" 2>"$WORK/err"
expect_eq "re-run exits 0" "0" "$?"
expect_eq "re-run skips what was committed and adds the rest" \
    "$WORK/in.jsonl: $N read, $((N - before)) imported, $before duplicates skipped, 0 rejected" \
    "$(tail -1 "$WORK/err")"
expect_eq "all spans there once" "$N" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"
expect_eq "traces agree with spans" "$N" "$("$SPANLITE" --db "$DB" sql "SELECT sum(span_count) FROM traces" | tail -1)"
finish
