/* The one AMQP consumer of the async model, for every service: a worker
 * thread that connects (and reconnects with backoff), takes events in
 * batches of up to half the prefetch, vets each (properties, envelope, the
 * event types its queue carries), hands the valid ones to the service's apply
 * callback in one call (one transaction), retries them one by one when that
 * call fails, and settles every message:
 *   ack          applied, or a duplicate (after the apply is durable);
 *   dead-letter  to QUEUE.dlq with an x-commlab-reason header: malformed,
 *                undecodable, an event type the queue does not carry, or a
 *                conflict the service found (counted, never applied);
 *   requeue      a transient failure; after 5 failed applies of its own
 *                (counted here, across links) it is dead-lettered with
 *                that reason. A link lost with the window costs no
 *                message a try; the queue's delivery limit, which counts
 *                such returns too, is only the backstop for a message
 *                that crashes the process.
 * It knows the event envelope (core/codec/event_json), nothing of what an
 * event means: that is the apply callback's. */
#ifndef COMMLAB_AMQP_CONSUME_H
#define COMMLAB_AMQP_CONSUME_H

#include <stdbool.h>

#include "domain/event.h"
#include "metrics/metrics.h"
#include "amqp.h"
#include "amqp_source.h"
#include "util/notice.h"

/* What the apply callback says about each item. */
enum amqp_item_result {
    AMQP_ITEM_APPLIED,   /* took effect now */
    AMQP_ITEM_DUPLICATE, /* the same event again: nothing to do, acked */
    AMQP_ITEM_CONFLICT,  /* contradicts the state or reuses an event_id with
                            other content: dead-lettered with `reason` */
};

struct amqp_item {
    struct event ev;
    enum amqp_item_result result;
    char reason[AMQP_REASON_MAX];
    size_t msg; /* the consumer's own: which message of the batch */
};

/* What the apply call as a whole did. */
enum amqp_apply_rc {
    AMQP_APPLY_OK = 0,           /* every item has its result; all durable */
    AMQP_APPLY_FAILED = -1,      /* rolled back: retried one item per call */
    AMQP_APPLY_UNAVAILABLE = -2, /* rolled back, and retrying now is pointless
                                    (a fault, a stop): all requeued */
    AMQP_APPLY_STORE_BUSY = -3,  /* rolled back: the store failed (full, I/O):
                                    tried again for a few seconds, then requeued */
};

struct amqp_consumer;

/* Applies items[0..n) atomically (one transaction), filling each result. */
typedef enum amqp_apply_rc (*amqp_apply_fn)(void *ctx, struct amqp_consumer *c,
                                            struct amqp_item *items, size_t n);

struct amqp_consumer_opts {
    const char *url; /* RabbitMQ, unless `source` says otherwise */
    /* Where the messages come from and are settled: .ops NULL for RabbitMQ
     * at `url`; else the caller's, which it frees after amqp_consumer_stop. */
    struct amqp_source source;
    const char *queue;
    /* Unacked messages the broker may push; a batch is at most half of it,
     * so the next batch is already arriving while one is being committed. */
    unsigned prefetch;
    unsigned accepted; /* event types the queue carries: 1u << EVENT_... */
    amqp_apply_fn apply;
    void *ctx;
    struct metrics *metrics;
    /* The service's name for "applied", e.g. amqp_orders_applied_total. */
    const char *applied_metric, *applied_help;
    struct notifier notice; /* the link's ups and downs, dead letters */
    struct notifier events; /* one line per message settled (--log-events); may be off */
};

/* Starts the thread; it keeps trying to connect while the broker is away.
 * NULL if it cannot start. */
struct amqp_consumer *amqp_consumer_start(const struct amqp_consumer_opts *o);
/* Stops and joins; unacked messages go back to the queue. */
void amqp_consumer_stop(struct amqp_consumer *c);
/* For apply callbacks that wait (fault injection): sleeps up to `ms`;
 * false, at once, when the consumer is stopping. */
bool amqp_consumer_sleep(struct amqp_consumer *c, long ms);

#endif
