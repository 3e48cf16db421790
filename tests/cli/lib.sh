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
