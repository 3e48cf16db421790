# spangen: deterministic output, exact span counts, well-formed trees.
# The structural checks are done by python3 from the JSON text alone.
source "$SPANLITE_SRC/tests/cli/lib.sh"
: "${SPANGEN:?SPANGEN must point at the spangen binary}"

# Determinism: same seed, same bytes; another seed, other bytes.
"$SPANGEN" --seed 42 --spans 20000 -o "$WORK/a.jsonl"
"$SPANGEN" --seed 42 --spans 20000 > "$WORK/b.jsonl"
"$SPANGEN" --seed 43 --spans 20000 -o "$WORK/c.jsonl"
if cmp -s "$WORK/a.jsonl" "$WORK/b.jsonl"; then pass; else fail "same seed gave different bytes"; fi
if cmp -s "$WORK/a.jsonl" "$WORK/c.jsonl"; then fail "seeds 42 and 43 gave the same bytes"; else pass; fi

# A shorter run is a prefix of a longer one (same traces, cut at N).
"$SPANGEN" --seed 42 --spans 777 -o "$WORK/short.jsonl"
expect_eq "--spans 777 is a prefix of --spans 20000" "$(head -n 777 "$WORK/a.jsonl" | md5sum)" "$(md5sum < "$WORK/short.jsonl")"

# Exact counts, including ones that cut a trace short.
for n in 0 1 7 1000 20000; do
    expect_eq "--spans $n line count" "$n" "$("$SPANGEN" --seed 3 --spans $n | wc -l)"
done

# The first trace id is the first two outputs of xoshiro256** seeded by
# splitmix64 with the seed: computed here independently in Python.
want_id=$(python3 - <<'EOF'
M = (1 << 64) - 1
def splitmix(x):
    while True:
        x = (x + 0x9e3779b97f4a7c15) & M
        z = x
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
        yield z ^ (z >> 31)
def rotl(x, k): return ((x << k) | (x >> (64 - k))) & M
def xoshiro(seed):
    sm = splitmix(seed)
    s = [next(sm) for _ in range(4)]
    while True:
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield r
g = xoshiro(42)
print("%016x%016x" % (next(g), next(g)))
EOF
)
expect_eq "first trace id for seed 42" "$want_id" "$(head -n 1 "$WORK/a.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["trace_id"])')"

