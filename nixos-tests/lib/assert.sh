# Assertions for scenario scripts. Every check prints "ok - what" or
# "not ok - what (why)", a check that cannot run here "skip - what: why";
# each is counted in $ASSERT_DIR, so checks made in subshells count too;
# assert_summary prints "N passed, N failed, N skipped".

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

# skip WHAT WHY: a check that cannot run on this machine, counted and said
# (as git's test prerequisites do), never passed silently.
skip() {
    _assert_count skipped
    printf 'skip - %s: %s\n' "$1" "$2"
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
    _assert_s=$(cat "$ASSERT_DIR/skipped" 2>/dev/null || echo 0)
    echo "$_assert_p passed, $_assert_f failed, $_assert_s skipped"
    [ "$_assert_f" -eq 0 ]
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds
# (status 0) or SECONDS have passed (status 1). The poll of every scenario:
# give COMMAND as a function when it is a test of a value.
wait_until() {
    _wu_end=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$_wu_end" ] || return 1
        sleep 0.2
    done
}

# wait_gone PID: waits until a process exits that need not be this shell's
# child (a background run an earlier phase started).
wait_gone() {
    while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
}

# scenario_dispatch SCRIPT "PHASE..." [PHASE [ARGS...]]: the end of every
# scenario script. Runs phase_PHASE (dashes as underscores) with ARGS when
# PHASE is in the list, and exits 2 otherwise; the status says whether the
# phase ran and all its checks passed (a VM test's client.succeed stops on
# it; ASSERT_DIR may hold earlier phases' counts).
scenario_dispatch() {
    _sd_script=$1 _sd_phases=$2 _sd_phase=${3:-}
    [ $# -ge 3 ] && shift 3 || shift 2
    case " $_sd_phases " in
    *" $_sd_phase "*) [ -n "$_sd_phase" ] ;;
    *) false ;;
    esac || {
        echo "$_sd_script: unknown phase '$_sd_phase' (one of: $_sd_phases)" >&2
        exit 2
    }
    _sd_failed=$(assert_failed_count)
    "phase_$(echo "$_sd_phase" | tr - _)" "$@"
    _sd_rc=$?
    [ "$_sd_rc" -eq 0 ] && [ "$(assert_failed_count)" -eq "$_sd_failed" ]
}
