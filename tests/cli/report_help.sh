# Each report has its own --help: it offers only the options the report
# takes, refuses the others, and names only queries that exist.
. "$(dirname "$0")/lib.sh"
S=$SPANLITE
declare -A takes=(
    [services]="--service --since --until --limit --exact"
    [operations]="--service --since --until --limit --exact"
    [trend]="--service --since --until"
    [slowest]="--service --since --until --limit"
    [errors]="--service --since --until --limit"
    [summary]="--service --since --until"
)
value() { case $1 in --exact) ;; --limit) echo 3 ;; --since | --until) echo 2024-05-01 ;; *) echo x ;; esac; }
printf '{"trace_id":"t1","span_id":"a","service":"s","operation":"o","start_ns":1,"duration_ns":2}\n' >"$WORK/a.jsonl"
"$S" --db "$WORK/w.db" import "$WORK/a.jsonl" >/dev/null 2>&1
for r in "${!takes[@]}"; do
    expect_exit 0 "report $r --help" -- "$S" report "$r" --help
    help=$(cat "$WORK/out")
    for opt in --service --since --until --limit --exact; do
        offered=0; grep -q -- "^  $opt " <<<"$help" && offered=1
        accepted=0; case " ${takes[$r]} " in *" $opt "*) accepted=1 ;; esac
        expect_eq "report $r --help offers $opt" "$accepted" "$offered"
        # shellcheck disable=SC2046
        "$S" --db "$WORK/w.db" report "$r" --format csv $opt $(value $opt) >/dev/null 2>"$WORK/err"
        got=$?
        if [ $accepted = 1 ]; then expect_eq "report $r $opt runs" 0 "$got"
        else
            expect_eq "report $r $opt refused" 2 "$got"
            grep -q "report $r takes no $opt" "$WORK/err" && pass || fail "report $r $opt: message $(cat "$WORK/err")"
        fi
    done
    # every query the help names exists
    for q in $(grep -o 'query --show [a-z_]*' <<<"$help" | awk '{print $3}'); do
        expect_exit 0 "report $r --help names query $q" -- "$S" query --show "$q"
    done
done
finish
