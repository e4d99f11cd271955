#!/bin/sh
# RabbitMQ consumers under hostile messages, one phase per call, against the
# running async stack (same variables as async-rabbitmq.sh, plus HOSTILE: the
# tests' own publisher, services/tests/amqp_hostile.c; default: tests/amqp-hostile
# of COMMLAB_BIN, else amqp-hostile on PATH).
#   hostile     600 valid orders with one message of every hostile-properties
#               case interleaved (inventory held by fault mode hang so that
#               they share its prefetch window): exactly the hostile ones in
#               the .dlq, each with a reason; every valid order final once.
#   conflicts   wrong event types on each queue, event_ids reused for other
#               content, outcomes that contradict an order's status: each
#               dead-lettered with its reason and counted, nothing applied.
#   forged      outcomes that say otherwise of an order than the stored one
#               (another user, other items, another event time): the order
#               service dead-letters each and changes nothing, the true
#               outcome still applies (also under a forged one's event_id,
#               and after an outcome for the order sent before it existed);
#               notification dead-letters a later confirmation that says
#               otherwise of an order it notified, instead of a duplicate.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
: "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
: "${AMQP_URL:?AMQP_URL must name the broker}" "${HOSTILE:=${COMMLAB_BIN:+$COMMLAB_BIN/tests/}amqp-hostile}"
mkdir -p "$OUT_DIR"
QI=inventory.order-placed
QN=notification.inventory-reserved
QO=order.inventory-outcome
VALID=600
START=70000

depth() { "$LOADGEN" amqp depth --url "$AMQP_URL" --queue "$1" 2>/dev/null | cut -d' ' -f1; }
quiet_now() { # no message ready anywhere, no outbox row waiting
    [ $(($(depth $QI) + $(depth $QN) + $(depth $QO) + $(metric "$ORDER_URL" outbox_backlog) +
        $(metric "$INVENTORY_URL" outbox_backlog))) -eq 0 ]
}
quiet() { wait_until "$1" quiet_now; } # SECONDS
event() { # TYPE EVENT_ID ORDER_ID [REASON]
    _r=
    [ -n "${4:-}" ] && _r=",\"reason\":\"$4\""
    printf '{"schema":1,"type":"%s","event_id":"%s","order_id":"%s","occurred_at":"2026-02-18T12:00:00.000Z","payload":{"user_id":"u1","items":[{"sku":"soda","qty":1}]%s}}' \
        "$1" "$2" "$3" "$_r"
}
# outcome_of ORDER-JSON TYPE EVENT_ID JQ-EDIT: an outcome restating the order
# as GET /orders/{id} shows it, then edited by JQ-EDIT ("." for none).
outcome_of() {
    printf '%s' "$1" | jq -c --arg t "$2" --arg id "$3" \
        "{schema: 1, type: \$t, event_id: \$id, order_id, occurred_at, payload: {user_id, items}} | $4"
}
to_queue() { # QUEUE BODY: straight into one queue (the default exchange)
    printf '%s' "$2" | amqp-publish --url="$AMQP_URL" --exchange= --routing-key="$1" \
        --persistent --content-type=application/json
}
dlq_list() { # QUEUE FILE
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$1.dlq" >"$2"
}
# Rows of one table in a service's dump whose order_id starts with PREFIX.
rows() { # URL TABLE PREFIX
    http_get "$1/dump" | awk -F'\t' -v t="$2" -v p="$3" '$1 == t && index($2, p) == 1' | wc -l
}

depth_is() { [ "$(depth "$1")" = "$2" ]; } # QUEUE N
status_is() { [ "$(http_get "$ORDER_URL/orders/$1" | jq -r .status)" = "$2" ]; } # ORDER_ID STATUS
rows_is() { [ "$(rows "$1" "$2" "$3")" -eq "$4" ]; } # URL TABLE PREFIX N
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; } # URL NAME N

