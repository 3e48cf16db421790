# formats_zipkin_csv: Zipkin v2 JSON and CSV through `spanlite import` and
# `spanlite export`, end to end.
#
# Golden values: hand-worked from the fixtures in tests/data/{zipkin,csv};
# for the real files, the span/trace/error/shared counts the README of
# ../shared/data/real states, and sums that python3 computes from the raw
# files on its own.  The real-data part is skipped when ../shared is absent.
source "$SPANLITE_SRC/tests/cli/lib.sh"
: "${TESTDATA:?}"

S=$SPANLITE
Z=$TESTDATA/zipkin
C=$TESTDATA/csv

# q DB SQL: the rows of SQL as CSV, without the header.
q() { "$S" --db "$1" sql --format csv "$2" | tail -n +2 | tr -d '\r'; }

# Every public column of every span, in a fixed order (span_rowid left out).
DUMP="SELECT quote(trace_id),quote(span_id),quote(parent_span_id),quote(service),quote(operation),
  kind,status,quote(status_message),start_ns,duration_ns,quote(attributes),quote(resource),
  quote(scope),quote(events),quote(links),quote(remote_service),shared FROM spans ORDER BY 1,2,3,4,5,6,9,10,11"

# ---- Zipkin fixtures --------------------------------------------------------

expect_exit 0 "zipkin fixture imports (auto)" -- "$S" --db "$WORK/z.db" import "$Z/shared.json"
expect_eq "zipkin fixture: spans" 8 "$(q "$WORK/z.db" "SELECT count(*) FROM spans")"
expect_eq "shared span: client, server and late fragment visible" "client server unspecified" \
    "$(q "$WORK/z.db" "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM spans WHERE span_id='00000000000000c1' ORDER BY kind)")"
expect_eq "shared flag only on the server half" "server" \
    "$(q "$WORK/z.db" "SELECT kind FROM spans WHERE shared = 1")"
expect_exit 0 "zipkin re-import" -- "$S" --db "$WORK/z.db" import "$Z/shared.json"
expect_eq "re-import adds nothing" 8 "$(q "$WORK/z.db" "SELECT count(*) FROM spans")"
if grep -q "0 imported, 8 duplicates" "$WORK/err"; then pass; else fail "re-import summary: $(cat "$WORK/err")"; fi

# gzip on stdin, format detected from the content.
gzip -c "$Z/shared.json" > "$WORK/shared.json.gz"
expect_exit 0 "gzip zipkin on stdin" -- sh -c "'$S' --db '$WORK/zgz.db' import - < '$WORK/shared.json.gz'"
expect_eq "gzip: same rows" "$(q "$WORK/z.db" "$DUMP")" "$(q "$WORK/zgz.db" "$DUMP")"

# Malformed spans: rejected with their line and verbatim text, the rest imported.
expect_exit 1 "malformed zipkin exits 1" -- "$S" --db "$WORK/zbad.db" import --rejects "$WORK/zrej.txt" "$Z/malformed.json"
expect_eq "malformed zipkin: good spans kept" 2 "$(q "$WORK/zbad.db" "SELECT count(*) FROM spans")"
for want in "malformed.json:4: missing traceId" "malformed.json:5: missing id" \
            "malformed.json:6: unknown kind" "malformed.json:9: invalid JSON" \
            "malformed.json:10: not a span object"; do
    if grep -qF "$want" "$WORK/err"; then pass; else fail "stderr lacks '$want': $(cat "$WORK/err")"; fi
done
cat > "$WORK/zrej.want" <<'EOF'
{"id": "0000000000000002", "name": "no-trace", "timestamp": 1700000000000002}
{"traceId": "a1b2c3d4e5f60718", "name": "no-id", "timestamp": 1700000000000003}
{"traceId": "a1b2c3d4e5f60718", "id": "0000000000000004", "kind": "SIDEWAYS", "timestamp": 1700000000000004}
{"traceId": "a1b2c3d4e5f60718", "id": "0000000000000006" "name": "missing-comma"}
42
EOF
if cmp -s "$WORK/zrej.want" "$WORK/zrej.txt"; then pass; else fail "zipkin rejects file: $(diff "$WORK/zrej.want" "$WORK/zrej.txt")"; fi

