#!/bin/sh
# The store's faults in the local lab, synchronous chain (scenarios/store-faults.sh):
# every service's database on a small filesystem of its own (tmpfs, as root)
# that is filled, then freed: writes refused with 503 and Retry-After while
# full, a restart while full, every service writing again by itself; the
# final update failing on a lock; recovery of pending orders through the
# breaker. Knob: DISK_MB (the filesystem's size). Needs root for the mount;
# without it the full-disk part is skipped (said so).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
S="$here/../scenarios/store-faults.sh"
: "${DISK_MB:=8}"
case "${1:-}" in -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

lab_init || exit 1
DISK=$LAB_DIR/disk
mkdir -p "$DISK"
mounted=0
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size="${DISK_MB}m" commlab-disk "$DISK"; then
    mounted=1
else
    echo "# store-faults: skip - full disk: mounting a tmpfs needs root"
fi
trap 'lab_stop_all; [ $mounted = 0 ] || umount "$DISK"; rm -rf "$LAB_DIR"' EXIT
# The databases (and their logs) live on the small filesystem.
for s in order inventory notification; do ln -s "$DISK/$s.db" "$LAB_DIR/$s.db"; done
ORDER_ARGS="--inventory-max-inflight 1000 --inventory-timeout-ms 3000" lab_start_rest || exit 1
OUT_DIR=$LAB_DIR/out
export OUT_DIR
echo "# store-faults: local lab in $LAB_DIR, databases on a ${DISK_MB} MiB tmpfs"

check "the order database is on the small filesystem" test -f "$DISK/order.db"
if [ $mounted = 1 ]; then
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
fi

sh "$S" final-update-locked "$DISK/order.db"

sh "$S" pending-made 300
lab_kill order KILL
sh "$S" inventory-failing
lab_restart order || fail "recovery: the order service restarted"
sh "$S" recovery-breaker 300

if [ -n "${LAB_CHECK_LOGS:-}" ]; then
    lab_stop_all
    lab_check_logs
fi
assert_summary
