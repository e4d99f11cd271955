#!/bin/sh
# A cell of the fault matrix (matrix/matrix.json, docs/lab.md), one phase per
# call, in the cell's OUT_DIR; the plan (lib/plan.jq plan_matrix) does the
# fault and the heal between them:
#   load-start KIND RATE LEAD_S HOLD_S START  the seeded open-loop load (crash.sh
#                                start, with a per-request trace) for LEAD_S +
#                                HOLD_S seconds, and the backlog sampled
#   load-wait                    until the load has ended (a fault after the run)
#   twin-start / twin-finish     the hold's orders sent a second time, alongside
#   poison-start / poison-finish one poison request (sync) or event (async,
#                                stream) for every hundred orders of the load
#   finish ROW T_FAULT T_HEAL CAP  until every accepted order is final (the
#                                crash-invariant checker passes; at most CAP s
#                                after the heal), then the cell's figures in
#                                cell.json and its checks (every cell, and ROW's)
# KIND is sync, async or stream; T_* are wall-clock ms (the plan's record
# time). Environment as scenarios/crash.sh's, and COMMLAB_BIN (the Kafka tool).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
: "${SEED:=1}" "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
mkdir -p "$OUT_DIR"
KTOOL=${COMMLAB_BIN:+$COMMLAB_BIN/}commlab-kafka
# Workers of the open loop: enough that the client never waits for one (a
# 2 s inventory at 40 orders/s keeps 80 in flight): queueing shows in the
# service's answers, not in the load generator.
WORKERS=256

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The backlog of the model now: orders waiting on inventory (sync), orders
# accepted and not yet final (async), inventory's consumer lag (stream).
# Nothing when it cannot be read (the broker down).
backlog() { # KIND
    case $1 in
    sync) metric "$ORDER_URL" inventory_inflight 2>/dev/null ;;
    # Async: orders accepted and not yet final (the order service's own
    # dump): a queue's ready count misses what the consumer has prefetched.
    async) curl -sf --max-time 2 "$ORDER_URL/dump" | awk -F '\t' '$1 == "orders" && $6 == "accepted" { n++ } END { print n + 0 }' ;;
    stream)
        timeout 2 "$KTOOL" lag --brokers "$KAFKA_BROKERS" --json inventory-consumer-group:order-events 2>/dev/null |
            jq '[.groups[].lag] | add' ;;
    esac
}

dead_letter_count() { # KIND
    case $1 in
    async) "$LOADGEN" amqp depth --url "$AMQP_URL" --queue inventory.order-placed.dlq | cut -d' ' -f1 ;;
    stream) kcat -C -b "$KAFKA_BROKERS" -t order-events.dlq -o beginning -e -q -f 'x\n' 2>/dev/null | wc -l ;;
    *) echo 0 ;;
    esac
}

phase_load_start() { # KIND RATE LEAD_S HOLD_S START
    printf 'KIND=%s RATE=%s LEAD=%s HOLD=%s START=%s\n' "$@" >"$OUT_DIR/load.env"
    SOLD_OUT_PCT=0 CRASH_LOADGEN_ARGS="-c $WORKERS --trace $OUT_DIR/trace.tsv --label matrix" \
        sh "$here/crash.sh" start "$1" "$2" $(($3 + $4)) "$5" || return 1
    (while [ ! -f "$OUT_DIR/sampler.stop" ]; do
        _v=$(backlog "$1")
        [ -z "$_v" ] || echo "$(now_ms) $_v"
        sleep 0.25
    done >"$OUT_DIR/backlog.tsv") &
    echo $! >"$OUT_DIR/sampler.pid"
}

phase_load_wait() { wait_gone "$(cat "$OUT_DIR/crash.loadgen.pid")"; }

phase_twin_start() {
    . "$OUT_DIR/load.env"
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --rate "$RATE" --duration "$HOLD" \
        --start $((START + RATE * LEAD)) -c "$WORKERS" --timeout-ms 10000 --label twin \
        --accepted-file "$OUT_DIR/twin.accepted.txt" --answers-file "$OUT_DIR/twin.answers.txt" \
        --json --quiet >"$OUT_DIR/twin.json" &
    echo $! >"$OUT_DIR/twin.pid"
}

phase_twin_finish() { wait_gone "$(cat "$OUT_DIR/twin.pid")"; }

# One poison every 100 orders' time: sync, an order the service must refuse
# (qty not a number: 400, nothing stored); async and stream, an OrderPlaced
# that is not JSON, straight onto the broker, keyed like an order.
poison_one() { # KIND N
    _body="{\"schema\":1,\"type\":\"OrderPlaced\",\"event_id\":\"matrix-poison-$2\",\"order_id\":"
    case $1 in
    sync)
        http_code POST "$ORDER_URL/order" \
            "{\"order_id\":\"matrix-poison-$2\",\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":\"one\"}]}" ;;
    async)
        printf '%s' "$_body" | amqp-publish --url="$AMQP_URL" --exchange=commlab.events \
            --routing-key=order-events --persistent --content-type=application/json && echo sent ;;
    stream) printf '%s' "$_body" | kcat -P -b "$KAFKA_BROKERS" -t order-events -k "matrix-poison-$2" && echo sent ;;
    esac
}

