#!/bin/sh
# Faults across hosts and brokers in the local lab, the phases the VM tests
# run on their nodes:
#   kafka   the mock cluster's broker 1 goes down mid-stream and its partitions'
#           leadership moves to broker 2, then it comes back (no root needed)
#   rest    (hosts mode) the order host cut off from inventory under open-loop load
#   amqp    (hosts mode) the inventory host cut off from RabbitMQ for $AMQP_CUT_S s
#   cluster (hosts mode) RabbitMQ on three nodes: one crashes and comes back;
#           one is partitioned from the other two and healed
# Hosts mode needs root: without it those parts are skipped, with a line
# that says so. Usage: faults.sh [kafka] [rest] [amqp] [cluster]   (default: all)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
. "$LIB/kafka.sh"
. "$LIB/rabbitmq.sh"
. "$LIB/hosts.sh"
. "$LIB/faults.sh"
case "${1:-}" in -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
parts=${*:-kafka rest amqp cluster}
: "${AMQP_CUT_S:=60}"
N=10000

lab_init || exit 1
: "${OUT_DIR:=$LAB_DIR/out}"
LOADGEN="$COMMLAB_BIN/loadgen"
export OUT_DIR LOADGEN
mkdir -p "$OUT_DIR"

# Time series for results/: sample_start FILE CMD... appends "seconds value"
# every SAMPLE_S (0.5) until sample_stop; mark FILE WHAT notes an event.
now_s() { awk -v t="$(date +%s%N)" 'BEGIN { printf "%.2f", t / 1e9 }'; }
sample_start() { # FILE CMD...
    _file=$1
    shift
    : >"$_file"
    _t0=$(now_s)
    echo "$_t0" >"$_file.t0"
    (
        while :; do
            _v=$("$@" 2>/dev/null)
            echo "$(awk -v a="$(now_s)" -v b="$_t0" 'BEGIN { printf "%.2f", a - b }') ${_v:-0}" >>"$_file"
            sleep "${SAMPLE_S:-0.5}"
        done
    ) &
    SAMPLER=$!
}
sample_stop() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }
mark() { # FILE WHAT
    echo "$(awk -v a="$(now_s)" -v b="$(cat "$1.t0")" 'BEGIN { printf "%.2f", a - b }') $2" >>"$1.marks"
}
depth_of() { "$LOADGEN" amqp depth --url "$AMQP_URL" --queue "$1" | cut -d' ' -f1; }
# Events not yet processed, from the services themselves (a lag query needs
# the group coordinator, which may be the broker that is down).
behind() {
    _inv=$(($(metric "$INVENTORY_URL" kafka_reserved_total) + $(metric "$INVENTORY_URL" kafka_refused_total)))
    _an=$(http_get "$ANALYTICS_URL/metrics.json" | jq .totals.orders)
    echo "$((N - _inv)) $((N - ${_an:-0}))"
}

# Each part starts its services with fresh state: the next part may use the
# same names.
part_clean() { # NAME...
    for _s in "$@"; do
        lab_kill "$_s" TERM
        rm -f "$LAB_DIR/$_s".db* "$LAB_DIR/$_s.host" "$LAB_DIR/$_s.port" "$LAB_DIR/$_s.lastport"
    done
}

# The async stack on its hosts against AMQP_URL, and the reference stack (no
# fault) on the client host against REF_AMQP_URL; exports the endpoints the
# async scenario phases read.
start_async_stacks() { # PART
    for _s in order inventory notification; do lab_place "$_s" "$_s"; done
    for _sfx in "" -ref; do
        _url=$AMQP_URL
        [ -n "$_sfx" ] && _url=$REF_AMQP_URL
        lab_start "inventory$_sfx" commlab-inventory --quiet --mode amqp --amqp-url "$_url" &&
            lab_start "notification$_sfx" commlab-notification --quiet --mode amqp --amqp-url "$_url" &&
            lab_start "order$_sfx" commlab-order --quiet --mode async --amqp-url "$_url" ||
            { fail "$1: stack$_sfx started"; return 1; }
    done
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
    REF_ORDER_URL=$(lab_url order-ref) REF_INVENTORY_URL=$(lab_url inventory-ref)
    REF_NOTIFICATION_URL=$(lab_url notification-ref)
    export AMQP_URL REF_AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL \
        REF_ORDER_URL REF_INVENTORY_URL REF_NOTIFICATION_URL
}