# The reason each case must be dead-lettered with (a part of it).
reason_of() { # CASE
    case $1 in
    empty-header-name | empty-nested-name | empty-name-in-array) echo 'headers: a field with an empty name' ;;
    deep-headers | deep-arrays) echo 'headers: nested deeper than' ;;
    # Refused by name where rabbitmq-c decodes it (0.11), rejected by delivery
    # tag where it cannot (0.14+ stops at 100 levels).
    deeper-than-library) echo 'headers: nested deeper than|undecodable AMQP message' ;;
    odd-kinds) echo "headers: a field of kind" ;;
    float-header) echo "headers: a field of kind 'f'" ;;
    double-header) echo "headers: a field of kind 'd'" ;;
    decimal-header) echo "headers: a field of kind 'D'" ;;
    void-header) echo "headers: a field of kind 'V'" ;;
    bytes-header | bytes-in-table | bytes-in-array) echo "headers: a field of kind 'x'" ;;
    many-headers) echo 'headers: more than 256 fields' ;;
    huge-header) echo 'headers: larger than 16384 bytes' ;;
    binary-header-name) echo 'headers: a field name with byte 0x00' ;;
    space-header-name) echo 'headers: a field name with byte 0x20' ;;
    duplicate-header) echo "headers: field 'dup' appears twice" ;;
    long-header-name) echo 'headers: a field name longer than 128 bytes' ;;
    wrong-content-type) echo "content_type: 'text/plain'" ;;
    xml-content-type) echo "content_type: 'application/xml'" ;;
    empty-content-type) echo "content_type: ''" ;;
    gzip-encoding) echo "content_encoding: 'gzip'" ;;
    forged-death) echo 'headers: x-death must be an array of tables' ;;
    *) echo "no reason known for case $1" ;;
    esac
}

phase_hostile() {
    check "hostile: queues quiet before" quiet 120
    d0=$(depth $QI.dlq)
    a0=$(metric "$INVENTORY_URL" amqp_orders_applied_total)
    u0=$(metric "$INVENTORY_URL" amqp_duplicates_total)
    cases=$("$HOSTILE" --list)
    n_cases=$(echo "$cases" | wc -l)
    # Hold inventory's consumer on its first batch: the valid orders and the
    # hostile messages pile up in one queue and reach it in one window.
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"hang"}' >/dev/null
    "$LOADGEN" rest --url "$ORDER_URL" --seed 7 --sold-out-pct 0 --start $START -n $VALID \
        -c 4 --json --quiet >"$OUT_DIR/hostile.orders.json" &
    lg=$!
    for c in $cases; do
        event OrderPlaced "hostile-$c" "hostile-$c" | "$HOSTILE" "$AMQP_URL" commlab.events order-events "$c" ||
            fail "hostile: published case $c"
        sleep 0.05
    done
    wait "$lg"
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null
    assert_eq "hostile: all $VALID valid orders accepted (202)" $VALID \
        "$(jq -r '.status["202"] // 0' "$OUT_DIR/hostile.orders.json")"
    check "hostile: queues drained" quiet 120
    sleep 1
    dlq_list $QI "$OUT_DIR/hostile.dlq.txt"
    assert_eq "hostile: exactly the $n_cases hostile messages in $QI.dlq" $((d0 + n_cases)) "$(depth $QI.dlq)"
    for c in $cases; do
        check "hostile: $c dead-lettered saying '$(reason_of "$c")'" grep -qE "$(reason_of "$c")" \
            "$OUT_DIR/hostile.dlq.txt"
    done
    http_get "$ORDER_URL/dump" | awk -F'\t' '$1 == "orders"' >"$OUT_DIR/hostile.orders.txt"
    http_get "$INVENTORY_URL/dump" >"$OUT_DIR/hostile.inventory.txt"
    assert_eq "hostile: nothing reserved for a hostile message" 0 \
        "$(grep -c '^reservations	hostile-' "$OUT_DIR/hostile.inventory.txt")"
    assert_eq "hostile: no order left accepted" 0 \
        "$(awk -F'\t' '$6 != "confirmed" && $6 != "rejected" && $6 != "failed"' "$OUT_DIR/hostile.orders.txt" | wc -l)"
    applied=$(($(metric "$INVENTORY_URL" amqp_orders_applied_total) - a0))
    dups=$(($(metric "$INVENTORY_URL" amqp_duplicates_total) - u0))
    assert_eq "hostile: inventory applied each valid order once" $VALID "$applied"
    assert_eq "hostile: nothing redelivered (no link lost to a hostile message)" 0 "$dups"
    jq -n --argjson cases "$n_cases" --argjson valid $VALID --argjson applied "$applied" \
        --argjson duplicates "$dups" '{hostile_cases: $cases, valid: $valid, applied: $applied, duplicates: $duplicates}' \
        >"$OUT_DIR/hostile.json"
}

