#!/bin/sh
# What clients of other implementations send and look for, one phase per call:
#   time-http      occurred_at on POST /order (ORDER_URL): valid RFC 3339
#                  forms stored canonical, invalid ones 400 naming the field
#   time-amqp      the same over RabbitMQ (AMQP_URL, INVENTORY_URL): applied
#                  with the canonical time carried on, invalid ones in
#                  inventory.order-placed.dlq with the reason
#   time-kafka     the same over Kafka (KAFKA_BROKERS, INVENTORY_URL in kafka
#                  mode), produced with kcat; invalid ones in order-events.dlq
#   no-properties  messages published without any property (amqp-publish's
#                  default, like pika and the management UI) reach every
#                  consumer: applied once, repeats deduplicated, not
#                  dead-lettered; another content type still is (ORDER_URL,
#                  INVENTORY_URL, NOTIFICATION_URL of the async stack)
#   health URL...  GET /health answers as /healthz on every service given
#   lists          GET /orders, GET /notifications and GET /stock/{sku} (ORDER_URL,
#                  NOTIFICATION_URL, INVENTORY_URL of the async stack): paging
#                  and filters against the state dumps, hostile parameters
#                  (400 naming the parameter), a scan bounded per page
#   csv            loadgen rest --csv against ORDER_URL: a header, one line per
#                  request, closed and open loop, order ids as accepted
#   management     the lab's RabbitMQ management API (RMQ_MANAGEMENT_URL) answers
#                  guest, and shows the queues with the arguments docs/contracts.md states
#   start-logs LOG...  no service start provokes a libmicrohttpd warning (the
#                  "Zero size ... thread pool" one came from an option passed as 0)
#   log-events amqp INVENTORY_LOG NOTIFICATION_LOG ORDER_LOG
#   log-events kafka INVENTORY_LOG ANALYTICS_LOG
#                  after no-properties / time-kafka, services run with
#                  --log-events: one line per applied event, duplicate,
#                  conflict and dead letter, with event_id and order_id
# LOADGEN lists dead-letter queues and places orders; OUT_DIR keeps what the
# phases read.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
: "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory}"
mkdir -p "$OUT_DIR"
TAB=$(printf '\t')

# Valid non-canonical forms and the canonical text each is stored as.
VALID_TIMES="2026-02-18T11:30:00.935789+01:00 2026-02-18T10:30:00.935Z
2026-02-18T11:30:00.9Z 2026-02-18T11:30:00.900Z
2026-02-18t11:30:00z 2026-02-18T11:30:00.000Z
2026-02-18T11:30:00-00:00 2026-02-18T11:30:00.000Z
2026-02-18T06:00:00.123456789-05:30 2026-02-18T11:30:00.123Z
2026-02-19T00:30:00+23:59 2026-02-18T00:31:00.000Z
2016-12-31T23:59:60Z 2016-12-31T23:59:59.999Z"
# Invalid ones and a part of the reason each is refused with, after a |.
INVALID_TIMES="2026-13-01T00:00:00Z|month out of range
2026-02-30T00:00:00Z|day out of range
2026-02-29T00:00:00Z|day out of range for the month
2026-02-18T24:00:00Z|hour out of range
2026-02-18T11:60:00Z|minute out of range
2026-02-18T11:30:61Z|second out of range
2026-02-18T11:30:00+24:00|offset out of range
2026-02-18T11:30Z|time must be hh:mm:ss
2026-02-18T11:30:00.Z|fraction needs at least one digit
26-02-18T11:30:00Z|date must be YYYY-MM-DD
2026-02-18 11:30:00Z|date and time must be separated by T
2026-02-18T11:30:00|offset must be Z or +hh:mm"

order_body() { # ORDER_ID TIME
    printf '{"order_id":"%s","user_id":"u1","occurred_at":"%s","items":[{"sku":"soda","qty":1}]}' "$1" "$2"
}
event() { # TYPE EVENT_ID ORDER_ID TIME
    printf '{"schema":1,"type":"%s","event_id":"%s","order_id":"%s","occurred_at":"%s","payload":{"user_id":"u1","items":[{"sku":"soda","qty":1}]}}' \
        "$1" "$2" "$3" "$4"
}
# Published the way a plain client does it: no property at all.
bare_publish() { # ROUTING_KEY BODY [EXCHANGE]
    printf '%s' "$2" | amqp-publish --url="$AMQP_URL" --exchange="${3-commlab.events}" --routing-key="$1"
}
depth() { "$LOADGEN" amqp depth --url "$AMQP_URL" --queue "$1" 2>/dev/null | cut -d' ' -f1; }
depth_is() { [ "$(depth "$1")" = "$2" ]; } # QUEUE N
rows() { # URL TABLE ORDER_ID: rows of TABLE in URL's dump for ORDER_ID
    http_get "$1/dump" | awk -F'\t' -v t="$2" -v o="$3" '$1 == t && $2 == o' | wc -l | tr -d ' '
}
rows_are() { [ "$(rows "$1" "$2" "$3")" = "$4" ]; } # URL TABLE ORDER_ID N
status_of() { http_get "$ORDER_URL/orders/$1" | jq -r .status; }
status_is() { [ "$(status_of "$1")" = "$2" ]; }

