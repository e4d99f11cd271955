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
COMMLAB_ROOT=${COMMLAB_ROOT:-$(cd "$here/../.." && pwd)}
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
. "$here/../lib/lab.sh"
. "$here/../lib/kafka.sh"
. "$here/../lib/rabbitmq.sh"
. "$here/../lib/hosts.sh"
. "$here/../lib/faults.sh"
case "${1:-}" in -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
parts=${*:-kafka rest amqp cluster}
: "${AMQP_CUT_S:=60}"
N=10000

lab_init || exit 1
: "${OUT_DIR:=$LAB_DIR/out}"
LOADGEN="$COMMLAB_BIN/loadgen"
export OUT_DIR LOADGEN
mkdir -p "$OUT_DIR"

part_kafka() {
    kafka_start || { fail "kafka: the mock cluster started"; return; }
    lab_start inventory commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
        lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
            --metrics-file "$LAB_DIR/metrics.json" ||
        { fail "kafka: consumers started"; return; }
    INVENTORY_URL=$(lab_url inventory) ANALYTICS_URL=$(lab_url analytics) ORDER_URL=
    export INVENTORY_URL ANALYTICS_URL ORDER_URL
    echo "# faults/kafka: $N events; broker 1 down mid-stream, leaders to broker 2, back after 5 s"
    OUT_DIR=$OUT_DIR/kafka sh "$here/../scenarios/streaming-kafka.sh" produce "$N" 0 "$N" &
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
    _p=0
    while [ $_p -lt "${KAFKA_PARTITIONS:-6}" ]; do
        kafka_mock_ctl leader order-events $_p 2 && kafka_mock_ctl leader inventory-events $_p 2 ||
            _moved=no
        _p=$((_p + 1))
    done
    sleep 5
    kafka_mock_ctl up 1 && _up=yes
    wait "$phase" || fail "kafka: every event delivered, reserved once and counted once across the outage"
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
        cmp "$_ref" "$OUT_DIR/kafka/produce.metrics.json"
    [ -n "${RESULTS_DIR:-}" ] && cp "$OUT_DIR/kafka/produce.metrics.json" "$RESULTS_DIR/faults-kafka.metrics.json"
    lab_kill analytics TERM
    lab_kill inventory TERM
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
    for _s in order inventory notification; do lab_kill "$_s" TERM; rm -f "$LAB_DIR/$_s.host"; done
}

part_amqp() {
    RMQ_HOST=rabbitmq
    export RMQ_HOST
    rabbitmq_start || { fail "amqp: RabbitMQ on its host"; return; }
    rabbitmqctl_lab add_vhost ref >/dev/null &&
        rabbitmqctl_lab set_permissions -p ref guest '.*' '.*' '.*' >/dev/null ||
        { fail "amqp: vhost ref for the reference stack"; return; }
    REF_AMQP_URL="$AMQP_URL/ref"
    for _s in order inventory notification; do lab_place "$_s" "$_s"; done
    # The reference stack (no fault) runs on the client host.
    for _sfx in "" -ref; do
        _url=$AMQP_URL
        [ -n "$_sfx" ] && _url=$REF_AMQP_URL
        lab_start "inventory$_sfx" commlab-inventory --quiet --mode amqp --amqp-url "$_url" &&
            lab_start "notification$_sfx" commlab-notification --quiet --mode amqp --amqp-url "$_url" &&
            lab_start "order$_sfx" commlab-order --quiet --mode async --amqp-url "$_url" ||
            { fail "amqp: stack$_sfx started"; return; }
    done
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
    REF_ORDER_URL=$(lab_url order-ref) REF_INVENTORY_URL=$(lab_url inventory-ref)
    REF_NOTIFICATION_URL=$(lab_url notification-ref)
    export AMQP_URL REF_AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL \
        REF_ORDER_URL REF_INVENTORY_URL REF_NOTIFICATION_URL
    echo "# faults/amqp: inventory ($(hosts_addr inventory)) cut off from RabbitMQ ($(hosts_addr rabbitmq)) for $AMQP_CUT_S s"
    S=$here/../scenarios/async-rabbitmq.sh
    sh "$S" partition-start 50 $((AMQP_CUT_S + 10)) 50000
    sleep 3
    check "amqp: inventory cut off from RabbitMQ" fault_cut inventory rabbitmq
    _peak=0 _t=0
    while [ $_t -lt "$AMQP_CUT_S" ]; do
        sleep 5
        _t=$((_t + 5))
        _d=$("$LOADGEN" amqp depth --url "$AMQP_URL" --queue inventory.order-placed 2>/dev/null | cut -d' ' -f1)
        echo "$_t ${_d:-0}" >>"$OUT_DIR/amqp-partition.depth.tsv"
        [ "${_d:-0}" -gt "$_peak" ] && _peak=${_d:-0}
    done
    fault_heal
    assert_num "amqp: the backlog rose while inventory was cut off" "$_peak" ">" 100
    sh "$S" partition-finish
}


