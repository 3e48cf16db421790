# Workflow transactions become spans at the end of the import that stored
# their events, so reading commands never write: hand-worked from
# tests/data/workflow/two_txns.jsonl, where T1 is closed (2 steps: 100-400 ms
# and 650-1650 ms after its open at ...000, closed at +2000 ms) and T2 is
# still open.
source "$SPANLITE_SRC/tests/cli/lib.sh"
DB="$WORK/wf.db"
EV="$TESTDATA/workflow/two_txns.jsonl"
pending() { sqlite3 "$DB" "SELECT count(*) FROM wf_txn WHERE spans_synced = 0 AND closes > 0"; }
expect_exit 0 "import events" -- "$SPANLITE" --db "$DB" import --format workflow "$EV"
expect_eq "the import made T1's spans" "3" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"
expect_eq "nothing left pending" "0" "$(pending)"
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

# A warehouse whose transactions still wait for their spans (imports of an
# earlier spanlite left them for later): every reading command leaves the file as it was,
# and works on a read-only file.
sqlite3 "$DB" "UPDATE wf_txn SET spans_synced = 0"
expect_eq "T1 waits for its spans" "1" "$(pending)"
before=$(sha256sum < "$DB")
chmod 444 "$DB"
expect_exit 0 "search on a read-only file" -- "$SPANLITE" --db "$DB" search
expect_exit 0 "report services on a read-only file" -- "$SPANLITE" --db "$DB" report services
expect_exit 0 "trace on a read-only file" -- "$SPANLITE" --db "$DB" trace T1
expect_exit 0 "deps on a read-only file" -- "$SPANLITE" --db "$DB" deps
expect_exit 0 "query on a read-only file" -- "$SPANLITE" --db "$DB" query slowest
expect_exit 0 "export on a read-only file" -- "$SPANLITE" --db "$DB" export
expect_eq "reading commands left the file byte-identical" "$before" "$(sha256sum < "$DB")"
chmod 644 "$DB"
expect_eq "and left the transaction pending" "1" "$(pending)"
# `spanlite init` (sl_workflow_sync_spans) makes them, once.
expect_exit 0 "init syncs" -- "$SPANLITE" --db "$DB" init
expect_eq "init left nothing pending" "0" "$(pending)"
expect_eq "still 3 spans: the store kept one copy" "3" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"

# Closing T2 later converts it at that import, once; a re-run converts nothing new.
printf '%s\n' '{"type":"step_done","txn_id":"T2","ts_ms":1700000005500,"step":1}' \
              '{"type":"transaction_close","txn_id":"T2","ts_ms":1700000006000}' > "$WORK/more.jsonl"
expect_exit 0 "import the rest" -- "$SPANLITE" --db "$DB" import --format workflow "$WORK/more.jsonl"
expect_eq "T2 converted by that import: 5 spans in all" "5" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"
expect_exit 0 "import the rest again" -- "$SPANLITE" --db "$DB" import --format workflow "$WORK/more.jsonl"
"$SPANLITE" --db "$DB" init 2>/dev/null
expect_eq "T2 converted once: still 5 spans" "5" "$("$SPANLITE" --db "$DB" sql "SELECT count(*) FROM spans" | tail -1)"
expect_eq "T2's root lasts 1000 ms" "1000000000" \
    "$("$SPANLITE" --db "$DB" sql "SELECT duration_ns FROM spans WHERE trace_id='T2' AND parent_span_id IS NULL" | tail -1)"
finish
