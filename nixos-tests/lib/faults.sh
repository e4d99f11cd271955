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

_fault_table() { # HOST: makes HOST's rule table (idempotent)
    hosts_exec "$1" nft -f - <<NFT
table inet commlab_fault {
    chain input { type filter hook input priority 0; policy accept; }
    chain output { type filter hook output priority 0; policy accept; }
}
NFT
}

_fault_drop() { # HOST PEER_ADDRESS
    _fault_table "$1" &&
        hosts_exec "$1" nft add rule inet commlab_fault input ip saddr "$2" drop &&
        hosts_exec "$1" nft add rule inet commlab_fault output ip daddr "$2" drop
}

fault_partition() { # HOST
    _fault_table "$1" &&
        hosts_exec "$1" nft add rule inet commlab_fault input iifname != lo drop &&
        hosts_exec "$1" nft add rule inet commlab_fault output oifname != lo drop
}

fault_cut() { # HOST_A HOST_B
    _fault_drop "$1" "$(hosts_addr "$2")" && _fault_drop "$2" "$(hosts_addr "$1")"
}

fault_heal() { # [HOST]
    for _h in ${1:-$HOSTS_NAMES}; do
        hosts_exec "$_h" nft delete table inet commlab_fault 2>/dev/null
    done
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
