#!/bin/bash
# trace_index.sh -- trace ids filed in generations of 8,192 (schema 005,
# src/trace_index.c): a span of an old trace finds it in any generation,
# re-imports add nothing, SQL still finds an id through trace_key, and the
# migration from schema 4 files existing traces the same way.
#
# Hand-worked expectations: 20,000 traces seen in order fill generations
# 0 and 1 (8,192 each) and put 20,000 - 16,384 = 3,616 in generation 2.
source "$SPANLITE_SRC/tests/cli/lib.sh"

S=$SPANLITE
DB="$WORK/t.db"

# span FILE FIRST LAST STEP SPAN PARENT SERVICE: one span per trace i.
span() {
    awk -v a="$2" -v b="$3" -v st="$4" -v sp="$5" -v par="$6" -v svc="$7" 'BEGIN {
        for (i = a; st > 0 ? i <= b : i >= b; i += st)
            printf "{\"trace_id\":\"trace-%06d\",\"span_id\":\"%s\",\"parent_span_id\":%s," \
                   "\"service\":\"%s\",\"operation\":\"op\",\"start_ns\":%d,\"duration_ns\":%d}\n",
                   i, sp, par == "" ? "null" : "\"" par "\"", svc,
                   1700000000000000000 + i * 1000000, par == "" ? 500000 : 200000
    }' > "$1"
}
span "$WORK/a.jsonl" 1 20000 1 a "" web        # roots, in order
span "$WORK/b.jsonl" 20000 1 -1 b a api        # their children, newest trace first
gens() { "$S" --db "$1" sql --format csv "SELECT group_concat(traces, ' ') FROM (SELECT traces FROM trace_gen ORDER BY gen)" | tail -1; }
count() { "$S" --db "$1" sql --format csv "$2" | tail -1; }

expect_exit 0 "import of 20,000 new traces" -- "$S" --db "$DB" import "$WORK/a.jsonl"
expect_eq "generations after 20,000 traces" "8192 8192 3616" "$(gens "$DB")"
expect_eq "traces, distinct ids" "20000,20000" "$(count "$DB" "SELECT count(*), count(DISTINCT trace_id) FROM traces")"

# Children of every trace, the oldest generation last: each finds its trace.
expect_exit 0 "import of their children" -- "$S" --db "$DB" import "$WORK/b.jsonl"
expect_eq "children counted" "20000 imported, 0 duplicates" "$(grep -o '[0-9]* imported, [0-9]* duplicates' "$WORK/err")"
expect_eq "no trace added by the children" "8192 8192 3616" "$(gens "$DB")"
expect_eq "every trace has its two spans" "20000,20000" \
    "$(count "$DB" "SELECT count(*), sum(span_count = 2 AND service_count = 2 AND root_service = 'web') FROM traces")"

expect_exit 0 "re-import" -- "$S" --db "$DB" import "$WORK/a.jsonl" "$WORK/b.jsonl"
expect_eq "re-import adds nothing" "0 imported, 40000 duplicates" \
    "$(grep -o '[0-9]* imported, [0-9]* duplicates' "$WORK/err" | tail -1)"

# SQL finds an id through the index (a skip-scan of trace_key), not a scan.
plan=$(sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT * FROM spans WHERE trace_id = 'trace-000042'")
case $plan in *"INDEX trace_key"*) pass ;; *) fail "spans by trace_id does not use trace_key: $plan" ;; esac
plan=$(sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT * FROM traces WHERE trace_id = 'trace-000042'")
case $plan in *"INDEX trace_key"*) pass ;; *) fail "traces by trace_id does not use trace_key: $plan" ;; esac
expect_eq "one trace by id" "trace-000042,2" \
    "$(count "$DB" "SELECT trace_id, span_count FROM traces WHERE trace_id = 'trace-000042'")"
expect_exit 0 "trace by id" -- "$S" --db "$DB" trace trace-019999
grep -q "api" "$WORK/out" || fail "spanlite trace trace-019999 lacks its api span"

