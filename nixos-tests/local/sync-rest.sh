#!/bin/sh
# Part A in the local lab: boots the REST services as processes, runs every
# scenario phase, doing the injections, kills and restarts between phases.
# Writes phase JSON to $OUT_DIR, and results/ files when RESULTS_DIR is set.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
S="$here/../scenarios/sync-rest.sh"

# The order timeout must stay above the 2 s delay of scenario 2.
ORDER_TIMEOUT_MS=3000
# What the chain may add on top of an injected 2 s delay at p50 (documented).
DELAY_OVERHEAD_MS=150
# How fast a 502 must be when inventory answers 500 at once.
FAIL_P99_MS=250
# How far past the timeout a 504 may come.
TIMEOUT_SLACK_MS=300
# Inventory failures in a row that open the order service's breaker.
BREAKER_FAILURES=5
# Long enough that the checks after scenario 3 see it still open on a loaded
# machine (a probe after it would reach the failing inventory).
BREAKER_COOLDOWN_MS=4000

lab_init || exit 1
ORDER_ARGS="--inventory-timeout-ms $ORDER_TIMEOUT_MS --breaker-failures $BREAKER_FAILURES --breaker-cooldown-ms $BREAKER_COOLDOWN_MS" lab_start_rest || exit 1
: "${OUT_DIR:=$LAB_DIR/out}"
LOADGEN="$COMMLAB_BIN/loadgen"
export OUT_DIR LOADGEN
configure() { http_code POST "$INVENTORY_URL/configure" "$1" >/dev/null; }

echo "# sync-rest: local lab in $LAB_DIR"
sh "$S" baseline
sh "$S" bad-input
sh "$S" idempotency
sh "$S" out-of-stock

configure '{"delay_ms":2000,"mode":"none"}'
sh "$S" delay 2000 "$DELAY_OVERHEAD_MS"
configure '{"delay_ms":0,"mode":"error"}'
sh "$S" fail500 "$FAIL_P99_MS" "$BREAKER_FAILURES"
configure '{"delay_ms":0,"mode":"none"}'
sh "$S" breaker-closes 10
configure '{"delay_ms":5000,"mode":"none"}'
sh "$S" timeout "$ORDER_TIMEOUT_MS" "$TIMEOUT_SLACK_MS"
configure '{"delay_ms":0,"mode":"none"}'
sh "$S" released 30 timeout
sh "$S" breaker-closes 10

order_pid=$(lab_pid order)
sh "$S" kill-start 100 8
sleep 2
lab_kill inventory KILL
sleep 3
lab_restart inventory || fail "kill: inventory restarted"
sh "$S" kill-finish
sh "$S" released 30
assert_eq "kill: order service kept running (same process)" "$order_pid" "$(lab_pid order)"
check "kill: order service alive" kill -0 "$order_pid"

# 9. Releases outlive an order-service crash.
lab_kill inventory KILL
sh "$S" release-crash-start
lab_kill order KILL
lab_restart order || fail "release crash: order service restarted"
lab_restart inventory || fail "release crash: inventory restarted"
sh "$S" release-crash-finish 30

# 10. Orders in flight when the order service is killed -9 end final.
configure '{"delay_ms":300,"mode":"none"}'
sh "$S" pending-crash-start 100 6
sleep 2
sh "$S" pending-crash-inflight
lab_kill order KILL
sleep 1
lab_restart order || fail "pending crash: order service restarted"
# Killed again mid-recovery (it re-runs one order per 300 ms): nothing is lost.
sleep 1
lab_kill order KILL
lab_restart order || fail "pending crash: order service restarted mid-recovery"
sh "$S" pending-crash-finish 40
configure '{"delay_ms":0,"mode":"none"}'

# 11. Notification killed -9 under load: every confirmed order notified once.
sh "$S" notify-kill-start 100 6
sleep 2
lab_kill notification KILL
sleep 2
lab_restart notification || fail "notify kill: notification restarted"
sh "$S" notify-kill-finish 30

# SIGTERM with orders waiting on a hanging inventory: the order service
# answers them (504 at their timeout) and exits, within the timeout and a
# little; nothing is left pending that recovery would not find.
configure '{"delay_ms":0,"mode":"hang"}'
"$LOADGEN" rest --url "$ORDER_URL" --seed 1 -n 10 -c 10 --start 8000 --json --quiet \
    --timeout-ms 10000 >"$OUT_DIR/stop.json" &
stop_load=$!
sleep 1
stop_t0=$(date +%s%N)
lab_kill order TERM
stop_ms=$((($(date +%s%N) - stop_t0) / 1000000))
wait "$stop_load"
assert_num "stop: the order service exited within its inventory timeout and 2 s (ms)" \
    "$stop_ms" -le "$((ORDER_TIMEOUT_MS + 2000))"
assert_eq "stop: the 10 orders waiting on inventory were answered 504 first" 10 \
    "$(jq -r '.status["504"] // 0' "$OUT_DIR/stop.json")"
configure '{"delay_ms":0,"mode":"none"}'

# SIGTERM while orders wait on a locked database for longer than the stop
# waits for them (1.5 + 1 + 5 s with these timeouts; the lock holds 8.8 s):
# each is still answered and the process exits 0. It crashed when the
# chain's client was freed while an insert still waited to call it.
sh "$here/../scenarios/local-stop.sh" lockstop

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
if [ -n "${RESULTS_DIR:-}" ]; then
    sh "$here/../report/sync-rest.sh" "$OUT_DIR" "$RESULTS_DIR" \
        "$ORDER_TIMEOUT_MS" "$DELAY_OVERHEAD_MS" "$FAIL_P99_MS"
fi
