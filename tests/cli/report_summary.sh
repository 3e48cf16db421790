# report summary --service S: every figure covers the traces touching S,
# service_count included.  Hand-worked: trace t1 has services a and b,
# trace t2 has c and d, so --service a sees 1 trace, 2 spans, 2 services.
. "$(dirname "$0")/lib.sh"
cat >"$WORK/s.jsonl" <<'JSON'
{"trace_id":"t1","span_id":"a1","service":"a","operation":"op","start_ns":1000,"duration_ns":50}
{"trace_id":"t1","span_id":"b1","parent_span_id":"a1","service":"b","operation":"op","start_ns":1010,"duration_ns":20}
{"trace_id":"t2","span_id":"c1","service":"c","operation":"op","start_ns":2000000000,"duration_ns":50}
{"trace_id":"t2","span_id":"d1","parent_span_id":"c1","service":"d","operation":"op","start_ns":2000000010,"duration_ns":20,"status":"error"}
{"trace_id":"t3","span_id":"e1","service":"a","operation":"op","start_ns":3000000000,"duration_ns":50}
JSON
DB="$WORK/s.db"
"$SPANLITE" --db "$DB" import "$WORK/s.jsonl" >/dev/null 2>&1

col() { # col REPORT-ARGS... -> "traces spans services errors"
    "$SPANLITE" --db "$DB" report summary --format csv "$@" | tail -n 1 | cut -d, -f1-4
}
expect_eq "whole warehouse" "3,5,4,1" "$(col)"
expect_eq "--service a" "2,3,2,0" "$(col --service a)"
expect_eq "--service d" "1,2,2,1" "$(col --service d)"
expect_eq "--service a, window from 1 s" "1,1,1,0" "$(col --service a --since 1)"
expect_eq "--service nosuch" "0,0,0," "$(col --service nosuch)"
finish
