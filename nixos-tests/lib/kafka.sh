# The local lab's Kafka. Source after lab.sh.
#
#   kafka_start      start it with the lab's topics; exports KAFKA_BROKERS and
#                    KAFKA_TRANSACTIONS (real or mock, see below)
#   kafka_stop       stop it (a LAB_STOP_HOOKS entry: it runs after the
#                    services, so consumers leave their groups cleanly while
#                    the brokers still answer)
#   kafka_lag GROUP:TOPIC[,TOPIC]...   total lag over the given groups
#   kafka_mock_ctl CMD  a broker fault on the mock (down/up, leader moves, rtt)
#
# Which Kafka (COMMLAB_KAFKA):
#   real   a single-node Apache Kafka in KRaft mode, started in $LAB_DIR/kafka
#          by the launcher $COMMLAB_KAFKA_KRAFT (`start DIR` prints HOST:PORT,
#          `stop DIR`; default: the repository's pkgs/kafka-kraft.sh, else
#          commlab-kafka-kraft on PATH); topics made with `commlab-kafka topics`
#   mock   librdkafka's mock cluster (three brokers, in memory), run by
#          `commlab-kafka mock` as a process of its own
#   unset  real when a Kafka is there (kafka-server-start.sh on PATH or in
#          $KAFKA_HOME/bin), else mock
#
# The mock implements the Kafka protocol, not every broker rule: it accepts
# transactions but keeps no transaction state (no commit markers, no aborted
# ranges, TxnOffsetCommit acknowledged and dropped). See docs/lab.md, "Kafka in the lab".
# KAFKA_TRANSACTIONS=mock tells the scenarios so; a real broker gets the
# strict exactly-once checks (KAFKA_TRANSACTIONS=real).

kafka_kind() {
    case ${COMMLAB_KAFKA:-} in
    real | mock) echo "$COMMLAB_KAFKA" ;;
    "")
        if command -v kafka-server-start.sh >/dev/null 2>&1 ||
            { [ -n "${KAFKA_HOME:-}" ] && [ -x "$KAFKA_HOME/bin/kafka-server-start.sh" ]; }; then
            echo real
        else
            echo mock
        fi ;;
    *)
        echo "lab: COMMLAB_KAFKA must be real or mock (or unset), not '$COMMLAB_KAFKA'" >&2
        return 1 ;;
    esac
}

# The KRaft launcher: the repository's own when the lab runs from a checkout
# (so it matches the scripts), else the installed one.
kafka_kraft_launcher() {
    if [ -n "${COMMLAB_KAFKA_KRAFT:-}" ]; then
        echo "$COMMLAB_KAFKA_KRAFT"
    elif [ -n "${COMMLAB_ROOT:-}" ] && [ -f "$COMMLAB_ROOT/pkgs/kafka-kraft.sh" ]; then
        echo "$COMMLAB_ROOT/pkgs/kafka-kraft.sh"
    elif command -v commlab-kafka-kraft >/dev/null 2>&1; then
        command -v commlab-kafka-kraft
    else
        echo "lab: no Kafka launcher: set COMMLAB_KAFKA_KRAFT or put commlab-kafka-kraft on PATH" >&2
        return 1
    fi
}

kafka_start() {
    KAFKA_KIND=$(kafka_kind) || return 1
    if [ "$KAFKA_KIND" = real ]; then
        _kafka_start_real || return 1
        KAFKA_TRANSACTIONS=real
    else
        _kafka_start_mock || return 1
        KAFKA_TRANSACTIONS=mock
    fi
    export KAFKA_KIND KAFKA_BROKERS KAFKA_TRANSACTIONS
}

