#!/bin/bash
# times.sh -- time, date and duration arguments and CSV times, end to end,
# through the one strict parser (src/base/timeparse.h).  Every case of
# ISSUE11 item 5: impossible dates, years past 2262, +99:99 offsets and
# durations inf, nan, 1e30s, 9999999999h, 0x10ms are refused (exit 2 with a
# message naming the option and the value; a CSV record rejected with its
# line and reason while the rest imports).
#
# Golden values: the nanoseconds of the good CSV rows were computed with
# Python's calendar.timegm, independently of spanlite:
#   2024-02-29T12:00:00Z           1709208000 s
#   2024-05-01 12:00:00.5+02:00    1714557600.5 s (10:00:00.5Z)
#   2016-12-31T23:59:60Z           1483228800 s (the leap second reads as the next one)
source "$SPANLITE_SRC/tests/cli/lib.sh"
S=$SPANLITE
DB=$WORK/t.db

q() { "$S" --db "$DB" sql --format csv "$1" | tail -n +2 | tr -d '\r'; }
# search ARGS...: the matching trace ids, sorted, space-separated.
ids() { "$S" --db "$DB" search --format csv --limit 0 "$@" | tail -n +2 | cut -d, -f1 | sort | tr '\n' ' ' | sed 's/ $//'; }

# ---- CSV times ----------------------------------------------------------------
cat > "$WORK/times.csv" <<'CSV'
trace_id,span_id,parent_span_id,service,operation,start_time,end_time
t1,a,,svc,op,2024-02-29T12:00:00Z,2024-02-29T12:00:00.250Z
t1,b,a,svc,op,2023-02-31T10:00:00Z,2023-02-31T10:00:01Z
t2,c,,svc,op,2300-01-01T00:00:00Z,2300-01-01T00:00:01Z
t3,d,,svc,op,2024-05-01T12:00:00+99:99,2024-05-01T12:00:01Z
t4,e,,svc,op,9999-12-31,9999-12-31T00:00:01Z
t5,f,,svc,op,2024-05-01 12:00:00.5+02:00,2024-05-01T10:00:02Z
t6,g,,svc,op,1714564800.25,1714564801
t7,h,,svc,op,2023-02-29,2023-03-01
t8,i,,svc,op,2024-05-01T12:00:00Z,2024-05-01T12:00:60Z
t9,j,,svc,op,2016-12-31T23:59:60Z,2017-01-01T00:00:01Z
CSV
expect_exit 1 "csv with bad times exits 1" -- "$S" --db "$DB" import --rejects "$WORK/rej.txt" "$WORK/times.csv"
for want in 'times.csv:3: bad start_time "2023-02-31T10:00:00Z": no such day in that month' \
            'times.csv:4: bad start_time "2300-01-01T00:00:00Z": outside the int64 nanosecond range' \
            'times.csv:5: bad start_time "2024-05-01T12:00:00+99:99": zone hours must be 00-23' \
            'times.csv:6: bad start_time "9999-12-31": outside the int64 nanosecond range' \
            'times.csv:9: bad start_time "2023-02-29": no such day in that month' \
            'times.csv:10: bad end_time "2024-05-01T12:00:60Z": second 60 is a leap second'; do
    if grep -qF "$want" "$WORK/err"; then pass; else fail "stderr lacks '$want': $(cat "$WORK/err")"; fi
done
expect_eq "csv: six records rejected" 6 "$(wc -l < "$WORK/rej.txt" | tr -d ' ')"
grep -q "6 rejected" "$WORK/err" && pass || fail "summary does not count 6 rejected: $(cat "$WORK/err")"
expect_eq "csv: good rows imported with exact times" \
    "a 1709208000000000000 250000000
f 1714557600500000000 1500000000
g 1714564800250000000 750000000
j 1483228800000000000 1000000000" \
    "$(q "SELECT span_id || ' ' || start_ns || ' ' || duration_ns FROM spans ORDER BY span_id")"
expect_eq "csv: no negative or wrapped start" 0 "$(q "SELECT count(*) FROM spans WHERE start_ns < 0")"

# ---- --since / --until: accepted forms ------------------------------------------
expect_eq "--since ISO date" "t5 t6" "$(ids --since 2024-03-01)"
expect_eq "--since ISO date-time with offset" "t5 t6" "$(ids --since 2024-03-01T01:00:00+01:00)"
expect_eq "--since lower-case t and z" "t5 t6" "$(ids --since 2024-03-01t00:00z)"
expect_eq "--since epoch s" "t5 t6" "$(ids --since 1709251200)"
expect_eq "--since epoch ms" "t5 t6" "$(ids --since 1709251200000)"
expect_eq "--since epoch decimal s, one ns after t5 (exact)" "t6" "$(ids --since 1714557600.500000001)"
expect_eq "--since epoch decimal s, at t5" "t5 t6" "$(ids --since 1714557600.5)"
expect_eq "--until leap day" "t9" "$(ids --until 2024-02-29)"
expect_eq "--since 2024-02-29 (leap year)" "t1 t5 t6" "$(ids --since 2024-02-29)"
expect_eq "--since -1h (nothing this recent)" "" "$(ids --since -1h)"
expect_eq "--until now" "t1 t5 t6 t9" "$(ids --until now)"

