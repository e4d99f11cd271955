# A private RabbitMQ node for the local lab: its own node name, ports,
# mnesia, logs and Erlang cookie under $LAB_DIR/rabbitmq, so it never touches
# (or depends on) a system broker. Needs lab.sh's lab_init first.
#
#   rabbitmq_start     start the node (first call picks the ports), wait until it serves
#   rabbitmq_stop      stop it cleanly (rabbitmqctl stop), keeping its data
#   rabbitmq_kill      SIGKILL the node (a crash; data stays on disk)
#   AMQP_URL           amqp://guest:guest@127.0.0.1:PORT once started (vhost /)
#   RMQ_MANAGEMENT_URL the management UI and HTTP API (guest/guest), printed at
#                      the first start; RMQ_MANAGEMENT=0 leaves the plugin off
#   RMQ_HOST           (hosts mode) the lab host the node runs on, set before
#                      the first start; AMQP_URL then names its address
#
# Restarting after rabbitmq_stop/rabbitmq_kill reuses the same node name and
# mnesia directory: durable queues and persistent messages must survive.

# Debian wraps the broker scripts in a wrapper that switches to the rabbitmq
# user and writes into /var/lib/rabbitmq; the real scripts are in
# /usr/lib/rabbitmq/bin. NixOS/nixpkgs puts the real scripts on PATH.
_rmq_bin() {
    if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
        echo /usr/lib/rabbitmq/bin/"$1"
    else
        command -v "$1"
    fi
}

# A TCP port no socket uses in any state (listening, connected, TIME_WAIT),
# starting the search at $1.
_rmq_free_port() {
    _p=$1
    while ss -Htan "sport = :$_p" 2>/dev/null | grep -q .; do _p=$((_p + 1)); done
    echo "$_p"
}

# Both ports lie below the kernel's ephemeral range (32768 and up on Linux),
# where outgoing connections of the lab itself could take them between the
# check and the bind; and below 35672-35682, where rabbitmqctl listens.
_rmq_pick_ports() { # BASE
    RMQ_PORT=$(_rmq_free_port "$1")
    RMQ_DIST_PORT=$(_rmq_free_port $((RMQ_PORT + 1)))
    RMQ_EPMD_PORT=$(_rmq_free_port $((RMQ_DIST_PORT + 1)))
    RMQ_MGMT_PORT=$(_rmq_free_port $((RMQ_EPMD_PORT + 1)))
    export RMQ_PORT RMQ_DIST_PORT RMQ_EPMD_PORT RMQ_MGMT_PORT
}

_rmq_env() {
    R=$LAB_DIR/rabbitmq
    RMQ_ADDR=127.0.0.1
    [ -n "${RMQ_HOST:-}" ] && RMQ_ADDR=$(hosts_addr "$RMQ_HOST")
    # A port mapper of our own (the node and rabbitmqctl both find it through
    # ERL_EPMD_PORT): stopped with the node, and never shared with a system
    # broker's.
    export HOME="$R/home" \
        ERL_EPMD_PORT="$RMQ_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_NODENAME="$RMQ_NODE" \
        RABBITMQ_NODE_IP_ADDRESS="$RMQ_ADDR" \
        RABBITMQ_NODE_PORT="$RMQ_PORT" \
        RABBITMQ_DIST_PORT="$RMQ_DIST_PORT" \
        RABBITMQ_MNESIA_BASE="$R/mnesia" \
        RABBITMQ_LOG_BASE="$R/log" \
        RABBITMQ_PID_FILE="$R/node.pid" \
        RABBITMQ_CONFIG_FILE="$R/rabbitmq" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$R/advanced.config" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$R/enabled_plugins" \
        RABBITMQ_CONF_ENV_FILE="$R/rabbitmq-env.conf"
}

rabbitmq_start() {
    R=$LAB_DIR/rabbitmq
    if [ -z "${RMQ_NODE:-}" ]; then
        RMQ_NODE="commlab-$$@localhost"
        export RMQ_NODE
        _rmq_pick_ports $((20000 + $$ % 10000))
        _rmq_first=1
        mkdir -p "$R/home" "$R/mnesia" "$R/log"
        chmod 700 "$R/home"
        # The management UI (how people watch a backlog rise and drain),
        # loopback guest login, and a disk alarm threshold that a small CI
        # disk does not trip by itself.
        if [ "${RMQ_MANAGEMENT:-1}" = 0 ]; then
            echo '[].' >"$R/enabled_plugins"
        else
            echo '[rabbitmq_management].' >"$R/enabled_plugins"
        fi
        # On a host of its own the clients come from other hosts: guest may
        # log in from the lab's private addresses too.
        _loopback=true
        [ -n "${RMQ_HOST:-}" ] && _loopback=false
        printf 'loopback_users.guest = %s\ndisk_free_limit.absolute = 50MB\n' "$_loopback" >"$R/rabbitmq.conf"
        _rmq_mgmt_conf
        # RMQ_CONF_EXTRA: more rabbitmq.conf lines (e.g. "heartbeat = 2").
        [ -z "${RMQ_CONF_EXTRA:-}" ] || printf '%s\n' "$RMQ_CONF_EXTRA" >>"$R/rabbitmq.conf"
        echo '[].' >"$R/advanced.config"
        : >"$R/rabbitmq-env.conf"
        LAB_STOP_HOOKS="${LAB_STOP_HOOKS:-}${LAB_STOP_HOOKS:+; }rabbitmq_stop"
    fi
    # A first start that loses a port race tries again on other ports; a
    # restart keeps its ports, which the services are connected to.
    _rc=1
    for _try in 1 2 3; do
        if _rmq_launch; then
            _rc=0
            break
        fi
        [ -n "${_rmq_first:-}" ] && grep -qE 'already_used|eaddrinuse' "$R/server.log" || break
        echo "lab: RabbitMQ port taken, trying other ports" >&2
        : >"$R/server.log"
        _rmq_pick_ports $((RMQ_MGMT_PORT + 1))
        _rmq_mgmt_conf
    done
    if [ $_rc = 0 ] && [ "${RMQ_MANAGEMENT:-1}" != 0 ] && [ -z "${_rmq_shown:-}" ]; then
        _rmq_shown=1
        echo "# RabbitMQ management UI and HTTP API: $RMQ_MANAGEMENT_URL (guest/guest)"
    fi
    _rmq_first=
    return $_rc
}

