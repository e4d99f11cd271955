#!/bin/sh
# Hostile JSON over the real transports, one phase per call:
#   hostile-json.sh http TARGET...  TARGET: order inventory notification
#                                   (REST mode), inventory-stream analytics
#                                   (streaming /configure)
#   hostile-json.sh amqp            OrderPlaced events to RabbitMQ (AMQP_URL),
#                                   and InventoryReserved when NOTIFICATION_URL
#                                   is set (notification and order consume them)
#   hostile-json.sh kafka           OrderPlaced events to Kafka (KAFKA_BROKERS)
# Endpoints from ORDER_URL INVENTORY_URL NOTIFICATION_URL ANALYTICS_URL;
# LOADGEN for the AMQP DLQ lister. The cases (JSON_CASES, default
# nixos-tests/corpus/json.cases, which says how to read them) are spliced
# into fields of valid bodies and events; whole-body cases are sent as they
# are. Every case must be refused (400 naming the field, or dead-lettered
# with the validator's reason) and change nothing; the valid events
# published between the hostile ones must be applied exactly once.
# INT_CASES (corpus/integers.cases) go to every integer field, ENV_CASES
# (corpus/envelope.cases) replace one envelope field of an event each; on
# both brokers an event_id reused with other items must be dead-lettered
# (inventory, and analytics into analytics.dlq), the first event applied.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
: "${JSON_CASES:=$here/../corpus/json.cases}" "${INT_CASES:=$here/../corpus/integers.cases}" \
    "${ENV_CASES:=$here/../corpus/envelope.cases}" "${LOADGEN:=loadgen}"
# Byte counts, not characters, and printf's octal escapes as bytes.
LC_ALL=C
export LC_ALL
TAB=$(printf '\t')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ITEM='{"sku":"burger","qty":1}'

# cases: the case lines "EXPECT<TAB>NAME<TAB>BYTES", comments left out, of
# $CASES (JSON_CASES unless a site of integer fields sets it to INT_CASES).
cases() { grep -v '^#' "${CASES:-$JSON_CASES}"; }
# int_site ARGS...: site with the integer corpus.
int_site() {
    CASES=$INT_CASES
    site "$@"
    CASES=
}

# splice EXPECT BYTES PREFIX SUFFIX OUT: the bytes between PREFIX and SUFFIX
# (alone for a whole-body case) into OUT. Only builtins: a loaded CI machine
# pays for every process.
splice() {
    # shellcheck disable=SC2059 # the cases are printf formats by design
    if [ "$1" = body ]; then printf "$2" >"$5"; else printf "$3$2$4" >"$5"; fi
}

# site URL PATH PREFIX SUFFIX FIELD CONTAINER: every case at one field of one
# endpoint (and, when FIELD is a top-level member, that member twice), in
# one curl run over one connection.
site() {
    _url=$1 _path=$2 _pre=$3 _suf=$4 _field=$5 _cont=$6
    _d=$WORK/site
    rm -rf "$_d"
    mkdir -p "$_d"
    _n=0
    : >"$_d/want"
    while IFS=$TAB read -r _exp _name _bytes _desc; do
        _n=$((_n + 1))
        splice "$_exp" "$_bytes" "$_pre" "$_suf" "$_d/b$_n"
        case $_exp in
        body) _w=body ;;
        ^) _w=$_cont ;;
        *) _w=$_field${_exp#@} ;;
        esac
        printf '%s\t%s\n' "$_w" "$_name" >>"$_d/want"
    done <<EOF_CASES
$(cases)
EOF_CASES
    if [ "$_cont" = body ]; then
        _n=$((_n + 1))
        printf '%s"hx-dup"%s,"%s":"hx-dup"}' "$_pre" "${_suf%\}}" "$_field" >"$_d/b$_n"
        printf '%s\t%s\n' "$_field" duplicate-top-level-key >>"$_d/want"
    fi
    set --
    _i=1
    while [ "$_i" -le "$_n" ]; do
        [ "$_i" -gt 1 ] && set -- "$@" --next
        set -- "$@" -s -o "$_d/a$_i" -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
            --data-binary @"$_d/b$_i" --max-time 10 "$_url$_path"
        _i=$((_i + 1))
    done
    curl "$@" >"$_d/codes"
    set --
    _i=1
    while [ "$_i" -le "$_n" ]; do
        set -- "$@" "$_d/a$_i"
        _i=$((_i + 1))
    done
    # The "field" of each answer (JSON-unescaped), one line per answer.
    awk 'BEGIN {
        for (i = 1; i < ARGC; i++) {
            f = ""
            while ((getline l < ARGV[i]) > 0)
                if (match(l, /"field":"([^"\\]|\\.)*"/)) f = substr(l, RSTART + 9, RLENGTH - 10)
            close(ARGV[i])
            gsub(/\\\\/, "\\", f)
            print f
        }
    }' "$@" >"$_d/fields"
    paste "$_d/codes" "$_d/fields" "$_d/want" | awk -F'\t' '
        function ok(got, w) { return substr(w, length(w)) == "*" ? index(got, substr(w, 1, length(w) - 1)) == 1 : got == w }
        !($1 == 400 && ok($2, $3)) { printf "%s -> %s \"%s\" (wanted 400 \"%s\")\n", $4, $1, $2, $3 }' >"$_d/failures"
    _bad=$(grep -c . "$_d/failures")
    _taken=$(grep -c '^2' "$_d/codes")
    if [ "$_bad" -eq 0 ]; then
        pass "hostile http: POST $_path $_field: $_n cases -> 400 naming the field"
    else
        fail "hostile http: POST $_path $_field: $_bad of $_n cases not refused as expected ($_taken accepted with 2xx): $(head -n 8 "$_d/failures" | tr '\n' ';')"
    fi
}

