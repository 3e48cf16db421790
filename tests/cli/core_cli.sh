#!/bin/bash
# core_cli.sh -- end-to-end tests of `spanlite` init/import/sql/export on the
# hand-written fixtures in tests/data/core (see its README.md for the trace
# start times the expectations below are worked from).  JSON and CSV output
# is checked with python3's json and csv modules, not by our own parsers.
source "$SPANLITE_SRC/tests/cli/lib.sh"

D="$TESTDATA/core"
TR="$D/traces.jsonl"
BAD="$D/bad2.jsonl"
S=$SPANLITE

T1=11111111111111111111111111111111
T2=22222222222222222222222222222222
T3=33333333333333333333333333333333
T4=trace-4
T5=55555555555555555555555555555555

# Sorted, distinct trace ids of a spans JSON Lines file, space-separated.
trace_ids() {
    python3 -c '
import json, sys
ids = sorted({json.loads(l)["trace_id"] for l in open(sys.argv[1]) if l.strip()})
print(" ".join(ids))' "$1"
}

# The lines of stderr that look like FILE:LINE: reason reports for file $1.
reject_lines() { grep -c "^$1:[0-9][0-9]*: " "$WORK/err"; }

# ---- help and usage ----
expect_exit 0 "spanlite --help" -- "$S" --help
expect_eq "spanlite --help on stdout" "usage: spanlite" "$(head -c 15 "$WORK/out")"
# Every command `spanlite --help` lists, and the core four in any case.
cmds=$("$S" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
for c in init import sql export; do
    case " $(echo $cmds) " in *" $c "*) pass ;; *) fail "spanlite --help does not list $c" ;; esac
done
for cmd in $cmds; do
    expect_exit 0 "spanlite $cmd --help" -- "$S" "$cmd" --help
    expect_eq "$cmd --help prints usage on stdout" "usage: spanlite" "$(head -c 15 "$WORK/out")"
    expect_eq "$cmd --help stderr" "" "$(cat "$WORK/err")"
    grep -q "$cmd" "$WORK/out" && pass || fail "$cmd --help does not name the command"
done
expect_exit 0 "spanlite --version" -- "$S" --version

expect_exit 2 "unknown command" -- "$S" frobnicate
grep -q frobnicate "$WORK/err" && pass || fail "unknown command: no message naming it"
expect_eq "unknown command: nothing on stdout" "" "$(cat "$WORK/out")"
expect_exit 2 "no command" -- "$S"
expect_exit 2 "unknown global option" -- "$S" --bogus init
grep -q -- --bogus "$WORK/err" && pass || fail "unknown global option: no message naming it"
for cmd in init import sql export; do
    expect_exit 2 "unknown option of $cmd" -- "$S" --db "$WORK/u.db" "$cmd" --bogus
    [ -s "$WORK/err" ] && pass || fail "$cmd --bogus: nothing on stderr"
done
expect_exit 2 "sql --format xml" -- "$S" --db "$WORK/u.db" sql --format xml "SELECT 1"
expect_exit 2 "export --format nope" -- "$S" --db "$WORK/u.db" export --format nope
expect_exit 2 "export --since garbage" -- "$S" --db "$WORK/u.db" export --since yesterday-ish

# ---- init, and where the warehouse is ----
DB="$WORK/w.db"
expect_exit 0 "init" -- "$S" --db "$DB" init
[ -f "$DB" ] && pass || fail "init did not create $DB"
expect_exit 0 "init again" -- "$S" --db "$DB" init
mkdir "$WORK/cwd"
(cd "$WORK/cwd" && env -u SPANLITE_DB "$S" init 2>/dev/null)
[ -f "$WORK/cwd/spanlite.db" ] && pass || fail "no --db, no SPANLITE_DB: ./spanlite.db not created"

# ---- schema versions ----
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version=999"); c.commit()' "$WORK/newer.db"
for cmd in init import sql export; do
    arg=; [ $cmd = sql ] && arg="SELECT 1"; [ $cmd = import ] && arg="$TR"
    expect_exit 2 "$cmd on a newer warehouse" -- "$S" --db "$WORK/newer.db" $cmd ${arg:+"$arg"}
    grep -q newer "$WORK/err" && pass || fail "$cmd on a newer warehouse: $(cat "$WORK/err")"
done
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE x(a)"); c.commit()' "$WORK/older.db"
expect_exit 2 "sql on an unmigrated file" -- "$S" --db "$WORK/older.db" sql "SELECT 1"
grep -q init "$WORK/err" && pass || fail "sql on an unmigrated file should point at init: $(cat "$WORK/err")"
expect_exit 0 "init migrates it" -- "$S" --db "$WORK/older.db" init
expect_exit 0 "then sql works" -- "$S" --db "$WORK/older.db" sql "SELECT count(*) FROM spans"

