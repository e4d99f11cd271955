#!/bin/sh
# The sync chain's cascade and its cure, one phase per call, against running
# services (the REST trio):
#   baseline SECONDS                  healthy inventory: the /healthz baseline
#   unprotected TIMEOUT_MS            inventory hangs, no bulkhead, no breaker
#   protected TIMEOUT_MS LIMIT COOLDOWN_MS FAILURES
#                                     inventory hangs, then comes back
#   breaker-500 FAILURES COOLDOWN_MS  inventory answers 500: 502, then fast 503
# Environment: ORDER_URL, INVENTORY_URL, NOTIFICATION_URL, OUT_DIR, SEED
# (default 1), LOADGEN (default loadgen), PROBE (default commlab-httpprobe),
# RATE (orders/s, default 200), HANG_S (seconds of hanging inventory, default
# 8), RECOVER_S (seconds of load after it is back, default 6). The phases
# inject inventory's faults themselves (POST /configure); whoever runs them
# starts the order service with the options each phase names (unprotected:
# --inventory-max-inflight 0 --breaker-failures 0; the others: a bulkhead of
# LIMIT and a breaker opening after FAILURES in a row, cool-down COOLDOWN_MS):
# the local lab (the sync-rest plan) or a VM test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
. "$here/../lib/rest-state.sh"
: "${SEED:=1}" "${LOADGEN:=loadgen}" "${PROBE:=commlab-httpprobe}"
: "${OUT_DIR:?OUT_DIR must name a directory for results}"
: "${RATE:=200}" "${HANG_S:=8}" "${RECOVER_S:=6}"
# In-flight orders may differ from rate x timeout by this much (sampling
# every 100 ms, and a loaded machine's arrivals drift).
: "${INFLIGHT_TOL_PCT:=25}"
# How far past the timeout an unprotected order's 504 may come.
: "${TIMEOUT_SLACK_MS:=500}"
# p99 of a refusal (503) while inventory hangs.
: "${FAST_P99_MS:=250}"
# /healthz p99 while protected: at most this many times a reference p99, or
# the reference plus HEALTHZ_SLACK_MS, whichever is larger. The reference is
# the larger of the baseline phase's and, timed in the same window, the
# notification service's /healthz (a bystander): a shared machine's stalls
# reach both, a cascade only the order service.
: "${HEALTHZ_FACTOR:=3}" "${HEALTHZ_SLACK_MS:=50}"
mkdir -p "$OUT_DIR"
CHECK="$here/../lib/check-invariants.sh"

# assert_n: assert_num, failing on a figure that is not a number (NA: a
# metric or a series that is missing).
assert_n() {
    case $2 in
    "" | *[!0-9.-]*) fail "$1 (got '$2', not a number)" ;;
    *) assert_num "$@" ;;
    esac
}

configure() { http_code POST "$INVENTORY_URL/configure" "$1" >/dev/null; }
order_metric() { metric "$ORDER_URL" "$1"; }
inv_metric() { metric "$INVENTORY_URL" "$1"; }
# /reserve requests inventory has answered, whatever the answer.
reserve_answers() {
    curl -sf --max-time 10 "$INVENTORY_URL/metrics" |
        awk '$1 ~ /^commlab_http_requests_total\{.*route="\/reserve"/ { n += $2 } END { print n + 0 }'
}
# Milliseconds since the epoch (GNU date, which both labs have).
now_ms() {
    _t=$(date +%s%3N)
    case $_t in *[!0-9]*) echo $(($(date +%s) * 1000)) ;; *) echo "$_t" ;; esac
}
order_json() { # ORDER_ID
    printf '{"order_id":"%s","user_id":"u1","occurred_at":"2026-02-18T12:00:00.000Z","items":[{"sku":"burger","qty":1}]}' "$1"
}

