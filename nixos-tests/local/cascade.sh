#!/bin/sh
# The sync chain's cascade in the local lab (scenarios/cascade.sh): the REST
# trio as processes, the order service first without a bulkhead or breaker,
# then restarted with both. Writes phase files to $OUT_DIR, and results/
# files (plots, cascade.json, cascade.md) when RESULTS_DIR is set.
set -u
here=$(cd "$(dirname "$0")" && pwd)
COMMLAB_ROOT=${COMMLAB_ROOT:-$(cd "$here/../.." && pwd)}
. "$here/../lib/assert.sh"
# Failures of this run only: the test command shares its counts with earlier suites.
failed_before=$(assert_failed_count)
. "$here/../lib/http.sh"
. "$here/../lib/lab.sh"
S="$here/../scenarios/cascade.sh"

# Inventory's timeout in the order service: what every unprotected order waits.
TIMEOUT_MS=2000
# The bulkhead, and the breaker's run of failures and cool-down.
LIMIT=64
FAILURES=5
COOLDOWN_MS=2000
UNPROTECTED="--inventory-timeout-ms $TIMEOUT_MS --inventory-max-inflight 0 --breaker-failures 0"
PROTECTED="--inventory-timeout-ms $TIMEOUT_MS --inventory-max-inflight $LIMIT \
--breaker-failures $FAILURES --breaker-cooldown-ms $COOLDOWN_MS"

lab_init || exit 1
# A hanging inventory keeps each /reserve connection until it serves it, also
# those the order service gave up on: rate x hang time of them, from one
# address.
INVENTORY_ARGS="--http-max-per-client 8192" ORDER_ARGS=$UNPROTECTED lab_start_rest || exit 1
: "${OUT_DIR:=$LAB_DIR/out}"
LOADGEN="$COMMLAB_BIN/loadgen"
PROBE="$COMMLAB_BIN/commlab-httpprobe"
export OUT_DIR LOADGEN PROBE

# restart_order ARGS: the order service again, same state and port, new options.
restart_order() {
    lab_kill order TERM
    echo "--quiet --mode sync --inventory-url $INVENTORY_URL --notification-url $NOTIFICATION_URL $1" \
        >"$LAB_DIR/order.args"
    lab_restart order
}

echo "# cascade: local lab in $LAB_DIR"
sh "$S" baseline 3
sh "$S" unprotected "$TIMEOUT_MS"
restart_order "$PROTECTED" || fail "cascade: order service restarted with a bulkhead and a breaker"
sh "$S" protected "$TIMEOUT_MS" "$LIMIT" "$COOLDOWN_MS" "$FAILURES"
sh "$S" breaker-500 "$FAILURES" "$COOLDOWN_MS"

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
if [ -n "${RESULTS_DIR:-}" ]; then
    sh "$here/../report/cascade.sh" "$OUT_DIR" "$RESULTS_DIR" \
        "$TIMEOUT_MS" "$LIMIT" "$FAILURES" "$COOLDOWN_MS" ||
        fail "cascade: the report was written"
fi
[ "$(assert_failed_count)" -eq "$failed_before" ]
