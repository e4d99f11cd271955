#include "workload.h"

#include <string.h>

#include "util/rng.h"

/* Independent draws for one order: each (seed, index, slot) hashes on its
 * own. `seed_mix` is mix64(seed), computed once per order. */
static uint64_t draw(uint64_t seed_mix, uint64_t index, uint64_t slot)
{
    return mix64(seed_mix ^ mix64(index * 64 + slot + 0x5bd1e995u));
}

void workload_order(const struct workload *w, uint64_t index, struct order *o)
{
    memset(o, 0, sizeof *o);
    const uint64_t seed_mix = mix64(w->seed);
    char hex[17];
    /* mix64 is a bijection, so distinct indexes give distinct ids. */
    hex64(mix64(index ^ seed_mix), hex);
    o->order_id[0] = 'o';
    memcpy(o->order_id + 1, hex, sizeof hex);
    unsigned user = (unsigned)(draw(seed_mix, index, 0) % 500); /* "u000".."u499" */
    o->user_id[0] = 'u';
    o->user_id[1] = (char)('0' + user / 100);
    o->user_id[2] = (char)('0' + user / 10 % 10);
    o->user_id[3] = (char)('0' + user % 10);
    /* Strictly increasing in index, jittered within its own gap. */
    o->occurred_at = WORKLOAD_BASE_MS + (int64_t)index * WORKLOAD_GAP_MS +
                     (int64_t)(draw(seed_mix, index, 1) % WORKLOAD_GAP_MS);

    int sold_out = catalog_sold_out();
    int n_regular = (int)catalog_count() - 1;
    int want = 1 + (int)(draw(seed_mix, index, 2) % 3);
    for (int k = 0; o->n_items < want && k < 16; k++) {
        int pick = (int)(draw(seed_mix, index, 3 + (uint64_t)k) % (uint64_t)n_regular);
        int sku = pick >= sold_out ? pick + 1 : pick;
        int qty = 1 + (int)(draw(seed_mix, index, 20 + (uint64_t)k) % 3);
        (void)order_add_item(o, sku, qty); /* a repeated SKU is simply skipped */
    }
    if ((int)(draw(seed_mix, index, 40) % 100) < w->sold_out_pct)
        (void)order_add_item(o, sold_out, 1);
}
