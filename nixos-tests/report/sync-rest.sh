#!/bin/sh
# Writes results/sync-rest.json and .md from the phase JSON of one run, and the
# deterministic state dump of the baseline (results/sync-rest.state.txt).
# usage: report/sync-rest.sh OUT_DIR RESULTS_DIR ORDER_TIMEOUT_MS DELAY_OVERHEAD_MS FAIL_P99_MS
set -eu
out=$1 res=$2 timeout=$3 overhead=$4 failp99=$5
mkdir -p "$res"
scen='baseline delay fail500 timeout kill after-kill'
files=
for s in $scen; do files="$files $out/$s.json"; done
# shellcheck disable=SC2086
jq -s --arg seed "${SEED:-1}" '{
    model: "sync-rest",
    seed: ($seed | tonumber),
    scenarios: [ .[] | {
        name: .label, mode, requests, concurrency, offered_rate,
        successes: .ok, errors: .errors,
        status: (.status | with_entries(select(.value > 0))),
        latency_ms: (.latency_ms | map_values(. * 1000 | round / 1000)),
        throughput_rps: (.rate_per_s * 10 | round / 10)
    } | with_entries(select(.value != null)) ]
}' $files >"$res/sync-rest.json"

{
    echo "# Part A: synchronous REST, measured"
    echo
    echo "Written by \`nixos-tests/lab\` (local lab, seed ${SEED:-1}); timings vary by machine and"
    echo "run, and are never part of a hashed file. Latency in ms, from loadgen's histogram."
    echo
    echo "| scenario | requests | concurrency | ok | errors by status | p50 | p95 | p99 | max | mean | req/s |"
    echo "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    jq -r '.scenarios[] | "| \(.name)\(if .mode == "open" then " (open loop, \(.offered_rate)/s)" else "" end) | \(.requests) | \(.concurrency) | \(.successes) | \(.status | to_entries | map(select(.key | test("^2") | not)) | map("\(.key): \(.value)") | join(", ") | if . == "" then "-" else . end) | \(.latency_ms.p50) | \(.latency_ms.p95) | \(.latency_ms.p99) | \(.latency_ms.max) | \(.latency_ms.mean) | \(.throughput_rps) |"' "$res/sync-rest.json"
    cat <<EOT

Why each behaves as it does:

- **baseline**: every order is three HTTP exchanges (client → order → inventory, then →
  notification) and four durable SQLite commits, all while the client waits. Latency is the
  sum of the chain; concurrent commits share one fsync (group commit).
- **delay** (inventory sleeps 2000 ms before answering): the order service holds the client for
  the whole downstream call, so p50 moves by the injected delay and no more than ${overhead} ms
  on top. Nothing fails because the order timeout (${timeout} ms) is above the delay.
- **fail500** (inventory answers 500): the failure propagates at once as 502; p99 stays under
  ${failp99} ms because nobody waits. No notification is sent for a failed reservation.
- **timeout** (inventory sleeps 5000 ms, order timeout ${timeout} ms): the client waits the full
  timeout, then gets 504. Nothing is notified. The order service stores a release with each
  failed order and sends it to inventory at once; the delayed /reserve calls, served later,
  find their orders barred and move nothing, so the stock ends as it began (see the README).
- **kill** (open loop; inventory killed with SIGKILL 2 s in, restarted 3 s later): while it is
  down the order service answers 502 (connection refused) at once; after the restart the same
  order service process succeeds again on fresh keep-alive connections. The orders that
  failed meanwhile are released once inventory answers again; none holds stock.
- **after-kill**: 50 orders right after the restart, all 201.
EOT
} >"$res/sync-rest.md"
cp "$out/baseline.state.txt" "$res/sync-rest.state.txt"

# The latency distribution of each scenario: latency (log) against the
# percentile, spread out towards the tail ("nines": 90, 99, 99.9...).
plot=$(mktemp -d)
curves=
for s in $scen; do
    jq -r '.latency_percentiles_ms[]? | select(.[0] < 100) | "\(.[0])\t\(.[1])"' "$out/$s.json" \
        >"$plot/$s.tsv"
    [ -s "$plot/$s.tsv" ] || continue
    curves="$curves${curves:+, }'$plot/$s.tsv' using (-log10(1 - \$1 / 100)):2 with linespoints title '$s'"
done
if [ -n "$curves" ] && command -v gnuplot >/dev/null 2>&1; then
    for term in "pngcairo size 900,540" "svg size 900,540 dynamic"; do
        ext=${term%% *}
        ext=${ext%cairo}
        gnuplot <<EOG
set terminal $term
set output '$res/sync-rest.latency.$ext'
set title 'sync-rest: latency distribution per scenario (loadgen histogram)'
set xlabel 'percentile'
set ylabel 'latency (ms)'
set logscale y
set grid
set key outside right
set xtics ('0' 0, '50' log10(2), '90' 1, '99' 2, '99.9' 3, '99.99' 4)
plot $curves
EOG
    done
    printf '\n![latency distribution per scenario](sync-rest.latency.svg)\n' >>"$res/sync-rest.md"
fi
rm -rf "$plot"