# ---- import with rejects ----
expect_exit 1 "import with 2 bad lines" -- "$S" --db "$DB" import --rejects "$WORK/rej.jsonl" "$BAD"
expect_eq "reject reports" 2 "$(reject_lines "$BAD")"
grep -q "^$BAD:3: .*invalid JSON" "$WORK/err" && pass || fail "no '$BAD:3: invalid JSON...' line: $(cat "$WORK/err")"
grep -q "^$BAD:6: missing span_id" "$WORK/err" && pass || fail "no '$BAD:6: missing span_id' line: $(cat "$WORK/err")"
sed -n '3p;6p' "$BAD" > "$WORK/want_rej"
cmp -s "$WORK/want_rej" "$WORK/rej.jsonl" && pass || fail "rejects file is not lines 3 and 6 verbatim"
grep -q "7 read, 5 imported, 0 duplicates skipped, 2 rejected" "$WORK/err" && pass ||
    fail "summary line: $(cat "$WORK/err")"
expect_eq "spans after import" "5" "$("$S" --db "$DB" sql "SELECT count(*) FROM spans" | tail -n 1)"

expect_exit 1 "re-import" -- "$S" --db "$DB" import --rejects "$WORK/rej2.jsonl" "$BAD"
grep -q "7 read, 0 imported, 5 duplicates skipped, 2 rejected" "$WORK/err" && pass ||
    fail "re-import summary: $(cat "$WORK/err")"
cmp -s "$WORK/want_rej" "$WORK/rej2.jsonl" && pass || fail "re-import rejects file"
expect_eq "spans after re-import" "5" "$("$S" --db "$DB" sql "SELECT count(*) FROM spans" | tail -n 1)"

# A record the span rules refuse (empty service) is kept verbatim too.
expect_exit 1 "import empty service" -- "$S" --db "$WORK/e.db" import --rejects "$WORK/rej3.jsonl" "$D/empty_service.jsonl"
grep -q "^$D/empty_service.jsonl:2: missing service" "$WORK/err" && pass || fail "empty service report: $(cat "$WORK/err")"
sed -n 2p "$D/empty_service.jsonl" > "$WORK/want_rej3"
cmp -s "$WORK/want_rej3" "$WORK/rej3.jsonl" && pass ||
    fail "rejects file for an empty service is not line 2 verbatim: [$(cat "$WORK/rej3.jsonl")]"

# ---- stdin, several files, gzip ----
DB2="$WORK/w2.db"
expect_exit 0 "import - (stdin)" -- "$S" --db "$DB2" import - < "$TR"
grep -q "<stdin>: 8 read, 8 imported, 0 duplicates skipped, 0 rejected" "$WORK/err" && pass ||
    fail "stdin summary: $(cat "$WORK/err")"
expect_exit 1 "import from stdin by default" -- "$S" --db "$WORK/w3.db" import < "$BAD"
grep -q "^<stdin>:6: missing span_id" "$WORK/err" && pass || fail "stdin reject report: $(cat "$WORK/err")"
expect_exit 1 "import two files" -- "$S" --db "$WORK/w4.db" import "$TR" "$BAD"
grep -q "^total: 15 read, 13 imported, 0 duplicates skipped, 2 rejected" "$WORK/err" && pass ||
    fail "total summary: $(cat "$WORK/err")"
gzip -c "$TR" > "$WORK/traces.gz"
expect_exit 0 "import gzip copy" -- "$S" --db "$DB2" import "$WORK/traces.gz"
grep -q "8 read, 0 imported, 8 duplicates skipped, 0 rejected" "$WORK/err" && pass ||
    fail "gzip summary: $(cat "$WORK/err")"
expect_exit 2 "import a missing file" -- "$S" --db "$DB2" import "$WORK/absent.jsonl"
grep -q "absent.jsonl" "$WORK/err" && pass || fail "missing input not named"

# ---- sql: read-only, errors, where the warehouse is ----
sqlq() { "$S" --db "$DB2" sql "$@"; }
expect_eq "count" "$(printf 'n\n8')" "$(sqlq "SELECT count(*) AS n FROM spans")"
for stmt in "INSERT INTO service(name) VALUES ('x')" "DELETE FROM span" "DROP VIEW spans" \
            "CREATE TABLE t(a)" "UPDATE trace SET span_count = 0"; do
    expect_exit 1 "sql is read-only: $stmt" -- "$S" --db "$DB2" sql "$stmt"
    grep -qi "readonly\|read-only" "$WORK/err" && pass || fail "$stmt: stderr [$(cat "$WORK/err")]"
