# OTLP JSON and Jaeger JSON: import (every value type, positions of rejects,
# gzip, stdin, detection), export, lossless round trips, the real files of
# ../shared/data/real and the OTLP/Jaeger pairs of the same trace.
# Expected values are worked out by hand from the fixtures in
# tests/data/otlp and tests/data/jaeger, or computed by python3 from the
# input files themselves.
source "$SPANLITE_SRC/tests/cli/lib.sh"
D="$TESTDATA"
COLS="trace_id,span_id,parent_span_id,service,operation,kind,status,status_message,start_ns,end_ns,duration_ns,attributes,resource,scope,events,links,remote_service,shared"

sl() { "$SPANLITE" --db "$@"; }
# q DB SQL: the result rows as CSV without the header
q() { sl "$1" sql --format csv "$2" | tail -n +2; }
# val DB SQL: the first column of each row, unquoted
val() { sl "$1" sql --format jsonl "$2" | python3 -c 'import json,sys; [print(list(json.loads(l).values())[0]) for l in sys.stdin]'; }
# jcol DB EXPR WHERE: one value, unquoted
jcol() { sl "$1" sql --format jsonl "SELECT $2 AS v FROM spans WHERE $3" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["v"])'; }
rows() { q "$1" "SELECT $COLS FROM spans ORDER BY trace_id, span_id, start_ns, operation, attributes"; }

# ---- OTLP: every field and AnyValue type (all_types.json) ----
DB=$WORK/types.db
expect_exit 0 "import all_types.json" -- sl "$DB" import "$D/otlp/all_types.json"
S1="trace_id='4bf92f3577b34da6a3ce929d0e0e4736' AND span_id='00f067aa0ba902b7'"
expect_eq "upper-case hex ids are lower-cased, empty parent is a root" "4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7,1" \
    "$(q "$DB" "SELECT trace_id, span_id, parent_span_id IS NULL FROM spans WHERE $S1")"
expect_eq "service from resource service.name (resource after scopeSpans)" "cart,GET /cart,server,error,upstream failed" \
    "$(q "$DB" "SELECT service, operation, kind, status, status_message FROM spans WHERE $S1")"
expect_eq "nanoseconds exact" "1700000000123456789,1700000000223456790,100000001" \
    "$(q "$DB" "SELECT start_ns, end_ns, duration_ns FROM spans WHERE $S1")"
# json_type() tells how each value is stored (attrs.h rule).
expect_eq "attribute types" "text,integer,integer,integer,integer,integer,real,real,real,text,false,object,array,object,null,array" \
    "$(val "$DB" "SELECT group_concat(json_type(attributes, '\$.\"' || key || '\"'), ',') FROM spans, json_each(spans.attributes) WHERE $S1")"
ja() { printf "json_extract(attributes, '\$.%s')" "$1"; }
expect_eq "attribute values" "GET|200|42|-5|9223372036854775807|1234567890123456789|0.25|3.0|2.5e-07|NaN|0|AAAwOQ==" \
    "$(val "$DB" "SELECT $(ja '"http.method"') || '|' || $(ja '"http.status_code"') || '|' || $(ja retry) || '|' || $(ja neg) || '|' ||
         $(ja big) || '|' || $(ja '"big.bare"') || '|' || $(ja ratio) || '|' || $(ja whole) || '|' || $(ja tiny) || '|' ||
         $(ja nan) || '|' || $(ja cached) || '|' || $(ja 'blob."$bytes"') FROM spans WHERE $S1")"
expect_eq "exact big integers in the stored text" "1,1" \
    "$(q "$DB" "SELECT instr(attributes, '\"big\":9223372036854775807') > 0, instr(attributes, '\"whole\":3.0,') > 0 FROM spans WHERE $S1")"
expect_eq "array and kvlist values" '["a",7,true,1.5]|{"k":"v","inner":{"n":1}}|[]' \
    "$(jcol "$DB" "$(ja tags) || '|' || $(ja map) || '|' || $(ja emptyarr)" "$S1")"
