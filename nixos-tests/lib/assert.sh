# Assertions for scenario scripts. Every check prints "ok - what" or
# "not ok - what (why)" and is counted in $ASSERT_DIR, so checks made in
# subshells count too; assert_summary prints "N passed, N failed".

: "${ASSERT_DIR:=$(mktemp -d)}"
export ASSERT_DIR

_assert_count() { # file
    _assert_n=$(cat "$ASSERT_DIR/$1" 2>/dev/null || echo 0)
    echo $((_assert_n + 1)) >"$ASSERT_DIR/$1"
}

pass() {
    _assert_count passed
    printf 'ok - %s\n' "$*"
}

fail() {
    _assert_count failed
    printf 'not ok - %s\n' "$*"
    printf '%s\n' "$*" >>"$ASSERT_DIR/failures"
}

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
    _what=$1
    shift
    if "$@" >/dev/null; then pass "$_what"; else fail "$_what"; fi
}

# assert_eq DESCRIPTION EXPECTED ACTUAL
assert_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}

# assert_num DESCRIPTION ACTUAL OP BOUND, with OP one of -lt -le -gt -ge -eq
# or the awk comparisons < <= > >= for decimals.
assert_num() {
    if awk -v a="$2" -v b="$4" -v op="$3" 'BEGIN {
        if (op == "<" || op == "-lt") exit !(a < b);
        if (op == "<=" || op == "-le") exit !(a <= b);
        if (op == ">" || op == "-gt") exit !(a > b);
        if (op == ">=" || op == "-ge") exit !(a >= b);
        if (op == "==" || op == "-eq") exit !(a == b);
        exit 2 }'; then
        pass "$1 ($2 $3 $4)"
    else
        fail "$1 (got $2, wanted $3 $4)"
    fi
}

assert_failed_count() {
    cat "$ASSERT_DIR/failed" 2>/dev/null || echo 0
}

assert_summary() {
    _assert_p=$(cat "$ASSERT_DIR/passed" 2>/dev/null || echo 0)
    _assert_f=$(assert_failed_count)
    if [ -s "$ASSERT_DIR/failures" ]; then
        echo
        echo "Failed checks:"
        sed 's/^/  - /' "$ASSERT_DIR/failures"
    fi
    echo
    echo "$_assert_p passed, $_assert_f failed"
    [ "$_assert_f" -eq 0 ]
}
