#!/bin/sh
# Part A scenarios, one phase per call, against running services:
#   ORDER_URL INVENTORY_URL NOTIFICATION_URL  endpoints
#   OUT_DIR                                   where each phase writes its JSON
#   SEED (default 1), LOADGEN (default: loadgen on PATH)
# Whoever runs the phases does the things between them (inject a delay, kill
# and restart inventory): the local lab (plans/sync-rest.json) or a VM test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
. "$here/../lib/rest-state.sh"
: "${SEED:=1}" "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
mkdir -p "$OUT_DIR"

# loadgen_json NAME ARGS...: a loadgen run whose JSON lands in $OUT_DIR/NAME.json.
loadgen_json() {
    _name=$1
    shift
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --label "$_name" --json --quiet "$@" \
        >"$OUT_DIR/$_name.json"
}
jget() { jq -r "$2" "$OUT_DIR/$1.json"; }
# open_loop_start NAME RATE SECONDS START: an open-loop run in the background
# (its JSON in $OUT_DIR/NAME.json); open_loop_wait NAME waits for it.
open_loop_start() {
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --label "$1" --json --quiet \
        --rate "$2" --duration "$3" --start "$4" --timeout-ms 10000 >"$OUT_DIR/$1.json" &
    echo $! >"$OUT_DIR/$1.pid"
}
open_loop_wait() {
    wait_gone "$(cat "$OUT_DIR/$1.pid")"
}
sent() { metric "$NOTIFICATION_URL" notifications_sent_total; }
state() { state_hash "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL"; }
order_json() { # ORDER_ID SKU QTY
    printf '{"order_id":"%s","user_id":"u1","occurred_at":"2026-02-18T12:00:00.000Z","items":[{"sku":"%s","qty":%s}]}' "$1" "$2" "$3"
}

# 1. 200 orders at concurrency 20: all 201. The state hash after it depends
# only on the seed.
phase_baseline() {
    loadgen_json baseline -n 200 -c 20 --start 0
    assert_eq "baseline: 200 orders answered 201" 200 "$(jget baseline '.status["201"] // 0')"
    assert_eq "baseline: no errors" 0 "$(jget baseline .errors)"
    state_dump "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$OUT_DIR/baseline.state.txt"
    assert_eq "baseline: state dump holds the 200 orders" 200 \
        "$(grep -c '^orders	.*	confirmed	notified$' "$OUT_DIR/baseline.state.txt")"
    sha256sum <"$OUT_DIR/baseline.state.txt" | cut -d' ' -f1 >"$OUT_DIR/baseline.state.sha256"
}

# 2. With inventory answering DELAY ms late (injected by the caller), orders
# still succeed and p50 lies in [DELAY, DELAY + OVERHEAD].
phase_delay() { # DELAY_MS OVERHEAD_MS
    loadgen_json delay -n 200 -c 20 --start 1000
    assert_eq "delay: all 200 orders 201" 200 "$(jget delay '.status["201"] // 0')"
    p50=$(jget delay .latency_ms.p50)
    assert_num "delay: p50 at least the injected delay" "$p50" ">=" "$1"
    assert_num "delay: p50 within the documented overhead" "$p50" "<=" "$(($1 + $2))"
}

