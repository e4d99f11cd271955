#include "histogram.h"

#include <stdlib.h>
#include <string.h>

#define SUB_BITS 10
#define SUB (1u << SUB_BITS)
#define HALF (SUB / 2)
#define MAX_BITS 40
#define NBUCKETS (SUB + (MAX_BITS - SUB_BITS + 1) * HALF)
#define MAX_VALUE ((UINT64_C(1) << MAX_BITS) - 1)

static unsigned msb(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

static size_t bucket_of(uint64_t v)
{
    if (v < SUB)
        return (size_t)v;
    unsigned e = msb(v) - SUB_BITS + 1;
    uint64_t m = v >> e;
    return SUB + (size_t)(e - 1) * HALF + (size_t)(m - HALF);
}

/* Lowest value of bucket b, and its width. */
static void bucket_range(size_t b, uint64_t *low, uint64_t *width)
{
    if (b < SUB) {
        *low = b;
        *width = 1;
        return;
    }
    size_t k = b - SUB;
    unsigned e = (unsigned)(k / HALF) + 1;
    uint64_t m = HALF + k % HALF;
    *low = m << e;
    *width = UINT64_C(1) << e;
}

int histogram_init(struct histogram *h)
{
    memset(h, 0, sizeof *h);
    h->counts = calloc(NBUCKETS, sizeof h->counts[0]);
    return h->counts ? 0 : -1;
}

void histogram_free(struct histogram *h)
{
    free(h->counts);
    h->counts = NULL;
}

void histogram_record(struct histogram *h, uint64_t us)
{
    if (us > MAX_VALUE)
        us = MAX_VALUE;
    h->counts[bucket_of(us)]++;
    if (h->total == 0 || us < h->min)
        h->min = us;
    if (us > h->max)
        h->max = us;
    h->total++;
    h->sum += us;
}

void histogram_merge(struct histogram *into, const struct histogram *from)
{
    if (from->total == 0)
        return;
    for (size_t i = 0; i < NBUCKETS; i++)
        into->counts[i] += from->counts[i];
    if (into->total == 0 || from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->total += from->total;
    into->sum += from->sum;
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
    if (h->total == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->total);
    if ((double)rank < q * (double)h->total)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            uint64_t low, width;
            bucket_range(b, &low, &width);
            uint64_t mid = low + width / 2;
            if (mid > h->max)
                mid = h->max;
            if (mid < h->min)
                mid = h->min;
            return mid;
        }
    }
    return h->max;
}

double histogram_mean(const struct histogram *h)
{
    return h->total ? (double)h->sum / (double)h->total : 0.0;
}
