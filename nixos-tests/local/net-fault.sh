#!/bin/sh
# scenarios/net-fault.sh on a dual-stack pair of network namespaces, as a
# NixOS test node sees its peers (an IPv4 and an IPv6 address per name in
# /etc/hosts): a cut, by name or by address, stops both families, isolate
# stops both, heal restores both. A listener on [::] (as epmd's, RabbitMQ's
# or a Kafka wildcard listener) answers on either. Needs root, ip, nft and
# socat; otherwise says so and skips. About 10 s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
F="$here/../scenarios/net-fault.sh"
case "${1:-}" in -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

if [ "$(id -u)" -ne 0 ]; then
    skip "net-fault" "hosts mode: needs root (network namespaces)"
    exit 0
fi
for c in ip nft socat; do
    command -v "$c" >/dev/null 2>&1 || { skip "net-fault" "$c is missing"; exit 0; }
done

id=$(($$ % 250 + 1))
a=clnfa$id b=clnfb$id
v4=10.232.$id v6=2001:db8:$id
port=7070
cleanup() {
    [ -n "${listener:-}" ] && kill "$listener" 2>/dev/null
    ip netns del "$a" 2>/dev/null
    ip netns del "$b" 2>/dev/null
    rm -rf "/etc/netns/$a"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$a" && ip netns add "$b" &&
    ip link add "${a}v" type veth peer name "${b}v" &&
    ip link set "${a}v" netns "$a" && ip link set "${b}v" netns "$b" &&
    ip -n "$a" addr add "$v4.1/24" dev "${a}v" && ip -n "$b" addr add "$v4.2/24" dev "${b}v" &&
    ip -n "$a" addr add "$v6::1/64" dev "${a}v" nodad && ip -n "$b" addr add "$v6::2/64" dev "${b}v" nodad &&
    ip -n "$a" link set "${a}v" up && ip -n "$b" link set "${b}v" up &&
    ip -n "$a" link set lo up || { fail "net-fault: a dual-stack pair of namespaces"; exit 1; }
mkdir -p "/etc/netns/$a"
printf '%s peer\n%s peer\n' "$v4.2" "$v6::2" >"/etc/netns/$a/hosts"
ip netns exec "$b" socat "TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=0" SYSTEM:'echo up' &
listener=$!

on_a() { ip netns exec "$a" "$@"; }
# "v4 v6": whether the listener answers over each family (up or cut).
reach() {
    for addr in "$v4.2" "[$v6::2]"; do
        r=$(on_a socat -T 2 - "TCP:$addr:$port,connect-timeout=2" </dev/null 2>/dev/null)
        [ "$r" = up ] && printf 'up ' || printf 'cut '
    done
}
listening() { [ "$(reach)" = "up up " ]; }
wait_until 10 listening

assert_eq "net-fault: before any fault, the [::] listener answers over IPv4 and IPv6" "up up " "$(reach)"
on_a sh "$F" cut peer
assert_eq "net-fault: cut PEER (by name) drops both its IPv4 and its IPv6 address" "cut cut " "$(reach)"
on_a sh "$F" heal
assert_eq "net-fault: heal restores both families" "up up " "$(reach)"
on_a sh "$F" cut "$v6::2"
assert_eq "net-fault: cut ADDRESS (IPv6) drops that address only" "up cut " "$(reach)"
on_a sh "$F" heal
on_a sh "$F" isolate
assert_eq "net-fault: isolate drops both families" "cut cut " "$(reach)"
on_a sh "$F" heal
assert_eq "net-fault: heal after isolate restores both families" "up up " "$(reach)"
check "net-fault: heal without a fault succeeds" on_a sh "$F" heal
