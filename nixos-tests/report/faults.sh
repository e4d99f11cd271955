#!/bin/sh
# Writes results/faults.{json,md} and the time-series plots of the fault
# steps of the plans (sync-rest, async-rabbitmq, rabbitmq-cluster): Kafka
# lag across the broker outage, queue depth across the inventory/broker cut
# and across the cluster partition. Timings only: nothing here is hashed
# (faults-kafka.metrics.json is, and is written by the kafka-cluster plan). Parts that did not run are left out.
# usage: report/faults.sh OUT_DIR RESULTS_DIR
set -eu
out=$1 res=$2
mkdir -p "$res"

plot() { # TSV MARKS PNG TITLE YLABEL COLUMNS(using-spec title pairs, ;-separated)
    command -v gnuplot >/dev/null 2>&1 || return 0
    _arrows=
    if [ -f "$2" ]; then
        _arrows=$(awk '{ printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2; set label \"%s\" at %s, graph 0.95 offset 0.5,0; ", $1, $1, $2, $1 }' "$2")
    fi
    _plots=$(echo "$6" | awk -F';' -v f="$1" '{ for (i = 1; i <= NF; i += 2) printf "%s\x27%s\x27 using %s with lines lw 2 title \x27%s\x27", (i > 1 ? ", " : ""), f, $i, $(i + 1) }')
    gnuplot -e "set terminal pngcairo size 900,420; set output '$3'; set title '$4';
        set xlabel 'seconds'; set ylabel '$5'; set grid; set key top right; $_arrows plot $_plots" 2>/dev/null ||
        gnuplot -e "set terminal png size 900,420; set output '$3'; $_arrows plot $_plots" 2>/dev/null || true
}

series() { # TSV: [[t, v...], ...]
    [ -f "$1" ] || { echo null; return; }
    jq -Rn '[inputs | split(" ") | map(tonumber? // 0)]' <"$1"
}
marks() { [ -f "$1.marks" ] && jq -Rn '[inputs | split(" ") | {t_s: (.[0] | tonumber), event: .[1]}]' <"$1.marks" || echo null; }
run() { [ -f "$1" ] && jq '{requests, status: (.status | with_entries(select(.value > 0))), latency_ms}' "$1" || echo null; }

[ -f "$out/kafka/kafka-lag.tsv" ] && plot "$out/kafka/kafka-lag.tsv" "$out/kafka/kafka-lag.tsv.marks" \
    "$res/faults-kafka-lag.png" "Kafka: events not yet processed; broker 1 down, leaders moved to broker 2" \
    "events not yet processed" "1:2;inventory;1:3;analytics"
[ -f "$out/amqp/amqp-depth.tsv" ] && plot "$out/amqp/amqp-depth.tsv" "$out/amqp/amqp-depth.tsv.marks" \
    "$res/faults-amqp-depth.png" "RabbitMQ: inventory.order-placed while inventory was cut off" \
    "messages ready" "1:2;depth"
[ -f "$out/cluster/cluster-depth.tsv" ] && plot "$out/cluster/cluster-depth.tsv" \
    "$out/cluster/cluster-depth.tsv.marks" "$res/faults-cluster-depth.png" \
    "RabbitMQ cluster: inventory.order-placed while rabbitmq3 was partitioned" \
    "messages ready" "1:2;depth"

jq -n --argjson kl "$(series "$out/kafka/kafka-lag.tsv")" --argjson km "$(marks "$out/kafka/kafka-lag.tsv")" \
    --argjson rest "$(run "$out/rest/partition.json")" \
    --argjson ad "$(series "$out/amqp/amqp-depth.tsv")" --argjson am "$(marks "$out/amqp/amqp-depth.tsv")" \
    --argjson amqp "$(run "$out/amqp/partition.json")" \
    --argjson ck "$(run "$out/cluster/cluster-kill.json")" --argjson cp "$(run "$out/cluster/cluster-partition.json")" \
    --argjson cd "$(series "$out/cluster/cluster-depth.tsv")" --argjson cm "$(marks "$out/cluster/cluster-depth.tsv")" '
    def peak(s; i): if s == null then null else ([s[] | .[i]] | max) end;
    {
      kafka_broker_outage: (if $kl == null then null else
        {events: 10000, peak_lag: {inventory: peak($kl; 1), analytics: peak($kl; 2)}, events_marked: $km,
         lag_series: $kl} end),
      rest_partition: $rest,
      amqp_partition: (if $amqp == null then null else
        {orders: $amqp, peak_depth: peak($ad; 1), events_marked: $am, depth_series: $ad} end),
      rabbitmq_cluster: (if $ck == null then null else
        {node_killed: $ck, node_partitioned: $cp, peak_depth_partition: peak($cd; 1),
         events_marked: $cm, depth_series: $cd} end)
    }' >"$res/faults.json"

{
    echo "# Faults across hosts and brokers (local lab, the plans of \`nixos-tests/plans/\`)"
    echo
    echo "Timings vary from run to run; what the scenarios assert does not (see the README)."
    echo
    echo "| scenario | orders / events | answers | peak backlog |"
    echo "| --- | --- | --- | --- |"
    jq -r '
      def st: if . == null then "-" else (.status | to_entries | map("\(.key): \(.value)") | join(", ")) end;
      (if .kafka_broker_outage then "| Kafka: broker 1 down mid-stream, leaders moved | 10000 events | all delivered, reserved once, counted once | lag \(.kafka_broker_outage.peak_lag.inventory) (inventory), \(.kafka_broker_outage.peak_lag.analytics) (analytics) |" else empty end),
      (if .rest_partition then "| REST: order cut off from inventory | \(.rest_partition.requests) | \(.rest_partition | st) | - |" else empty end),
      (if .amqp_partition then "| RabbitMQ: inventory cut off from the broker | \(.amqp_partition.orders.requests) | \(.amqp_partition.orders | st) | depth \(.amqp_partition.peak_depth) |" else empty end),
      (if .rabbitmq_cluster then
        "| RabbitMQ cluster: node killed and restarted | \(.rabbitmq_cluster.node_killed.requests) | \(.rabbitmq_cluster.node_killed | st) | - |",
        "| RabbitMQ cluster: node partitioned, healed | \(.rabbitmq_cluster.node_partitioned.requests) | \(.rabbitmq_cluster.node_partitioned | st) | depth \(.rabbitmq_cluster.peak_depth_partition) |"
       else empty end)' "$res/faults.json"
    echo
    for p in faults-kafka-lag faults-amqp-depth faults-cluster-depth; do
        if [ -f "$res/$p.png" ]; then echo "![$p]($p.png)"; fi
    done
} >"$res/faults.md"