_kafka_start_real() {
    COMMLAB_KAFKA_KRAFT=$(kafka_kraft_launcher) || return 1
    export COMMLAB_KAFKA_KRAFT
    # Registered first: a launcher that fails half-way may leave a JVM.
    LAB_STOP_HOOKS="${LAB_STOP_HOOKS:-}${LAB_STOP_HOOKS:+; }kafka_stop"
    if ! KAFKA_BROKERS=$("$COMMLAB_KAFKA_KRAFT" start "$LAB_DIR/kafka" 2>"$LAB_DIR/kafka-kraft.log") ||
        [ -z "$KAFKA_BROKERS" ]; then
        echo "lab: Kafka (KRaft, $COMMLAB_KAFKA_KRAFT) did not start; its output:" >&2
        cat "$LAB_DIR/kafka-kraft.log" >&2
        return 1
    fi
    # The controller may take a moment after the listener answers.
    _i=0
    until "$COMMLAB_BIN/commlab-kafka" topics --brokers "$KAFKA_BROKERS" \
        --partitions "${KAFKA_PARTITIONS:-6}" --replication 1 >>"$LAB_DIR/kafka-topics.log" 2>&1; do
        _i=$((_i + 1))
        if [ $_i -ge 6 ]; then
            echo "lab: cannot create the topics on $KAFKA_BROKERS; the tool's output:" >&2
            cat "$LAB_DIR/kafka-topics.log" >&2
            return 1
        fi
        sleep 1
    done
}

_kafka_start_mock() {
    _kb=$COMMLAB_BIN/commlab-kafka
    rm -f "$LAB_DIR/kafka.bootstrap"
    "$_kb" mock --brokers 3 --partitions "${KAFKA_PARTITIONS:-6}" \
        --bootstrap-file "$LAB_DIR/kafka.bootstrap" --control "$LAB_DIR/kafka.ctl" \
        >"$LAB_DIR/kafka-mock.log" 2>&1 &
    # Not NAME.pid: lab_stop_all stops the services first, then this hook.
    echo $! >"$LAB_DIR/kafka-mock.pidfile"
    LAB_STOP_HOOKS="${LAB_STOP_HOOKS:-}${LAB_STOP_HOOKS:+; }kafka_stop"
    _i=0
    while [ ! -s "$LAB_DIR/kafka.bootstrap" ]; do
        _i=$((_i + 1))
        if [ $_i -gt 200 ] || ! kill -0 "$(cat "$LAB_DIR/kafka-mock.pidfile")" 2>/dev/null; then
            echo "lab: the Kafka mock cluster did not start; its log:" >&2
            cat "$LAB_DIR/kafka-mock.log" >&2
            return 1
        fi
        sleep 0.05
    done
    KAFKA_BROKERS=$(cat "$LAB_DIR/kafka.bootstrap")
}

kafka_stop() {
    if [ "${KAFKA_KIND:-}" = real ]; then
        "$COMMLAB_KAFKA_KRAFT" stop "$LAB_DIR/kafka" >>"$LAB_DIR/kafka-kraft.log" 2>&1
        return 0
    fi
    [ -f "$LAB_DIR/kafka-mock.pidfile" ] || return 0
    _p=$(cat "$LAB_DIR/kafka-mock.pidfile")
    kill -TERM "$_p" 2>/dev/null
    wait "$_p" 2>/dev/null
    rm -f "$LAB_DIR/kafka-mock.pidfile"
}

# kafka_mock_ctl COMMAND: a fault on the mock cluster (see `commlab-kafka mock
# --help`: down/up BROKER, leader TOPIC PARTITION BROKER, rtt BROKER MS); waits
# for the mock's answer and fails on an error answer.
kafka_mock_ctl() {
    _ans=$LAB_DIR/kafka.ctl.answers
    _seen=$(cat "$_ans" 2>/dev/null | wc -l)
    kill -0 "$(cat "$LAB_DIR/kafka-mock.pidfile" 2>/dev/null)" 2>/dev/null ||
        { echo "lab: no mock cluster to send '$*' to" >&2; return 1; }
    echo "$*" >"$LAB_DIR/kafka.ctl"
    _i=0
    while [ "$(cat "$_ans" 2>/dev/null | wc -l)" -le "$_seen" ]; do
        _i=$((_i + 1))
        [ $_i -lt 100 ] || { echo "lab: the mock did not answer '$*'" >&2; return 1; }
        sleep 0.05
    done
    tail -n 1 "$_ans" | grep -q '^ok ' || { tail -n 1 "$_ans" >&2; return 1; }
}

kafka_lag() {
    "${COMMLAB_KAFKA_TOOL:-$COMMLAB_BIN/commlab-kafka}" lag --brokers "$KAFKA_BROKERS" --json "$@" |
        jq '[.groups[].lag] | add'
}
