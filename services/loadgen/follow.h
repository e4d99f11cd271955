/* Accepted-to-final latency of asynchronous orders: from the 202 to the
 * moment the order's outcome can be seen. Two ways to see it:
 *   http   GET /orders/{id} until the status is neither "accepted" nor
 *          "pending" (RabbitMQ mode: the order service applies the outcome);
 *          a sample of the orders, each polled about every millisecond
 *   kafka  the outcome event on inventory-events (read_committed), read
 *          from the topic's end as it was when the run started; every
 *          order (stream mode: the order service keeps no outcome)
 * Times are this process's monotonic clock on both sides. */
#ifndef COMMLAB_LOADGEN_FOLLOW_H
#define COMMLAB_LOADGEN_FOLLOW_H

#include <stdint.h>

#include "metrics/histogram.h"

struct follower;

struct follow_result {
    uint64_t followed;   /* orders whose 202 was seen */
    uint64_t unfinished; /* of them, no outcome seen before the deadline */
};

/* kind "http": where is the order service's base URL; "kafka": bootstrap
 * servers, with the outcome topic. `expected` sizes the Kafka table. NULL
 * with a message on stderr when it cannot start. */
struct follower *follower_start(const char *kind, const char *where, const char *topic,
                                uint64_t expected);
/* An order answered 202 at `accepted_us`; any thread. */
void follower_add(struct follower *f, const char *order_id, uint64_t accepted_us);
/* Waits up to `timeout_ms` for the outcomes still missing, stops, records
 * every latency (us) into `out` and frees the follower. */
struct follow_result follower_finish(struct follower *f, long timeout_ms, struct histogram *out);

#endif
