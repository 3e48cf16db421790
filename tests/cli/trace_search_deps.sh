# `spanlite trace`, `spanlite search`, `spanlite deps` end to end.
#
# Every expected value below was worked out by hand from the fixtures in
# tests/data/cli5/ (the arithmetic is in the comments), or comes from Jaeger
# UI's own tests (TraceStatistics/tableValues.test.js) for the real traces in
# ../shared/data; none was pasted from our output.
source "$SPANLITE_SRC/tests/cli/lib.sh"
D="$TESTDATA/cli5"
S="$SPANLITE"

$S --db "$WORK/readme.db" import --quiet "$D/readme.jsonl" || fail "import readme.jsonl"
$S --db "$WORK/shop.db" import --quiet "$D/shop.jsonl" || fail "import shop.jsonl"
$S --db "$WORK/search.db" import --quiet "$D/search.jsonl" || fail "import search.jsonl"
$S --db "$WORK/deps.db" import --quiet "$D/deps.jsonl" || fail "import deps.jsonl"
$S --db "$WORK/names.db" import --quiet "$D/deps_names.jsonl" || fail "import deps_names.jsonl"

# ---- usage and exit codes ----------------------------------------------------
for cmd in trace search deps; do
    expect_exit 0 "$cmd --help" -- $S --db "$WORK/shop.db" $cmd --help
    grep -q "^usage: spanlite" "$WORK/out" && pass || fail "$cmd --help prints usage on stdout"
    expect_exit 2 "$cmd --bogus" -- $S --db "$WORK/shop.db" $cmd --bogus
done
expect_exit 2 "trace without an id" -- $S --db "$WORK/shop.db" trace
expect_exit 2 "trace --format dot" -- $S --db "$WORK/shop.db" trace x --format dot
expect_exit 1 "trace of an unknown id" -- $S --db "$WORK/shop.db" trace no-such-trace
grep -q "no-such-trace" "$WORK/err" && pass || fail "unknown id named on stderr"
expect_eq "unknown id: nothing on stdout" "" "$(cat "$WORK/out")"
expect_exit 2 "search --min-duration 5parsecs" -- $S --db "$WORK/search.db" search --min-duration 5parsecs
expect_exit 2 "search --since yesterdayish" -- $S --db "$WORK/search.db" search --since yesterdayish
expect_exit 2 "search --limit -1" -- $S --db "$WORK/search.db" search --limit -1
expect_exit 2 "search --attr without =" -- $S --db "$WORK/search.db" search --attr novalue
expect_exit 2 "search min above max" -- $S --db "$WORK/search.db" search --min-duration 2s --max-duration 1s
expect_exit 2 "search stray argument" -- $S --db "$WORK/search.db" search web
expect_exit 2 "deps --format svg" -- $S --db "$WORK/deps.db" deps --format svg
expect_exit 2 "deps on a missing warehouse" -- $S --db "$WORK/none.db" deps

# ---- trace: TracAgg's README example (start_time/duration in seconds) ---------
# api-gateway [0,500ms] > user-service [100,300] > {cache [120,170], db [150,300]}.
# Critical path (Jaeger rules): api [300,500], db [150,300], user [100,150]
# (cache ends at 170, not before db's start 150), api [0,100]:
# api 300ms = 60%, user 50ms = 10%, db 150ms = 30%.
# Self time: api 500-200 = 300; user 200-|[120,170] u [150,300]| = 200-180 = 20;
# cache 50; db 150.  Percent of 500ms: 60, 4, 10, 30.
cat > "$WORK/want" <<'EOF'
trace trace-1
duration 500.000ms, 4 spans, 4 services, 0 errors

   OFFSET   DURATION   CRITICAL    SPAN  (* = on the critical path)
      0ms  500.000ms  300.000ms  * api-gateway: handle
100.000ms  200.000ms   50.000ms  *   user-service: get_user
120.000ms   50.000ms                   cache-service: get
150.000ms  150.000ms  150.000ms  *     db-service: query

critical path: 500.000ms in 4 sections
   SHARE       TIME  SPAN
   60.0%  300.000ms  api-gateway: handle (2 sections)
   10.0%   50.000ms  user-service: get_user
   30.0%  150.000ms  db-service: query

