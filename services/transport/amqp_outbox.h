/* The outbox relay over RabbitMQ: a thread that publishes unsent outbox rows
 * to the events exchange (routing key = the row's destination) as persistent
 * messages and waits for the broker's confirms: the transport part of the
 * outbox relay (core/store/outbox_relay.h), which marks them sent.
 * A crash anywhere republishes at most the unconfirmed tail, with the same
 * event ids, which consumers deduplicate. */
#ifndef COMMLAB_AMQP_OUTBOX_H
#define COMMLAB_AMQP_OUTBOX_H

#include "metrics/metrics.h"
#include "store/outbox.h"
#include "util/notice.h"

struct amqp_outbox_relay;

/* Starts at once even if RabbitMQ is down: it reconnects with backoff. */
struct amqp_outbox_relay *amqp_outbox_relay_start(const char *url, struct outbox *ob,
                                                  struct metrics *m, const struct notifier *notice);
void amqp_outbox_relay_stop(struct amqp_outbox_relay *r);

#endif
