# A warehouse in a directory its reader cannot write: every reading command
# works (SQLite cannot create the -shm file there, so spanlite opens the file
# immutable when no -wal file shows a writer), and a writing command says
# why it cannot write.  Runs the commands as an unprivileged user, since root
# may write anywhere.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs root and setpriv to run commands as another user"; exit 77
fi
"$SPANGEN" --spans 500 --seed 3 -o "$WORK/in.jsonl"
mkdir "$WORK/ro"
"$SPANLITE" --db "$WORK/ro/w.db" import "$WORK/in.jsonl" >/dev/null 2>&1
T=$("$SPANLITE" --db "$WORK/ro/w.db" sql --format csv "SELECT trace_id FROM traces LIMIT 1" | tail -n 1)
expected=$("$SPANLITE" --db "$WORK/ro/w.db" report services --format csv)
# As a warehouse copied into a read-only archive: checkpointed, no -wal or -shm.
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$WORK/ro/w.db"
rm -f "$WORK/ro/w.db-wal" "$WORK/ro/w.db-shm"
chown -R 65534:65534 "$WORK/ro"
chmod 555 "$WORK/ro"
chmod 755 "$WORK"
expect_eq "no -wal or -shm file left" "w.db" "$(ls "$WORK/ro" | tr '\n' ' ' | sed 's/ $//')"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$SPANLITE" --db "$WORK/ro/w.db" "$@"; }
expect_exit 0 "read-only directory: report services" -- as_nobody report services
expect_exit 0 "read-only directory: report summary" -- as_nobody report summary
expect_exit 0 "read-only directory: sql" -- as_nobody sql "SELECT count(*) FROM spans"
expect_eq "sql count" "count(*) 500" "$(tr '\n' ' ' <"$WORK/out" | sed 's/ $//')"
expect_exit 0 "read-only directory: trace" -- as_nobody trace "$T"
expect_exit 0 "read-only directory: search" -- as_nobody search
expect_exit 0 "read-only directory: deps" -- as_nobody deps
expect_exit 0 "read-only directory: check" -- as_nobody check
expect_exit 0 "read-only directory: export" -- as_nobody export
expect_eq "same figures as before" "$expected" "$(as_nobody report services --format csv)"
expect_exit 2 "import into it" -- as_nobody import "$WORK/in.jsonl"
grep -q "directory is not writable" "$WORK/err" && pass || fail "import: message: $(cat "$WORK/err")"
expect_eq "nothing created in the directory" "w.db" "$(ls "$WORK/ro" | tr '\n' ' ' | sed 's/ $//')"
chmod 755 "$WORK/ro"
finish
