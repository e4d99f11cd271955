/* Small JSON bodies of the services' own endpoints. */
#ifndef COMMLAB_SERVICE_JSON_H
#define COMMLAB_SERVICE_JSON_H

#include <stddef.h>

#include "domain/fault.h"
#include "domain/order.h"
#include "domain/reservation.h"

/* Inventory's /reserve answer: {"order_id":..,"status":"reserved"|"refused"[,"reason":..]}. */
char *reserve_answer_encode(const char *order_id, const struct reserve_result *r);
/* Reads the reason of a refusal; "" when absent or unreadable. */
void reserve_answer_reason(const char *body, size_t len, char *reason, size_t reason_len);

/* POST /configure: {"delay_ms": 0..600000, "mode": "none"|"error"|"hang"}, each optional;
 * fields absent leave *delay_ms / *mode untouched. */
int fault_decode(const char *body, size_t len, long *delay_ms, enum fault_mode *mode,
                 struct field_error *err);
char *fault_encode(long delay_ms, enum fault_mode mode);

/* {"burger": 12, ...} in catalog order. */
char *stock_encode(const long *levels);
/* {"sku": "burger", "qty": 12}. */
char *stock_item_encode(const char *sku, long qty);

/* Object with string members from NULL-terminated key/value pairs. */
char *json_object_of(const char *const *pairs);

#endif
