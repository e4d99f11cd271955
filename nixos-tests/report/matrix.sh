#!/bin/sh
# The fault matrix's results from a run of local/matrix.sh:
#   sh report/matrix.sh OUT RESULTS_DIR SIZE MODEL...
# OUT holds OUT/MODEL/cells.json (every cell, run or n/a) and each run cell's
# OUT/MODEL/matrix/ROW/cell.json and series. Writes RESULTS_DIR/matrix.json
# (every figure, the workload, the machine), matrix.md (rows: faults;
# columns: models) and matrix.png (gnuplot: answers/s and backlog per cell,
# the fault shaded). Timings: not hashed.
set -u
out=$1 res=$2 size=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
M=$here/../matrix/matrix.json
mkdir -p "$res"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every cell: its figures, or why it did not run.
for m in "$@"; do
    jq -c '.[]' "$out/$m/cells.json" | while IFS= read -r c; do
        row=$(printf '%s' "$c" | jq -r .row)
        f=$out/$m/matrix/$row/cell.json
        if [ -f "$f" ]; then
            printf '%s' "$c" | jq -c --slurpfile x "$f" '. + {status: "ran"} + $x[0]'
        elif printf '%s' "$c" | jq -e .run >/dev/null; then
            if printf '%s' "$c" | jq -e '.needs == "hosts"' >/dev/null; then
                printf '%s' "$c" | jq -c '. + {status: "skipped", reason: "needs root (hosts mode: its own network namespace per node)"}'
            else
                printf '%s' "$c" | jq -c '. + {status: "failed", reason: "the cell did not finish (see the run log)"}'
            fi
        else
            printf '%s' "$c" | jq -c '. + {status: "n/a"}'
        fi
    done
done >"$tmp/cells.jsonl"

jq -n --slurpfile m "$M" --slurpfile cells "$tmp/cells.jsonl" --arg size "$size" \
    --arg models "$*" --arg cores "$(nproc)" --arg kernel "$(uname -sr)" \
    --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    --arg seconds "$(cat "$out/seconds" 2>/dev/null || echo 0)" \
    --argjson per "$(for m in "$@"; do printf '{"%s":%s}\n' "$m" "$(cat "$out/$m/seconds" 2>/dev/null || echo 0)"; done | jq -s 'add')" '
    $m[0] as $mx
    | {about: "The fault matrix (docs/lab.md): each fault held on each model under the same open-loop load; figures of the requests sent during the hold; backlog: orders waiting on inventory (sync), orders accepted and not yet final (async), inventory consumer lag (streaming); healed_ms: from the heal until every accepted order was final (the crash-invariant checker passed); lost, applied_twice, stuck: the checker'"'"'s findings on the state dumps after that.",
       size: $size,
       workload: ($mx.workload | with_entries(.value |= (if type == "object" then .[$size] else . end))
         + {sold_out_pct: 0, workers: 256}),
       machine: {cores: ($cores | tonumber), cpu: $cpu, kernel: $kernel},
       seconds: {total: ($seconds | tonumber), models: $per},
       rows: [$mx.rows[] | {id, title}],
       models: ($models | split(" ")),
       cells: $cells}' >"$res/matrix.json"

# The table: one compact cell per fault and model.
jq -r '
    def n: tostring as $s | ($s | length) as $l
      | if ($s | test("^[0-9]{4,}$")) | not then $s
        else [range(0; $l) | $s[.:. + 1] + (if ($l - . - 1) % 3 == 0 and . < $l - 1 then "," else "" end)] | join("") end;
    def ms: if . == null then "-" elif . >= 100 then (round | n) else (. * 10 | round / 10 | tostring) end;
    def pct: if .hold.sent > 0 then (100 * .hold.accepted / .hold.sent | floor | tostring) + " %" else "-" end;
    def refused: .hold.by_status | to_entries | map(select(.key != "201" and .key != "202")) | sort_by(.key)
      | if length == 0 then "" else " (" + (map("\(.key) \(.value)") | join(", ")) + ")" end;
    def cell: if .status == "n/a" then "n/a: " + .reason
      elif .status != "ran" then .status + ": " + .reason
      elif .row == "replay" then "replayed and recomputed in \(.healed_ms / 1000 * 10 | round / 10) s, analytics byte-identical, \(.lost) lost"
      else "accepted \(pct)\(refused), p99 \(.hold.p99_ms | ms) ms, backlog \(.peak_backlog // 0 | n), healed in \(if .healed_ms == null then "-" else (.healed_ms / 1000 * 10 | round / 10 | tostring) end) s, \(.lost) lost, \(.applied_twice) twice, \(.stuck) stuck"
        + (if .poison.sent > 0 then
             if .kind == "sync" then ", poison \(.poison.sent): \(.poison.answers | to_entries | map("\(.value) x \(.key)") | join(", "))"
             else ", poison \(.poison.sent): \(.poison.dead_lettered) dead-lettered" end
           else "" end) end;
    . as $r
    | "# The fault matrix",
      "",
      "Written by `sh nixos-tests/lab matrix` (\($r.size) run, \($r.seconds.total) s on \($r.machine.cores) cores: \($r.machine.cpu)); every cell measured, none typed. How it runs, the roles and the measures: [docs/lab.md](../docs/lab.md#the-fault-matrix); all figures in [matrix.json](matrix.json), the plots in [matrix.png](matrix.png).",
      "",
      "Workload: seed \($r.workload.seed), open loop, \($r.workload.rate) orders/s for every model and row (no sold-out orders); \($r.workload.lead_s) s of load, then the fault held \($r.workload.hold_s) s, then healed; the load ends at the heal. Per cell, of the requests sent during the hold: the share accepted (201/202; other answers in brackets), client p99; the peak backlog (sync: orders waiting on inventory; async: orders accepted and not yet final; streaming: inventory'"'"'s consumer lag); the time from the heal until every accepted order was final (capped at \($r.workload.drain_cap_s) s); and from the state dumps (the crash-invariant checker) orders lost, applied twice and stuck. Streaming'"'"'s row 1 throttles inventory to \($r.workload.throttle_ms) ms per event: it consumes at most \(1000 / $r.workload.throttle_ms) events/s, half the offered rate, so it keeps moving during the hold, the lag at the heal is below rate x hold, and it drains at the consumer'"'"'s full speed once healed.",
      "",
      "| fault | " + ($r.models | join(" | ")) + " |",
      "| --- |" + ($r.models | map(" --- |") | join("")),
      ($r.rows | to_entries[] | .key as $i | .value as $row
        | "| \($i + 1). \($row.title) | "
          + ([$r.models[] as $mo | $r.cells[] | select(.row == $row.id and .model == $mo) | cell] | join(" | ")) + " |")
