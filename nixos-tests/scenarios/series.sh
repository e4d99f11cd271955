#!/bin/sh
# Time series of a plan, run on the client by both labs: the metrics the
# registry (lib/plan-metrics.json) names in this script, and the checks of a
# series the sample steps wrote (OUT_DIR/SERIES.tsv: "SECONDS VALUE" lines).
#   depth URL QUEUE     messages ready in QUEUE (loadgen amqp depth), one
#                       number; nothing when the broker cannot be read
#   peak-above SERIES MIN
#                       the series' largest value is above MIN
# Environment: OUT_DIR, LOADGEN (default: loadgen on PATH).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
: "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
mkdir -p "$OUT_DIR"

phase_depth() { # URL QUEUE
    "$LOADGEN" amqp depth --url "$1" --queue "$2" 2>/dev/null | cut -d' ' -f1
}

phase_peak_above() { # SERIES MIN
    _peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$OUT_DIR/$1.tsv")
    assert_num "series $1: the peak rose above $2" "$_peak" ">" "$2"
}

scenario_dispatch series.sh "depth peak-above" "$@"
