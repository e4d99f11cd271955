#!/bin/sh
# Part B benchmark (not a test: it asserts nothing about speed). In one run on
# one broker it measures
#   noop_rate   raw consume rate of a no-op consumer (ack only) over a 100k backlog
#   relay_rate  consume + republish with confirms + ack, no other work, with
#               inventory's shape: each message routed to two quorum queues
#               (its outcome goes to notification's and order's), prefetch
#               1024, settled in batches of up to 512: the broker's ceiling
#               for exactly inventory's traffic
#   drain_rate  the inventory consumer draining a 100k OrderPlaced backlog
#               (reserve + processed id + outbox in one transaction per batch,
#               outcomes published by its relay meanwhile)
#   e2e_rate    orders accepted (POST /order, 202) -> notified, closed loop
# and reports drain_rate/relay_rate (bound 0.6) and e2e_rate/relay_rate, plus
# the inventory consumer's RSS with an empty queue and at most during the
# 100k backlog (bound: flat within 2 MiB).
# Writes results/bench-async-rabbitmq.json (RESULTS_DIR, default results/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
. "$LIB/rabbitmq.sh"
. "$LIB/bench.sh"
: "${BACKLOG:=100000}" "${E2E_ORDERS:=20000}" "${RESULTS_DIR:=$COMMLAB_ROOT/results}"

lab_init || exit 1
rabbitmq_start || exit 1
L="$COMMLAB_BIN/loadgen"
lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
    lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
    lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" || exit 1
O=$(lab_url order) I=$(lab_url inventory) N=$(lab_url notification)
depth() { "$L" amqp depth --url "$AMQP_URL" --queue "${1:-inventory.order-placed}" | cut -d' ' -f1; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$(lab_pid inventory)/status"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_empty() {
    while [ "$(depth inventory.order-placed)" != 0 ] || [ "$(depth notification.inventory-reserved)" != 0 ] ||
        [ "$(depth order.inventory-outcome)" != 0 ] || [ "$(metric "$I" outbox_backlog)" != 0 ]; do sleep 0.2; done
}

echo "# bench-async-rabbitmq: $BACKLOG-message backlogs on RabbitMQ $RMQ_NODE"
"$L" amqp publish --url "$AMQP_URL" --queue bench.noop -n "$BACKLOG" --json >/dev/null
noop=$("$L" amqp noop --url "$AMQP_URL" --queue bench.noop --batch 512 --json | jq ".rate_per_s * 10 | round / 10")
echo "noop consumer: $noop msg/s"
# The ceiling of inventory's shape: consume, republish (persistent, confirmed)
# through an exchange into two quorum queues, ack, no work of its own.
"$L" amqp publish --url "$AMQP_URL" --queue bench.noop -n "$BACKLOG" --json >/dev/null
relay=$("$L" amqp relay --url "$AMQP_URL" --queue bench.noop --to bench.relay-out --fanout 2 \
    --batch 512 --json | jq ".rate_per_s * 10 | round / 10")
for q in bench.relay-out bench.relay-out.2; do
    "$L" amqp noop --url "$AMQP_URL" --queue $q --batch 512 --json >/dev/null
done
echo "relay ceiling (fan-out 2): $relay msg/s"

# Warm-up: the inventory's page cache and buffers reach their working size.
"$L" amqp publish --url "$AMQP_URL" -n 20000 --start 1000000 --json >/dev/null
wait_empty
rss_empty=$(rss_kib)

# The backlog: inventory paused (SIGSTOP) while BACKLOG events are published.
kill -STOP "$(lab_pid inventory)"
"$L" amqp publish --url "$AMQP_URL" -n "$BACKLOG" --start 2000000 --json >/dev/null
peak=$(depth)
sched0=$(bench_sched inventory)
t0=$(now_ms)
kill -CONT "$(lab_pid inventory)"
rss_max=$rss_empty
while [ "$(depth)" != 0 ]; do
    r=$(rss_kib)
    [ "$r" -gt "$rss_max" ] && rss_max=$r
    sleep 0.1
done
t1=$(now_ms)
# Inventory's threads during the drain: on a CPU, and runnable but waiting.
sched_drain=$(echo "$sched0 $(bench_sched inventory)" | awk '{ printf "{\"cpu_ms\":%d,\"runqueue_wait_ms\":%d}", $3 - $1, $4 - $2 }')
drain=$(awk -v n="$peak" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", n / (ms / 1000) }')
echo "drain: $peak messages in $((t1 - t0)) ms = $drain msg/s; RSS $rss_empty KiB empty, $rss_max KiB max; inventory $sched_drain"
wait_empty

s0=$(metric "$N" notifications_sent_total)
t0=$(now_ms)
"$L" rest --url "$O" -n "$E2E_ORDERS" -c 32 --start 3000000 --json --quiet >"$LAB_DIR/e2e.json"
while [ "$(metric "$N" notifications_sent_total)" -lt $((s0 + E2E_ORDERS)) ]; do sleep 0.1; done
t1=$(now_ms)
e2e=$(awk -v n="$E2E_ORDERS" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", n / (ms / 1000) }')
echo "end to end: $E2E_ORDERS orders accepted -> notified in $((t1 - t0)) ms = $e2e orders/s"

mkdir -p "$RESULTS_DIR"
jq -n --argjson noop "$noop" --argjson relay "$relay" --argjson drain "$drain" --argjson e2e "$e2e" --argjson backlog "$peak" \
    --argjson rss0 "$rss_empty" --argjson rss1 "$rss_max" --argjson cores "$(nproc)" \
    --argjson sched "$sched_drain" --argjson load "$(cut -d' ' -f1 /proc/loadavg)" '
    # Ratios rounded down, shortfalls up: a rounded figure never meets a bound
    # the measured one missed.
    def r3: . * 1000 | floor / 1000;
    def up3: . * 1000 | ceil / 1000;
    {
    model: "async-rabbitmq", cores: $cores, backlog: $backlog,
    noop_consume_rate: $noop,
    relay_ceiling: { rate: $relay, shape: "consume, republish with confirms to 2 quorum queues, ack; prefetch 1024, batches of up to 512",
                     over_noop: ($relay / $noop | r3) },
    drain: { rate: $drain, over_ceiling: ($drain / $relay | r3), bound: 0.6, met: ($drain / $relay >= 0.6),
             missed_by: (if $drain / $relay >= 0.6 then 0 else (0.6 - $drain / $relay | up3) end),
             over_noop: ($drain / $noop | r3),
             inventory_sched: ($sched + { what: "threads of inventory, /proc/PID/task/*/schedstat: on a CPU, and runnable but waiting for one" }) },
    load_average_1min: $load,
    end_to_end: { rate: $e2e, what: "orders accepted (POST /order, 202) -> notified, closed loop",
                  over_ceiling: ($e2e / $relay | r3), bound: "reported" },
    inventory_rss_kib: {empty_queue: $rss0, max_during_backlog: $rss1, growth: ($rss1 - $rss0),
                        bound: 2048, met: (($rss1 - $rss0) <= 2048)}
}' | tee "$RESULTS_DIR/bench-async-rabbitmq.json"
