#!/bin/sh
# Network faults on this host, with nftables: on a VM test node as it is, on a
# local-lab host through `ip netns exec` (lib/faults.sh). Packets are dropped,
# not refused, so a cut-off peer looks dead, as in a real partition.
#   net-fault.sh cut PEER...   drop everything to and from each PEER (name or
#                              address; a name's every IPv4 and IPv6 address)
#   net-fault.sh isolate       drop everything but loopback
#   net-fault.sh heal          remove every rule made here
# NFT names the nft binary (default: nft on PATH).
set -u
nft=${NFT:-nft}
table=commlab_fault

make_table() {
    "$nft" -f - <<NFT
table inet $table {
    chain input { type filter hook input priority 0; policy accept; }
    chain output { type filter hook output priority 0; policy accept; }
}
NFT
}

# Every address of NAME_OR_ADDRESS, one a line: a NixOS test node's name
# has an IPv4 and an IPv6 address (both in /etc/hosts), and a listener on
# [::] is reached over either, so a cut covers both.
addresses() { # NAME_OR_ADDRESS
    case $1 in
    *:* | *[!0-9.]*) getent ahosts "$1" | awk '{ print $1 }' | sort -u ;;
    *) echo "$1" ;;
    esac
}

case ${1:-} in
cut)
    shift
    [ $# -gt 0 ] || { echo "net-fault.sh: cut needs a peer" >&2; exit 2; }
    make_table || exit 1
    for peer in "$@"; do
        as=$(addresses "$peer")
        [ -n "$as" ] || { echo "net-fault.sh: cannot resolve '$peer'" >&2; exit 1; }
        for a in $as; do
            case $a in *:*) family=ip6 ;; *) family=ip ;; esac
            "$nft" add rule inet "$table" input "$family" saddr "$a" drop &&
                "$nft" add rule inet "$table" output "$family" daddr "$a" drop || exit 1
        done
    done ;;
isolate)
    make_table &&
        "$nft" add rule inet "$table" input iifname != lo drop &&
        "$nft" add rule inet "$table" output oifname != lo drop ;;
heal)
    "$nft" delete table inet "$table" 2>/dev/null
    exit 0 ;;
*)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2 ;;
esac