http_target() { # TARGET
    case $1 in
    order)
        u=$ORDER_URL
        site "$u" /order '{"user_id":' ",\"items\":[$ITEM]}" user_id body
        site "$u" /order '{"order_id":' ",\"user_id\":\"u1\",\"items\":[$ITEM]}" order_id body
        site "$u" /order '{"user_id":"u1","items":[{"sku":"fries","qty":1},{"sku":' ',"qty":1}]}' \
            'items[1].sku' 'items[1]'
        site "$u" /order '{"user_id":"u1","items":[{"sku":"burger","qty":' '}]}' 'items[0].qty' 'items[0]'
        int_site "$u" /order '{"user_id":"u1","items":[{"sku":"burger","qty":' '}]}' 'items[0].qty' 'items[0]'
        site "$u" /order "{\"user_id\":\"u1\",\"items\":[$ITEM],\"note\":" '}' note body ;;
    inventory)
        u=$INVENTORY_URL
        site "$u" /reserve '{"order_id":' ",\"items\":[$ITEM]}" order_id body
        site "$u" /reserve '{"order_id":"hx-r","items":[{"sku":' ',"qty":1}]}' 'items[0].sku' 'items[0]'
        int_site "$u" /reserve '{"order_id":"hx-r","items":[{"sku":"fries","qty":1},{"sku":"burger","qty":' '}]}' 'items[1].qty' 'items[1]'
        site "$u" /release '{"order_id":' '}' order_id body
        site "$u" /release '{"order_id":"hx-r","note":' '}' note body
        site "$u" /configure '{"delay_ms":' ',"mode":"none"}' delay_ms body
        int_site "$u" /configure '{"delay_ms":' ',"mode":"none"}' delay_ms body
        site "$u" /configure '{"delay_ms":0,"mode":' '}' mode body
        http_code POST "$u/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null ;;
    notification)
        u=$NOTIFICATION_URL
        site "$u" /send '{"order_id":' ",\"user_id\":\"u1\",\"items\":[$ITEM]}" order_id body
        site "$u" /send '{"order_id":"hx-s","user_id":' ",\"items\":[$ITEM]}" user_id body
        int_site "$u" /send '{"order_id":"hx-s","user_id":"u1","items":[{"sku":"burger","qty":' '}]}' 'items[0].qty' 'items[0]' ;;
    inventory-stream | analytics)
        [ "$1" = analytics ] && u=$ANALYTICS_URL || u=$INVENTORY_URL
        site "$u" /configure '{"throttle_ms":' ',"paused":false}' throttle_ms body
        int_site "$u" /configure '{"throttle_ms":' ',"paused":false}' throttle_ms body
        site "$u" /configure '{"throttle_ms":0,"paused":' '}' paused body
        http_code POST "$u/configure" '{"throttle_ms":0,"paused":false}' >/dev/null ;;
    *)
        fail "hostile http: unknown target '$1'" ;;
    esac
}

