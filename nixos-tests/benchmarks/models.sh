#!/bin/sh
# The three models side by side: the same seeded workload through each, one
# lab per model started fresh, one after the other in one run:
#   closed loop  MODELS_ORDERS orders (default 20000) at concurrency 20
#   open loop    MODELS_RATE orders/s (default 500) for MODELS_SECONDS s (10)
# after a warm-up of 2000 orders. For each: client latency p50/p99;
# accepted-to-final latency p50/p99 (sync-rest: the 201 is final, so it is
# the client latency; async-rabbitmq: 202 to "confirmed"/"rejected" seen by
# GET /orders/{id}, every 10th order polled about every ms; streaming-kafka:
# 202 to the outcome event read from inventory-events, every order);
# throughput (answers/s, and outcomes/s for the asynchronous models); CPU
# per order of every process (services, broker, loadgen), closed loop, from
# /proc until every order's work is done.
# Writes results/bench-models.json, .md and .png, and the README's table
# between its bench-models markers.
#   COMMLAB_BIN=build sh nixos-tests/benchmarks/models.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
COMMLAB_ROOT=${COMMLAB_ROOT:-$(cd "$here/../.." && pwd)}
: "${MODELS_ORDERS:=20000}" "${MODELS_RATE:=500}" "${MODELS_SECONDS:=10}"
: "${RESULTS_DIR:=$COMMLAB_ROOT/results}"

if [ "${1:-}" != one ]; then
    . "$here/../lib/assert.sh"
    work=$(mktemp -d "${TMPDIR:-/tmp}/commlab-models.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    for m in sync-rest async-rabbitmq streaming-kafka; do
        echo "# bench-models: $m"
        sh "$0" one "$m" "$work/$m.json" || fail "bench models: $m ran to the end"
        check "bench models: $m measured" test -s "$work/$m.json"
    done
    mkdir -p "$RESULTS_DIR"
    jq -s --argjson orders "$MODELS_ORDERS" --argjson rate "$MODELS_RATE" \
        --argjson secs "$MODELS_SECONDS" --argjson cores "$(nproc)" '{
        workload: { seed: 1, closed_loop: { orders: $orders, concurrency: 20 },
                    open_loop: { rate: $rate, seconds: $secs }, warmup_orders: 2000 },
        cores: $cores, models: .
    }' "$work"/sync-rest.json "$work"/async-rabbitmq.json "$work"/streaming-kafka.json \
        >"$RESULTS_DIR/bench-models.json"
    # The README's table only from the repository's own results/.
    readme=
    [ "$RESULTS_DIR" = "$COMMLAB_ROOT/results" ] && readme=$COMMLAB_ROOT/README.md
    sh "$here/../report/models.sh" "$RESULTS_DIR/bench-models.json" "$RESULTS_DIR" $readme
    cat "$RESULTS_DIR/bench-models.md"
    exit 0
fi

# One model: sh benchmarks/models.sh one MODEL OUT.json
model=$2 out=$3
. "$here/../lib/local.sh"
lab_init || exit 1
L=$COMMLAB_BIN/loadgen
follow=""
procs="order inventory notification"
case $model in
sync-rest)
    lab_start_rest || exit 1
    done_yet() { true; } ;;
async-rabbitmq)
    . "$LIB/rabbitmq.sh"
    # The broker measured without the management plugin's statistics.
    RMQ_MANAGEMENT=${RMQ_MANAGEMENT:-0}
    rabbitmq_start || exit 1
    lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" || exit 1
    cp "$LAB_DIR/rabbitmq/node.pid" "$LAB_DIR/broker.pid"
    follow="--follow http --follow-every 10"
    # Every order notified and every outcome applied (sold-out share 0: all reserve).
    done_yet() {
        [ "$(metric "$(lab_url notification)" notifications_sent_total)" -ge "$1" ] &&
            [ "$("$L" amqp depth --url "$AMQP_URL" --queue order.inventory-outcome | cut -d' ' -f1)" = 0 ]
    } ;;
streaming-kafka)
    . "$LIB/kafka.sh"
    kafka_start || exit 1
    lab_start inventory commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
        lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" &&
        lab_start order commlab-order --quiet --mode stream --kafka-brokers "$KAFKA_BROKERS" || exit 1
    cp "$LAB_DIR/kafka-mock.pidfile" "$LAB_DIR/broker.pid" 2>/dev/null
    procs="order inventory analytics"
    follow="--follow kafka --follow-brokers $KAFKA_BROKERS"
    # Everything relayed, and both groups at the end of both topics.
    done_yet() {
        [ "$(metric "$(lab_url order)" outbox_delivered_total)" -ge "$1" ] &&
            [ "$(kafka_lag inventory-consumer-group:order-events \
                analytics-consumer-group:order-events,inventory-events)" = 0 ]
    } ;;
