#!/bin/sh
# Part C in the local lab: starts Kafka (librdkafka's mock cluster, 3 brokers
# in its own process; or a real single-node KRaft broker, see lib/kafka.sh), order (stream mode), inventory (kafka mode) and analytics,
# runs every scenario phase, and does the stops, offset resets, kill -9s and
# restarts between them. Writes phase output to $OUT_DIR, and results/ files
# when RESULTS_DIR is set.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
. "$LIB/kafka.sh"
S="$here/../scenarios/streaming-kafka.sh"

N=10000
# Lag above this while a consumer is slowed (a tenth of the burst).
LAG_THRESHOLD=1000
# Analytics is throttled to 1 ms per event; inventory is paused.
AN_SLOW='{"throttle_ms":1}'
INV_SLOW='{"paused":true}'
KILLS=${KILLS:-4}

lab_init || exit 1
for b in commlab-kafka commlab-analytics; do
    [ -x "$COMMLAB_BIN/$b" ] || { echo "lab: $COMMLAB_BIN/$b is missing: build first" >&2; exit 1; }
done
: "${OUT_DIR:=$LAB_DIR/out}"
export OUT_DIR
kafka_start || exit 1
start_inventory() { # NAME
    lab_start "$1" commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS"
}
start_analytics() { # [--rebuild]
    lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
        --metrics-file "$LAB_DIR/metrics.json" "$@"
}
start_inventory inventory &&
    start_analytics &&
    lab_start order commlab-order --quiet --mode stream --kafka-brokers "$KAFKA_BROKERS" ||
    exit 1
ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) ANALYTICS_URL=$(lab_url analytics)
export ORDER_URL INVENTORY_URL ANALYTICS_URL

echo "# streaming-kafka: local lab in $LAB_DIR, ${KAFKA_KIND:-mock} Kafka at $KAFKA_BROKERS"
# Expected distinct orders after each phase (event ranges of seed $SEED).
sh "$S" produce "$N" 0 "$N"
sh "$S" order-api 20 100000 $((N + 20))
sh "$S" dup-malformed $((N + 70))
sh "$S" kcat-read
sh "$S" lag name=analytics group=analytics-consumer-group:order-events,inventory-events \
    url="$ANALYTICS_URL" control="$AN_SLOW" events="$N" start=30000 threshold="$LAG_THRESHOLD" \
    orders=$((2 * N + 70))
sh "$S" lag name=inventory group=inventory-consumer-group:order-events \
    url="$INVENTORY_URL" control="$INV_SLOW" events="$N" start=40000 threshold="$LAG_THRESHOLD" \
    orders=$((3 * N + 70))

# 3. Replay: stop analytics, reset its offsets, rebuild from the log.
sh "$S" replay-before
lab_kill analytics TERM
sh "$S" replay-reset
start_analytics --rebuild || fail "replay: analytics restarted"
ANALYTICS_URL=$(lab_url analytics)
export ANALYTICS_URL
ref=
[ -n "${RESULTS_DIR:-}" ] && [ -f "$RESULTS_DIR/streaming-kafka.metrics.json" ] &&
    ref=$RESULTS_DIR/streaming-kafka.metrics.json
sh "$S" replay-after $ref
# The same replay read by assignment from the start of the log, as one
# process into a fresh database (no reset, no group join).
check "replay: --rebuild --until-end exits 0 at the end of the log" \
    "$COMMLAB_BIN/commlab-analytics" --quiet --kafka-brokers "$KAFKA_BROKERS" --listen 127.0.0.1:0 \
    --db "$LAB_DIR/until-end.db" --metrics-file "$OUT_DIR/replay-until-end.json" --rebuild --until-end
check "replay: --until-end metrics equal the service's (cmp)" \
    cmp "$OUT_DIR/replay-before.json" "$OUT_DIR/replay-until-end.json"