part_kafka() {
    kafka_start || { fail "kafka: the mock cluster started"; return; }
    lab_start inventory commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
        lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
            --metrics-file "$LAB_DIR/metrics.json" ||
        { fail "kafka: consumers started"; return; }
    INVENTORY_URL=$(lab_url inventory) ANALYTICS_URL=$(lab_url analytics) ORDER_URL=
    export INVENTORY_URL ANALYTICS_URL ORDER_URL
    echo "# faults/kafka: $N events; broker 1 down mid-stream, leaders to broker 2, back after 5 s"
    SAMPLE_S=0.25 sample_start "$OUT_DIR/kafka-lag.tsv" behind
    sh "$here/../scenarios/streaming-kafka.sh" produce "$N" 0 "$N" &
    phase=$!
    # Mid-stream: the events are produced in well under a second, consumed in
    # seconds; the outage starts once all are produced and inventory has begun.
    # (Checks are made after the phase: it counts failures while it runs.)
    _i=0 lag=
    while [ $_i -lt 400 ]; do
        lag=$(kafka_lag inventory-consumer-group:order-events 2>/dev/null)
        case $lag in '' | null | *[!0-9]*) ;; *) [ "$lag" -gt 0 ] && [ "$lag" -lt "$N" ] && break ;; esac
        sleep 0.02
        _i=$((_i + 1))
    done
    _down=no _moved=yes _up=no
    kafka_mock_ctl down 1 && _down=yes
    mark "$OUT_DIR/kafka-lag.tsv" down
    _p=0
    while [ $_p -lt "${KAFKA_PARTITIONS:-6}" ]; do
        kafka_mock_ctl leader order-events $_p 2 && kafka_mock_ctl leader inventory-events $_p 2 ||
            _moved=no
        _p=$((_p + 1))
    done
    sleep 5
    kafka_mock_ctl up 1 && _up=yes
    mark "$OUT_DIR/kafka-lag.tsv" up
    wait "$phase" || fail "kafka: every event delivered, reserved once and counted once across the outage"
    sample_stop
    echo "  outage began at inventory lag ${lag:-?}"
    assert_num "kafka: the outage began mid-stream (inventory lag)" "${lag:-0}" ">" 0
    assert_num "kafka: the outage began mid-stream (inventory lag below $N)" "${lag:-$N}" "<" "$N"
    assert_eq "kafka: broker 1 taken down" yes "$_down"
    assert_eq "kafka: every partition's leadership moved to broker 2" yes "$_moved"
    assert_eq "kafka: broker 1 back up" yes "$_up"
    # The reference: the same 10,000 events with no fault (the first phase of
    # local/streaming-kafka.sh writes the same bytes).
    _ref=$COMMLAB_ROOT/results/faults-kafka.metrics.json
    [ -f "$_ref" ] && check "kafka: analytics output equals the uninterrupted run's (results/)" \
        cmp "$_ref" "$OUT_DIR/produce.metrics.json"
    [ -n "${RESULTS_DIR:-}" ] && cp "$OUT_DIR/produce.metrics.json" "$RESULTS_DIR/faults-kafka.metrics.json"
    part_clean analytics inventory
    kafka_stop
}

part_rest() {
    for _s in order inventory notification; do lab_place "$_s" "$_s"; done
    ORDER_ARGS="--inventory-timeout-ms 1000" lab_start_rest || { fail "rest: services on their hosts"; return; }
    echo "# faults/rest: order ($(hosts_addr order)) cut off from inventory ($(hosts_addr inventory)) for 4 s"
    if fault_netem_available; then
        echo "  (netem is available here: delay faults use tc netem)"
    else
        echo "  (no netem in this kernel: delay faults fall back to the services' knob)"
    fi
    sh "$here/../scenarios/sync-rest.sh" partition-start 100 12
    sleep 3
    check "rest: order cut off from inventory" fault_cut order inventory
    sleep 4
    fault_heal
    sh "$here/../scenarios/sync-rest.sh" partition-finish 30
    part_clean order inventory notification
}

part_amqp() {
    RMQ_HOST=rabbitmq
    export RMQ_HOST
    rabbitmq_start || { fail "amqp: RabbitMQ on its host"; return; }
    rabbitmqctl_lab add_vhost ref >/dev/null &&
        rabbitmqctl_lab set_permissions -p ref guest '.*' '.*' '.*' >/dev/null ||
        { fail "amqp: vhost ref for the reference stack"; return; }
    REF_AMQP_URL="$AMQP_URL/ref"
    start_async_stacks amqp || return
    echo "# faults/amqp: inventory ($(hosts_addr inventory)) cut off from RabbitMQ ($(hosts_addr rabbitmq)) for $AMQP_CUT_S s"
    S=$here/../scenarios/async-rabbitmq.sh
    sample_start "$OUT_DIR/amqp-depth.tsv" depth_of inventory.order-placed
    sh "$S" partition-start 50 $((AMQP_CUT_S + 10)) 50000
    sleep 3
    check "amqp: inventory cut off from RabbitMQ" fault_cut inventory rabbitmq
    mark "$OUT_DIR/amqp-depth.tsv" cut
    sleep "$AMQP_CUT_S"
    fault_heal
    mark "$OUT_DIR/amqp-depth.tsv" heal
    sh "$S" partition-finish
    sample_stop
    _peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$OUT_DIR/amqp-depth.tsv")
    # Depth counts ready messages: the cut-off consumer holds its prefetch
    # window (1024) unacked first, so a short cut may show none.
    if [ $((50 * AMQP_CUT_S)) -gt 1224 ]; then
        assert_num "amqp: the backlog rose while inventory was cut off (peak depth)" "$_peak" ">" 100
    else
        echo "  (a ${AMQP_CUT_S} s cut fills no more than the prefetch window: peak depth $_peak not asserted)"
    fi
    part_clean order inventory notification order-ref inventory-ref notification-ref
    rabbitmq_stop
}


