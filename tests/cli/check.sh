# spanlite check: a sound warehouse passes; each kind of damage is found by
# the check that owns it, named, and exits 1; the check never writes.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 shell"; exit 77; }
"$SPANGEN" --spans 3000 --seed 7 -o "$WORK/in.jsonl"
DB="$WORK/w.db"
"$SPANLITE" --db "$DB" import "$WORK/in.jsonl" >/dev/null 2>&1
"$SPANLITE" --db "$DB" sql "SELECT 1" >/dev/null    # settles the WAL for the hash below
before=$(cat "$DB" "$DB-wal" 2>/dev/null | sha256sum)
expect_exit 0 "check, sound warehouse" -- "$SPANLITE" --db "$DB" check
expect_eq "check lines" "integrity: ok traces: ok rollups: ok links: ok" "$(tr '\n' ' ' <"$WORK/out" | sed 's/ $//')"
expect_eq "check wrote nothing" "$before" "$(cat "$DB" "$DB-wal" 2>/dev/null | sha256sum)"

# damage (each on a fresh copy) -> the check that must find it
damage() { # NAME SQL CHECK
    cp "$DB" "$WORK/d.db"
    sqlite3 -bail "$WORK/d.db" "$2" || fail "$1: the damage itself failed"
    expect_exit 1 "check after: $1" -- "$SPANLITE" --db "$WORK/d.db" check
    grep -q "^$3: [1-9][0-9]* problem" "$WORK/out" && pass || fail "$1: $3 did not report it: $(cat "$WORK/out")"
}
damage "a trace's span count off" "UPDATE trace SET span_count = span_count + 1 WHERE ref = 5" traces
damage "a trace's end moved" "UPDATE trace SET end_ns = end_ns + 1 WHERE ref = 9" traces
damage "a trace_service row lost" "DELETE FROM trace_service WHERE (trace_ref, service_id) IN (SELECT trace_ref, service_id FROM trace_service LIMIT 1)" traces
damage "a span lost" "DELETE FROM span WHERE id = 100" traces
damage "a rollup row lost" "DELETE FROM rollup_hour WHERE (bucket_ns, operation_id) IN (SELECT bucket_ns, operation_id FROM rollup_hour LIMIT 1)" rollups
damage "a rollup's calls off" "UPDATE rollup_hour SET calls = calls + 1 WHERE (bucket_ns, operation_id) IN (SELECT bucket_ns, operation_id FROM rollup_hour LIMIT 1 OFFSET 3)" rollups
damage "a dependency link off" "UPDATE link_hour SET calls = calls + 3 WHERE (bucket_ns, parent_id, child_id) IN (SELECT bucket_ns, parent_id, child_id FROM link_hour LIMIT 1)" links

# bytes flipped in the middle of the file: SQLite's integrity check finds it
cp "$DB" "$WORK/c.db"
size=$(stat -c %s "$WORK/c.db")
python3 - "$WORK/c.db" "$size" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    for off in range(size // 2, size // 2 + 4096 * 4, 4096):   # four pages, past their headers
        f.seek(off + 100); f.write(b"\xde\xad\xbe\xef" * 16)
PY
"$SPANLITE" --db "$WORK/c.db" check >"$WORK/out" 2>"$WORK/err"
got=$?
[ "$got" -ne 0 ] && pass || fail "flipped bytes: check exited 0: $(cat "$WORK/out")"
grep -qE "^[a-z]+: [1-9][0-9]* problem|malformed|corrupt" "$WORK/out" "$WORK/err" && pass ||
    fail "flipped bytes: no problem named: $(cat "$WORK/out" "$WORK/err")"
expect_exit 0 "check --help" -- "$SPANLITE" check --help
finish
