#ifndef COMMLAB_INVENTORY_SERVICE_H
#define COMMLAB_INVENTORY_SERVICE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "domain/fault.h"
#include "metrics/metrics.h"
#include "store/db.h"
#include "store/stock_store.h"
#include "transport/http_server.h"

struct amqp_inventory;

struct inventory_service {
    struct db db;
    struct stock_store stock;
    struct metrics *metrics;
    const char *db_path;
    atomic_long fault_delay_ms;
    atomic_int fault_mode;           /* enum fault_mode */
    struct amqp_inventory *consumer; /* amqp mode: the consumer's state */
    struct inventory_kafka *kafka;   /* kafka mode: the consumer's state */
    /* kafka mode (POST /configure {"throttle_ms":N,"paused":bool}): a pause
     * per event, consumption paused, and whether the consumer gave up
     * (fenced or a fatal producer error: /healthz answers 500). */
    atomic_long stream_throttle_ms;
    atomic_bool stream_paused;
    atomic_bool stream_failed;
};

/* Kafka mode's settings (--throttle-ms, --paused, --transactional-id). */
struct inventory_kafka_options {
    long throttle_ms;
    bool paused;
    const char *transactional_id;
};

/* Part B (amqp_consumer.c): consume OrderPlaced, reserve, publish the outcome.
 * Runs in the background next to the HTTP API; 0 on success. */
int inventory_amqp_start(struct inventory_service *svc, const char *amqp_url);
void inventory_amqp_stop(struct inventory_service *svc);
/* Part C (kafka_consumer.c): consume-process-produce in Kafka transactions. */
int inventory_kafka_start(struct inventory_service *svc, const char *brokers,
                          const struct inventory_kafka_options *o);
void inventory_kafka_stop(struct inventory_service *svc);

void inventory_api_handle(void *ctx, const struct http_request *req, struct http_response *res);

#endif