# 3. Inventory answering 500 (injected by the caller): 502 at once until the
# circuit breaker opens (BREAKER_FAILURES in a row; orders already in flight
# then end 502 too), then 503 inventory_circuit_open with Retry-After, sent
# nowhere; all fast, nothing notified.
phase_fail500() { # MAX_P99_MS [BREAKER_FAILURES, default 5]
    s0=$(sent)
    r0=$(reserve_answers)
    loadgen_json fail500 -n 100 -c 10 --start 2000
    bad=$(jget fail500 '.status["502"] // 0')
    open=$(jget fail500 '.status["503"] // 0')
    assert_eq "inventory 500: every order 502 or 503" 100 "$((bad + open))"
    assert_num "inventory 500: 502 until the breaker opened (at least ${2:-5})" "$bad" -ge "${2:-5}"
    assert_num "inventory 500: at most one more 502 per concurrent client" "$bad" -le "$((${2:-5} + 10))"
    assert_num "inventory 500: then 503, the breaker open" "$open" -gt 0
    assert_eq "inventory 500: only the 502 orders reached inventory" "$bad" \
        "$(($(reserve_answers) - r0))"
    assert_eq "inventory 500: the breaker is open" 1 "$(metric "$ORDER_URL" inventory_breaker_state)"
    assert_num "inventory 500: answered fast (p99 ms)" "$(jget fail500 .latency_ms.p99)" "<=" "$1"
    assert_eq "inventory 500: nothing notified" "$s0" "$(sent)"
    _code=$(curl -s -o "$OUT_DIR/fail500.open.json" -D "$OUT_DIR/fail500.open.headers" \
        -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        --data "$(order_json open-1 burger 1)" "$ORDER_URL/order")
    assert_eq "inventory 500: breaker open: 503" 503 "$_code"
    assert_eq "inventory 500: breaker open: error inventory_circuit_open" inventory_circuit_open \
        "$(jq -r .error "$OUT_DIR/fail500.open.json")"
    check "inventory 500: breaker open: Retry-After given" \
        grep -qi '^Retry-After: [1-9]' "$OUT_DIR/fail500.open.headers"
    assert_eq "inventory 500: breaker open: the refused order is not stored" 404 \
        "$(http_code GET "$ORDER_URL/orders/open-1")"
}

# After a fault is gone: an open breaker lets one probe through after its
# cool-down, and closes when it succeeds. Orders until then are refused at
# once; one order every 200 ms (ids probe-N) finds the moment it closes.
phase_breaker_closes() { # WAIT_S
    _end=$(($(date +%s) + $1))
    _i=0
    while [ "$(metric "$ORDER_URL" inventory_breaker_state)" != 0 ] && [ "$(date +%s)" -lt "$_end" ]; do
        _i=$((_i + 1))
        http_code POST "$ORDER_URL/order" "$(order_json "probe-$SEED-$_i" burger 1)" >/dev/null
        sleep 0.2
    done
    assert_eq "breaker: closed again once inventory answered a probe (within $1 s)" 0 \
        "$(metric "$ORDER_URL" inventory_breaker_state)"
}

# 4. Inventory slower than the order timeout (injected by the caller): 504 at
# about the timeout, nothing notified.
phase_timeout() { # TIMEOUT_MS SLACK_MS
    s0=$(sent)
    reserve_answers >"$OUT_DIR/timeout.reserves-before"
    metric "$INVENTORY_URL" reserve_deadline_expired_total >"$OUT_DIR/timeout.expired-before"
    http_get "$INVENTORY_URL/stock" >"$OUT_DIR/timeout.stock-before.json"
    loadgen_json timeout -n 20 -c 20 --start 3000
    assert_eq "inventory timeout: all 20 orders 504" 20 "$(jget timeout '.status["504"] // 0')"
    p50=$(jget timeout .latency_ms.p50)
    assert_num "inventory timeout: p50 at least the timeout" "$p50" ">=" "$1"
    assert_num "inventory timeout: p50 about the timeout" "$p50" "<=" "$(($1 + $2))"
    assert_eq "inventory timeout: nothing notified" "$s0" "$(sent)"
}

# How many /reserve requests inventory has served, whatever the answer.
reserve_answers() {
    curl -sf --max-time 10 "$INVENTORY_URL/metrics" |
        awk '$1 ~ /^commlab_http_requests_total\{.*route="\/reserve"/ { n += $2 } END { print n + 0 }'
}

# The conditions phase_released waits for.
reserve_answers_at_least() { [ "$(reserve_answers)" -ge "$1" ]; }
release_backlog_empty() { [ "$(metric "$ORDER_URL" release_backlog)" = 0 ]; }
release_backlog_at_least() { [ "$(metric "$ORDER_URL" release_backlog)" -ge "$1" ]; }
notification_backlog_empty() { [ "$(metric "$ORDER_URL" notification_backlog)" = 0 ]; }
none_in() { [ "$(orders_in "$1")" = 0 ]; }