expect_eq "resource" '{"service.name":"cart","host.cpus":8,"deployment":{"env":"prod"}}' \
    "$(sl "$DB" sql --format jsonl "SELECT resource FROM spans WHERE $S1" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["resource"])')"
expect_eq "scope" '{"name":"io.opentelemetry.http","version":"1.2.0","attributes":{"scope.attr":true}}' \
    "$(sl "$DB" sql --format jsonl "SELECT scope FROM spans WHERE $S1" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["scope"])')"
expect_eq "events" '[{"time_ns":1700000000123456999,"name":"exception","attributes":{"exception.message":"boom \"quoted\"\n"},"dropped_attributes_count":2},{"time_ns":1700000000200000000,"name":"","attributes":{}}]' \
    "$(sl "$DB" sql --format jsonl "SELECT events FROM spans WHERE $S1" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["events"])')"
expect_eq "links" '[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","trace_state":"congo=t61rcWkgMzE","attributes":{"link.kind":"batch"},"dropped_attributes_count":1,"flags":1}]' \
    "$(sl "$DB" sql --format jsonl "SELECT links FROM spans WHERE $S1" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["links"])')"
expect_eq "enum names, bare 19-digit time, peer.service" "client,ok,1700000000130000000,1,cartdb" \
    "$(q "$DB" "SELECT kind, status, start_ns, duration_ns, remote_service FROM spans WHERE span_id='53995c3f42cd8ad8'")"
expect_eq "no resource, empty scope: unknown_service, NULLs" "unknown_service,unspecified,unset,1,1,1,1,1" \
    "$(q "$DB" "SELECT service, kind, status, attributes IS NULL, resource IS NULL, scope IS NULL, events IS NULL, links IS NULL FROM spans WHERE span_id='0000000000000abc'")"

# ---- OTLP: legacy instrumentationLibrarySpans and snake_case keys ----
DB=$WORK/legacy.db
expect_exit 0 "import legacy_snake.json" -- sl "$DB" import "$D/otlp/legacy_snake.json"
expect_eq "legacy + snake_case" \
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1,bbbbbbbbbbbbbbb1,,legacy-svc,legacy-op,client,ok,10,"{""n"":12,""d"":0.5}","{""name"":""old.lib"",""version"":""0.9""}"
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1,bbbbbbbbbbbbbbb2,bbbbbbbbbbbbbbb1,camel-legacy,camel-op,internal,unset,10,,"{""name"":""older.lib""}"' \
    "$(q "$DB" "SELECT trace_id, span_id, parent_span_id, service, operation, kind, status, duration_ns, attributes, scope FROM spans ORDER BY span_id")"

# ---- OTLP JSON Lines: a bad line is rejected with its number, the rest imported ----
DB=$WORK/lines.db
expect_exit 1 "JSON Lines with bad lines exits 1" -- sl "$DB" import --rejects "$WORK/lines.rej" "$D/otlp/lines.jsonl"
expect_eq "reject positions" "lines.jsonl:2:|lines.jsonl:3: missing spanId|lines.jsonl:5:" \
    "$(grep -o 'lines.jsonl:[0-9]*:\( missing spanId\)\?' "$WORK/err" | paste -sd'|')"
expect_eq "good spans of lines 1 and 3 imported" "first,third" "$(val "$DB" "SELECT group_concat(operation) FROM (SELECT operation FROM spans ORDER BY start_ns)")"
expect_eq "rejects file: line 2 and 5 verbatim, the bad span's own JSON" \
    "$(sed -n 2p "$D/otlp/lines.jsonl")|$(sed -n 3p "$D/otlp/lines.jsonl" | python3 -c 'import sys,re; print(re.search(r"\{\"traceId\":\"3+\",\"name\":\"no-span-id\"[^}]*\}", sys.stdin.read()).group(0))')|not json at all" \
    "$(paste -sd'|' "$WORK/lines.rej")"

