#!/bin/sh
# The crash invariants, checked from state dumps alone (GET /dump or
# commlab-dump: tab-separated orders, stock, reservations, notifications).
#
#   sh check-invariants.sh --model sync|async|stream --initial DUMP --state DUMP
#       --accepted FILE [--dlq FILE] [--analytics METRICS_JSON
#       [--analytics-initial METRICS_JSON]] [--kills N] [--json OUT]
#
# --initial holds the services' dumps before the load (orders it lists are
# not checked: a lab that ran other scenarios first works too), --state the
# dumps after recovery, --accepted the order_ids the client saw answered 201/202
# (loadgen rest --accepted-file), --dlq one line per dead letter,
# "SOURCE<TAB>REASON" ("-" or empty: none), --analytics the analytics
# service's metrics.json (stream; --analytics-initial: before the load). Prints one "violation: KIND: ..." line per
# breach, then the figures; --json writes them as one object. Exits 1 on any
# violation, 2 on bad usage.
#
# An order's final state: sync confirmed|failed|rejected; async
# confirmed|rejected; stream (the order service keeps no outcome) its
# reservation, reserved, or refused or released (InventoryFailed: out of stock,
# or its message dead-lettered after its tries). Asserted:
#   lost          every accepted order has a row in orders
#   orders        and only one
#   pending       no order is without a final state
#   status        no order has a status the model does not know
#   reservation   confirmed => its reservation is held; at most one per order
#   notification  confirmed <=> exactly one notification (sync, async)
#   held          an order that is not confirmed holds no stock
#   orphan        no reservation or notification without its order
#   stock         per SKU, stock + held = initial stock + held
#   dlq           every dead letter has a reason
#   analytics     (stream) analytics counts each order once: its totals equal
#                 the orders and the reserved and refused reservations
set -u
usage() { sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
model='' initial='' state='' accepted='' dlq=/dev/null analytics='' analytics0='' kills=0 json=''
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
    --model) model=$2 ;;
    --initial) initial=$2 ;;
    --state) state=$2 ;;
    --accepted) accepted=$2 ;;
    --dlq) dlq=$2 ;;
    --analytics) analytics=$2 ;;
    --analytics-initial) analytics0=$2 ;;
    --kills) kills=$2 ;;
    --json) json=$2 ;;
    *) usage ;;
    esac
    shift 2
done
case $model in sync | async | stream) ;; *) usage ;; esac
for f in "$initial" "$state" "$accepted" "$dlq"; do
    [ -r "$f" ] || { echo "check-invariants: cannot read '$f'" >&2; exit 2; }
done
an_orders=-1 an_reserved=-1 an_failed=-1
if [ "$model" = stream ]; then
    [ -r "$analytics" ] || { echo "check-invariants: stream needs --analytics metrics.json" >&2; exit 2; }
    read -r an_orders an_reserved an_failed <<EOF
$(jq -r '.totals | "\(.orders) \(.reserved) \(.failed)"' "$analytics")
EOF
    if [ -n "$analytics0" ]; then
        read -r o r f <<EOF
$(jq -r '.totals | "\(.orders) \(.reserved) \(.failed)"' "$analytics0")
EOF
        an_orders=$((an_orders - o)) an_reserved=$((an_reserved - r)) an_failed=$((an_failed - f))
    fi
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# file=N before each operand says which input it is (empty files too).
LC_ALL=C awk -F '\t' -v model="$model" -v kills="$kills" \
    -v an_orders="$an_orders" -v an_reserved="$an_reserved" -v an_failed="$an_failed" '
