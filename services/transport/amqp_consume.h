/* A manual-ack consumer thread: connects (and reconnects with backoff), takes
 * messages in batches of up to `prefetch`, lets the service decide each one,
 * then settles them: ack after the service's work is durable, dead-letter with
 * a reason, or requeue for a bounded retry. */
#ifndef COMMLAB_AMQP_CONSUME_H
#define COMMLAB_AMQP_CONSUME_H

#include <stdbool.h>

#include "amqp.h"

enum amqp_verdict_kind {
    AMQP_VERDICT_ACK,   /* done (durably), or nothing to do: ack */
    AMQP_VERDICT_DEAD,  /* poison: to QUEUE.dlq with `reason`, never retried */
    AMQP_VERDICT_RETRY, /* transient failure: requeue; the queue's delivery
                           limit dead-letters it after a few tries */
};

struct amqp_verdict {
    enum amqp_verdict_kind kind;
    char reason[AMQP_REASON_MAX];
};

/* Decides a batch: fills out[i] for msgs[i]. Must have made the work of every
 * ACK durable before it returns. */
typedef void (*amqp_batch_fn)(void *ctx, const struct amqp_msg *msgs, size_t n,
                              struct amqp_verdict *out);

struct amqp_consumer_opts {
    const char *url;
    const char *queue;
    /* Unacked messages the broker may push; a batch is at most half of it,
     * so the next batch is already arriving while one is being committed. */
    unsigned prefetch;
    amqp_batch_fn handle;
    void *ctx;
};

struct amqp_consumer;

/* Starts the thread; it keeps trying to connect while the broker is away. */
struct amqp_consumer *amqp_consumer_start(const struct amqp_consumer_opts *o);
/* Stops and joins; unacked messages go back to the queue. */
void amqp_consumer_stop(struct amqp_consumer *c);
bool amqp_consumer_connected(const struct amqp_consumer *c);

/* Sleeps up to `ms`, waking early when *stop becomes true; shared by the
 * relay and consumer threads. */
void amqp_sleep_unless(const _Atomic bool *stop, long ms);

#endif
