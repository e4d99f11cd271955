#!/bin/sh
# The store's faults, synchronous chain, one phase per call:
#   fill DISK_DIR                take every free byte of the filesystem at DISK_DIR
#   fill-leaving DISK_DIR KB     the same, but for KB
#   sustained NAME URL PATH N [any]  N writes in a row succeed (any: counted only)
#   full NAME URL PATH           while full: writes to URL's PATH get 503 with
#                                Retry-After and a JSON body; none 500; nothing stored
#   free DISK_DIR                give the space back
#   back NAME URL PATH [SECONDS] the service writes again by itself
#   hold-lock DB SECONDS         a write lock held by sqlite3 on DB
#   final-update-locked DB       the order's final update fails (a lock on the
#                                order database held by sqlite3): the answer is
#                                503 "outcome unknown", and a retry with the
#                                order_id converges on the state the system ends in
#   pending-made N               N orders stored pending (inventory hangs);
#                                the caller then kills -9 the order service
#   recovery-breaker N           after the restart, inventory failing: recovery's
#                                calls are bounded by the breaker, counted, carry
#                                the deadline; the orders wait, then end confirmed
# Environment: ORDER_URL, INVENTORY_URL, NOTIFICATION_URL, OUT_DIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/assert.sh"
. "$here/../lib/http.sh"
. "$here/../lib/rest-state.sh"
: "${OUT_DIR:?OUT_DIR must name a directory for results}"
mkdir -p "$OUT_DIR"

body_for() { # PATH ORDER_ID
    case $1 in
    /order) printf '{"order_id":"%s","user_id":"u1","items":[{"sku":"burger","qty":1}]}' "$2" ;;
    *) printf '{"order_id":"%s","user_id":"u1","items":[{"sku":"soda","qty":1}]}' "$2" ;;
    esac
}

# post URL PATH ID: the status; the headers in $OUT_DIR/post.headers.
post() {
    body_for "$2" "$3" | curl -s -o "$HTTP_BODY_FILE" -D "$OUT_DIR/post.headers" -w '%{http_code}' \
        -X POST -H 'Content-Type: application/json' --data-binary @- --max-time 30 "$1$2"
}

phase_fill() { # DISK_DIR
    # dd stops at ENOSPC; a second file takes what the first left in a block.
    dd if=/dev/zero of="$1/filler" bs=64k 2>/dev/null
    dd if=/dev/zero of="$1/filler2" bs=512 2>/dev/null
    assert_eq "full disk: no space left on $1" 0 "$(df -P "$1" | awk 'NR == 2 { print $4 }')"
}

# All but KB of the free space taken: the databases' logs grow into the rest.
phase_fill_leaving() { # DISK_DIR KB
    _avail=$(df -k -P "$1" | awk 'NR == 2 { print $4 }')
    dd if=/dev/zero of="$1/filler" bs=1k count=$((_avail - $2)) 2>/dev/null
    assert_num "full disk: $2 KiB left on $1" "$(df -k -P "$1" | awk 'NR == 2 { print $4 }')" -le "$2"
}

# N writes in a row succeed: the room freed holds their data many times
# over, so a refusal is the log taking it (a log never moved into the
# database, or moved and never truncated).
phase_sustained() { # NAME URL PATH N [any]
    _ok=0 _i=0
    while [ $_i -lt "$4" ]; do
        _i=$((_i + 1))
        case $(post "$2" "$3" "$(printf 'sus-%s-%s-%04d' "$1" "$$" "$_i")") in 2??) _ok=$((_ok + 1)) ;; esac
    done
    echo "# $1 $3: $_ok of $4 writes stored; $(df -k -P "${DISK_DIR:-.}" | awk 'NR == 2 { print $5 }') of the disk used"
    [ "${5:-}" = any ] || assert_eq "space back: $1 $3: $4 writes in a row succeed" "$4" "$_ok"
}