# 4 and 8, once the fault is gone: an order that ended 502/504 holds no stock.
# Inventory may have reserved it anyway (a late or lost answer); the order
# service sends it a release, retried until inventory answers.
phase_released() { # WAIT_S [timeout: stock also as before scenario 4]
    _end=$(($(date +%s) + $1))
    if [ "${2:-}" = timeout ]; then
        # The delayed /reserve calls are still being served after their 504s:
        # wait for them, or the check below could pass before they land.
        _want=$(($(cat "$OUT_DIR/timeout.reserves-before") + 20))
        wait_until $((_end - $(date +%s))) reserve_answers_at_least "$_want"
        assert_num "released: inventory served the 20 late /reserve calls" "$(reserve_answers)" -ge "$_want"
        # Their deadline (the order timeout, sent along) had passed: none reserved.
        assert_eq "released: inventory started none of the 20 late reservations (deadline passed)" \
            "$(($(cat "$OUT_DIR/timeout.expired-before") + 20))" \
            "$(metric "$INVENTORY_URL" reserve_deadline_expired_total)"
    fi
    wait_until $((_end - $(date +%s))) none_held_by_failed
    assert_eq "released: no failed order holds stock (within $1 s)" 0 "$(held_by_failed)"
    wait_until $((_end - $(date +%s))) release_backlog_empty
    assert_eq "released: every release delivered (backlog 0)" 0 "$(metric "$ORDER_URL" release_backlog)"
    if [ "${2:-}" = timeout ]; then
        assert_eq "released: stock as before the timed-out orders" \
            "$(jq -cS . "$OUT_DIR/timeout.stock-before.json")" \
            "$(http_get "$INVENTORY_URL/stock" | jq -cS .)"
        assert_eq "released: the 20 timed-out orders are stored as failed" 20 \
            "$(grep -c '^orders	.*	failed	inventory_timeout$' "$OUT_DIR/held.dump")"
    fi
}

# 5. Out of stock: 409, stock stays at zero, nothing notified.
phase_out_of_stock() {
    s0=$(sent)
    code=$(http_code POST "$ORDER_URL/order" "$(order_json oos-1 truffle-fries 1)")
    assert_eq "out of stock: 409" 409 "$code"
    assert_eq "out of stock: error names it" out_of_stock "$(jq -r .error "$HTTP_BODY_FILE")"
    assert_eq "out of stock: stock stays at zero" 0 "$(http_get "$INVENTORY_URL/stock" | jq -r '.["truffle-fries"]')"
    assert_eq "out of stock: nothing notified" "$s0" "$(sent)"
    assert_eq "out of stock: order stored as rejected" rejected \
        "$(http_get "$ORDER_URL/orders/oos-1" | jq -r .status)"
}

# 6. Bad input: the exact code, a JSON error body, and no state change.
bad() { # DESCRIPTION EXPECTED_CODE EXPECTED_FIELD METHOD PATH [BODY [CONTENT_TYPE]]
    _d=$1 _want=$2 _field=$3
    shift 3
    _m=$1 _p=$2
    shift 2
    _code=$(http_code "$_m" "${bad_base:-$ORDER_URL}$_p" "$@")
    assert_eq "bad input: $_d -> $_want" "$_want" "$_code"
    if ! jq -e '.error | strings' "$HTTP_BODY_FILE" >/dev/null 2>&1; then
        fail "bad input: $_d has a JSON error body"
    elif [ -n "$_field" ]; then
        assert_eq "bad input: $_d names the field" "$_field" "$(jq -r '.field // ""' "$HTTP_BODY_FILE")"
    fi
}