phase_poison_start() {
    . "$OUT_DIR/load.env"
    dead_letter_count "$KIND" >"$OUT_DIR/poison.dlq0"
    (_i=0
    while [ ! -f "$OUT_DIR/poison.stop" ]; do
        _i=$((_i + 1))
        echo "$_i $(poison_one "$KIND" "$_i")"
        # 100 orders at RATE/s, in 0.05 s steps (the stop is seen at once).
        _t=0
        while [ $_t -lt $((2000 / RATE)) ] && [ ! -f "$OUT_DIR/poison.stop" ]; do
            sleep 0.05
            _t=$((_t + 1))
        done
    done >"$OUT_DIR/poison.sent") &
    echo $! >"$OUT_DIR/poison.pid"
}

phase_poison_finish() {
    : >"$OUT_DIR/poison.stop"
    wait_gone "$(cat "$OUT_DIR/poison.pid")"
}

# Figures of the requests sent during the hold [T_FAULT, T_HEAL): answers by
# status, p50/p99 (open loop: from the scheduled send), accepted; answers/s
# in 0.5 s steps over the whole cell (series.tsv, for the plot).
hold_figures() { # T_FAULT T_HEAL
    _t0=$(jq .start_unix_ms "$OUT_DIR/crash.load.json")
    awk -v a=$(($1 - _t0)) -v b=$(($2 - _t0)) 'NR > 1 && $1 >= a && $1 < b { print $2, $3 }' \
        "$OUT_DIR/trace.tsv" | sort -n >"$OUT_DIR/hold.txt"
    awk '{ n++; lat[n] = $1; s[$2]++; if ($2 == 201 || $2 == 202) acc++ }
        function q(p,  i) { i = int(p * n + 0.999999); if (i < 1) i = 1; return lat[i] }
        END {
            printf "{\"sent\":%d,\"accepted\":%d,\"p50_ms\":%s,\"p99_ms\":%s,\"by_status\":{", n, acc,
                n ? q(0.5) : "null", n ? q(0.99) : "null"
            c = 0
            for (k in s) printf "%s\"%s\":%d", c++ ? "," : "", k, s[k]
            printf "}}\n"
        }' "$OUT_DIR/hold.txt" >"$OUT_DIR/hold.json"
    # Answers per second by when they came back, in 0.5 s steps, from the
    # load's start; the backlog samples on the same clock.
    awk 'NR > 1 && $3 != "timeout" && $3 != "unreachable" { n[int(($1 + $2) / 500)]++ }
        END { for (k in n) printf "%.1f %d\n", k / 2, n[k] * 2 }' "$OUT_DIR/trace.tsv" |
        sort -n >"$OUT_DIR/answers.tsv"
    awk -v t0="$_t0" '{ printf "%.2f %s\n", ($1 - t0) / 1000, $2 }' "$OUT_DIR/backlog.tsv" >"$OUT_DIR/backlog.rel.tsv"
}

