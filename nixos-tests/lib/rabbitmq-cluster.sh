# A three-node RabbitMQ cluster for hosts mode: nodes rabbit@rabbitmq1..3, one
# on each of the hosts rabbitmq1..3 (hosts.sh), one Erlang cookie, joined with
# rabbitmqctl join_cluster. Each host has its own network stack, so every node
# keeps the standard ports (5672, 25672, epmd 4369) on its own address.
# Source after lab.sh, hosts.sh and rabbitmq.sh (for _rmq_bin).
#
#   rmqc_start          start the three nodes and join them; exports AMQP_URL
#                       (all three addresses, comma-separated: clients try the
#                       next when theirs goes)
#   rmqc_node_start I   start (or restart) node I, keeping its data
#   rmqc_node_kill I    SIGKILL node I's Erlang VM (a crash)
#   rmqc_ctl I ARGS...  rabbitmqctl against node I, run on its host
#   rmqc_stop           stop every node (a LAB_STOP_HOOKS entry)
#
# The cluster pauses a minority side of a partition (pause_minority) and
# notices a lost peer within seconds (net_ticktime 10), so a partition in a
# short scenario is seen as one.

_rmqc_env() { # I
    _rmq_node_env "$LAB_DIR/rmq$1" "rabbit@rabbitmq$1" "$(hosts_addr "rabbitmq$1")" \
        "$LAB_DIR/rmq-cluster" "$LAB_DIR/rmq-cluster.advanced.config" \
        "$LAB_DIR/rmq-cluster.plugins" "$LAB_DIR/rmq-cluster-env.conf"
}

rmqc_ctl() { # I ARGS...
    _i=$1
    shift
    (_rmqc_env "$_i" && hosts_exec "rabbitmq$_i" "$(_rmq_bin rabbitmqctl)" -n "rabbit@rabbitmq$_i" -q "$@")
}

rmqc_node_start() { # I
    _d=$LAB_DIR/rmq$1
    (
        _rmqc_env "$1"
        cd "$_d" && exec ip netns exec "$(hosts_netns "rabbitmq$1")" "$(_rmq_bin rabbitmq-server)"
    ) >>"$_d/server.log" 2>&1 &
    echo $! >"$_d/server.pid"
    _n=0
    until rmqc_ctl "$1" await_startup >/dev/null 2>&1; do
        _n=$((_n + 1))
        if [ $_n -ge 240 ] || ! kill -0 "$(cat "$_d/server.pid")" 2>/dev/null; then
            echo "lab: RabbitMQ node rabbitmq$1 did not start; its log:" >&2
            tail -n 30 "$_d/server.log" >&2
            return 1
        fi
        sleep 0.5
    done
}

rmqc_node_kill() { # I
    _d=$LAB_DIR/rmq$1
    _beam=$(cat "$_d/node.pid" 2>/dev/null)
    [ -n "$_beam" ] && tr "\\0" " " 2>/dev/null <"/proc/$_beam/cmdline" | grep -qF "$_d" &&
        kill -KILL "$_beam" 2>/dev/null
    kill -KILL "$(cat "$_d/server.pid" 2>/dev/null)" 2>/dev/null
    wait "$(cat "$_d/server.pid" 2>/dev/null)" 2>/dev/null
    return 0
}

rmqc_start() {
    printf 'loopback_users = none\ndisk_free_limit.absolute = 50MB\ncluster_partition_handling = pause_minority\n' \
        >"$LAB_DIR/rmq-cluster.conf"
    echo '[{kernel, [{net_ticktime, 10}]}].' >"$LAB_DIR/rmq-cluster.advanced.config"
    echo '[].' >"$LAB_DIR/rmq-cluster.plugins"
    : >"$LAB_DIR/rmq-cluster-env.conf"
    _cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    LAB_STOP_HOOKS="${LAB_STOP_HOOKS:-}${LAB_STOP_HOOKS:+; }rmqc_stop"
    for _i in 1 2 3; do
        mkdir -p "$LAB_DIR/rmq$_i/home" "$LAB_DIR/rmq$_i/mnesia" "$LAB_DIR/rmq$_i/log"
        chmod 700 "$LAB_DIR/rmq$_i/home"
        printf '%s' "$_cookie" >"$LAB_DIR/rmq$_i/home/.erlang.cookie"
        chmod 400 "$LAB_DIR/rmq$_i/home/.erlang.cookie"
    done
    # Node 1 first; the others join it (their data is still empty).
    for _i in 1 2 3; do rmqc_node_start "$_i" & done
    wait
    for _i in 1 2 3; do
        rmqc_ctl "$_i" await_startup >/dev/null 2>&1 || { echo "lab: cluster node $_i is not up" >&2; return 1; }
    done
    for _i in 2 3; do
        rmqc_ctl "$_i" stop_app >/dev/null &&
            rmqc_ctl "$_i" join_cluster rabbit@rabbitmq1 >/dev/null &&
            rmqc_ctl "$_i" start_app >/dev/null ||
            { echo "lab: rabbitmq$_i could not join rabbit@rabbitmq1" >&2; return 1; }
    done
    AMQP_URL=
    for _i in 1 2 3; do
        AMQP_URL="$AMQP_URL${AMQP_URL:+,}amqp://guest:guest@$(hosts_addr "rabbitmq$_i"):5672"
    done
    export AMQP_URL
}

rmqc_running_nodes() { # I: how many nodes node I sees running
    rmqc_ctl "$1" cluster_status --formatter json 2>/dev/null | jq '.running_nodes | length'
}

rmqc_stop() {
    for _i in 1 2 3; do
        [ -f "$LAB_DIR/rmq$_i/server.pid" ] || continue
        rmqc_ctl "$_i" stop >/dev/null 2>&1 &
    done
    wait
    for _i in 1 2 3; do
        rmqc_node_kill "$_i"
        rm -f "$LAB_DIR/rmq$_i/server.pid"
    done
    return 0
}