# Structure of every span.
check() {
    python3 - "$@" <<'EOF'
import json, re, sys
path, fmt, error_lo, error_hi = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
hex32, hex16 = re.compile(r"[0-9a-f]{32}\Z"), re.compile(r"[0-9a-f]{16}\Z")
problems = []
def bad(lineno, why):
    if len(problems) < 10:
        problems.append("line %d: %s" % (lineno, why))

def ns(s):  # "1700000000.000000123" -> int ns, exactly
    whole, frac = s.split(".")
    assert len(frac) == 9, s
    return int(whole) * 10**9 + int(frac)

names = dict(spans=("service", "operation"), tracagg=("service_name", "operation_name"))[fmt]
kinds = {"spans": {"internal", "server", "client", "producer", "consumer"},
         "tracagg": {"INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"}}[fmt]
traces, order, cur, spans, errors = {}, [], None, 0, 0
for lineno, line in enumerate(open(path), 1):
    try:
        s = json.loads(line)
    except ValueError as e:
        bad(lineno, "not JSON: %s" % e); continue
    spans += 1
    for f in ("trace_id", "span_id", "parent_span_id", "kind", "status", "attributes") + names:
        if f not in s:
            bad(lineno, "missing " + f)
    if fmt == "spans":
        start, dur = s["start_ns"], s["duration_ns"]
        if not isinstance(start, int) or not isinstance(dur, int):
            bad(lineno, "times not integers")
        if not isinstance(s.get("resource"), dict) or s["resource"].get("service.name") != s["service"]:
            bad(lineno, "resource.service.name != service")
        if not {"host.name", "service.version"} <= set(s.get("resource", {})):
            bad(lineno, "resource lacks host.name/service.version")
        is_error = s["status"] == "error"
        if s["status"] not in ("ok", "unset", "error"): bad(lineno, "status " + s["status"])
        if is_error and not s.get("status_message"): bad(lineno, "error without status_message")
    else:
        raw = re.search(r'"start_time":([0-9.]+),"duration":([0-9.]+)', line)
        start, dur = ns(raw.group(1)), ns(raw.group(2))
        is_error = s["status"] == "ERROR"
        if s["status"] not in ("OK", "ERROR"): bad(lineno, "status " + s["status"])
        if is_error and not s.get("error_message"): bad(lineno, "error without error_message")
    errors += is_error
    if dur < 0: bad(lineno, "end before start")
    if s["kind"] not in kinds: bad(lineno, "kind " + s["kind"])
    if not hex32.match(s["trace_id"]): bad(lineno, "trace id " + s["trace_id"])
    if not hex16.match(s["span_id"]): bad(lineno, "span id " + s["span_id"])
    if not isinstance(s["attributes"], dict) or len(s["attributes"]) != 4:
        bad(lineno, "attributes: want 4 entries")
    elif {type(v) for v in s["attributes"].values()} != {str, int, float, bool}:
        bad(lineno, "attributes do not mix str/int/float/bool")
    tid = s["trace_id"]
    if tid != cur:
        if tid in traces: bad(lineno, "trace %s is not contiguous" % tid)
        traces[tid] = {}
        order.append(tid)
        cur = tid
    t = traces[tid]
    if s["span_id"] in t: bad(lineno, "duplicate span id")
    pid = s["parent_span_id"]
    if pid is None:
        if t: bad(lineno, "second root in a trace")
        if s["kind"].lower() != "server": bad(lineno, "root is not a server span")
        t["_root_start"] = start
    else:
        p = t.get(pid)
        if p is None:
            bad(lineno, "parent %s not an earlier span of the trace" % pid)
        else:
            if start < p[0]: bad(lineno, "child starts before its parent")
            if s["kind"].lower() == "server" and p[2] != "client": bad(lineno, "server under " + p[2])
            if p[2] == "client" and s["kind"].lower() != "server": bad(lineno, "client child is not a server")
            if p[2] == "producer" and s["kind"].lower() != "consumer": bad(lineno, "producer child is not a consumer")
            if s["kind"].lower() not in ("consumer",) and p[2] != "producer" and start + dur > p[0] + p[1]:
                bad(lineno, "non-async child ends after its parent")
    t[s["span_id"]] = (start, dur, s["kind"].lower())

roots = [traces[t]["_root_start"] for t in order if "_root_start" in traces[t]]
if roots != sorted(roots): problems.append("traces not in start-time order")
if len(order) and not 5 <= spans / len(order) <= 40: problems.append("average trace size %.1f" % (spans / len(order)))
rate = errors / max(spans, 1)
if not error_lo <= rate <= error_hi: problems.append("error fraction %.4f not in [%g, %g]" % (rate, error_lo, error_hi))
print("\n".join(problems))
EOF
}
out=$(check "$WORK/a.jsonl" spans 0.01 0.04); expect_eq "native spans are well formed" "" "$out"
"$SPANGEN" --seed 5 --spans 20000 --error-rate 0 -o "$WORK/e0.jsonl"
out=$(check "$WORK/e0.jsonl" spans 0 0); expect_eq "--error-rate 0 has no errors" "" "$out"
"$SPANGEN" --seed 5 --spans 20000 --error-rate 0.2 -o "$WORK/e2.jsonl"
out=$(check "$WORK/e2.jsonl" spans 0.12 0.3); expect_eq "--error-rate 0.2 is roughly honoured" "" "$out"
"$SPANGEN" --seed 42 --spans 20000 --format tracagg -o "$WORK/t.jsonl"
out=$(check "$WORK/t.jsonl" tracagg 0.01 0.04); expect_eq "tracagg spans are well formed" "" "$out"

