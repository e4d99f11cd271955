# What the REST scenarios check of the chain's state, from the services'
# /dump (ORDER_URL, INVENTORY_URL); the last pair of dumps read is kept in
# $OUT_DIR/held.dump. Needs http.sh.

# Orders in status $1 in the order service's dump; "x" when it cannot be read.
orders_in() {
    http_get "$ORDER_URL/dump" | awk -F'\t' -v s="$1" '$1 == "orders" && $6 == s { n++ } END { print n + 0 }' ||
        echo x
}

# held_by is STATUS | held_by not STATUS: orders whose status is (or is not)
# STATUS and whose reservation inventory still holds; "x" when a dump
# cannot be read.
held_by() {
    { http_get "$ORDER_URL/dump" && http_get "$INVENTORY_URL/dump"; } >"$OUT_DIR/held.dump" ||
        { echo x; return; }
    awk -F'\t' -v op="$1" -v st="$2" '$1 == "orders" && (op == "is") == ($6 == st) { f[$2] = 1 }
        $1 == "reservations" && $3 == "reserved" { r[$2] = 1 }
        END { n = 0; for (k in f) if (k in r) n++; print n }' "$OUT_DIR/held.dump"
}
held_by_failed() { held_by is failed; }
held_by_unconfirmed() { held_by not confirmed; }
none_held_by_failed() { [ "$(held_by_failed)" = 0 ]; }
none_held_by_unconfirmed() { [ "$(held_by_unconfirmed)" = 0 ]; }
