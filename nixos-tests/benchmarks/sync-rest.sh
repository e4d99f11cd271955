#!/bin/sh
# Part A benchmark: chain throughput at concurrency 20 over the same server's
# no-op endpoint (GET /healthz), measured by loadgen seconds apart in one run;
# p50 at concurrency 20 and for a single client; per order, each service's
# CPU time and context switches (from /proc) and fsyncs (perf's syscall
# tracepoints, in a separate untimed run); peak RSS (VmHWM) of each service
# under that load, and the order service's RSS with 10,000 idle connections.
# Writes $RESULTS_DIR/bench-sync-rest.json (never hashed: timings).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
: "${BENCH_ORDERS:=20000}" "${BENCH_NOOP:=60000}" "${RESULTS_DIR:=$COMMLAB_ROOT/results}"
: "${BENCH_FSYNC_ORDERS:=2000}" "${BENCH_IDLE_CONNECTIONS:=10000}"
RATIO_TARGET=0.1
P50_TARGET_MS=2.5
RSS_LIMIT_MIB=16

lab_init || exit 1
lab_start_rest || exit 1
LOADGEN="$COMMLAB_BIN/loadgen"
out=$LAB_DIR/bench
mkdir -p "$out" "$RESULTS_DIR"
run() { # NAME ARGS...
    _n=$1
    shift
    "$LOADGEN" rest --url "$ORDER_URL" --json --quiet --label "$_n" "$@" >"$out/$_n.json"
}
hwm() { awk '/^VmHWM/ { print int($2 / 1024 * 10) / 10 }' "/proc/$(lab_pid "$1")/status"; }
rss() { awk '/^VmRSS/ { print int($2 / 1024 * 10) / 10 }' "/proc/$1/status"; }
# usage SERVICE: CPU clock ticks (user + system, every thread) and context
# switches (voluntary + not, summed over its threads).
usage() {
    _p=$(lab_pid "$1")
    _t=$(awk '{ print $14 + $15 }' "/proc/$_p/stat")
    _c=$(cat /proc/"$_p"/task/*/status 2>/dev/null |
        awk '/^(nonvoluntary_|voluntary_)ctxt_switches/ { n += $2 } END { print n + 0 }')
    echo "$_t $_c"
}
services="order inventory notification"
snapshot() { for s in $services; do echo "$s $(usage "$s")"; done >"$out/$1.usage"; }

echo "# bench sync-rest: warming up"
run warm -n 2000 -c 20 --start 100000000
echo "# bench sync-rest: GET /healthz x $BENCH_NOOP, then POST /order x $BENCH_ORDERS, concurrency 20"
run noop --target healthz -n "$BENCH_NOOP" -c 20
snapshot before
run chain -n "$BENCH_ORDERS" -c 20 --start 200000000
snapshot after
run noop2 --target healthz -n "$BENCH_NOOP" -c 20
# One client, one order at a time: the latency of the chain itself, no queueing.
run sequential -n 2000 -c 1 --start 300000000

# fsyncs per order: perf counts the fsync/fdatasync calls of each service
# over an untimed run (tracing does not touch the timed ones above).
fsyncs=null
if command -v perf >/dev/null 2>&1; then
    for s in $services; do
        perf stat -x, -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync \
            -p "$(lab_pid "$s")" -o "$out/$s.perf" 2>/dev/null &
        echo $! >"$out/$s.perf.pid"
    done
    sleep 1
    run fsync -n "$BENCH_FSYNC_ORDERS" -c 20 --start 400000000
    for s in $services; do kill -INT "$(cat "$out/$s.perf.pid")" 2>/dev/null; done
    # perf writes its counts as it exits (wait alone would wait for the services too).
    for s in $services; do
        while kill -0 "$(cat "$out/$s.perf.pid")" 2>/dev/null; do sleep 0.1; done
    done
    fsyncs=$(for s in $services; do
        awk -F, -v s="$s" -v n="$BENCH_FSYNC_ORDERS" '/sys_enter_f(data)?sync/ { c += $1; ok = 1 }
            END { if (ok) printf "\"%s\": %.2f\n", s, c / n }' "$out/$s.perf"
    done | paste -sd, | sed 's/^/{/; s/$/}/')
    [ "$fsyncs" = "{}" ] && fsyncs=null
else
    echo "# bench sync-rest: perf not found (Debian: linux-perf): no fsync counts" >&2
fi

# Peak RSS under the order load, read before the idle connections below.
rss_order=$(hwm order) rss_inv=$(hwm inventory) rss_notif=$(hwm notification)

# RSS of the order service holding 10,000 idle connections (the event-driven
# server gives them memory, not threads).
idle_rss=$("$COMMLAB_BIN/commlab-httpprobe" hold "${ORDER_URL#http://}" --mode idle \
    --count "$BENCH_IDLE_CONNECTIONS" --seconds 3 --rss-pid "$(lab_pid order)" 2>/dev/null | tr " " "\n" |
    awk -F= '$1 == "rss_kib" { print int($2 / 1024 * 10) / 10 }')

jq -n --slurpfile noop "$out/noop.json" --slurpfile noop2 "$out/noop2.json" \
    --slurpfile chain "$out/chain.json" --slurpfile seq "$out/sequential.json" \
    --rawfile before "$out/before.usage" --rawfile after "$out/after.usage" \
    --arg rss_order "$rss_order" --arg rss_inv "$rss_inv" --arg rss_notif "$rss_notif" \
    --arg cores "$(nproc)" --arg hz "$(getconf CLK_TCK)" --argjson fsyncs "$fsyncs" \
    --arg idle_rss "${idle_rss:-null}" --arg idle_n "$BENCH_IDLE_CONNECTIONS" \
    --argjson ratio_target "$RATIO_TARGET" --argjson p50_target "$P50_TARGET_MS" \
    --argjson rss_limit "$RSS_LIMIT_MIB" '
    def table($t): $t | split("\n") | map(select(length > 0) | split(" "))
        | map({ key: .[0], value: { ticks: (.[1] | tonumber), switches: (.[2] | tonumber) } })
        | from_entries;
    ([$noop[0].rate_per_s, $noop2[0].rate_per_s] | add / 2) as $noop_rps |
    (table($before)) as $b | (table($after)) as $a | $chain[0].requests as $n |
    {
      model: "sync-rest",
      machine_cores: ($cores | tonumber),
      noop_healthz: { requests: $noop[0].requests, throughput_rps: ($noop_rps | round),
                      p50_ms: $noop[0].latency_ms.p50 },
      chain_order: { requests: $chain[0].requests, ok: $chain[0].ok,
                     throughput_rps: ($chain[0].rate_per_s | round),
                     latency_ms: ($chain[0].latency_ms | map_values(. * 1000 | round / 1000)) },
      sequential_order: { requests: $seq[0].requests, concurrency: 1,
                          latency_ms: ($seq[0].latency_ms | map_values(. * 1000 | round / 1000)) },
      ratio_chain_over_noop: ($chain[0].rate_per_s / $noop_rps * 1000 | round / 1000),
      ratio_target: $ratio_target,
      met: ($chain[0].rate_per_s / $noop_rps >= $ratio_target),
      p50_target_ms: $p50_target,
      p50_met: ($chain[0].latency_ms.p50 <= $p50_target),
      per_order: ($a | keys | map({ key: ., value: {
          cpu_us: ((($a[.].ticks - $b[.].ticks) / ($hz | tonumber) * 1e6 / $n) | round),
          context_switches: ((($a[.].switches - $b[.].switches) / $n * 100 | round) / 100) } })
          | from_entries),
      fsyncs_per_order: $fsyncs,
      peak_rss_mib: { order: ($rss_order | tonumber), inventory: ($rss_inv | tonumber),
                      notification: ($rss_notif | tonumber) },
      peak_rss_limit_mib: $rss_limit,
      peak_rss_met: ([$rss_order, $rss_inv, $rss_notif] | map(tonumber) | max <= $rss_limit),
      order_rss_mib_with_idle_connections: { connections: ($idle_n | tonumber),
                                             rss_mib: ($idle_rss | fromjson? // null) }
    }' >"$RESULTS_DIR/bench-sync-rest.json"
jq -r '"chain \(.chain_order.throughput_rps)/s over no-op \(.noop_healthz.throughput_rps)/s = ratio \(.ratio_chain_over_noop) (target \(.ratio_target)); chain p50 \(.chain_order.latency_ms.p50) ms (target \(.p50_target_ms); one client: p50 \(.sequential_order.latency_ms.p50) ms); per order: \(.per_order | to_entries | map("\(.key) \(.value.cpu_us) us CPU, \(.value.context_switches) switches") | join("; ")); fsyncs per order \(.fsyncs_per_order); peak RSS MiB order \(.peak_rss_mib.order), inventory \(.peak_rss_mib.inventory), notification \(.peak_rss_mib.notification) (limit \(.peak_rss_limit_mib)); order RSS with \(.order_rss_mib_with_idle_connections.connections) idle connections \(.order_rss_mib_with_idle_connections.rss_mib) MiB"' \
    "$RESULTS_DIR/bench-sync-rest.json"
assert_eq "bench: every order answered 201" "$BENCH_ORDERS" "$(jq -r .ok "$out/chain.json")"
