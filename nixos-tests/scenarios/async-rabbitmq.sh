#!/bin/sh
# Part B scenarios, one phase per call, against running services and RabbitMQ:
#   ORDER_URL INVENTORY_URL NOTIFICATION_URL   the async stack (HTTP endpoints)
#   AMQP_URL                                    its broker (amqp://user:pass@host:port[/vhost])
#   REF_ORDER_URL REF_INVENTORY_URL REF_NOTIFICATION_URL
#                                               optional: a second stack, on its own vhost,
#                                               that gets the same orders without any fault;
#                                               the fault phases compare their state with it
#   OUT_DIR                                     where each phase writes its files
#   EXPECTED_COUNTS                             optional: a counts file (results/async-rabbitmq.counts.txt);
#                                               the phases that hash the workload state compare it
#                                               with the file's workload_state_sha256 line
#   SEED (default 1), LOADGEN (default: loadgen on PATH)
# Whoever runs the phases does the crashes between *-start and *-finish (kill
# inventory, restart RabbitMQ): the local lab (plans/async-rabbitmq.json) or a VM test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
: "${SEED:=1}" "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
: "${AMQP_URL:?AMQP_URL must name the broker}"
mkdir -p "$OUT_DIR"
SOLD_OUT_PCT=10
Q=inventory.order-placed

depth() { "$LOADGEN" amqp depth --url "$AMQP_URL" --queue "${1:-$Q}" 2>/dev/null | cut -d' ' -f1; }
depth_at_least() { [ "$(depth "$1")" -ge "$2" ] 2>/dev/null; } # QUEUE N
now_ms() { echo $(($(date +%s%N) / 1000000)); }
inv_metric() { metric "$INVENTORY_URL" "$1"; }

# Only the rows of workload orders (ids "o" + 16 hex digits), without stock:
# what must be equal between a faulty run and a clean run of the same orders.
# Hand-made orders of the idempotency and poison phases are left out here;
# stock is checked separately against every reservation (stock_consistent).
workload_state() { # ORDER_URL INVENTORY_URL NOTIFICATION_URL
    state_dump "$@" | awk -F'\t' '$1 != "stock" && $2 ~ /^o[0-9a-f]+$/ && length($2) == 17'
}

# Every SKU's stock equals its initial stock minus the reservations recorded:
# stock moved exactly once per reservation, whatever was redelivered.
stock_consistent() { # INVENTORY_URL
    http_get "$1/dump" | awk -F'\t' '
        $1 == "stock" { stock[$2] = $3 }
        $1 == "reservations" && $3 == "reserved" {
            n = split($4, it, ","); for (i = 1; i <= n; i++) { split(it[i], kv, ":"); used[kv[1]] += kv[2] } }
        END { bad = 0
            for (s in stock) { init = (s == "truffle-fries") ? 0 : 100000000
                if (stock[s] != init - used[s]) { print "stock of " s ": " stock[s] " != " init " - " used[s]; bad = 1 } }
            exit bad }'
}

# Quiet = no message ready in any queue, no outbox row waiting, and the state
# unchanged for a moment (messages in flight are unacked, not ready).
wait_quiet() { # SECONDS ORDER_URL INVENTORY_URL NOTIFICATION_URL
    _end=$(($(date +%s) + $1))
    shift
    _prev=
    while [ "$(date +%s)" -lt "$_end" ]; do
        _d=$(($(depth inventory.order-placed) + $(depth notification.inventory-reserved) + $(depth order.inventory-outcome)))
        _b=$(($(metric "$1" outbox_backlog) + $(metric "$2" outbox_backlog)))
        if [ "$_d" -eq 0 ] && [ "$_b" -eq 0 ]; then
            _h=$(state_hash "$@")
            [ -n "$_h" ] && [ "$_h" = "$_prev" ] && return 0
            _prev=$_h
        else
            _prev=
        fi
        sleep 0.5
    done
    return 1
}