phase_time_http() {
    i=0
    while read -r t want; do
        i=$((i + 1))
        id=ix-http-$i
        assert_eq "time http: $t accepted" 202 "$(http_code POST "$ORDER_URL/order" "$(order_body $id "$t")" |
            sed 's/^201$/202/')"
        assert_eq "time http: $t stored as $want" "$want" \
            "$(http_get "$ORDER_URL/orders/$id" | jq -r .occurred_at)"
    done <<EOF
$VALID_TIMES
EOF
    i=0
    while IFS="|" read -r t why; do
        i=$((i + 1))
        id=ix-http-bad-$i
        assert_eq "time http: '$t' refused (400)" 400 "$(http_code POST "$ORDER_URL/order" "$(order_body $id "$t")")"
        assert_eq "time http: '$t' refused naming occurred_at" occurred_at "$(jq -r .field "$HTTP_BODY_FILE")"
        check "time http: '$t' refused saying '$why'" grep -qF "$why" "$HTTP_BODY_FILE"
        assert_eq "time http: '$t' stored nothing" 404 "$(http_code GET "$ORDER_URL/orders/$id")"
    done <<EOF
$INVALID_TIMES
EOF
    # A peer writing Python's isoformat() with an offset, twice: one order.
    b=$(order_body ix-http-peer 2026-02-18T12:30:00.935789+01:00)
    c1=$(http_code POST "$ORDER_URL/order" "$b")
    c2=$(http_code POST "$ORDER_URL/order" "$b")
    assert_eq "peer: 6 fractional digits and an offset over HTTP, twice: accepted, then the stored order" \
        "202 200" "$(echo "$c1" | sed 's/^201$/202/') $c2"
    assert_eq "peer: one order, stored at 2026-02-18T11:30:00.935Z" \
        "1 2026-02-18T11:30:00.935Z" \
        "$(http_get "$ORDER_URL/dump" | awk -F'\t' '$1 == "orders" && $2 == "ix-http-peer" { n++; t = $4 } END { print n + 0, t }')"
}

# Events through inventory; the outcome it publishes carries the time on,
# read from a queue of our own bound to the outcome's routing key.
phase_time_amqp() {
    n=$(echo "$VALID_TIMES" | wc -l)
    amqp-consume --url="$AMQP_URL" -e commlab.events -r inventory.reserved -x -c "$n" cat \
        >"$OUT_DIR/time-amqp.outcomes" 2>"$OUT_DIR/time-amqp.consume.err" &
    cons=$!
    sleep 1
    i=0
    while read -r t want; do
        i=$((i + 1))
        bare_publish order-events "$(event OrderPlaced ix-amqp-ev-$i ix-amqp-$i "$t")"
    done <<EOF
$VALID_TIMES
EOF
    dlq0=$(depth inventory.order-placed.dlq)
    i=0
    while IFS="|" read -r t why; do
        i=$((i + 1))
        bare_publish order-events "$(event OrderPlaced ix-amqp-bad-ev-$i ix-amqp-bad-$i "$t")"
    done <<EOF
$INVALID_TIMES
EOF
    nbad=$i
    wait_until 30 sh -c "! kill -0 $cons 2>/dev/null" || kill $cons 2>/dev/null
    wait $cons 2>/dev/null
    i=0
    while read -r t want; do
        i=$((i + 1))
        assert_eq "time amqp: $t applied (one reservation)" 1 "$(rows "$INVENTORY_URL" reservations ix-amqp-$i)"
        assert_eq "time amqp: $t carried on as $want" "$want" \
            "$(jq -r --arg o ix-amqp-$i 'select(.order_id == $o) | .occurred_at' "$OUT_DIR/time-amqp.outcomes")"
    done <<EOF
$VALID_TIMES
EOF
    check "time amqp: the $nbad invalid ones dead-lettered" wait_until 30 depth_is inventory.order-placed.dlq $((dlq0 + nbad))
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue inventory.order-placed.dlq >"$OUT_DIR/time-amqp.dlq"
    i=0
    while IFS="|" read -r t why; do
        i=$((i + 1))
        check "time amqp: '$t' dead-lettered saying occurred_at: ... $why" \
            grep -qF "occurred_at: must be an RFC 3339 date-time: $why" "$OUT_DIR/time-amqp.dlq"
        assert_eq "time amqp: '$t' applied nothing" 0 "$(rows "$INVENTORY_URL" reservations ix-amqp-bad-$i)"
    done <<EOF
$INVALID_TIMES
EOF
}