# ---- OTLP document: bad spans rejected with their line, the rest imported ----
DB=$WORK/baddoc.db
expect_exit 1 "document with bad spans exits 1" -- sl "$DB" import --rejects "$WORK/baddoc.rej" "$D/otlp/bad_doc.json"
want=""
for id in 2 3 4 5; do want="$want|bad_doc.json:$(grep -n "\"spanId\": \"000000000000000$id\"" "$D/otlp/bad_doc.json" | cut -d: -f1):"; done
expect_eq "bad span lines" "${want#|}" "$(grep -o 'bad_doc.json:[0-9]*:' "$WORK/err" | paste -sd'|')"
expect_eq "bad span reasons" "missing traceId|endTimeUnixNano before startTimeUnixNano|bad intValue in attribute value|invalid JSON near byte 140" \
    "$(sed -n 's/^.*bad_doc.json:[0-9]*: //p' "$WORK/err" | paste -sd'|')"
expect_eq "good spans imported" "0000000000000001,0000000000000006" "$(val "$DB" "SELECT group_concat(span_id) FROM (SELECT span_id FROM spans ORDER BY span_id)")"
expect_eq "rejected span texts kept verbatim" "4" "$(grep -c '^{ "spanId": "000000000000000[2-5]",$' "$WORK/baddoc.rej")"

DB=$WORK/trunc.db
expect_exit 1 "cut-off document exits 1" -- sl "$DB" import --rejects "$WORK/trunc.rej" "$D/otlp/truncated.json"
expect_eq "the span before the cut is imported" "0000000000000001" "$(q "$DB" "SELECT group_concat(span_id) FROM spans")"
expect_eq "the cut is reported at its line" "truncated.json:$(grep -n '"spanId": "000000000000000$' "$D/otlp/truncated.json" | cut -d: -f1):" \
    "$(grep -o 'truncated.json:[0-9]*:' "$WORK/err" | tail -1)"

# ---- gzip, stdin and detection give the same rows ----
rows "$WORK/types.db" > "$WORK/types.rows"
gzip -c "$D/otlp/all_types.json" > "$WORK/all_types.json.gz"
expect_exit 0 "gzip input" -- sl "$WORK/gz.db" import "$WORK/all_types.json.gz"
rows "$WORK/gz.db" > "$WORK/gz.rows"
expect_eq "gzip rows" "$(md5sum < "$WORK/types.rows")" "$(md5sum < "$WORK/gz.rows")"
sl "$WORK/stdin.db" import - < "$WORK/all_types.json.gz" 2>/dev/null
rows "$WORK/stdin.db" > "$WORK/stdin.rows"
expect_eq "gzip on stdin rows" "$(md5sum < "$WORK/types.rows")" "$(md5sum < "$WORK/stdin.rows")"
expect_exit 0 "explicit --format otlp" -- sl "$WORK/explicit.db" import --format otlp "$D/otlp/all_types.json"
expect_eq "explicit format rows" "$(md5sum < "$WORK/types.rows")" "$(rows "$WORK/explicit.db" | md5sum)"

# ---- Jaeger: typed tags, processes, references, logs ----
DB=$WORK/jaeger.db
expect_exit 0 "import typed.json" -- sl "$DB" import "$D/jaeger/typed.json"
A1="span_id='00000000000000a1'"
expect_eq "jaeger root" "abcdef0123456789abcdef0123456789,1,frontend,root,server,error,bad gateway,1600000000000001000,250000" \
    "$(q "$DB" "SELECT trace_id, parent_span_id IS NULL, service, operation, kind, status, status_message, start_ns, duration_ns FROM spans WHERE $A1")"
expect_eq "jaeger typed tags, span.kind/error/otel.* taken out" '{"http.status_code":500,"big":9223372036854775806,"ratio":1.0,"ok":false,"blob":{"$bytes":"AAAwOQ=="}}' \
    "$(jcol "$DB" attributes "$A1")"
