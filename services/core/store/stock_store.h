/* Inventory: stock levels and reservations, one reservation per order_id. */
#ifndef COMMLAB_STOCK_STORE_H
#define COMMLAB_STOCK_STORE_H

#include <stdbool.h>

#include "../domain/reservation.h"
#include "db.h"


struct stock_store {
    struct db *db;
    sqlite3_stmt *st[6];
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
/* Stock per catalog index. */
int stock_levels(struct stock_store *s, long *out);

/* Parses "sku=qty,sku=qty" over the catalog defaults; -1 with a message. */
int stock_parse_spec(const char *spec, long *out, char *err, size_t errlen);

#endif