phase_conflicts() {
    check "conflicts: queues quiet before" quiet 120
    di=$(depth $QI.dlq) dn=$(depth $QN.dlq) do_=$(depth $QO.dlq)
    ci=$(metric "$INVENTORY_URL" amqp_conflicts_total)
    cn=$(metric "$NOTIFICATION_URL" amqp_conflicts_total)
    co=$(metric "$ORDER_URL" amqp_conflicts_total)
    confirmed=$(http_get "$ORDER_URL/dump" | awk -F'\t' '$1 == "orders" && $6 == "confirmed" { print $2; exit }')
    [ -n "$confirmed" ] || fail "conflicts: a confirmed order to contradict"
    # Wrong event types: each queue carries only its own.
    to_queue $QI "$(event InventoryReserved wt-i1 wt-order-1)"
    to_queue $QI "$(event InventoryFailed wt-i2 wt-order-2 out_of_stock:soda)"
    to_queue $QN "$(event OrderPlaced wt-n1 wt-order-3)"
    to_queue $QN "$(event InventoryFailed wt-n2 wt-order-4 out_of_stock:soda)"
    to_queue $QO "$(event OrderPlaced wt-o1 wt-order-5)"
    # Reused event_ids: first the real event, then its id for another order.
    to_queue $QI "$(event OrderPlaced reuse-ev-i reuse-order-1)"
    to_queue $QN "$(event InventoryReserved reuse-ev-n reuse-order-3)"
    check "conflicts: the originals applied" quiet 60
    sleep 0.5
    to_queue $QI "$(event OrderPlaced reuse-ev-i reuse-order-2)"
    to_queue $QN "$(event InventoryReserved reuse-ev-n reuse-order-4)"
    # Outcomes: a repeat (new event_id, same outcome, restating the order as
    # stored) is a duplicate; an InventoryFailed for a confirmed order, an
    # outcome for an unknown order and a reused id for another order are
    # conflicts.
    c=$(http_get "$ORDER_URL/orders/$confirmed")
    to_queue $QO "$(outcome_of "$c" InventoryReserved repeat-ev-o .)"
    to_queue $QO "$(outcome_of "$c" InventoryFailed contra-ev-o '.payload.reason = "out_of_stock:soda"')"
    to_queue $QO "$(event InventoryReserved unknown-ev-o never-placed-1)"
    check "conflicts: queues drained" quiet 60
    sleep 0.5
    to_queue $QO "$(event InventoryReserved repeat-ev-o never-placed-2)"
    check "conflicts: queues drained again" quiet 60
    sleep 1
    dlq_list $QI "$OUT_DIR/conflicts.inventory.dlq.txt"
    dlq_list $QN "$OUT_DIR/conflicts.notification.dlq.txt"
    dlq_list $QO "$OUT_DIR/conflicts.order.dlq.txt"
    assert_eq "conflicts: $QI.dlq got the 2 wrong types and the reused id" $((di + 3)) "$(depth $QI.dlq)"
    assert_eq "conflicts: $QN.dlq got the 2 wrong types and the reused id" $((dn + 3)) "$(depth $QN.dlq)"
    # Plus the outcome of reuse-order-1, an order the order service never took.
    assert_eq "conflicts: $QO.dlq got 1 wrong type, 1 contradiction, 2 unknown orders, 1 reused id" \
        $((do_ + 5)) "$(depth $QO.dlq)"
    for r in 'type: expected OrderPlaced' 'event_id reuse-ev-i was OrderPlaced for order reuse-order-1'; do
        check "conflicts: inventory dead letter says '$r'" grep -qF "$r" "$OUT_DIR/conflicts.inventory.dlq.txt"
    done
    for r in 'type: expected InventoryReserved' 'event_id reuse-ev-n was InventoryReserved for order reuse-order-3'; do
        check "conflicts: notification dead letter says '$r'" grep -qF "$r" "$OUT_DIR/conflicts.notification.dlq.txt"
    done
    for r in 'type: expected InventoryReserved or InventoryFailed' \
        'conflict: InventoryFailed for an order already confirmed' \
        'conflict: InventoryReserved for unknown order never-placed-1' \
        'conflict: InventoryReserved for unknown order reuse-order-1' \
        'event_id repeat-ev-o was InventoryReserved for order'; do
        check "conflicts: order dead letter says '$r'" grep -qF "$r" "$OUT_DIR/conflicts.order.dlq.txt"
    done
    assert_eq "conflicts: the contradicted order is still confirmed" confirmed \
        "$(http_get "$ORDER_URL/orders/$confirmed" | jq -r .status)"
    assert_eq "conflicts: nothing reserved for a reused event_id" 0 "$(rows "$INVENTORY_URL" reservations reuse-order-2)"
    assert_eq "conflicts: the original of the reused id reserved" 1 "$(rows "$INVENTORY_URL" reservations reuse-order-1)"
    assert_eq "conflicts: nothing notified for a reused event_id" 0 "$(rows "$NOTIFICATION_URL" notifications reuse-order-4)"
    assert_eq "conflicts: nothing reserved for a wrong type" 0 "$(rows "$INVENTORY_URL" reservations wt-order-)"
    assert_eq "conflicts: nothing notified for a wrong type" 0 "$(rows "$NOTIFICATION_URL" notifications wt-order-)"
    assert_eq "conflicts: inventory counted 1 conflict" $((ci + 1)) "$(metric "$INVENTORY_URL" amqp_conflicts_total)"
    assert_eq "conflicts: notification counted 1 conflict" $((cn + 1)) "$(metric "$NOTIFICATION_URL" amqp_conflicts_total)"
    assert_eq "conflicts: the order service counted 4 conflicts" $((co + 4)) "$(metric "$ORDER_URL" amqp_conflicts_total)"
}