phase_http() { # TARGET...
    for t in "$@"; do
        case $t in
        order) u=$ORDER_URL ;; notification) u=$NOTIFICATION_URL ;;
        analytics) u=$ANALYTICS_URL ;; *) u=$INVENTORY_URL ;;
        esac
        before=$(state_hash "$u")
        http_target "$t"
        assert_eq "hostile http: $t state unchanged (/dump)" "$before" "$(state_hash "$u")"
    done
}

# Events: each case once, spliced in turn into the envelope's order_id, the
# payload's first SKU and an extra payload member; hostile events carry
# order ids hx-*, the valid ones between them hv-*.
EV_TYPE=OrderPlaced
EV_TIME='"occurred_at":"2026-02-18T12:00:00.000Z"'
event_hostile() { # EXPECT BYTES N OUT
    EV_HEAD="{\"schema\":1,\"type\":\"$EV_TYPE\",\"event_id\":"
    case $(($3 % 3)) in
    0) splice "$1" "$2" "$EV_HEAD\"hx-e-$3\",\"order_id\":" \
        ",$EV_TIME,\"payload\":{\"user_id\":\"u1\",\"items\":[{\"sku\":\"soda\",\"qty\":1}]}}" "$4" ;;
    1) splice "$1" "$2" "$EV_HEAD\"hx-e-$3\",\"order_id\":\"hx-$3\",$EV_TIME,\"payload\":{\"user_id\":\"u1\",\"items\":[{\"sku\":" \
        ',"qty":1}]}}' "$4" ;;
    2) splice "$1" "$2" "$EV_HEAD\"hx-e-$3\",\"order_id\":\"hx-$3\",$EV_TIME,\"payload\":{\"user_id\":\"u1\",\"items\":[{\"sku\":\"soda\",\"qty\":1}],\"note\":" \
        '}}' "$4" ;;
    esac
}
# event_int BYTES N OUT: an integer case in the payload's qty or the schema.
event_int() {
    _rest="\"type\":\"$EV_TYPE\",\"event_id\":\"hx-e-$2\",\"order_id\":\"hx-$2\",$EV_TIME,\"payload\":{\"user_id\":\"u1\",\"items\":[{\"sku\":\"soda\",\"qty\":"
    case $(($2 % 2)) in
    0) splice @ "$1" "{\"schema\":1,$_rest" '}]}}' "$3" ;;
    1) splice @ "$1" '{"schema":' ",${_rest}1}]}}" "$3" ;;
    esac
}
# event_env FIELD BYTES N OUT: a valid event but for one envelope field
# (BYTES "-": the field left out; a payload.* field: BYTES are the payload).
event_env() {
    # shellcheck disable=SC2059 # the cases are printf formats by design
    _v=$(printf "x$2")
    _v=${_v#x}
    _m=
    for _f in schema type event_id order_id occurred_at payload; do
        case $_f in
        schema) _d=1 ;; type) _d="\"$EV_TYPE\"" ;; event_id) _d="\"hx-e-$3\"" ;;
        order_id) _d="\"hx-$3\"" ;; occurred_at) _d='"2026-02-18T12:00:00.000Z"' ;;
        payload) _d='{"user_id":"u1","items":[{"sku":"soda","qty":1}]}' ;;
        esac
        if [ "$_f" = "$1" ] || { [ "$_f" = payload ] && [ "${1#payload.}" != "$1" ]; }; then
            [ "$2" = - ] && continue
            _d=$_v
        fi
        _m="$_m${_m:+,}\"$_f\":$_d"
    done
    printf '{%s}' "$_m" >"$4"
}
event_valid() { # N OUT
    EV_HEAD="{\"schema\":1,\"type\":\"$EV_TYPE\",\"event_id\":"
    printf '%s"hv-e-%s","order_id":"hv-%s",%s,"payload":{"user_id":"u1","items":[{"sku":"soda","qty":1}]}}' \
        "$EV_HEAD" "$1" "$1" "$EV_TIME" >"$2"
}

