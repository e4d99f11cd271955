/* The outbox relay over Kafka: the transport part of the outbox relay
 * (core/store/outbox_relay.h), which marks rows sent. Unsent rows go to an
 * idempotent producer (acks=all), each to its row's destination topic, keyed
 * by the row's key so that one key's events stay in one partition. A row is
 * delivered on its delivery report; one refused for its own sake (too large,
 * an invalid record, an unknown topic) is set aside with the error and the
 * rows behind it go on; any other failure (the broker away, a timeout) ends
 * the round, and the row and those after it are published again. A row
 * published twice carries the same event_id, which the consumers
 * deduplicate. */
#ifndef COMMLAB_KAFKA_OUTBOX_H
#define COMMLAB_KAFKA_OUTBOX_H

#include "metrics/metrics.h"
#include "store/outbox.h"
#include "util/notice.h"

struct kafka_outbox_relay;

/* Starts at once even if no broker answers yet; NULL (the reason told to
 * `notice`) if the producer cannot be made. */
struct kafka_outbox_relay *kafka_outbox_relay_start(const char *brokers, struct outbox *ob,
                                                    struct metrics *m,
                                                    const struct notifier *notice);
/* Stops the relay; what is not confirmed within a few seconds stays in the
 * outbox for the next start. */
void kafka_outbox_relay_stop(struct kafka_outbox_relay *r);

#endif
