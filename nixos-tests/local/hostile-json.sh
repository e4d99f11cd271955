#!/bin/sh
# The hostile JSON corpus over both brokers in the local lab: a private
# RabbitMQ node with the async services (OrderPlaced to inventory,
# InventoryReserved to notification and the order service), then Kafka
# (the mock cluster, or a real broker, see lib/kafka.sh) with inventory in
# kafka mode and analytics, each also sent the corpus on its POST
# /configure. (The REST endpoints get the corpus in the bad-input phase of
# scenarios/sync-rest.sh.) Then, on each broker, events that say otherwise of
# an order than what a consumer stored or counted (amqp-hostile.sh forged,
# streaming-kafka.sh forged), and the identity of each dead-letter copy
# (dead-letter-ids.sh). nixos-tests/test runs it on both builds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
. "$LIB/rabbitmq.sh"
. "$LIB/kafka.sh"
H="$here/../scenarios/hostile-json.sh"
case "${1:-}" in -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

lab_init || exit 1
LOADGEN="$COMMLAB_BIN/loadgen"
export LOADGEN
echo "# hostile-json: local lab in $LAB_DIR"

rabbitmq_start || exit 1
lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
    lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
    lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" ||
    { fail "hostile-json: the async services started"; exit 1; }
INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification) ORDER_URL=$(lab_url order)
OUT_DIR=$LAB_DIR/out
export AMQP_URL INVENTORY_URL NOTIFICATION_URL ORDER_URL OUT_DIR
sh "$H" amqp
# Outcomes that say otherwise of an order than the stored one.
sh "$here/../scenarios/amqp-hostile.sh" forged
# Every dead-letter copy carries an id of its own, the same when repeated.
sh "$here/../scenarios/dead-letter-ids.sh" amqp
for s in order notification inventory; do lab_kill "$s" KILL; done
rabbitmq_stop
# RabbitMQ is stopped: its exit hook goes (kafka_start adds its own).
# shellcheck disable=SC2034 # read by lab_stop_all
LAB_STOP_HOOKS=''

kafka_start || exit 1
lab_start inventory-kafka commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
    lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
        --metrics-file "$LAB_DIR/metrics.json" ||
    { fail "hostile-json: inventory (kafka) and analytics started"; exit 1; }
INVENTORY_URL=$(lab_url inventory-kafka) ANALYTICS_URL=$(lab_url analytics)
export KAFKA_BROKERS INVENTORY_URL ANALYTICS_URL
sh "$H" http inventory-stream analytics
sh "$H" kafka
# Events that say otherwise of an order than what analytics counted.
sh "$here/../scenarios/streaming-kafka.sh" forged
sh "$here/../scenarios/dead-letter-ids.sh" kafka

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
