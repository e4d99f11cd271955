#!/bin/sh
# The store's faults in the local lab (scenarios/store-faults.sh, and the
# crash-invariant checker of scenarios/crash.sh):
#   sh nixos-tests/local/store-faults.sh [sync|async|stream]
# Every service's database on a small filesystem of its own (a tmpfs, so
# root) that is filled, then freed. sync (default): writes refused with 503,
# Retry-After and a JSON body while full, on every service, a restart while
# full, every service writing again by itself; the final update failing on
# a lock held by sqlite3; recovery of pending orders through the breaker.
# async, stream: the disk fills under an open-loop load, a consumer is
# restarted while full, space comes back; every accepted order ends final
# once (the invariants), no answer is 500. Knob: DISK_MB (default 8).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
S="$here/../scenarios/store-faults.sh"
C="$here/../scenarios/crash.sh"
: "${DISK_MB:=8}"
case "${1:-sync}" in
-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
sync) model=sync services="order inventory notification" ;;
async) model=async services="order inventory notification" ;;
stream) model=stream services="order inventory analytics" ;;
*) echo "usage: store-faults.sh [sync|async|stream]" >&2; exit 2 ;;
esac

# Failures of this run only: the test command shares its counts with earlier suites.
failed_before=$(assert_failed_count)

lab_init || exit 1
# The order service's database on one small filesystem, the consumers' on
# another: with brokers, the consumers' disk fills while orders still come in.
DISK=$LAB_DIR/disk ODISK=$LAB_DIR/disk
mounted=
unmount() { for _m in $mounted; do umount "$_m"; done; }
trap 'lab_stop_all; unmount; rm -rf "$LAB_DIR"' EXIT
small_disk() {
    mkdir -p "$1"
    [ "$(id -u)" = 0 ] && mount -t tmpfs -o size="${DISK_MB}m" commlab-disk "$1" && mounted="$mounted $1"
}
[ $model = sync ] || ODISK=$LAB_DIR/order-disk
small_disk "$DISK" && { [ "$ODISK" = "$DISK" ] || small_disk "$ODISK"; } ||
    echo "# store-faults: skip - full disk: mounting a tmpfs needs root"
# The databases (and their logs) live on the small filesystems.
for s in $services; do
    if [ $s = order ]; then ln -s "$ODISK/$s.db" "$LAB_DIR/$s.db"; else ln -s "$DISK/$s.db" "$LAB_DIR/$s.db"; fi
done
OUT_DIR=$LAB_DIR/out LOADGEN=$COMMLAB_BIN/loadgen
export OUT_DIR LOADGEN
echo "# store-faults ($model): local lab in $LAB_DIR, databases on a ${DISK_MB} MiB tmpfs"

case $model in
sync)
    ORDER_ARGS="--inventory-max-inflight 1000" lab_start_rest || exit 1 ;;
async)
    . "$LIB/rabbitmq.sh"
    rabbitmq_start || exit 1
    lab_start_amqp || exit 1 ;;
stream)
    . "$LIB/kafka.sh"
    kafka_start || exit 1
    lab_start_kafka || exit 1 ;;
esac
check "store-faults ($model): the order database is on the small filesystem" test -f "$ODISK/order.db"

if [ $model = sync ]; then
    if [ -n "$mounted" ]; then
        sh "$S" fill "$DISK"
        sh "$S" full order "$ORDER_URL" /order
        sh "$S" full inventory "$INVENTORY_URL" /reserve
        sh "$S" full notification "$NOTIFICATION_URL" /send
        lab_kill order KILL
        lab_restart order || fail "full disk: the order service restarted while the disk is full"
        sh "$S" full order-restarted "$ORDER_URL" /order
        sh "$S" free "$DISK"
        sh "$S" back order "$ORDER_URL" /order
        sh "$S" back inventory "$INVENTORY_URL" /reserve
        sh "$S" back notification "$NOTIFICATION_URL" /send
        # With 2 MiB left, the logs fill the disk; once space is back, the
        # logs must not take it: 600 orders in a row (and after a restart).
        sh "$S" fill-leaving "$DISK" 2048
        DISK_DIR=$DISK sh "$S" sustained order-tight "$ORDER_URL" /order 600 any
        sh "$S" free "$DISK"
        DISK_DIR=$DISK sh "$S" sustained order "$ORDER_URL" /order 600
        lab_kill order KILL
        lab_restart order || fail "full disk: the order service restarted"
        DISK_DIR=$DISK sh "$S" sustained order-restarted "$ORDER_URL" /order 20
    fi
    sh "$S" final-update-locked "$DISK/order.db"
    sh "$S" pending-made 300
    lab_kill order KILL
    sh "$S" inventory-failing
    lab_restart order || fail "recovery: the order service restarted"
    sh "$S" recovery-breaker 300
    if [ -n "$mounted" ]; then
        # The disk full from 3 s to 9 s of a 40/s load: orders refused, final
        # updates failed (503 outcome_unknown) and finished by recovery; the
        # crash-invariant checker on the end state, no answer 500.
        sh "$C" start sync 40 12 1000000
        sleep 3
        sh "$S" fill "$DISK"
        sleep 6
        sh "$S" free "$DISK"
        sh "$C" finish sync 0 90
        assert_eq "full disk (sync): no order answered 500" null "$(jq '.answers["500"]' "$OUT_DIR/crash.json")"
        assert_num "full disk (sync): orders were refused 503 while full" \
            "$(jq '.answers["503"] // 0' "$OUT_DIR/crash.json")" -gt 0
    fi
    # A lock held on the order database for 7 s (over the 5 s busy timeout)
    # under load: inserts and final updates fail; no answer may contradict
    # the end state (the checker's answer invariant), none is 500.
    sh "$C" start sync 40 12 2000000
    sleep 3
    sh "$S" hold-lock "$ODISK/order.db" 7
    sh "$C" finish sync 0 90
    assert_eq "locked database (sync): no order answered 500" null "$(jq '.answers["500"]' "$OUT_DIR/crash.json")"
    assert_num "locked database (sync): orders answered 503 while locked" \
        "$(jq '.answers["503"] // 0' "$OUT_DIR/crash.json")" -gt 0
elif [ -n "$mounted" ]; then
    # The consumers' disk is full from 3 s to 9 s of a 12 s load (the
    # orders still accepted); inventory is killed and restarted while full.
    sh "$C" start "$model" 40 12 1000000
    sleep 3
    sh "$S" fill "$DISK"
    sleep 3
    lab_kill inventory KILL
    lab_restart inventory || fail "full disk ($model): inventory restarted while the disk is full"
    sleep 3
    sh "$S" free "$DISK"
    sh "$C" finish "$model" 1 60
    for s in $services; do
        [ $s = order ] && continue
        check "full disk ($model): $s found the disk full (its log)" grep -q 'the disk is full' "$LAB_DIR/$s.log"
    done
    assert_eq "full disk ($model): no order answered 500" null "$(jq '.answers["500"]' "$OUT_DIR/crash.json")"
    # Then the order service's own disk.
    sh "$S" fill "$ODISK"
    sh "$S" full order "$ORDER_URL" /order
    lab_kill order KILL
    lab_restart order || fail "full disk ($model): the order service restarted while the disk is full"
    sh "$S" full order-restarted "$ORDER_URL" /order
    sh "$S" free "$ODISK"
    sh "$S" back order "$ORDER_URL" /order
fi

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
[ "$(assert_failed_count)" -eq "$failed_before" ]