quiet_main() { wait_quiet "${1:-120}" "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL"; }

# The reference stack gets the same orders, closed loop, no fault.
feed_ref() { # START COUNT
    [ -n "${REF_ORDER_URL:-}" ] || return 0
    "$LOADGEN" rest --url "$REF_ORDER_URL" --seed "$SEED" --sold-out-pct "$SOLD_OUT_PCT" \
        --start "$1" -n "$2" -c 16 --json --quiet >"$OUT_DIR/ref-$1.json"
    _ref_quiet=$(AMQP_URL=${REF_AMQP_URL:-$AMQP_URL} wait_quiet 120 "$REF_ORDER_URL" "$REF_INVENTORY_URL" "$REF_NOTIFICATION_URL" && echo yes)
    assert_eq "reference: orders $1.. of seed $SEED settled without faults" yes "$_ref_quiet"
}

# The hash of the workload rows after PHASE, in $OUT_DIR/PHASE.workload.sha256,
# written whether or not a reference stack runs (the VM lab has none: its
# hashes are compared with the local lab's). Then compared: with the
# reference stack's rows when there is one (byte-identical), and with the
# PHASE line of $EXPECTED_COUNTS when set (a counts file as report/async-rabbitmq.sh
# writes it, e.g. results/async-rabbitmq.counts.txt: "workload_state_sha256
# PHASE HASH", tab-separated). Neither compares anything unless the phase
# ran the same order ranges as the run that wrote the expectation.
compare_ref() { # PHASE
    workload_state "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$OUT_DIR/$1.workload.txt"
    _a=$(sha256sum <"$OUT_DIR/$1.workload.txt" | cut -d' ' -f1)
    _rows=$(wc -l <"$OUT_DIR/$1.workload.txt" | tr -d ' ')
    echo "$_a" >"$OUT_DIR/$1.workload.sha256"
    if [ -n "${REF_ORDER_URL:-}" ]; then
        workload_state "$REF_ORDER_URL" "$REF_INVENTORY_URL" "$REF_NOTIFICATION_URL" >"$OUT_DIR/$1.reference.txt"
        _b=$(sha256sum <"$OUT_DIR/$1.reference.txt" | cut -d' ' -f1)
        assert_eq "$1: state hash equals the uninterrupted run of the same seed ($_rows rows)" "$_b" "$_a"
    fi
    if [ -n "${EXPECTED_COUNTS:-}" ]; then
        _e=$(awk -F'\t' -v p="$1" '$1 == "workload_state_sha256" && $2 == p { print $3 }' "$EXPECTED_COUNTS" 2>/dev/null)
        if [ -z "$_e" ]; then
            fail "$1: $EXPECTED_COUNTS has a workload_state_sha256 line for it"
        else
            assert_eq "$1: state hash equals $(basename "$EXPECTED_COUNTS")'s for seed $SEED ($_rows rows)" "$_e" "$_a"
        fi
    fi
    check "$1: stock moved exactly once per reservation" stock_consistent "$INVENTORY_URL"
}

# Every order of a range reached its final state, by the failure rule.
check_final() { # PHASE START COUNT
    _f=$OUT_DIR/$1.final.txt
    state_dump "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$_f"
    # The ids of the range, from the order service's own dump of what it accepted.
    _orders=$(awk -F'\t' '$1 == "orders" && $2 ~ /^o/ && length($2) == 17' "$_f" | wc -l)
    _open=$(awk -F'\t' '$1 == "orders" && $6 != "confirmed" && $6 != "rejected"' "$_f" | wc -l)
    _wrong=$(awk -F'\t' '$1 == "orders" && (($6 == "rejected") != ($5 ~ /truffle-fries/))' "$_f" | wc -l)
    _conf=$(awk -F'\t' '$1 == "orders" && $6 == "confirmed"' "$_f" | wc -l)
    _notified=$(awk -F'\t' '$1 == "notifications" && $2 ~ /^o/ && length($2) == 17' "$_f" | wc -l)
    assert_eq "$1: no accepted order left unfinished" 0 "$_open"
    assert_eq "$1: rejected exactly the orders with the sold-out SKU" 0 "$_wrong"
    assert_eq "$1: every confirmed order notified once" "$_conf" "$_notified"
    echo "$_orders" >"$OUT_DIR/$1.orders"
}

