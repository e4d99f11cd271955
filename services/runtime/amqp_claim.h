/* The dedupe step every AMQP apply callback begins with, written once: it
 * joins the consumer helper's items (transport) to the seen store (core). */
#ifndef COMMLAB_AMQP_CLAIM_H
#define COMMLAB_AMQP_CLAIM_H

#include "../core/store/seen_store.h"
#include "../transport/amqp_consume.h"

/* Inside db_transact: 1 the event is new (apply it), 0 its result is set
 * already (a duplicate, or a conflict with its reason), -1 error. */
int amqp_claim_locked(struct seen_store *s, struct amqp_item *it);

#endif
