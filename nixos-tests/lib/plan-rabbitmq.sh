# The rabbitmq role of the local plan runner (plans/README.md): a broker node
# is lib/rabbitmq.sh's private node, or, for the nodes with "cluster": true
# (rabbitmq1..3), a node of lib/rabbitmq-cluster.sh's three (hosts mode: the
# plan needs hosts). In hosts mode each runs on the host named for its node.
# Source after plan.sh (and hosts.sh).
#
#   boot            the single broker starts (rabbitmq_start); the cluster's
#                   three start and join at its first node's boot (rmqc_start)
#   kill            SIGKILL of the Erlang VM, started again at once (the
#                   supervisor's part, as systemd's in a VM)
#   crash           SIGKILL of the Erlang VM; stays down (its data on disk)
#   stop / start    rabbitmqctl stop / start again, same node, ports and data
#   restart         stop, then start
#   wait            until the node answers rabbitmqctl await_startup
#   wipe            (single broker) stopped, its data removed; `start` then
#                   starts a fresh node on the same ports
# Conditions of `until` (lib/plan-metrics.json, role rabbitmq; lib/plan-series.sh
# calls them): cluster_running NODE N (NODE sees N running cluster nodes),
# queue_replicas NODE QUEUE N (QUEUE has N members).
# A reference to a rabbitmq node is its AMQP URL. Source after plan.sh; it
# adds itself to the runner's hooks.

# shellcheck disable=SC2154 # _plan_dir, _plan_file, _pl_*, _nn: plan.sh's
. "$LIB/rabbitmq.sh"
. "$LIB/rabbitmq-cluster.sh"

PLAN_START_HOOKS="${PLAN_START_HOOKS:-} _plan_rabbitmq_start"
PLAN_URL_HOOKS="${PLAN_URL_HOOKS:-} _plan_rabbitmq_urls"
PLAN_STEP_HOOKS="${PLAN_STEP_HOOKS:-} _plan_rabbitmq_step"

_plan_is_rabbitmq() { [ "$(_plan_jq -r --arg n "$1" '.nodes[$n].role // ""' "$_plan_file")" = rabbitmq ]; }

_plan_rabbitmq_start() {
    _plan_is_rabbitmq "$_nn" || return 2
    _plan_rabbitmq_boot "$_nn"
}

# Every booted node's URL (NODE URL lines, in rabbitmq.url.NODE).
_plan_rabbitmq_urls() {
    for _uf in "$_plan_dir"/rabbitmq.url.*; do
        [ -f "$_uf" ] && printf '%s %s\n' "${_uf##*/rabbitmq.url.}" "$(cat "$_uf")"
    done
    return 0
}

_plan_rabbitmq_url() { # NODE URL
    echo "$2" >"$_plan_dir/rabbitmq.url.$1"
    _plan_urls
}

# The node operations of a rabbitmq node; anything else is not its business.
_plan_rabbitmq_step() {
    [ -n "$_pl_node" ] && _plan_is_rabbitmq "$_pl_node" || return 2
    case $_pl_op in
    kill | crash | start | stop | restart | wait | wipe | pause | resume) _plan_rabbitmq_op ;;
    *) return 2 ;;
    esac
}

# The cluster index of NODE (rabbitmqI -> I), or nothing for the single broker.
_plan_rmq_index() { # NODE
    cat "$_plan_dir/rabbitmq.$1" 2>/dev/null
}

_plan_rabbitmq_boot() { # NODE
    if [ "$(_plan_jq -r --arg n "$1" '.nodes[$n].cluster // false' "$_plan_file")" = true ]; then
        if [ -z "${HOSTS_ID:-}" ]; then
            echo "plan: node $1: a RabbitMQ cluster needs hosts mode (the plan's steps say needs hosts)" >&2
            return 1
        fi
        echo "${1#rabbitmq}" >"$_plan_dir/rabbitmq.$1"
        if [ ! -f "$_plan_dir/rabbitmq-cluster.started" ]; then
            rmqc_start || return 1
            : >"$_plan_dir/rabbitmq-cluster.started"
        fi
        _plan_rabbitmq_url "$1" "amqp://guest:guest@$(hosts_addr "$1"):5672"
    else
        if [ -n "$(_plan_rmq_index_single)" ]; then
            echo "plan: node $1: the local lab has one single RabbitMQ node ($(_plan_rmq_index_single))" >&2
            return 1
        fi
        : >"$_plan_dir/rabbitmq.$1"
        echo "$1" >"$_plan_dir/rabbitmq.single"
        if [ -n "${HOSTS_ID:-}" ]; then
            RMQ_HOST=$1
            export RMQ_HOST
        fi
        rabbitmq_start || return 1
        _plan_rabbitmq_url "$1" "$AMQP_URL"
    fi
}