# Outcomes forged for two orders that inventory holds (fault mode hang), so
# that every outcome of theirs until the end is one of ours.
phase_forged() {
    check "forged: queues quiet before" quiet 120
    do_=$(depth $QO.dlq) dn=$(depth $QN.dlq)
    co=$(metric "$ORDER_URL" amqp_conflicts_total) cn=$(metric "$NOTIFICATION_URL" amqp_conflicts_total)
    uo=$(metric "$ORDER_URL" amqp_duplicates_total) un=$(metric "$NOTIFICATION_URL" amqp_duplicates_total)
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"hang"}' >/dev/null
    for id in forged-1 forged-2; do
        assert_eq "forged: $id accepted" 202 "$(http_code POST "$ORDER_URL/order" \
            "{\"order_id\":\"$id\",\"user_id\":\"u-real\",\"occurred_at\":\"2026-02-18T12:00:00.5Z\",\"items\":[{\"sku\":\"burger\",\"qty\":2},{\"sku\":\"soda\",\"qty\":1}]}")"
    done
    o1=$(http_get "$ORDER_URL/orders/forged-1") o2=$(http_get "$ORDER_URL/orders/forged-2")
    # The order service: five outcomes that are not about forged-1 as stored.
    to_queue $QO "$(outcome_of "$o1" InventoryReserved f-user '.payload.user_id = "u-forged"')"
    to_queue $QO "$(outcome_of "$o1" InventoryReserved f-qty '.payload.items[0].qty = 3')"
    to_queue $QO "$(outcome_of "$o1" InventoryReserved f-fewer '.payload.items |= .[:1]')"
    to_queue $QO "$(outcome_of "$o1" InventoryReserved f-time '.occurred_at = "2026-02-18T12:00:01.500Z"')"
    to_queue $QO "$(outcome_of "$o1" InventoryFailed f-failed '.payload.items[1].sku = "pizza" | .payload.reason = "out_of_stock:pizza"')"
    check "forged: the order service's queue drained" quiet 60
    check "forged: $QO.dlq got the 5 forged outcomes" wait_until 10 depth_is $QO.dlq $((do_ + 5))
    assert_eq "forged: forged-1 still accepted" accepted "$(http_get "$ORDER_URL/orders/forged-1" | jq -r .status)"
    assert_eq "forged: the order service counted 5 conflicts" $((co + 5)) "$(metric "$ORDER_URL" amqp_conflicts_total)"
    dlq_list $QO "$OUT_DIR/forged.order.dlq.txt"
    for r in 'InventoryReserved for order forged-1 with another user_id than the order' \
        'InventoryReserved for order forged-1 with another items than the order' \
        'InventoryReserved for order forged-1 with another occurred_at than the order' \
        'InventoryFailed for order forged-1 with another items than the order'; do
        check "forged: order dead letter says '$r'" grep -qF "$r" "$OUT_DIR/forged.order.dlq.txt"
    done
    # The true outcome under a forged one's event_id applies (the forged id
    # was not kept); the same again, items listed the other way round and
    # the time with an offset, is a duplicate.
    to_queue $QO "$(outcome_of "$o1" InventoryReserved f-user .)"
    check "forged: the true outcome confirms forged-1" wait_until 30 status_is forged-1 confirmed
    to_queue $QO "$(outcome_of "$o1" InventoryReserved f-same '.payload.items |= reverse | .occurred_at = "2026-02-18T13:00:00.5+01:00"')"
    check "forged: the same outcome in other words is a duplicate" wait_until 30 metric_is "$ORDER_URL" amqp_duplicates_total $((uo + 1))
    # Notification keeps the first confirmation of forged-2; later ones that
    # say otherwise are conflicts, one that says the same a duplicate.
    to_queue $QN "$(outcome_of "$o2" InventoryReserved n-true .)"
    check "forged: notification confirmed forged-2" wait_until 30 rows_is "$NOTIFICATION_URL" notifications forged-2 1
    to_queue $QN "$(outcome_of "$o2" InventoryReserved n-user '.payload.user_id = "u-forged"')"
    to_queue $QN "$(outcome_of "$o2" InventoryReserved n-qty '.payload.items[1].qty = 9')"
    to_queue $QN "$(outcome_of "$o2" InventoryReserved n-same '.payload.items |= reverse')"
    check "forged: notification's queue drained" quiet 60
    check "forged: $QN.dlq got the 2 contradicting confirmations" wait_until 10 depth_is $QN.dlq $((dn + 2))
    assert_eq "forged: notification counted 2 conflicts" $((cn + 2)) "$(metric "$NOTIFICATION_URL" amqp_conflicts_total)"
    dlq_list $QN "$OUT_DIR/forged.notification.dlq.txt"
    check "forged: notification dead letter says why" grep -qF \
        'InventoryReserved for order forged-2 with another user_id or items than the one notified' "$OUT_DIR/forged.notification.dlq.txt"
    # A forged id with the true content: a duplicate, not a reused id.
    to_queue $QN "$(outcome_of "$o2" InventoryReserved n-user .)"
    check "forged: notification counted 2 duplicates" wait_until 30 metric_is "$NOTIFICATION_URL" amqp_duplicates_total $((un + 2))
    # Inventory lets go: its own outcomes arrive, and change nothing more.
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null
    check "forged: inventory reserved both" wait_until 30 rows_is "$INVENTORY_URL" reservations forged- 2
    check "forged: queues drained at the end" quiet 60
    check "forged: forged-2 confirmed by inventory's outcome" wait_until 30 status_is forged-2 confirmed
    check "forged: forged-1 notified by inventory's outcome" wait_until 30 rows_is "$NOTIFICATION_URL" notifications forged-1 1
    sleep 1
    http_get "$NOTIFICATION_URL/dump" | awk -F'\t' '$1 == "notifications" && index($2, "forged-") == 1' >"$OUT_DIR/forged.notifications.txt"
    assert_eq "forged: both notifications name the true user and items" \
        "Hi u-real, order forged-1 is confirmed: 2x burger, 1x soda|Hi u-real, order forged-2 is confirmed: 2x burger, 1x soda" \
        "$(cut -f4 "$OUT_DIR/forged.notifications.txt" | paste -sd'|' -)"
    assert_eq "forged: nothing more in $QO.dlq" $((do_ + 5)) "$(depth $QO.dlq)"
    assert_eq "forged: nothing more in $QN.dlq" $((dn + 2)) "$(depth $QN.dlq)"
    phase_forged_early
}

