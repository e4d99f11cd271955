# The local lab: the services as processes on loopback, each with fresh state
# in $LAB_DIR, on free ports. Later parts add brokers (rabbitmq.sh, kafka.sh).
#
#   lab_init                       make $LAB_DIR, find binaries, clean up on exit
#   lab_start NAME BINARY [ARGS]   start, wait for /healthz; ARGS are words
#   lab_url NAME                   http://127.0.0.1:PORT of a started service
#   lab_kill NAME [SIGNAL]         signal it (default KILL) and reap it
#   lab_restart NAME               start again with the same port, args and state
#   lab_pid NAME
#   lab_stop_all                   SIGTERM everything, SIGKILL stragglers

lab_init() {
    : "${COMMLAB_BIN:=$COMMLAB_ROOT/build}"
    for _b in commlab-order commlab-inventory commlab-notification loadgen loadgen-rest commlab-dump; do
        if [ ! -x "$COMMLAB_BIN/$_b" ]; then
            echo "lab: $COMMLAB_BIN/$_b is missing: build first (cmake -S services -B build && cmake --build build)" >&2
            return 1
        fi
    done
    LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/commlab-lab.XXXXXX")
    export LAB_DIR COMMLAB_BIN
    trap 'lab_stop_all; rm -rf "$LAB_DIR"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # Hosts mode (COMMLAB_HOSTS=1, root): the services on hosts of their own,
    # RabbitMQ too; the Kafka mock listens on loopback only, so its clients
    # stay on the client host. LAB_EXTRA_HOSTS: more hosts, by name (a
    # plan's broker nodes).
    if [ "${COMMLAB_HOSTS:-0}" = 1 ] && [ -z "${HOSTS_ID:-}" ]; then
        . "$COMMLAB_ROOT/nixos-tests/lib/hosts.sh"
        if hosts_supported; then
            hosts_init order inventory notification analytics rabbitmq ${LAB_EXTRA_HOSTS:-} || return 1
            RMQ_HOST=${RMQ_HOST:-rabbitmq}
            export RMQ_HOST
        fi
    fi
}

lab_pid() {
    cat "$LAB_DIR/$1.pid" 2>/dev/null
}

# A service placed on a host (hosts.sh: lab_place) listens on that host's
# address; the others on loopback.
_lab_addr() {
    if [ -f "$LAB_DIR/$1.host" ]; then
        hosts_addr "$(cat "$LAB_DIR/$1.host")"
    else
        echo 127.0.0.1
    fi
}

lab_url() {
    echo "http://$(_lab_addr "$1"):$(cat "$LAB_DIR/$1.port")"
}

_lab_launch() { # NAME PORT
    _name=$1
    _netns=
    [ -f "$LAB_DIR/$_name.host" ] && _netns="ip netns exec $(hosts_netns "$(cat "$LAB_DIR/$_name.host")")"
    read -r _bin <"$LAB_DIR/$_name.bin"
    read -r _args <"$LAB_DIR/$_name.args" || _args=
    rm -f "$LAB_DIR/$_name.port"
    # shellcheck disable=SC2086 # ARGS (and the namespace prefix) are words
    $_netns "$COMMLAB_BIN/$_bin" --listen "$(_lab_addr "$_name"):$2" --db "$LAB_DIR/$_name.db" \
        --port-file "$LAB_DIR/$_name.port" $_args >>"$LAB_DIR/$_name.log" 2>&1 &
    echo $! >"$LAB_DIR/$_name.pid"
    _i=0
    while [ ! -s "$LAB_DIR/$_name.port" ]; do
        if ! kill -0 "$(lab_pid "$_name")" 2>/dev/null; then
            echo "lab: $_name exited at start; its log:" >&2
            tail -n 20 "$LAB_DIR/$_name.log" >&2
            return 1
        fi
        _i=$((_i + 1))
        [ $_i -lt 300 ] || { echo "lab: $_name did not start" >&2; return 1; }
        sleep 0.05
    done
    wait_healthy "$(lab_url "$_name")" 20
}

lab_start() { # NAME BINARY [ARGS...]
    _name=$1 _bin=$2
    shift 2
    echo "$_bin" >"$LAB_DIR/$_name.bin"
    echo "$*" >"$LAB_DIR/$_name.args"
    if [ -n "${HOSTS_ID:-}" ] && [ ! -f "$LAB_DIR/$_name.host" ] && [ "${KAFKA_KIND:-}" != mock ]; then
        case $_name in order | inventory | notification | analytics) lab_place "$_name" "$_name" ;; esac
    fi
    _lab_launch "$_name" 0
}