# The management listener's lines of rabbitmq.conf (rewritten with the ports).
_rmq_mgmt_conf() {
    [ "${RMQ_MANAGEMENT:-1}" = 0 ] && return 0
    _addr=$(_rmq_env && echo "$RMQ_ADDR")
    sed -i '/^management\./d' "$R/rabbitmq.conf"
    printf 'management.tcp.port = %s\nmanagement.tcp.ip = %s\n' "$RMQ_MGMT_PORT" "$_addr" >>"$R/rabbitmq.conf"
    RMQ_MANAGEMENT_URL="http://$_addr:$RMQ_MGMT_PORT"
    export RMQ_MANAGEMENT_URL
}

_rmq_launch() {
    (
        _rmq_env
        cd "$R" && exec $(_rmq_netns) "$(_rmq_bin rabbitmq-server)"
    ) >>"$R/server.log" 2>&1 &
    echo $! >"$R/server.pid"
    AMQP_URL="amqp://guest:guest@$(_rmq_env && echo "$RMQ_ADDR"):$RMQ_PORT"
    export AMQP_URL
    # await_startup gives up at once while the node has not registered with
    # epmd yet, so poll it (the node boots in 2-10 s).
    _i=0
    until rabbitmqctl_lab await_startup >/dev/null 2>&1; do
        _i=$((_i + 1))
        if [ $_i -ge 240 ] || ! kill -0 "$(cat "$R/server.pid")" 2>/dev/null; then
            _i=fail
            break
        fi
        sleep 0.5
    done
    [ "$_i" != fail ] || {
        echo "lab: RabbitMQ did not start; its log:" >&2
        tail -n 30 "$R/server.log" >&2
        return 1
    }
}

# The words that run a command on the node's host (nothing on loopback).
_rmq_netns() {
    [ -n "${RMQ_HOST:-}" ] && echo "ip netns exec $(hosts_netns "$RMQ_HOST")"
    return 0
}

rabbitmqctl_lab() {
    (_rmq_env && $(_rmq_netns) "$(_rmq_bin rabbitmqctl)" -n "$RMQ_NODE" -q "$@")
}

# SIGKILLs our Erlang VM: the pid its pid file names, only while that process
# is still the VM of this lab (its command line names our directory).
_rmq_kill_vm() {
    _beam=$(cat "$LAB_DIR/rabbitmq/node.pid" 2>/dev/null)
    [ -n "$_beam" ] && tr "\\0" " " <"/proc/$_beam/cmdline" 2>/dev/null | grep -qF "$LAB_DIR/rabbitmq" &&
        kill -KILL "$_beam" 2>/dev/null
    return 0
}

# The epmd of the broker's Erlang: on PATH (Debian, and `nix run .#loadgen`,
# which puts rabbitmq-server's Erlang there), else in the PATH that the
# broker's own rabbitmq-env sets up for its scripts (nixpkgs' rabbitmq-server
# prepends its Erlang there and nowhere else).
_rmq_epmd() {
    command -v epmd 2>/dev/null && return 0
    _env=$(dirname "$(_rmq_bin rabbitmq-server)")/rabbitmq-env
    [ -f "$_env" ] || return 1
    for _d in $(sed -n 's/^PATH=\([^$]*\).*/\1/p' "$_env" | tr ':' '\n' | grep '^/'); do
        [ -x "$_d/epmd" ] && { echo "$_d/epmd"; return 0; }
    done
    return 1
}

# Our port mapper outlives the node (it is a daemon of its own): stop it too.
_rmq_stop_epmd() {
    _epmd=$(_rmq_epmd) || {
        echo "lab: no epmd found (neither on PATH nor in rabbitmq-env's PATH): the port mapper on port $RMQ_EPMD_PORT may still run" >&2
        return 0
    }
    ERL_EPMD_PORT=$RMQ_EPMD_PORT $(_rmq_netns) "$_epmd" -kill >/dev/null 2>&1
    return 0
}

rabbitmq_stop() {
    [ -n "${RMQ_NODE:-}" ] || return 0
    # After rabbitmq_kill only the port mapper is left.
    [ -f "$LAB_DIR/rabbitmq/server.pid" ] || { _rmq_stop_epmd; return 0; }
    _pid=$(cat "$LAB_DIR/rabbitmq/server.pid")
    rabbitmqctl_lab stop >/dev/null 2>&1
    _i=0
    while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 300 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    # The start script does not exec the VM: kill both if stop did not work.
    _rmq_kill_vm
    kill -KILL "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    rm -f "$LAB_DIR/rabbitmq/server.pid"
    _rmq_stop_epmd
    return 0
}

# A crash: the Erlang VM (the node's pid file) and its shell parent get SIGKILL.
rabbitmq_kill() {
    [ -f "$LAB_DIR/rabbitmq/server.pid" ] || return 0
    _rmq_kill_vm
    _pid=$(cat "$LAB_DIR/rabbitmq/server.pid")
    kill -KILL "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    rm -f "$LAB_DIR/rabbitmq/server.pid"
    return 0
}
