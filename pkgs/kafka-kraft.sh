#!/bin/sh
# A single-node Apache Kafka in KRaft mode (broker and controller in one JVM),
# in a directory of its own, on free loopback ports. For the local lab.
#
#   kafka-kraft.sh start DIR   format DIR/data, start the broker, wait until it
#                              answers; prints the bootstrap address HOST:PORT
#                              (also in DIR/bootstrap), the JVM's pid in DIR/pid
#   kafka-kraft.sh stop DIR    SIGTERM, wait up to 30 s, then SIGKILL
#
# Finds kafka-storage.sh and kafka-server-start.sh in $KAFKA_HOME/bin when
# KAFKA_HOME is set, else on PATH (nixpkgs' apacheKafka puts them in bin/,
# already wrapped with JAVA_HOME). KAFKA_HEAP_OPTS defaults to 512 MiB.
set -u

die() {
    echo "kafka-kraft: $*" >&2
    exit 1
}

kafka_bin() {
    if [ -n "${KAFKA_HOME:-}" ]; then
        echo "$KAFKA_HOME/bin/$1"
    else
        command -v "$1" || die "$1 not found: set KAFKA_HOME or put Kafka's bin/ on PATH"
    fi
}

listening() { # PORT
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# A port nobody listens on, from a range below the usual ephemeral one;
# SALT tells apart calls made within the same second.
free_port() { # SALT
    _try=0
    while [ $_try -lt 50 ]; do
        _p=$(awk -v s="$$$1$_try" 'BEGIN { srand(s); print 20000 + int(rand() * 10000) }')
        if ! listening "$_p"; then
            echo "$_p"
            return 0
        fi
        _try=$((_try + 1))
    done
    return 1
}

write_properties() { # DIR PORT CONTROLLER_PORT
    cat >"$1/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$3
listeners=PLAINTEXT://127.0.0.1:$2,CONTROLLER://127.0.0.1:$3
advertised.listeners=PLAINTEXT://127.0.0.1:$2
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$1/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
}

ready() { # PORT
    listening "$1" || return 1
    if command -v kcat >/dev/null 2>&1; then
        kcat -L -b "127.0.0.1:$1" -m 5 >/dev/null 2>&1
    fi
}

start() { # DIR
    _dir=$1
    mkdir -p "$_dir/logs" || die "cannot create $_dir"
    _dir=$(cd "$_dir" && pwd)
    [ ! -s "$_dir/pid" ] || ! kill -0 "$(cat "$_dir/pid")" 2>/dev/null ||
        die "a broker already runs from $_dir (pid $(cat "$_dir/pid"))"
    _storage=$(kafka_bin kafka-storage.sh) || exit 1
    _server=$(kafka_bin kafka-server-start.sh) || exit 1
    _attempt=0
    while [ $_attempt -lt 3 ]; do
        _attempt=$((_attempt + 1))
        _port=$(free_port "${_attempt}1") || die "no free port"
        _cport=$(free_port "${_attempt}2") || die "no free port"
        [ "$_port" != "$_cport" ] || continue
        rm -rf "$_dir/data"
        write_properties "$_dir" "$_port" "$_cport"
        _id=$("$_storage" random-uuid 2>>"$_dir/logs/format.log") || die "kafka-storage.sh random-uuid failed"
        "$_storage" format -t "$_id" -c "$_dir/server.properties" >>"$_dir/logs/format.log" 2>&1 ||
            die "kafka-storage.sh format failed; see $_dir/logs/format.log"
        LOG_DIR="$_dir/logs" KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms512m}" \
            "$_server" "$_dir/server.properties" >>"$_dir/logs/server.out" 2>&1 &
        _pid=$!
        echo "$_pid" >"$_dir/pid"
        _i=0
        while [ $_i -lt 600 ]; do
            if ! kill -0 "$_pid" 2>/dev/null; then
                break
            fi
            if ready "$_port"; then
                echo "127.0.0.1:$_port" >"$_dir/bootstrap"
                echo "127.0.0.1:$_port"
                return 0
            fi
            sleep 0.1
            _i=$((_i + 1))
        done
        # Died (a port taken meanwhile?) or never answered: clean up and retry.
        stop "$_dir"
    done
    echo "kafka-kraft: the broker did not start; the end of its output:" >&2
    tail -n 30 "$_dir/logs/server.out" >&2
    exit 1
}

stop() { # DIR
    [ -s "$1/pid" ] || return 0
    _pid=$(cat "$1/pid")
    if kill -TERM "$_pid" 2>/dev/null; then
        _i=0
        while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 300 ]; do
            sleep 0.1
            _i=$((_i + 1))
        done
        kill -KILL "$_pid" 2>/dev/null
    fi
    rm -f "$1/pid" "$1/bootstrap"
    return 0
}

case ${1:-} in
start) start "${2:?usage: kafka-kraft.sh start DIR}" ;;
stop) stop "${2:?usage: kafka-kraft.sh stop DIR}" ;;
*)
    echo "usage: kafka-kraft.sh start|stop DIR" >&2
    exit 2
    ;;
esac
