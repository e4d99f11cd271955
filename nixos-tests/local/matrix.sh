#!/bin/sh
# The fault matrix (matrix/matrix.json, docs/lab.md): every row's fault on
# every model, one plan per model (lib/plan.jq plan_matrix: one lab, one
# broker start), run by the local plan runner; then results/matrix.*.
#   sh nixos-tests/local/matrix.sh [short|full] [MODEL...]
# short: holds of 3 s, drains capped at 15 s (the test command); full: the
# measurement (holds of 10 s; nixos-tests/lab matrix). COMMLAB_BIN: the
# build; RESULTS_DIR: where matrix.json, matrix.md and matrix.png go (none:
# not written); OUT_DIR: the cells' files (default: a temporary directory).
# Without root the rows that need hosts mode are skipped, and said so.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
size=${1:-short}
case $size in
short | full) ;;
-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "matrix: unknown size '$size' (short or full)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && shift
M=$COMMLAB_ROOT/nixos-tests/matrix/matrix.json
# The mock cluster, whatever is on PATH: row 5's outage is its own API (a
# real single-node Kafka would skip it).
COMMLAB_KAFKA=mock
export COMMLAB_KAFKA
models=${*:-$(jq -r '.models | keys_unsorted[]' "$M")}
out=${OUT_DIR:-$(mktemp -d)}
t0=$(date +%s)
rc=0
for m in $models; do
    mkdir -p "$out/$m"
    jq -L "$LIB" -n --slurpfile m "$M" --arg model "$m" --arg size "$size" \
        'include "plan"; plan_matrix($m[0]; $model; $size)' >"$out/$m/plan.json" || exit 2
    jq -L "$LIB" -n --slurpfile m "$M" --arg model "$m" \
        'include "plan"; [plan_matrix_cells($m[0]; $model)]' >"$out/$m/cells.json" || exit 2
    echo "# matrix: $m ($size)"
    _tm=$(date +%s)
    OUT_DIR=$out/$m sh "$here/plan.sh" "$out/$m/plan.json" || rc=1
    echo "$(($(date +%s) - _tm))" >"$out/$m/seconds"
    # A cell that needs hosts mode and did not run: skipped, not failed.
    jq -r '.[] | select(.run and .needs == "hosts") | .row' "$out/$m/cells.json" | while read -r _row; do
        [ -f "$out/$m/matrix/$_row/cell.json" ] || skip "matrix $_row ($m)" "needs root (hosts mode)"
    done
done
echo "$(($(date +%s) - t0))" >"$out/seconds"
echo "# matrix ($size): $(cat "$out/seconds") s"
if [ -n "${RESULTS_DIR:-}" ]; then
    sh "$COMMLAB_ROOT/nixos-tests/report/matrix.sh" "$out" "$RESULTS_DIR" "$size" $models || rc=1
fi
[ -n "${OUT_DIR:-}" ] || rm -rf "$out"
exit $rc
