/* The wire form of events, identical on RabbitMQ and Kafka:
 * {"schema":1,"type":..,"event_id":..,"order_id":..,"occurred_at":..,
 *  "payload":{"user_id":..,"items":[..],"reason":..}} */
#ifndef COMMLAB_EVENT_JSON_H
#define COMMLAB_EVENT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/event.h"

char *event_encode(const struct event *ev);
/* Returns 0, or -1 with `err` saying what is wrong (the dead-letter reason). */
int event_decode(const char *body, size_t len, struct event *ev, struct field_error *err);

/* Vets a message taken from a broker as an event of one of the `expected`
 * types (a mask of 1u << enum event_type). false, with the dead-letter reason
 * in `reason`, for a body over EVENT_MAX_BYTES (not parsed), one that does not
 * decode, or an unexpected type. */
bool event_accept(const char *body, size_t len, unsigned expected, struct event *ev, char *reason,
                  size_t reason_len);

#endif
