# report trend with a window that is not whole hours: the hours it cuts
# count only their spans inside the window, so the totals equal `report
# services` for the same window.  Hand-worked data: 8 spans over three hours
# from 2024-05-01T00:00Z (minutes 10, 50, 55 | 70, 80, 110 | 150, 170).
. "$(dirname "$0")/lib.sh"
T0=1714521600000000000 M=60000000000
sp() { # id service minute duration [error]
    printf '{"trace_id":"tr%s","span_id":"s%s","service":"%s","operation":"op","start_ns":%s,"duration_ns":%s%s}\n' \
        "$1" "$1" "$2" $((T0 + $3 * M)) "$4" "${5:+,\"status\":\"error\"}"
}
{
    sp 1 a 10 1000; sp 2 a 50 2000 e; sp 3 b 55 3000
    sp 4 a 70 4000; sp 5 a 80 5000; sp 6 b 110 6000 e
    sp 7 a 150 7000; sp 8 a 170 8000
} >"$WORK/t.jsonl"
DB="$WORK/t.db"
"$SPANLITE" --db "$DB" import "$WORK/t.jsonl" >/dev/null 2>&1
trend() { "$SPANLITE" --db "$DB" report trend --format csv "$@" | tail -n +2 | cut -d, -f1-4 | tr '\n' ' '; }

expect_eq "no window: every hour whole" \
    "2024-05-01T00:00:00Z,a,2,1 2024-05-01T00:00:00Z,b,1,0 2024-05-01T01:00:00Z,a,2,0 2024-05-01T01:00:00Z,b,1,1 2024-05-01T02:00:00Z,a,2,0 " \
    "$(trend)"
W="--since 2024-05-01T00:30:00Z --until 2024-05-01T02:45:00Z"
expect_eq "00:30 to 02:45" \
    "2024-05-01T00:00:00Z,a,1,1 2024-05-01T00:00:00Z,b,1,0 2024-05-01T01:00:00Z,a,2,0 2024-05-01T01:00:00Z,b,1,1 2024-05-01T02:00:00Z,a,1,0 " \
    "$(trend $W)"
expect_eq "inside one hour" "2024-05-01T00:00:00Z,a,1,1 " \
    "$(trend --since 2024-05-01T00:30:00Z --until 2024-05-01T00:52:00Z)"
expect_eq "whole hours only" "2024-05-01T01:00:00Z,a,2,0 2024-05-01T01:00:00Z,b,1,1 " \
    "$(trend --since 2024-05-01T01:00:00Z --until 2024-05-01T02:00:00Z)"
expect_eq "since only" "2024-05-01T02:00:00Z,a,1,0 " "$(trend --since 2024-05-01T02:40:00Z)"
expect_eq "until only" "2024-05-01T00:00:00Z,a,1,0 " "$(trend --until 2024-05-01T00:20:00Z)"
# the same totals as `report services` over the cut window
sum_trend=$("$SPANLITE" --db "$DB" report trend --format csv $W | tail -n +2 | awk -F, '{n+=$3} END {print n}')
sum_services=$("$SPANLITE" --db "$DB" report services --format csv $W | tail -n +2 | awk -F, '{n+=$2} END {print n}')
expect_eq "trend total = services total" "$sum_services" "$sum_trend"
expect_eq "services total, hand-worked" "6" "$sum_services"
finish
