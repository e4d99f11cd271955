#!/bin/sh
# The crash-invariant scenario, any model, one phase per call:
#   schedule SEED SECONDS KILLS VICTIM...  print the seeded kill schedule
#   start MODEL RATE SECONDS START        record the state, start the open-loop load
#   finish MODEL KILLS [RECOVERY_S]       wait for the load, then for recovery, and
#                                         check the invariants (lib/check-invariants.sh)
#   fault KIND [ARGS]                     a fault for the load to run into, set between
#                                         start and finish (or before start):
#     slow-apply MS     every inventory apply takes MS longer (POST /configure)
#     none              no inventory fault
#     paused | resumed  (stream) inventory stops or goes on reading order-events
#     txn-errors N      (stream, Kafka mock) the next N Produce requests are
#                       answered INVALID_RECORD: inventory's transactions abort
#                       on a message error until its messages are set aside
#     refused-row DB KIND  a row the far side refuses for good, added to the
#                       outbox of the order service's database DB: notify or
#                       release (a body the receiver answers 400), unroutable
#                       (a routing key no queue is bound to), too-large (over
#                       Kafka's message size limit)
#   check MODEL                           the invariants now, once (0 hold, 1 violated,
#                                         2 unreadable); for callers that time recovery
#   self-test                             the checker finds each kind of violation
# MODEL is sync, async or stream. Whoever calls the phases does the kills and
# restarts between start and finish, at the times of the schedule: the local
# lab (local/crash.sh) or a VM test. Environment: ORDER_URL, INVENTORY_URL,
# NOTIFICATION_URL (sync, async), ANALYTICS_URL and KAFKA_BROKERS (stream),
# AMQP_URL (async), OUT_DIR, SEED (default 1), LOADGEN (default: loadgen),
# SOLD_OUT_PCT (default 5), CRASH_LOADGEN_ARGS (words added to the load's loadgen rest).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
. "$here/../lib/kafka.sh"
: "${SEED:=1}" "${LOADGEN:=loadgen}" "${OUT_DIR:?OUT_DIR must name a directory for results}"
mkdir -p "$OUT_DIR"
CHECK="$here/../lib/check-invariants.sh"
# Orders that ask for the sold-out SKU: the rejected path runs too.
: "${SOLD_OUT_PCT:=5}"

# One line per kill, "AT_S VICTIM DOWN_S", by time. The first kills take the
# victims in a seeded order, so each is killed at least once with KILLS >=
# the victim count. Park-Miller's generator in awk doubles (every product is
# below 2^53) gives the same schedule with any awk.
phase_schedule() { # SEED SECONDS KILLS VICTIM...
    _seed=$1 _secs=$2 _kills=$3
    shift 3
    awk -v seed="$_seed" -v secs="$_secs" -v kills="$_kills" -v victims="$*" '
    function rnd() { x = (x * 16807) % 2147483647; return x / 2147483647 }
    BEGIN {
        x = seed % 2147483646 + 1
        for (i = 0; i < 8; i++) rnd() # nearby seeds start close together
        nv = split(victims, v, " ")
        for (i = nv; i > 1; i--) { j = int(rnd() * i) + 1; t = v[i]; v[i] = v[j]; v[j] = t }
        for (k = 1; k <= kills; k++) {
            who = k <= nv ? v[k] : v[int(rnd() * nv) + 1]
            # Between 1 s after the start and 2 s before the end of the load.
            printf "%.2f %s %.2f\n", 1 + rnd() * (secs - 3), who, rnd()
        }
    }' | sort -n
}

phase_start() { # MODEL RATE SECONDS START
    _model=$1
    shift
    case $_model in
    stream) state_dump "$ORDER_URL" "$INVENTORY_URL" ;;
    *) state_dump "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" ;;
    esac >"$OUT_DIR/crash.initial.txt" || { fail "crash: the state before the load read"; return 1; }
    if [ "$_model" = stream ]; then
        http_get "$ANALYTICS_URL/metrics.json" >"$OUT_DIR/crash.analytics0.json" ||
            { fail "crash: analytics' totals before the load read"; return 1; }
    fi
    "$LOADGEN" rest --url "$ORDER_URL" --seed "$SEED" --sold-out-pct "$SOLD_OUT_PCT" \
        --rate "$1" --duration "$2" --start "$3" -c 16 --timeout-ms 10000 --label crash \
        --accepted-file "$OUT_DIR/crash.accepted.txt" --answers-file "$OUT_DIR/crash.answers.txt" \
        --json --quiet ${CRASH_LOADGEN_ARGS:-} >"$OUT_DIR/crash.load.json" &
    echo $! >"$OUT_DIR/crash.loadgen.pid"
}