phase_time_kafka() {
    hwm() { kcat -Q -b "$KAFKA_BROKERS" -t "$1:0" >/dev/null 2>&1; } # warms kcat up
    hwm order-events
    dlq0=$(kcat -C -b "$KAFKA_BROKERS" -t order-events.dlq -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
    i=0
    while read -r t want; do
        i=$((i + 1))
        printf 'ix-kafka-%s\t%s\n' $i "$(event OrderPlaced ix-kafka-ev-$i ix-kafka-$i "$t")"
    done <<EOF >"$OUT_DIR/time-kafka.valid"
$VALID_TIMES
EOF
    # The peer's event twice (a producer retry): applied once.
    peer=$(event OrderPlaced ix-kafka-peer-ev ix-kafka-peer 2026-02-18T17:00:00.935789+05:30)
    printf 'ix-kafka-peer\t%s\nix-kafka-peer\t%s\n' "$peer" "$peer" >>"$OUT_DIR/time-kafka.valid"
    i=0
    while IFS="|" read -r t why; do
        i=$((i + 1))
        printf 'ix-kafka-bad-%s\t%s\n' $i "$(event OrderPlaced ix-kafka-bad-ev-$i ix-kafka-bad-$i "$t")"
    done <<EOF >"$OUT_DIR/time-kafka.invalid"
$INVALID_TIMES
EOF
    nbad=$i
    cat "$OUT_DIR/time-kafka.valid" "$OUT_DIR/time-kafka.invalid" |
        kcat -P -b "$KAFKA_BROKERS" -t order-events -K "$TAB" 2>"$OUT_DIR/time-kafka.produce.err"
    check "time kafka: the valid events and the peer's applied" wait_until 60 rows_are "$INVENTORY_URL" reservations ix-kafka-peer 1
    kcat -C -b "$KAFKA_BROKERS" -t inventory-events -o beginning -e -q -f '%s\n' \
        >"$OUT_DIR/time-kafka.outcomes" 2>/dev/null
    i=0
    while read -r t want; do
        i=$((i + 1))
        check "time kafka: $t applied (one reservation)" wait_until 30 rows_are "$INVENTORY_URL" reservations ix-kafka-$i 1
    done <<EOF
$VALID_TIMES
EOF
    kcat -C -b "$KAFKA_BROKERS" -t inventory-events -o beginning -e -q -f '%s\n' \
        >"$OUT_DIR/time-kafka.outcomes" 2>/dev/null
    i=0
    while read -r t want; do
        i=$((i + 1))
        assert_eq "time kafka: $t carried on as $want" "$want" \
            "$(jq -r --arg o ix-kafka-$i 'select(.order_id == $o) | .occurred_at' "$OUT_DIR/time-kafka.outcomes" | sort -u)"
    done <<EOF
$VALID_TIMES
EOF
    assert_eq "peer: 6 fractional digits and an offset via kcat, twice: one reservation" 1 \
        "$(rows "$INVENTORY_URL" reservations ix-kafka-peer)"
    assert_eq "peer: its outcome at 2026-02-18T11:30:00.935Z" 2026-02-18T11:30:00.935Z \
        "$(jq -r 'select(.order_id == "ix-kafka-peer") | .occurred_at' "$OUT_DIR/time-kafka.outcomes" | sort -u)"
    dlq_now() {
        kcat -C -b "$KAFKA_BROKERS" -t order-events.dlq -o beginning -e -q -f '%k %h\n' \
            >"$OUT_DIR/time-kafka.dlq" 2>/dev/null
        [ "$(wc -l <"$OUT_DIR/time-kafka.dlq")" -ge $((dlq0 + nbad)) ]
    }
    check "time kafka: the $nbad invalid ones dead-lettered" wait_until 30 dlq_now
    i=0
    while IFS="|" read -r t why; do
        i=$((i + 1))
        check "time kafka: '$t' dead-lettered saying occurred_at: ... $why" \
            grep -qF "occurred_at: must be an RFC 3339 date-time: $why" "$OUT_DIR/time-kafka.dlq"
        assert_eq "time kafka: '$t' applied nothing" 0 "$(rows "$INVENTORY_URL" reservations ix-kafka-bad-$i)"
    done <<EOF
$INVALID_TIMES
EOF
}

phase_no_properties() {
    qi=inventory.order-placed qn=notification.inventory-reserved qo=order.inventory-outcome
    di=$(depth $qi.dlq) dn=$(depth $qn.dlq) do_=$(depth $qo.dlq)
    ai=$(metric "$INVENTORY_URL" amqp_orders_applied_total)
    ui=$(metric "$INVENTORY_URL" amqp_duplicates_total)
    # Inventory: the same OrderPlaced twice, no properties.
    ev=$(event OrderPlaced np-ev-1 np-order-1 2026-02-18T12:00:00.000Z)
    bare_publish order-events "$ev"
    bare_publish order-events "$ev"
    check "no properties: inventory reserved np-order-1" wait_until 30 rows_are "$INVENTORY_URL" reservations np-order-1 1
    # The order service's consumer and notification: an order whose
    # OrderPlaced inventory holds (fault mode hang), settled by a hand-made
    # InventoryReserved published twice without properties.
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"hang"}' >/dev/null
    assert_eq "no properties: order np-order-2 accepted" 202 \
        "$(http_code POST "$ORDER_URL/order" "$(order_body np-order-2 2026-02-18T12:00:00Z)")"
    ev=$(event InventoryReserved np-ev-2 np-order-2 2026-02-18T12:00:00.000Z)
    bare_publish inventory.reserved "$ev"
    bare_publish inventory.reserved "$ev"
    check "no properties: the order service applied the outcome (confirmed)" wait_until 30 status_is np-order-2 confirmed
    check "no properties: notification applied it" wait_until 30 rows_are "$NOTIFICATION_URL" notifications np-order-2 1
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null
    check "no properties: inventory's own outcome for np-order-2 arrived" wait_until 30 rows_are "$INVENTORY_URL" reservations np-order-2 1
    sleep 2
    assert_eq "peer: OrderPlaced without properties, twice: applied once" $((ai + 2)) \
        "$(metric "$INVENTORY_URL" amqp_orders_applied_total)"
    assert_eq "no properties: the repeat counted as a duplicate" $((ui + 1)) "$(metric "$INVENTORY_URL" amqp_duplicates_total)"
    assert_eq "no properties: one notification for np-order-2" 1 "$(rows "$NOTIFICATION_URL" notifications np-order-2)"
    assert_eq "no properties: np-order-2 stays confirmed" confirmed "$(status_of np-order-2)"
    assert_eq "no properties: nothing in $qi.dlq" "$di" "$(depth $qi.dlq)"
    assert_eq "no properties: nothing in $qn.dlq" "$dn" "$(depth $qn.dlq)"
    # np-order-1 was never placed at the order service: its outcome is a
    # conflict there (an order it never accepted), dead-lettered as before.
    check "no properties: $qo.dlq holds only np-order-1's outcome" wait_until 10 depth_is $qo.dlq $((do_ + 1))
    # A client declaring our queue without its arguments: 406, nothing changed.
    amqp-declare-queue --url="$AMQP_URL" -q $qi -d >/dev/null 2>"$OUT_DIR/declare.err"
    check "declare: a classic declare of $qi is refused with 406 PRECONDITION_FAILED" \
        grep -q "406.*PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange'" "$OUT_DIR/declare.err"
    # Every form of JSON's media type HTTP accepts is accepted here too (one
    # reader): a quoted charset, whitespace around ';', any case.
    d0=$(depth $qi.dlq)
    n=0
    for ct in 'application/json; charset="utf-8"' 'application/json ; charset=UTF-8' 'Application/JSON;charset="UTF-8"'; do
        n=$((n + 1))
        printf '%s' "$(event OrderPlaced np-mt-$n np-mt-$n 2026-02-18T12:00:00Z)" |
            amqp-publish --url="$AMQP_URL" --exchange= --routing-key=$qi --content-type="$ct"
        check "content type: '$ct' applied" wait_until 30 rows_are "$INVENTORY_URL" reservations np-mt-$n 1
    done
    printf '%s' "$(event OrderPlaced np-mt-bad np-mt-bad 2026-02-18T12:00:00Z)" |
        amqp-publish --url="$AMQP_URL" --exchange= --routing-key=$qi --content-type='application/json; charset="latin1"'
    check "content type: charset latin1 dead-lettered" wait_until 30 depth_is $qi.dlq $((d0 + 1))
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue $qi.dlq >"$OUT_DIR/ct-charset.dlq"
    check "content type: the dead letter says the charset is not utf-8" \
        grep -qF 'a charset other than utf-8' "$OUT_DIR/ct-charset.dlq"
    # Another content type is still refused, on every queue, with the reason.
    for q in $qi $qn $qo; do
        case $q in "$qi") ty=OrderPlaced ;; *) ty=InventoryReserved ;; esac
        d0=$(depth $q.dlq)
        printf '%s' "$(event $ty np-ct-$q np-ct-$q 2026-02-18T12:00:00Z)" |
            amqp-publish --url="$AMQP_URL" --exchange= --routing-key=$q --content-type=text/plain
        check "content type: text/plain on $q dead-lettered" wait_until 30 depth_is $q.dlq $((d0 + 1))
        "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue $q.dlq >"$OUT_DIR/ct-$q.dlq"
        check "content type: $q's dead letter says content_type: 'text/plain'" \
            grep -qF "content_type: 'text/plain'" "$OUT_DIR/ct-$q.dlq"
    done
}

