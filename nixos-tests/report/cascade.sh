#!/bin/sh
# Writes results/cascade.json, cascade.md and a plot per scenario
# (cascade-unprotected.png, cascade-protected.png, cascade-baseline.png) from
# the phase files of scenarios/cascade.sh: loadgen's JSON and traces and the
# sampler's TSV.
# usage: report/cascade.sh OUT_DIR RESULTS_DIR TIMEOUT_MS LIMIT FAILURES COOLDOWN_MS
set -eu
[ $# -eq 6 ] || { sed -n '6p' "$0" | sed 's/^# //' >&2; exit 2; }
out=$1 res=$2 timeout=$3 limit=$4 failures=$5 cooldown=$6
mkdir -p "$res"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# col FILE NAME: the 1-based index of a TSV header's column (0 if absent).
col() {
    head -n 1 "$1" | awk -F'\t' -v c="$2" '{ for (i = 1; i <= NF; i++) if ($i == c) { print i; exit } print 0 }'
}

# quantile P: the P-quantile (0-1) of the numbers on stdin, null if none.
quantile() {
    sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (!NR) { print "null"; exit }
        i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1; print v[i] }'
}

# scenario NAME: one JSON object of figures from the files of one phase.
scenario() {
    _n=$1
    _t0=$(jq -r '.start_unix_ms // 0' "$out/$_n.json")
    _s="$out/$_n.samples.tsv"
    _tr="$out/$_n.trace.tsv"
    _hz="$out/$_n.healthz.tsv"
    _heal=$(cat "$out/$_n.heal_ms" 2>/dev/null || echo null)
    _first=$(cat "$out/$_n.first_201_ms" 2>/dev/null || echo null)
    [ "$_first" = NA ] && _first=null
    # Where inventory was hanging: the whole run, or up to the heal.
    _end=$([ "$_heal" = null ] && echo 1e18 || echo "$_heal")
    _hang=$([ "$_n" = baseline ] && echo 0 || echo "$_end")
    _ci=$(col "$_s" inflight)
    _cb=$(col "$_s" breaker_state)
    _peak=$(awk -F'\t' -v k="$_ci" 'NR > 1 && k && $k != "NA" && $k > m { m = $k } END { print m + 0 }' "$_s")
    # Counters over the run: last sample less first. A counter appears in
    # /metrics at its first count (NA before: 0); never seen: null.
    _delta() {
        _k=$(col "$_s" "$1")
        awk -F'\t' -v k="$_k" 'NR == 2 && k { f = $k == "NA" ? 0 : $k }
            NR > 1 && k && $k != "NA" { n++; l = $k } END { print n ? l - f : "null" }' "$_s"
    }
    # Calls sent to inventory while it hung: read by the phase just before
    # inventory's return; else from the samples (which may overshoot by one
    # sample, read while it returned).
    _kc=$(col "$_s" inventory_calls)
    _callsh=$(awk -F'\t' -v k="$_kc" -v t0="$_t0" -v b="$_end" 'NR == 2 && k { f = $k == "NA" ? 0 : $k }
        NR > 1 && k && $k != "NA" && $1 - t0 < b { n++; l = $k } END { print n ? l - f : "null" }' "$_s")
    [ -f "$out/$_n.calls_hang" ] && _callsh=$(cat "$out/$_n.calls_hang")
    _open_s=$(awk -F'\t' -v k="$_cb" 'NR > 2 && k && p == 1 { s += ($1 - pt) / 1000 } NR > 1 { p = $k; pt = $1 } END { printf "%.1f", s }' "$_s")
    _o503=$(awk -F'\t' -v b="$_hang" 'NR > 1 && $3 == 503 && $1 < b { print $2 }' "$_tr" | quantile 0.99)
    _hz99=$(awk -F'\t' -v b="$_hang" 'NR > 1 && ($1 < b || b == 0) { print ($3 == 200 ? $2 : 1e9) }' "$_hz" | quantile 0.99)
    _hz50=$(awk -F'\t' -v b="$_hang" 'NR > 1 && ($1 < b || b == 0) { print ($3 == 200 ? $2 : 1e9) }' "$_hz" | quantile 0.5)
    # The bystander: notification's /healthz in the same window (absent in
    # runs from before it was timed).
    _by99=null
    [ -f "$out/$_n.control.tsv" ] &&
        _by99=$(awk -F'\t' -v b="$_hang" 'NR > 1 && ($1 < b || b == 0) { print ($3 == 200 ? $2 : 1e9) }' \
            "$out/$_n.control.tsv" | quantile 0.99)
    jq -n --arg name "$_n" --slurpfile lg "$out/$_n.json" --slurpfile hz "$out/$_n.healthz.json" \
        --argjson peak "$_peak" --argjson heal "$_heal" --argjson first "$_first" \
        --argjson open_s "$_open_s" --argjson p99_503 "$_o503" --argjson hz99 "$_hz99" --argjson hz50 "$_hz50" \
        --argjson opened "$(_delta breaker_opened)" --argjson half "$(_delta breaker_half_opened)" \
        --argjson closed "$(_delta breaker_closed)" --argjson calls "$(_delta inventory_calls)" \
        --argjson calls_hang "$_callsh" --argjson by99 "$_by99" \
        --argjson over "$(_delta refused_overloaded)" --argjson circ "$(_delta refused_circuit_open)" '
        def r3: if . == null then null else . * 1000 | round / 1000 end;
        $lg[0] as $l | {
            name: $name,
            offered_rate: $l.offered_rate, duration_s: ($l.duration_s * 10 | round / 10),
            requests: $l.requests,
            status: ($l.status | with_entries(select(.value > 0))),
            order_latency_ms: ($l.latency_ms | map_values(r3)),
            refusal_p99_ms: ($p99_503 | r3),
            peak_inflight: $peak,
            inventory_calls: $calls,
            inventory_calls_while_hanging: (if $name == "baseline" then null else $calls_hang end),
            refused_overloaded: $over, refused_circuit_open: $circ,
            breaker: { opened: $opened, half_opened: $half, closed: $closed, open_s: $open_s },
            healthz_ms: { p50: ($hz50 | r3), p99: ($hz99 | r3), max: ($hz[0].latency_ms.max | r3),
                          errors: $hz[0].errors },
            bystander_healthz_p99_ms: ($by99 | r3),
            inventory_back_at_ms: $heal,
            first_201_after_back_ms: (if $first == null or $heal == null then null else ($first - $heal | r3) end)
        } | with_entries(select(.value != null))'
}

names=
for n in baseline unprotected protected; do
    [ -f "$out/$n.json" ] && [ -f "$out/$n.samples.tsv" ] && names="$names $n"
done
for n in $names; do scenario "$n" >"$tmp/$n.json"; done
b500=null
[ -f "$out/breaker-500.json" ] &&
    b500=$(jq -c '{requests, status: (.status | with_entries(select(.value > 0))),
        latency_ms: (.latency_ms | map_values(. * 1000 | round / 1000))}' "$out/breaker-500.json")
files=
for n in $names; do files="$files $tmp/$n.json"; done
# shellcheck disable=SC2086 # names are words
jq -s --argjson timeout "$timeout" --argjson limit "$limit" --argjson failures "$failures" \
    --argjson cooldown "$cooldown" --argjson b500 "$b500" '{
    model: "sync-rest",
    settings: { inventory_timeout_ms: $timeout, inventory_max_inflight: $limit,
                breaker_failures: $failures, breaker_cooldown_ms: $cooldown },
    scenarios: .,
    breaker_500: $b500
}' $files >"$res/cascade.json"

