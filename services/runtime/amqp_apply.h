/* The body of every AMQP apply callback, written once: it joins the
 * consumer helper's items (transport) to the store (core). Each item in turn,
 * all in one transaction: the seen store tells a new event from a duplicate
 * or a conflict, and only a new one reaches the service's `apply_one`. */
#ifndef COMMLAB_AMQP_APPLY_H
#define COMMLAB_AMQP_APPLY_H

#include "store/db.h"
#include "store/seen_store.h"
#include "transport/amqp_consume.h"

/* Applies one new event inside the transaction, setting it->result (and
 * it->reason for a conflict); -1 rolls the whole call back. */
typedef int (*amqp_apply_one_fn)(void *ctx, struct amqp_item *it);

enum amqp_apply_rc amqp_apply_each(struct db *db, struct seen_store *seen, amqp_apply_one_fn fn,
                                   void *ctx, struct amqp_item *items, size_t n);

#endif
