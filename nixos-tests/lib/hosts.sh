# Hosts mode of the local lab: each node in a network namespace of its own,
# with its own address on a bridge, named like the VM test nodes. The root
# namespace is the host "client" (the bridge's address): the scenario scripts
# and loadgen run there, as on the VM tests' client node. Source after lab.sh.
#
#   hosts_supported             root, ip netns, nft; else says why, returns 1
#   hosts_init NAME...          make the namespaces and the bridge; removed on
#                               exit (lab_init's trap, after the stop hooks), also after Ctrl-C
#   hosts_addr NAME             the address of NAME ("client": the bridge's)
#   hosts_netns NAME            the namespace that holds NAME
#   hosts_exec NAME CMD...      run CMD on NAME
#   lab_place NAME HOST         before lab_start NAME: run service NAME on HOST
#   hosts_cleanup               remove every namespace, link and hosts file
#
# Only the namespaces' own addresses (a /24 of 10.231.0.0/16 chosen per run)
# and loopback are ever used. Names resolve in every namespace through
# /etc/netns/NAMESPACE/hosts, which `ip netns exec` binds over /etc/hosts.

hosts_supported() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "hosts: needs root (network namespaces); skipping the multi-host scenarios" >&2
        return 1
    fi
    for _c in ip nft; do
        command -v "$_c" >/dev/null 2>&1 ||
            { echo "hosts: $_c is missing (apt-get install iproute2 nftables); skipping" >&2; return 1; }
    done
    ip netns list >/dev/null 2>&1 || { echo "hosts: ip netns does not work here; skipping" >&2; return 1; }
}

hosts_init() { # NAME...
    HOSTS_ID=$(($$ % 250 + 1))
    HOSTS_NET=10.231.$HOSTS_ID
    HOSTS_BR=clbr$HOSTS_ID
    HOSTS_NAMES="$*"
    export HOSTS_ID HOSTS_NET HOSTS_BR HOSTS_NAMES
    ip link add "$HOSTS_BR" type bridge || return 1
    ip addr add "$HOSTS_NET.1/24" dev "$HOSTS_BR" && ip link set "$HOSTS_BR" up || return 1
    _k=2
    for _h in "$@"; do
        _ns=$(hosts_netns "$_h")
        mkdir -p "/etc/netns/$_ns"
        ip netns add "$_ns" || return 1
        ip link add "clv$HOSTS_ID-$_k" type veth peer name eth0 netns "$_ns" || return 1
        ip link set "clv$HOSTS_ID-$_k" master "$HOSTS_BR" up &&
            ip -n "$_ns" addr add "$HOSTS_NET.$_k/24" dev eth0 &&
            ip -n "$_ns" link set eth0 up && ip -n "$_ns" link set lo up || return 1
        echo "$_h $_k" >>"$LAB_DIR/hosts.map"
        _k=$((_k + 1))
    done
    {
        echo "127.0.0.1 localhost"
        echo "$HOSTS_NET.1 client"
        awk -v net="$HOSTS_NET" '{ print net "." $2, $1 }' "$LAB_DIR/hosts.map"
    } >"$LAB_DIR/hosts.txt"
    for _h in "$@"; do
        cp "$LAB_DIR/hosts.txt" "/etc/netns/$(hosts_netns "$_h")/hosts"
    done
    echo "# hosts: $HOSTS_NAMES on $HOSTS_NET.0/24 (client = $HOSTS_NET.1)"
}

hosts_netns() { echo "commlab$HOSTS_ID-$1"; }

hosts_addr() {
    [ "$1" = client ] && { echo "$HOSTS_NET.1"; return 0; }
    awk -v h="$1" -v net="$HOSTS_NET" '$1 == h { print net "." $2; f = 1 } END { exit !f }' \
        "$LAB_DIR/hosts.map"
}

hosts_exec() { # NAME CMD...
    _ns=$(hosts_netns "$1")
    shift
    ip netns exec "$_ns" "$@"
}

lab_place() { # NAME HOST
    echo "$2" >"$LAB_DIR/$1.host"
}

hosts_cleanup() {
    [ -n "${HOSTS_ID:-}" ] || return 0
    for _h in $HOSTS_NAMES; do
        _ns=$(hosts_netns "$_h")
        # Whatever still runs on the host dies with it (a node's crash).
        for _p in $(ip netns pids "$_ns" 2>/dev/null); do kill -KILL "$_p" 2>/dev/null; done
        ip netns del "$_ns" 2>/dev/null
        rm -rf "/etc/netns/$_ns"
    done
    ip link del "$HOSTS_BR" 2>/dev/null
    HOSTS_ID=
    return 0
}