*)
    echo "bench-models: unknown model '$model'" >&2
    exit 2 ;;
esac
[ -s "$LAB_DIR/broker.pid" ] && procs="$procs broker"
O=$(lab_url order)
wait_done() { # ORDERS-SO-FAR: up to 120 s
    _i=0
    until done_yet "$1"; do
        _i=$((_i + 1))
        [ $_i -gt 1200 ] && { echo "bench-models: $model did not finish its work in 120 s" >&2; return 1; }
        sleep 0.1
    done
}
ticks() { # NAME: utime + stime of the process, in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$(cat "$LAB_DIR/$1.pid")/stat"
}
snapshot() { for p in $procs; do echo "$p $(ticks "$p")"; done; }
# The CPU of this shell's waited-for children (loadgen), from the output of
# `times` run in this shell itself (a $(...) subshell would see none of it):
# its second line.
child_cpu_s() { # FILE
    sed -n 2p "$1" | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}
# $follow is several words on purpose.
# shellcheck disable=SC2086
"$L" rest --url "$O" -n 2000 -c 20 --start 100000000 --json --quiet $follow >"$LAB_DIR/warm.json" || exit 1
wait_done 2000 || exit 1
snapshot >"$LAB_DIR/cpu0"
times >"$LAB_DIR/times0"
# shellcheck disable=SC2086
"$L" rest --url "$O" -n "$MODELS_ORDERS" -c 20 --json --quiet --label closed $follow >"$LAB_DIR/closed.json" || exit 1
times >"$LAB_DIR/times1" # before the polling below, whose tools would count
wait_done $((2000 + MODELS_ORDERS)) || exit 1
snapshot >"$LAB_DIR/cpu1"
# shellcheck disable=SC2086
"$L" rest --url "$O" --rate "$MODELS_RATE" --duration "$MODELS_SECONDS" --start 50000000 -c 64 \
    --json --quiet --label open $follow >"$LAB_DIR/open.json" || exit 1
hz=$(getconf CLK_TCK)
cpu=$(join "$LAB_DIR/cpu0" "$LAB_DIR/cpu1" | awk -v hz="$hz" -v n="$MODELS_ORDERS" -v lg="$(awk -v a="$(child_cpu_s "$LAB_DIR/times0")" -v b="$(child_cpu_s "$LAB_DIR/times1")" 'BEGIN { print b - a }')" '
    BEGIN { printf "{" } { printf "%s\"%s\":%.1f", (NR > 1 ? "," : ""), $1, ($3 - $2) / hz * 1e6 / n; t += ($3 - $2) / hz }
    END { printf ",\"loadgen\":%.1f,\"total\":%.1f}", lg * 1e6 / n, (t + lg) * 1e6 / n }')
jq -n --arg model "$model" --slurpfile c "$LAB_DIR/closed.json" --slurpfile o "$LAB_DIR/open.json" \
    --argjson cpu "$cpu" '
    def run(r): {
        requests: r.requests, ok: r.ok, concurrency: r.concurrency,
        client_ms: { p50: r.latency_ms.p50, p99: r.latency_ms.p99 },
        throughput_rps: (r.rate_per_s | round),
        accepted_to_final_ms: (if r.accepted_to_final_ms then
            { p50: r.accepted_to_final_ms.p50, p99: r.accepted_to_final_ms.p99,
              via: r.accepted_to_final_ms.via, followed: r.accepted_to_final_ms.followed,
              unfinished: r.accepted_to_final_ms.unfinished }
          else { p50: r.latency_ms.p50, p99: r.latency_ms.p99, via: "the answer (201 is final)" } end),
        final_per_s: (if r.accepted_to_final_ms then (r.ok / r.accepted_to_final_ms.duration_s | round)
                      else (r.rate_per_s | round) end)
    };
    { model: $model, closed: run($c[0]), open: (run($o[0]) + { offered_rate: $o[0].offered_rate,
      late_starts: $o[0].late_starts }), cpu_us_per_order: $cpu }' >"$out"
jq -c . "$out"
assert_eq "bench models: $model, every order answered 2xx" $((MODELS_ORDERS + $(jq .open.requests "$out"))) \
    "$(jq '.closed.ok + .open.ok' "$out")"
assert_eq "bench models: $model, every followed order reached its outcome" 0 \
    "$(jq '[.closed, .open | .accepted_to_final_ms.unfinished // 0] | add' "$out")"