service time (self time: span durations minus the time their children cover)
   SHARE       SELF  SERVICE
   60.0%  300.000ms  api-gateway
   30.0%  150.000ms  db-service
   10.0%   50.000ms  cache-service
    4.0%   20.000ms  user-service
EOF
$S --db "$WORK/readme.db" trace trace-1 --format table > "$WORK/got"
if diff -u "$WORK/want" "$WORK/got" >&2; then pass; else fail "trace trace-1 (TracAgg README) text"; fi

# ---- trace: the shop fixture ------------------------------------------------
# Times in ms from the root's start.  a1 frontend [0,100]; b2 frontend client
# [10,40] and b2 cart server (shared id: hangs under the client) [12,38],
# error; g7 cache [20, 20+800ns] names b2, so hangs under the server half;
# d4 frontend client [30,90]; e5 payment [35,95] under d4; f6 payment audit
# [50, 50.3] whose parent is missing: a second root.
# Critical path: a1 [90,100]; d4's last child e5 ends at 90 = d4's end, so
# e5 [35,90] (clamped to d4); back in d4 nothing ends before 35: d4 [30,35];
# back in a1 b2 ends at 40, not before 30: a1 [0,30]; then root f6 [50,50.3].
# a1 40ms 40% (2 sections), d4 5ms 5%, e5 55ms 55%, f6 0.3ms 0.3%.
# Self: a1 100-|[10,40] u [30,90]| = 20; b2 client 30-26 = 4; cart 26ms-800ns;
# g7 800ns; d4 60-|[35,90]| = 5; e5 60; f6 0.3.  Per service: payment 60.3,
# frontend 29, cart 25.9992 (shown 25.999ms, 26.0%), cache 800ns (0.0%).
cat > "$WORK/want" <<'EOF'
trace 0af7651916cd43dd8448eb211c80319c
duration 100.000ms, 7 spans, 4 services, 1 error

  OFFSET   DURATION   CRITICAL    SPAN  (* = on the critical path)
     0ms  100.000ms   40.000ms  * frontend: GET /checkout
10.000ms   30.000ms                 frontend: call cart
12.000ms   26.000ms                   cart: GetCart  [error: cart unavailable]
20.000ms      800ns                     cache: get
30.000ms   60.000ms    5.000ms  *   frontend: call pay
35.000ms   60.000ms   55.000ms  *     payment: Charge
50.000ms  300.000µs  300.000µs  * payment: audit

critical path: 100.300ms in 5 sections
   SHARE       TIME  SPAN
   40.0%   40.000ms  frontend: GET /checkout (2 sections)
    5.0%    5.000ms  frontend: call pay
   55.0%   55.000ms  payment: Charge
    0.3%  300.000µs  payment: audit

service time (self time: span durations minus the time their children cover)
   SHARE      SELF  SERVICE
   60.3%  60.300ms  payment
   29.0%  29.000ms  frontend
   26.0%  25.999ms  cart
    0.0%     800ns  cache
EOF
# An upper-case hex id finds the lower-cased stored one.
$S --db "$WORK/shop.db" trace 0AF7651916CD43DD8448EB211C80319C --format table > "$WORK/got"
if diff -u "$WORK/want" "$WORK/got" >&2; then pass; else fail "trace shop text"; fi

# The same figures as JSON, checked structurally by python.
$S --db "$WORK/shop.db" trace 0af7651916cd43dd8448eb211c80319c --format json-tree > "$WORK/shop.json"
python3 - "$WORK/shop.json" <<'EOF' && pass || fail "trace shop --format json-tree"
import json, sys
d = json.load(open(sys.argv[1]))
T0, ms = 1700000000000000000, 1000000
assert d["trace_id"] == "0af7651916cd43dd8448eb211c80319c", d["trace_id"]
assert d["duration_ns"] == 100 * ms and d["start_ns"] == T0
assert (d["span_count"], d["service_count"], d["error_count"]) == (7, 4, 1)
roots = d["spans"]
assert [(r["span_id"], r["operation"]) for r in roots] == [("a1", "GET /checkout"), ("f6", "audit")], roots
a1 = roots[0]
assert [(c["span_id"], c["service"]) for c in a1["children"]] == [("b2", "frontend"), ("d4", "frontend")]
client = a1["children"][0]
assert [(c["span_id"], c["service"]) for c in client["children"]] == [("b2", "cart")]
server = client["children"][0]
assert server["status"] == "error" and server["status_message"] == "cart unavailable"
assert [c["span_id"] for c in server["children"]] == ["g7"]
assert server["self_ns"] == 26 * ms - 800 and client["self_ns"] == 4 * ms and a1["self_ns"] == 20 * ms
assert server["children"][0]["offset_ns"] == 20 * ms
d4 = a1["children"][1]
assert d4["self_ns"] == 5 * ms and d4["critical_ns"] == 5 * ms
assert d4["children"][0]["critical_ns"] == 55 * ms
cp = [(c["span_id"], c["critical_ns"], c["percentage"], [(s["start_ns"] - T0, s["end_ns"] - T0) for s in c["sections"]])
      for c in d["critical_path"]]