# One figure per scenario: in-flight orders and the breaker's state, each
# order's latency by answer, /healthz latency, against seconds since the
# load began.
plot() { # NAME TITLE
    _n=$1
    _t0=$(jq -r '.start_unix_ms' "$out/$_n.json")
    _s="$out/$_n.samples.tsv"
    _ci=$(col "$_s" inflight)
    _cb=$(col "$_s" breaker_state)
    _heal=$(cat "$out/$_n.heal_ms" 2>/dev/null || echo '')
    _mark=
    _xmax=$(jq -r '.duration_s | ceil' "$out/$_n.json")
    _by=
    [ -f "$out/$_n.control.tsv" ] &&
        _by=", '$out/$_n.control.tsv' every ::1 using (\$1/1000.0):2 with points pt 6 ps 0.3 lc rgb '#999999' title 'bystander: notification GET /healthz'"
    [ -n "$_heal" ] && _mark="set arrow from $_heal/1000.0, graph 0 to $_heal/1000.0, graph 1 nohead dashtype 2 lc rgb '#444444'"
    gnuplot 2>"$tmp/gnuplot.err" <<EOG || { cat "$tmp/gnuplot.err" >&2; return 1; }
set terminal pngcairo size 1000,900
set output '$res/cascade-$_n.png'
set datafile separator '\t'
set datafile missing 'NA'
set multiplot layout 3,1 title '$2'
set grid
set key top right
set xrange [0:$_xmax]
$_mark
set ylabel 'in-flight orders'
set y2label 'breaker (0 closed, 1 open, 2 half-open)'
set y2range [-0.1:2.5]
set y2tics 0,1,2
set ytics nomirror
plot '$_s' every ::1 using ((\$1-$_t0)/1000.0):$_ci with lines lw 2 title 'in flight towards inventory', \
     '$_s' every ::1 using ((\$1-$_t0)/1000.0):$_cb axes x1y2 with steps lc rgb '#aa0000' title 'breaker state'
unset y2label
unset y2tics
set ytics mirror
set ylabel 'order latency (ms)'
set logscale y
plot '$out/$_n.trace.tsv' every ::1 using (\$1/1000.0):(strcol(3) eq '201' ? \$2 : 1/0) with points pt 7 ps 0.3 lc rgb '#2a9d2a' title '201', \
     '' every ::1 using (\$1/1000.0):(strcol(3) eq '503' ? \$2 : 1/0) with points pt 7 ps 0.3 lc rgb '#e08a00' title '503 (refused)', \
     '' every ::1 using (\$1/1000.0):(strcol(3) eq '504' ? \$2 : 1/0) with points pt 7 ps 0.3 lc rgb '#cc0000' title '504 (timeout)', \
     '' every ::1 using (\$1/1000.0):(strcol(3) ne '201' && strcol(3) ne '503' && strcol(3) ne '504' ? \$2 : 1/0) with points pt 7 ps 0.3 lc rgb '#444444' title 'other'
set ylabel '/healthz latency (ms)'
set xlabel 'seconds since the load began'
plot '$out/$_n.healthz.tsv' every ::1 using (\$1/1000.0):2 with points pt 7 ps 0.3 lc rgb '#1f5fbf' title 'order service GET /healthz (50/s)'$_by
unset multiplot
EOG
}
if command -v gnuplot >/dev/null 2>&1; then
    for n in $names; do
        case $n in
        baseline) t="baseline: healthy inventory, $(jq -r .offered_rate "$out/$n.json") orders/s" ;;
        unprotected) t="1. cascade: inventory hangs, no bulkhead, no breaker (timeout $timeout ms)" ;;
        protected) t="2-3. inventory hangs then returns: bulkhead $limit, breaker after $failures failures, cool-down $cooldown ms" ;;
        esac
        plot "$n" "$t" || echo "report/cascade.sh: no plot of $n (gnuplot failed; an empty series?)" >&2
    done