phase_bad_input() {
    before=$(state)
    sent_before=$(sent)
    ok='{"user_id":"u1","items":[{"sku":"burger","qty":1}]}'
    bad "malformed JSON" 400 "" POST /order '{"user_id":"u1","items":[{"sku":'
    bad "not an object" 400 "" POST /order '[1,2,3]'
    bad "user_id of the wrong type" 400 user_id POST /order '{"user_id":42,"items":[{"sku":"burger","qty":1}]}'
    bad "missing user_id" 400 user_id POST /order '{"items":[{"sku":"burger","qty":1}]}'
    bad "missing items" 400 items POST /order '{"user_id":"u1"}'
    bad "empty items" 400 items POST /order '{"user_id":"u1","items":[]}'
    bad "items not an array" 400 items POST /order '{"user_id":"u1","items":"burger"}'
    bad "zero qty" 400 'items[0].qty' POST /order '{"user_id":"u1","items":[{"sku":"burger","qty":0}]}'
    bad "negative qty" 400 'items[0].qty' POST /order '{"user_id":"u1","items":[{"sku":"burger","qty":-3}]}'
    bad "huge qty" 400 'items[0].qty' POST /order '{"user_id":"u1","items":[{"sku":"burger","qty":1000000000000}]}'
    bad "fractional qty" 400 'items[0].qty' POST /order '{"user_id":"u1","items":[{"sku":"burger","qty":1.5}]}'
    bad "qty as a string" 400 'items[0].qty' POST /order '{"user_id":"u1","items":[{"sku":"burger","qty":"1"}]}'
    bad "unknown SKU" 400 'items[1].sku' POST /order '{"user_id":"u1","items":[{"sku":"fries","qty":1},{"sku":"caviar","qty":1}]}'
    bad "user_id too long" 400 user_id POST /order "{\"user_id\":\"$(printf '%070d' 0)\",\"items\":[{\"sku\":\"burger\",\"qty\":1}]}"
    big=$(mktemp)
    head -c 1048576 /dev/zero | tr '\0' 'x' >"$big"
    code=$(curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary @"$big" --max-time 30 "$ORDER_URL/order")
    rm -f "$big"
    assert_eq "bad input: 1 MiB body -> 413" 413 "$code"
    check "bad input: 1 MiB body has a JSON error body" jq -e '.error == "body_too_large"' "$HTTP_BODY_FILE"
    bad "wrong content type" 415 "" POST /order "$ok" text/plain
    bad "wrong method" 405 "" DELETE /order
    bad "GET on /order" 405 "" GET /order
    bad "unknown path" 404 "" POST /orders-please "$ok"
    bad "unknown order id" 404 order_id GET /orders/no-such-order
    # Inventory's /release, which the order service calls: the same rules.
    bad_base=$INVENTORY_URL
    bad "/release: malformed JSON" 400 "" POST /release '{"order_id":'
    bad "/release: missing order_id" 400 order_id POST /release '{}'
    bad "/release: order_id of the wrong type" 400 order_id POST /release '{"order_id":7}'
    bad "/release: wrong method" 405 "" GET /release
    bad_base=
    # Inventory's deadline header (the order service sends its budget in it):
    # a value that is not milliseconds is 400, one already spent is 504, and
    # neither reserves (the state dump below).
    for _v in abc -5 1.5 +7 0x10 99999999999 '12 ms' 86400001; do
        _code=$(curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' -H 'Content-Type: application/json' \
            -H "X-Commlab-Deadline-Ms: $_v" --data "$(order_json dl-bad burger 1)" \
            --max-time 10 "$INVENTORY_URL/reserve")
        assert_eq "bad input: /reserve with deadline '$_v' -> 400 bad_deadline" "400 bad_deadline" \
            "$_code $(jq -r .error "$HTTP_BODY_FILE" 2>/dev/null)"
    done
    _code=$(curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-Commlab-Deadline-Ms: 5000" -H "X-Commlab-Deadline-Ms: 0" \
        --data "$(order_json dl-twice burger 1)" --max-time 10 "$INVENTORY_URL/reserve")
    assert_eq "bad input: /reserve with the deadline given twice -> 400 bad_deadline" \
        "400 bad_deadline" "$_code $(jq -r .error "$HTTP_BODY_FILE" 2>/dev/null)"
    _code=$(curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-Commlab-Deadline-Ms: 0" --data "$(order_json dl-spent burger 1)" \
        --max-time 10 "$INVENTORY_URL/reserve")
    assert_eq "bad input: /reserve whose deadline is spent -> 504 deadline_exceeded" \
        "504 deadline_exceeded" "$_code $(jq -r .error "$HTTP_BODY_FILE" 2>/dev/null)"
    # The whole class: every hostile JSON case at every endpoint and field.
    sh "$here/hostile-json.sh" http order inventory notification
    assert_eq "bad input: state dump unchanged" "$before" "$(state)"
    assert_eq "bad input: nothing notified" "$sent_before" "$(sent)"
}

# 7. Idempotency at each service, and of POST /order with a client order_id.
phase_idempotency() {
    burger() { http_get "$INVENTORY_URL/stock" | jq -r .burger; }
    b0=$(burger)
    body='{"order_id":"idem-reserve-1","items":[{"sku":"burger","qty":2}]}'
    c1=$(http_code POST "$INVENTORY_URL/reserve" "$body")
    a1=$(cat "$HTTP_BODY_FILE")
    c2=$(http_code POST "$INVENTORY_URL/reserve" "$body")
    a2=$(cat "$HTTP_BODY_FILE")
    assert_eq "idempotency: first /reserve answers 200" 200 "$c1"
    assert_eq "idempotency: repeated /reserve answers 200" 200 "$c2"
    assert_eq "idempotency: repeated /reserve gets the first answer" "$a1" "$a2"
    assert_eq "idempotency: stock moved once" $((b0 - 2)) "$(burger)"

    s0=$(sent)
    d0=$(metric "$NOTIFICATION_URL" send_duplicates_total)
    body='{"order_id":"idem-send-1","user_id":"u7","items":[{"sku":"soda","qty":1}]}'
    assert_eq "idempotency: first /send answers 200" 200 "$(http_code POST "$NOTIFICATION_URL/send" "$body")"
    assert_eq "idempotency: repeated /send answers 200" 200 "$(http_code POST "$NOTIFICATION_URL/send" "$body")"
    assert_eq "idempotency: one notification recorded" $((s0 + 1)) "$(sent)"
    assert_eq "idempotency: the repeat counted as duplicate" $((d0 + 1)) \
        "$(metric "$NOTIFICATION_URL" send_duplicates_total)"
    assert_eq "idempotency: dump holds idem-send-1 once" 1 \
        "$(http_get "$NOTIFICATION_URL/dump" | grep -c "	idem-send-1	")"

    b0=$(burger)
    body=$(order_json idem-order-1 burger 1)
    assert_eq "idempotency: POST /order with a new order_id -> 201" 201 "$(http_code POST "$ORDER_URL/order" "$body")"
    assert_eq "idempotency: the same order_id again -> 200 (stored order)" 200 "$(http_code POST "$ORDER_URL/order" "$body")"
    assert_eq "idempotency: the stored order is confirmed" confirmed "$(jq -r .status "$HTTP_BODY_FILE")"
    assert_eq "idempotency: stock moved once for the repeated order" $((b0 - 1)) "$(burger)"
}

# 8. Inventory killed during load. kill_start starts an open-loop run in the
# background; the caller kills inventory, waits, restarts it; kill_finish
# checks that orders failed cleanly meanwhile and succeed again after.
phase_kill_start() { # RATE SECONDS
    open_loop_start kill "$1" "$2" 4000
}

phase_kill_finish() {
    open_loop_wait kill
    ok=$(jget kill '.status["201"] // 0')
    down=$(jget kill '(.status["502"] // 0) + (.status["503"] // 0) + (.status["504"] // 0)')
    total=$(jget kill .requests)
    assert_num "kill: some orders succeeded around the outage" "$ok" ">" 0
    assert_num "kill: orders failed (502, 504, then 503 once the breaker opened) while inventory was down" "$down" ">" 0
    assert_eq "kill: every answer was 201, 502, 503 or 504" "$total" "$((ok + down))"
    phase_breaker_closes 10
    loadgen_json after-kill -n 50 -c 5 --start 5000
    assert_eq "kill: 50 orders after the restart all 201" 50 "$(jget after-kill '.status["201"] // 0')"
}

# 9. Releases are durable. With inventory down (the caller killed it), orders
# fail with 502 and their releases wait in the order service's outbox; the
# caller then kills the order service (-9) and restarts both.
phase_release_crash_start() {
    _n=0
    for _i in 1 2 3 4 5; do
        _c=$(http_code POST "$ORDER_URL/order" "$(order_json "crash-release-$_i" soda 1)")
        # 502 when the refusal is quick (a killed process), 504 when the host is gone.
        case $_c in 502 | 504) _n=$((_n + 1)) ;; esac
    done
    assert_eq "release crash: 5 orders 502/504 with inventory down" 5 "$_n"
    # A delivery attempt to a host that is gone takes the whole timeout.
    wait_until 20 release_backlog_at_least 5
    assert_eq "release crash: their 5 releases wait in the outbox" 5 \
        "$(metric "$ORDER_URL" release_backlog)"
}

phase_release_crash_finish() { # WAIT_S
    _end=$(($(date +%s) + $1))
    while :; do
        _got=$(http_get "$INVENTORY_URL/dump" |
            grep -c '^reservations	crash-release-[1-5]	released		released_before_reserve$')
        [ "$_got" = 5 ] || [ "$(date +%s)" -ge "$_end" ] && break
        sleep 0.5
    done
    assert_eq "release crash: all 5 releases reached inventory after both restarts" 5 "$_got"
    assert_eq "release crash: the 5 orders stay failed" 5 "$(http_get "$ORDER_URL/dump" |
        grep -cE '^orders	crash-release-[1-5]	.*	failed	inventory_(unavailable|timeout)$')"
}

# Per SKU, stock + what reservations hold: constant whatever crashes.
stock_plus_held() {
    http_get "$INVENTORY_URL/dump" | awk -F'\t' '$1 == "stock" { s[$2] += $3 }
        $1 == "reservations" && $3 == "reserved" {
            n = split($4, it, ","); for (i = 1; i <= n; i++) { split(it[i], kv, ":"); s[kv[1]] += kv[2] } }
        END { for (k in s) print k "=" s[k] }' | sort | tr '\n' ' '
}

# 10. Orders in flight when the order service is killed -9 end final. The
# caller injects an inventory delay (so that orders are in flight), runs
# pending-crash-start, then pending-crash-inflight (five orders with known
# ids, left in flight), kills the order service at once and restarts it.
phase_pending_crash_start() { # RATE SECONDS
    stock_plus_held >"$OUT_DIR/pending-crash.stock-before"
    open_loop_start pending-crash "$1" "$2" 6000
}

phase_pending_crash_inflight() {
    : >"$OUT_DIR/pending-crash.curls"
    for _i in 1 2 3 4 5; do
        curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST -H 'Content-Type: application/json' \
            --data "$(order_json "crash-pending-$_i" burger 1)" "$ORDER_URL/order" \
            >"$OUT_DIR/pending-crash.$_i.code" 2>/dev/null &
        echo $! >>"$OUT_DIR/pending-crash.curls"
    done
    sleep 0.2
}

phase_pending_crash_finish() { # WAIT_S
    open_loop_wait pending-crash
    # A request to a crashed host ends only at its --max-time.
    for _pid in $(cat "$OUT_DIR/pending-crash.curls"); do
        wait_gone "$_pid"
    done
    _end=$(($(date +%s) + $1))
    wait_until "$1" none_in pending
    assert_eq "pending crash: no order left pending (within $1 s)" 0 "$(orders_in pending)"
    assert_num "pending crash: the restarted service drove orders on" \
        "$(metric "$ORDER_URL" orders_recovered_total)" ">" 0
    _inflight=0 _final=0
    for _i in 1 2 3 4 5; do
        # 000: no answer, the order service died while the order was in flight.
        [ "$(cat "$OUT_DIR/pending-crash.$_i.code")" = 000 ] || continue
        _inflight=$((_inflight + 1))
        _c=$(http_code POST "$ORDER_URL/order" "$(order_json "crash-pending-$_i" burger 1)")
        _s=$(jq -r .status "$HTTP_BODY_FILE")
        # 200: the stored order; 201: it was not stored yet when the service died.
        case $_c.$_s in 20[01].confirmed | 200.failed | 200.rejected) _final=$((_final + 1)) ;;
        *) echo "# crash-pending-$_i: retry answered $_c, status $_s" ;;
        esac
    done
    assert_num "pending crash: known orders were in flight at the kill" "$_inflight" ">" 0
    assert_eq "pending crash: a retry of each in-flight order gets its final state" "$_inflight" "$_final"
    wait_until $((_end - $(date +%s))) none_held_by_unconfirmed
    assert_eq "pending crash: no order but a confirmed one holds stock" 0 "$(held_by_unconfirmed)"
    assert_eq "pending crash: per SKU, stock + held unchanged" \
        "$(cat "$OUT_DIR/pending-crash.stock-before")" "$(stock_plus_held)"
    assert_num "pending crash: the client saw orders confirmed" \
        "$(jget pending-crash '.status["201"] // 0')" ">" 0
}