# Round trip: import -> export zipkin -> import into a fresh warehouse.
expect_exit 0 "export zipkin" -- "$S" --db "$WORK/z.db" export --format zipkin --output "$WORK/z.out.json"
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d,list) and len(d)==8" "$WORK/z.out.json"; then
    pass; else fail "zipkin export is not a JSON array of 8 spans"; fi
expect_exit 0 "re-import the zipkin export" -- "$S" --db "$WORK/z2.db" import "$WORK/z.out.json"
expect_eq "zipkin round trip: identical rows" "$(q "$WORK/z.db" "$DUMP")" "$(q "$WORK/z2.db" "$DUMP")"

# ---- CSV fixtures ---------------------------------------------------------

expect_exit 0 "csv with BOM, CRLF and quotes (auto)" -- "$S" --db "$WORK/c.db" import "$C/quoting.csv"
expect_eq "csv quoting: rows (CSV-quoted by sql)" '"s1|front, end|GET ""/"" page"
"s2|back|multi
line op"
s3|back|op3' "$(q "$WORK/c.db" "SELECT span_id||'|'||service||'|'||operation FROM spans ORDER BY span_id")"

expect_exit 1 "malformed csv exits 1" -- "$S" --db "$WORK/cbad.db" import --rejects "$WORK/crej.txt" "$C/malformed.csv"
expect_eq "malformed csv: good rows kept" "1 8" "$(q "$WORK/cbad.db" "SELECT group_concat(span_id, ' ') FROM (SELECT span_id FROM spans ORDER BY span_id)")"
for want in "malformed.csv:3: bad start_ns" "malformed.csv:4: end before start" \
            "malformed.csv:6: 7 fields, the header has 9" "malformed.csv:11: unterminated quoted field"; do
    if grep -qF "$want" "$WORK/err"; then pass; else fail "stderr lacks '$want': $(cat "$WORK/err")"; fi
done
cat > "$WORK/crej.want" <<'EOF'
abc,2,1,svc,op,notanumber,2000,,
abc,3,1,svc,"multi
line",1000,500,,
abc,4,1,svc,op,1000,2000
,5,1,svc,op,1000,2000,,
abc,6,1,svc,op,1000,2000,sideways,
abc,7,1,,op,1000,2000,,
abc,9,1,svc,"unterminated,1000,2000,,
EOF
if cmp -s "$WORK/crej.want" "$WORK/crej.txt"; then pass; else fail "csv rejects file: $(diff "$WORK/crej.want" "$WORK/crej.txt")"; fi

# A header without a required field is a usage-level error naming the --map.
printf 'TraceID,Name,Service,Start_ns,Duration\nt,a,s,1,2\n' > "$WORK/nospan.csv"
expect_exit 2 "csv without span id column" -- "$S" --db "$WORK/c3.db" import --format csv "$WORK/nospan.csv"
if grep -qF "no column for span_id: name it with --map span_id=COLUMN" "$WORK/err"; then pass; else
    fail "missing-column message: $(cat "$WORK/err")"; fi

# CSV export -> import with defaults gives the same core columns.
expect_exit 0 "export csv" -- "$S" --db "$WORK/z.db" export --format csv --output "$WORK/z.csv"
expect_eq "csv export: header" "trace_id,span_id,parent_span_id,service,operation,kind,status,status_message,start_ns,end_ns,duration_ns,attributes" \
    "$(head -n 1 "$WORK/z.csv" | tr -d '\r')"
expect_exit 0 "re-import the csv export" -- "$S" --db "$WORK/z3.db" import "$WORK/z.csv"
CORE="SELECT trace_id,span_id,quote(parent_span_id),service,operation,kind,status,quote(status_message),start_ns,duration_ns,quote(attributes) FROM spans ORDER BY 1,2,3,4,5,6,9,10,11"
expect_eq "csv round trip: core columns" "$(q "$WORK/z.db" "$CORE")" "$(q "$WORK/z3.db" "$CORE")"

# ---- Real data ------------------------------------------------------------

REAL=${SPANLITE_SHARED:-}/data/real
if [ -z "${SPANLITE_SHARED:-}" ] || [ ! -d "$REAL" ]; then
    echo "note: ../shared/data/real absent, real-data checks skipped"
    finish
    exit
fi