phase_free() { # DISK_DIR
    rm -f "$1/filler" "$1/filler2"
}

# Writes until ten in a row are refused: a log that had room takes a few
# first. Every answer is a success or 503; each 503 says storage_full with
# Retry-After, and nothing of its order is stored.
phase_full() { # NAME URL PATH
    _n=$1 _u=$2 _p=$3 _row=0 _i=0 _500=0 _bad=0
    : >"$OUT_DIR/full.$_n.refused"
    while [ $_row -lt 10 ] && [ $_i -lt 3000 ]; do
        _i=$((_i + 1))
        _id=$(printf 'full-%s-%s-%04d' "$_n" "$$" "$_i")
        _c=$(post "$_u" "$_p" "$_id")
        case $_c in
        503)
            _row=$((_row + 1))
            echo "$_id" >>"$OUT_DIR/full.$_n.refused"
            grep -qiE '^retry-after: [0-9]+' "$OUT_DIR/post.headers" &&
                [ "$(jq -r .error "$HTTP_BODY_FILE" 2>/dev/null)" = storage_full ] || _bad=$((_bad + 1)) ;;
        2??) _row=0 ;;
        *) _500=$((_500 + 1)) ;;
        esac
    done
    echo "# full disk: $_n $_p: $_i writes, the last $_row refused"
    assert_eq "full disk: $_n $_p refused ten writes in a row (503)" 10 "$_row"
    assert_eq "full disk: $_n $_p: no answer but a success or 503" 0 "$_500"
    assert_eq "full disk: $_n $_p: every 503 says storage_full, with Retry-After" 0 "$_bad"
    http_get "$_u/dump" >"$OUT_DIR/full.$_n.dump"
    _stored=$(awk -F'\t' 'NR == FNR { r[$1] = 1; next } ($2 in r) { n++ } END { print n + 0 }' \
        "$OUT_DIR/full.$_n.refused" "$OUT_DIR/full.$_n.dump")
    assert_eq "full disk: $_n: nothing stored of a refused write" 0 "$_stored"
}

phase_back() { # NAME URL PATH [SECONDS]
    _n=$1 _u=$2 _p=$3 _t0=$(date +%s)
    _ok() { case $(post "$_u" "$_p" "back-$_n-$$-$(date +%s%N)") in 2??) true ;; *) false ;; esac; }
    wait_until "${4:-30}" _ok
    assert_eq "space back: $_n $_p writes again by itself (within ${4:-30} s)" 0 $?
    echo "# space back: $_n wrote again after $(($(date +%s) - _t0)) s"
    _all=0
    for _i in 1 2 3 4 5 6 7 8 9 10; do
        case $(post "$_u" "$_p" "back-$_n-$$-$_i") in 2??) _all=$((_all + 1)) ;; esac
    done
    assert_eq "space back: $_n $_p: ten more writes succeed" 10 "$_all"
}

# The final update waits on a write lock an sqlite3 process holds for longer
# than the busy timeout, while inventory takes its time: it fails.
phase_final_update_locked() { # ORDER_DB
    _id=locked-$$
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":1000,"mode":"none"}' >/dev/null
    post "$ORDER_URL" /order "$_id" >"$OUT_DIR/locked.code" &
    _curl=$!
    wait_until 5 sh -c "curl -sf '$ORDER_URL/orders/$_id' >/dev/null"
    { echo 'BEGIN IMMEDIATE;'; sleep 7; echo 'COMMIT;'; } | sqlite3 "$1" &
    _lock=$!
    wait "$_curl"
    _c=$(cat "$OUT_DIR/locked.code")
    _answer=$(jq -r '.error // .status' "$HTTP_BODY_FILE")
    wait "$_lock"
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null
    echo "# final update locked: answered $_c ($_answer)"
    assert_eq "final update failed: the answer is 503 outcome_unknown" "503 outcome_unknown" "$_c $_answer"
    _final() { [ "$(curl -sf "$ORDER_URL/orders/$_id" | jq -r .status)" != pending ]; }
    wait_until 15 _final
    _state=$(curl -sf "$ORDER_URL/orders/$_id" | jq -r .status)
    _c=$(post "$ORDER_URL" /order "$_id")
    _retry=$(jq -r .status "$HTTP_BODY_FILE")
    assert_eq "final update failed: a retry with the order_id gets the state the order ended in" \
        "200 $_state" "$_c $_retry"
    assert_eq "final update failed: the order ended confirmed" confirmed "$_state"
}