phase_fault() { # KIND [ARGS]
    case $1 in
    slow-apply) _body="{\"delay_ms\":$2,\"mode\":\"none\"}" ;;
    none) _body='{"delay_ms":0,"mode":"none"}' ;;
    paused | resumed) _body="{\"throttle_ms\":0,\"paused\":$([ "$1" = paused ] && echo true || echo false)}" ;;
    txn-errors)
        # The order relay's events are all in by now (the caller waits for
        # its outbox): every Produce that fails is inventory's.
        _codes=$(awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf " INVALID_RECORD" }')
        # shellcheck disable=SC2086 # one word per code
        check "crash: fault $* set" kafka_mock_ctl errors Produce $_codes
        return ;;
    refused-row)
        case $3 in
        notify) _dest=notification.send _body="'{\"order_id\":'" ;;
        release) _dest=inventory.release _body="'{\"order_id\":'" ;;
        unroutable) _dest=nowhere.unbound _body="'{}'" ;;
        too-large) _dest=order-events _body="'{\"pad\":\"'||hex(zeroblob(1100000))||'\"}'" ;;
        *) fail "crash: refused-row kind '$3' known"; return 1 ;;
        esac
        check "crash: fault $1 $3 set" sqlite3 -cmd ".timeout 10000" "$2" \
            "INSERT INTO outbox(event_id,destination,key,body) VALUES('refused-$3','$_dest','refused-$3',$_body)"
        return ;;
    *) fail "crash: fault '$1' known"; return 1 ;;
    esac
    assert_eq "crash: fault $* set" 200 "$(http_code POST "$INVENTORY_URL/configure" "$_body")"
}

# Dead letters as "SOURCE<TAB>REASON" lines for the checker.
dead_letters() { # MODEL
    case $1 in
    async)
        for _q in inventory.order-placed notification.inventory-reserved order.inventory-outcome; do
            "$LOADGEN" amqp dlq --url "$AMQP_URL" --queue "$_q.dlq" >"$OUT_DIR/crash.dlq.raw" ||
                return 1
            # Our reason, else the broker's (delivery_limit).
            awk -F '\t' -v q="$_q.dlq" '{ print q "\t" ($1 != "-" ? $1 : $2) }' "$OUT_DIR/crash.dlq.raw"
        done ;;
    stream)
        kcat -C -b "$KAFKA_BROKERS" -t order-events.dlq -o beginning -e -q -f '%h\n' \
            >"$OUT_DIR/crash.dlq.raw" 2>"$OUT_DIR/crash.dlq.err" ||
            { cat "$OUT_DIR/crash.dlq.err" >&2; return 1; }
        awk '{ r = ""; if (match($0, /dead_letter_reason=[^,]*/)) r = substr($0, RSTART + 19, RLENGTH - 19)
              print "order-events.dlq\t" r }' "$OUT_DIR/crash.dlq.raw" ;;
    esac
}

# Writes the dumps, the dead letters and the analytics totals of now to
# $OUT_DIR/crash.*, then runs the checker on them.
check_now() { # MODEL KILLS
    case $1 in
    stream)
        state_dump "$ORDER_URL" "$INVENTORY_URL" >"$OUT_DIR/crash.state.tmp" &&
            http_get "$ANALYTICS_URL/metrics.json" >"$OUT_DIR/crash.analytics.json" ;;
    *) state_dump "$ORDER_URL" "$INVENTORY_URL" "$NOTIFICATION_URL" >"$OUT_DIR/crash.state.tmp" ;;
    esac || return 2
    dead_letters "$1" >"$OUT_DIR/crash.dlq.txt" || return 2
    sh "$CHECK" --model "$1" --initial "$OUT_DIR/crash.initial.txt" --state "$OUT_DIR/crash.state.tmp" \
        --accepted "$OUT_DIR/crash.accepted.txt" --answers "$OUT_DIR/crash.answers.txt" \
        --dlq "$OUT_DIR/crash.dlq.txt" \
        --analytics "$OUT_DIR/crash.analytics.json" \
        --analytics-initial "$OUT_DIR/crash.analytics0.json" --kills "$2" --json "$OUT_DIR/crash.check.json" \
        >"$OUT_DIR/crash.violations.txt"
}

