# The local lab's Kafka: librdkafka's mock cluster (three brokers, in memory)
# run by `commlab-kafka mock` as a process of its own. Source after lab.sh.
#
#   kafka_start      start it with the lab's topics; exports KAFKA_BROKERS
#   kafka_stop       SIGTERM it (after the services: consumers leave their
#                    groups cleanly while the brokers still answer)
#   kafka_lag GROUP:TOPIC[,TOPIC]...   total lag over the given groups
#
# The mock implements the Kafka protocol, not every broker rule: it accepts
# transactions but keeps no transaction state (no commit markers, no aborted
# ranges, TxnOffsetCommit acknowledged and dropped). See the README, Part C.

kafka_start() {
    _kb=$COMMLAB_BIN/commlab-kafka
    rm -f "$LAB_DIR/kafka.bootstrap"
    "$_kb" mock --brokers 3 --partitions "${KAFKA_PARTITIONS:-6}" \
        --bootstrap-file "$LAB_DIR/kafka.bootstrap" >"$LAB_DIR/kafka-mock.log" 2>&1 &
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
    # Tells the scenarios the broker keeps no transaction state.
    KAFKA_TRANSACTIONS=mock
    export KAFKA_BROKERS KAFKA_TRANSACTIONS
}

kafka_stop() {
    [ -f "$LAB_DIR/kafka-mock.pidfile" ] || return 0
    _p=$(cat "$LAB_DIR/kafka-mock.pidfile")
    kill -TERM "$_p" 2>/dev/null
    wait "$_p" 2>/dev/null
    rm -f "$LAB_DIR/kafka-mock.pidfile"
}

kafka_lag() {
    "${COMMLAB_KAFKA_TOOL:-$COMMLAB_BIN/commlab-kafka}" lag --brokers "$KAFKA_BROKERS" --json "$@" |
        jq '[.groups[].lag] | add'
}