phase_finish() { # ROW T_FAULT T_HEAL CAP
    _row=$1 _tf=$2 _th=$3 _cap=$4
    . "$OUT_DIR/load.env"
    wait_gone "$(cat "$OUT_DIR/crash.loadgen.pid")"
    [ -f "$OUT_DIR/twin.accepted.txt" ] && cat "$OUT_DIR/twin.accepted.txt" >>"$OUT_DIR/crash.accepted.txt"
    [ "$KIND" = stream ] || : >"$OUT_DIR/crash.analytics.json"
    _final=null
    while :; do
        _tc=$(now_ms)
        sh "$here/crash.sh" check "$KIND" >/dev/null 2>&1
        _rc=$?
        if [ $_rc = 0 ]; then
            _final=$((_tc > _th ? _tc - _th : 0))
            break
        fi
        [ "$(now_ms)" -lt $((_th + _cap * 1000)) ] || break
        sleep 0.2
    done
    # No verdict at all: the dumps could not be read (a service still down).
    [ -s "$OUT_DIR/crash.check.json" ] ||
        echo '{"violations": null, "violations_by_kind": {"unreadable": 1}}' >"$OUT_DIR/crash.check.json"
    : >"$OUT_DIR/sampler.stop"
    wait_gone "$(cat "$OUT_DIR/sampler.pid")"
    hold_figures "$_tf" "$_th"
    _poison=0 _dlq=0
    if [ -f "$OUT_DIR/poison.sent" ]; then
        _poison=$(wc -l <"$OUT_DIR/poison.sent")
        _dlq=$(($(dead_letter_count "$KIND") - $(cat "$OUT_DIR/poison.dlq0")))
    else
        : >"$OUT_DIR/poison.sent"
    fi
    jq -n --arg row "$_row" --arg kind "$KIND" --argjson final "$_final" --argjson cap "$_cap" \
        --argjson tf "$_tf" --argjson th "$_th" --argjson poison "$_poison" --argjson dlq "$_dlq" \
        --slurpfile hold "$OUT_DIR/hold.json" --slurpfile load "$OUT_DIR/crash.load.json" \
        --slurpfile check "$OUT_DIR/crash.check.json" \
        --rawfile backlog "$OUT_DIR/backlog.rel.tsv" --rawfile sent "$OUT_DIR/poison.sent" '
        ($load[0].start_unix_ms) as $t0
        | ($backlog | split("\n") | map(select(. != "") | split(" ") | map(tonumber))) as $b
        | {row: $row, kind: $kind,
           fault_s: (($tf - $t0) / 1000), heal_s: (($th - $t0) / 1000), hold_s: (($th - $tf) / 1000),
           hold: $hold[0],
           load: {offered_rate: $load[0].offered_rate, answers: $load[0].status, sent: $load[0].requests},
           peak_backlog: ([$b[] | select(.[0] >= ($tf - $t0) / 1000) | .[1]] | max),
           healed_ms: $final, drain_cap_s: $cap,
           lost: ($check[0].violations_by_kind.lost // 0),
           applied_twice: (($check[0].violations_by_kind.orders // 0) + ($check[0].violations_by_kind.reservation // 0)
             + ($check[0].violations_by_kind.notification // 0)),
           stuck: ($check[0].violations_by_kind.pending // 0),
           violations: $check[0].violations, violations_by_kind: $check[0].violations_by_kind,
           poison: {sent: $poison, dead_lettered: $dlq,
             answers: ($sent | split("\n") | map(select(. != "") | split(" ")[1]) | group_by(.) | map({(.[0]): length}) | add)}}' \
        >"$OUT_DIR/cell.json" 2>"$OUT_DIR/cell.err" || { cat "$OUT_DIR/cell.err" >&2; fail "matrix $_row ($KIND): the cell's figures written"; return 1; }
    _c() { jq -rc "$1" "$OUT_DIR/cell.json"; }
    _n="matrix $_row ($KIND)"
    echo "# $_n: $(jq -c '{hold: .hold, peak_backlog, healed_ms, violations_by_kind}' "$OUT_DIR/cell.json")"
    # Every cell: all accepted orders final within the cap, none lost,
    # applied twice or stuck (the checker's verdict on the dumps).
    assert_num "$_n: some orders were accepted" "$(_c '.load.answers | (."201" // 0) + (."202" // 0)')" ">" 0
    check "$_n: every accepted order final within $_cap s of the heal" test "$_final" != null
    assert_eq "$_n: nothing lost, applied twice or stuck ($(_c .violations_by_kind))" 0 "$(_c .violations)"
    # Each row's own expectation.
    _acc=$(_c .hold.accepted) _sent=$(_c .hold.sent)
    case $_row:$KIND in
    inventory-*:sync)
        # Refuses (502/503/504) or waits (the answers take the fault's time).
        check "$_n: the client was refused or kept waiting while inventory was down ($(_c .hold))" \
            test "$_acc" -lt "$_sent" -o "$(_c '.hold.p99_ms >= 1000')" = true ;;
    inventory-*:async | inventory-*:stream | downstream-down:async | downstream-down:stream | broker-down:*)
        assert_num "$_n: requests during the hold" "$_sent" ">" 0
        assert_eq "$_n: every request during the hold accepted ($(_c .hold.by_status))" "$_sent" "$_acc" ;;
    duplicates:*)
        assert_num "$_n: the twin load sent the hold's orders again" \
            "$(jq '[.status[]] | add' "$OUT_DIR/twin.json")" ">" 0 ;;
    poison:*)
        assert_num "$_n: poison sent" "$(_c .poison.sent)" ">" 0
        if [ "$KIND" = sync ]; then
            assert_eq "$_n: every poison request answered 400" "{\"400\":$(_c .poison.sent)}" "$(_c .poison.answers)"
            assert_eq "$_n: no poison stored" 0 "$(state_dump "$ORDER_URL" | grep -c 'matrix-poison-')"
        else
            assert_eq "$_n: exactly the poison dead-lettered" "$(_c .poison.sent)" "$(_c .poison.dead_lettered)"
        fi ;;
    esac
}

scenario_dispatch matrix.sh "load-start load-wait twin-start twin-finish poison-start poison-finish finish" "$@"