# 11. Notifications are delivered at least once, exactly once in effect: the
# caller kills notification -9 during notify-kill-start's load and restarts
# it; every confirmed order ends notified once, and its status says so.
phase_notify_kill_start() { # RATE SECONDS
    open_loop_start notify-kill "$1" "$2" 7000
}

phase_notify_kill_finish() { # WAIT_S
    open_loop_wait notify-kill
    assert_eq "notify kill: every order answered 201" "$(jget notify-kill .requests)" \
        "$(jget notify-kill '.status["201"] // 0')"
    wait_until "$1" notification_backlog_empty
    assert_eq "notify kill: every notification delivered (backlog 0, within $1 s)" 0 \
        "$(metric "$ORDER_URL" notification_backlog)"
    assert_num "notify kill: notifications were delivered late, by the relay" \
        "$(metric "$ORDER_URL" notification_delivered_total)" ">" 0
    { http_get "$ORDER_URL/dump" && http_get "$NOTIFICATION_URL/dump"; } >"$OUT_DIR/notify-kill.dump"
    # confirmed orders, their notifications (each order_id once), orders notified.
    awk -F'\t' '$1 == "orders" && $6 == "confirmed" { c[$2] = 1; nc++; if ($7 == "notified") d++ }
        $1 == "notifications" { m[$2]++ }
        END { for (k in c) { n += (k in m); x += (k in m) && m[k] != 1 } print nc + 0, n + 0, d + 0, x + 0 }' \
        "$OUT_DIR/notify-kill.dump" >"$OUT_DIR/notify-kill.counts"
    read -r _c _n _d _x <"$OUT_DIR/notify-kill.counts"
    assert_eq "notify kill: every confirmed order notified (count at notification)" "$_c" "$_n"
    assert_eq "notify kill: no order notified twice" 0 "$_x"
    assert_eq "notify kill: every confirmed order's status says notified" "$_c" "$_d"
}

