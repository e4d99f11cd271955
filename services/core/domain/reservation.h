/* Inventory's answer to a reservation request, in every model. */
#ifndef COMMLAB_RESERVATION_H
#define COMMLAB_RESERVATION_H

#include <stdbool.h>

#include "event.h"

struct reserve_result {
    bool reserved;                 /* false: refused, see reason */
    char reason[EVENT_REASON_MAX]; /* "out_of_stock:<sku>" when refused */
    bool duplicate;                /* this order_id had been answered before */
};

#endif