phase_health() { # URL...
    for u in "$@"; do
        assert_eq "health: GET $u/health answers 200" 200 "$(http_code GET "$u/health")"
        assert_eq "health: with /healthz's body" "$(http_get "$u/healthz")" "$(cat "$HTTP_BODY_FILE")"
        assert_eq "health: POST $u/health is 405" 405 "$(http_code POST "$u/health" '{}')"
    done
}

# pages URL PATH KEY QUERY: every page of a list, one JSON object a line;
# writes the pages' sizes to $OUT_DIR/pages.
pages() {
    _after=
    : >"$OUT_DIR/pages"
    _i=0
    while :; do
        _q=$4${_after:+&after=$_after}
        http_get "$1$2?${_q#&}" >"$OUT_DIR/page" || { echo "GET $1$2?${_q#&} failed" >&2; return 1; }
        jq -c ".$3[]" "$OUT_DIR/page"
        jq ".$3 | length" "$OUT_DIR/page" >>"$OUT_DIR/pages"
        _after=$(jq -r '.next // empty' "$OUT_DIR/page")
        [ -n "$_after" ] || return 0
        _i=$((_i + 1))
        [ $_i -lt 1000 ] || return 1
    done
}
dump_ids() { # URL TABLE [AWK-CONDITION]: the order_ids of TABLE's rows, sorted
    http_get "$1/dump" | awk -F'\t' -v t="$2" "\$1 == t ${3:+&& $3} { print \$2 }" | LC_ALL=C sort
}
quiet_now() {
    [ $(($(depth inventory.order-placed) + $(depth notification.inventory-reserved) +
        $(depth order.inventory-outcome) + $(metric "$ORDER_URL" outbox_backlog) +
        $(metric "$INVENTORY_URL" outbox_backlog))) -eq 0 ]
}
# bad PATH QUERY FIELD: 400 naming FIELD.
bad() {
    _c=$(curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' --max-time 10 --path-as-is "$1?$2")
    assert_eq "lists: GET ${1#http://*/}?$2 is 400 naming '$3'" "400 validation_failed $3" \
        "$_c $(jq -r '.error + " " + (.field // "")' "$HTTP_BODY_FILE" 2>/dev/null)"
}

phase_lists() {
    # More orders than one page may read (LIST_SCAN_MAX 1000), a few sold out.
    "$LOADGEN" rest --url "$ORDER_URL" --seed 11 --sold-out-pct 10 --start 50000 -n 1100 -c 4 \
        --json --quiet >"$OUT_DIR/lists.orders.json"
    check "lists: 1,100 orders settled" wait_until 120 quiet_now
    sleep 1
    all=$(dump_ids "$ORDER_URL" orders | wc -l)
    pages "$ORDER_URL" /orders orders "limit=200" >"$OUT_DIR/orders.all"
    assert_eq "lists: /orders pages (limit=200) hold every order once" "$(dump_ids "$ORDER_URL" orders | tr '\n' ' ')" \
        "$(jq -r .order_id "$OUT_DIR/orders.all" | tr '\n' ' ')"
    assert_eq "lists: pages of 200 but the last" "200" "$(sed '$d' "$OUT_DIR/pages" | sort -u | tr -d '\n')"
    assert_num "lists: $all orders listed" "$all" -ge 1100
    first=$(http_get "$ORDER_URL/orders" | jq '.orders | length')
    assert_eq "lists: the default limit is 50" 50 "$first"
    for st in confirmed rejected; do
        pages "$ORDER_URL" /orders orders "status=$st&limit=100" >"$OUT_DIR/orders.$st"
        assert_eq "lists: status=$st gives exactly the $st orders" \
            "$(dump_ids "$ORDER_URL" orders "\$6 == \"$st\"" | tr '\n' ' ')" \
            "$(jq -r .order_id "$OUT_DIR/orders.$st" | tr '\n' ' ')"
        check "lists: status=$st: each listed order is $st" jq -e -s "all(.[]; .status == \"$st\")" "$OUT_DIR/orders.$st"
    done
    # The workload's busiest user.
    user=$(http_get "$ORDER_URL/dump" | awk -F'\t' '$1 == "orders" { n[$3]++ } END { for (u in n) print n[u], u }' |
        sort -rn | head -n 1 | cut -d' ' -f2)
    pages "$ORDER_URL" /orders orders "user_id=$user&status=confirmed" >"$OUT_DIR/orders.user"
    assert_num "lists: $user has several confirmed orders" "$(wc -l <"$OUT_DIR/orders.user")" -ge 2
    assert_eq "lists: user_id=$user&status=confirmed gives exactly that user's confirmed orders" \
        "$(dump_ids "$ORDER_URL" orders "\$3 == \"$user\" && \$6 == \"confirmed\"" | tr '\n' ' ')" \
        "$(jq -r .order_id "$OUT_DIR/orders.user" | tr '\n' ' ')"
    # A filter nothing matches still reads at most 1,000 rows a page: an empty
    # page with a cursor, then the rest.
    assert_eq "lists: status=pending (none) stops after 1,000 rows: an empty page with a cursor" "0 true" \
        "$(http_get "$ORDER_URL/orders?status=pending&limit=10" | jq -r '"\(.orders | length) \(.next != null)"')"
    pages "$ORDER_URL" /orders orders "status=pending" >"$OUT_DIR/orders.pending"
    assert_eq "lists: status=pending: nothing, in $(wc -l <"$OUT_DIR/pages" | tr -d ' ') bounded pages" 0 "$(wc -l <"$OUT_DIR/orders.pending")"
    pages "$NOTIFICATION_URL" /notifications notifications "limit=77" >"$OUT_DIR/notifications.all"
    assert_eq "lists: /notifications pages hold every notification once" \
        "$(dump_ids "$NOTIFICATION_URL" notifications | tr '\n' ' ')" \
        "$(jq -r .order_id "$OUT_DIR/notifications.all" | tr '\n' ' ')"
    pages "$NOTIFICATION_URL" /notifications notifications "user_id=$user" >"$OUT_DIR/notifications.user"
    assert_eq "lists: /notifications?user_id=$user gives that user's" \
        "$(dump_ids "$NOTIFICATION_URL" notifications "\$3 == \"$user\"" | tr '\n' ' ')" \
        "$(jq -r .order_id "$OUT_DIR/notifications.user" | tr '\n' ' ')"
    # Stock of one SKU.
    assert_eq "lists: GET /stock/burger is /stock's burger" \
        "$(http_get "$INVENTORY_URL/stock" | jq -c '{sku: "burger", qty: .burger}')" \
        "$(http_get "$INVENTORY_URL/stock/burger" | jq -c .)"
    for p in /stock/caviar /stock/ /stock/burger/x /stock/BURGER; do
        assert_eq "lists: GET $p is 404 JSON" "404 not_found" \
            "$(http_code GET "$INVENTORY_URL$p") $(jq -r .error "$HTTP_BODY_FILE")"
    done
    assert_eq "lists: POST /stock/burger is 405" 405 "$(http_code POST "$INVENTORY_URL/stock/burger" '{}')"
    # Hostile parameters: 400 naming the parameter, on both lists.
    for u in "$ORDER_URL/orders" "$NOTIFICATION_URL/notifications"; do
        for l in 0 -1 201 1000 99999999999999999999 abc 1e2 +5 %2B5 05 1.0 " 1" "%201" 0x10 1%00; do
            bad "$u" "limit=$(printf '%s' "$l" | sed 's/ /%20/g')" limit
        done
        bad "$u" "limit=" limit
        bad "$u" "limit" limit
        bad "$u" "limit=1&limit=2" limit
        bad "$u" "limit=10&limit=10" limit
        # A forged cursor with a NUL inside: what follows it must not be ignored.
        for a in zzz c cX c4F c4 c00 c0a c%00 %00 c683100 c68310066666666 c7039000a0d "$(printf 'c%0130d' 0)"; do
            bad "$u" "after=$a" after
        done
        for id in %00 a%0Ab a%7Fb %ZZ a+b %C3%A9 "$(printf '%065d' 0)"; do
            bad "$u" "user_id=$id" user_id
        done
        bad "$u" "user_id=u1&user_id=u2" user_id
        bad "$u" "foo=1" foo
        bad "$u" "limit=5&Limit=5" Limit
        # Names are percent-decoded as values are: user%5Fid is user_id.
        bad "$u" "user%5Fid=u1&user_id=u2" user_id
        bad "$u" "li%6Dit=5&limit=5" limit
        bad "$u" "%00=1" "%00"
        bad "$u" "lim%0Ait=1" "lim%0Ait"
        bad "$u" "%zz=1" "%zz"
        # A parameter with no name, with a value or without.
        for q in "=5" "=" "limit=5&=" "=&limit=5"; do
            bad "$u" "$q" query
        done
        # Empty sequences are nothing, as URL parsers read them.
        for q in "limit=5&" "&limit=5" "limit=5&&" "limit=%35" "li%6Dit=5" "%6C%69%6D%69%74=5"; do
            assert_eq "lists: GET ${u#http://*/}?$q gives 5" 5 \
                "$(curl -s --max-time 10 "$u?$q" | jq '.[keys_unsorted[0]] | length')"
        done
    done
    for st in shipped CONFIRMED "" %00 confirmed%00 "confirmed,rejected"; do
        bad "$ORDER_URL/orders" "status=$st" status
    done
    bad "$NOTIFICATION_URL/notifications" "status=confirmed" status
    # Every other route takes no parameter: GET /stock and /stock/{sku} too.
    for p in /stock /stock/burger; do
        for q in "x=1" "limit=5" "sku=burger" "x=%00"; do
            bad "$INVENTORY_URL$p" "$q" "${q%%=*}"
        done
        bad "$INVENTORY_URL$p" "=" query
    done
    c=$(http_code POST "$ORDER_URL/orders" '{}')
    assert_eq "lists: POST /orders is 405" 405 "$c"
}