# ---- durations: accepted forms ---------------------------------------------------
expect_eq "--min-duration 250ms" "t1 t5 t6 t9" "$(ids --min-duration 250ms)"
expect_eq "--min-duration 251ms" "t5 t6 t9" "$(ids --min-duration 251ms)"
expect_eq "--min-duration 1.5s" "t5" "$(ids --min-duration 1.5s)"
expect_eq "--min-duration 1s" "t5 t9" "$(ids --min-duration 1s)"
expect_eq "--min-duration bare number = ms" "t5 t9" "$(ids --min-duration 751)"
expect_eq "--max-duration 750000us" "t1 t6" "$(ids --max-duration 750000us)"
expect_eq "--min-duration 1e3ms" "t5 t9" "$(ids --min-duration 1e3ms)"

# ---- refused: exit 2, a message naming the option and the value -------------------
# refuse WHAT OPTION VALUE REASON -- command...: exit 2 and stderr
# "OPTION: cannot read 'VALUE' as a ...: REASON".
refuse() {
    local what=$1 opt=$2 val=$3 why=$4
    shift 4
    expect_exit 2 "$what" "$@"
    if grep -qF -- "$opt: cannot read '$val' as a" "$WORK/err" && grep -qF -- "$why" "$WORK/err"; then
        pass; else fail "$what: message should name $opt, '$val' and '$why': $(cat "$WORK/err")"; fi
    if [ -s "$WORK/out" ]; then fail "$what: wrote to stdout: $(head -c 200 "$WORK/out")"; else pass; fi
}
R="outside the int64 nanosecond range"
refuse "search --since 9999-12-31" --since 9999-12-31 "$R" -- "$S" --db "$DB" search --since 9999-12-31
refuse "search --since 2023-02-31" --since 2023-02-31 "no such day" -- "$S" --db "$DB" search --since 2023-02-31
refuse "search --since 2023-02-29" --since 2023-02-29 "no such day" -- "$S" --db "$DB" search --since 2023-02-29
refuse "search --until 2300-01-01" --until 2300-01-01 "$R" -- "$S" --db "$DB" search --until 2300-01-01
refuse "search --since +99:99" --since 2024-05-01T00:00+99:99 "zone hours" -- "$S" --db "$DB" search --since 2024-05-01T00:00+99:99
refuse "search --since +02:99" --since 2024-05-01T00:00+02:99 "zone minutes" -- "$S" --db "$DB" search --since 2024-05-01T00:00+02:99
refuse "search --since epoch overflow" --since 99999999999 "$R" -- "$S" --db "$DB" search --since 99999999999
refuse "search --since 25:00" --since "2024-05-01 25:00" "hour must be 00-23" -- "$S" --db "$DB" search --since "2024-05-01 25:00"
refuse "export --since +99:99" --since 2024-05-01T00:00:00+99:99 "zone hours" -- "$S" --db "$DB" export --since 2024-05-01T00:00:00+99:99
refuse "export --until 9999-12-31" --until 9999-12-31 "$R" -- "$S" --db "$DB" export --until 9999-12-31
refuse "report services --since 9999-12-31" --since 9999-12-31 "$R" -- "$S" --db "$DB" report services --since 9999-12-31
refuse "deps --since 2023-02-31" --since 2023-02-31 "no such day" -- "$S" --db "$DB" deps --since 2023-02-31
refuse "report workflows --until 2300-01-01" --until 2300-01-01 "$R" -- "$S" --db "$DB" report workflows --until 2300-01-01
for d in inf nan infms 1e30s 0x10ms 9999999999h -5ms 1h30m "5 ms" ""; do
    case $d in
        1e30s|9999999999h) why="about 292 years" ;;
        -5ms) why="negative" ;;
        0x10ms|1h30m|"5 ms") why="expected a unit" ;;
        "") why="empty" ;;
        *) why="not a duration" ;;
    esac
    refuse "search --min-duration '$d'" --min-duration "$d" "$why" -- "$S" --db "$DB" search --min-duration "$d"
done
refuse "search --max-duration nan" --max-duration nan "not a duration" -- "$S" --db "$DB" search --max-duration nan

finish
