/* The apply step of every AMQP consumer, written once: it joins the
 * consumer helper's items (transport) to the store (core). Each item in turn,
 * all in one transaction: the seen store tells a new event from a duplicate
 * or a conflict, and only a new one reaches the service's `apply_one`.
 * amqp_applier_start wraps it all: the seen store, the consumer with the
 * service's notices and event lines, and this apply step. */
#ifndef COMMLAB_AMQP_APPLY_H
#define COMMLAB_AMQP_APPLY_H

#include "store/db.h"
#include "store/seen_store.h"
#include "transport/amqp_consume.h"

/* Applies one new event inside the transaction, setting it->result (and
 * it->reason for a conflict); -1 rolls the whole call back. A conflict that
 * is not about the state it names at all (an outcome restating another order
 * than the stored one, or naming no order the service holds) returns
 * AMQP_APPLY_ONE_FOREIGN: its event_id is not kept, so the true event with
 * that id still applies when it comes. */
#define AMQP_APPLY_ONE_FOREIGN 1
typedef int (*amqp_apply_one_fn)(void *ctx, struct amqp_item *it);

enum amqp_apply_rc amqp_apply_each(struct db *db, struct seen_store *seen, amqp_apply_one_fn fn,
                                   void *ctx, struct amqp_item *items, size_t n);

struct amqp_applier_opts {
    const char *url, *queue;
    unsigned prefetch; /* amqp_consumer_opts */
    unsigned accepted; /* event types the queue carries: 1u << EVENT_... */
    struct db *db;
    struct metrics *metrics;
    amqp_apply_one_fn apply_one;
    /* Optional, before each apply call: false answers AMQP_APPLY_UNAVAILABLE
     * (fault injection: it may wait with amqp_consumer_sleep). */
    bool (*admit)(void *ctx, struct amqp_consumer *c);
    void *ctx; /* apply_one's and admit's */
    const char *applied_metric, *applied_help;
};

struct amqp_applier;

/* Opens the seen store and starts the consumer; NULL (logged) if either
 * cannot start. */
struct amqp_applier *amqp_applier_start(const struct amqp_applier_opts *o);
/* Stops the consumer (unacked messages go back) and closes the seen store. */
void amqp_applier_stop(struct amqp_applier *a);

#endif
