/* What a load run measured, and how it is shown: a table for people, one
 * JSON line for scripts. Every driver's JSON comes from here, so the same
 * thing has the same key in all of them: label, driver, duration_s (wall
 * time of what was timed), rate_per_s (what was counted, per second of
 * duration_s), latency_ms {p50, p95, p99, max, mean}. */
#ifndef COMMLAB_LOADGEN_REPORT_H
#define COMMLAB_LOADGEN_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics/histogram.h"

#define REPORT_MAX_STATUS 600

struct run_stats {
    struct histogram latency; /* microseconds */
    uint64_t status[REPORT_MAX_STATUS];
    uint64_t timeouts;
    uint64_t unreachable;
    uint64_t late_starts; /* open loop: requests sent after their scheduled time */
};

struct run_info {
    const char *label;
    const char *driver; /* "rest", ... */
    const char *target; /* what was driven, e.g. "POST /order" */
    const char *url;
    bool open_loop;
    uint64_t requests;
    unsigned concurrency;
    double rate; /* open loop: requested arrivals per second */
    uint64_t seed;
    uint64_t start_index;
    double duration_s; /* wall time of the whole run */
    /* --follow: accepted-to-final latency (NULL when not followed). */
    const char *follow;
    const struct histogram *final; /* microseconds */
    uint64_t followed, unfinished;
    double final_duration_s; /* start to the last outcome seen */
    /* Wall-clock time of the start (0: unknown), which --trace times count from. */
    int64_t start_unix_ms;
};

int run_stats_init(struct run_stats *s);
void run_stats_free(struct run_stats *s);
void run_stats_merge(struct run_stats *into, const struct run_stats *from);
uint64_t run_stats_ok(const struct run_stats *s); /* 2xx answers */
uint64_t run_stats_total(const struct run_stats *s);

void report_table(const struct run_info *info, const struct run_stats *s);
/* One JSON object on one line. */
int report_json(const struct run_info *info, const struct run_stats *s);

/* The other drivers' JSON line: report_begin (label, driver), the driver's
 * own keys, report_add_rate and report_add_latency, then report_print. */
struct cJSON;
struct cJSON *report_begin(const char *label, const char *driver);
/* duration_s, and rate_per_s: `count` per second of it (0 for no time). */
void report_add_rate(struct cJSON *root, double count, double duration_s);
void report_add_latency(struct cJSON *root, const struct histogram *h);
/* Prints `root` on one line and frees it: 0, or -1 (out of memory). */
int report_print(struct cJSON *root);

#endif
