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

# query: parameters follow the query's own contract
expect_exit 2 "query with an unknown --param" -- "$SPANLITE" --db "$DB" query services --param nosuch=1
expect_eq "unknown --param: message" \
    "spanlite query: services has no parameter 'nosuch' (its parameters: service, since, until, limit)" \
    "$(cat "$WORK/err")"
expect_exit 2 "span_rank without its required trace" -- "$SPANLITE" --db "$DB" query span_rank
expect_eq "required --param: message" "spanlite query: span_rank needs --param trace=VALUE" "$(cat "$WORK/err")"
expect_exit 0 "span_rank with trace" -- "$SPANLITE" --db "$DB" query --format csv span_rank --param trace=t1
expect_eq "span_rank rows" "2" "$(wc -l <"$WORK/out" | tr -d ' ')"
# since/until take the times --since takes; the span starts at 1 ns after the epoch
expect_exit 0 "query --param since=ISO" -- "$SPANLITE" --db "$DB" query --format csv services \
    --param since=1970-01-01T00:00:00Z --param until=1970-01-01T00:00:01Z
expect_eq "ISO window holds the span" "s,1" "$(tail -n 1 "$WORK/out" | cut -d, -f1-2)"
expect_exit 0 "query --param since=ISO after it" -- "$SPANLITE" --db "$DB" query --format csv services \
    --param since=1970-01-01T00:00:01Z
expect_eq "later window is empty" "1" "$(wc -l <"$WORK/out" | tr -d ' ')"
expect_exit 2 "query --param since=garbage" -- "$SPANLITE" --db "$DB" query services --param since=garbage
# query --list: one row per query, descriptions whole (no sentence cut at the
# end of the file's first comment line)
"$SPANLITE" query --list >"$WORK/list"
grep -q "only operations with at least" "$WORK/list" && pass || fail "query --list cuts errors' description"
expect_eq "query --list: description column aligned" "1" \
    "$(grep -E '^  [a-z_]+ +[A-Z]' "$WORK/list" | awk '{ print index($0, $2) }' | sort -u | wc -l | tr -d ' ')"
# import of a directory says it is one
mkdir "$WORK/dir"
expect_exit 2 "import DIR" -- "$SPANLITE" --db "$DB" import "$WORK/dir"
grep -q "dir is a directory" "$WORK/err" && pass || fail "import DIR: message: $(cat "$WORK/err")"
grep -q "Success" "$WORK/err" && fail "import DIR says Success" || pass
# --db after the command means the same as before it
cd "$WORK" || exit 2
expect_exit 0 "report summary --db W" -- "$SPANLITE" report summary --format csv --db "$DB"
expect_eq "--db after the command: the warehouse's figures" "1" "$(tail -n 1 "$WORK/out" | cut -d, -f1)"
expect_exit 0 "sql --db=W" -- "$SPANLITE" sql --db="$DB" --format csv "SELECT count(*) AS n FROM spans"
expect_eq "--db= after the command" "n 1" "$(tr '\n' ' ' <"$WORK/out" | sed 's/ $//')"
[ -e "$WORK/spanlite.db" ] && fail "the default warehouse was created" || pass
finish
