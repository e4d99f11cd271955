#!/bin/sh
# The crash-invariant scenario in the local lab, for one model:
#   sh nixos-tests/local/crash.sh sync-rest|async-rabbitmq|streaming-kafka
# Boots the model's services (and its broker) with fresh state, drives an
# open-loop load, kills -9 and restarts the services on a seeded schedule
# (CRASH_SEED; printed), waits for recovery and checks the invariants from the
# state dumps (scenarios/crash.sh). Writes results/crash-MODEL.json when
# RESULTS_DIR is set. Knobs: CRASH_RATE (orders/s), CRASH_SECONDS, CRASH_KILLS,
# CRASH_RECOVERY_S (how long recovery may take), CRASH_VICTIMS (which services;
# default all of the model's).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
S="$here/../scenarios/crash.sh"
: "${CRASH_SEED:=1}" "${CRASH_RATE:=50}" "${CRASH_SECONDS:=20}" "${CRASH_KILLS:=6}"
: "${CRASH_RECOVERY_S:=30}"

model=${1:-}
case $model in
sync-rest) kind=sync victims="order inventory notification" ;;
async-rabbitmq) kind=async victims="order inventory notification" ;;
streaming-kafka) kind=stream victims="order inventory analytics" ;;
*)
    echo "usage: crash.sh sync-rest|async-rabbitmq|streaming-kafka" >&2
    exit 2 ;;
esac
victims=${CRASH_VICTIMS:-$victims}

lab_init || exit 1
case $kind in
sync)
    lab_start_rest || exit 1 ;;
async)
    . "$LIB/rabbitmq.sh"
    rabbitmq_start || exit 1
    lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" || exit 1
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
    export AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL ;;
stream)
    . "$LIB/kafka.sh"
    kafka_start || exit 1
    lab_start inventory commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
        lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
            --metrics-file "$LAB_DIR/metrics.json" &&
        lab_start order commlab-order --quiet --mode stream --kafka-brokers "$KAFKA_BROKERS" || exit 1
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) ANALYTICS_URL=$(lab_url analytics)
    export ORDER_URL INVENTORY_URL ANALYTICS_URL ;;
esac
: "${OUT_DIR:=$LAB_DIR/out}"
LOADGEN="$COMMLAB_BIN/loadgen"
export OUT_DIR LOADGEN
mkdir -p "$OUT_DIR"

echo "# crash ($model): local lab in $LAB_DIR; $CRASH_RATE orders/s for $CRASH_SECONDS s," \
    "$CRASH_KILLS kills -9, seed $CRASH_SEED"
sh "$S" schedule "$CRASH_SEED" "$CRASH_SECONDS" "$CRASH_KILLS" $victims >"$OUT_DIR/crash.schedule.txt" ||
    exit 1
sed 's/^\([^ ]*\) \([^ ]*\) \([^ ]*\)$/#   at \1 s: kill -9 \2, restart \3 s later/' "$OUT_DIR/crash.schedule.txt"
sh "$S" start "$kind" "$CRASH_RATE" "$CRASH_SECONDS" 1000000
t0=$(date +%s%N)
kills=0
while read -r at victim down <&3; do
    # Sleep until AT seconds after the start (at once if a restart ran late).
    wait_s=$(awk -v at="$at" -v t0="$t0" -v now="$(date +%s%N)" \
        'BEGIN { w = at - (now - t0) / 1e9; printf "%.3f", (w > 0 ? w : 0) }')
    sleep "$wait_s"
    lab_kill "$victim" KILL
    sleep "$down"
    lab_restart "$victim" || fail "crash ($model): $victim restarted after its kill at $at s"
    kills=$((kills + 1))
done 3<"$OUT_DIR/crash.schedule.txt"
sh "$S" finish "$kind" "$kills" "$CRASH_RECOVERY_S"

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
if [ -n "${RESULTS_DIR:-}" ] && [ -f "$OUT_DIR/crash.json" ]; then
    jq --arg model "$model" --argjson seed "$CRASH_SEED" --argjson rate "$CRASH_RATE" \
        --argjson secs "$CRASH_SECONDS" --rawfile sched "$OUT_DIR/crash.schedule.txt" \
        '{model: $model, seed: $seed, rate: $rate, duration_s: $secs} + . +
         {schedule: [$sched | split("\n")[] | select(. != "") | split(" ") |
                     {at_s: (.[0] | tonumber), victim: .[1], down_s: (.[2] | tonumber)}]}' \
        "$OUT_DIR/crash.json" >"$RESULTS_DIR/crash-$model.json"
fi
