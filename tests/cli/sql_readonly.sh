# `spanlite sql` runs only statements that read: VACUUM INTO (which writes a
# copy of the warehouse anywhere, even over a read-only connection), writing
# pragmas and DML are refused with exit 1 and a message; the warehouse file
# is left byte-identical.
. "$(dirname "$0")/lib.sh"
DB="$WORK/w.db"
printf '{"trace_id":"t1","span_id":"a","service":"s","operation":"o","start_ns":1,"duration_ns":2}\n' >"$WORK/a.jsonl"
"$SPANLITE" --db "$DB" import "$WORK/a.jsonl" >/dev/null 2>&1
before=$(sha256sum "$DB" | cut -d' ' -f1)

expect_exit 1 "VACUUM INTO" -- "$SPANLITE" --db "$DB" sql "VACUUM INTO '$WORK/copy.db'"
[ -e "$WORK/copy.db" ] && fail "VACUUM INTO wrote $WORK/copy.db" || pass
grep -q "refused: the warehouse is open read-only" "$WORK/err" && pass || fail "VACUUM INTO: message: $(cat "$WORK/err")"
expect_exit 1 "PRAGMA journal_mode=DELETE" -- "$SPANLITE" --db "$DB" sql "PRAGMA journal_mode=DELETE"
grep -q "refused" "$WORK/err" && pass || fail "journal_mode: message: $(cat "$WORK/err")"
expect_exit 1 "DELETE after a SELECT" -- "$SPANLITE" --db "$DB" sql "SELECT 1; DELETE FROM span"
expect_exit 1 "CREATE TABLE" -- "$SPANLITE" --db "$DB" sql "CREATE TABLE x(a)"
expect_exit 0 "SELECT" -- "$SPANLITE" --db "$DB" sql --format csv "SELECT count(*) AS n FROM spans"
expect_eq "SELECT result" "n 1" "$(tr '\n' ' ' <"$WORK/out" | sed 's/ $//')"
expect_exit 0 "PRAGMA table_info" -- "$SPANLITE" --db "$DB" sql "PRAGMA table_info(spans)"
cp "$DB" "$WORK/other.db"
expect_exit 0 "ATTACH another warehouse" -- "$SPANLITE" --db "$DB" sql --format csv \
    "ATTACH '$WORK/other.db' AS o; SELECT count(*) AS n FROM o.spans"
expect_eq "warehouse unchanged" "$before" "$(sha256sum "$DB" | cut -d' ' -f1)"
finish
