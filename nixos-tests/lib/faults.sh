# One fault vocabulary for the local lab (the VM tests use the same words on
# their nodes; see nixos-tests/vm/common.nix). Source after lab.sh (and
# hosts.sh for the network faults, which need hosts mode).
#
#   fault_kill NAME [SIGNAL]    SIGKILL a lab service (a crash; lab_restart brings it back)
#   fault_pause NAME            SIGSTOP: alive, connected, answering nothing
#   fault_resume NAME           SIGCONT
#   fault_partition HOST        cut HOST from every other host (both directions)
#   fault_cut HOST_A HOST_B     cut one pair
#   fault_heal [HOST]           remove the network faults of HOST (default: all)
#   fault_delay HOST MS         netem delay on HOST's interface; returns 2 where
#                               the kernel has no netem (the caller then uses the
#                               service's own delay knob), having said so
#
# Packets are dropped, not refused: a partition looks like a dead network to
# both sides (connects hang, established connections stall until timeouts).

fault_kill() { lab_kill "$1" "${2:-KILL}"; }
fault_pause() { kill -STOP "$(lab_pid "$1")"; }
fault_resume() { kill -CONT "$(lab_pid "$1")"; }

# The rules themselves are scenarios/net-fault.sh, which the VM tests run on
# their nodes.
_net_fault() { # HOST ARGS...
    _h=$1
    shift
    hosts_exec "$_h" sh "$COMMLAB_ROOT/nixos-tests/scenarios/net-fault.sh" "$@"
}

fault_partition() { _net_fault "$1" isolate; }

fault_cut() { # HOST_A HOST_B
    _net_fault "$1" cut "$(hosts_addr "$2")" && _net_fault "$2" cut "$(hosts_addr "$1")"
}

fault_heal() { # [HOST]
    for _h in ${1:-$HOSTS_NAMES}; do _net_fault "$_h" heal; done
    return 0
}

# netem is a kernel module some kernels lack (this project's CI kernel does).
fault_netem_available() {
    [ -n "${HOSTS_NAMES:-}" ] || return 1
    _h=${HOSTS_NAMES%% *}
    hosts_exec "$_h" tc qdisc add dev eth0 root netem delay 1ms 2>/dev/null || return 1
    hosts_exec "$_h" tc qdisc del dev eth0 root 2>/dev/null
    return 0
}

fault_delay() { # HOST MS
    if ! fault_netem_available; then
        echo "faults: no netem in this kernel: delay $1 with the service's own knob instead" >&2
        return 2
    fi
    hosts_exec "$1" tc qdisc replace dev eth0 root netem delay "${2}ms"
}

fault_delay_clear() { # HOST
    hosts_exec "$1" tc qdisc del dev eth0 root 2>/dev/null
    return 0
}