# start_load NAME SECONDS START: open-loop orders at $RATE, /healthz at 50/s
# and the sampler, all in the background; wait_load NAME ends them.
start_load() {
    _n=$1
    # Enough workers for every order of a rate x timeout backlog, and more.
    _c=$((RATE * ${LOAD_TIMEOUT_MS:-2000} / 1000 * 3 / 2 + 50))
    [ "$_c" -le 1000 ] || _c=1000
    "$PROBE" sample "$ORDER_URL" --inventory "$INVENTORY_URL" --every-ms 100 \
        >"$OUT_DIR/$_n.samples.tsv" 2>"$OUT_DIR/$_n.samples.err" &
    echo $! >"$OUT_DIR/$_n.sampler.pid"
    "$LOADGEN" rest --url "$ORDER_URL" --target healthz --rate 50 --duration "$2" -c 8 \
        --timeout-ms 5000 --label "$_n-healthz" --json --quiet --trace "$OUT_DIR/$_n.healthz.tsv" \
        >"$OUT_DIR/$_n.healthz.json" &
    echo $! >"$OUT_DIR/$_n.healthz.pid"
    "$LOADGEN" rest --url "$NOTIFICATION_URL" --target healthz --rate 50 --duration "$2" -c 8 \
        --timeout-ms 5000 --label "$_n-control" --json --quiet --trace "$OUT_DIR/$_n.control.tsv" \
        >"$OUT_DIR/$_n.control.json" &
    echo $! >"$OUT_DIR/$_n.control.pid"
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --label "$_n" --json --quiet \
        --rate "$RATE" --duration "$2" --start "$3" -c "$_c" --timeout-ms 10000 \
        --trace "$OUT_DIR/$_n.trace.tsv" --accepted-file "$OUT_DIR/$_n.accepted.txt" \
        >"$OUT_DIR/$_n.json" &
    echo $! >"$OUT_DIR/$_n.load.pid"
}

wait_load() {
    for _p in load healthz control; do
        _pid=$(cat "$OUT_DIR/$1.$_p.pid")
        wait "$_pid" 2>/dev/null || wait_gone "$_pid"
    done
    sleep 0.3
    kill -TERM "$(cat "$OUT_DIR/$1.sampler.pid")" 2>/dev/null
    wait "$(cat "$OUT_DIR/$1.sampler.pid")" 2>/dev/null
    rm -f "$OUT_DIR/$1".*.pid
}

jget() { jq -r "$2" "$OUT_DIR/$1.json"; }

# trace_lat NAME P [STATUS [FROM_MS [TO_MS]]]: the P-quantile (0-1) of the
# order latency in ms of requests sent in [FROM, TO) with that status
# ("any": all), NA when none.
trace_lat() {
    awk -F'\t' -v s="${3:-any}" -v a="${4:-0}" -v b="${5:-1e18}" \
        'NR > 1 && (s == "any" || $3 == s) && $1 >= a && $1 < b { print $2 }' \
        "$OUT_DIR/$1.trace.tsv" | sort -n |
        awk -v p="$2" '{ v[NR] = $1 } END { if (!NR) { print "NA"; exit }
            i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1; print v[i] }'
}

# trace_count NAME STATUS [FROM_MS [TO_MS]]; STATUS "!201": all but 201.
trace_count() {
    awk -F'\t' -v s="$2" -v a="${3:-0}" -v b="${4:-1e18}" \
        'NR > 1 && $1 >= a && $1 < b && (s == "any" || $3 == s || (s ~ /^!/ && $3 != substr(s, 2))) { n++ }
        END { print n + 0 }' "$OUT_DIR/$1.trace.tsv"
}

# The first send time (ms) at or after FROM of a request answered STATUS, NA if none.
trace_first() { # NAME STATUS FROM_MS
    awk -F'\t' -v s="$2" -v a="$3" 'NR > 1 && $3 == s && $1 >= a { print $1; found = 1; exit }
        END { if (!found) print "NA" }' "$OUT_DIR/$1.trace.tsv"
}

# samples NAME COLUMN AGG [FROM_MS [TO_MS]]: max, min or last of a sampler
# column over the samples taken in [FROM, TO) of the load's clock (NA when
# the column never had a value).
samples() {
    _start=$(jget "$1" .start_unix_ms)
    awk -F'\t' -v c="$2" -v agg="$3" -v t0="$_start" -v a="${4:-0}" -v b="${5:-1e18}" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
        k && $k != "NA" && $1 - t0 >= a && $1 - t0 < b {
            v = $k + 0
            if (!n || v > mx) mx = v
            if (!n || v < mn) mn = v
            last = v; n++ }
        END { if (!n) print "NA"; else if (agg == "max") print mx; else if (agg == "min") print mn; else print last }' \
        "$OUT_DIR/$1.samples.tsv"
}

# Growth of COLUMN between consecutive samples while the breaker has been
# open (state 1) for three samples: the order service sends inventory nothing
# then. (An order admitted just before it opened is stored first, then sent:
# the first 100-200 ms after the opening are left out.)
grown_while_open() { # NAME COLUMN
    awk -F'\t' -v c="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) { if ($i == c) k = i; if ($i == "breaker_state") s = i }; next }
        k && s && $k != "NA" { run = $s == 1 ? run + 1 : 0; if (run >= 3) g += $k - pv; pv = $k }
        END { print g + 0 }' "$OUT_DIR/$1.samples.tsv"
}