# Both formats describe the same spans: same ids and exactly the same times.
same=$(python3 - "$WORK/a.jsonl" "$WORK/t.jsonl" <<'EOF'
import json, re, sys
diff = 0
for a, t in zip(open(sys.argv[1]), open(sys.argv[2])):
    a = json.loads(a)
    m = re.search(r'"start_time":(\d+)\.(\d{9}),"duration":(\d+)\.(\d{9})', t)
    t = json.loads(t)
    ok = (a["span_id"] == t["span_id"] and a["service"] == t["service_name"]
          and a["start_ns"] == int(m.group(1)) * 10**9 + int(m.group(2))
          and a["duration_ns"] == int(m.group(3)) * 10**9 + int(m.group(4))
          and (a["status"] == "error") == (t["status"] == "ERROR"))
    diff += not ok
print(diff)
EOF
)
expect_eq "tracagg and native agree span for span" "0" "$same"

# spanlite takes both formats whole, and stores the same spans from each:
# count, total duration, errors, servers and distinct traces as Python counts them.
want=$(python3 - "$WORK/a.jsonl" <<'EOF'
import json, sys
spans = [json.loads(l) for l in open(sys.argv[1])]
print("%d,%d,%d,%d,%d" % (len(spans), sum(s["duration_ns"] for s in spans),
      sum(s["status"] == "error" for s in spans), sum(s["kind"] == "server" for s in spans),
      len({s["trace_id"] for s in spans})))
EOF
)
q="SELECT count(*), sum(duration_ns), sum(status = 'error'), sum(kind = 'server'), count(DISTINCT trace_id) FROM spans"
for f in a t; do
    expect_exit 0 "import $f.jsonl" -- "$SPANLITE" --db "$WORK/$f.db" import "$WORK/$f.jsonl"
    expect_eq "$f.jsonl stored as generated" "$want" "$("$SPANLITE" --db "$WORK/$f.db" sql --format csv "$q" | tail -n 1)"
done

# Options are honoured.
first=$("$SPANGEN" --spans 1 --start-ns 1234567890123456789 | python3 -c 'import json,sys; print(json.load(sys.stdin)["start_ns"])')
expect_eq "--start-ns sets the first start" "1234567890123456789" "$first"
nsvc=$("$SPANGEN" --spans 20000 --services 3 --ops 2 | python3 -c '
import json, sys
svc, ops = set(), set()
for l in sys.stdin:
    s = json.loads(l); svc.add(s["service"])
    if s["kind"] == "server": ops.add((s["service"], s["operation"]))
print(len(svc), len(ops))')
expect_eq "--services 3 --ops 2" "3 6" "$nsvc"
shape=$("$SPANGEN" --spans 5000 --depth 3 --fanout 2 --attrs 13 | python3 -c '
import json, sys
depth, kids, attrs, parent = {}, {}, set(), {}
for l in sys.stdin:
    s = json.loads(l); p = s["parent_span_id"]
    depth[s["span_id"]] = 1 if p is None else depth[p] + 1
    if p: kids[p] = kids.get(p, 0) + 1
    attrs.add(len(s["attributes"]))
print(max(depth.values()), max(kids.values()), sorted(attrs))')
expect_eq "--depth 3 --fanout 2 --attrs 13" "3 2 [13]" "$shape"

# Usage.
expect_exit 0 "--help" -- "$SPANGEN" --help
grep -q -- "--error-rate" "$WORK/out" && pass || fail "--help does not list --error-rate"
expect_exit 2 "unknown option" -- "$SPANGEN" --bogus
expect_exit 2 "bad number" -- "$SPANGEN" --spans 12x
expect_exit 2 "bad format" -- "$SPANGEN" --format xml
expect_exit 2 "unwritable output" -- "$SPANGEN" -o "$WORK/no/such/dir/f"

finish