lab_restart() {
    _lab_launch "$1" "$(cat "$LAB_DIR/$1.port" 2>/dev/null || cat "$LAB_DIR/$1.lastport")"
}

lab_kill() { # NAME [SIGNAL]
    _pid=$(lab_pid "$1")
    [ -n "$_pid" ] || return 0
    cp "$LAB_DIR/$1.port" "$LAB_DIR/$1.lastport" 2>/dev/null
    kill -"${2:-KILL}" "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    rm -f "$LAB_DIR/$1.pid"
    return 0
}

lab_stop_all() {
    [ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] || return 0
    for _f in "$LAB_DIR"/*.pid; do
        [ -e "$_f" ] || continue
        kill -TERM "$(cat "$_f")" 2>/dev/null
    done
    _i=0
    for _f in "$LAB_DIR"/*.pid; do
        [ -e "$_f" ] || continue
        _p=$(cat "$_f")
        while kill -0 "$_p" 2>/dev/null && [ $_i -lt 200 ]; do
            sleep 0.05
            _i=$((_i + 1))
        done
        # Record how it ended: 0 is a clean stop; a sanitizer report at exit
        # makes it non-zero; "killed" means it ignored SIGTERM for 10 s.
        if kill -0 "$_p" 2>/dev/null; then
            kill -KILL "$_p" 2>/dev/null
            wait "$_p" 2>/dev/null
            echo killed >"${_f%.pid}.exit"
        else
            wait "$_p" 2>/dev/null
            echo $? >"${_f%.pid}.exit"
        fi
        rm -f "$_f"
    done
    [ -n "${LAB_STOP_HOOKS:-}" ] && eval "$LAB_STOP_HOOKS"
    # The hosts go last: brokers on them stop first, through their hooks.
    [ -n "${HOSTS_ID:-}" ] && hosts_cleanup
    return 0
}

# Fails the run when a service log holds a sanitizer report (sanitized builds
# abort on the first one; LeakSanitizer reports at exit).
lab_check_logs() {
    for _f in "$LAB_DIR"/*.exit; do
        [ -e "$_f" ] || continue
        assert_eq "clean stop: $(basename "$_f" .exit) exits 0 on SIGTERM" 0 "$(cat "$_f")"
    done
    for _f in "$LAB_DIR"/*.log; do
        [ -e "$_f" ] || continue
        if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$_f"; then
            fail "sanitizers: $(basename "$_f" .log) is clean"
            grep -m 5 -E 'ERROR:|runtime error:|^    #[0-9]' "$_f" | head -n 12 >&2
        else
            pass "sanitizers: $(basename "$_f" .log) is clean"
        fi
    done
}

# Starts the REST trio with fresh state; extra words for the order service
# come from $ORDER_ARGS, for inventory from $INVENTORY_ARGS.
lab_start_rest() {
    lab_start inventory commlab-inventory --quiet ${INVENTORY_ARGS:-} &&
        lab_start notification commlab-notification --quiet &&
        lab_start order commlab-order --quiet --mode sync \
            --inventory-url "$(lab_url inventory)" \
            --notification-url "$(lab_url notification)" ${ORDER_ARGS:-} || return 1
    ORDER_URL=$(lab_url order)
    INVENTORY_URL=$(lab_url inventory)
    NOTIFICATION_URL=$(lab_url notification)
    export ORDER_URL INVENTORY_URL NOTIFICATION_URL
}

# Starts the async trio with fresh state, on the broker at $AMQP_URL.
lab_start_amqp() {
    lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" || return 1
    ORDER_URL=$(lab_url order)
    INVENTORY_URL=$(lab_url inventory)
    NOTIFICATION_URL=$(lab_url notification)
    export AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL
}

# Starts the streaming trio with fresh state, on the brokers at
# $KAFKA_BROKERS: inventory, analytics (its metrics file in the lab), order.
lab_start_kafka() {
    lab_start inventory commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
        lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
            --metrics-file "$LAB_DIR/metrics.json" &&
        lab_start order commlab-order --quiet --mode stream --kafka-brokers "$KAFKA_BROKERS" || return 1
    ORDER_URL=$(lab_url order)
    INVENTORY_URL=$(lab_url inventory)
    ANALYTICS_URL=$(lab_url analytics)
    export KAFKA_BROKERS ORDER_URL INVENTORY_URL ANALYTICS_URL
}
