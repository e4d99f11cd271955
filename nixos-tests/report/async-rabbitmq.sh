#!/bin/sh
# Writes results/async-rabbitmq.{json,md}, the depth plot of scenario 2
# (gnuplot, PNG and SVG), and the deterministic files: the reference state
# dump for the seed (.state.txt, .state.sha256) and the counts proving
# idempotency and the dead letters' reasons (.counts.txt). Timings go only in
# the .json/.md and the depth series, never in a hashed file.
# usage: report/async-rabbitmq.sh OUT_DIR RESULTS_DIR
set -eu
out=$1 res=$2
mkdir -p "$res"
m=async-rabbitmq

cp "$out/reference.state.txt" "$res/$m.state.txt"
sha256sum <"$res/$m.state.txt" | cut -d' ' -f1 >"$res/$m.state.sha256"
{
    echo "# Deterministic for seed ${SEED:-1}: counts from the idempotency and poison phases."
    jq -r 'to_entries[] | "idempotency\t\(.key)\t\(.value)"' "$out/idempotency.json"
    cut -f1,2 "$out/dlq.txt" | sort | awk -F'\t' '{ printf "dead_letter\t%s\t%s\n", $1, $2 }'
    for p in baseline backlog broker kill; do
        printf 'workload_state_sha256\t%s\t%s\n' "$p" "$(cat "$out/$p.workload.sha256")"
    done
} >"$res/$m.counts.txt"
# Depth over time, seconds since the start of scenario 2 (-1 = broker unreachable).
awk '{ printf "%.3f\t%s\n", $1 / 1000, $2 }' "$out/backlog.depth.txt" >"$res/$m.depth.tsv"

restart_s=$(jq -r '.restart_at_ms / 1000' "$out/backlog.drain.json")
if command -v gnuplot >/dev/null 2>&1; then
    for fmt in png svg; do
        if [ $fmt = png ]; then term='pngcairo size 900,420'; else term='svg size 900,420'; fi
        gnuplot -e "set terminal $term; set output '$res/$m.depth.$fmt';
            set title 'Scenario 2: depth of inventory.order-placed (inventory SIGKILLed, then restarted)';
            set xlabel 'seconds'; set ylabel 'messages ready'; set grid; set key top left;
            set arrow from $restart_s, graph 0 to $restart_s, graph 1 nohead dt 2;
            set label 'restart' at $restart_s, graph 0.95 offset 0.5,0;
            plot '$res/$m.depth.tsv' using 1:2 with lines lw 2 title 'depth'" 2>/dev/null ||
            { [ $fmt = png ] && gnuplot -e "set terminal png size 900,420; set output '$res/$m.depth.png';
                plot '$res/$m.depth.tsv' using 1:2 with lines title 'depth'" 2>/dev/null || true; }
    done
fi

jq -n --arg seed "${SEED:-1}" \
    --slurpfile drain "$out/backlog.drain.json" \
    --slurpfile idem "$out/idempotency.json" \
    --rawfile dlq "$out/dlq.txt" \
    --slurpfile b "$out/baseline.json" --slurpfile g "$out/backlog.json" \
    --slurpfile r "$out/broker.json" --slurpfile k "$out/kill.json" \
    --rawfile depth "$res/$m.depth.tsv" \
    --arg hash "$(cat "$res/$m.state.sha256")" '
    def run: {requests, ok, status: (.status | with_entries(select(.value > 0))),
              throughput_rps: (.rate_per_s * 10 | round / 10),
              latency_ms: (.latency_ms | map_values(. * 1000 | round / 1000))};
    {
      model: "async-rabbitmq", seed: ($seed | tonumber),
      reference_state_sha256: $hash,
      scenarios: {baseline: ($b[0] | run), backlog: ($g[0] | run),
                  broker_restart: ($r[0] | run), kill: ($k[0] | run)},
      backlog: ($drain[0] + {depth_series: ($depth | split("\n") | map(select(length > 0) | split("\t") | {t_s: (.[0] | tonumber), depth: (.[1] | tonumber)}))}),
      idempotency: $idem[0],
      dead_letters: ($dlq | split("\n") | map(select(length > 0) | split("\t") | {reason: .[0], broker_reason: .[1], bytes: (.[2] | tonumber)}))
    }' >"$res/$m.json"

{
    echo "# Part B: asynchronous messaging over RabbitMQ, measured"
    echo
    echo "Written by \`nixos-tests/lab\` (local lab, seed ${SEED:-1}). Timings vary by run and are never"
    echo "hashed; the deterministic files are \`$m.state.txt\` (sha256 \`$(cat "$res/$m.state.sha256")\`)"
    echo "and \`$m.counts.txt\`."
    echo
    echo "| scenario | orders | accepted (202) | p50 ms | p99 ms | state equals the uninterrupted run |"
    echo "| --- | ---: | ---: | ---: | ---: | --- |"
    for p in baseline:b backlog:g broker:r kill:k; do
        n=${p%%:*}
        f=$out/$n.json
        [ "$n" = broker ] && label="broker restart" || label=$n
        [ "$n" = kill ] && label="kill -9 inventory x4"
        [ "$n" = backlog ] && label="backlog (inventory down)"
        same=no
        [ "$(cat "$out/$n.workload.sha256")" = "$(sha256sum <"$out/$n.reference.txt" | cut -d' ' -f1)" ] && same=yes
        jq -r --arg l "$label" --arg s "$same" '"| \($l) | \(.requests) | \(.status["202"] // 0) | \(.latency_ms.p50 * 10 | round / 10) | \(.latency_ms.p99 * 10 | round / 10) | \($s) |"' "$f"
    done
    echo
    jq -r '"Scenario 2: the depth of `inventory.order-placed` peaked at \(.peak_depth) messages; after the restart (at \(.restart_at_ms / 1000) s) it was back to 0 within \(.drain_ms) ms (sampled every 250 ms)."' "$out/backlog.drain.json"
    echo
    echo "![depth over time]($m.depth.svg)"
    echo
    echo "Idempotency (the same OrderPlaced published twice by hand with amqp-publish, then once more with a"
    echo "new event_id for the same order_id):"
    echo
    jq -r '"deliveries \(.deliveries), applied \(.applied), recognised duplicates \(.duplicates), reservations \(.reservations), notifications \(.notifications), burgers taken \(.burgers_taken) (2 ordered)."' "$out/idempotency.json"
    echo
    echo "Dead letters in \`inventory.order-placed.dlq\` (reason header written by the consumer; the broker's"
    echo "x-death reason when the broker dead-lettered it):"
    echo
    echo "| reason | broker reason | bytes |"
    echo "| --- | --- | ---: |"
    awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$out/dlq.txt"
    cat <<'EOT'

Idempotency strategy: every event id is derived from (type, order_id), so a retry or a republish
carries the same id. The relay marks an outbox row sent only after the broker's confirm, so a
crash republishes (never loses). Each consumer, in one SQLite transaction per batch, records the
event_id in processed_events and applies the effect (reservation keyed by order_id; one
notification per order_id; an order's status), writing its own outcome event to its outbox in
the same transaction; it acks only after that commit. A redelivery finds its event_id processed
and is acked with no effect; a new event_id for a known order_id gets the first answer and adds no
second outcome (same derived id, unique in the outbox).
EOT
} >"$res/$m.md"
