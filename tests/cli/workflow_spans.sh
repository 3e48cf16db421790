# Workflow transactions become spans before any span analysis (cli_sync_workflow_spans):
# hand-worked from tests/data/workflow/two_txns.jsonl, where T1 is closed
# (2 steps: 100-400 ms and 650-1650 ms after its open at ...000, closed at +2000 ms)
# and T2 is still open.
source "$SPANLITE_SRC/tests/cli/lib.sh"
DB="$WORK/wf.db"
EV="$TESTDATA/workflow/two_txns.jsonl"
expect_exit 0 "import events" -- "$SPANLITE" --db "$DB" import --format workflow "$EV"
expect_eq "sql (read-only) converts nothing" "0" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"
out=$("$SPANLITE" --db "$DB" report services --format csv)
expect_eq "report services sees the workflow's spans" \
    "checkout,3,0" "$(echo "$out" | sed -n 2p | cut -d, -f1-3)"
expect_eq "root span: the closed transaction, 2000 ms" \
    "T1,transaction,2000000000" \
    "$("$SPANLITE" --db "$DB" sql "SELECT trace_id, operation, duration_ns FROM spans WHERE parent_span_id IS NULL" | tail -1)"
expect_eq "step spans: 300 ms and 1000 ms" "300000000 1000000000" \
    "$("$SPANLITE" --db "$DB" sql "SELECT duration_ns FROM spans WHERE parent_span_id IS NOT NULL ORDER BY start_ns" | tail -n +2 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "traces view: one trace of 3 spans" "T1,3,1" \
    "$("$SPANLITE" --db "$DB" sql "SELECT trace_id, span_count, service_count FROM traces" | tail -1)"
# Closing T2 later converts it once, and a re-run converts nothing new.
printf '%s\n' '{"type":"step_done","txn_id":"T2","ts_ms":1700000005500,"step":1}' \
              '{"type":"transaction_close","txn_id":"T2","ts_ms":1700000006000}' > "$WORK/more.jsonl"
expect_exit 0 "import the rest" -- "$SPANLITE" --db "$DB" import --format workflow "$WORK/more.jsonl"
"$SPANLITE" --db "$DB" init 2>/dev/null
"$SPANLITE" --db "$DB" init 2>/dev/null
expect_eq "T2 converted once: 5 spans in all" "5" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"
expect_eq "T2's root lasts 1000 ms" "1000000000" \
    "$("$SPANLITE" --db "$DB" sql "SELECT duration_ns FROM spans WHERE trace_id='T2' AND parent_span_id IS NULL" | tail -1)"
finish