csv_ok() { # FILE N: the header, N lines of numbers in order, end >= start >= 0
    awk -F, -v n="$2" 'NR == 1 { if ($0 != "scheduled_ms,start_ms,end_ms,status,order_id") exit 1; next }
        NF != 5 || $1 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || $2 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || $3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ ||
        $3 + 0 < $2 + 0 || $1 + 0 < prev { exit 1 }
        { prev = $1 + 0 } END { exit NR - 1 != n }' "$1"
}
phase_csv() {
    "$LOADGEN" rest --url "$ORDER_URL" --seed 13 --start 60000 -n 40 -c 4 --quiet --json \
        --csv "$OUT_DIR/closed.csv" --accepted-file "$OUT_DIR/closed.accepted" >/dev/null
    check "csv: closed loop, a header and 40 lines of times in order" csv_ok "$OUT_DIR/closed.csv" 40
    assert_eq "csv: 40 orders accepted" 40 "$(wc -l <"$OUT_DIR/closed.accepted" | tr -d ' ')"
    assert_eq "csv: the order_ids are the accepted orders" "$(LC_ALL=C sort "$OUT_DIR/closed.accepted" | tr '\n' ' ')" \
        "$(awk -F, 'NR > 1 && $4 == 202 { print $5 }' "$OUT_DIR/closed.csv" | LC_ALL=C sort | tr '\n' ' ')"
    check "csv: closed loop, scheduled = start" awk -F, 'NR > 1 && $1 != $2 { exit 1 }' "$OUT_DIR/closed.csv"
    "$LOADGEN" rest --url "$ORDER_URL" --seed 13 --start 60000 --rate 40 --duration 1 -c 4 --quiet --json \
        --csv "$OUT_DIR/open.csv" >/dev/null
    check "csv: open loop, a header and 40 lines of times in order" csv_ok "$OUT_DIR/open.csv" 40
    check "csv: open loop, the same orders again (200: seen before)" \
        awk -F, 'NR > 1 && $4 != 200 { exit 1 }' "$OUT_DIR/open.csv"
    assert_eq "csv: open loop, scheduled 25 ms apart" "25.000" \
        "$(awk -F, 'NR == 3 { a = $1 } NR == 4 { printf "%.3f", $1 - a }' "$OUT_DIR/open.csv")"
    "$LOADGEN" rest --url "$ORDER_URL" --target healthz -n 5 -c 1 --quiet --json --csv "$OUT_DIR/health.csv" >/dev/null
    check "csv: --target healthz, 5 lines with an empty order_id" \
        awk -F, 'NR > 1 && ($4 != 200 || $5 != "") { exit 1 } END { exit NR != 6 }' "$OUT_DIR/health.csv"
    rc=0
    "$LOADGEN" rest --url "$ORDER_URL" -n 1 --quiet --json --csv /nonexistent/dir/x.csv \
        >/dev/null 2>"$OUT_DIR/csv.err" || rc=$?
    assert_eq "csv: an unwritable file: exit status 1" 1 "$rc"
    check "csv: ... saying so" grep -q 'cannot write --csv /nonexistent/dir/x.csv' "$OUT_DIR/csv.err"
}

