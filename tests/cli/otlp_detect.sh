# OTLP: telling JSON Lines from one document by more than the first line,
# and saying once that a binary file looks like protobuf.
. "$(dirname "$0")/lib.sh"
S=$SPANLITE
# A file of TracesData lines whose first line is broken is still JSON Lines:
# the broken line is one reject, every other line imports as it does alone.
"$S" --db "$WORK/a.db" import --format otlp "$TESTDATA/otlp/lines.jsonl" >/dev/null 2>"$WORK/alone"
alone=$(tail -n 1 "$WORK/alone")
{ echo '{"resourceSpans":[{"resource":BROKEN'; cat "$TESTDATA/otlp/lines.jsonl"; } >"$WORK/bf.jsonl"
"$S" --db "$WORK/b.db" import --format otlp "$WORK/bf.jsonl" >/dev/null 2>"$WORK/err"
expect_eq "broken first line: the rest imported as alone" \
    "$("$S" --db "$WORK/a.db" sql --format csv 'SELECT count(*) FROM spans' | tail -n 1)" \
    "$("$S" --db "$WORK/b.db" sql --format csv 'SELECT count(*) FROM spans' | tail -n 1)"
grep -q "^$WORK/bf.jsonl:1: " "$WORK/err" && pass || fail "line 1 not named: $(cat "$WORK/err")"
want_rej=$(( $(echo "$alone" | sed 's/.* \([0-9]*\) rejected$/\1/') + 1 ))
grep -q " $want_rej rejected$" "$WORK/err" && pass || fail "rejects: want $want_rej: $(tail -n 1 "$WORK/err")"
# auto detection agrees
"$S" --db "$WORK/c.db" import "$WORK/bf.jsonl" >/dev/null 2>&1
expect_eq "auto: same spans" \
    "$("$S" --db "$WORK/b.db" sql --format csv 'SELECT count(*) FROM spans' | tail -n 1)" \
    "$("$S" --db "$WORK/c.db" sql --format csv 'SELECT count(*) FROM spans' | tail -n 1)"
# A pretty-printed document is still one document (its column-0 lines are braces).
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), indent=2))' \
    "$TESTDATA/otlp/all_types.json" >"$WORK/pretty.json"
"$S" --db "$WORK/d.db" import --format otlp "$TESTDATA/otlp/all_types.json" >/dev/null 2>&1
"$S" --db "$WORK/e.db" import --format otlp "$WORK/pretty.json" >/dev/null 2>"$WORK/err"
expect_eq "pretty document: same spans" \
    "$("$S" --db "$WORK/d.db" sql --format csv 'SELECT count(*) FROM spans' | tail -n 1)" \
    "$("$S" --db "$WORK/e.db" sql --format csv 'SELECT count(*) FROM spans' | tail -n 1)"
# Binary protobuf given as OTLP JSON: one message, exit 2.
printf '\n\217\001\n\035\n\033\n\014service.name\022\013\n\011checkout\022\000' >"$WORK/t.pb"
for i in 1 2 3 4 5 6; do cat "$WORK/t.pb"; done >"$WORK/traces.pb"
expect_exit 2 "protobuf as --format otlp" -- "$S" --db "$WORK/f.db" import --format otlp "$WORK/traces.pb"
grep -q "looks like OTLP protobuf" "$WORK/err" && pass || fail "no protobuf message: $(head -c 300 "$WORK/err")"
expect_eq "one line of error, then the summary" "2" "$(wc -l <"$WORK/err" | tr -d ' ')"
finish