# Recovery is awaited, not timed: the invariants must hold twice in a row,
# 1 s apart, within RECOVERY_S; else the last check's violations are the
# verdict.
phase_finish() { # MODEL KILLS [RECOVERY_S]
    _model=$1 _kills=$2 _bound=${3:-30}
    wait_gone "$(cat "$OUT_DIR/crash.loadgen.pid")"
    [ "$_model" = stream ] || : >"$OUT_DIR/crash.analytics.json"
    _t0=$(date +%s) _ok=0
    while :; do
        check_now "$_model" "$_kills"
        _rc=$?
        if [ $_rc -eq 0 ]; then _ok=$((_ok + 1)); else _ok=0; fi
        [ $_ok -lt 2 ] && [ $(($(date +%s) - _t0)) -lt "$_bound" ] || break
        sleep 1
    done
    _waited=$(($(date +%s) - _t0))
    mv "$OUT_DIR/crash.state.tmp" "$OUT_DIR/crash.final.txt"
    if [ $_rc -eq 2 ] || [ ! -s "$OUT_DIR/crash.check.json" ]; then
        fail "crash ($_model): the state dumps and dead letters could be read after recovery"
        return 1
    fi
    jq --argjson w "$_waited" --argjson b "$_bound" --slurpfile load "$OUT_DIR/crash.load.json" \
        '. + {recovery_waited_s: $w, recovery_bound_s: $b,
              answers: $load[0].status, offered_rate: $load[0].offered_rate}' \
        "$OUT_DIR/crash.check.json" >"$OUT_DIR/crash.json"
    # All are in crash.violations.txt; up to 10 of each kind are shown.
    awk '/^violation: / && seen[$2]++ < 10 { print "# " $0 }' "$OUT_DIR/crash.violations.txt"
    tail -n 1 "$OUT_DIR/crash.violations.txt" | sed 's/^/# /'
    assert_num "crash ($_model): some orders were accepted" "$(jq .accepted "$OUT_DIR/crash.json")" ">" 0
    assert_eq "crash ($_model): no invariant violated after $_kills kills ($(jq -c .violations_by_kind "$OUT_DIR/crash.json"))" \
        0 "$(jq .violations "$OUT_DIR/crash.json")"
}