# 12. The order host cut off from inventory (a network partition, hosts mode
# or VMs) during open-loop load; the caller cuts and heals. Orders fail with
# 504 (or 502, or 503 once a breaker opens) while cut, 201 again after, and
# every failed order's stock comes back through its release.
phase_partition_start() { # RATE SECONDS
    open_loop_start partition "$1" "$2" 10000
}

phase_partition_finish() { # WAIT_S
    open_loop_wait partition
    ok=$(jget partition '.status["201"] // 0')
    cut=$(jget partition '(.status["502"] // 0) + (.status["503"] // 0) + (.status["504"] // 0)')
    total=$(jget partition .requests)
    assert_num "partition: orders succeeded before the cut and after the heal" "$ok" ">" 0
    assert_num "partition: orders failed (502/503/504) while cut off from inventory" "$cut" ">" 0
    assert_eq "partition: every answer was 201, 502, 503 or 504" "$total" "$((ok + cut))"
    phase_released "$1"
    assert_eq "partition: no order left pending" 0 \
        "$(http_get "$ORDER_URL/dump" | awk -F'\t' '$1 == "orders" && $6 == "pending"' | wc -l | tr -d ' ')"
    loadgen_json after-partition -n 50 -c 5 --start 9000
    assert_eq "partition: 50 orders after the heal all 201" 50 "$(jget after-partition '.status["201"] // 0')"
}

scenario_dispatch sync-rest.sh "baseline bad-input idempotency out-of-stock delay fail500 \
    breaker-closes timeout released kill-start kill-finish release-crash-start release-crash-finish \
    pending-crash-start pending-crash-inflight pending-crash-finish notify-kill-start \
    notify-kill-finish partition-start partition-finish" "$@"
