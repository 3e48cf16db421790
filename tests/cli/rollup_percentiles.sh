# Percentiles from the hourly rollups equal the exact ones (percentile():
# linear interpolation between the closest ranks) within the sketch's 1%,
# for every group size, 1 and 2 included: report services, operations and
# trend, rollups against --exact and against hand-computed figures.
source "$SPANLITE_SRC/tests/cli/lib.sh"

# within WHAT WANT GOT REL: |GOT - WANT| <= REL*|WANT| + 0.0005 (the 3 decimals of the output)
within() {
    if awk -v w="$2" -v g="$3" -v r="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; a = w < 0 ? -w : w; exit !(d <= r * a + 0.0005) }'; then
        pass
    else
        fail "$1: wanted $2 within $4 relative, got $3"
    fi
}

csv_head='trace_id,span_id,parent_span_id,service,operation,start_ns,duration_ns'
t0=1700000000000000000   # 2023-11-14T22:13:20Z: every span below is in one hour

# Two spans, 10 ms and 100 ms: exact p50/p95/p99 = 55 / 95.5 / 99.1 ms
# (ix = p*(2-1)/100: 10 + 90*ix).  The rollups said 10 / 10 / 10.
{ echo "$csv_head"
  echo "t1,a,,two,op,$t0,10000000"
  echo "t2,b,,two,op,$((t0 + 1000000000)),100000000"; } > "$WORK/two.csv"
# Twenty spans of 1..20 ms: exact p99 = 19 + 0.81 = 19.81 (rollups said 18.82).
{ echo "$csv_head"
  for i in $(seq 1 20); do echo "u$i,s$i,,twenty,op,$((t0 + i * 1000000)),$((i * 1000000))"; done; } > "$WORK/twenty.csv"
# One span of 7 ms: every percentile is 7.
{ echo "$csv_head"; echo "o1,x,,one,op,$t0,7000000"; } > "$WORK/one.csv"
"$SPANLITE" --db "$WORK/w.db" import --quiet "$WORK/two.csv" "$WORK/twenty.csv" "$WORK/one.csv" \
    || fail "importing the hand-made spans"

# report services / operations: columns p50_ms,p95_ms,p99_ms are the last three.
for rep in services operations; do
    for mode in rollups exact; do
        flag=; [ $mode = exact ] && flag=--exact
        out=$("$SPANLITE" --db "$WORK/w.db" report $rep $flag --format csv)
        row() { echo "$out" | awk -F, -v s="$1" '$1 == s { print $(NF-2), $(NF-1), $NF }'; }
        read -r p50 p95 p99 <<< "$(row two)"
        within "$rep ($mode) two spans p50" 55 "$p50" 0.01
        within "$rep ($mode) two spans p95" 95.5 "$p95" 0.01
        within "$rep ($mode) two spans p99" 99.1 "$p99" 0.01
        read -r p50 p95 p99 <<< "$(row twenty)"
        within "$rep ($mode) twenty spans p50" 10.5 "$p50" 0.01
        within "$rep ($mode) twenty spans p95" 19.05 "$p95" 0.01
        within "$rep ($mode) twenty spans p99" 19.81 "$p99" 0.01
        expect_eq "$rep ($mode) one span" "7 7 7" "$(row one)"
    done
done

# report trend (whole hours from the rollups): p50_ms,p99_ms are the last two.
out=$("$SPANLITE" --db "$WORK/w.db" report trend --format csv)
trow() { echo "$out" | awk -F, -v s="$1" '$2 == s { print $(NF-1), $NF }'; }
read -r p50 p99 <<< "$(trow two)"
within "trend two spans p50" 55 "$p50" 0.01
within "trend two spans p99" 99.1 "$p99" 0.01
read -r p50 p99 <<< "$(trow twenty)"
within "trend twenty spans p50" 10.5 "$p50" 0.01
within "trend twenty spans p99" 19.81 "$p99" 0.01
expect_eq "trend one span" "7 7" "$(trow one)"

# SQL over the rollups: the same definition.
expect_eq "sketch_quantile over rollups, two spans" "55.0|95.5|99.1" \
    "$("$SPANLITE" --db "$WORK/w.db" sql --format csv "SELECT round(sketch_quantile(sketch_merge(sketch), 0.5) / 1e6, 3) || '|' ||
        round(sketch_quantile(sketch_merge(sketch), 0.95) / 1e6, 3) || '|' || round(sketch_quantile(sketch_merge(sketch), 0.99) / 1e6, 3)
        FROM rollups WHERE service = 'two'" | tail -1)"

# Generated data over several hours: every rollup percentile of every service
# and operation within 1% of --exact.
for k in 0 1; do
    "$SPANGEN" --seed $((41 + k)) --spans 3000 --start-ns $((t0 + k * 2 * 3600000000000)) >> "$WORK/gen.jsonl"
done
"$SPANLITE" --db "$WORK/g.db" import --quiet "$WORK/gen.jsonl" || fail "importing generated spans"
for rep in services operations; do
    "$SPANLITE" --db "$WORK/g.db" report $rep --format csv --limit 1000 > "$WORK/r.csv"
    "$SPANLITE" --db "$WORK/g.db" report $rep --exact --format csv --limit 1000 > "$WORK/x.csv"
    keys=$([ $rep = services ] && echo 1 || echo 2)
    bad=$(awk -F, -v k="$keys" '
        { key = $1; if (k == 2) key = key SUBSEP $2 }
        NR == FNR { for (c = NF - 2; c <= NF; c++) x[key, c] = $c; next }
        FNR > 1 { n++; for (c = NF - 2; c <= NF; c++) { d = $c - x[key, c]; if (d < 0) d = -d;
                  if (!((key, c) in x) || d > 0.01 * x[key, c] + 0.0005) { bad++; print "  " $0 > "/dev/stderr" } } }
        END { print (bad + 0) "/" n }' "$WORK/x.csv" "$WORK/r.csv")
    case "$bad" in 0/[1-9]*) pass ;; *) fail "report $rep: rollup percentiles off --exact by more than 1%: $bad" ;; esac
done
finish
