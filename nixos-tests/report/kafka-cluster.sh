#!/bin/sh
# Writes results/faults-kafka.metrics.json (deterministic: the analytics
# output of the 10,000 events across the broker outage, the same bytes as an
# uninterrupted run's) and results/kafka-cluster.{json,md} with the plot of
# the events not yet processed across the outage (timings: never hashed).
# usage: report/kafka-cluster.sh OUT_DIR RESULTS_DIR
set -eu
out=$1 res=$2
mkdir -p "$res"
cp "$out/produce.metrics.json" "$res/faults-kafka.metrics.json"
tsv=$out/kafka-lag.tsv
plot=
if command -v gnuplot >/dev/null 2>&1 && [ -s "$tsv" ]; then
    arrows=
    [ -f "$tsv.marks" ] && arrows=$(awk '{ printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2; set label \"%s\" at %s, graph 0.95 offset 0.5,0; ", $1, $1, $2, $1 }' "$tsv.marks")
    gnuplot -e "set terminal pngcairo size 900,420; set output '$res/kafka-cluster-lag.png';
        set title 'Kafka: events not yet processed; one broker down, then back'; set xlabel 'seconds';
        set ylabel 'events not yet processed'; set grid; set key top right; $arrows
        plot '$tsv' using 1:2 with lines lw 2 title 'inventory', '$tsv' using 1:3 with lines lw 2 title 'analytics'" \
        2>/dev/null && plot=1
fi
series=$(jq -Rn '[inputs | split(" ") | map(tonumber? // 0)]' <"$tsv")
marks=null
[ -f "$tsv.marks" ] && marks=$(jq -Rn '[inputs | split(" ") | {t_s: (.[0] | tonumber), event: .[1]}]' <"$tsv.marks")
jq -n --argjson s "$series" --argjson m "$marks" --argjson p "$(cat "$out/produce.json")" '
    {events: 10000, produce: ($p | {events, delivered, failed}),
     peak_unprocessed: {inventory: ([$s[] | .[1]] | max), analytics: ([$s[] | .[2]] | max)},
     events_marked: $m, unprocessed_series: $s}' >"$res/kafka-cluster.json"
{
    echo "# Part C: a broker down mid-stream (local lab: the mock cluster)"
    echo
    echo "Written by the plan \`nixos-tests/plans/kafka-cluster.json\` (locally the mock cluster's broker"
    echo "goes down and its partitions' leadership moves; in the VM a broker node crashes). Timings"
    echo "vary from run to run; \`faults-kafka.metrics.json\` is deterministic and hashed."
    echo
    jq -r '"| events | delivered / failed | peak not yet processed (inventory, analytics) |",
           "| ---: | --- | --- |",
           "| \(.events) | \(.produce.delivered) / \(.produce.failed) | \(.peak_unprocessed.inventory), \(.peak_unprocessed.analytics) |"' \
        "$res/kafka-cluster.json"
    [ -n "$plot" ] && echo && echo "![lag](kafka-cluster-lag.png)"
    true
} >"$res/kafka-cluster.md"
