#!/usr/bin/env bash
# Output of the reading commands (docs/cli.md, "Output formats"):
#   O1 with stdout not a terminal, every command writing result sets writes
#      csv unless --format says otherwise (search, deps and trace included);
#   O2 deps and trace take every --format that fits them and refuse the
#      others by name, saying which command writes them;
#   O3 trace --format json gives the spans flat, each with its parent's
#      index: a 100,000-span chain reads back with python3's json.load;
#   O4 tables pad by display width: East Asian Wide/Fullwidth characters
#      take 2 columns, combining marks 0 (checked for every code point
#      against python3's unicodedata);
#   O5 search --attr matches where Jaeger's search does: span tags,
#      process tags (resource attributes), log fields (event attributes and
#      the event name), and the tags spanlite keeps in span fields
#      (error=true is status error), against an independent reading of the
#      real Jaeger and OTLP files;
#   O6 sql - reads its SQL from standard input, however long.
. "$(dirname "$0")/lib.sh"
S=$SPANLITE
DB=$WORK/o.db
export LC_ALL=C # no UTF-8 locale: the widths must not depend on one

# ---- fixtures ---------------------------------------------------------------
python3 - "$WORK/small.jsonl" <<'EOF'
import json, sys
T0 = 1704067200000000000
rows = [
    ("t1", "a", None, "web", "GET /", "server", 0, 100),
    ("t1", "b", "a", "支付服务", "charge", "server", 10, 50),   # CJK: 8 columns
    ("t1", "c", "b", "db", "query", "client", 20, 10),
    ("t2", "d", None, "ｗｅｂ", "GET /x", "server", 1000, 30),   # fullwidth: 6 columns
    ("t2", "e", "d", "cafe\u0301", "brew", "server", 1005, 20),  # combining acute: 4 columns
]
with open(sys.argv[1], "w") as f:
    for t, s, p, svc, op, kind, start_ms, dur_ms in rows:
        f.write(json.dumps({"trace_id": t, "span_id": s, "parent_span_id": p, "service": svc,
                            "operation": op, "kind": kind, "start_ns": T0 + start_ms * 10**6,
                            "duration_ns": dur_ms * 10**6}, ensure_ascii=False) + "\n")
EOF
$S --db "$DB" import --quiet "$WORK/small.jsonl" || fail "import small.jsonl"

# ---- O1: csv when piped -------------------------------------------------------
first_line() { "$@" 2>&1 | head -1; }
expect_eq "O1 search piped" "trace_id,root_service,root_operation,start,duration_ms,span_count,service_count,error_count" \
    "$(first_line $S --db "$DB" search)"
expect_eq "O1 deps piped" "parent,child,call_count,error_count,avg_ms,p50_ms,p99_ms" \
    "$(first_line $S --db "$DB" deps)"
TRACE_HEAD="trace_id,index,parent_index,depth,span_id,parent_span_id,service,operation,kind,status,status_message,start_ns,offset_ns,duration_ns,self_ns,critical_ns,critical_sections"
expect_eq "O1 trace piped" "$TRACE_HEAD" "$(first_line $S --db "$DB" trace t1)"
expect_eq "O1 sql piped" "n" "$(first_line $S --db "$DB" sql "SELECT 1 AS n")"
expect_eq "O1 report piped" "service,requests,errors,error_rate,avg_ms,p50_ms,p95_ms,p99_ms" \
    "$(first_line $S --db "$DB" report services)"
# trace as csv: a row per span in tree order, parents by index
expect_eq "O1 trace csv rows" "t1,0,,0,a,,web|t1,1,0,1,b,a,支付服务|t1,2,1,2,c,b,db" \
    "$($S --db "$DB" trace t1 | tail -n +2 | cut -d, -f1-7 | paste -sd'|')"

# ---- O2: the formats deps and trace take, and the ones they refuse ---------------
for f in table csv json jsonl dot mermaid; do
    expect_exit 0 "O2 deps --format $f" -- $S --db "$DB" deps --format "$f"
done
expect_eq "O2 deps csv" "web,支付服务,1,0|支付服务,db,1,0|ｗｅｂ,cafe$(printf "\xcc\x81"),1,0" \
    "$($S --db "$DB" deps --format csv | tail -n +2 | cut -d, -f1-4 | paste -sd'|')"