assert cp == [("a1", 40 * ms, 40.0, [(0, 30 * ms), (90 * ms, 100 * ms)]),
              ("d4", 5 * ms, 5.0, [(30 * ms, 35 * ms)]),
              ("e5", 55 * ms, 55.0, [(35 * ms, 90 * ms)]),
              ("f6", 300000, 0.3, [(50 * ms, 50 * ms + 300000)])], cp
sv = [(s["service"], s["self_ns"], s["percentage"]) for s in d["services"]]
assert sv == [("payment", 60300000, 60.3), ("frontend", 29 * ms, 29.0),
              ("cart", 25999200, 25.999), ("cache", 800, 0.001)], sv
EOF

# ---- trace: invariants over generated traces ------------------------------------
# Every span appears once in the tree; critical times agree with the SQL function.
if [ -n "${SPANGEN:-}" ] && [ -x "$SPANGEN" ]; then
    "$SPANGEN" --seed 7 --spans 3000 -o "$WORK/gen.jsonl"
    $S --db "$WORK/gen.db" import --quiet "$WORK/gen.jsonl" || fail "import generated spans"
    $S --db "$WORK/gen.db" sql --format csv \
        "SELECT trace_id FROM traces ORDER BY start_ns LIMIT 40" | tail -n +2 > "$WORK/ids"
    bad=0 i=0
    mkdir -p "$WORK/gen"
    while read -r id; do
        i=$((i + 1))
        $S --db "$WORK/gen.db" trace "$id" > /dev/null || bad=1
        $S --db "$WORK/gen.db" trace "$id" --format json-tree > "$WORK/gen/$i.trace.json" || bad=1
        $S --db "$WORK/gen.db" sql --format json --param id="$id" \
            "SELECT span_id, sum(end_ns - start_ns) AS t FROM critical_path(:id) GROUP BY 1" \
            > "$WORK/gen/$i.cp.json"
        $S --db "$WORK/gen.db" sql --format csv --param id="$id" \
            "SELECT count(*) FROM spans WHERE trace_id = :id" | tail -1 > "$WORK/gen/$i.n"
    done < "$WORK/ids"
    expect_eq "40 generated traces" 40 "$i"
    # One python for all of them: its start-up is the slow part.
    python3 - "$WORK/gen" "$i" <<'EOF' || bad=1
import json, sys
w, count = sys.argv[1], int(sys.argv[2])
for i in range(1, count + 1):
    d = json.load(open(f"{w}/{i}.trace.json")); cp = json.load(open(f"{w}/{i}.cp.json"))
    n = int(open(f"{w}/{i}.n").read())
    seen = []
    def walk(s):
        seen.append(s); [walk(c) for c in s["children"]]
    for r in d["spans"]: walk(r)
    assert len(seen) == n == d["span_count"], (i, len(seen), n)
    assert all(0 <= s["self_ns"] <= s["duration_ns"] for s in seen), i
    mine = {}
    for c in d["critical_path"]: mine[c["span_id"]] = mine.get(c["span_id"], 0) + c["critical_ns"]
    theirs = {r["span_id"]: r["t"] for r in cp}
    assert mine == theirs, (i, mine, theirs)
    assert sum(s["self_ns"] for s in seen) == sum(s["self_ns"] for s in d["services"]), i
EOF
    expect_eq "trace over 40 generated traces" 0 "$bad"
fi

