# Durability: an import killed with SIGKILL in the middle leaves a consistent
# warehouse holding whole committed batches, and running it again adds just
# the rest.
#
# The kill must land mid-import, and the test proves it did: the import reads
# a pipe that is given only the first part of the input until the kill, so it
# cannot have finished; the warehouse then holds some records and strictly
# fewer than all, and the rerun adds exactly the missing ones.
source "$SPANLITE_SRC/tests/cli/lib.sh"
DB="$WORK/k.db"
N=200000
FIRST=60000 # lines fed before the kill: three commits of 16384 and a part
"$SPANGEN" --seed 5 --spans $N -o "$WORK/in.jsonl"
expect_eq "input lines" "$N" "$(wc -l < "$WORK/in.jsonl" | tr -d ' ')"
mkfifo "$WORK/feed"

"$SPANLITE" --db "$DB" import --quiet - < "$WORK/feed" 2>/dev/null &
pid=$!
exec 3>"$WORK/feed"          # held open: the import sees no end of input
head -n $FIRST "$WORK/in.jsonl" >&3
# Wait for the import's own evidence: committed records in the warehouse.
n=0
for _ in $(seq 1 1500); do
    n=$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM span" 2>/dev/null | tail -1)
    [ -n "$n" ] && [ "$n" -ge 16384 ] 2>/dev/null && break
    sleep 0.02
done
alive=$(kill -0 $pid 2>/dev/null && echo yes || echo no)
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
exec 3>&-
expect_eq "the import was still running when killed" "yes" "$alive"
before=$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM span" | tail -1)
echo "killed with $before of $N spans committed"

expect_eq "the kill landed mid-import (0 < committed < $FIRST fed < $N)" "yes" \
    "$([ "$before" -gt 0 ] && [ "$before" -le $FIRST ] && [ "$before" -lt $N ] && echo yes || echo no)"
expect_eq "integrity after the kill" "ok" "$("$SPANLITE" --db "$DB" sql "PRAGMA integrity_check" | tail -1)"
expect_eq "a whole number of commits (16384 records each)" "0" "$((before % 16384))"
expect_eq "traces agree with spans after the kill" "$before" \
    "$("$SPANLITE" --db "$DB" sql "SELECT coalesce(sum(span_count), 0) FROM traces" | tail -1)"
expect_eq "rollups agree with spans after the kill" "$before" \
    "$("$SPANLITE" --db "$DB" sql "SELECT coalesce(sum(calls), 0) FROM rollup_hour" | tail -1)"

"$SPANLITE" --db "$DB" import "$WORK/in.jsonl" 2>"$WORK/err"
expect_eq "re-run exits 0" "0" "$?"
expect_eq "re-run skips what was committed and adds exactly the rest" \
    "$WORK/in.jsonl: $N read, $((N - before)) imported, $before duplicates skipped, 0 rejected" \
    "$(tail -1 "$WORK/err")"
expect_eq "all spans there once" "$N" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"
expect_eq "traces agree with spans" "$N" "$("$SPANLITE" --db "$DB" sql "SELECT sum(span_count) FROM traces" | tail -1)"
finish
