# shellcheck shell=sh disable=SC2154 # the runner's variables: lib/plan.sh
# The local plan runner's kafka role (plans/README.md): the lab's Kafka of
# lib/kafka.sh (librdkafka's mock cluster, three brokers, or a real
# single-node Kafka when one is on PATH). A reference to a kafka node is the
# bootstrap list. Broker operations on the mock are its own faults, the
# documented substitutes for a broker VM's crash (counted as substituted):
#   crash, stop    the mock's broker down (rd_kafka_mock_broker_set_down), and
#                  every partition of the lab's topics led by the first broker
#                  still up (a real cluster's controller moves leadership)
#   start          the broker up again
#   kill           down and up at once (the supervisor's part)
#   pause, resume  SIGSTOP / SIGCONT of the whole mock (a plan with one kafka
#                  node: the node is the cluster)
# A real local Kafka is one broker: those steps are skipped, and said so.
# Source after plan.sh and kafka.sh; it adds itself to the runner's hooks.

PLAN_START_HOOKS="${PLAN_START_HOOKS:-} _plan_kafka_start"
PLAN_URL_HOOKS="${PLAN_URL_HOOKS:-} _plan_kafka_urls"
PLAN_STEP_HOOKS="${PLAN_STEP_HOOKS:-} _plan_kafka_step"
# The topics whose leadership moves off a broker that goes down.
: "${PLAN_KAFKA_TOPICS:=order-events inventory-events}"

_plan_kafka_nodes() { _plan_jq -r '.nodes | to_entries[] | select(.value.role == "kafka") | .key' "$_plan_file"; }
_plan_is_kafka() { [ "$(_plan_jq -r --arg n "$1" '.nodes[$n].role // ""' "$_plan_file")" = kafka ]; }
_plan_kafka_broker() { _plan_jq -r --arg n "$1" '.nodes[$n].broker' "$_plan_file"; }

# Boot: the first kafka node starts the lab's Kafka; the others are its
# brokers already.
_plan_kafka_start() {
    _plan_is_kafka "$_nn" || return 2
    if [ ! -f "$_plan_dir/kafka.started" ]; then
        kafka_start || return 1
        : >"$_plan_dir/kafka.started"
        : >"$_plan_dir/kafka.down"
        echo "# plan: ${KAFKA_KIND:-mock} Kafka at $KAFKA_BROKERS"
    fi
    _plan_urls
}

_plan_kafka_urls() {
    [ -f "$_plan_dir/kafka.started" ] || return 0
    for _kn in $(_plan_kafka_nodes); do printf '%s %s\n' "$_kn" "$KAFKA_BROKERS"; done
}

# The mock's broker B down, and the lab's topics led by the first broker up.
_plan_kafka_down() { # B
    kafka_mock_ctl down "$1" || return 1
    echo "$1" >>"$_plan_dir/kafka.down"
    _to=
    for _b in 1 2 3; do grep -qx "$_b" "$_plan_dir/kafka.down" || { _to=$_b; break; }; done
    # Every broker down (a whole-cluster outage): no leader to move to.
    [ -n "$_to" ] || { _kafka_moved=none; return 0; }
    for _t in $PLAN_KAFKA_TOPICS; do
        _p=0
        while [ $_p -lt "${KAFKA_PARTITIONS:-6}" ]; do
            kafka_mock_ctl leader "$_t" $_p "$_to" || return 1
            _p=$((_p + 1))
        done
    done
    _kafka_moved=$_to
}

_plan_kafka_up() { # B
    kafka_mock_ctl up "$1" || return 1
    grep -vx "$1" "$_plan_dir/kafka.down" >"$_plan_dir/kafka.down.tmp"
    mv "$_plan_dir/kafka.down.tmp" "$_plan_dir/kafka.down"
}

_plan_kafka_step() {
    [ -n "$_pl_node" ] && _plan_is_kafka "$_pl_node" || return 2
    _kb=$(_plan_kafka_broker "$_pl_node")
    if [ "${KAFKA_KIND:-mock}" != mock ]; then
        _plan_note skipped "$_pl_name ($_pl_op $_pl_node): one local Kafka broker (real); a broker outage runs in the VM or on the mock"
        return 0
    fi
    case $_pl_op in
    crash | stop)
        _plan_kafka_down "$_kb" || return 1
        _plan_note substituted "$_pl_name ($_pl_op $_pl_node): the mock cluster's broker $_kb down (rd_kafka_mock_broker_set_down), the partitions of $PLAN_KAFKA_TOPICS led by broker $_kafka_moved" ;;
    start)
        _plan_kafka_up "$_kb" || return 1
        _plan_note substituted "$_pl_name (start $_pl_node): the mock cluster's broker $_kb up (rd_kafka_mock_broker_set_up)" ;;
    kill)
        _plan_kafka_down "$_kb" && _plan_kafka_up "$_kb" || return 1
        _plan_note substituted "$_pl_name (kill $_pl_node): the mock cluster's broker $_kb down and up" ;;
    pause | resume)
        [ "$(_plan_kafka_nodes | wc -l)" -eq 1 ] ||
            { echo "plan: step '$_pl_name': $_pl_op of one broker of several: the mock pauses as a whole" >&2; return 1; }
        _sig=STOP
        [ "$_pl_op" = resume ] && _sig=CONT
        kill -"$_sig" "$(cat "$LAB_DIR/kafka-mock.pidfile")" ;;
    wait)
        grep -qx "$_kb" "$_plan_dir/kafka.down" &&
            { echo "plan: step '$_pl_name': broker $_kb of the mock is down" >&2; return 1; }
        return 0 ;;
    *)
        echo "plan: step '$_pl_name': $_pl_op of a kafka node is not implemented by the local backend" >&2
        return 1 ;;
    esac
}
