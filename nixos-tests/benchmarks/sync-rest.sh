#!/bin/sh
# Part A benchmark: chain throughput at concurrency 20 over the same server's
# no-op endpoint (GET /healthz), measured by loadgen seconds apart in one run;
# p50 at concurrency 20 and for a single client; peak RSS (VmHWM) of each
# service under that load.
# Writes $RESULTS_DIR/bench-sync-rest.json (never hashed: timings).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
: "${BENCH_ORDERS:=20000}" "${BENCH_NOOP:=60000}" "${RESULTS_DIR:=$COMMLAB_ROOT/results}"

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

echo "# bench sync-rest: warming up"
run warm -n 2000 -c 20 --start 100000000
echo "# bench sync-rest: GET /healthz x $BENCH_NOOP, then POST /order x $BENCH_ORDERS, concurrency 20"
run noop --target healthz -n "$BENCH_NOOP" -c 20
run chain -n "$BENCH_ORDERS" -c 20 --start 200000000
run noop2 --target healthz -n "$BENCH_NOOP" -c 20
# One client, one order at a time: the latency of the chain itself, no queueing.
run sequential -n 2000 -c 1 --start 300000000
jq -n --slurpfile noop "$out/noop.json" --slurpfile noop2 "$out/noop2.json" \
    --slurpfile chain "$out/chain.json" --slurpfile seq "$out/sequential.json" \
    --arg rss_order "$(hwm order)" --arg rss_inv "$(hwm inventory)" --arg rss_notif "$(hwm notification)" \
    --arg cores "$(nproc)" '
    ([$noop[0].rate_per_s, $noop2[0].rate_per_s] | add / 2) as $noop_rps |
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
      ratio_target: 0.2,
      met: ($chain[0].rate_per_s / $noop_rps >= 0.2),
      peak_rss_mib: { order: ($rss_order | tonumber), inventory: ($rss_inv | tonumber),
                      notification: ($rss_notif | tonumber) },
      peak_rss_limit_mib: 16,
      peak_rss_met: ([$rss_order, $rss_inv, $rss_notif] | map(tonumber) | max <= 16)
    }' >"$RESULTS_DIR/bench-sync-rest.json"
jq -r '"chain \(.chain_order.throughput_rps)/s over no-op \(.noop_healthz.throughput_rps)/s = ratio \(.ratio_chain_over_noop) (target \(.ratio_target)); chain p50 \(.chain_order.latency_ms.p50) ms (one client: p50 \(.sequential_order.latency_ms.p50), mean \(.sequential_order.latency_ms.mean) ms); peak RSS MiB order \(.peak_rss_mib.order), inventory \(.peak_rss_mib.inventory), notification \(.peak_rss_mib.notification) (limit 16)"' \
    "$RESULTS_DIR/bench-sync-rest.json"
assert_eq "bench: every order answered 201" "$BENCH_ORDERS" "$(jq -r .ok "$out/chain.json")"