fi

{
    echo "# The sync chain's cascade, measured"
    echo
    echo "Written by the cascade steps of the sync-rest plan (\`sh nixos-tests/lab sync-rest\`); timings vary by machine"
    echo "and run. Order service: inventory timeout $timeout ms; protected runs with a bulkhead of $limit"
    echo "orders and a breaker that opens after $failures failures in a row, cool-down $cooldown ms."
    echo "Latency in ms; /healthz timed at 50/s during the load, in the hang window."
    echo
    echo "| scenario | orders | answers | order p50 | order p99 | 503 p99 | peak in flight | calls to inventory (while it hung) | breaker opened / half-open / closed | /healthz p50 | /healthz p99 | bystander /healthz p99 | first 201 after inventory is back |"
    echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
    jq -r '.scenarios[] | "| \(.name) | \(.requests) | \(.status | to_entries | map("\(.key): \(.value)") | join(", ")) | \(.order_latency_ms.p50) | \(.order_latency_ms.p99) | \(.refusal_p99_ms // "-") | \(.peak_inflight) | \(.inventory_calls // "-")\(if .inventory_calls_while_hanging then " (\(.inventory_calls_while_hanging))" else "" end) | \(.breaker.opened // "-") / \(.breaker.half_opened // "-") / \(.breaker.closed // "-") | \(.healthz_ms.p50) | \(.healthz_ms.p99) | \(.bystander_healthz_p99_ms // "-") | \(.first_201_after_back_ms // "-") |"' "$res/cascade.json"
    if [ "$b500" != null ]; then
        echo
        echo "Inventory answering 500 (100 orders, 10 at a time): $(jq -r '.breaker_500.status | to_entries | map("\(.key): \(.value)") | join(", ")' "$res/cascade.json") —"
        echo "502 for the calls made until $failures failures in a row opened the breaker, then 503 at once"
        echo "without calling inventory (p99 $(jq -r .breaker_500.latency_ms.p99 "$res/cascade.json") ms over all 100)."
    fi
    echo
    echo "Plots: $(for n in $names; do printf '`cascade-%s.png` ' "$n"; done)(in-flight orders with the"
    echo "breaker's state, each order's latency by answer, /healthz latency; the dashed line is"
    echo "inventory's return)."
} >"$res/cascade.md"