# 4. kill -9: a fresh inventory re-processes the whole topic from earliest
# and is killed with SIGKILL at random moments, restarted each time.
sh "$S" crash-reference
lab_kill inventory TERM
sh "$S" crash-reset
start_inventory inventory-fresh || fail "crash: fresh inventory started"
INVENTORY_URL=$(lab_url inventory-fresh)
export INVENTORY_URL
# Kill k waits until the lag has fallen below a random point of its slice of
# the backlog (so every kill lands mid-stream, while batches are in flight),
# then a random 0..150 ms more.
total=$(kafka_lag inventory-consumer-group:order-events)
i=0
: >"$OUT_DIR/crash-kills.txt"
while [ $i -lt "$KILLS" ]; do
    target=$(awk -v s="$$$i" -v t="$total" -v k="$i" -v n="$KILLS" \
        'BEGIN { srand(s); printf "%d", t * (n - k - rand()) / (n + 1) }')
    end=$(($(date +%s) + 60))
    while lag=$(kafka_lag inventory-consumer-group:order-events) &&
        [ "$lag" -gt "$target" ] && [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.05
    done
    sleep "$(awk -v s="$$$i" 'BEGIN { srand(s + 7); printf "%.3f", rand() * 0.15 }')"
    echo "kill $((i + 1)): SIGKILL at inventory lag $lag (target below $target)" >>"$OUT_DIR/crash-kills.txt"
    lab_kill inventory-fresh KILL
    lab_restart inventory-fresh || fail "crash: inventory restarted after kill $((i + 1))"
    i=$((i + 1))
done
sh "$S" crash-finish

# Relay outage: the mock paused with SIGSTOP (a real broker is left alone).
if [ "${KAFKA_KIND:-mock}" = mock ]; then
    kpid=$(cat "$LAB_DIR/kafka-mock.pidfile")
    kill -STOP "$kpid"
    sh "$S" relay-accept 50 300000
    t0=$(date +%s)
    lab_kill order TERM
    t1=$(date +%s)
    kill -CONT "$kpid"
    assert_num "relay outage: order service stopped within 15 s of SIGTERM" $((t1 - t0)) "<=" 15
    lab_restart order || fail "relay outage: order service restarted"
    ORDER_URL=$(lab_url order)
    export ORDER_URL
    sh "$S" relay-check 50
fi

# The benchmark's relay ceiling moves exactly what it says, onto topics of its
# own (nothing in the lab reads them), with and without transactions.
kafka_relay() { # TO ARGS...: messages relayed (timed), then the target's size
    _to=$1
    shift
    "$COMMLAB_BIN/loadgen" kafka relay --brokers "$KAFKA_BROKERS" --to "$_to" --json "$@" | jq -r .messages
    kcat -C -b "$KAFKA_BROKERS" -t "$_to" -o beginning -e -q -f '.\n' | wc -l
}
assert_eq "bench tools: kafka relay moves 300 in transactions, target holds 300" "300 300" \
    "$(kafka_relay bench.tools-txn --count 300 | tr '\n' ' ' | sed 's/ $//')"
assert_eq "bench tools: kafka relay --plain after 100 untimed moves 200, target holds 300" "200 300" \
    "$(kafka_relay bench.tools-plain --warmup 100 --count 200 --plain | tr '\n' ' ' | sed 's/ $//')"

# 7. Poison messages between valid events: nothing stalls.
sh "$S" poison 500000
sh "$S" conflicts
sh "$S" store-fault 510000 "$LAB_DIR/inventory-fresh.db" "$LAB_DIR/analytics.db"
sh "$S" store-busy 520000 "$LAB_DIR/inventory-fresh.db" "$LAB_DIR/analytics.db"

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
if [ -n "${RESULTS_DIR:-}" ]; then
    sh "$here/../report/streaming-kafka.sh" "$OUT_DIR" "$RESULTS_DIR" "$LAG_THRESHOLD"
fi
