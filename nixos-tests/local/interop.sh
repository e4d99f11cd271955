#!/bin/sh
# What clients of other implementations send and look for, in a lab of its
# own (scenarios/interop.sh): RFC 3339 event times on every entry point (HTTP,
# RabbitMQ, Kafka), messages published without properties, the peer's check
# (6 fractional digits and an offset over HTTP and kcat, a bare amqp-publish,
# each applied exactly once), /health, the list endpoints under hostile
# parameters, loadgen --csv, the management API, --log-events lines, and
# start logs free of library warnings. ~40 s normal build, ~45 s sanitizer.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
. "$LIB/rabbitmq.sh"
. "$LIB/kafka.sh"
S="$here/../scenarios/interop.sh"
case "${1:-}" in -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

lab_init || exit 1
: "${OUT_DIR:=$LAB_DIR/out}"
LOADGEN="$COMMLAB_BIN/loadgen"
export OUT_DIR LOADGEN
echo "# interop: local lab in $LAB_DIR"
started=$(date +%s)

rabbitmq_start || exit 1
lab_start inventory commlab-inventory --quiet --log-events --mode amqp --amqp-url "$AMQP_URL" &&
    lab_start notification commlab-notification --quiet --log-events --mode amqp --amqp-url "$AMQP_URL" &&
    lab_start order commlab-order --quiet --log-events --mode async --amqp-url "$AMQP_URL" ||
    { fail "interop: the async services started"; exit 1; }
ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
export AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL
sh "$S" time-http
sh "$S" time-amqp
sh "$S" no-properties
sh "$S" log-events amqp "$LAB_DIR/inventory.log" "$LAB_DIR/notification.log" "$LAB_DIR/order.log"
sh "$S" health "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL"
sh "$S" lists
sh "$S" csv
sh "$S" management
for s in order notification inventory; do lab_kill "$s" TERM; done
rabbitmq_stop
# RabbitMQ is stopped: its exit hook goes (kafka_start adds its own).
# shellcheck disable=SC2034 # read by lab_stop_all
LAB_STOP_HOOKS=''

kafka_start || exit 1
lab_start inventory-kafka commlab-inventory --quiet --log-events --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
    lab_start analytics commlab-analytics --quiet --log-events --kafka-brokers "$KAFKA_BROKERS" \
        --metrics-file "$LAB_DIR/metrics.json" ||
    { fail "interop: inventory (kafka) and analytics started"; exit 1; }
INVENTORY_URL=$(lab_url inventory-kafka) ANALYTICS_URL=$(lab_url analytics)
export KAFKA_BROKERS INVENTORY_URL ANALYTICS_URL
sh "$S" time-kafka
sh "$S" log-events kafka "$LAB_DIR/inventory-kafka.log" "$LAB_DIR/analytics.log"
# Each service started without --quiet: its start lines hold no library warning.
lab_start inventory-plain commlab-inventory &&
    lab_start notification-plain commlab-notification &&
    lab_start order-plain commlab-order --mode sync --inventory-url "$(lab_url inventory-plain)" \
        --notification-url "$(lab_url notification-plain)" &&
    lab_start analytics-plain commlab-analytics --kafka-brokers "$KAFKA_BROKERS" ||
    fail "interop: every service started without --quiet"
sh "$S" start-logs "$LAB_DIR"/*-plain.log
sh "$S" health "$INVENTORY_URL" "$ANALYTICS_URL"

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
echo "# interop: $(($(date +%s) - started)) s"