# The reference stack's URLs: the same nodes, vhost "ref".
_ref_urls() { echo "$1" | sed 's|:5672|:5672/ref|g'; }

part_cluster() {
    . "$LIB/rabbitmq-cluster.sh"
    echo "# faults/cluster: RabbitMQ on rabbitmq1..3 (quorum queues on all three)"
    rmqc_start || { fail "cluster: three RabbitMQ nodes joined"; return; }
    assert_eq "cluster: node 1 sees three running nodes" 3 "$(rmqc_running_nodes 1)"
    rmqc_ctl 1 add_vhost ref >/dev/null &&
        rmqc_ctl 1 set_permissions -p ref guest '.*' '.*' '.*' >/dev/null ||
        { fail "cluster: vhost ref for the reference stack"; return; }
    REF_AMQP_URL=$(_ref_urls "$AMQP_URL")
    start_async_stacks cluster || return
    # The queue the scenarios watch, replicated on every node.
    _members=$(rmqc_ctl 1 list_queues name members --formatter json 2>/dev/null |
        jq -r '.[] | select(.name == "inventory.order-placed") | .members | length')
    assert_eq "cluster: inventory.order-placed has a replica on each of the three nodes" 3 "$_members"
    S=$here/../scenarios/async-rabbitmq.sh

    # 1. A node crashes mid-run (SIGKILL of its VM) and comes back.
    sh "$S" cluster-kill-start 50 25 60000
    sleep 5
    rmqc_node_kill 2
    echo "  rabbitmq2 killed"
    sleep 10
    rmqc_node_start 2 || fail "cluster: rabbitmq2 restarted"
    sh "$S" cluster-kill-finish
    assert_eq "cluster: three running nodes after the restart" 3 "$(rmqc_running_nodes 1)"

    # 2. A node partitioned from the other two mid-run, then healed.
    sample_start "$OUT_DIR/cluster-depth.tsv" depth_of inventory.order-placed
    sh "$S" cluster-partition-start 50 35 70000
    sleep 5
    check "cluster: rabbitmq3 partitioned from every other host" fault_partition rabbitmq3
    mark "$OUT_DIR/cluster-depth.tsv" partition
    sleep 20
    fault_heal rabbitmq3
    mark "$OUT_DIR/cluster-depth.tsv" heal
    sh "$S" cluster-partition-finish
    sample_stop
    _n=0
    while [ "$(rmqc_running_nodes 1)" != 3 ] && [ $_n -lt 60 ]; do sleep 1; _n=$((_n + 1)); done
    assert_eq "cluster: three running nodes after the heal" 3 "$(rmqc_running_nodes 1)"
    # What the clients saw: how often a link broke or a node refused them.
    for _s in order inventory notification; do
        echo "  $_s: $(grep -ciE 'link lost|unavailable' "$LAB_DIR/$_s.log") lost links or failed connects to RabbitMQ nodes" |
            tee -a "$OUT_DIR/cluster.clients.txt"
    done
    part_clean order inventory notification order-ref inventory-ref notification-ref
    rmqc_stop
}

FAULTS_OUT=$OUT_DIR
for _part in $parts; do
    OUT_DIR=$FAULTS_OUT/$_part
    mkdir -p "$OUT_DIR"
    case $_part in
    kafka) part_kafka ;;
    rest | amqp | cluster)
        if [ -z "${HOSTS_ID:-}" ]; then
            if hosts_supported; then
                hosts_init order inventory notification rabbitmq rabbitmq1 rabbitmq2 rabbitmq3 || { fail "hosts: namespaces made"; continue; }
            else
                skip "faults/$_part" "hosts mode unavailable (needs root, ip netns and nft; see above)"
                continue
            fi
        fi
        "part_$_part" ;;
    *) echo "faults.sh: unknown part '$_part' (kafka, rest, amqp, cluster)" >&2; exit 2 ;;
    esac
done

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
if [ -n "${RESULTS_DIR:-}" ]; then
    sh "$here/../report/faults.sh" "$FAULTS_OUT" "$RESULTS_DIR"
fi
