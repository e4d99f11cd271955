/* analytics-service: consumes order-events and inventory-events (group
 * analytics-consumer-group, read_committed) and keeps orders per minute of
 * event time, failure rate and totals. Every event is kept once by event_id
 * in SQLite; the metrics are computed from that set, so they depend on the
 * events alone. Each topic gives only the types it carries (OrderPlaced on
 * order-events, outcomes on inventory-events); an event_id reused with other
 * content, or an outcome opposite to the one counted for its order, is a
 * conflict: logged with its reason, counted, never applied. */
#ifndef COMMLAB_ANALYTICS_SERVICE_H
#define COMMLAB_ANALYTICS_SERVICE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "metrics/metrics.h"
#include "store/analytics_store.h"
#include "util/worker.h"
#include "transport/http_server.h"
#include "transport/kafka_loop.h"

struct analytics {
    struct db db;
    struct analytics_store store;
    struct metrics *metrics;
    const char *db_path;
    const char *metrics_file;
    rd_kafka_t *rk;
    struct worker worker;
    struct kafka_loop loop;
    atomic_long throttle_ms;
    atomic_bool paused;
    atomic_bool failed; /* the consumer gave up: /healthz says so */
    /* For /stats: events consumed since start and when the first and the
     * latest batch were applied (a rebuild's rate, measured by itself). */
    atomic_ullong consumed;
    atomic_ullong first_us, last_us;
    /* --until-end: read by assignment up to the end offsets taken at start
     * (the partitions not read to yet; NULL otherwise), then stop. */
    bool until_end;
    rd_kafka_topic_partition_list_t *ends;
    atomic_bool reached; /* everything up to `ends` applied */
    /* Consumer thread only. */
    struct event *evs;
    const rd_kafka_message_t **srcs; /* the message each of evs came from */
    unsigned char *verdicts;         /* enum analytics_verdict of each of evs */
    /* Messages of the batch to dead-letter (malformed, on the wrong topic, in
     * conflict) and why; produced to KAFKA_TOPIC_ANALYTICS_DLQ once the batch
     * is stored. NULL producer for --until-end: a replay sends none again. */
    struct analytics_dead {
        const rd_kafka_message_t *m;
        char reason[224];
    } * dead;
    size_t n_dead;
    rd_kafka_t *dlq;
    atomic_ullong dlq_failed; /* deliveries the broker refused (delivery reports) */
    bool dirty;
    uint64_t last_gauges;
};

/* consumer.c: subscribes and starts the consumer worker; 0 or -1 (logged).
 * until_end: reads by assignment instead, from the start of the log
 * (from_start) or from the group's committed offsets, to the end. */
int analytics_consumer_start(struct analytics *a, const char *brokers, bool until_end,
                             bool from_start);
/* Stops it: commits what it applied and writes the metrics file. */
void analytics_consumer_stop(struct analytics *a);
/* Writes the canonical metrics document to --metrics-file atomically. */
int analytics_write_metrics_file(struct analytics *a);

/* api.c: GET /metrics.json, /stats, POST /configure and the common routes. */
void analytics_api_handle(void *ctx, const struct http_request *req, struct http_response *res);

#endif
