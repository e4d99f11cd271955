#!/bin/sh
# Faults that must neither lose an order nor hold one up, in the local lab,
# judged by the crash-invariant checker (scenarios/crash.sh, no kills):
#   sh nixos-tests/local/nothing-lost.sh [slow-apply] ...   (default: all)
#   slow-apply  RabbitMQ with a HEARTBEAT_S heartbeat; inventory's apply takes
#               SLOW_APPLY_MS per batch (several heartbeats) under a load of
#               SLOW_RATE orders/s for SLOW_SECONDS: every accepted order
#               final once, and no link dropped for silence.
#   link-drops  the broker closes every connection DROPS times while
#               inventory's apply is slow: each drop returns the unacked
#               window, which is no fault of its messages; none may be
#               dead-lettered for it (the consumer counts failed applies,
#               the broker's delivery limit is a crash backstop).
#   aborted-txn (Kafka mock) orders wait in order-events while inventory is
#               paused; then the next TXN_ERRORS Produce requests fail with
#               INVALID_RECORD, so inventory's transactions abort after its
#               reservations were committed, until messages are set aside:
#               every order an outcome, stock + held = initial, analytics
#               sees every order.
#   refused-rows  in each model a row its receiver refuses for good is added
#               to the order service's outbox in the middle of a load (sync:
#               a notification and a release answered 400 while notification
#               is down; async: an unroutable one; stream: one over Kafka's
#               size limit): every order final, 0 rows held behind it, the
#               refused one listed by /dump with its reason.
# The long slow-apply run: HEARTBEAT_S=10 SLOW_APPLY_MS=25000 SLOW_RATE=5
# SLOW_SECONDS=300 SLOW_RECOVERY_S=600 (see README).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
S="$here/../scenarios/crash.sh"
case "${1:-}" in -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
: "${HEARTBEAT_S:=2}" "${SLOW_APPLY_MS:=7000}" "${SLOW_RATE:=40}" "${SLOW_SECONDS:=30}"
: "${SLOW_RECOVERY_S:=90}"
: "${TXN_ERRORS:=16}" "${TXN_ORDERS:=200}"
: "${DROPS:=8}"
phases=${*:-slow-apply link-drops aborted-txn refused-rows}
LOADGEN="$COMMLAB_BIN/loadgen"
export LOADGEN

slow_apply() {
    lab_init || return 1
    . "$LIB/rabbitmq.sh"
    RMQ_CONF_EXTRA="heartbeat = $HEARTBEAT_S" rabbitmq_start || return 1
    lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" ||
        { fail "slow-apply: the async services started"; return 1; }
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
    OUT_DIR=$LAB_DIR/out
    export AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL OUT_DIR
    echo "# slow-apply: heartbeat ${HEARTBEAT_S} s, apply +${SLOW_APPLY_MS} ms a batch," \
        "$SLOW_RATE orders/s for $SLOW_SECONDS s; local lab in $LAB_DIR"
    sh "$S" fault slow-apply "$SLOW_APPLY_MS"
    sh "$S" start async "$SLOW_RATE" "$SLOW_SECONDS" 2000000
    sh "$S" finish async 0 "$SLOW_RECOVERY_S"
    # The links held: inventory's while its apply ran, and every other
    # consumer's and relay's while they waited on it.
    for _s in inventory notification order; do
        assert_eq "slow-apply: $_s never lost a link" 0 "$(grep -c 'link lost' "$LAB_DIR/$_s.log")"
    done
    assert_eq "slow-apply: nothing reached inventory's dead-letter queue" 0 \
        "$(awk -F '\t' '$1 == "inventory.order-placed.dlq"' "$OUT_DIR/crash.dlq.txt" | wc -l)"
    lab_stop_all
    [ -z "${LAB_CHECK_LOGS:-}" ] || lab_check_logs
}

link_drops() {
    lab_init || return 1
    . "$LIB/rabbitmq.sh"
    rabbitmq_start || return 1
    lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
        lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" ||
        { fail "link-drops: the async services started"; return 1; }
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
    OUT_DIR=$LAB_DIR/out
    export AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL OUT_DIR
    echo "# link-drops: every connection closed $DROPS times under load; local lab in $LAB_DIR"
    # Slower than the drops: no batch is acked between two of them.
    sh "$S" fault slow-apply 4000
    sh "$S" start async 40 5 5000000
    sleep 2
    _i=0
    while [ $_i -lt "$DROPS" ]; do
        rabbitmqctl_lab close_all_connections "lab: link drop $_i" >/dev/null 2>&1
        _i=$((_i + 1))
        sleep 2
    done
    sh "$S" fault none
    sh "$S" finish async 0 60
    assert_num "link-drops: inventory lost its link at every drop" \
        "$(grep -c 'link lost' "$LAB_DIR/inventory.log")" ">=" "$DROPS"
    assert_eq "link-drops: nothing dead-lettered for the drops" 0 "$(wc -l <"$OUT_DIR/crash.dlq.txt")"
    lab_stop_all
    [ -z "${LAB_CHECK_LOGS:-}" ] || lab_check_logs
}

