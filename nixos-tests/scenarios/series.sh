#!/bin/sh
# Time series of a plan (the sample, mark and unsample steps), one phase per
# call, run on the client by both labs; files in OUT_DIR:
#   sample-start SERIES INTERVAL_S METRIC ARGS...
#                       from now on every INTERVAL_S, "SECONDS VALUE" appended
#                       to SERIES.tsv (SECONDS since the start; VALUE 0 when
#                       the metric cannot be read), in the background
#   mark SERIES WHAT    "SECONDS WHAT" appended to SERIES.tsv.marks
#   sample-stop SERIES  the sampler stopped
#   peak-above SERIES MIN
#                       the series' largest value is above MIN
# Metrics (metric_NAME ARGS; plan.jq's plan_metrics lists their arguments
# after the node's URL):
#   depth URL QUEUE     messages ready in QUEUE (loadgen amqp depth)
# Environment: OUT_DIR, LOADGEN (default: loadgen on PATH).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
: "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
mkdir -p "$OUT_DIR"

metric_depth() { # URL QUEUE
    "$LOADGEN" amqp depth --url "$1" --queue "$2" 2>/dev/null | cut -d' ' -f1
}

now_s() { awk -v t="$(date +%s%N)" 'BEGIN { printf "%.2f", t / 1e9 }'; }
since() { awk -v a="$(now_s)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; } # T0

phase_sample_start() { # SERIES INTERVAL_S METRIC ARGS...
    _f=$OUT_DIR/$1.tsv _iv=$2 _m=metric_$3
    shift 3
    command -v "$_m" >/dev/null 2>&1 || { fail "series: no metric '${_m#metric_}'"; return 1; }
    : >"$_f"
    _t0=$(now_s)
    echo "$_t0" >"$_f.t0"
    # Detached from the caller's output: a VM test's command returns only
    # once its output closes.
    (
        while :; do
            _v=$("$_m" "$@")
            echo "$(since "$_t0") ${_v:-0}" >>"$_f"
            sleep "$_iv"
        done
    ) </dev/null >/dev/null 2>&1 &
    echo $! >"$_f.pid"
}

phase_mark() { # SERIES WHAT
    echo "$(since "$(cat "$OUT_DIR/$1.tsv.t0")") $2" >>"$OUT_DIR/$1.tsv.marks"
}

phase_sample_stop() { # SERIES
    _pid=$(cat "$OUT_DIR/$1.tsv.pid" 2>/dev/null) || { fail "series: $1 was sampled"; return 1; }
    kill "$_pid" 2>/dev/null
    wait_gone "$_pid"
    rm -f "$OUT_DIR/$1.tsv.pid"
}

phase_peak_above() { # SERIES MIN
    _peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$OUT_DIR/$1.tsv")
    assert_num "series $1: the peak rose above $2" "$_peak" ">" "$2"
}

scenario_dispatch series.sh "sample-start mark sample-stop peak-above" "$@"