# The reference stack's URLs: the same nodes, vhost "ref".
_ref_urls() { echo "$1" | sed 's|:5672|:5672/ref|g'; }

part_cluster() {
    . "$here/../lib/rabbitmq-cluster.sh"
    echo "# faults/cluster: RabbitMQ on rabbitmq1..3 (quorum queues on all three)"
    rmqc_start || { fail "cluster: three RabbitMQ nodes joined"; return; }
    assert_eq "cluster: node 1 sees three running nodes" 3 "$(rmqc_running_nodes 1)"
    rmqc_ctl 1 add_vhost ref >/dev/null &&
        rmqc_ctl 1 set_permissions -p ref guest '.*' '.*' '.*' >/dev/null ||
        { fail "cluster: vhost ref for the reference stack"; return; }
    REF_AMQP_URL=$(_ref_urls "$AMQP_URL")
    for _s in order inventory notification; do lab_place "$_s" "$_s"; done
    for _sfx in "" -ref; do
        _url=$AMQP_URL
        [ -n "$_sfx" ] && _url=$REF_AMQP_URL
        lab_start "inventory$_sfx" commlab-inventory --quiet --mode amqp --amqp-url "$_url" &&
            lab_start "notification$_sfx" commlab-notification --quiet --mode amqp --amqp-url "$_url" &&
            lab_start "order$_sfx" commlab-order --quiet --mode async --amqp-url "$_url" ||
            { fail "cluster: stack$_sfx started"; return; }
    done
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
    REF_ORDER_URL=$(lab_url order-ref) REF_INVENTORY_URL=$(lab_url inventory-ref)
    REF_NOTIFICATION_URL=$(lab_url notification-ref)
    export AMQP_URL REF_AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL \
        REF_ORDER_URL REF_INVENTORY_URL REF_NOTIFICATION_URL
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
    sh "$S" cluster-partition-start 50 35 70000
    sleep 5
    check "cluster: rabbitmq3 partitioned from every other host" fault_partition rabbitmq3
    sleep 20
    fault_heal rabbitmq3
    sh "$S" cluster-partition-finish
    _n=0
    while [ "$(rmqc_running_nodes 1)" != 3 ] && [ $_n -lt 60 ]; do sleep 1; _n=$((_n + 1)); done
    assert_eq "cluster: three running nodes after the heal" 3 "$(rmqc_running_nodes 1)"
    # What the clients saw: how often a link broke or a node refused them.
    for _s in order inventory notification; do
        echo "  $_s: $(grep -ciE 'link lost|unavailable' "$LAB_DIR/$_s.log") lost links or failed connects to RabbitMQ nodes" |
            tee -a "$OUT_DIR/cluster.clients.txt"
    done
    for _s in order inventory notification; do lab_kill "$_s" TERM; lab_kill "$_s-ref" TERM; done
    rmqc_stop
}

for _part in $parts; do
    case $_part in
    kafka) part_kafka ;;
    rest | amqp | cluster)
        if [ -z "${HOSTS_ID:-}" ]; then
            if hosts_supported; then
                hosts_init order inventory notification rabbitmq rabbitmq1 rabbitmq2 rabbitmq3 || { fail "hosts: namespaces made"; continue; }
            else
                echo "# faults/$_part: skipped (hosts mode unavailable, see above)"
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
