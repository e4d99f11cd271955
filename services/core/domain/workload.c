#include "workload.h"

#include <stdio.h>
#include <string.h>

#include "../util/rng.h"

/* Independent draws for one order: each (seed, index, slot) hashes on its own. */
static uint64_t draw(const struct workload *w, uint64_t index, uint64_t slot)
{
    return mix64(mix64(w->seed) ^ mix64(index * 64 + slot + 0x5bd1e995u));
}

void workload_order(const struct workload *w, uint64_t index, struct order *o)
{
    memset(o, 0, sizeof *o);
    char hex[17];
    /* mix64 is a bijection, so distinct indexes give distinct ids. */
    hex64(mix64(index ^ mix64(w->seed)), hex);
    snprintf(o->order_id, sizeof o->order_id, "o%s", hex);
    snprintf(o->user_id, sizeof o->user_id, "u%03u", (unsigned)(draw(w, index, 0) % 500));
    /* Strictly increasing in index, jittered within its own gap. */
    o->occurred_at = WORKLOAD_BASE_MS + (int64_t)index * WORKLOAD_GAP_MS +
                     (int64_t)(draw(w, index, 1) % WORKLOAD_GAP_MS);

    int sold_out = catalog_sold_out();
    int n_regular = (int)catalog_count() - 1;
    int want = 1 + (int)(draw(w, index, 2) % 3);
    for (int k = 0; o->n_items < want && k < 16; k++) {
        int pick = (int)(draw(w, index, 3 + (uint64_t)k) % (uint64_t)n_regular);
        int sku = pick >= sold_out ? pick + 1 : pick;
        int qty = 1 + (int)(draw(w, index, 20 + (uint64_t)k) % 3);
        (void)order_add_item(o, sku, qty); /* a repeated SKU is simply skipped */
    }
    if ((int)(draw(w, index, 40) % 100) < w->sold_out_pct)
        (void)order_add_item(o, sold_out, 1);
}
