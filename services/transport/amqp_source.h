/* Where an AMQP consumer (amqp_consume.h) takes its messages from and where
 * it settles them: RabbitMQ (amqp_source_rabbitmq), or any stand-in that
 * keeps the same promises, as the unit tests' messages held in memory. The
 * consumer's decisions (what is acked, dead-lettered, requeued, and when a
 * message has used up its tries) are then the same whatever the source. */
#ifndef COMMLAB_AMQP_SOURCE_H
#define COMMLAB_AMQP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp.h"

struct amqp_source_ops {
    /* Opens a link consuming `queue` with at most `prefetch` messages
     * unacked: 0, or -1 with `err`. */
    int (*open)(void *ctx, const char *queue, unsigned prefetch, char *err, size_t errlen);
    /* As amqp_link_next: 1 a message in `m` (amqp_msg_free frees it), 0 none
     * within timeout_ms, -1 the link broke. */
    int (*next)(void *ctx, struct amqp_msg *m, int timeout_ms);
    /* Acks every message up to and including tag `upto`. */
    int (*ack)(void *ctx, uint64_t upto);
    int (*nack)(void *ctx, uint64_t tag, bool requeue);
    /* A confirmed copy of `m` among `queue`'s dead letters, with `reason`:
     * 0, or -1 (`err` says why, or is empty when there was nothing to say). */
    int (*dead_letter)(void *ctx, const char *queue, const struct amqp_msg *m, const char *reason,
                       char *err, size_t errlen);
    /* Why the consuming link failed, for a notice. */
    const char *(*error)(void *ctx);
    /* Closes the consuming link (its unacked messages return to the queue);
     * with `all`, the dead letters' link too. */
    void (*close)(void *ctx, bool all);
    /* Optional: frees ctx once the consumer has stopped. */
    void (*free)(void *ctx);
};

struct amqp_source {
    const struct amqp_source_ops *ops;
    void *ctx;
};

/* RabbitMQ at `url` (a cluster: its nodes' URLs, comma-separated), with the
 * topology declared on every link; dead letters go to AMQP_DLX with the
 * queue's name as routing key. 0, or -1 out of memory. */
int amqp_source_rabbitmq(const char *url, struct amqp_source *out);

#endif
