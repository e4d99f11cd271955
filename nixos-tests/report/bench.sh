#!/bin/sh
# The benchmarks' bounds table, from their JSON in RESULTS_DIR (each row:
# what, ours, bound, met; a missing file's rows are left out), written to
# RESULTS_DIR/bench-bounds.md, which docs/performance.md links.
# usage: report/bench.sh RESULTS_DIR
set -eu
res=$1
md=$res/bench-bounds.md
{
    echo "| model | measure | ours | bound | met |"
    echo "| --- | --- | ---: | ---: | --- |"
    f=$res/bench-sync-rest.json
    [ -f "$f" ] && jq -r '
        "| sync-rest | orders/s at concurrency 20 ÷ `GET /healthz` req/s of the same server | \(.ratio_chain_over_noop) (\(.chain_order.throughput_rps) ÷ \(.noop_healthz.throughput_rps)) | ≥ \(.ratio_target) | \(if .met then "yes" else "no" end)\(if .met then "" else ", by \(.ratio_target - .ratio_chain_over_noop | . * 1000 | round / 1000)" end) |",
        "| sync-rest | p50 at concurrency 20, closed loop | \(.chain_order.latency_ms.p50) ms | ≤ \(.p50_target_ms) ms | \(if .p50_met then "yes" else "no" end)\(if .p50_met then "" else ", by \(.chain_order.latency_ms.p50 - .p50_target_ms | . * 1000 | round / 1000) ms" end) |",
        "| sync-rest | per order (CPU µs, context switches, fsyncs): order, inventory, notification | \(.per_order.order.cpu_us) / \(.per_order.order.context_switches) / \(.fsyncs_per_order.order // "-"); \(.per_order.inventory.cpu_us) / \(.per_order.inventory.context_switches) / \(.fsyncs_per_order.inventory // "-"); \(.per_order.notification.cpu_us) / \(.per_order.notification.context_switches) / \(.fsyncs_per_order.notification // "-") | reported | |",
        "| sync-rest | p50 / mean for one client | \(.sequential_order.latency_ms.p50) / \(.sequential_order.latency_ms.mean) ms | | |",
        "| sync-rest | peak RSS under that load: order, inventory, notification | \(.peak_rss_mib.order), \(.peak_rss_mib.inventory), \(.peak_rss_mib.notification) MiB | ≤ \(.peak_rss_limit_mib) MiB | \(if .peak_rss_met then "yes" else "no" end) |",
        "| sync-rest | RSS of the order service holding \(.order_rss_mib_with_idle_connections.connections) idle connections | \(.order_rss_mib_with_idle_connections.rss_mib) MiB | reported | |"' "$f"
    f=$res/bench-async-rabbitmq.json
    [ -f "$f" ] && jq -r '
        def yn: if . then "yes" else "no" end;
        "| async-rabbitmq | ceiling: consume + confirmed republish to 2 quorum queues + ack, no work (`loadgen amqp relay --fanout 2`) | \(.relay_ceiling.rate) msg/s (\(.relay_ceiling.over_noop) of a no-op consumer, \(.noop_consume_rate) msg/s) | | |",
        "| async-rabbitmq | inventory drain rate ÷ that ceiling, 100k backlog | \(.drain.over_ceiling) (\(.drain.rate) msg/s) | ≥ \(.drain.bound) | \(.drain.met | yn)\(if .drain.met then "" else ", by \(.drain.missed_by)" end) |",
        "| async-rabbitmq | end to end, accepted → notified, ÷ that ceiling | \(.end_to_end.over_ceiling) (\(.end_to_end.rate) orders/s) | reported | |",
        "| async-rabbitmq | inventory RSS growth, empty queue → 100k backlog | \(.inventory_rss_kib.growth) KiB | ≤ 2 MiB | \(.inventory_rss_kib.met | yn) |"' "$f"
    f=$res/bench-streaming-kafka.json
    [ -f "$f" ] && jq -r '
        def yn: if . then "yes" else "no" end;
        "| streaming-kafka | 10,000 events, idempotent, acks=all: loadgen ÷ kcat, whole processes, median of 9 | \(.produce.ratio) (\(.produce.loadgen_kafka_eps) ÷ \(.produce.kcat_eps) events/s) | ≥ \(.produce.bound) | \(.produce.met | yn)\(if .produce.met then "" else ", by \(.produce.missed_by)" end) |",
        "| streaming-kafka | ceiling: consume + produce onward in a transaction per batch, no work (`loadgen kafka relay`); without transactions | \(.relay_ceiling.transactional_eps); \(.relay_ceiling.plain_eps) msg/s | | |",
        "| streaming-kafka | end to end (produced → reserved → counted, both groups) ÷ that ceiling | \(.end_to_end.ratio_to_relay) (\(.end_to_end.eps) events/s) | ≥ \(.end_to_end.bound) | \(.end_to_end.met | yn)\(if .end_to_end.met then "" else ", by \(.end_to_end.missed_by)" end) |",
        "| streaming-kafka | 10,000 events end to end: produced, inventory done, analytics done | \(.end_to_end.ms.produced), \(.end_to_end.ms.inventory_done), \(.end_to_end.ms.analytics_done) ms | < 1000 ms | \(.end_to_end.under_1s.met | yn) |",
        "| streaming-kafka | replay: analytics rebuilding ÷ kcat -C, the same two topics, whole processes | \(.replay.ratio) (\(.replay.analytics_rebuild_eps) ÷ \(.replay.kcat_consume_eps) msg/s) | ≥ \(.replay.bound) | \(.replay.met | yn)\(if .replay.met then "" else ", by \(.replay.missed_by)" end) |"' "$f"
} >"$md"