# ---- trace: self time against Jaeger UI's TraceStatistics tests ----------------
# tableValues.test.js: testTraceNormal has api-gateway selfTotal 3.16 ms
# (64.52%) and customers-service 1.74 ms (35.48%); in spansAmongEachOther
# "customers-service GET /owners" has self time 1.67 ms; in
# spanLongerAsParent "api-gateway GET /owners/8/pets/10" 1.22 ms.
if [ -n "${SPANLITE_SHARED:-}" ] && [ -d "$SPANLITE_SHARED/data/real/jaeger" ]; then
    J="$SPANLITE_SHARED/data/real/jaeger"
    # Jaeger JSON to native spans, here rather than through an importer.
    python3 - "$J" "$WORK" <<'EOF' || fail "convert Jaeger UI fixtures"
import json, sys
for f in ["testTraceNormal", "spansAmongEachOther", "spanLongerAsParent"]:
    d = json.load(open(f"{sys.argv[1]}/jaeger-ui__stats__{f}.json"))
    with open(f"{sys.argv[2]}/{f}.jsonl", "w") as out:
        for s in d["spans"]:
            parent = next((r["spanID"] for r in s.get("references", []) if r["refType"] == "CHILD_OF"), None)
            out.write(json.dumps({"trace_id": s["traceID"], "span_id": s["spanID"], "parent_span_id": parent,
                                  "service": d["processes"][s["processID"]]["serviceName"],
                                  "operation": s["operationName"], "start_ns": s["startTime"] * 1000,
                                  "duration_ns": s["duration"] * 1000}) + "\n")
EOF
    for f in testTraceNormal spansAmongEachOther spanLongerAsParent; do
        $S --db "$WORK/$f.db" import --quiet "$WORK/$f.jsonl" || fail "import $f"
        id=$($S --db "$WORK/$f.db" sql --format csv "SELECT trace_id FROM traces" | tail -1)
        $S --db "$WORK/$f.db" trace "$id" --format json-tree > "$WORK/$f.json" || fail "trace $f"
    done
    python3 - "$WORK" <<'EOF' && pass || fail "self time against Jaeger UI's tableValues tests"
import json, sys
w = sys.argv[1]
def load(f): return json.load(open(f"{w}/{f}.json"))
def spans(d):
    out = []
    def walk(s): out.append(s); [walk(c) for c in s["children"]]
    for r in d["spans"]: walk(r)
    return out
d = load("testTraceNormal")
sv = {s["service"]: s for s in d["services"]}
assert round(sv["api-gateway"]["self_ns"] / 1e6, 2) == 3.16, sv
assert round(sv["customers-service"]["self_ns"] / 1e6, 2) == 1.74, sv
assert round(100 * sv["api-gateway"]["self_ns"] / d["duration_ns"], 2) == 64.52
assert round(100 * sv["customers-service"]["self_ns"] / d["duration_ns"], 2) == 35.48
d = load("spansAmongEachOther")
x = [s for s in spans(d) if (s["service"], s["operation"]) == ("customers-service", "GET /owners")]
assert len(x) == 1 and round(x[0]["self_ns"] / 1e6, 2) == 1.67, x
d = load("spanLongerAsParent")
x = [s for s in spans(d) if (s["service"], s["operation"]) == ("api-gateway", "GET /owners/8/pets/10")]
assert len(x) == 1 and round(x[0]["self_ns"] / 1e6, 2) == 1.22, x
EOF
fi