# Inventory has answered every call sent since it had answered $1 and the
# order service had sent $2.
answered_all_sent() {
    [ "$(($(reserve_answers) - $1))" -ge "$(($(order_metric inventory_calls_total) - $2))" ]
}
release_backlog_empty() { [ "$(order_metric release_backlog)" = 0 ]; }

# settle NAME WAIT_S RESERVES0 CALLS0: inventory has answered every call the
# order service sent since it had answered RESERVES0 and the order service
# had sent CALLS0, no failed order holds stock, every release is delivered, nothing is
# pending.
settle() {
    _end=$(($(date +%s) + $2))
    wait_until "$2" answered_all_sent "$3" "$4"
    # At least: recovery (orders left pending, driven on by the order
    # service) calls inventory too, outside the bulkhead and the count.
    assert_n "$1: inventory answered every call the order service sent (within $2 s)" \
        "$(($(reserve_answers) - $3))" ">=" "$(($(order_metric inventory_calls_total) - $4))"
    wait_until $((_end - $(date +%s))) none_held_by_failed
    assert_eq "$1: no failed order holds stock" 0 "$(held_by_failed)"
    wait_until $((_end - $(date +%s))) release_backlog_empty
    assert_eq "$1: every release delivered (backlog 0)" 0 "$(order_metric release_backlog)"
    assert_eq "$1: no order left pending" 0 "$(orders_in pending)"
}

# Healthy inventory, the same load: every order 201, and the /healthz
# latency the protected run is compared with.
phase_baseline() { # SECONDS
    configure '{"delay_ms":0,"mode":"none"}'
    start_load baseline "$1" 100000
    wait_load baseline
    # 200: the order was already stored, a request the HTTP client sent again
    # on a fresh connection when its kept-alive one closed under it.
    assert_eq "baseline: every order 201 (or 200, answered from the store)" "$(jget baseline .requests)" \
        "$(jget baseline '(.status["201"] // 0) + (.status["200"] // 0)')"
    assert_eq "baseline: every /healthz answered" 0 "$(jget baseline.healthz .errors)"
    jget baseline.healthz .latency_ms.p99 >"$OUT_DIR/baseline.healthz-p99"
    echo "# baseline: /healthz p99 $(cat "$OUT_DIR/baseline.healthz-p99") ms under $RATE orders/s"
}

# 1. The cascade: inventory hangs, the order service has neither bulkhead nor
# breaker. Every order waits the whole timeout, so orders pile up to rate x
# timeout in flight.
phase_unprotected() { # TIMEOUT_MS
    _t=$1
    assert_eq "unprotected: the order service runs without a bulkhead (limit 0)" 0 \
        "$(order_metric inventory_inflight_limit)"
    http_get "$INVENTORY_URL/stock" | jq -cS . >"$OUT_DIR/unprotected.stock-before.json"
    _calls0=$(order_metric inventory_calls_total)
    _r0=$(reserve_answers)
    _exp0=$(inv_metric reserve_deadline_expired_total)
    configure '{"delay_ms":0,"mode":"hang"}'
    LOAD_TIMEOUT_MS=$_t start_load unprotected "$HANG_S" 200000
    wait_load unprotected
    configure '{"delay_ms":0,"mode":"none"}'
    _n=$(jget unprotected .requests)
    _want=$((RATE * _t / 1000))
    _peak=$(samples unprotected inflight max)
    assert_n "unprotected: in-flight orders grow to rate x timeout ($_want) less ${INFLIGHT_TOL_PCT} %" \
        "$_peak" ">=" "$((_want * (100 - INFLIGHT_TOL_PCT) / 100))"
    assert_n "unprotected: in-flight orders no more than rate x timeout plus ${INFLIGHT_TOL_PCT} %" \
        "$_peak" "<=" "$((_want * (100 + INFLIGHT_TOL_PCT) / 100))"
    # 200: a request the HTTP client sent again when its kept-alive connection
    # closed under it, answered from the store (the order, failed).
    assert_eq "unprotected: every order 504 (or 200, the stored failed order)" "$_n" \
        "$(jget unprotected '(.status["504"] // 0) + (.status["200"] // 0)')"
    assert_n "unprotected: every order waits the timeout (p1 ms)" "$(trace_lat unprotected 0.01)" ">=" "$_t"
    assert_n "unprotected: and no longer (p99 ms)" "$(trace_lat unprotected 0.99)" "<=" "$((_t + TIMEOUT_SLACK_MS))"
    assert_eq "unprotected: one inventory call per order" "$_n" "$(($(order_metric inventory_calls_total) - _calls0))"
    assert_eq "unprotected: /healthz kept answering" 0 "$(jget unprotected.healthz .errors)"
    settle unprotected 40 "$_r0" "$_calls0"
    # Deadline propagation: each call reached inventory with its budget spent,
    # so none was reserved once inventory was back.
    assert_eq "unprotected: inventory refused every late call (deadline_exceeded)" "$_n" \
        "$(($(inv_metric reserve_deadline_expired_total) - _exp0))"
    assert_eq "unprotected: stock as before (nothing reserved late)" \
        "$(cat "$OUT_DIR/unprotected.stock-before.json")" "$(http_get "$INVENTORY_URL/stock" | jq -cS .)"
}