phase_management() {
    [ -n "${RMQ_MANAGEMENT_URL:-}" ] || { fail "management: the lab printed the plugin's URL"; return 1; }
    assert_eq "management: GET /api/overview as guest answers 200" 200 \
        "$(curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' -u guest:guest --max-time 10 "$RMQ_MANAGEMENT_URL/api/overview")"
    check "management: it names the broker's version" jq -e '.rabbitmq_version | length > 0' "$HTTP_BODY_FILE"
    assert_eq "management: without credentials 401" 401 \
        "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$RMQ_MANAGEMENT_URL/api/overview")"
    for q in inventory.order-placed notification.inventory-reserved order.inventory-outcome; do
        assert_eq "management: $q has the documented arguments" \
            "{\"x-dead-letter-exchange\":\"commlab.dlx\",\"x-dead-letter-routing-key\":\"$q\",\"x-delivery-limit\":20,\"x-queue-type\":\"quorum\"} true false" \
            "$(curl -s -u guest:guest --max-time 10 "$RMQ_MANAGEMENT_URL/api/queues/%2F/$q" |
                jq -c -r '"\(.arguments | to_entries | sort_by(.key) | from_entries | tojson) \(.durable) \(.auto_delete)"')"
        assert_eq "management: $q.dlq is a quorum queue" '{"x-queue-type":"quorum"}' \
            "$(curl -s -u guest:guest --max-time 10 "$RMQ_MANAGEMENT_URL/api/queues/%2F/$q.dlq" | jq -c .arguments)"
    done
}