done
expect_eq "data unchanged" "$(printf 'n\n8')" "$(sqlq "SELECT count(*) AS n FROM spans")"
expect_eq "aggregates unchanged" "$(printf 'n\n8')" "$(sqlq "SELECT sum(span_count) AS n FROM traces")"
expect_exit 2 "sql on a missing db" -- "$S" --db "$WORK/none.db" sql "SELECT 1"
[ -s "$WORK/err" ] && pass || fail "sql on a missing db: no message"
[ ! -e "$WORK/none.db" ] && pass || fail "sql created the missing db"
expect_exit 1 "syntax error" -- "$S" --db "$DB2" sql "SELEC 1"
grep -q 'near "SELEC": syntax error' "$WORK/err" && pass || fail "syntax error message: $(cat "$WORK/err")"
expect_exit 1 "unknown column" -- "$S" --db "$DB2" sql "SELECT nope FROM spans"
grep -q 'no such column: nope' "$WORK/err" && pass || fail "unknown column message: $(cat "$WORK/err")"

expect_eq "SPANLITE_DB" "$(printf 'n\n8')" "$(SPANLITE_DB="$DB2" "$S" sql "SELECT count(*) AS n FROM spans")"
expect_eq "--db wins over SPANLITE_DB" "$(printf 'n\n5')" "$(SPANLITE_DB="$DB2" "$S" --db "$DB" sql "SELECT count(*) AS n FROM spans")"
SPANLITE_DB="$DB2" expect_exit 0 "SPANLITE_DB import" -- "$S" import "$TR"
grep -q "8 duplicates skipped" "$WORK/err" && pass || fail "SPANLITE_DB import went elsewhere: $(cat "$WORK/err")"

# ---- sql output formats ----
# json: one array of objects, numbers as numbers (trace durations worked out
# from traces.jsonl: T1 root 250 ms covers its child (10..110 ms); T2 root
# 500 ms covers billing (100..400 ms); T4 root 2 ms covers 0.5..1.5 ms).
sqlq --format json "SELECT trace_id, span_count, duration_ns, root_service FROM traces ORDER BY trace_id" > "$WORK/t.json"
python3 - "$WORK/t.json" <<'EOF' && pass || fail "json output"
import json, sys
rows = json.load(open(sys.argv[1]))
want = [
    {"trace_id": "1" * 32, "span_count": 2, "duration_ns": 250000000, "root_service": "gateway"},
    {"trace_id": "2" * 32, "span_count": 2, "duration_ns": 500000000, "root_service": "gateway"},
    {"trace_id": "3" * 32, "span_count": 1, "duration_ns": 1000000, "root_service": "search"},
    {"trace_id": "5" * 32, "span_count": 1, "duration_ns": 1, "root_service": "clock"},
    {"trace_id": "trace-4", "span_count": 2, "duration_ns": 2000000, "root_service": "users"},
]
assert rows == want, rows
assert all(type(r["span_count"]) is int and type(r["duration_ns"]) is int for r in rows)
EOF
sqlq --format json "SELECT 2.5 AS r, 'x' AS s, NULL AS z, 1700000000123456789 AS big, -3 AS neg, 'a\"b' || char(9) AS \"we\"\"ird\"" > "$WORK/v.json"
python3 - "$WORK/v.json" <<'EOF' && pass || fail "json value types: $(cat "$WORK/v.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert rows == [{"r": 2.5, "s": "x", "z": None, "big": 1700000000123456789, "neg": -3,
                 'we"ird': 'a"b\t'}], rows
assert type(rows[0]["r"]) is float and type(rows[0]["big"]) is int
EOF
sqlq --format json "SELECT 1 AS a WHERE 0" > "$WORK/empty.json"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == []' "$WORK/empty.json" && pass ||
    fail "json of no rows is not []"

sqlq --format jsonl "SELECT trace_id, span_count FROM traces ORDER BY trace_id" > "$WORK/t.jsonl"
expect_eq "jsonl line count" 5 "$(wc -l < "$WORK/t.jsonl")"
python3 - "$WORK/t.jsonl" <<'EOF' && pass || fail "jsonl output"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
assert [o["trace_id"] for o in objs] == ["1" * 32, "2" * 32, "3" * 32, "5" * 32, "trace-4"], objs
assert [o["span_count"] for o in objs] == [2, 2, 1, 1, 2], objs
EOF

