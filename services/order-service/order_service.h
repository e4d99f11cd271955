/* The order service's state, shared by its HTTP API and its modes. */
#ifndef COMMLAB_ORDER_SERVICE_H
#define COMMLAB_ORDER_SERVICE_H

#include "metrics/metrics.h"
#include "runtime/mode.h"
#include "store/db.h"
#include "store/order_store.h"
#include "store/outbox.h"
#include <stdatomic.h>

#include "util/breaker.h"
#include "transport/http_async.h"
#include "transport/http_server.h"

/* Part A: the bulkhead and circuit breaker in front of inventory
 * (inventory_guard.c). */
struct inventory_guard {
    struct breaker breaker;
    atomic_long inflight; /* orders waiting on inventory: the bulkhead's count */
    atomic_long chains;   /* orders admitted and not yet answered */
    long limit;           /* orders waiting on inventory at most; 0: no bound */
};

enum admission { ADMIT_OK, ADMIT_OVERLOADED, ADMIT_CIRCUIT_OPEN, ADMIT_STOPPING };
enum call_outcome { CALL_NOT_MADE, CALL_OK, CALL_FAILED };

struct amqp_side;
struct http_outbox_relay;
struct kafka_outbox_relay;
struct sync_recovery;

struct order_service {
    /* sync: call inventory and notification over HTTP, answer 201; async,
     * stream: store order + OrderPlaced in the outbox, answer 202, relay it
     * to RabbitMQ or Kafka */
    enum service_mode mode;
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
    /* sync: the relays delivering releases of failed orders to inventory and
     * notifications of confirmed ones (transport/http_outbox.h, wired in
     * http_relay.c); the worker driving
     * orders left pending to a final state (sync_recovery.c) */
    struct http_outbox_relay *releases, *notifications;
    struct sync_recovery *recovery;
    /* sync: the non-blocking client of the chain's calls, and its guard */
    struct http_async *client;
    struct inventory_guard guard;
    pthread_mutex_t running_mu; /* the chains in flight (sync_chain.c) */
    struct chain *running;
    struct breaker_config breaker_cfg;
    /* async: the outbox relay and the outcome consumer (amqp_relay.c) */
    struct amqp_side *amqp;
    /* stream: the outbox relay (transport/kafka_outbox.h) */
    struct kafka_outbox_relay *kafka;
};

/* Part A: the outbox destinations of the chain. */
#define RELEASE_DESTINATION "inventory.release"
#define NOTIFY_DESTINATION "notification.send"

/* Part A: deliver what the chain stores in the outbox, in the background,
 * each until answered 200: releases to inventory's POST /release,
 * notifications to notification's POST /send. */
int http_relays_start(struct order_service *svc);
void http_relays_stop(struct order_service *svc);

/* What an admitted order holds of the guard: a place among the orders in
 * flight towards inventory (until its call's outcome) and among the chains
 * (until it is answered); maybe the breaker's probe. */
struct guard_ticket {
    bool probe;
    bool calling; /* still counted in flight towards inventory */
};

void inventory_guard_init(struct order_service *svc, const struct breaker_config *cfg);
void inventory_guard_destroy(struct order_service *svc);
/* May an order call inventory now? ADMIT_OK fills the ticket, which
 * inventory_guard_leave gives back. */
enum admission inventory_guard_admit(struct order_service *svc, struct guard_ticket *t,
                                     unsigned *retry_after_s);
void inventory_guard_called(struct order_service *svc);
/* The inventory call's outcome: the ticket leaves the orders in flight (the
 * breaker counts it); once, later calls do nothing. */
void inventory_guard_done(struct order_service *svc, struct guard_ticket *t,
                          enum call_outcome outcome);
/* An admitted order is answered: gives back all the ticket still holds (a
 * call never made is not counted by the breaker). */
void inventory_guard_leave(struct order_service *svc, struct guard_ticket *t);
long inventory_guard_chains(struct order_service *svc);
/* The 503 for an order not admitted; nothing was stored for it. */
void inventory_guard_refuse(enum admission why, unsigned retry_after_s, struct http_response *res);
/* Starts the chain's client; sync_chain_drain waits for the orders in flight
 * (refusing new ones) and stops it, before the HTTP server stops. */
int sync_chain_start(struct order_service *svc);
void sync_chain_drain(struct order_service *svc);
void sync_chain_stop(struct order_service *svc);

/* Part A: drives orders left pending (in flight when the service stopped, or
 * whose final update failed) to a final state in the background. */
int sync_recovery_start(struct order_service *svc);
void sync_recovery_stop(struct order_service *svc);
/* Recovery drives a stored pending order through the same chain as a
 * client's, and the same admission, breaker, deadline and metrics:
 * sync_chain_resume admits it (else returns why, and *retry_after_s, with
 * nothing started) and starts its calls; `done(ctx, c)` runs when they have
 * ended, on the client's event loop, which must not block: it hands `c` to a
 * thread that may, which calls sync_chain_finish (stores the final state:
 * 0, 1 finished by someone else first, -1 the store failed,
 * SYNC_CHAIN_LEFT_PENDING inventory failed or did not answer: asked again
 * later) or sync_chain_abandon (stopping: the order stays pending). */
struct chain;
typedef void (*sync_chain_done_fn)(void *ctx, struct chain *c);
#define SYNC_CHAIN_LEFT_PENDING 2
enum admission sync_chain_resume(struct order_service *svc, const struct order *o,
                                 sync_chain_done_fn done, void *ctx, unsigned *retry_after_s);
int sync_chain_finish(struct chain *c);
void sync_chain_abandon(struct chain *c);
/* Whether a chain of this process is driving the order. */
bool sync_chain_running(struct order_service *svc, const char *order_id);

/* Part B: publishes the outbox to RabbitMQ with publisher confirms, in the
 * background; stop waits for the relay thread. 0 on success. */
int amqp_relay_start(struct order_service *svc, const char *amqp_url);
void amqp_relay_stop(struct order_service *svc);

void order_api_handle(void *ctx, const struct http_request *req, struct http_response *res);

/* Places a validated order (ids and event time filled in) and answers. */
void sync_place_order(struct order_service *svc, const struct order *o, struct http_response *res);
void outbox_place_order(struct order_service *svc, const struct order *o,
                        struct http_response *res);

/* Answers with the stored order when a client repeats an order_id
 * (order_answer.c). */
void order_answer_existing(const struct order_record *rec, struct http_response *res);

#endif