phase_start_logs() { # LOG...
    for f in "$@"; do
        check "start log: $(basename "$f" .log) says it listens" grep -q "listening on port" "$f"
        assert_eq "start log: $(basename "$f" .log) has no libmicrohttpd warning" "" \
            "$(grep -i 'libmicrohttpd: .*warning' "$f" | head -n 1)"
    done
}

# lines LOG OUTCOME EVENT_ID ORDER_ID: how many event lines LOG has for them.
lines() {
    grep -cE " info: event $2 type=[A-Za-z]+ event_id=$3 order_id=$4 source=" "$1"
}
once() { # WHAT LOG OUTCOME EVENT_ID ORDER_ID
    assert_eq "log events: $1" 1 "$(lines "$2" "$3" "$4" "$5")"
}
phase_log_events() { # amqp INV NOTE ORDER | kafka INV ANALYTICS
    if [ "$1" = amqp ]; then
        inv=$2 note=$3 ord=$4
        once "inventory: np-ev-1 applied once" "$inv" applied np-ev-1 np-order-1
        once "inventory: np-ev-1 a duplicate once" "$inv" duplicate np-ev-1 np-order-1
        once "order: np-ev-2 applied once" "$ord" applied np-ev-2 np-order-2
        once "order: np-ev-2 a duplicate once" "$ord" duplicate np-ev-2 np-order-2
        once "notification: np-ev-2 applied once" "$note" applied np-ev-2 np-order-2
        check "order: np-order-1's outcome a conflict, with the reason" \
            grep -qE " info: event conflict type=InventoryReserved event_id=[0-9a-f]+ order_id=np-order-1 source=order.inventory-outcome reason=." "$ord"
        for f in "$inv" "$note" "$ord"; do
            check "$(basename "$f" .log): the text/plain message's dead letter logged with its reason" \
                grep -qF "info: event dead_letter type=- event_id=- order_id=- source=" "$f"
        done
        check "inventory: a bad occurred_at's dead letter logged with its reason" \
            grep -qF "reason=occurred_at: must be an RFC 3339 date-time: month out of range" "$inv"
    else
        inv=$2 an=$3
        once "inventory (kafka): the peer's event applied once" "$inv" applied ix-kafka-peer-ev ix-kafka-peer
        once "inventory (kafka): its repeat a duplicate once" "$inv" duplicate ix-kafka-peer-ev ix-kafka-peer
        once "analytics: the peer's event applied once" "$an" applied ix-kafka-peer-ev ix-kafka-peer
        once "analytics: its repeat a duplicate once" "$an" duplicate ix-kafka-peer-ev ix-kafka-peer
        check "inventory (kafka): a bad occurred_at's dead letter logged with its reason" \
            grep -qE "info: event dead_letter type=- event_id=- order_id=- source=order-events reason=malformed: occurred_at: must be an RFC 3339 date-time: month out of range" "$inv"
    fi
}

scenario_dispatch "$0" "time-http time-amqp time-kafka no-properties health lists csv management log-events start-logs" "$@"