' "$res/matrix.json" >"$res/matrix.md"

# The plots: one small panel per cell.
if command -v gnuplot >/dev/null 2>&1; then
    nrows=$(jq '.rows | length' "$res/matrix.json")
    ncols=$(jq '.models | length' "$res/matrix.json")
    {
        echo "set terminal pngcairo size $((ncols * 360)),$((nrows * 200 + 30)) font ',8'"
        echo "set output '$res/matrix.png'"
        # The margins leave the top strip to the page's title.
        echo "set multiplot layout $nrows,$ncols title 'fault matrix: answers/s (line) and backlog (bars, right axis) over seconds; the fault shaded' margins 0.04, 0.96, 0.02, 0.96 spacing 0.07, 0.025"
        echo "set grid"
        echo "unset key"
        echo "set ytics nomirror"
        echo "set y2tics"
        echo "set yrange [0:*]"
        echo "set y2range [0:*]"
        echo "set offsets 0, 0, graph 0.15, 0"
        jq -r '.rows[].id' "$res/matrix.json" | while read -r row; do
            for m in "$@"; do
                c=$(jq -c --arg r "$row" --arg m "$m" '.cells[] | select(.row == $r and .model == $m)' "$res/matrix.json")
                title="$row, $m"
                d=$out/$m/matrix/$row
                if [ "$(printf '%s' "$c" | jq -r .status)" = ran ] && [ -s "$d/answers.tsv" ]; then
                    fs=$(printf '%s' "$c" | jq .fault_s) hs=$(printf '%s' "$c" | jq .heal_s)
                    echo "set title '$title'"
                    echo "set object 1 rect from $fs, graph 0 to $hs, graph 1 fc rgb '#f4c0c0' fs solid 0.5 noborder behind"
                    if [ -s "$d/backlog.rel.tsv" ]; then
                        echo "plot '$d/answers.tsv' using 1:2 with lines lw 1.5 lc rgb '#1060c0', '$d/backlog.rel.tsv' using 1:2 axes x1y2 with impulses lc rgb '#c08000'"
                    else
                        echo "plot '$d/answers.tsv' using 1:2 with lines lw 1.5 lc rgb '#1060c0'"
                    fi
                    echo "unset object 1"
                else
                    # The reason whole, wrapped to the panel's width.
                    why=$(printf '%s' "$c" | jq -r '.status + ": " + (.reason // "")' | sed "s/'/’/g; s/[\\\"]/ /g" |
                        fold -s -w 56 | head -n 8 | awk '{ printf "%s%s", (NR > 1 ? "\\n" : ""), $0 }')
                    echo "set title '$title'"
                    echo "unset border; unset tics; unset grid"
                    # printf: dash's echo would turn the \n into a line break.
                    printf 'set label 1 "%s" at graph 0.5, graph 0.5 center\n' "$why"
                    echo "plot [0:1] [0:1] NaN notitle"
                    echo "unset label 1; set border; set xtics; set ytics nomirror; set y2tics; set grid"
                fi
            done
        done
        echo "unset multiplot"
    } >"$tmp/matrix.gp"
    gnuplot "$tmp/matrix.gp" 2>"$tmp/gnuplot.err" || { cat "$tmp/gnuplot.err" >&2; echo "report/matrix.sh: gnuplot failed" >&2; exit 1; }
fi
echo "# matrix: $res/matrix.json, matrix.md$(command -v gnuplot >/dev/null 2>&1 && echo ', matrix.png')"