# The checker against hand-made states: a clean one passes, and each kind of
# breach is found and named.
phase_self_test() {
    _d=$(mktemp -d)
    printf 'stock\tburger\t10\nstock\tsoda\t10\n' >"$_d/initial"
    # o1 confirmed, o2 rejected, o3 failed and released.
    printf '%s\n' 'orders	o1	u1	t	burger:2	confirmed	notified' \
        'orders	o2	u2	t	soda:1	rejected	out_of_stock' 'orders	o3	u3	t	soda:3	failed	timeout' \
        'stock	burger	8' 'stock	soda	10' 'reservations	o1	reserved	burger:2	' \
        'reservations	o2	refused	soda:1	out_of_stock' 'reservations	o3	released	soda:3	released' \
        'notifications	o1	u1	hi' >"$_d/clean"
    printf 'o1\no2\n' >"$_d/accepted"
    : >"$_d/dlq"
    self() { # MODEL STATE [ACCEPTED [DLQ]]
        sh "$CHECK" --model "$1" --initial "$_d/initial" --state "$2" \
            --accepted "${3:-$_d/accepted}" --dlq "${4:-$_d/dlq}" >"$_d/out"
    }
    check "checker: a consistent sync state passes" self sync "$_d/clean"
    # Rows from before the load (a reservation made by hand) are not checked.
    printf 'reservations\tx0\treserved\tsoda:4\t\n' >>"$_d/initial"
    cp "$_d/clean" "$_d/before"
    printf 'reservations\tx0\treserved\tsoda:4\t\n' >>"$_d/before"
    check "checker: rows from before the load are left out" self sync "$_d/before"
    sed -i '/^reservations	x0/d' "$_d/initial"
    breach() { # KIND SED-SCRIPT [ACCEPTED-LINE [DLQ-LINE]]
        sed "$2" "$_d/clean" >"$_d/bad"
        printf 'o1\no2\n%s' "${3:-}" >"$_d/acc2"
        printf '%s' "${4:-}" >"$_d/dlq2"
        if self sync "$_d/bad" "$_d/acc2" "$_d/dlq2"; then
            fail "checker: finds '$1' (it passed)"
        else
            check "checker: finds '$1'" grep -q "^violation: $1: " "$_d/out"
        fi
    }
    breach lost 's/^orders	o2	.*//' ''
    breach lost 's/x/x/' 'o9
'
    breach pending 's/	failed	timeout/	pending	/'
    breach status 's/	rejected	/	shipped	/'
    breach reservation 's/^reservations	o1	reserved/reservations	o1	refused/;s/burger	8/burger	10/'
    breach notification '/^notifications	o1/d'
    breach notification 's/^notifications	o1	/notifications	o2	/'
    breach held 's/	o3	released	soda:3	released/	o3	reserved	soda:3	/;s/soda	10/soda	7/'
    breach orphan '$a\
reservations	o7	reserved	burger:1	'
    breach stock 's/burger	8/burger	9/'
    breach dlq 's/x/x/' '' 'inventory.order-placed.dlq	-
'
    # The answers the client got against the end state.
    answers() { # LINES...
        printf '%s\n' "$@" >"$_d/answers"
        sh "$CHECK" --model sync --initial "$_d/initial" --state "$_d/clean" --accepted "$_d/accepted" \
            --answers "$_d/answers" >"$_d/out"
    }
    check "checker: answers that agree with the end state pass" \
        answers "o1	201" "o2	409" "o3	504" "o4	503" "o5	timeout"
    answers "o1	201" "o2	201" && fail "checker: finds 'answer' (201 for a rejected order; it passed)"
    check "checker: finds 'answer' (201 for a rejected order)" grep -q '^violation: answer: order o2 ' "$_d/out"
    answers "o1	500" && fail "checker: finds 'answer' (500 for a confirmed order; it passed)"
    check "checker: finds 'answer' (500 for a confirmed order)" grep -q '^violation: answer: order o1 ' "$_d/out"
    # Stream: the outcome is the reservation; analytics must agree.
    printf '%s\n' 'orders	o1	u1	t	burger:2	accepted	' 'orders	o2	u2	t	soda:1	accepted	' \
        'stock	burger	8' 'stock	soda	10' 'reservations	o1	reserved	burger:2	' \
        'reservations	o2	refused	soda:1	out_of_stock' >"$_d/stream"
    echo '{"totals":{"orders":2,"reserved":1,"failed":1}}' >"$_d/an"
    check "checker: a consistent stream state passes" sh "$CHECK" --model stream \
        --initial "$_d/initial" --state "$_d/stream" --accepted "$_d/accepted" --analytics "$_d/an"
    echo '{"totals":{"orders":3,"reserved":1,"failed":2}}' >"$_d/an"
    sh "$CHECK" --model stream --initial "$_d/initial" --state "$_d/stream" --accepted "$_d/accepted" \
        --analytics "$_d/an" >"$_d/out"
    check "checker: finds 'analytics' (stream totals that disagree)" grep -q '^violation: analytics: ' "$_d/out"
    sed '/^reservations	o2/d' "$_d/stream" >"$_d/bad"
    sh "$CHECK" --model stream --initial "$_d/initial" --state "$_d/bad" --accepted "$_d/accepted" \
        --analytics "$_d/an" >"$_d/out"
    check "checker: finds 'pending' (stream order without an outcome)" grep -q '^violation: pending: ' "$_d/out"
    rm -rf "$_d"
}

phase_check() { # MODEL
    check_now "$1" 0
}

scenario_dispatch crash.sh "schedule start finish fault check self-test" "$@"
