/* A log-linear latency histogram in microseconds: exact below 1024 us, then
 * 512 buckets per power of two (under 0.2% error), up to 2^40 us. Percentiles
 * come from it, never from a mean. Not thread-safe: keep one per thread and
 * merge. */
#ifndef COMMLAB_HISTOGRAM_H
#define COMMLAB_HISTOGRAM_H

#include <stdint.h>

struct histogram {
    uint64_t *counts;
    uint64_t total;
    uint64_t sum;
    uint64_t min;
    uint64_t max;
};

int histogram_init(struct histogram *h);
void histogram_free(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t us);
void histogram_merge(struct histogram *into, const struct histogram *from);
/* The value at quantile q in [0,1] (0 when empty): the middle of its bucket,
 * never above the largest value seen. */
uint64_t histogram_quantile(const struct histogram *h, double q);
double histogram_mean(const struct histogram *h);

#endif
