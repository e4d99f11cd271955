/* Where an order is, and the moves the models allow:
 *
 *   sync (REST):     pending  -> confirmed | rejected | failed
 *   async, stream:   accepted -> confirmed | rejected
 *
 * A final status never changes (confirmed, rejected, failed); staying in a
 * status is allowed (a repeat, or a new detail such as the notification's
 * outcome). Anything else contradicts what already happened. */
#ifndef COMMLAB_ORDER_STATUS_H
#define COMMLAB_ORDER_STATUS_H

#include <stdbool.h>

enum order_status {
    ORDER_PENDING,   /* sync: stored, the chain not finished */
    ORDER_ACCEPTED,  /* async/stream: stored with its event, outcome to come */
    ORDER_CONFIRMED, /* stock reserved (and, in sync, notified) */
    ORDER_REJECTED,  /* refused by inventory (out of stock) */
    ORDER_FAILED,    /* sync: inventory unreachable, timed out or 5xx */
};
#define ORDER_STATUS_COUNT 5

const char *order_status_name(enum order_status s);
/* 0 and *out set, or -1 for a name not in the table. */
int order_status_parse(const char *name, enum order_status *out);
bool order_transition_allowed(enum order_status from, enum order_status to);

#endif
