#!/bin/bash
# compact_ids.sh -- span ids stored as the bytes they spell (schema 006,
# src/base/hexid.h): hex ids become BLOBs, every other id stays TEXT and
# comes back exactly; the views, named queries, trace, export, search and
# deps read the same as before; a schema 5 warehouse (ids as text, made
# with plain sqlite3 and 001's view text: lib.sh to_schema5) migrates to
# the same rows.
#
# Expectations come from the input lines below: the ids printed by the
# views and by export are the input ids (upper-case hex lower-cased, as
# the writer always did), and the stored types follow R1/R2 of hexid.h.
source "$SPANLITE_SRC/tests/cli/lib.sh"

S=$SPANLITE
DB="$WORK/w.db"
IN="$WORK/in.jsonl"
T1=4bf92f3577b34da6a3ce929d0e0e4736
# Trace 1: hex ids (one in upper case).  Trace 2: TracAgg-style text ids,
# odd lengths, a one-digit id and a parent that is text.  Trace 3: mixed,
# a hex child of a text parent, and a 130-digit hex id (too long: text).
LONG=$(printf 'ab%.0s' $(seq 65))
cat > "$IN" <<JSON
{"trace_id":"$T1","span_id":"00f067aa0ba902b7","service":"web","operation":"GET /","kind":"server","status":"ok","start_ns":1700000000000000000,"duration_ns":900,"attributes":{"http.method":"GET"}}
{"trace_id":"$T1","span_id":"53995C3F42CD8AD8","parent_span_id":"00f067aa0ba902b7","service":"web","operation":"call api","kind":"client","start_ns":1700000000000000100,"duration_ns":700,"remote_service":"api"}
{"trace_id":"$T1","span_id":"a1","parent_span_id":"53995c3f42cd8ad8","service":"api","operation":"get","kind":"server","status":"error","start_ns":1700000000000000150,"duration_ns":500}
{"trace_id":"trace-123","span_id":"span-1","service":"web","operation":"GET /x","kind":"server","start_ns":1700000000000001000,"duration_ns":800}
{"trace_id":"trace-123","span_id":"abc","parent_span_id":"span-1","service":"api","operation":"get","kind":"internal","start_ns":1700000000000001100,"duration_ns":600}
{"trace_id":"trace-123","span_id":"7","parent_span_id":"abc","service":"db","operation":"query","kind":"client","status":"error","start_ns":1700000000000001200,"duration_ns":300}
{"trace_id":"T-odd","span_id":"root-x","service":"web","operation":"GET /y","kind":"producer","start_ns":1700000000000002000,"duration_ns":400}
{"trace_id":"T-odd","span_id":"ffee","parent_span_id":"root-x","service":"queue","operation":"take","kind":"consumer","start_ns":1700000000000002100,"duration_ns":200}
{"trace_id":"T-odd","span_id":"$LONG","parent_span_id":"ffee","service":"queue","operation":"work","start_ns":1700000000000002200,"duration_ns":100}
JSON
expect_exit 0 "import" -- "$S" --db "$DB" import "$IN"

# Stored forms: R1 for 00f067aa..., 53995c3f... (lower-cased), a1, ffee;
# R2 for span-1, abc, 7, root-x and the 130-digit id.
expect_eq "stored types" "blob|00F067AA0BA902B7
blob|53995C3F42CD8AD8
blob|A1
text|span-1
text|abc
text|7
text|root-x
blob|FFEE
text|$LONG" "$(sqlite3 "$DB" "SELECT typeof(span_id), CASE WHEN typeof(span_id) = 'blob' THEN hex(span_id) ELSE span_id END FROM span ORDER BY start_ns")"
expect_eq "stored parent types" "null,blob,blob,null,text,text,null,text,blob" \
    "$(sqlite3 "$DB" "SELECT group_concat(typeof(parent_span_id)) FROM (SELECT parent_span_id FROM span ORDER BY start_ns)")"

# The view gives the input ids back (plain sqlite3: no extension loaded).
expect_eq "ids through the spans view" "$T1|00f067aa0ba902b7||server|ok
$T1|53995c3f42cd8ad8|00f067aa0ba902b7|client|unset
$T1|a1|53995c3f42cd8ad8|server|error
trace-123|span-1||server|unset
trace-123|abc|span-1|internal|unset
trace-123|7|abc|client|error
T-odd|root-x||producer|unset
T-odd|ffee|root-x|consumer|unset
T-odd|$LONG|ffee|unspecified|unset" \
    "$(sqlite3 "$DB" "SELECT trace_id, span_id, parent_span_id, kind, status FROM spans ORDER BY start_ns")"
expect_eq "view column types" "text|text|text" \
    "$(sqlite3 "$DB" "SELECT DISTINCT typeof(span_id), typeof(kind), typeof(status) FROM spans")"
expect_eq "parent NULL for roots" "3" "$(sqlite3 "$DB" "SELECT count(*) FROM spans WHERE parent_span_id IS NULL")"

# Re-import: every span collides with its stored form.
expect_exit 0 "re-import" -- "$S" --db "$DB" import "$IN"
expect_eq "re-import adds nothing" "0 imported, 9 duplicates" "$(grep -o '[0-9]* imported, [0-9]* duplicates' "$WORK/err")"

# Export gives the ids of the input (lower-cased hex), whole file and one trace.
"$S" --db "$DB" export --format spans > "$WORK/exp.jsonl" 2>/dev/null || fail "export"
expect_eq "exported span ids" "$(grep -o '"span_id":"[^"]*"' "$IN" | tr A-F a-f | sort)" \
    "$(grep -o '"span_id":"[^"]*"' "$WORK/exp.jsonl" | sort)"