# 2 and 3. The same with a bulkhead of LIMIT and a breaker: inventory hangs
# for HANG_S, then is back for RECOVER_S of the same load.
phase_protected() { # TIMEOUT_MS LIMIT COOLDOWN_MS FAILURES
    _t=$1 _limit=$2 _cool=$3 _fails=$4
    _hang=$((HANG_S * 1000))
    assert_eq "protected: the order service's bulkhead is $_limit" "$_limit" \
        "$(order_metric inventory_inflight_limit)"
    assert_eq "protected: the breaker starts closed" 0 "$(order_metric inventory_breaker_state)"
    state_dump "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$OUT_DIR/protected.initial.txt"
    for _m in inventory_calls_total orders_recovered_total orders_refused_overloaded_total orders_refused_circuit_open_total \
        inventory_breaker_opened_total inventory_breaker_half_opened_total inventory_breaker_closed_total; do
        order_metric "$_m" >"$OUT_DIR/protected.$_m.0"
    done
    _r0=$(reserve_answers)
    configure '{"delay_ms":0,"mode":"hang"}'
    _begin=$(now_ms)
    LOAD_TIMEOUT_MS=$_t start_load protected "$((HANG_S + RECOVER_S))" 300000
    # A client's view while the breaker is open: refused at once, told when
    # to retry, nothing stored. Asked as soon as it is open, so that no
    # cool-down ends first and makes this order the probe.
    while [ "$(order_metric inventory_breaker_state)" != 1 ] &&
        [ "$(($(now_ms) - _begin))" -lt "$((_hang - 1000))" ]; do
        sleep 0.05
    done
    _c=$(curl -s -o "$HTTP_BODY_FILE" -D "$OUT_DIR/protected.retry.headers" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data "$(order_json cascade-retry-1)" --max-time 10 "$ORDER_URL/order")
    assert_eq "protected: an order while the breaker is open -> 503" 503 "$_c"
    assert_eq "protected: its error says the circuit is open" inventory_circuit_open \
        "$(jq -r .error "$HTTP_BODY_FILE" 2>/dev/null)"
    check "protected: it carries Retry-After (seconds)" grep -qiE '^retry-after: [0-9]+' "$OUT_DIR/protected.retry.headers"
    assert_eq "protected: nothing stored for it" 404 "$(http_code GET "$ORDER_URL/orders/cascade-retry-1")"
    _left=$((_hang - ($(now_ms) - _begin)))
    [ "$_left" -le 0 ] || sleep "$(awk -v l="$_left" 'BEGIN { printf "%.3f", l / 1000 }')"
    _calls_hang=$(($(order_metric inventory_calls_total) - $(cat "$OUT_DIR/protected.inventory_calls_total.0")))
    _probes_hang=$(($(order_metric inventory_breaker_half_opened_total) -
        $(cat "$OUT_DIR/protected.inventory_breaker_half_opened_total.0")))
    echo "$_calls_hang" >"$OUT_DIR/protected.calls_hang"
    configure '{"delay_ms":0,"mode":"none"}'
    # The heal on the load's clock (ms since loadgen's start_unix_ms).
    _heal_unix=$(now_ms)
    wait_load protected
    _heal=$((_heal_unix - $(jget protected .start_unix_ms)))
    echo "$_heal" >"$OUT_DIR/protected.heal_ms"
    d() { echo $(($(order_metric "$1") - $(cat "$OUT_DIR/protected.$1.0"))); }

    # 2. Bounded, fast, and inventory left alone.
    assert_n "protected: in-flight orders bounded by the bulkhead" "$(samples protected inflight max)" "<=" "$_limit"
    assert_n "protected: orders refused past the bulkhead (inventory_overloaded)" \
        "$(d orders_refused_overloaded_total)" ">" 0
    assert_n "protected: the breaker opened" "$(d inventory_breaker_opened_total)" ">=" 1
    assert_n "protected: orders refused while it was open (inventory_circuit_open)" \
        "$(d orders_refused_circuit_open_total)" ">" 0
    assert_n "protected: refusals answered fast while inventory hung (503 p99 ms)" \
        "$(trace_lat protected 0.99 503 0 "$_hang")" "<=" "$FAST_P99_MS"
    # Past the limit nothing is sent; between the first timeout and the one
    # that opens the breaker, each freed slot takes a new call (FAILURES at
    # most); then one probe per cool-down.
    assert_n "protected: only the bulkhead's calls and the probes timed out (504s)" \
        "$(trace_count protected 504 0 "$_hang")" "<=" "$((_limit + _fails + _probes_hang))"
    assert_n "protected: calls sent to the hanging inventory: the bulkhead's and the probes" \
        "$_calls_hang" "<=" "$((_limit + _fails + _probes_hang))"
    assert_eq "protected: no call sent while the breaker was open (between open samples)" 0 \
        "$(grown_while_open protected inventory_calls)"
    _base=$(cat "$OUT_DIR/baseline.healthz-p99" 2>/dev/null || echo NA)
    _hz=$(trace_lat_healthz protected.healthz 0.99 0 "$_hang")
    _ctl=$(trace_lat_healthz protected.control 0.99 0 "$_hang")
    if [ "$_base" = NA ] || [ "$_ctl" = NA ]; then
        fail "protected: /healthz p99 compared with the baseline and the bystander (one is missing)"
    else
        _bound=$(awk -v b="$_base" -v c="$_ctl" -v f="$HEALTHZ_FACTOR" -v s="$HEALTHZ_SLACK_MS" \
            'BEGIN { r = (b > c ? b : c); x = r * f; y = r + s; printf "%.3f", (x > y ? x : y) }')
        assert_n "protected: /healthz p99 while inventory hung (ms; baseline $_base, bystander $_ctl)" \
            "$_hz" "<=" "$_bound"
    fi

    # 3. Recovery: a half-open probe succeeds, the breaker closes, orders
    # succeed again within the cool-down and a second.
    _within=$((_cool + 1000))
    _first=$(trace_first protected 201 "$_heal")
    assert_n "protected: a probe was let through half-open" "$(d inventory_breaker_half_opened_total)" ">=" 1
    assert_n "protected: the breaker closed again" "$(d inventory_breaker_closed_total)" ">=" 1
    assert_eq "protected: the breaker ends closed" 0 "$(order_metric inventory_breaker_state)"
    if [ "$_first" = NA ]; then
        fail "protected: orders 201 again after inventory came back (none did)"
    else
        assert_n "protected: orders 201 again within ${_within} ms of inventory's return" \
            "$((${_first%.*} - _heal))" "<=" "$_within"
        _after=$(trace_count protected any "$((_heal + _within))")
        assert_eq "protected: no order sent ${_within} ms after the return failed at inventory (502/504)" 0 \
            "$(($(trace_count protected 502 "$((_heal + _within))") + $(trace_count protected 504 "$((_heal + _within))")))"
        # A bulkhead refusal in a slow moment of the machine (an fsync stall)
        # is the bulkhead at work, not a failed recovery: 1 % of them allowed.
        assert_n "protected: orders sent ${_within} ms after the return: 201 (of $_after)" \
            "$(trace_count protected 201 "$((_heal + _within))")" ">=" "$((_after * 99 / 100))"
    fi
    echo "$_first" >"$OUT_DIR/protected.first_201_ms"
    settle protected 40 "$_r0" "$(cat "$OUT_DIR/protected.inventory_calls_total.0")"
    assert_n "protected: inventory saw only the calls the order service sent (counted, or recovery's)" \
        "$(($(reserve_answers) - _r0))" "<=" "$(($(d inventory_calls_total) + $(d orders_recovered_total)))"
    # A refused order is not stored: the same order_id again is a fresh attempt.
    assert_eq "protected: the refused order_id retried after recovery -> 201" 201 \
        "$(http_code POST "$ORDER_URL/order" "$(order_json cascade-retry-1)")"
    echo cascade-retry-1 >>"$OUT_DIR/protected.accepted.txt"
    state_dump "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$OUT_DIR/protected.state.txt"
    if sh "$CHECK" --model sync --initial "$OUT_DIR/protected.initial.txt" --state "$OUT_DIR/protected.state.txt" \
        --accepted "$OUT_DIR/protected.accepted.txt" --json "$OUT_DIR/protected.check.json" \
        >"$OUT_DIR/protected.violations.txt"; then
        pass "protected: the crash invariants hold (lib/check-invariants.sh)"
    else
        fail "protected: the crash invariants hold ($(grep -c '^violation' "$OUT_DIR/protected.violations.txt") violations)"
        grep -m 5 '^violation' "$OUT_DIR/protected.violations.txt"
    fi
}