expect_eq "jaeger process -> resource" '{"service.name":"frontend","hostname":"h1","ip":"10.0.0.1","cpus":4}' "$(jcol "$DB" resource "$A1")"
expect_eq "jaeger otel.library -> scope" '{"name":"lib","version":"2.0"}' "$(jcol "$DB" scope "$A1")"
expect_eq "jaeger logs -> events" '[{"time_ns":1600000000000100000,"name":"retry","attributes":{"attempt":2}},{"time_ns":1600000000000200000,"name":"","attributes":{"message":"no name"}}]' \
    "$(jcol "$DB" events "$A1")"
expect_eq "jaeger parent = first reference in the trace; others are links" \
    '00000000000000a1|client|ok|db|{"peer.service":"db","error":true}|[{"trace_id":"ffffffffffffffffffffffffffffffff","span_id":"00000000000000ff","attributes":{"opentracing.ref_type":"follows_from"}},{"trace_id":"abcdef0123456789abcdef0123456789","span_id":"00000000000000a3","attributes":{"opentracing.ref_type":"child_of"}}]' \
    "$(jcol "$DB" "parent_span_id || '|' || kind || '|' || status || '|' || remote_service || '|' || attributes || '|' || links" "span_id='00000000000000a2'")"
expect_eq "jaeger orphan keeps its parent; unknown span.kind stays a tag" '0000000000000999|unspecified|{"span.kind":"weird"}|0' \
    "$(jcol "$DB" "parent_span_id || '|' || kind || '|' || attributes || '|' || duration_ns" "span_id='00000000000000a3'")"

DB=$WORK/jbad.db
expect_exit 1 "jaeger bad spans exit 1" -- sl "$DB" import --rejects "$WORK/jbad.rej" "$D/jaeger/bad.json"
expect_eq "jaeger reject lines" "bad.json:5:|bad.json:6:|bad.json:7:|bad.json:8:" "$(grep -o 'bad.json:[0-9]*:' "$WORK/err" | paste -sd'|')"
expect_eq "jaeger good span imported" "fine" "$(q "$DB" "SELECT group_concat(operation) FROM spans")"
expect_eq "jaeger rejected spans verbatim" "$(sed -n '5,8p' "$D/jaeger/bad.json" | sed 's/^ *//;s/,$//' | md5sum)" "$(md5sum < "$WORK/jbad.rej")"

# ---- Round trips: import -> export -> import into a fresh warehouse ----
# roundtrip NAME FORMAT FILES...: identical spans rows (span_rowid aside).
roundtrip() {
    local name=$1 fmt=$2; shift 2
    sl "$WORK/rt-$name-a.db" import "$@" >/dev/null 2>&1
    sl "$WORK/rt-$name-a.db" export --format "$fmt" --output "$WORK/rt-$name.out" 2>/dev/null
    sl "$WORK/rt-$name-b.db" import --format "$fmt" "$WORK/rt-$name.out" 2>"$WORK/rt-$name.err"
    local n; n=$(q "$WORK/rt-$name-a.db" "SELECT count(*) FROM spans")
    expect_eq "$name: $fmt round trip rows ($n spans)" "$(rows "$WORK/rt-$name-a.db" | md5sum)" "$(rows "$WORK/rt-$name-b.db" | md5sum)"
}
roundtrip fixtures otlp "$D/otlp/all_types.json" "$D/otlp/legacy_snake.json" "$D/jaeger/typed.json"
roundtrip jfixtures jaeger "$D/jaeger/typed.json"

# The OTLP export is JSON Lines of TracesData with OTLP's encodings.
python3 - "$WORK/rt-fixtures.out" <<'EOF' || fail "otlp export shape"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 3, len(lines)  # one line per trace: the fixtures hold three
for line in lines:
    d = json.loads(line)
    for rs in d["resourceSpans"]:
        attrs = rs["resource"]["attributes"]  # empty only for the span of unknown_service
        assert attrs == [] or any(a["key"] == "service.name" for a in attrs)
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                assert re.fullmatch(r"[0-9a-f]{32}", sp["traceId"]) and re.fullmatch(r"[0-9a-f]{16}", sp["spanId"])
                assert isinstance(sp["startTimeUnixNano"], str) and isinstance(sp["kind"], int)
                for a in sp.get("attributes", []):
                    v = a["value"]
                    if "intValue" in v: assert isinstance(v["intValue"], str)