# 1. Baseline: N orders through the REST front door (202), all reserved or
# refused by the rule, every reserved one notified once.
phase_baseline() { # N
    _count=${1:-500}
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --sold-out-pct "$SOLD_OUT_PCT" --start 0 \
        -n "$_count" -c 16 --label baseline --json --quiet >"$OUT_DIR/baseline.json"
    assert_eq "baseline: $_count orders answered 202" "$_count" "$(jq -r '.status["202"] // 0' "$OUT_DIR/baseline.json")"
    check "baseline: every queue drained and every outbox sent" quiet_main 120
    check_final baseline 0 "$_count"
    assert_eq "baseline: $_count orders stored" "$_count" "$(cat "$OUT_DIR/baseline.orders")"
    assert_eq "baseline: $_count reservations (reserved or refused)" "$_count" \
        "$(http_get "$INVENTORY_URL/dump" | grep -c '^reservations	o')"
    check "baseline: stock moved exactly once per reservation" stock_consistent "$INVENTORY_URL"
    assert_eq "baseline: GET /orders/{id} shows the final state" confirmed \
        "$(http_get "$ORDER_URL/orders/$(awk -F'\t' '$1 == "orders" && $6 == "confirmed" {print $2; exit}' "$OUT_DIR/baseline.final.txt")" | jq -r .status)"
    echo "0 $_count" >"$OUT_DIR/baseline.range"
    feed_ref 0 "$_count"
    compare_ref baseline
}

# 2. Backlog and recovery. start: open-loop orders and the depth sampler in
# the background; the caller SIGKILLs inventory, waits, restarts it and runs
# backlog-restarted (the restart time, ms since the epoch, in backlog.restart_ms).
phase_backlog_start() { # RATE SECONDS START
    echo "$(now_ms)" >"$OUT_DIR/backlog.t0_ms"
    "$LOADGEN" amqp sample --url "$AMQP_URL" --queue "$Q" --interval-ms 250 \
        >"$OUT_DIR/backlog.depth.txt" 2>/dev/null &
    echo $! >"$OUT_DIR/backlog.sampler.pid"
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --sold-out-pct "$SOLD_OUT_PCT" \
        --rate "$1" --duration "$2" --start "$3" -c 8 --label backlog --json --quiet \
        >"$OUT_DIR/backlog.json" &
    echo $! >"$OUT_DIR/backlog.loadgen.pid"
    echo "$3 $(($1 * $2))" >"$OUT_DIR/backlog.range"
}

# Called right after inventory serves again: the restart time for the drain.
phase_backlog_restarted() {
    now_ms >"$OUT_DIR/backlog.restart_ms"
}

phase_backlog_finish() {
    wait_gone "$(cat "$OUT_DIR/backlog.loadgen.pid")"
    read -r start count <"$OUT_DIR/backlog.range"
    assert_eq "backlog: all $count orders accepted (202) while inventory was down" "$count" \
        "$(jq -r '.status["202"] // 0' "$OUT_DIR/backlog.json")"
    check "backlog: every queue drained after the restart" quiet_main 180
    spid=$(cat "$OUT_DIR/backlog.sampler.pid")
    kill -TERM "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    t0=$(cat "$OUT_DIR/backlog.t0_ms")
    restart=$(($(cat "$OUT_DIR/backlog.restart_ms") - t0))
    peak=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$OUT_DIR/backlog.depth.txt")
    # Drained: the first sample after the restart at depth 0.
    drained=$(awk -v r="$restart" '$1 >= r && $2 == 0 { print $1; exit }' "$OUT_DIR/backlog.depth.txt")
    assert_num "backlog: sampled depth of $Q rose while inventory was down" "$peak" ">=" "$((count / 4))"
    assert_num "backlog: depth came back to 0 after the restart" "${drained:-0}" ">" 0
    assert_eq "backlog: final depth" 0 "$(depth)"
    drain_ms=$((${drained:-0} - restart))
    jq -n --argjson peak "$peak" --argjson restart "$restart" --argjson drain "$drain_ms" \
        '{peak_depth: $peak, restart_at_ms: $restart, drain_ms: $drain,
          drain_rate: (if $drain > 0 then ($peak / ($drain / 1000) | round) else null end)}' \
        >"$OUT_DIR/backlog.drain.json"
    check_final backlog "$start" "$count"
    feed_ref "$start" "$count"
    compare_ref backlog
}