# trace_lat_healthz FILE P FROM_MS TO_MS: as trace_lat, of a /healthz trace
# ($OUT_DIR/FILE.tsv); an answer other than 200 counts as 1e9 ms.
trace_lat_healthz() {
    awk -F'\t' -v a="$3" -v b="$4" 'NR > 1 && $1 >= a && $1 < b { print ($3 == 200 ? $2 : 1e9) }' \
        "$OUT_DIR/$1.tsv" | sort -n |
        awk -v p="$2" '{ v[NR] = $1 } END { if (!NR) { print "NA"; exit }
            i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1; print v[i] }'
}

# The seeds' "inventory answers 500" with the breaker on: 502 for the calls
# that fail until FAILURES in a row open it, then 503 at once, and inventory
# sees no call while it is open; back to 201 after the cool-down.
phase_breaker_500() { # FAILURES COOLDOWN_MS
    _r0=$(reserve_answers)
    _o0=$(order_metric inventory_breaker_opened_total)
    configure '{"delay_ms":0,"mode":"error"}'
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --label breaker-500 --json --quiet \
        -n 100 -c 10 --start 400000 --trace "$OUT_DIR/breaker-500.trace.tsv" >"$OUT_DIR/breaker-500.json"
    _502=$(jget breaker-500 '.status["502"] // 0')
    _503=$(jget breaker-500 '.status["503"] // 0')
    # Still open (a cool-down outlasts 100 fast answers): refused, told when.
    _ra=$(curl -s -o /dev/null -D - -X POST -H 'Content-Type: application/json' \
        --data "$(order_json cascade-500-1)" --max-time 10 "$ORDER_URL/order" | grep -ciE '^retry-after: [0-9]+')
    _calls=$(($(reserve_answers) - _r0))
    assert_eq "inventory 500: every order 502 or 503" 100 "$((_502 + _503))"
    assert_n "inventory 500: 502 until the breaker opens (at least $1)" "$_502" ">=" "$1"
    # Calls already under way when it opened fail too: 9 more at concurrency 10.
    assert_n "inventory 500: and no longer (the breaker opened)" "$_502" "<=" "$(($1 + 9))"
    assert_n "inventory 500: then 503 (the breaker is open)" "$_503" ">" 0
    assert_eq "inventory 500: inventory saw one call per 502, none for a 503" "$_502" "$_calls"
    assert_n "inventory 500: the breaker opened" "$(($(order_metric inventory_breaker_opened_total) - _o0))" ">=" 1
    assert_n "inventory 500: 503 answered fast (p99 ms)" "$(trace_lat breaker-500 0.99 503)" "<=" "$FAST_P99_MS"
    assert_eq "inventory 500: a 503 carries Retry-After" 1 "$_ra"
    configure '{"delay_ms":0,"mode":"none"}'
    sleep "$(awk -v c="$2" 'BEGIN { printf "%.3f", c / 1000 + 0.5 }')"
    assert_eq "inventory 500: after the cool-down and inventory's repair, an order -> 201" 201 \
        "$(http_code POST "$ORDER_URL/order" "$(order_json cascade-500-2)")"
    assert_eq "inventory 500: the breaker closed again" 0 "$(order_metric inventory_breaker_state)"
}

phase=${1:?usage: cascade.sh PHASE [ARGS]}
shift
failed_before=$(assert_failed_count)
case $phase in
baseline | unprotected | protected | breaker-500)
    "phase_$(echo "$phase" | tr - _)" "$@" ;;
*)
    echo "cascade.sh: unknown phase '$phase'" >&2
    exit 2 ;;
esac
rc=$?
[ "$rc" -eq 0 ] && [ "$(assert_failed_count)" -eq "$failed_before" ]