# ---- search ---------------------------------------------------------------------
# Fixture traces (start, duration, spans):
#   s1 2024-01-01T00:00Z 120ms  web GET /a; db SELECT {db.system: postgres, rows: 12, q"k: v}
#   s2 2024-01-01T01:00Z 1.5s   web GET /b; api charge, error {http.status_code: 500}
#   s3 2024-01-01T02:00Z 250ms  web GET /a; db SELECT {db.system: mysql, rows: "12"}
#   s4 2024-01-01T03:00:00.5Z 40ms  api charge, error {http.status_code: "500", retry: true}
#   s5 2024-01-02T00:00Z 300ms  web GET /c; cache get {note: "x' OR 1=1 --"}
ids() { $S --db "$WORK/search.db" search --format csv "$@" | tail -n +2 | cut -d, -f1 | paste -sd' '; }
expect_eq "search (all, newest first)" "s5 s4 s3 s2 s1" "$(ids)"
expect_eq "search --limit 2" "s5 s4" "$(ids --limit 2)"
expect_eq "search --limit 0 (all)" "s5 s4 s3 s2 s1" "$(ids --limit 0)"
expect_eq "search --service db" "s3 s1" "$(ids --service db)"
expect_eq "search --service web --operation 'GET /a'" "s3 s1" "$(ids --service web --operation 'GET /a')"
expect_eq "search service and operation on different spans" "" "$(ids --service db --operation 'GET /a')"
expect_eq "search --operation charge" "s4 s2" "$(ids --operation charge)"
expect_eq "search --attr db.system=postgres" "s1" "$(ids --attr db.system=postgres)"
expect_eq "search --attr rows=12 (number and text)" "s3 s1" "$(ids --attr rows=12)"
expect_eq "search --attr rows=12.0 (numbers only)" "s1" "$(ids --attr rows=12.0)"
expect_eq "search --attr http.status_code=500" "s4 s2" "$(ids --attr http.status_code=500)"
expect_eq "search --attr retry=true" "s4" "$(ids --attr retry=true)"
expect_eq "search --attr with a quote in the key" "s1" "$(ids --attr 'q"k=v')"
expect_eq "search attr and service on the same span" "s3" "$(ids --service db --attr db.system=mysql)"
expect_eq "search attr on another span than the service" "" "$(ids --service web --attr db.system=mysql)"
expect_eq "search two attrs on one span" "s4" "$(ids --attr http.status_code=500 --attr retry=true)"
expect_eq "search --min-duration 250ms (inclusive)" "s5 s3 s2" "$(ids --min-duration 250ms)"
expect_eq "search --max-duration 0.25s (inclusive)" "s4 s3 s1" "$(ids --max-duration 0.25s)"
expect_eq "search bare ms and seconds" "s5 s3 s1" "$(ids --min-duration 100 --max-duration 1s)"
expect_eq "search --min-duration 1.5s" "s2" "$(ids --min-duration 1.5s)"
expect_eq "search --errors" "s4 s2" "$(ids --errors)"
expect_eq "search --errors --service web" "s2" "$(ids --errors --service web)"
expect_eq "search since (inclusive) until (exclusive)" "s2" \
    "$(ids --since 2024-01-01T01:00:00Z --until 2024-01-01T02:00:00Z)"
expect_eq "search --since with an offset" "s5 s4 s3" "$(ids --since 2024-01-01T04:00:00+02:00)"
expect_eq "search --until a fraction" "s3 s2 s1" "$(ids --until 2024-01-01T03:00:00.5Z)"
expect_eq "search --since epoch seconds" "s5" "$(ids --since 1704100000)"
# Injection attempts are plain values: they match nothing, or exactly themselves.
expect_eq "search --service injection" "" "$(ids --service "x' OR 1=1 --")"
expect_eq "search --operation injection" "" "$(ids --operation "') OR 1=1 --")"
expect_eq "search --attr key injection" "" "$(ids --attr "a') OR 1=1 --=1")"
expect_eq "search --attr value with quotes matches itself" "s5" "$(ids --attr "note=x' OR 1=1 --")"
expect_eq "search --service injection: header only" \
    "trace_id,root_service,root_operation,start,duration_ms,span_count,service_count,error_count" \
    "$($S --db "$WORK/search.db" search --format csv --service "x' OR 1=1 --")"
expect_eq "search row (csv)" "s4,api,charge,2024-01-01T03:00:00.500Z,40,1,1,1" \
    "$($S --db "$WORK/search.db" search --format csv --errors --limit 1 | tail -1)"
expect_eq "search row (jsonl)" \
    '{"trace_id":"s2","root_service":"web","root_operation":"GET /b","start":"2024-01-01T01:00:00.000Z","duration_ms":1500.0,"span_count":2,"service_count":2,"error_count":1}' \
    "$($S --db "$WORK/search.db" search --format jsonl --service api --max-duration 2s --min-duration 1s)"
$S --db "$WORK/search.db" search --format json --service db > "$WORK/s.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [r["trace_id"] for r in d]==["s3","s1"] and d[0]["duration_ms"]==250' \
    "$WORK/s.json" && pass || fail "search --format json"

