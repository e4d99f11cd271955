/* The seeded workload: order i of seed s is the same on every machine, in
 * every model, whichever worker generates it and in whatever order. */
#ifndef COMMLAB_WORKLOAD_H
#define COMMLAB_WORKLOAD_H

#include <stdint.h>

#include "order.h"

/* Lunch time on the day the assignment was due: event time starts here. */
#define WORKLOAD_BASE_MS INT64_C(1771414200000) /* 2026-02-18T11:30:00.000Z */
/* Mean event-time gap between consecutive orders: 600 orders a minute. */
#define WORKLOAD_GAP_MS 100

struct workload {
    uint64_t seed;
    int sold_out_pct; /* share of orders that include CATALOG_SOLD_OUT */
};

void workload_order(const struct workload *w, uint64_t index, struct order *out);

#endif