# file spans traces errors shared, from the README's table.
python3 - "$REAL/README.md" > "$WORK/expect.txt" <<'EOF'
import re, sys
for line in open(sys.argv[1], encoding="utf-8"):
    cells = [c.strip() for c in line.split("|")]
    if len(cells) < 10 or not re.match(r"`(zipkin|csv)/", cells[1]):
        continue
    notes = cells[9]
    err = re.search(r"errors=(\d+)", notes)
    sh = re.search(r"shared=(\d+)", notes)
    print(cells[1].strip("`"), cells[6], cells[7], err.group(1) if err else "-", sh.group(1) if sh else "-")
EOF
expect_eq "README lists 12 zipkin and 6 csv files" "12 6" \
    "$(grep -c '^zipkin/' "$WORK/expect.txt") $(grep -c '^csv/' "$WORK/expect.txt")"

# Sums computed by python from the raw files: total duration in ns.
zipkin_sum() {
    python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
spans = [d] if isinstance(d, dict) else d
print(sum(int(s.get("duration", 0)) * 1000 for s in spans))
EOF
}
csv_stats() {
    python3 - "$1" <<'EOF'
import csv, sys
n = roots = dur = 0
traces = set()
for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")):
    n += 1
    traces.add(r["TraceID"])
    roots += r["ParentID"] == "root"
    dur += int(r["EndTimeUnixNano"]) - int(r["StartTimeUnixNano"])
print(n, len(traces), roots, dur)
EOF
}

while read -r file spans traces errors shared; do
    path=$REAL/$file
    db=$WORK/real.$$.db
    rm -f "$db" "$db-wal" "$db-shm"
    case $file in
    zipkin/*)
        expect_exit 0 "$file imports" -- "$S" --db "$db" import "$path"
        expect_eq "$file: spans traces errors shared" "$spans,$traces,$errors,$shared" \
            "$(q "$db" "SELECT count(*), count(DISTINCT trace_id), sum(status='error'), sum(shared) FROM spans")"
        expect_eq "$file: total duration" "$(zipkin_sum "$path")" "$(q "$db" "SELECT sum(duration_ns) FROM spans")"
        expect_exit 0 "$file re-import" -- "$S" --db "$db" import "$path"
        expect_eq "$file: re-import adds nothing" "$spans" "$(q "$db" "SELECT count(*) FROM spans")"
        rm -f "$WORK/rt.json" "$db.2" "$db.2-wal" "$db.2-shm"
        "$S" --db "$db" export --format zipkin --output "$WORK/rt.json" 2>/dev/null
        expect_exit 0 "$file: exported zipkin imports" -- "$S" --db "$db.2" import --format zipkin "$WORK/rt.json"
        expect_eq "$file: round trip identical" "$(q "$db" "$DUMP" | md5sum)" "$(q "$db.2" "$DUMP" | md5sum)"
        ;;
    csv/*)
        read -r pn pt proots pdur <<<"$(csv_stats "$path")"
        expect_eq "$file: python agrees with README" "$spans $traces" "$pn $pt"
        expect_exit 0 "$file imports with no --map" -- "$S" --db "$db" import "$path"
        expect_eq "$file (defaults): spans traces roots duration" "$spans,$traces,$proots,$pdur" \
            "$(q "$db" "SELECT count(*), count(DISTINCT trace_id), sum(parent_span_id IS NULL), sum(duration_ns) FROM spans")"
        rm -f "$db.2" "$db.2-wal" "$db.2-shm"
        expect_exit 0 "$file imports with the issue's --map" -- "$S" --db "$db.2" import \
            --map trace_id=TraceID --map span_id=SpanID --map parent_span_id=ParentID \
            --map service=PodName --map operation=OperationName \
            --map start_ns=StartTimeUnixNano --map end_ns=EndTimeUnixNano "$path"
        expect_eq "$file (--map): spans traces roots" "$spans,$traces,$proots" \
            "$(q "$db.2" "SELECT count(*), count(DISTINCT trace_id), sum(parent_span_id IS NULL) FROM spans")"
        ;;
    esac
done < "$WORK/expect.txt"

# gzip on stdin for CSV too.
f=$(ls "$REAL"/csv/*.csv | head -n 1)
gzip -c "$f" > "$WORK/real.csv.gz"
expect_exit 0 "gzip csv on stdin" -- sh -c "'$S' --db '$WORK/gz.db' import - < '$WORK/real.csv.gz'"
read -r pn _ <<<"$(csv_stats "$f")"
expect_eq "gzip csv: spans" "$pn" "$(q "$WORK/gz.db" "SELECT count(*) FROM spans")"

finish