_plan_rmq_index_single() { cat "$_plan_dir/rabbitmq.single" 2>/dev/null; }

# rabbitmqctl against NODE, on its host.
_plan_rmq_ctl() { # NODE ARGS...
    _rc_i=$(_plan_rmq_index "$1")
    shift
    if [ -n "$_rc_i" ]; then rmqc_ctl "$_rc_i" "$@"; else rabbitmqctl_lab "$@"; fi
}

_plan_rmq_stop() { # NODE
    _rs_i=$(_plan_rmq_index "$1")
    [ -n "$_rs_i" ] || { rabbitmq_stop; return; }
    _rs_pid=$(cat "$LAB_DIR/rmq$_rs_i/server.pid" 2>/dev/null)
    rmqc_ctl "$_rs_i" stop >/dev/null 2>&1
    [ -z "$_rs_pid" ] || wait_until 30 sh -c "! kill -0 $_rs_pid 2>/dev/null"
    rmqc_node_kill "$_rs_i"
    rm -f "$LAB_DIR/rmq$_rs_i/server.pid"
}

_plan_rmq_start() { # NODE
    _st_i=$(_plan_rmq_index "$1")
    if [ -n "$_st_i" ]; then rmqc_node_start "$_st_i"; else rabbitmq_start; fi
}

_plan_rmq_kill() { # NODE
    _k_i=$(_plan_rmq_index "$1")
    if [ -n "$_k_i" ]; then rmqc_node_kill "$_k_i"; else rabbitmq_kill; fi
}

_plan_rmq_up() { _plan_rmq_ctl "$1" await_startup >/dev/null 2>&1; } # NODE

_plan_rabbitmq_op() { # $_pl_op on $_pl_node
    [ -f "$_plan_dir/rabbitmq.$_pl_node" ] || {
        echo "plan: step '$_pl_name': RabbitMQ node $_pl_node was never booted" >&2
        return 1
    }
    case $_pl_op in
    kill) _plan_rmq_kill "$_pl_node" && _plan_rmq_start "$_pl_node" ;;
    crash) _plan_rmq_kill "$_pl_node" ;;
    stop) _plan_rmq_stop "$_pl_node" ;;
    start) _plan_rmq_start "$_pl_node" ;;
    restart) _plan_rmq_stop "$_pl_node" && _plan_rmq_start "$_pl_node" ;;
    wait) wait_until "$(_plan_val '.timeout // 120')" _plan_rmq_up "$_pl_node" ;;
    wipe)
        if [ -n "$(_plan_rmq_index "$_pl_node")" ]; then
            echo "plan: step '$_pl_name': a cluster node is not wiped (it would leave the cluster)" >&2
            return 1
        fi
        rabbitmq_stop && rm -rf "$LAB_DIR/rabbitmq/mnesia" && mkdir -p "$LAB_DIR/rabbitmq/mnesia" ;;
    *)
        echo "plan: step '$_pl_name': $_pl_op of a RabbitMQ node is not in the vocabulary" >&2
        return 1 ;;
    esac
}

_plan_cond_cluster_running() { # NODE N
    [ "$(_plan_rmq_ctl "$1" cluster_status --formatter json 2>/dev/null | jq '.running_nodes | length')" = "$2" ]
}

_plan_cond_queue_replicas() { # NODE QUEUE N
    [ "$(_plan_rmq_ctl "$1" list_queues name members --formatter json 2>/dev/null |
        jq --arg q "$2" '[.[] | select(.name == $q) | .members | length] | first')" = "$3" ]
}