aborted_txn() {
    lab_init || return 1
    . "$LIB/kafka.sh"
    COMMLAB_KAFKA=mock kafka_start || return 1
    lab_start inventory commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
        lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
            --metrics-file "$LAB_DIR/metrics.json" &&
        lab_start order commlab-order --quiet --mode stream --kafka-brokers "$KAFKA_BROKERS" ||
        { fail "aborted-txn: the streaming services started"; return 1; }
    ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) ANALYTICS_URL=$(lab_url analytics)
    OUT_DIR=$LAB_DIR/out
    export KAFKA_BROKERS ORDER_URL INVENTORY_URL ANALYTICS_URL OUT_DIR
    echo "# aborted-txn: $TXN_ORDERS orders, then $TXN_ERRORS Produce errors; local lab in $LAB_DIR"
    sh "$S" fault paused
    sh "$S" start stream 100 $((TXN_ORDERS / 100)) 3000000
    wait_gone "$(cat "$OUT_DIR/crash.loadgen.pid")"
    outbox_empty() { [ "$(metric "$ORDER_URL" outbox_backlog)" = 0 ]; }
    check "aborted-txn: every order event is in order-events" wait_until 30 outbox_empty
    sh "$S" fault txn-errors "$TXN_ERRORS"
    sh "$S" fault resumed
    sh "$S" finish stream 0 120
    assert_num "aborted-txn: a message was set aside after its tries" \
        "$(grep -c 'failed 3 times' "$OUT_DIR/crash.dlq.txt")" ">=" 1
    lab_stop_all
    [ -z "${LAB_CHECK_LOGS:-}" ] || lab_check_logs
}

# refused_check KIND... : each refused row set aside with a reason, and no
# backlog left in the relays named by their metric prefixes ($prefixes).
refused_check() {
    _dump=$(http_get "$ORDER_URL/dump")
    for _k in "$@"; do
        _line=$(printf '%s\n' "$_dump" | awk -F '\t' -v id="refused-$_k" '$1 == "outbox_dead" && $2 == id')
        check "refused-rows ($model): the $_k row is listed as a dead letter" test -n "$_line"
        check "refused-rows ($model): with its reason ($(printf '%s' "$_line" | cut -f5 | cut -c1-60))" \
            test -n "$(printf '%s' "$_line" | cut -f5)"
    done
    for _p in $prefixes; do
        assert_eq "refused-rows ($model): 0 rows held in ${_p}_backlog" 0 "$(metric "$ORDER_URL" "${_p}_backlog")"
    done
}

refused_model() { # sync|async|stream
    model=$1
    lab_init || return 1
    OUT_DIR=$LAB_DIR/out
    export OUT_DIR
    case $model in
    sync) lab_start_rest || return 1
        kinds="notify release" prefixes="notification release" ;;
    async)
        . "$LIB/rabbitmq.sh"
        rabbitmq_start || return 1
        lab_start inventory commlab-inventory --quiet --mode amqp --amqp-url "$AMQP_URL" &&
            lab_start notification commlab-notification --quiet --mode amqp --amqp-url "$AMQP_URL" &&
            lab_start order commlab-order --quiet --mode async --amqp-url "$AMQP_URL" || return 1
        ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) NOTIFICATION_URL=$(lab_url notification)
        export AMQP_URL ORDER_URL INVENTORY_URL NOTIFICATION_URL
        kinds=unroutable prefixes=outbox ;;
    stream)
        . "$LIB/kafka.sh"
        COMMLAB_KAFKA=mock kafka_start || return 1
        lab_start inventory commlab-inventory --quiet --mode kafka --kafka-brokers "$KAFKA_BROKERS" &&
            lab_start analytics commlab-analytics --quiet --kafka-brokers "$KAFKA_BROKERS" \
                --metrics-file "$LAB_DIR/metrics.json" &&
            lab_start order commlab-order --quiet --mode stream --kafka-brokers "$KAFKA_BROKERS" || return 1
        ORDER_URL=$(lab_url order) INVENTORY_URL=$(lab_url inventory) ANALYTICS_URL=$(lab_url analytics)
        export KAFKA_BROKERS ORDER_URL INVENTORY_URL ANALYTICS_URL
        kinds=too-large prefixes=outbox ;;
    esac
    echo "# refused-rows ($model): $kinds; local lab in $LAB_DIR"
    sh "$S" start "$model" 50 8 4000000
    # Sync: the chain's notifications wait in the outbox while notification
    # is down; the refused rows go in among them.
    [ "$model" != sync ] || { sleep 1; lab_kill notification KILL; }
    sleep 2
    for _k in $kinds; do sh "$S" fault refused-row "$LAB_DIR/order.db" "$_k"; done
    if [ "$model" = sync ]; then
        sleep 3
        lab_restart notification || fail "refused-rows (sync): notification restarted"
    fi
    sh "$S" finish "$model" 0 60
    refused_check $kinds
    lab_stop_all
    [ -z "${LAB_CHECK_LOGS:-}" ] || lab_check_logs
}

# Each phase in a lab of its own (a subshell: its exit trap clears it).
rc=0
for p in $phases; do
    case $p in
    slow-apply) (slow_apply) ;;
    link-drops) (link_drops) ;;
    aborted-txn) (aborted_txn) ;;
    refused-rows) (refused_model sync) && (refused_model async) && (refused_model stream) ;;
    *) fail "nothing-lost: phase '$p' known"; false ;;
    esac || { fail "nothing-lost: $p ran to the end"; rc=1; }
done
exit $rc