# events DIR [hostile-only]: the message files ($EV_TYPE events), named in
# publishing order; sets $hostile and $valid to how many of each.
events() {
    mkdir -p "$1"
    hostile=0 valid=0 _i=0
    while IFS=$TAB read -r _exp _name _bytes _desc; do
        _i=$((_i + 1))
        event_hostile "$_exp" "$_bytes" "$_i" "$1/$((10000 + _i))-hx"
        hostile=$((hostile + 1))
        if [ $((_i % 8)) -eq 0 ] && [ -z "${2:-}" ]; then
            _i=$((_i + 1))
            event_valid "$_i" "$1/$((10000 + _i))-hv"
            valid=$((valid + 1))
        fi
    done <<EOF_CASES
$(cases)
EOF_CASES
    # The integer corpus at the event's integer fields.
    while IFS=$TAB read -r _exp _name _bytes _desc; do
        _i=$((_i + 1))
        event_int "$_bytes" "$_i" "$1/$((10000 + _i))-hx"
        hostile=$((hostile + 1))
    done <<EOF_CASES
$(CASES=$INT_CASES cases)
EOF_CASES
    # Every envelope field with a wrong format, or left out.
    while IFS=$TAB read -r _field _name _bytes _desc; do
        _i=$((_i + 1))
        event_env "$_field" "$_bytes" "$_i" "$1/$((10000 + _i))-hx"
        hostile=$((hostile + 1))
    done <<EOF_CASES
$(CASES=$ENV_CASES cases)
EOF_CASES
}

reservations() { # PREFIX: reservation rows of order ids starting with it
    http_get "$INVENTORY_URL/dump" | grep -c "^reservations	$1" || true
}

# A dead-letter reason from the validator ("FIELD: what at byte N"), or from
# the decoder for a body that is JSON but no object or an integer field
# holding no valid integer.
REASON='[^ ]+: .* at byte [0-9]+|body: must be a JSON object|(schema|type|event_id|order_id|occurred_at|payload)[][a-z_.0-9]*: (is required|must |is not on the menu|appears twice)'

valid_reserved() { [ "$(reservations hv-)" -ge "$valid" ]; }

check_applied() { # BROKER
    assert_eq "hostile $1: no hostile event applied" 0 "$(reservations hx)"
    assert_eq "hostile $1: the $valid valid events reserved, once each" "$valid" \
        "$(http_get "$INVENTORY_URL/dump" | awk -F'\t' '$1 == "reservations" && $2 ~ /^hv-/' | cut -f2 | sort -u | wc -l)"
    assert_eq "hostile $1: no valid event reserved twice" "$valid" "$(reservations hv-)"
}

# reuse_events DIR ID: an event, its event_id reused for the same type and
# order with other items (twice), and the event again: the reuses are
# conflicts (dead-lettered, not applied), the repeat a duplicate.
reuse_events() {
    mkdir -p "$1"
    for _n in 1 2 3 4; do
        case $_n in
        1 | 4) _items='{"sku":"soda","qty":1}' ;;
        2) _items='{"sku":"soda","qty":2}' ;;
        3) _items='{"sku":"soda","qty":1},{"sku":"burger","qty":1}' ;;
        esac
        printf '{"schema":1,"type":"%s","event_id":"rv-e-%s","order_id":"rv-%s",%s,"payload":{"user_id":"u1","items":[%s]}}' \
            "$EV_TYPE" "$2" "$2" "$EV_TIME" "$_items" >"$1/$_n"
    done
}
# The reservation row of order rv-ID: its items as the dump shows them.
reuse_reserved() { http_get "$INVENTORY_URL/dump" | awk -F'\t' -v o="rv-$1" '$1 == "reservations" && $2 == o { print $4 }'; }