# Outcomes for orders not placed yet (inventory held again): about no order,
# dead-lettered with their event_ids not kept, so the true outcome under such
# an id applies once the order is placed. Kept, the id would make it a
# duplicate (the early one restated the order to come) or a conflict (it did
# not), and leave the order accepted for good: ids derive from type and
# order_id, so the id of inventory's own outcome is easy to foresee.
phase_forged_early() {
    do_=$(depth $QO.dlq)
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"hang"}' >/dev/null
    early='"user_id":"u-real","occurred_at":"2026-02-18T12:00:00.500Z","items":[{"sku":"burger","qty":2},{"sku":"soda","qty":1}]}'
    to_queue $QO "$(outcome_of "{\"order_id\":\"early-1\",$early" InventoryReserved e-1 .)"
    to_queue $QO "$(outcome_of "{\"order_id\":\"early-2\",$early" InventoryReserved e-2 '.payload.user_id = "u-forged"')"
    check "forged: $QO.dlq got the 2 outcomes for orders not placed yet" wait_until 30 depth_is $QO.dlq $((do_ + 2))
    dlq_list $QO "$OUT_DIR/forged.early.dlq.txt"
    for id in early-1 early-2; do
        check "forged: dead letter says $id is unknown" grep -qF "InventoryReserved for unknown order $id" "$OUT_DIR/forged.early.dlq.txt"
        assert_eq "forged: $id accepted" 202 "$(http_code POST "$ORDER_URL/order" "{\"order_id\":\"$id\",$early")"
    done
    to_queue $QO "$(outcome_of "$(http_get "$ORDER_URL/orders/early-1")" InventoryReserved e-1 .)"
    to_queue $QO "$(outcome_of "$(http_get "$ORDER_URL/orders/early-2")" InventoryReserved e-2 .)"
    for id in early-1 early-2; do
        check "forged: $id confirmed by its true outcome under an early one's event_id" wait_until 30 status_is $id confirmed
    done
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null
    check "forged: queues drained after the early outcomes" quiet 60
    assert_eq "forged: nothing more in $QO.dlq after the early outcomes" $((do_ + 2)) "$(depth $QO.dlq)"
}

scenario_dispatch amqp-hostile.sh "hostile conflicts forged" "$@"
