#!/bin/sh
# Checks only a process lab can make: how the order service stops on SIGTERM
# (local_only steps of plans/sync-rest.json). One phase per call:
#   load-start              10 orders against a hanging inventory, in the background
#   load-finish STOP_MS TIMEOUT_MS
#                           the stop (SIGTERM, timed by the plan: STOP_MS) came
#                           within the inventory timeout and 2 s; the 10 orders
#                           were each answered 504 first
#   lockstop                a second order service stopped while its inserts
#                           wait on a locked database: each answered, exit 0
# Environment: ORDER_URL, INVENTORY_URL, NOTIFICATION_URL, OUT_DIR, LOADGEN,
# COMMLAB_BIN, LAB_DIR (the lab's directory: logs and exit statuses there are
# checked by lab_check_logs).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
: "${OUT_DIR:?OUT_DIR must name a directory for results}" "${LAB_DIR:?}" "${COMMLAB_BIN:?}"
: "${LOADGEN:=$COMMLAB_BIN/loadgen}"
mkdir -p "$OUT_DIR"

phase_load_start() {
    "$LOADGEN" rest --url "$ORDER_URL" --seed 1 -n 10 -c 10 --start 8000 --json --quiet \
        --timeout-ms 10000 >"$OUT_DIR/stop.json" 2>/dev/null &
    echo $! >"$OUT_DIR/stop.pid"
}

phase_load_finish() { # STOP_MS TIMEOUT_MS
    wait_gone "$(cat "$OUT_DIR/stop.pid")"
    assert_num "stop: the order service exited within its inventory timeout and 2 s (ms)" \
        "$1" -le "$(($2 + 2000))"
    assert_eq "stop: the 10 orders waiting on inventory were answered 504 first" 10 \
        "$(jq -r '.status["504"] // 0' "$OUT_DIR/stop.json")"
}

# SIGTERM while orders wait on a locked database for longer than the stop
# waits for them (1.5 + 1 + 5 s with these timeouts; the lock holds 8.8 s):
# each is still answered and the process exits 0. It crashed when the chain's
# client was freed while an insert still waited to call it.
phase_lockstop() {
    _db=$LAB_DIR/lockstop.db
    "$COMMLAB_BIN/commlab-order" --listen 127.0.0.1:0 --db "$_db" --port-file "$LAB_DIR/lockstop.port" \
        --quiet --mode sync --inventory-url "$INVENTORY_URL" --notification-url "$NOTIFICATION_URL" \
        --inventory-timeout-ms 1500 --notification-timeout-ms 1000 >>"$LAB_DIR/lockstop.log" 2>&1 &
    _pid=$!
    wait_until 15 test -s "$LAB_DIR/lockstop.port" || fail "stop: a second order service started"
    _url=http://127.0.0.1:$(cat "$LAB_DIR/lockstop.port")
    printf 'BEGIN EXCLUSIVE;\n.shell sleep 8.8\nCOMMIT;\n' | sqlite3 "$_db" >/dev/null 2>&1 &
    _lock=$!
    sleep 0.5
    _curls=
    for _i in 1 2; do
        curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
            --data "{\"order_id\":\"lockstop-$_i\",\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1}]}" \
            "$_url/order" >"$OUT_DIR/lockstop.$_i" &
        _curls="$_curls $!"
        sleep 0.1
    done
    sleep 0.3
    kill -TERM "$_pid"
    wait "$_pid"
    _rc=$?
    echo "$_rc" >"$LAB_DIR/lockstop.exit"
    # shellcheck disable=SC2086 # the list of pids
    wait $_curls "$_lock"
    assert_eq "stop with inserts waiting on a lock: exit status 0 (no crash)" 0 "$_rc"
    assert_eq "stop with inserts waiting on a lock: both orders answered (codes)" "2" \
        "$(cat "$OUT_DIR/lockstop.1" "$OUT_DIR/lockstop.2" | grep -o '[1-9][0-9][0-9]' | wc -l | tr -d ' ')"
}

scenario_dispatch local-stop.sh "load-start load-finish lockstop" "$@"
