/* The event envelope shared by the RabbitMQ and Kafka models. */
#ifndef COMMLAB_EVENT_H
#define COMMLAB_EVENT_H

#include "order.h"

#define EVENT_SCHEMA_VERSION 1
#define EVENT_ID_LEN 32
#define EVENT_REASON_MAX 64
/* Largest encoded event any consumer accepts; larger ones are poison. */
#define EVENT_MAX_BYTES 65536

enum event_type { EVENT_ORDER_PLACED, EVENT_INVENTORY_RESERVED, EVENT_INVENTORY_FAILED };

struct event {
    enum event_type type;
    char event_id[ID_MAX_LEN + 1];
    struct order order;            /* order_id, user_id, items and occurred_at */
    char reason[EVENT_REASON_MAX]; /* InventoryFailed only, e.g. "out_of_stock:truffle-fries" */
};

const char *event_type_name(enum event_type t);
int event_type_parse(const char *name, enum event_type *out);
/* Ids of the events the system emits derive from (type, order_id), so every
 * retry, redelivery or replay of the same step carries the same event_id. */
void event_id_derive(enum event_type t, const char *order_id, char out[EVENT_ID_LEN + 1]);
void event_from_order(struct event *ev, enum event_type t, const struct order *o,
                      const char *reason);
/* What an event says, as one number: equal for two copies of an event
 * however they were encoded, different (but for a 2^-64 chance) when any
 * field differs. A reused event_id is a duplicate only with an equal digest. */
uint64_t event_digest(const struct event *ev);

/* What a consumer did with one event, as one line (--log-events):
 * "event OUTCOME type=T event_id=E order_id=O source=S[ reason=R]", with
 * "-" for what a message that is no event lacks. OUTCOME is one of the
 * EVENT_OUTCOME_* words. */
#define EVENT_OUTCOME_APPLIED "applied"
#define EVENT_OUTCOME_DUPLICATE "duplicate"
#define EVENT_OUTCOME_CONFLICT "conflict"
#define EVENT_OUTCOME_DEAD_LETTER "dead_letter"
#define EVENT_LINE_MAX 512
void event_outcome_line(char out[EVENT_LINE_MAX], const char *outcome, const struct event *ev,
                        const char *source, const char *reason);

#endif
