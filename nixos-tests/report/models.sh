#!/bin/sh
# From results/bench-models.json: the comparison table (bench-models.md), its
# plot (bench-models.png: p50 and p99 of client and accepted-to-final latency
# per model, log scale). The README and docs/performance.md link the table;
# nothing is copied into them.
# usage: report/models.sh BENCH-MODELS.JSON RESULTS_DIR
set -eu
json=$1 res=$2
md=$res/bench-models.md
jq -r '
    def ms: if . == null then "–" elif . >= 100 then (. | round | tostring) else (. * 100 | round / 100 | tostring) end;
    def lat(x): "\(x.p50 | ms) / \(x.p99 | ms)";
    def cpu: to_entries | map(select(.key != "total") | "\(.key) \(.value | round)") | join(", ");
    "Workload: seed \(.workload.seed); closed loop \(.workload.closed_loop.orders) orders at concurrency \(.workload.closed_loop.concurrency); open loop \(.workload.open_loop.rate) orders/s for \(.workload.open_loop.seconds) s; after \(.workload.warmup_orders) warm-up orders; \(.cores) cores. Latencies in ms (p50 / p99).",
    "",
    "| model | client, closed | accepted → final, closed | answers/s | outcomes/s | client, open | accepted → final, open | CPU µs per order | of which |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    (.models[] | "| \(.model) | \(lat(.closed.client_ms)) | \(lat(.closed.accepted_to_final_ms)) | \(.closed.throughput_rps) | \(.closed.final_per_s) | \(lat(.open.client_ms)) | \(lat(.open.accepted_to_final_ms)) | \(.cpu_us_per_order.total | round) | \(.cpu_us_per_order | cpu) |"),
    "",
    "accepted → final: sync-rest answers 201 only when the order is final, so it is the client latency; async-rabbitmq from the 202 to \"confirmed\" in `GET /orders/{id}` (every 10th order, polled about every ms); streaming-kafka from the 202 to the outcome on `inventory-events` (every order). outcomes/s: orders finished per second of the closed-loop run. CPU: each process from /proc over the closed-loop run until every order is done; broker = RabbitMQ or the Kafka mock; loadgen includes its following."
' "$json" >"$md"

if command -v gnuplot >/dev/null 2>&1; then
    tsv=$res/bench-models.tsv.tmp
    jq -r '.models[] | [.model, .closed.client_ms.p50, .closed.client_ms.p99,
        .closed.accepted_to_final_ms.p50, .closed.accepted_to_final_ms.p99] | @tsv' "$json" >"$tsv"
    gnuplot -e "set terminal pngcairo size 900,420; set output '$res/bench-models.png';
        set title 'Three models, same workload (closed loop, concurrency 20)';
        set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1;
        set logscale y; set ylabel 'ms (log scale)'; set grid y; set key top left;
        plot '$tsv' using 2:xtic(1) title 'client p50', '' using 3 title 'client p99',
             '' using 4 title 'accepted→final p50', '' using 5 title 'accepted→final p99'" 2>/dev/null ||
        gnuplot -e "set terminal png size 900,420; set output '$res/bench-models.png';
            set style data histograms; set logscale y;
            plot '$tsv' using 2:xtic(1) title 'client p50', '' using 3 title 'client p99',
                 '' using 4 title 'final p50', '' using 5 title 'final p99'" 2>/dev/null || true
    rm -f "$tsv"
fi