hand_event() { # EVENT_ID ORDER_ID SKU QTY
    printf '{"schema":1,"type":"OrderPlaced","event_id":"%s","order_id":"%s","occurred_at":"2026-02-18T12:00:00.000Z","payload":{"user_id":"u1","items":[{"sku":"%s","qty":%s}]}}' "$1" "$2" "$3" "$4"
}
# The way a person publishes from a plain AMQP client: amqp-publish (amqp-tools).
hand_publish() { # BODY [ROUTING_KEY]
    printf '%s' "$1" | amqp-publish --url="$AMQP_URL" --exchange=commlab.events \
        --routing-key="${2:-order-events}" --persistent --content-type=application/json
}
burger() { http_get "$INVENTORY_URL/stock" | jq -r .burger; }

# 3. Idempotency: the same OrderPlaced twice, and once more with a new
# event_id for the same order_id: one reservation, stock moved once, one
# notification. Published by hand with amqp-publish.
phase_idempotency() {
    quiet_main 60 >/dev/null
    b0=$(burger)
    a0=$(inv_metric amqp_orders_applied_total)
    d0=$(inv_metric amqp_duplicates_total)
    ev=$(hand_event idem-ev-1 idem-order-1 burger 2)
    check "idempotency: published OrderPlaced by hand (amqp-publish)" hand_publish "$ev"
    check "idempotency: the same event again" hand_publish "$ev"
    check "idempotency: a new event_id for the same order_id" hand_publish "$(hand_event idem-ev-2 idem-order-1 burger 2)"
    check "idempotency: queues drained" quiet_main 60
    res=$(http_get "$INVENTORY_URL/dump" | grep -c '^reservations	idem-order-1	')
    notes=$(http_get "$NOTIFICATION_URL/dump" | grep -c '^notifications	idem-order-1	')
    a1=$(inv_metric amqp_orders_applied_total)
    d1=$(inv_metric amqp_duplicates_total)
    assert_eq "idempotency: one reservation for idem-order-1" 1 "$res"
    assert_eq "idempotency: stock moved once (2 burgers)" $((b0 - 2)) "$(burger)"
    assert_eq "idempotency: one notification for idem-order-1" 1 "$notes"
    assert_eq "idempotency: applied once" $((a0 + 1)) "$a1"
    assert_eq "idempotency: two deliveries recognised as duplicates" $((d0 + 2)) "$d1"
    jq -n --argjson deliveries 3 --argjson reservations "$res" --argjson notifications "$notes" \
        --argjson applied $((a1 - a0)) --argjson duplicates $((d1 - d0)) --argjson stock_moved $((b0 - $(burger))) \
        '{deliveries: $deliveries, applied: $applied, duplicates: $duplicates,
          reservations: $reservations, notifications: $notifications, burgers_taken: $stock_moved}' \
        >"$OUT_DIR/idempotency.json"
}

