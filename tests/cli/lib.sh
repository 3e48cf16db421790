# Helpers for the end-to-end CLI tests; source it from a test script.
set -u
: "${SPANLITE:?SPANLITE must point at the spanlite binary}"
WORK=$(mktemp -d "${TMPROOT:-/tmp}/t.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILS=0
PASSES=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { PASSES=$((PASSES + 1)); }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    if [ "$2" == "$3" ]; then pass; else
        fail "$1: expected [$2] got [$3]"
    fi
}

# expect_exit CODE WHAT -- command...
expect_exit() {
    local want=$1 what=$2; shift 3
    "$@" >"$WORK/out" 2>"$WORK/err"
    local got=$?
    if [ "$got" == "$want" ]; then pass; else
        fail "$what: exit $got, wanted $want; stderr: $(head -c 500 "$WORK/err")"
    fi
}

need_shared() {
    if [ -z "${SPANLITE_SHARED:-}" ] || [ ! -d "$SPANLITE_SHARED/data/real" ]; then
        echo "SKIP: ../shared/data not present"; exit 77
    fi
}

# Call last: prints the count and exits non-zero on any failure.
finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}

# to_schema5 DB: turn a current warehouse into what schema 5 left (span
# ids as text, kind and status names in the view's CASE), with plain
# sqlite3 and the view text of schema/001_core.sql, to test migration 006.
to_schema5() {
    local view
    view=$(awk '/^CREATE VIEW spans AS/ {on = 1} on {print} on && /;$/ {exit}' \
        "${SPANLITE_SRC:?}/schema/001_core.sql")
    sqlite3 "$1" "BEGIN; DROP VIEW spans;
        UPDATE span SET span_id = lower(hex(span_id)) WHERE typeof(span_id) = 'blob';
        UPDATE span SET parent_span_id = lower(hex(parent_span_id)) WHERE typeof(parent_span_id) = 'blob';
        DROP TABLE span_kind; DROP TABLE span_status;
        $view
        PRAGMA user_version = 5; COMMIT;"
}

# to_schema4 DB: turn a current warehouse into what schema 4 left (trace
# with a UNIQUE trace_id and no generations), to test the migrations.
to_schema4() {
    local views
    to_schema5 "$1"
    views=$(sqlite3 "$1" "SELECT sql || ';' FROM sqlite_master WHERE type = 'view' AND name IN ('spans', 'traces')")
    sqlite3 "$1" "PRAGMA legacy_alter_table = ON; BEGIN; DROP VIEW spans; DROP VIEW traces; DROP TABLE trace_gen;
        CREATE TABLE trace_v4 (ref INTEGER PRIMARY KEY, trace_id TEXT NOT NULL UNIQUE,
            start_ns INTEGER, end_ns INTEGER, span_count INTEGER NOT NULL DEFAULT 0,
            service_count INTEGER NOT NULL DEFAULT 0, error_count INTEGER NOT NULL DEFAULT 0,
            root_span_rowid INTEGER, root_is_parentless INTEGER NOT NULL DEFAULT 0);
        INSERT INTO trace_v4 SELECT ref, trace_id, start_ns, end_ns, span_count, service_count,
            error_count, root_span_rowid, root_is_parentless FROM trace;
        DROP TABLE trace; ALTER TABLE trace_v4 RENAME TO trace;
        CREATE INDEX trace_start ON trace (start_ns);
        DELETE FROM sqlite_stat1 WHERE tbl = 'trace';
        $views
        PRAGMA user_version = 4; COMMIT;"
}