phase_amqp() {
    : "${AMQP_URL:?AMQP_URL must name the broker}"
    q=inventory.order-placed
    depth() { "$LOADGEN" amqp depth --url "$AMQP_URL" --queue "$1" 2>/dev/null | cut -d' ' -f1; }
    dlq0=$(depth "$q.dlq")
    events "$WORK/ev"
    for m in "$WORK"/ev/*; do
        amqp-publish --url="$AMQP_URL" --exchange=commlab.events --routing-key=order-events \
            --persistent --content-type=application/json <"$m" ||
            fail "hostile amqp: published $(basename "$m")"
    done
    dl_all() { [ "$(depth "$q.dlq")" -ge $((dlq0 + hostile)) ] && [ "$(depth "$q")" = 0 ]; }
    check "hostile amqp: $hostile hostile events reached $q.dlq" wait_until 60 dl_all
    assert_eq "hostile amqp: exactly the hostile events dead-lettered" $((dlq0 + hostile)) "$(depth "$q.dlq")"
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$q.dlq" >"$WORK/dlq.txt"
    assert_eq "hostile amqp: each dead letter carries the validator's reason" "$hostile" \
        "$(tail -n "$hostile" "$WORK/dlq.txt" | cut -f1 | grep -cE "$REASON")"
    wait_until 30 valid_reserved
    check_applied amqp
    # An event_id reused with other items: both reuses dead-lettered, the
    # first event applied once, the repeat of it a duplicate.
    dlq1=$(depth "$q.dlq")
    reuse_events "$WORK/rv" a
    for m in 1 2 3 4; do
        amqp-publish --url="$AMQP_URL" --exchange=commlab.events --routing-key=order-events \
            --persistent --content-type=application/json <"$WORK/rv/$m" ||
            fail "reuse amqp: published event $m"
    done
    reused() { [ "$(depth "$q.dlq")" -ge $((dlq1 + 2)) ] && [ "$(depth "$q")" = 0 ] && [ -n "$(reuse_reserved a)" ]; }
    check "reuse amqp: the two reuses dead-lettered" wait_until 30 reused
    assert_eq "reuse amqp: nothing else dead-lettered (the repeat is a duplicate)" $((dlq1 + 2)) "$(depth "$q.dlq")"
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$q.dlq" >"$WORK/dlq.txt"
    assert_eq "reuse amqp: each says the event_id came with other content" 2 \
        "$(tail -n 2 "$WORK/dlq.txt" | cut -f1 | grep -c 'event_id rv-e-a was OrderPlaced for order rv-a with other content')"
    assert_eq "reuse amqp: the first event's items reserved, nothing of the reuses" "soda:1" "$(reuse_reserved a)"
    [ -n "${NOTIFICATION_URL:-}" ] && amqp_outcomes
}

# The consumers of inventory.reserved (notification, the order service's
# outcome consumer): each hostile InventoryReserved dead-lettered by both.
amqp_outcomes() {
    nq=notification.inventory-reserved oq=order.inventory-outcome
    n0=$(depth "$nq.dlq") o0=$(depth "$oq.dlq")
    EV_TYPE=InventoryReserved
    events "$WORK/out" hostile-only
    EV_TYPE=OrderPlaced
    for m in "$WORK"/out/*; do
        amqp-publish --url="$AMQP_URL" --exchange=commlab.events --routing-key=inventory.reserved \
            --persistent --content-type=application/json <"$m" ||
            fail "hostile amqp: published $(basename "$m") as InventoryReserved"
    done
    outcome_dlq "$nq" "$n0"
    outcome_dlq "$oq" "$o0"
    assert_eq "hostile amqp: no notification for a hostile event" 0 \
        "$(http_get "$NOTIFICATION_URL/dump" | grep -c '^notifications	hx' || true)"
}

outcome_dlq() { # QUEUE DLQ_DEPTH_BEFORE
    out_dl() { [ "$(depth "$1.dlq")" -ge $(($2 + hostile)) ] && [ "$(depth "$1")" = 0 ]; }
    check "hostile amqp: $hostile hostile InventoryReserved reached $1.dlq" wait_until 60 out_dl "$1" "$2"
    assert_eq "hostile amqp: exactly those in $1.dlq" $(($2 + hostile)) "$(depth "$1.dlq")"
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$1.dlq" >"$WORK/dlq.txt"
    assert_eq "hostile amqp: each in $1.dlq carries the validator's reason" "$hostile" \
        "$(tail -n "$hostile" "$WORK/dlq.txt" | cut -f1 | grep -cE "$REASON")"
}

phase_kafka() {
    : "${KAFKA_BROKERS:?KAFKA_BROKERS must name the bootstrap servers}"
    dlq_count() { kcat -C -b "$KAFKA_BROKERS" -t order-events.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c .; }
    dlq0=$(dlq_count)
    mal0=$(metric "$ANALYTICS_URL" analytics_malformed_total)
    adl0=$(kcat -C -b "$KAFKA_BROKERS" -t analytics.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c 'dead_letter_reason=malformed: ')
    events "$WORK/ev"
    # One message per file, all under one key: one partition, in order.
    check "hostile kafka: produced $((hostile + valid)) events with kcat" \
        kcat -P -b "$KAFKA_BROKERS" -t order-events -k hostile-json "$WORK"/ev/*
    # kcat sends no message for an empty file; an empty value it sends so.
    for m in "$WORK"/ev/*; do
        [ -s "$m" ] || printf 'hostile-json:\n' | kcat -P -b "$KAFKA_BROKERS" -t order-events -K: ||
            fail "hostile kafka: produced the empty message"
    done
    dl_all() { [ "$(dlq_count)" -ge $((dlq0 + hostile)) ]; }
    check "hostile kafka: $hostile hostile events reached order-events.dlq" wait_until 60 dl_all
    assert_eq "hostile kafka: exactly the hostile events dead-lettered" $((dlq0 + hostile)) "$(dlq_count)"
    kcat -C -b "$KAFKA_BROKERS" -t order-events.dlq -o beginning -e -q -f '%h\n' >"$WORK/dlq.txt" 2>/dev/null
    assert_eq "hostile kafka: each dead letter carries the validator's reason" "$hostile" \
        "$(tail -n "$hostile" "$WORK/dlq.txt" | grep 'dead_letter_reason=malformed: ' | grep -cE "$REASON")"
    wait_until 30 valid_reserved
    check_applied kafka
    skipped() { [ "$(metric "$ANALYTICS_URL" analytics_malformed_total)" -ge $((mal0 + hostile)) ]; }
    check "hostile kafka: analytics skipped the $hostile hostile events" wait_until 30 skipped
    # Analytics dead-letters what it cannot count, in a topic of its own.
    adlq() { kcat -C -b "$KAFKA_BROKERS" -t analytics.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c 'dead_letter_reason=malformed: '; }
    adl() { [ "$(adlq)" -ge $((adl0 + hostile)) ]; }
    check "hostile kafka: analytics dead-lettered the $hostile hostile events to analytics.dlq" wait_until 30 adl
    assert_eq "hostile kafka: exactly those in analytics.dlq" $((adl0 + hostile)) "$(adlq)"
    # An event_id reused with other items: dead-lettered by inventory and by
    # analytics, counted as a conflict, the first event applied once.
    dlq1=$(dlq_count) con0=$(metric "$ANALYTICS_URL" analytics_conflicts_total)
    reuse_events "$WORK/rv" k
    check "reuse kafka: produced an event and its reuses" \
        kcat -P -b "$KAFKA_BROKERS" -t order-events -k reuse-k "$WORK/rv/1" "$WORK/rv/2" "$WORK/rv/3" "$WORK/rv/4"
    reused() { [ "$(dlq_count)" -ge $((dlq1 + 2)) ] && [ "$(metric "$ANALYTICS_URL" analytics_conflicts_total)" -ge $((con0 + 2)) ]; }
    check "reuse kafka: inventory dead-lettered the two reuses, analytics counted them as conflicts" wait_until 30 reused
    kcat -C -b "$KAFKA_BROKERS" -t order-events.dlq -o beginning -e -q -f '%h\n' >"$WORK/dlq.txt" 2>/dev/null
    assert_eq "reuse kafka: inventory dead-lettered them alone, saying other content" "$((dlq1 + 2)) 2" \
        "$(dlq_count) $(grep -c "dead_letter_reason=conflict: event_id rv-e-k was order rv-k's with other content" "$WORK/dlq.txt")"
    aconf() { [ "$(kcat -C -b "$KAFKA_BROKERS" -t analytics.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c 'conflict: event_id rv-e-k reused with other content')" -ge 2 ]; }
    check "reuse kafka: analytics dead-lettered the two reuses to analytics.dlq" wait_until 30 aconf
    assert_eq "reuse kafka: analytics counted two conflicts, no more" $((con0 + 2)) "$(metric "$ANALYTICS_URL" analytics_conflicts_total)"
    assert_eq "reuse kafka: the first event's items reserved, nothing of the reuses" "soda:1" "$(reuse_reserved k)"
}

scenario_dispatch hostile-json.sh "http amqp kafka" "$@"