# 4. Poison: malformed, missing fields, wrong types, unknown schema, wrong
# event type, oversized: all in the .dlq with a reason; a valid message
# behind them flows on; nothing crashes. Then a transient failure (inventory
# told to fail) is retried 5 times and dead-lettered.
phase_poison() {
    quiet_main 60 >/dev/null
    pid_before=$(curl -sf "$INVENTORY_URL/metrics" >/dev/null && echo up)
    dlq0=$(depth "$Q.dlq")
    big=$(mktemp)
    { printf '{"schema":1,"type":"OrderPlaced","event_id":"big-1","order_id":"big-1","occurred_at":"2026-02-18T12:00:00.000Z","payload":{"user_id":"'
      head -c 70000 /dev/zero | tr '\0' 'u'
      printf '","items":[{"sku":"burger","qty":1}]}}'; } >"$big"
    hand_publish '{"schema":1,"type":"OrderPlaced","event_id":'
    hand_publish '{"schema":1,"type":"OrderPlaced","event_id":"p-2","occurred_at":"2026-02-18T12:00:00.000Z","payload":{"user_id":"u1","items":[{"sku":"burger","qty":1}]}}'
    hand_publish '{"schema":1,"type":"OrderPlaced","event_id":"p-3","order_id":42,"occurred_at":"2026-02-18T12:00:00.000Z","payload":{"user_id":"u1","items":[{"sku":"burger","qty":"one"}]}}'
    hand_publish '{"schema":99,"type":"OrderPlaced","event_id":"p-4","order_id":"p-4","occurred_at":"2026-02-18T12:00:00.000Z","payload":{"user_id":"u1","items":[{"sku":"burger","qty":1}]}}'
    hand_publish '{"schema":1,"type":"InventoryReserved","event_id":"p-5","order_id":"p-5","occurred_at":"2026-02-18T12:00:00.000Z","payload":{"user_id":"u1","items":[{"sku":"burger","qty":1}]}}'
    hand_publish "$(cat "$big")"
    rm -f "$big"
    hand_publish "$(hand_event poison-ok-ev poison-ok-1 soda 1)"
    check "poison: queues drained" quiet_main 60
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$Q.dlq" >"$OUT_DIR/dlq.txt"
    assert_eq "poison: 6 poison messages in $Q.dlq" $((dlq0 + 6)) "$(depth "$Q.dlq")"
    for r in 'body: ' 'order_id: ' 'schema: must be 1' 'type: expected OrderPlaced' 'body: larger than 65536 bytes'; do
        check "poison: a dead letter says '$r'" grep -qF "$r" "$OUT_DIR/dlq.txt"
    done
    assert_eq "poison: the valid message behind them was reserved" 1 \
        "$(http_get "$INVENTORY_URL/dump" | grep -c '^reservations	poison-ok-1	reserved')"
    assert_eq "poison: inventory still serving (no crash)" up "$pid_before"
    check "poison: inventory healthy after" curl -sf "$INVENTORY_URL/healthz"
    # Transient: every apply fails; after 5 failed applies of its own the
    # consumer dead-letters it with its reason (the broker's delivery limit,
    # which also counts returns of a lost link, is only a backstop).
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"error"}' >/dev/null
    hand_publish "$(hand_event transient-ev transient-1 soda 1)"
    wait_until 30 depth_at_least "$Q.dlq" $((dlq0 + 7))
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null
    "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$Q.dlq" >"$OUT_DIR/dlq.txt"
    check "poison: a transient failure was retried, then dead-lettered (failed 5 times)" \
        grep -q '^failed 5 times: .*transient-ev' "$OUT_DIR/dlq.txt"
    assert_num "poison: retries counted before dead-lettering" "$(inv_metric amqp_retries_total)" ">=" 2
    assert_eq "poison: nothing reserved for the transient failure" 0 \
        "$(http_get "$INVENTORY_URL/dump" | grep -c '^reservations	transient-1	')"
    cut -f1,2 "$OUT_DIR/dlq.txt" | sort | uniq -c | sort -rn >"$OUT_DIR/dlq.reasons.txt"
}