# csv: header row, RFC 4180 quoting, NULL as an empty field.
sqlq --format csv "SELECT 'plain' AS a, 'x,y' AS b, 'say \"hi\"' AS c, 'l1' || char(10) || 'l2' AS d, 42 AS e, NULL AS f" > "$WORK/q.csv"
printf 'a,b,c,d,e,f\nplain,"x,y","say ""hi""","l1\nl2",42,\n' > "$WORK/want.csv"
cmp -s "$WORK/want.csv" "$WORK/q.csv" && pass || fail "csv quoting: $(cat "$WORK/q.csv")"
sqlq --format csv "SELECT span_id, status_message FROM spans WHERE service = 'billing'" > "$WORK/b.csv"
expect_eq "csv of a stored message" "$(printf 'span_id,status_message\n2000000000000002,"card declined, ""retry"" later"')" "$(cat "$WORK/b.csv")"
python3 - "$WORK/b.csv" <<'EOF' && pass || fail "csv read back by python"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows == [["span_id", "status_message"], ["2000000000000002", 'card declined, "retry" later']], rows
EOF

# table: text left-aligned, numbers right-aligned, two spaces between columns.
sqlq --format table "SELECT service, count(*) AS n FROM spans GROUP BY service ORDER BY service" > "$WORK/t1.txt"
printf 'service  n\n-------  -\nbilling  1\nclock    1\ngateway  2\nsearch   1\nusers    3\n' > "$WORK/want1.txt"
cmp -s "$WORK/want1.txt" "$WORK/t1.txt" && pass || fail "table: $(cat "$WORK/t1.txt")"
sqlq --format table "SELECT operation, duration_ns FROM spans WHERE trace_id = '$T2' ORDER BY start_ns" > "$WORK/t2.txt"
printf 'operation  duration_ns\n---------  -----------\nPOST /pay    500000000\ncharge       300000000\n' > "$WORK/want2.txt"
cmp -s "$WORK/want2.txt" "$WORK/t2.txt" && pass || fail "table numbers: $(cat "$WORK/t2.txt")"
sqlq --format table "SELECT 'é' AS x, 1 AS y UNION ALL SELECT 'abc', 22" > "$WORK/t3.txt"
printf 'x     y\n---  --\n\xc3\xa9     1\nabc  22\n' > "$WORK/want3.txt"
cmp -s "$WORK/want3.txt" "$WORK/t3.txt" && pass || fail "table utf-8 width: $(cat "$WORK/t3.txt")"

# --param: :NAME, @NAME, $NAME; integers bind as integers, exactly.
expect_eq "--param text" "$(printf 'n\n1')" "$(sqlq --param svc=billing "SELECT count(*) AS n FROM spans WHERE service = :svc")"
expect_eq "--param @name" "$(printf 'n\n3')" "$(sqlq --param svc=users "SELECT count(*) AS n FROM spans WHERE service = @svc")"
expect_eq "--param \$name" "$(printf 'n\n3')" "$(sqlq --param svc=users 'SELECT count(*) AS n FROM spans WHERE service = $svc')"
# spans starting at or after 2024-05-01T01:00:00Z: T2's two and T3's one
expect_eq "--param integer" "$(printf 'n\n3')" "$(sqlq --param t=1714525200000000000 "SELECT count(*) AS n FROM spans WHERE start_ns >= :t")"
expect_eq "--param long integer exact" "$(printf 'n\n1')" "$(sqlq --param t=1700000000123456789 "SELECT count(*) AS n FROM spans WHERE start_ns = :t")"
expect_eq "two --params" "$(printf 'n\n2')" "$(sqlq --param a=gateway --param b=1714521600000000000 "SELECT count(*) AS n FROM spans WHERE service = :a AND start_ns >= :b")"
expect_exit 2 "--param without =" -- "$S" --db "$DB2" sql --param oops "SELECT 1"
# 1e20 does not fit in 64 bits: it must bind as the number it is (a real),
# not be clamped to INT64_MAX = 9223372036854775807.
expect_eq "--param beyond int64" "$(printf 'big\n1')" "$(sqlq --param x=100000000000000000000 "SELECT :x > 9223372036854775807 AS big")"

# ---- nanosecond precision end to end ----
expect_eq "ns in csv" "$(printf 'start_ns,end_ns\n1700000000123456789,1700000000123456790')" \
    "$(sqlq "SELECT start_ns, end_ns FROM spans WHERE service = 'clock'")"