expect_eq "O2 deps jsonl" '{"parent":"web","child":"支付服务","call_count":1,"error_count":0}' \
    "$($S --db "$DB" deps --format jsonl | head -1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(json.dumps({k: d[k] for k in ("parent","child","call_count","error_count")}, ensure_ascii=False, separators=(",",":")))')"
expect_exit 2 "O2 deps --format json-tree" -- $S --db "$DB" deps --format json-tree
expect_eq "O2 deps refusal names trace" \
    "spanlite deps: deps does not write json-tree (json-tree is for spanlite trace); deps writes table, csv, json, jsonl, dot, mermaid" \
    "$(cat "$WORK/err")"
for f in table csv json jsonl json-tree; do
    expect_exit 0 "O2 trace --format $f" -- $S --db "$DB" trace t1 --format "$f"
done
for f in dot mermaid; do
    expect_exit 2 "O2 trace --format $f" -- $S --db "$DB" trace t1 --format "$f"
    expect_eq "O2 trace refuses $f by name" \
        "spanlite trace: trace does not write $f ($f is for spanlite deps); trace writes table, csv, json, jsonl, json-tree" \
        "$(cat "$WORK/err")"
done
expect_exit 2 "O2 search --format dot" -- $S --db "$DB" search --format dot
expect_exit 2 "O2 trace --format yaml" -- $S --db "$DB" trace t1 --format yaml
expect_eq "O2 unknown format" "spanlite trace: unknown format 'yaml' (trace writes table, csv, json, jsonl, json-tree)" \
    "$(cat "$WORK/err")"
# jsonl: the csv's rows as objects
$S --db "$DB" trace t1 --format jsonl > "$WORK/t1.jsonl"
python3 - "$WORK/t1.jsonl" <<'EOF' && pass || fail "O2 trace jsonl rows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [(r["trace_id"], r["index"], r["parent_index"], r["depth"], r["span_id"]) for r in rows] == \
    [("t1", 0, None, 0, "a"), ("t1", 1, 0, 1, "b"), ("t1", 2, 1, 2, "c")], rows
assert rows[1]["service"] == "支付服务" and rows[0]["duration_ns"] == 100 * 10**6
EOF
# help says which formats are refused
$S trace --help | grep -q "dot and mermaid are refused" && pass || fail "O2 trace --help names the refused formats"
$S deps --help | grep -q "Every" && $S deps --help | grep -q "but json-tree" && pass || fail "O2 deps --help names the refused format"

# ---- O3: a 100,000-span chain as flat json ------------------------------------
python3 - "$WORK/chain.jsonl" <<'EOF'
import sys
N, T0 = 100000, 1704067200000000000
with open(sys.argv[1], "w") as f:
    for i in range(N):
        parent = f',"parent_span_id":"s{i - 1}"' if i else ""
        f.write(f'{{"trace_id":"chain","span_id":"s{i}"{parent},"service":"svc{i % 7}",'
                f'"operation":"op","start_ns":{T0 + i * 1000},"duration_ns":{(N - i) * 2000}}}\n')
EOF
$S --db "$WORK/chain.db" import --quiet "$WORK/chain.jsonl" || fail "import the chain"
$S --db "$WORK/chain.db" trace chain --format json > "$WORK/chain.json" || fail "trace chain --format json"
python3 - "$WORK/chain.json" <<'EOF' && pass || fail "O3 python3 json.load reads the 100,000-span chain"
import json, sys
d = json.load(open(sys.argv[1]))
sp = d["spans"]
assert d["span_count"] == len(sp) == 100000, (d["span_count"], len(sp))
for k, s in enumerate(sp):
    assert s["index"] == k and s["span_id"] == f"s{k}" and s["depth"] == k, s
    assert s["parent_index"] == (k - 1 if k else None), s
    assert s["parent_span_id"] == (f"s{k - 1}" if k else None), s
    assert "children" not in s
EOF

# ---- O4: display width ------------------------------------------------------------
# Every code point but the surrogates and controls, one per row after a wide
# first row (the column is 2 wide): each cell must be padded to 2 columns as
# unicodedata reckons its width.
$S --db "$DB" sql --format table "WITH RECURSIVE c(cp) AS (SELECT 32 UNION ALL SELECT cp + 1 FROM c WHERE cp < 1114111)
    SELECT * FROM (SELECT 0 AS k, char(20013) AS ch, 'x' AS m UNION ALL
    SELECT cp, char(cp), 'x' FROM c WHERE (cp < 127 OR cp > 159) AND (cp < 55296 OR cp > 57343)) ORDER BY k" \
    > "$WORK/cps.txt" || fail "sql table of every code point"
