/* A service's /metrics: request counts by route and status, a latency
 * histogram per route, and named counters and gauges, in Prometheus text
 * format. Thread-safe. Routes and names are static strings of the caller's. */
#ifndef COMMLAB_METRICS_H
#define COMMLAB_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics;

struct metrics *metrics_new(const char *service);
void metrics_free(struct metrics *m);
void metrics_http_observe(struct metrics *m, const char *route, int status, uint64_t usec);
/* commlab_<name>, a counter that only grows. */
void metrics_count(struct metrics *m, const char *name, const char *help, uint64_t delta);
/* commlab_<name>, a gauge set to `value`. */
void metrics_gauge(struct metrics *m, const char *name, const char *help, double value);
char *metrics_render(struct metrics *m, size_t *len);

#endif
