#!/bin/sh
# Part B in the local lab: a private RabbitMQ node, the async services as
# processes, and a reference stack (same binaries, own vhost "ref") that gets
# the same orders without any fault; runs every scenario phase and does the
# kills and restarts between them. Writes phase files to $OUT_DIR, and
# results/ files when RESULTS_DIR is set.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
. "$LIB/rabbitmq.sh"
S="$here/../scenarios/async-rabbitmq.sh"

BASELINE_ORDERS=500
# Scenario 2: orders per second while inventory is down for OUTAGE_S seconds.
BACKLOG_RATE=100
OUTAGE_S=${OUTAGE_S:-60}
# Scenarios 5 and 6.
BROKER_RATE=100
BROKER_S=20
KILL_RATE=200
KILL_S=20
KILLS=4

lab_init || exit 1
rabbitmq_start || exit 1
: "${OUT_DIR:=$LAB_DIR/out}"
LOADGEN="$COMMLAB_BIN/loadgen"
export OUT_DIR LOADGEN
mkdir -p "$OUT_DIR"

rabbitmqctl_lab add_vhost ref >/dev/null &&
    rabbitmqctl_lab set_permissions -p ref guest '.*' '.*' '.*' >/dev/null ||
    { fail "rabbitmq: vhost ref for the reference stack"; exit 1; }
REF_AMQP_URL="$AMQP_URL/ref"

start_stack() { # SUFFIX AMQP_URL
    lab_start "inventory$1" commlab-inventory --quiet --mode amqp --amqp-url "$2" &&
        lab_start "notification$1" commlab-notification --quiet --mode amqp --amqp-url "$2" &&
        lab_start "order$1" commlab-order --quiet --mode async --amqp-url "$2"
}
start_stack "" "$AMQP_URL" || { fail "lab: async stack started"; exit 1; }
start_stack -ref "$REF_AMQP_URL" || { fail "lab: reference stack started"; exit 1; }
ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
REF_ORDER_URL=$(lab_url order-ref) REF_INVENTORY_URL=$(lab_url inventory-ref)
REF_NOTIFICATION_URL=$(lab_url notification-ref)
export AMQP_URL REF_AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL \
    REF_ORDER_URL REF_INVENTORY_URL REF_NOTIFICATION_URL
now_ms() { echo $(($(date +%s%N) / 1000000)); }

echo "# async-rabbitmq: local lab in $LAB_DIR (RabbitMQ $RMQ_NODE on port $RMQ_PORT)"
sh "$S" baseline "$BASELINE_ORDERS"
# The deterministic state for the seed: the reference stack after the baseline.
state_dump "$REF_ORDER_URL" "$REF_INVENTORY_URL" "$REF_NOTIFICATION_URL" >"$OUT_DIR/reference.state.txt"

# 2. Inventory SIGKILLed for OUTAGE_S seconds while orders keep coming.
sh "$S" backlog-start "$BACKLOG_RATE" $((OUTAGE_S + 10)) 10000
sleep 3
lab_kill inventory KILL
sleep "$OUTAGE_S"
lab_restart inventory || fail "backlog: inventory restarted"
now_ms >"$OUT_DIR/backlog.restart_ms"
sh "$S" backlog-finish

sh "$S" idempotency
sh "$S" poison

# 5. RabbitMQ stopped and started (same node, same data) mid-run.
sh "$S" broker-start "$BROKER_RATE" "$BROKER_S" 30000
sleep 5
rabbitmq_stop
sleep 5
rabbitmq_start || fail "broker: RabbitMQ restarted"
sh "$S" broker-finish

# 6. Inventory SIGKILLed at random moments (restarted at once each time).
sh "$S" kill-start "$KILL_RATE" "$KILL_S" 40000
for _k in $(seq 1 "$KILLS"); do
    # 0.5 to 3.5 s apart: during a batch, a commit, a publish, an ack.
    sleep "$(awk -v s="$(date +%N)$_k" 'BEGIN { srand(s); printf "%.2f", 0.5 + 3 * rand() }')"
    lab_kill inventory KILL
    lab_restart inventory || fail "kill: inventory restarted ($_k)"
done
sh "$S" kill-finish

# Hostile properties, conflicts and wrong types (own scenario file), then
# inventory's stop on SIGTERM while its fault mode hangs a batch.
HOSTILE="$COMMLAB_BIN/tests/amqp-hostile" sh "$here/../scenarios/amqp-hostile.sh" hostile
sh "$here/../scenarios/amqp-hostile.sh" conflicts
alive() { _s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$_s" ] && [ "${_s#Z}" = "$_s" ]; }
http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"hang"}' >/dev/null
assert_eq "hang stop: an order placed while inventory hangs" 202 \
    "$(http_code POST "$ORDER_URL/order" '{"order_id":"hang-stop-1","user_id":"u1","items":[{"sku":"soda","qty":1}]}')"
sleep 2
_pid=$(lab_pid inventory)
kill -TERM "$_pid"
_w=0
while alive "$_pid" && [ $_w -lt 50 ]; do sleep 0.1; _w=$((_w + 1)); done
check "hang stop: inventory exited within 5 s of SIGTERM while hanging" test "$_w" -lt 50
lab_kill inventory KILL
lab_restart inventory || fail "hang stop: inventory restarted"
_w=0
while [ "$(http_get "$ORDER_URL/orders/hang-stop-1" | jq -r .status)" != confirmed ] && [ $_w -lt 100 ]; do
    sleep 0.2
    _w=$((_w + 1))
done
assert_eq "hang stop: the order was processed after the restart" confirmed \
    "$(http_get "$ORDER_URL/orders/hang-stop-1" | jq -r .status)"

# Releases belong to the REST chain; the benchmark's yardsticks move exactly
# what they say (the same phases plans/async-rabbitmq.json runs).
sh "$here/../scenarios/amqp-local.sh" release-refused
sh "$here/../scenarios/amqp-local.sh" bench-tools

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
if [ -n "${RESULTS_DIR:-}" ]; then
    sh "$here/../report/async-rabbitmq.sh" "$OUT_DIR" "$RESULTS_DIR"
fi
