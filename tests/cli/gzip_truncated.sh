# A gzip file cut short is an error naming the file, never a silent partial
# import: the records that were whole before the cut are imported, the exit
# status is non-zero, and the message says the data is truncated.  The
# expected counts come from Python's zlib: whole lines in what the cut
# bytes decompress to.
. "$(dirname "$0")/lib.sh"
"$SPANGEN" --spans 150 --seed 5 -o "$WORK/all.jsonl"
gzip -c "$WORK/all.jsonl" >"$WORK/all.jsonl.gz"
size=$(stat -c %s "$WORK/all.jsonl.gz")
whole_lines() { # how many complete lines the first N bytes of the gzip hold
    python3 - "$WORK/all.jsonl.gz" "$1" <<'PY'
import sys, zlib
data = open(sys.argv[1], "rb").read()[: int(sys.argv[2])]
d = zlib.decompressobj(16 + zlib.MAX_WBITS)
try:
    out = d.decompress(data)
except zlib.error:
    out = b""
print(out.count(b"\n"))
PY
}
expect_exit 0 "whole gzip" -- "$SPANLITE" --db "$WORK/w0.db" import "$WORK/all.jsonl.gz"
grep -q ": 150 read, 150 imported" "$WORK/err" && pass || fail "whole gzip: $(cat "$WORK/err")"
i=0
for cut in 10 20 $((size / 3)) $((size / 2)) $((size - 9)) $((size - 1)); do
    i=$((i + 1))
    head -c "$cut" "$WORK/all.jsonl.gz" >"$WORK/cut$i.gz"
    want=$(whole_lines "$cut")
    "$SPANLITE" --db "$WORK/w$i.db" import "$WORK/cut$i.gz" >"$WORK/out" 2>"$WORK/err"
    [ $? -ne 0 ] && pass || fail "cut at $cut of $size: exit 0"
    grep -q "cut$i.gz.*truncated gzip data" "$WORK/err" && pass || fail "cut at $cut: no message: $(cat "$WORK/err")"
    got=$("$SPANLITE" --db "$WORK/w$i.db" sql --format csv "SELECT count(*) FROM spans" | tail -n 1)
    expect_eq "cut at $cut of $size: whole records imported" "$want" "$got"
done
head -c $((size / 2)) "$WORK/all.jsonl.gz" | "$SPANLITE" --db "$WORK/ws.db" import - >"$WORK/out" 2>"$WORK/err"
[ $? -ne 0 ] && pass || fail "stdin cut: exit 0"
grep -q "<stdin>.*truncated gzip data" "$WORK/err" && pass || fail "stdin cut: $(cat "$WORK/err")"
finish