sqlq --format json "SELECT start_ns, end_ns FROM spans WHERE service = 'clock'" > "$WORK/ns.json"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r == [{"start_ns": 1700000000123456789, "end_ns": 1700000000123456790}], r' "$WORK/ns.json" && pass ||
    fail "ns in json: $(cat "$WORK/ns.json")"
"$S" --db "$DB2" export --trace "$T5" > "$WORK/ns.jsonl"
python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 1 and r[0]["start_ns"] == 1700000000123456789 and r[0]["end_ns"] == 1700000000123456790, r
assert r[0]["duration_ns"] == 1, r' "$WORK/ns.jsonl" && pass || fail "ns in export: $(cat "$WORK/ns.jsonl")"
grep -q '"start_ns":1700000000123456789' "$WORK/ns.jsonl" && pass || fail "export start_ns text"

# ---- export selections ----
ex() { "$S" --db "$DB2" export "$@" > "$WORK/x.jsonl"; trace_ids "$WORK/x.jsonl"; }
expect_eq "export all" "$T1 $T2 $T3 $T5 $T4" "$(ex)"
expect_eq "export all: 8 spans" 8 "$(wc -l < "$WORK/x.jsonl")"
expect_eq "--trace" "$T2" "$(ex --trace $T2)"
expect_eq "--trace: both spans" 2 "$(wc -l < "$WORK/x.jsonl")"
expect_eq "--trace trace-4" "$T4" "$(ex --trace trace-4)"
expect_eq "--trace unknown" "" "$(ex --trace no-such-trace)"
expect_eq "--service billing" "$T2" "$(ex --service billing)"
# a trace touching the service comes out whole, other services included
expect_eq "--service billing: whole trace" 2 "$(wc -l < "$WORK/x.jsonl")"
expect_eq "--service users" "$T1 $T4" "$(ex --service users)"
# trace starts: T1 00:00, T4 00:30, T2 01:00 on 2024-05-01; T3 2024-05-02; T5 2023
expect_eq "--since ISO" "$T2 $T3 $T4" "$(ex --since 2024-05-01T00:30:00Z)"
expect_eq "--until ISO" "$T1 $T5 $T4" "$(ex --until 2024-05-01T01:00:00Z)"
expect_eq "--since --until" "$T4" "$(ex --since 2024-05-01T00:30:00Z --until 2024-05-01T01:00:00Z)"
expect_eq "--since epoch s" "$T2 $T3 $T4" "$(ex --since 1714523400)"
expect_eq "--until epoch ms" "$T1 $T5 $T4" "$(ex --until 1714525200000)"
expect_eq "--since epoch us" "$T2 $T3 $T4" "$(ex --since 1714523400000000)"
expect_eq "--since epoch ns" "$T2 $T3 $T4" "$(ex --since 1714523400000000000)"
expect_eq "--since with offset" "$T2 $T3 $T4" "$(ex --since 2024-05-01T02:30:00+02:00)"
expect_eq "--since/--until dates" "$T1 $T2 $T4" "$(ex --since 2024-05-01 --until 2024-05-02)"
expect_eq "--since ns fraction" "$T5" "$(ex --since 2023-11-14T22:13:20.123456789Z --until 2023-11-14T22:13:20.123456790Z)"
expect_eq "--since one ns later" "$T1 $T2 $T3 $T4" "$(ex --since 2023-11-14T22:13:20.123456790Z)"
expect_eq "--service --since" "$T2" "$(ex --service gateway --since 2024-05-01T00:30:00Z)"

# --output: same bytes as stdout, a count on stderr.
"$S" --db "$DB2" export > "$WORK/all_stdout.jsonl"
expect_exit 0 "export --output" -- "$S" --db "$DB2" export --output "$WORK/all.jsonl"
cmp -s "$WORK/all_stdout.jsonl" "$WORK/all.jsonl" && pass || fail "--output differs from stdout"
expect_eq "--output stdout empty" "" "$(cat "$WORK/out")"
grep -q "8 spans" "$WORK/err" && pass || fail "--output count: $(cat "$WORK/err")"
# and the export imports back as exact re-deliveries
expect_exit 0 "re-import the export" -- "$S" --db "$DB2" import "$WORK/all.jsonl"
grep -q "8 read, 0 imported, 8 duplicates skipped, 0 rejected" "$WORK/err" && pass ||
    fail "export round trip: $(cat "$WORK/err")"
expect_exit 2 "export on a missing db" -- "$S" --db "$WORK/none.db" export
[ ! -e "$WORK/none.db" ] && pass || fail "export created the missing db"

finish
