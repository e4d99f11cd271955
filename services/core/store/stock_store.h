/* Inventory: stock levels and reservations, one reservation per order_id. */
#ifndef COMMLAB_STOCK_STORE_H
#define COMMLAB_STOCK_STORE_H

#include <stdbool.h>

#include "domain/reservation.h"
#include "db.h"

struct stock_store {
    struct db *db;
    sqlite3_stmt *st[9];
};

/* Creates the schema; seeds each SKU once with `initial[i]` (catalog index)
 * or the catalog default when `initial` is NULL. Existing stock is kept. */
int stock_store_open(struct stock_store *s, struct db *db, const long *initial);
void stock_store_close(struct stock_store *s);

/* All items or none, never below zero, and a repeat of an order_id returns
 * the first answer without moving stock. Must run inside db_transact. */
int stock_reserve_locked(struct stock_store *s, const struct order *o, struct reserve_result *r);
/* The same in a transaction of its own. */
int stock_reserve(struct stock_store *s, const struct order *o, struct reserve_result *r);
/* Gives back what an order holds. An order that failed on the caller's side
 * (its /reserve timed out or its answer was lost) may still have been
 * reserved here, or may be reserved later by a request still on its way. */
enum release_outcome {
    RELEASE_RESTORED,     /* it was reserved: its items are back in stock */
    RELEASE_BARRED,       /* not reserved yet: a later /reserve is refused */
    RELEASE_NOTHING_HELD, /* refused before, or released already */
};
/* Must run inside db_transact; idempotent. */
int stock_release_locked(struct stock_store *s, const char *order_id, enum release_outcome *out);
/* The same in a transaction of its own. */
int stock_release(struct stock_store *s, const char *order_id, enum release_outcome *out);
const char *release_outcome_name(enum release_outcome r);
/* Stock per catalog index. */
int stock_levels(struct stock_store *s, long *out);

/* Parses "sku=qty,sku=qty" over the catalog defaults; -1 with a message. */
int stock_parse_spec(const char *spec, long *out, char *err, size_t errlen);

#endif