function v(kind, text) { n[kind]++; total++; printf "violation: %s: %s\n", kind, text }
function split_add(items, to,    k, parts, kv) {
    k = split(items, parts, ",")
    for (; k > 0; k--) { split(parts[k], kv, ":"); to[kv[1]] += kv[2] }
}
# What was there before the load is not from this run: its orders are not
# checked, and the stock its reservations hold counts as initial.
file == 1 && $1 == "stock" { initial[$2] += $3; skus[$2] = 1 }
file == 1 && $1 == "reservations" && $3 == "reserved" { split_add($4, initial) }
file == 1 && $1 != "stock" && $2 != "" { before[$2] = 1 }
file == 2 && $1 == "reservations" && $3 == "reserved" { split_add($4, held) }
file == 2 && $2 in before { next }
file == 2 && $1 == "orders" {
    if ($2 in status) v("orders", "order " $2 " appears twice in the orders dump")
    status[$2] = $6; detail[$2] = $7; orders++
}
file == 2 && $1 == "stock" { stock[$2] = $3; skus[$2] = 1 }
file == 2 && $1 == "reservations" {
    if ($2 in res) v("reservation", "order " $2 " has two reservations")
    res[$2] = $3
}
file == 2 && $1 == "notifications" {
    if ($2 in note) v("notification", "order " $2 " was notified twice")
    note[$2]++
}
file == 3 && $1 != "" { if (!($1 in acc)) { acc[$1] = 1; accepted++ } }
file == 4 && $0 != "" {
    dead++
    if ($2 == "" || $2 == "-") v("dlq", "a dead letter in " $1 " has no reason: " $0)
}
END {
    if (model == "sync") { known = "^(pending|confirmed|failed|rejected)$"; open_s = "pending" }
    else if (model == "async") { known = "^(accepted|confirmed|rejected)$"; open_s = "accepted" }
    else known = "^accepted$"
    for (id in acc)
        if (!(id in status)) v("lost", "accepted order " id " has no row in orders")
    for (id in status) {
        s = status[id]
        r = (id in res) ? res[id] : "none"
        if (s !~ known) { v("status", "order " id " has status " s ", unknown in " model " mode"); continue }
        if (model == "stream") {
            # The outcome lives in inventory: reserved or refused.
            if (r == "none") v("pending", "order " id " has no outcome (no reservation) after recovery")
            else if (r == "reserved") reserved++
            else if (r == "refused" || r == "released") refused++
            else v("status", "order " id " has reservation status " r)
            continue
        }
        if (s == open_s) { v("pending", "order " id " is still " s " after recovery (reservation: " r ")"); continue }
        if (s == "confirmed") {
            if (r != "reserved") v("reservation", "confirmed order " id " holds no reservation (" r ")")
            if (!(id in note)) v("notification", "confirmed order " id " was never notified (" detail[id] ")")
        } else {
            if (r == "reserved") v("held", s " order " id " still holds stock")
            if (id in note) v("notification", s " order " id " was notified")
        }
    }
    for (id in res) if (!(id in status) && res[id] == "reserved")
        v("orphan", "stock held for order " id ", which the order service does not know")
    for (id in note) if (!(id in status))
        v("orphan", "notification for order " id ", which the order service does not know")
    for (k in skus)
        if (stock[k] + held[k] != initial[k])
            v("stock", sprintf("%s: stock %d + held %d = %d, initial %d", k, stock[k], held[k], stock[k] + held[k], initial[k]))
    if (model == "stream") {
        if (an_orders != orders) v("analytics", "analytics counts " an_orders " orders, the order service has " orders)
        if (an_reserved != reserved) v("analytics", "analytics counts " an_reserved " reserved, inventory holds " reserved)
        if (an_failed != refused) v("analytics", "analytics counts " an_failed " failed, inventory refused " refused)
    }
    kinds = ""
    for (k in n) kinds = kinds sprintf("%s\"%s\":%d", kinds == "" ? "" : ",", k, n[k])
    printf "figures\t%d\t%d\t%d\t%d\t%d\t{%s}\n", orders, accepted, kills, dead, total, kinds
}' file=1 "$initial" file=2 "$state" file=3 "$accepted" file=4 "$dlq" >"$out"
rc=$?
[ $rc -eq 0 ] || { echo "check-invariants: awk failed ($rc)" >&2; exit 2; }

grep '^violation: ' "$out" | LC_ALL=C sort
IFS='	' read -r _ orders acc k dead total kinds <<EOF
$(grep '^figures	' "$out")
EOF
echo "invariants ($model): orders $orders, accepted $acc, kills $k, dead letters $dead, violations $total"
if [ -n "$json" ]; then
    jq -n --arg model "$model" --argjson orders "$orders" --argjson accepted "$acc" \
        --argjson kills "$k" --argjson dead "$dead" --argjson violations "$total" \
        --argjson by_kind "$kinds" \
        '{model: $model, orders: $orders, accepted: $accepted, kills: $kills,
          dead_letters: $dead, violations: $violations, violations_by_kind: $by_kind}' >"$json"
fi
[ "$total" -eq 0 ]
