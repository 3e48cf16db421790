# A workflow event whose value nests deeper than 1000 arrays or objects (the
# depth where Python's json.loads gives up) is rejected with its line and
# column, kept in the rejects file, and the rest is imported; before the
# bound, a 30,000-deep txn_id overflowed the stack.
. "$(dirname "$0")/lib.sh"
python3 - "$WORK/deep.jsonl" <<'PY'
import json, sys
deep = lambda o, c, n, mid="": o * n + mid + c * n
lines = [
    json.dumps({"type": "transaction_open", "txn_id": "t1", "ts_ms": 1000}),
    '{"type":"transaction_open","txn_id":%s,"ts_ms":1}' % deep("[", "]", 30000),
    '{"type":"step_open","txn_id":%s,"ts_ms":1}' % deep("[", "]", 900),
    '{"type":"transaction_open","txn_id":%s,"ts_ms":1}' % deep('{"a":', "}", 30000, "1"),
    json.dumps({"type": "transaction_close", "txn_id": "t1", "ts_ms": 2000}),
]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
DB="$WORK/w.db"
expect_exit 1 "import with two over-deep events" -- \
    "$SPANLITE" --db "$DB" import --format workflow --rejects "$WORK/rej.jsonl" "$WORK/deep.jsonl"
grep -q "deep.jsonl: 5 read, 3 imported, 0 duplicates skipped, 2 rejected" "$WORK/err" && pass ||
    fail "summary: $(cat "$WORK/err")"
grep -q "deep.jsonl:2: .*nested deeper than 1000 levels" "$WORK/err" && pass || fail "line 2 not named"
grep -q "deep.jsonl:4: .*nested deeper than 1000 levels" "$WORK/err" && pass || fail "line 4 not named"
expect_eq "rejects file keeps both records whole" \
    "$(sed -n '2p;4p' "$WORK/deep.jsonl" | sha256sum)" "$(sha256sum <"$WORK/rej.jsonl")"
expect_exit 0 "report workflows afterwards" -- "$SPANLITE" --db "$DB" report workflows
finish
