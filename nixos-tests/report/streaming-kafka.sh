#!/bin/sh
# Writes results/streaming-kafka.json and .md (timings, lag series and plot,
# lag tables, replay hashes and diff), and the deterministic files apart from
# them: streaming-kafka.metrics.json (analytics of seed $SEED after every
# phase) and streaming-kafka.state.txt (inventory's canonical dump).
# usage: report/streaming-kafka.sh OUT_DIR RESULTS_DIR LAG_THRESHOLD
set -eu
out=$1 res=$2 thr=$3
mkdir -p "$res"
series_json() { awk 'BEGIN { printf "[" } { printf("%s[%s,%s]", (NR > 1 ? "," : ""), $1, $2) } END { printf "]" }' "$1"; }
cp "$out/replay-after.json" "$res/streaming-kafka.metrics.json"
cp "$out/crash-reference.state.txt" "$res/streaming-kafka.state.txt"
msha=$(sha256sum <"$out/replay-after.json" | cut -d' ' -f1)
bsha=$(sha256sum <"$out/replay-before.json" | cut -d' ' -f1)
ssha=$(sha256sum <"$out/crash-reference.state.txt" | cut -d' ' -f1)
csha=$(sha256sum <"$out/crash-after.state.txt" | cut -d' ' -f1)
jq -n --arg seed "${SEED:-1}" --argjson produce "$(cat "$out/produce.json")" \
    --argjson e2e "$(cat "$out/e2e.json")" --argjson stats "$(cat "$out/replay-stats.json")" \
    --argjson crash "$(cat "$out/crash.json")" \
    --argjson an "$(series_json "$out/analytics.lag.tsv")" \
    --argjson inv "$(series_json "$out/inventory.lag.tsv")" \
    --arg msha "$msha" --arg bsha "$bsha" --arg ssha "$ssha" --arg csha "$csha" \
    --arg diff "$(cat "$out/replay.diff")" --argjson thr "$thr" \
    --arg kills "$(cat "$out/crash-kills.txt")" '{
    model: "streaming-kafka", seed: ($seed | tonumber), broker: "librdkafka mock cluster, 3 brokers, 6 partitions",
    produce: ($produce | {events, delivered, failed, duration_s: (.duration_s * 1e6 | round / 1e6),
                          rate_eps: (.rate_per_s * 10 | round / 10),
                          latency_ms: (.latency_ms | {p50, p95, p99, max})}),
    end_to_end: ($e2e + {events_per_s: (($e2e.events / $e2e.end_to_end_s) * 10 | round / 10)}),
    lag: { threshold: $thr,
           analytics_throttled_1ms: { series_s_lag: $an },
           inventory_paused: { series_s_lag: $inv } },
    replay: { metrics_sha256_before: $bsha, metrics_sha256_after: $msha, identical: ($bsha == $msha),
              diff: $diff, rebuild_events: $stats.events_consumed, rebuild_active_s: $stats.active_seconds,
              rebuild_events_per_s: (if $stats.active_seconds > 0 then ($stats.events_consumed / $stats.active_seconds | round) else null end) },
    kill9: ($crash + { state_sha256_clean: $ssha, state_sha256_after_kills: $csha, kills: ($kills | split("\n")) })
}' >"$res/streaming-kafka.json"

plot=
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot <<EOG && plot=1
set terminal pngcairo size 900,420 noenhanced
set output "$res/streaming-kafka-lag.png"
set title "Consumer lag (messages) while slowed, then released"
set xlabel "seconds since the phase started"
set ylabel "lag"
set grid
set key top right
plot "$out/analytics.lag.tsv" using 1:2 with linespoints title "analytics (1 ms/event, both topics)", \
     "$out/inventory.lag.tsv" using 1:2 with linespoints title "inventory (paused)", \
     $thr with lines dashtype 2 title "threshold $thr"
EOG
fi

j=$res/streaming-kafka.json
{
    echo "# Part C: streaming over Kafka, measured"
    echo
    echo "Written by \`nixos-tests/lab streaming-kafka\` (local lab: librdkafka's mock cluster, 3"
    echo "brokers, 6 partitions per topic; seed ${SEED:-1}). Timings vary by run and are never hashed;"
    echo "the deterministic outputs are \`streaming-kafka.metrics.json\` and \`streaming-kafka.state.txt\`."
    echo
    echo "## Produce and end to end"
    echo
    echo "| what | value |"
    echo "| --- | ---: |"
    jq -r '"| events produced (idempotent, acks=all) | \(.produce.events) |",
           "| delivered / failed | \(.produce.delivered) / \(.produce.failed) |",
           "| produce time | \(.produce.duration_s) s |",
           "| produce rate | \(.produce.rate_eps) events/s |",
           "| delivery latency p50 / p99 / max | \(.produce.latency_ms.p50) / \(.produce.latency_ms.p99) / \(.produce.latency_ms.max) ms |",
           "| end to end, cold: from starting the producing process to lag 0 on both groups, polled every 0.25 s (includes the producer start and the first join and fetches of both consumer groups; the warmed-up figure is the benchmark one, README Performance) | \(.end_to_end.end_to_end_s) s = \(.end_to_end.events_per_s) events/s |"' "$j"
    echo
    echo "## Lag while slowed and after (threshold $thr)"
    echo
    [ -n "$plot" ] && echo "![lag](streaming-kafka-lag.png)" && echo
    for n in analytics inventory; do
        echo "$n, while slowed:"
        echo
        echo '```'
        cat "$out/$n.lag-during.txt"
        echo '```'
        echo
        echo "$n, after release:"
        echo
        echo '```'
        cat "$out/$n.lag-after.txt"
        echo '```'
        echo
    done
    echo "## Replay"
    echo
    jq -r '"- metrics.json before the offset reset: sha256 `\(.replay.metrics_sha256_before)`",
           "- metrics.json after rebuilding from offset 0: sha256 `\(.replay.metrics_sha256_after)`",
           "- identical (cmp): \(.replay.identical); diff: \(if .replay.diff == "" then "empty" else .replay.diff end)",
           "- rebuild: \(.replay.rebuild_events) events in \(.replay.rebuild_active_s) s of consuming (\(.replay.rebuild_events_per_s) events/s)"' "$j"
    echo
    echo "Why replay is consistent: analytics keeps the set of distinct events (by event_id) and"
    echo "computes every figure from that set, bucketing by the event time carried in the event."
    echo "A set has no order, so partition count, interleaving of the two topics, redeliveries and"
    echo "duplicates cannot change it; the document is written with a fixed key order and integer"
    echo "arithmetic (rates as fixed 6-decimal fractions). Rebuilding reads the same committed events"
    echo "and so yields the same bytes."
    echo
    echo "## kill -9 mid-stream"
    echo
    jq -r '"- orders: \(.kill9.orders); committed outcomes read since the reset: \(.kill9.outcomes), distinct order_ids: \(.kill9.distinct_order_ids)",
           "- inventory state sha256 clean run `\(.kill9.state_sha256_clean)`, after the kills `\(.kill9.state_sha256_after_kills)`",
           (.kill9.kills[] | "- \(.)")' "$j"
    echo
    echo "The mock cluster keeps no transaction state, so the outcomes of a transaction cut by"
    echo "SIGKILL stay readable there and show as repeats (identical events, same event_id); a real"
    echo "broker aborts them and read_committed readers never see them (the VM lab checks that)."
    echo
    echo "Analytics metrics of seed ${SEED:-1} after every phase:"
    echo
    echo '```json'
    jq -c .totals "$out/replay-after.json"
    echo '```'
} >"$res/streaming-kafka.md"