EOF
pass
# The Jaeger export is one {"data":[...]} whose spans name processes it defines.
python3 - "$WORK/rt-jfixtures.out" <<'EOF' || fail "jaeger export shape"
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["data"]:
    for sp in t["spans"]:
        assert sp["processID"] in t["processes"] and sp["traceID"] == t["traceID"]
        assert all(r["refType"] in ("CHILD_OF", "FOLLOWS_FROM") for r in sp["references"])
        assert isinstance(sp["startTime"], int) and isinstance(sp["duration"], int)
EOF
pass

# ---- Real files (../shared/data/real) ----
if [ -z "${SPANLITE_SHARED:-}" ] || [ ! -d "$SPANLITE_SHARED/data/real/otlp" ]; then
    echo "SKIP: ../shared/data/real absent: real-file checks not run"
    finish; exit $?
fi
R=$SPANLITE_SHARED/data/real
# Span and error counts as the README states them (its table:
# | `dir/file` | ... | spans | traces | licence | notes with errors=N |).
for dir in otlp jaeger; do
    for f in "$R/$dir"/*.json; do
        base=$(basename "$f")
        want=$(awk -F'|' -v f="\`$dir/$base\`" '$2 ~ f { gsub(/ /, "", $7); print $7; exit }' "$R/README.md")
        sl "$WORK/real-$dir-$base.db" import "$f" 2>"$WORK/real.err"
        got=$(sed -n 's/^.*: \([0-9]*\) read, \([0-9]*\) imported, \([0-9]*\) duplicates skipped, 0 rejected$/\1/p' "$WORK/real.err" | head -1)
        expect_eq "$dir/$base: spans read (README)" "$want" "$got"
        want=$(grep -F "| \`$dir/$base\` |" "$R/README.md" | head -1 | grep -o 'errors=[0-9]*' | cut -d= -f2)
        expect_eq "$dir/$base: error spans (README)" "$want" "$(val "$WORK/real-$dir-$base.db" "SELECT count(*) FROM spans WHERE status = 'error'")"
    done
done
roundtrip real-otlp otlp "$R"/otlp/*.json
roundtrip real-jaeger jaeger "$R"/jaeger/*.json

# Pairs of the same trace: equal rows for every column both carry.  Jaeger
# keeps microseconds, so duration and end are the OTLP ones truncated to us.
pair() {
    local o=$1 j=$2
    sl "$WORK/pair-o.db" import "$R/otlp/$o" >/dev/null 2>&1
    sl "$WORK/pair-j.db" import "$R/jaeger/$j" >/dev/null 2>&1
    local c="trace_id,span_id,parent_span_id,service,operation,kind,status,status_message,start_ns,attributes,resource,scope,events,links,remote_service"
    expect_eq "pair $o ~ $j" "$(q "$WORK/pair-o.db" "SELECT $c FROM spans ORDER BY span_id" | md5sum)" \
                            "$(q "$WORK/pair-j.db" "SELECT $c FROM spans ORDER BY span_id" | md5sum)"
    # Independent: the durations the OTLP file gives, truncated to microseconds.
    local want; want=$(python3 - "$R/otlp/$o" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
seen = set()
for rs in d["resourceSpans"]:
    for ss in rs["scopeSpans"]:
        for s in ss["spans"]:
            seen.add((s["spanId"], (int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"])) // 1000 * 1000))
print(",".join(str(v) for _, v in sorted(seen)))
EOF
)
    expect_eq "pair $j durations = OTLP durations truncated to us" "$want" \
        "$(val "$WORK/pair-j.db" "SELECT group_concat(duration_ns) FROM (SELECT duration_ns FROM spans ORDER BY span_id)")"
    rm -f "$WORK"/pair-*.db*
}
pair jaeger-ui__otlp2jaeger-in.json jaeger-ui__otlp2jaeger-out.json
pair jaeger-ui__otlp2jaeger-multi-in-combined.json jaeger-ui__oltp2jaeger-multi-out.json

finish