python3 - "$WORK/cps.txt" <<'EOF' && pass || fail "O4 width of every code point"
import sys, unicodedata as u
DEFAULT_W = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFD), (0x30000, 0x3FFFD)]
def width(ch):
    cp, cat = ord(ch), u.category(ch)
    if cat in ("Mn", "Me") or (cat == "Cf" and cp != 0xAD) or 0x1160 <= cp <= 0x11FF: return 0
    if any(a <= cp <= b for a, b in DEFAULT_W): return 2
    if cat != "Cn" and u.east_asian_width(ch) in ("W", "F"): return 2
    return 1
lines = open(sys.argv[1], encoding="utf-8", newline="\n").read().split("\n")
assert lines[0].split() == ["k", "ch", "m"], lines[0]
bad, n = [], 0
for line in lines[2:]:
    if not line: continue
    k, rest = line.lstrip(" ").split(" ", 1)  # k is right-aligned, then two spaces
    rest = rest[1:]
    cp = int(k)
    ch = chr(cp) if cp else "\u4e2d"
    assert rest.startswith(ch), (cp, rest[:8])
    pad = rest[len(ch):]
    n += 1
    if pad != " " * (2 - width(ch)) + "  x":
        bad.append(hex(cp))
assert n > 1100000, n
assert not bad, (len(bad), bad[:20])
EOF
# The table of the fixture lines up on screen: the column after the service
# starts at one display column on every row (widths by hand: 支付服务 8,
# ｗｅｂ 6, café 4).
$S --db "$DB" sql --format table "SELECT service, count(*) AS n FROM spans GROUP BY service ORDER BY service" > "$WORK/svc.txt"
expect_eq "O4 CJK table" "service   n|--------  -|cafe$(printf '\xcc\x81')      1|db        1|web       1|支付服务  1|ｗｅｂ    1" \
    "$(paste -sd'|' "$WORK/svc.txt")"
$S --db "$DB" search --format table > "$WORK/search.txt"
python3 - "$WORK/search.txt" <<'EOF' && pass || fail "O4 search table lines up"
import sys, unicodedata as u
def w(s): return sum(0 if u.combining(c) else 2 if u.east_asian_width(c) in "WF" else 1 for c in s)
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l]
col = lines[0].index("root_operation")
for l in lines[2:]:
    parts = l.split("  ")
    cut = l.index("GET /")
    assert w(l[:cut]) == col, (l, w(l[:cut]), col)
EOF