# An ANALYZE run on an almost empty warehouse says a generation is small;
# the writer restores the row when a generation starts, so the plan holds.
span "$WORK/few.jsonl" 1 10 1 a "" web
"$S" --db "$WORK/few.db" import "$WORK/few.jsonl" 2>/dev/null
sqlite3 "$WORK/few.db" "ANALYZE"
"$S" --db "$WORK/few.db" import "$WORK/a.jsonl" 2>/dev/null
plan=$(sqlite3 "$WORK/few.db" "EXPLAIN QUERY PLAN SELECT * FROM spans WHERE trace_id = 'trace-000042'")
case $plan in *"INDEX trace_key"*) pass ;; *) fail "after ANALYZE and growth, no trace_key: $plan" ;; esac

# Two processes importing spans of the same new traces at once: whichever
# writes second must see the other's ids (filters reloaded), not add them
# again.  40,000 traces each: three transactions per process.
span "$WORK/c1.jsonl" 20001 60000 1 c1 a web
span "$WORK/c2.jsonl" 20001 60000 1 c2 a api
"$S" --db "$DB" import "$WORK/c1.jsonl" 2>"$WORK/c1.err" & p1=$!
"$S" --db "$DB" import "$WORK/c2.jsonl" 2>"$WORK/c2.err" & p2=$!
wait $p1 || fail "concurrent import 1: $(cat "$WORK/c1.err")"
wait $p2 || fail "concurrent import 2: $(cat "$WORK/c2.err")"
expect_eq "concurrent imports: one trace per id" "60000,60000" \
    "$(count "$DB" "SELECT count(*), count(DISTINCT trace_id) FROM traces")"
expect_eq "concurrent imports: both spans of each new trace" "40000" \
    "$(count "$DB" "SELECT count(*) FROM traces WHERE trace_id > 'trace-020000' AND span_count = 2")"
expect_eq "generations hold every id once" "60000" \
    "$(count "$DB" "SELECT sum(traces) FROM trace_gen")"

# Schema 4 -> 5: the migration files traces by first sight, as the writer
# does, so its filters equal the ones kept at ingest, bit for bit.
span "$WORK/m.jsonl" 1 20000 1 a "" web
"$S" --db "$WORK/m.db" import "$WORK/m.jsonl" 2>/dev/null
"$S" --db "$WORK/m.db" import "$WORK/b.jsonl" 2>/dev/null
sqlite3 "$WORK/m.db" "SELECT gen, traces, hex(bloom) FROM trace_gen ORDER BY gen" > "$WORK/ingest.txt"
to_schema4 "$WORK/m.db"
expect_exit 0 "migrating a schema 4 warehouse" -- "$S" --db "$WORK/m.db" init
sqlite3 "$WORK/m.db" "SELECT gen, traces, hex(bloom) FROM trace_gen ORDER BY gen" > "$WORK/migrated.txt"
expect_eq "migrated filters equal the ingested ones" "" "$(cmp "$WORK/ingest.txt" "$WORK/migrated.txt" 2>&1)"
expect_exit 0 "re-import after the migration" -- "$S" --db "$WORK/m.db" import "$WORK/b.jsonl"
expect_eq "after the migration, old traces are found" "0 imported, 20000 duplicates" \
    "$(grep -o '[0-9]* imported, [0-9]* duplicates' "$WORK/err")"

# trace_index_rebuild() from the loadable extension gives the same rows.
if [ -n "${SPANLITE_EXT:-}" ]; then
    out=$(sqlite3 "$WORK/m.db" ".load $SPANLITE_EXT" "SELECT trace_index_rebuild()" 2>&1)
    expect_eq "trace_index_rebuild() generations" "3" "$out"
    sqlite3 "$WORK/m.db" "SELECT gen, traces, hex(bloom) FROM trace_gen ORDER BY gen" > "$WORK/rebuilt.txt"
    expect_eq "rebuilt filters equal the ingested ones" "" "$(cmp "$WORK/ingest.txt" "$WORK/rebuilt.txt" 2>&1)"
fi

# A damaged filter is reported, not trusted.
sqlite3 "$WORK/m.db" "UPDATE trace_gen SET bloom = x'00' WHERE gen = 1"
expect_exit 2 "import over a damaged trace_gen" -- "$S" --db "$WORK/m.db" import "$WORK/b.jsonl"
grep -q "trace_gen row 1 is damaged" "$WORK/err" || fail "damaged trace_gen message: $(cat "$WORK/err")"

finish
