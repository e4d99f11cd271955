#!/bin/sh
# Checks of the async stack only a process lab makes (local_only steps of
# plans/async-rabbitmq.json), one phase per call:
#   hang-stop-order     an order placed while inventory's fault mode hangs (202)
#   hang-stop-finish STOP_MS
#                       inventory exited within 5 s of SIGTERM while hanging
#                       (the plan timed its stop: STOP_MS); after its start
#                       the order was processed
#   release-refused     inventory in amqp mode refuses /release (409): releases
#                       belong to the REST chain
#   bench-tools         the benchmark's yardsticks (loadgen amqp publish,
#                       relay, noop) move exactly what they say, on queues of
#                       their own
# Environment: ORDER_URL, INVENTORY_URL, AMQP_URL, OUT_DIR, LOADGEN.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
: "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
mkdir -p "$OUT_DIR"

phase_hang_stop_order() {
    assert_eq "hang stop: an order placed while inventory hangs" 202 \
        "$(http_code POST "$ORDER_URL/order" '{"order_id":"hang-stop-1","user_id":"u1","items":[{"sku":"soda","qty":1}]}')"
}

confirmed() { [ "$(http_get "$ORDER_URL/orders/hang-stop-1" | jq -r .status)" = confirmed ]; }

phase_hang_stop_finish() { # STOP_MS
    assert_num "hang stop: inventory exited within 5 s of SIGTERM while hanging (ms)" "$1" "<" 5000
    wait_until 20 confirmed
    assert_eq "hang stop: the order was processed after the restart" confirmed \
        "$(http_get "$ORDER_URL/orders/hang-stop-1" | jq -r .status)"
}

phase_release_refused() {
    assert_eq "release: inventory in amqp mode refuses /release (409)" 409 \
        "$(http_code POST "$INVENTORY_URL/release" '{"order_id":"any-order"}')"
}

amqp_count() { "$LOADGEN" amqp "$@" --url "$AMQP_URL" --batch 64 --json | jq -r .messages; }
amqp_depth() { "$LOADGEN" amqp depth --url "$AMQP_URL" --queue "$1" | cut -d' ' -f1; }

phase_bench_tools() {
    assert_eq "bench tools: publish confirms 300 events" 300 \
        "$(amqp_count publish --queue bench.tools -n 300 --start 90000000)"
    assert_eq "bench tools: relay republishes all 300" 300 \
        "$(amqp_count relay --queue bench.tools --to bench.tools-out --fanout 2)"
    assert_eq "bench tools: relay left its source empty" 0 "$(amqp_depth bench.tools)"
    assert_eq "bench tools: relay's first target holds the 300" 300 "$(amqp_depth bench.tools-out)"
    assert_eq "bench tools: relay's second target (fan-out 2) holds the 300" 300 "$(amqp_depth bench.tools-out.2)"
    assert_eq "bench tools: noop consumes the 300" 300 "$(amqp_count noop --queue bench.tools-out)"
    assert_eq "bench tools: noop left the queue empty" 0 "$(amqp_depth bench.tools-out)"
    assert_eq "bench tools: noop consumes the fan-out copy" 300 "$(amqp_count noop --queue bench.tools-out.2)"
}

scenario_dispatch amqp-local.sh "hang-stop-order hang-stop-finish release-refused bench-tools" "$@"