# 5 and 6: open-loop orders while the caller restarts RabbitMQ or kills inventory.
phase_load_start() { # NAME RATE SECONDS START
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --sold-out-pct "$SOLD_OUT_PCT" \
        --rate "$2" --duration "$3" --start "$4" -c 8 --label "$1" --json --quiet \
        --timeout-ms 10000 >"$OUT_DIR/$1.json" &
    echo $! >"$OUT_DIR/$1.pid"
    echo "$4 $(($2 * $3))" >"$OUT_DIR/$1.range"
}

phase_load_finish() { # NAME WHAT
    wait_gone "$(cat "$OUT_DIR/$1.pid")"
    read -r start count <"$OUT_DIR/$1.range"
    assert_eq "$1: all $count orders accepted (202) $2" "$count" \
        "$(jq -r '.status["202"] // 0' "$OUT_DIR/$1.json")"
    check "$1: every queue drained and every outbox sent" quiet_main 180
    check_final "$1" "$start" "$count"
    feed_ref "$start" "$count"
    compare_ref "$1"
}

# 5 and 6 and the cluster scenarios: the load phases under their names.
phase_broker_start() { phase_load_start broker "$@"; }
phase_broker_finish() { phase_load_finish broker "while RabbitMQ restarted"; }
phase_partition_start() { phase_load_start partition "$@"; }
phase_partition_finish() { phase_load_finish partition "while inventory was cut off from RabbitMQ"; }
phase_cluster_kill_start() { phase_load_start cluster-kill "$@"; }
phase_cluster_kill_finish() { phase_load_finish cluster-kill "while a cluster node crashed and came back"; }
phase_cluster_partition_start() { phase_load_start cluster-partition "$@"; }
phase_cluster_partition_finish() {
    phase_load_finish cluster-partition "while a cluster node was partitioned from the others"
}
phase_kill_start() { phase_load_start kill "$@"; }
phase_kill_finish() { phase_load_finish kill "while inventory was killed (-9) again and again"; }

# The reference, after the fact: the stack wiped and started again (no
# fault from here on), then given each PHASE's orders again ($OUT_DIR/PHASE.range),
# closed loop, in the same order; after each, the workload rows must hash as
# the faulty run's did at the end of PHASE (PHASE.workload.sha256). After the
# baseline's, the whole state dump is the seed's deterministic state
# (reference.state.txt; results/async-rabbitmq.state.txt). The same check as
# a reference stack running beside the faulty one (REF_*_URL), with one stack.
phase_reference() { # PHASE...
    for _p in "$@"; do
        if ! read -r start count <"$OUT_DIR/$_p.range"; then
            fail "reference: phase $_p ran before (its order range, $_p.range)"
            continue
        fi
        "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --sold-out-pct "$SOLD_OUT_PCT" \
            --start "$start" -n "$count" -c 16 --json --quiet >"$OUT_DIR/ref-$start.json"
        _q=$(quiet_main 120 && echo yes)
        assert_eq "reference: orders $start.. of seed $SEED settled without faults" yes "$_q"
        workload_state "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$OUT_DIR/$_p.reference.txt"
        _rows=$(wc -l <"$OUT_DIR/$_p.reference.txt" | tr -d ' ')
        assert_eq "$_p: state hash equals the uninterrupted run of the same seed ($_rows rows)" \
            "$(sha256sum <"$OUT_DIR/$_p.reference.txt" | cut -d' ' -f1)" "$(cat "$OUT_DIR/$_p.workload.sha256" 2>/dev/null)"
        if [ "$_p" = baseline ]; then
            state_dump "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$OUT_DIR/reference.state.txt"
        fi
    done
}

scenario_dispatch async-rabbitmq.sh "baseline backlog-start backlog-restarted backlog-finish idempotency poison \
    broker-start broker-finish partition-start partition-finish cluster-kill-start cluster-kill-finish \
    cluster-partition-start cluster-partition-finish kill-start kill-finish reference" "$@"