# ---- O5: search --attr as Jaeger's search ----------------------------------------
need_shared
R=$SPANLITE_SHARED/data/real
$S --db "$WORK/real.db" import --quiet "$R"/jaeger/*.json "$R"/otlp/*.json || fail "import the real Jaeger and OTLP files"
# Jaeger's in-memory store (plugin/storage/memory/memory.go, validSpan and
# flattenTags): a span matches KEY=VALUE when one of its tags, its process's
# tags or its logs' fields has that key and a value whose string form is
# VALUE.  OTLP data as Jaeger shows it (the OpenTelemetry Jaeger
# translator): attributes are tags, resource attributes process tags, event
# attributes log fields with the event name as field "event", kind the tag
# span.kind, status error the tag error=true.  Every such pair in the files
# is a query; the traces each finds are compared with spanlite's.
python3 - "$R" "$WORK/queries.txt" <<'EOF'
import base64, glob, json, sys
R, out = sys.argv[1], sys.argv[2]
def norm(t): return t.lower().lstrip("0") or "0"
def jstr(t, v):
    if t == "bool" or isinstance(v, bool): return "true" if v in (True, "true") else "false" if v in (False, "false") else None
    if t == "int64": return str(int(v))
    if t == "string": return v
    return None  # float64, binary: their string forms differ between implementations
spans = []  # (trace id, set of (key, value))
for f in glob.glob(f"{R}/jaeger/*.json"):
    d = json.load(open(f))
    traces = d["data"] if isinstance(d, dict) and "data" in d else d if isinstance(d, list) else [d]
    for t in traces:
        procs = t.get("processes", {})
        for s in t.get("spans", []):
            kv = list(s.get("tags") or [])
            p = procs.get(s.get("processID")) or s.get("process") or {}
            kv += p.get("tags") or []
            # spanlite keeps the service name among the resource attributes
            kv.append({"key": "service.name", "type": "string", "value": p.get("serviceName")})
            for l in s.get("logs") or []: kv += l.get("fields") or []
            pairs = {(x["key"], jstr(x.get("type"), x.get("value"))) for x in kv}
            spans.append((norm(s["traceID"]), {p for p in pairs if p[1] is not None}))
KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
def oval(v):
    if "stringValue" in v: return v["stringValue"]
    if "boolValue" in v: return "true" if v["boolValue"] else "false"
    if "intValue" in v: return str(int(v["intValue"]))
    return None
def okv(attrs): return {(a["key"], oval(a.get("value", {}))) for a in attrs or []}
def oid(t):  # OTLP JSON ids are hex; Tempo's "batches" give them in base64
    try:
        int(t, 16)
        return t
    except ValueError:
        return base64.b64decode(t).hex()
for f in glob.glob(f"{R}/otlp/*.json"):
    d = json.load(open(f))
    for rs in d.get("resourceSpans", d.get("batches", [])):
        res = okv(rs.get("resource", {}).get("attributes"))
        for ss in rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", [])):
            for s in ss.get("spans", []):
                pairs = okv(s.get("attributes")) | res
                for e in s.get("events") or []:
                    pairs |= okv(e.get("attributes"))
                    if e.get("name"): pairs.add(("event", e["name"]))
                k = s.get("kind", 0)
                k = {"SPAN_KIND_" + v.upper(): n for n, v in KINDS.items()}.get(k, k) if isinstance(k, str) else k
                if k in KINDS: pairs.add(("span.kind", KINDS[k]))
                code = (s.get("status") or {}).get("code", 0)
                if code in (2, "STATUS_CODE_ERROR"): pairs.add(("error", "true"))
                spans.append((norm(oid(s["traceId"])), {p for p in pairs if p[1] is not None}))
queries = sorted({p for _, ps in spans for p in ps if "=" not in p[0] and "\n" not in p[1]})
with open(out, "w") as f:
    for k, v in queries:
        want = sorted({t for t, ps in spans if (k, v) in ps})
        f.write(json.dumps([k, v, want]) + "\n")
EOF
python3 - "$WORK/queries.txt" "$S" "$WORK/real.db" <<'EOF' && pass || fail "O5 search --attr finds what Jaeger's search finds"
import json, subprocess, sys
qs, S, db = sys.argv[1:4]
def norm(t): return t.lower().lstrip("0") or "0"
n, bad = 0, []
for line in open(qs):
    k, v, want = json.loads(line)
    r = subprocess.run([S, "--db", db, "search", "--limit", "0", "--format", "jsonl", "--attr", f"{k}={v}"],
                       capture_output=True, text=True)
    got = sorted({norm(json.loads(l)["trace_id"]) for l in r.stdout.splitlines() if l})
    n += 1
    if r.returncode != 0 or got != want: bad.append((k, v, want, got, r.stderr[:200]))
print(f"{n} queries, {len(bad)} differ", file=sys.stderr)
for b in bad[:15]: print("  ", b, file=sys.stderr)
assert n > 100 and not bad
EOF
# The cases named in the issue, spelled out.
ids() { $S --db "$WORK/real.db" search --limit 0 --format csv "$@" | tail -n +2 | cut -d, -f1 | sed 's/^0*//' | sort | paste -sd' '; }
expect_eq "O5 error=true (Jaeger tag become status; OTLP status)" \
    "1 10000000000000000 20000000000000000 4a1b2c3d4e5f60718293a4b5c6d7e8f9 trace-123" "$(ids --attr error=true)"
expect_eq "O5 Jaeger process tag hostname=mystery" "410a7dbc6d6cfeb6 cf46871fbf4f262b" "$(ids --attr hostname=mystery)"
expect_eq "O5 OTLP resource attribute" "c620759e5d60fafb8ee0922b30e06bc6" "$(ids --attr telemetry.sdk.language=nodejs)"
expect_eq "O5 error=true and a service" "4a1b2c3d4e5f60718293a4b5c6d7e8f9" "$(ids --attr error=true --service k8s-api)"

# ---- O6: sql - ---------------------------------------------------------------------
python3 -c 'print("SELECT length(\x27" + "x" * 1200000 + "\x27) AS n;")' > "$WORK/long.sql"
expect_eq "O6 sql - with 1.2 MB of SQL" "n|1200000" "$($S --db "$DB" sql - < "$WORK/long.sql" | paste -sd'|')"
expect_exit 0 "O6 sql - with no input" -- $S --db "$DB" sql - < /dev/null

finish