# A write lock on DB, held by an sqlite3 process for SECONDS: every write of
# the service waits, and those that wait longer than its busy timeout fail.
phase_hold_lock() { # DB SECONDS
    { echo 'BEGIN IMMEDIATE;'; sleep "$2"; echo 'COMMIT;'; } | sqlite3 "$1"
}

reserve_calls() {
    curl -sf "$INVENTORY_URL/metrics" |
        awk '/^commlab_http_request_duration_seconds_count\{.*route="\/reserve"/ { n += $2 } END { print n + 0 }'
}

# N orders stored pending: inventory hangs, the clients give up.
phase_pending_made() { # N
    http_code POST "$INVENTORY_URL/configure" '{"mode":"hang"}' >/dev/null
    _i=0
    while [ "$_i" -lt "$1" ]; do
        _i=$((_i + 1))
        post "$ORDER_URL" /order "$(printf 'rec-%s-%04d' "$$" "$_i")" >/dev/null &
    done
    _all() { [ "$(orders_in pending)" -ge "$1" ]; }
    wait_until 30 _all "$1"
    assert_num "recovery: $1 orders stored pending" "$(orders_in pending)" -ge "$1"
}

# Inventory fails from now on (the order service is down).
phase_inventory_failing() {
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"error"}' >/dev/null
    sleep 0.5 # the calls that hung end
    echo "$(reserve_calls) $(metric "$INVENTORY_URL" reserve_deadline_given_total)" >"$OUT_DIR/calls0"
}

phase_recovery_breaker() { # N (the order service restarted since inventory-failing)
    _n=$1
    read -r _calls0 _dl0 <"$OUT_DIR/calls0"
    sleep 6
    _calls=$(($(reserve_calls) - _calls0))
    _dl=$(($(metric "$INVENTORY_URL" reserve_deadline_given_total) - _dl0))
    _counted=$(metric "$ORDER_URL" inventory_calls_total)
    echo "# recovery, inventory failing for 6 s: $_calls /reserve calls for $_n pending orders," \
        "$_dl with a deadline, $_counted counted; $(orders_in failed) failed"
    assert_num "recovery: its calls at a failing inventory are bounded by the breaker" "$_calls" -le 20
    assert_num "recovery: it called inventory" "$_calls" -ge 1
    assert_eq "recovery: each call carried the deadline header" "$_calls" "$_dl"
    assert_eq "recovery: each call counted in inventory_calls_total" "$_calls" "$_counted"
    assert_eq "recovery: no order failed for it; they wait" 0 "$(orders_in failed)"
    http_code POST "$INVENTORY_URL/configure" '{"delay_ms":0,"mode":"none"}' >/dev/null
    _none() { [ "$(orders_in pending)" = 0 ]; }
    wait_until 60 _none
    assert_eq "recovery: none left pending once inventory is back" 0 "$(orders_in pending)"
    assert_num "recovery: the orders ended confirmed" "$(orders_in confirmed)" -ge "$_n"
    assert_eq "recovery: no order failed" 0 "$(orders_in failed)"
    wait_until 20 none_held_by_unconfirmed
    assert_eq "recovery: no order but a confirmed one holds stock" 0 "$(held_by_unconfirmed)"
}

scenario_dispatch store-faults.sh \
    "fill fill-leaving sustained full free back hold-lock final-update-locked pending-made inventory-failing recovery-breaker" "$@"