# ---- deps -----------------------------------------------------------------------
# d1: frontend(server) > frontend(client) > backend(server) > backend(client) >
#     db(server, error).  d2 (an hour later): the same without the error, and a
#     second backend client > db server.  Zipkin links server spans to their
#     client's service and skips clients with children: frontend->backend 2
#     calls, backend->db 3 calls, 1 error; parent/child service pairs give the
#     same.
cat > "$WORK/want" <<'EOF'
digraph services {
  rankdir=LR;
  node [shape=box];
  "backend" -> "db" [label="calls=3 errors=1", color=red];
  "frontend" -> "backend" [label="calls=2 errors=0"];
}
EOF
$S --db "$WORK/deps.db" deps --format dot > "$WORK/got"
if diff -u "$WORK/want" "$WORK/got" >&2; then pass; else fail "deps --format dot"; fi
cat > "$WORK/want" <<'EOF'
flowchart LR
  s_backend["backend"]
  s_db["db"]
  s_frontend["frontend"]
  s_backend -->|"calls=3 errors=1"| s_db
  s_frontend -->|"calls=2 errors=0"| s_backend
EOF
$S --db "$WORK/deps.db" deps --format mermaid > "$WORK/got"
if diff -u "$WORK/want" "$WORK/got" >&2; then pass; else fail "deps --format mermaid"; fi
# Time window on trace start: only d2 (frontend->backend 1, backend->db 2, no error).
expect_eq "deps --since" \
    "$(printf 'digraph services {\n  rankdir=LR;\n  node [shape=box];\n  "backend" -> "db" [label="calls=2 errors=0"];\n  "frontend" -> "backend" [label="calls=1 errors=0"];\n}')" \
    "$($S --db "$WORK/deps.db" deps --format dot --since 2024-01-01T00:30:00Z)"
expect_eq "deps --until" \
    "$(printf 'digraph services {\n  rankdir=LR;\n  node [shape=box];\n  "backend" -> "db" [label="calls=1 errors=1", color=red];\n  "frontend" -> "backend" [label="calls=1 errors=0"];\n}')" \
    "$($S --db "$WORK/deps.db" deps --format dot --until 2024-01-01T00:30:00Z)"
$S --db "$WORK/deps.db" deps --format json > "$WORK/d.json"
python3 - "$WORK/d.json" <<'EOF' && pass || fail "deps --format json"
import json, sys
d = json.load(open(sys.argv[1]))
assert [(r["parent"], r["child"], r["call_count"], r["error_count"]) for r in d] == \
    [("backend", "db", 3, 1), ("frontend", "backend", 2, 0)], d
EOF
$S --db "$WORK/deps.db" deps --format table > "$WORK/got"
expect_eq "deps table header" "parent child call_count error_count" "$(head -1 "$WORK/got" | awk '{print $1, $2, $3, $4}')"

# Names that need escaping: a quote, a backslash, Mermaid's '#', '<', '>',
# and two names ("auth-svc", "auth_svc") that sanitise to the same id.
# Kindless spans: each span links its parent's service to its own.
cat > "$WORK/want" <<'EOF'
digraph services {
  rankdir=LR;
  node [shape=box];
  "auth-svc" -> "c:\\tmp" [label="calls=1 errors=0"];
  "auth_svc" -> "a<b>#1" [label="calls=1 errors=0"];
  "web \"edge\"" -> "auth-svc" [label="calls=1 errors=0"];
  "web \"edge\"" -> "auth_svc" [label="calls=1 errors=0"];
}
EOF
$S --db "$WORK/names.db" deps --format dot > "$WORK/got"
if diff -u "$WORK/want" "$WORK/got" >&2; then pass; else fail "deps --format dot, escaping"; fi
cat > "$WORK/want" <<'EOF'
flowchart LR
  s_a_b__1["a#lt;b#gt;#35;1"]
  s_auth_svc["auth-svc"]
  s_auth_svc_2["auth_svc"]
  s_c__tmp["c:\tmp"]
  s_web__edge_["web #quot;edge#quot;"]
  s_auth_svc -->|"calls=1 errors=0"| s_c__tmp
  s_auth_svc_2 -->|"calls=1 errors=0"| s_a_b__1
  s_web__edge_ -->|"calls=1 errors=0"| s_auth_svc
  s_web__edge_ -->|"calls=1 errors=0"| s_auth_svc_2
EOF
$S --db "$WORK/names.db" deps --format mermaid > "$WORK/got"
if diff -u "$WORK/want" "$WORK/got" >&2; then pass; else fail "deps --format mermaid, escaping"; fi
if command -v dot > /dev/null; then
    $S --db "$WORK/names.db" deps --format dot | dot -Tsvg > /dev/null && pass || fail "dot accepts the DOT output"
fi

finish
