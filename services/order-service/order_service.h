/* The order service's state, shared by its HTTP API and its modes. */
#ifndef COMMLAB_ORDER_SERVICE_H
#define COMMLAB_ORDER_SERVICE_H

#include "../core/metrics/metrics.h"
#include "../core/store/db.h"
#include "../core/store/order_store.h"
#include "../core/store/outbox.h"
#include "../transport/http_server.h"

enum order_mode {
    MODE_SYNC,   /* call inventory and notification over HTTP, answer 201 */
    MODE_ASYNC,  /* store order + OrderPlaced in the outbox, answer 202; relay to RabbitMQ */
    MODE_STREAM, /* store order + OrderPlaced in the outbox, answer 202; relay to Kafka */
};

struct release_relay;

struct order_service {
    enum order_mode mode;
    struct db db;
    struct order_store orders;
    struct outbox outbox;
    struct metrics *metrics;
    const char *db_path;
    /* sync mode */
    char reserve_url[512];
    char release_url[512];
    char send_url[512];
    long inventory_timeout_ms;
    long notification_timeout_ms;
    /* sync: delivers releases of failed orders to inventory (release_relay.c) */
    struct release_relay *releases;
    /* async/stream: the relay publishing the outbox (amqp_relay.c, kafka_relay.c) */
    void *relay;
};

/* Part A: sends the releases the chain stores in the outbox to inventory's
 * POST /release, in the background, until each is answered 200. */
int release_relay_start(struct order_service *svc);
/* Wakes the thread at once (a release was just stored). */
void release_relay_kick(struct order_service *svc);
void release_relay_stop(struct order_service *svc);

/* Part B: publishes the outbox to RabbitMQ with publisher confirms, in the
 * background; stop waits for the relay thread. 0 on success. */
int amqp_relay_start(struct order_service *svc, const char *amqp_url);
void amqp_relay_stop(struct order_service *svc);
/* Part C: publishes the outbox to Kafka with an idempotent producer. */
int kafka_relay_start(struct order_service *svc, const char *brokers);
void kafka_relay_stop(struct order_service *svc);

void order_api_handle(void *ctx, const struct http_request *req, struct http_response *res);

/* Places a validated order (ids and event time filled in) and answers. */
void sync_place_order(struct order_service *svc, const struct order *o, struct http_response *res);
void outbox_place_order(struct order_service *svc, const struct order *o,
                        struct http_response *res);

/* Answers with the stored order when a client repeats an order_id. */
void order_answer_existing(const struct order_record *rec, struct http_response *res);

#endif
