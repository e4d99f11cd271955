#!/bin/sh
# The identity of dead-letter copies (header x-commlab-dead-letter-id), one
# phase per call, against running consumers. A copy is confirmed before its
# source is acked or committed, so a crash in between repeats it: readers
# drop the repeats by this id, which must be the same for the same message
# and different for any other.
#   amqp   (AMQP_URL, LOADGEN) into each work queue (inventory,
#          notification, the order service's outcomes): a poison message
#          twice and another once: the two copies of the first share an id,
#          the other's differs, and the same bytes on another queue differ.
#   kafka  (KAFKA_BROKERS; inventory and analytics consuming order-events)
#          poison records: each dead letter has an id of its own (a record
#          is known by topic, partition and offset), and the same record
#          dead-lettered by the two consumers has the same id in both
#          order-events.dlq and analytics.dlq.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
: "${LOADGEN:=loadgen}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Bodies no consumer can parse, unique to this run.
RUN=$$-$(date +%s)
POISON_A="{\"dead-letter-id\":\"a-$RUN\""
POISON_B="{\"dead-letter-id\":\"b-$RUN\""
HEX32='^[0-9a-f]{32}$'

phase_amqp() {
    : "${AMQP_URL:?AMQP_URL must name the broker}"
    depth() { "$LOADGEN" amqp depth --url "$AMQP_URL" --queue "$1" 2>/dev/null | cut -d' ' -f1; }
    for q in inventory.order-placed notification.inventory-reserved order.inventory-outcome; do
        d0=$(depth "$q.dlq")
        for body in "$POISON_A" "$POISON_A" "$POISON_B"; do
            printf '%s' "$body" | amqp-publish --url="$AMQP_URL" --exchange= --routing-key="$q" \
                --persistent --content-type=application/json ||
                fail "dead-letter ids amqp: published to $q"
        done
        dl3() { [ "$(depth "$1.dlq")" -ge $(($2 + 3)) ] && [ "$(depth "$1")" = 0 ]; }
        check "dead-letter ids amqp: the three poison messages reached $q.dlq" wait_until 60 dl3 "$q" "$d0"
        "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$q.dlq" --ids >"$WORK/$q.dlq" ||
            fail "dead-letter ids amqp: listed $q.dlq"
        # Column 4 is the body's start, 5 the id.
        ids() { awk -F'\t' -v b="$2" '$4 == b { print $5 }' "$WORK/$1.dlq"; }
        a=$(ids "$q" "$POISON_A") b=$(ids "$q" "$POISON_B")
        assert_eq "dead-letter ids amqp: $q.dlq holds two copies of one message, one of the other" "2 1" \
            "$(printf '%s\n' "$a" | grep -c .) $(printf '%s\n' "$b" | grep -c .)"
        a1=$(printf '%s\n' "$a" | head -n 1)
        assert_eq "dead-letter ids amqp: $q.dlq: each copy has a 32-hex-digit id" 3 \
            "$(printf "%s\n" "$a" "$b" | grep -cE "$HEX32")"
        assert_eq "dead-letter ids amqp: $q.dlq: the same message twice, the same id" 1 \
            "$(printf '%s\n' "$a" | sort -u | grep -c .)"
        check "dead-letter ids amqp: $q.dlq: another message, another id" [ "$a1" != "$b" ]
        echo "$a1 $b" >>"$WORK/amqp-ids"
        # x-commlab-reason is as before: the parser's why.
        assert_eq "dead-letter ids amqp: $q.dlq: the copies keep their reason" 3 \
            "$(awk -F'\t' -v a="$POISON_A" -v b="$POISON_B" '($4 == a || $4 == b) && $1 ~ / at byte [0-9]+/' "$WORK/$q.dlq" | wc -l)"
    done
    assert_eq "dead-letter ids amqp: the same bytes on three queues, six different ids" 6 \
        "$(tr ' ' '\n' <"$WORK/amqp-ids" | sort -u | grep -c .)"
}

phase_kafka() {
    : "${KAFKA_BROKERS:?KAFKA_BROKERS must name the bootstrap servers}"
    # "partition/offset<TAB>id" of each dead letter in TOPIC whose value is BODY.
    dl() { # TOPIC BODY
        kcat -C -b "$KAFKA_BROKERS" -t "$1" -o beginning -e -q -f '%h\t%s\n' 2>/dev/null |
            awk -F'\t' -v b="$2" '$2 == b {
                n = split($1, h, ","); p = o = id = "-"
                for (i = 1; i <= n; i++) {
                    if (h[i] ~ /^source_partition=/) p = substr(h[i], 18)
                    if (h[i] ~ /^source_offset=/) o = substr(h[i], 15)
                    if (h[i] ~ /^x-commlab-dead-letter-id=/) id = substr(h[i], 26)
                }
                print p "/" o "\t" id }' | sort
    }
    for body in "$POISON_A" "$POISON_A" "$POISON_B"; do
        printf '%s\n' "$body" | kcat -P -b "$KAFKA_BROKERS" -t order-events -k dead-letter-ids ||
            fail "dead-letter ids kafka: produced a poison record"
    done
    both() {
        [ "$(dl order-events.dlq "$POISON_A" | wc -l) $(dl order-events.dlq "$POISON_B" | wc -l)" = "2 1" ] &&
            [ "$(dl analytics.dlq "$POISON_A" | wc -l) $(dl analytics.dlq "$POISON_B" | wc -l)" = "2 1" ]
    }
    check "dead-letter ids kafka: inventory and analytics dead-lettered the three poison records" wait_until 60 both
    { dl order-events.dlq "$POISON_A"; dl order-events.dlq "$POISON_B"; } | sort >"$WORK/inventory"
    { dl analytics.dlq "$POISON_A"; dl analytics.dlq "$POISON_B"; } | sort >"$WORK/analytics"
    assert_eq "dead-letter ids kafka: each dead letter has a 32-hex-digit id" 6 \
        "$(cut -f2 "$WORK/inventory" "$WORK/analytics" | grep -cE "$HEX32")"
    assert_eq "dead-letter ids kafka: three records, three ids (equal values too)" 3 \
        "$(cut -f2 "$WORK/inventory" | sort -u | wc -l)"
    check "dead-letter ids kafka: the same record dead-lettered by both consumers, the same id" \
        cmp -s "$WORK/inventory" "$WORK/analytics"
}

scenario_dispatch dead-letter-ids.sh "amqp kafka" "$@"
