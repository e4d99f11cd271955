/* JSON for orders: the client's POST /order, inventory's POST /reserve and
 * notification's POST /send all carry (parts of) an order. */
#ifndef COMMLAB_ORDER_JSON_H
#define COMMLAB_ORDER_JSON_H

#include <stddef.h>

#include "domain/order.h"

enum order_fields { NEED_ORDER_ID = 1, NEED_USER_ID = 2, NEED_ITEMS = 4 };

/* Fields not in `need` are optional; absent ids come back as "", an absent
 * occurred_at as -1. Returns 0, or -1 with `err` naming the field. */
int order_decode(const char *body, size_t len, unsigned need, struct order *o,
                 struct field_error *err);
/* Writes order_id, user_id and occurred_at when set, and items when present. */
char *order_encode(const struct order *o);
/* The order as GET /orders/{id} and POST /order show it; `extra` holds more
 * string members as NULL-terminated key/value pairs (may be NULL). */
char *order_view_encode(const struct order *o, const char *status, const char *detail,
                        const char *const *extra);
/* {"error": code, "field": .., "message": ..}; field may be NULL. */
char *error_encode(const char *code, const char *field, const char *message);

#endif
