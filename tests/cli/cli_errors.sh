# Errors a user meets on the command line: each names what is wrong and
# exits non-zero, never 0 with nothing said.
. "$(dirname "$0")/lib.sh"
DB="$WORK/w.db"
printf '{"trace_id":"t1","span_id":"a","service":"s","operation":"o","start_ns":1,"duration_ns":2}\n' >"$WORK/a.jsonl"
"$SPANLITE" --db "$DB" import "$WORK/a.jsonl" >/dev/null 2>&1

# export --trace of a trace that is not there: exit 1 and say so, as `trace` does
expect_exit 1 "export --trace nosuch" -- "$SPANLITE" --db "$DB" export --trace nosuch
expect_eq "export --trace nosuch: message" "spanlite export: no trace with id 'nosuch'" "$(cat "$WORK/err")"
expect_eq "export --trace nosuch: no output" "" "$(cat "$WORK/out")"
expect_exit 0 "export --trace t1" -- "$SPANLITE" --db "$DB" export --trace t1
expect_eq "export --trace t1: one span" "1" "$(wc -l <"$WORK/out" | tr -d ' ')"
finish