expect_eq "exported parent ids" "$(grep -o '"parent_span_id":"[^"]*"' "$IN" | tr A-F a-f | sort)" \
    "$(grep -o '"parent_span_id":"[^"]*"' "$WORK/exp.jsonl" | sort)"
"$S" --db "$DB" export --format spans --trace trace-123 > "$WORK/t2.jsonl" 2>/dev/null || fail "export --trace"
expect_eq "export --trace of a text-id trace" "span-1 abc 7" \
    "$(grep -o '"span_id":"[^"]*"' "$WORK/t2.jsonl" | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//')"

# The critical path follows parents by id, text and binary alike.  The
# expected rows are what the schema 5 binary (ids as text) printed for this
# input: each path enters a child and comes back to its parent.
cpath() { "$S" --db "$DB" sql --format csv "SELECT span_id FROM critical_path('$1')" | tail -n +2 | tr '\n' ' ' | sed 's/ $//'; }
expect_eq "critical path of trace 1" "00f067aa0ba902b7 53995c3f42cd8ad8 a1 53995c3f42cd8ad8 00f067aa0ba902b7" "$(cpath $T1)"
expect_eq "critical path of trace 2" "span-1 abc 7 abc span-1" "$(cpath trace-123)"
expect_eq "critical path of trace 3" "root-x" "$(cpath T-odd)"
expect_exit 0 "trace view" -- "$S" --db "$DB" trace --format json trace-123
expect_eq "trace view: the tree by text ids" "span-1,null abc,span-1 7,abc" \
    "$(grep -o '"span_id":"[^"]*","parent_span_id":[^,]*' "$WORK/out" | sed 's/"span_id":"\([^"]*\)","parent_span_id":"\{0,1\}\([^"]*\)"\{0,1\}/\1,\2/' | tr '\n' ' ' | sed 's/ $//')"

# Dependencies link a child to its parent through the stored ids (the
# schema 5 binary's figures for this input).
expect_eq "deps" "web,api,1,1,700
web,db,1,0,300" "$("$S" --db "$DB" sql --format csv "SELECT parent, child, call_count, error_count, avg_ns FROM dependencies() ORDER BY 1, 2" | tail -n +2)"
expect_eq "link rollups" "web,api,1,1,700
web,db,1,0,300" "$("$S" --db "$DB" sql --format csv "SELECT parent, child, calls, errors, sum_ns FROM link_rollups ORDER BY 1, 2" | tail -n +2)"

# Every public view and named query, to compare across the migration.
dump() {
    local db=$1
    for v in spans traces services rollups link_rollups; do
        echo "== $v"
        sqlite3 "$db" "SELECT * FROM $v" | sort
    done
}
queries() {
    local db=$1
    for q in errors hourly operations operations_rollup services services_rollup slowest summary trend; do
        echo "== $q"
        "$S" --db "$db" query "$q" 2>&1
    done
    echo "== span_rank"
    "$S" --db "$db" query span_rank --param trace=$T1 2>&1
    "$S" --db "$db" search --format csv 2>&1
    "$S" --db "$db" deps --format json 2>&1
}
dump "$DB" > "$WORK/new.txt"
queries "$DB" > "$WORK/newq.txt"
[ -s "$WORK/new.txt" ] && [ "$(grep -c . "$WORK/new.txt")" -gt 20 ] || fail "dump is empty"

# Back to schema 5 with plain sqlite3; its views (001's text) read the same.
cp "$DB" "$WORK/old.db"
to_schema5 "$WORK/old.db"
expect_eq "schema 5 stores text" "0" "$(sqlite3 "$WORK/old.db" "SELECT count(*) FROM span WHERE typeof(span_id) = 'blob' OR typeof(parent_span_id) = 'blob'")"
dump "$WORK/old.db" > "$WORK/old.txt"
cmp -s "$WORK/new.txt" "$WORK/old.txt" && pass || fail "schema 5 views differ from schema 6's: $(diff "$WORK/new.txt" "$WORK/old.txt" | head -5)"

expect_exit 0 "migrating schema 5 to 6" -- "$S" --db "$WORK/old.db" init
expect_eq "schema version" "6" "$(sqlite3 "$WORK/old.db" "PRAGMA user_version")"
expect_eq "migrated stored types" "4|5" \
    "$(sqlite3 "$WORK/old.db" "SELECT sum(typeof(span_id) = 'blob'), sum(typeof(span_id) = 'text') FROM span")"
expect_eq "migrated parent types" "null,blob,blob,null,text,text,null,text,blob" \
    "$(sqlite3 "$WORK/old.db" "SELECT group_concat(typeof(parent_span_id)) FROM (SELECT parent_span_id FROM span ORDER BY start_ns)")"
dump "$WORK/old.db" > "$WORK/migrated.txt"
cmp -s "$WORK/new.txt" "$WORK/migrated.txt" && pass || fail "views differ after the migration: $(diff "$WORK/new.txt" "$WORK/migrated.txt" | head -5)"
queries "$WORK/old.db" > "$WORK/migratedq.txt"
cmp -s "$WORK/newq.txt" "$WORK/migratedq.txt" && pass || fail "queries differ after the migration: $(diff "$WORK/newq.txt" "$WORK/migratedq.txt" | head -5)"
expect_eq "integrity" "ok" "$(sqlite3 "$WORK/old.db" "PRAGMA integrity_check")"
# The migrated warehouse goes on deduplicating against the converted ids.
expect_exit 0 "re-import into the migrated warehouse" -- "$S" --db "$WORK/old.db" import "$IN"
expect_eq "nothing new after migration" "0 imported, 9 duplicates" "$(grep -o '[0-9]* imported, [0-9]* duplicates' "$WORK/err")"

finish
