/* The order service's orders. */
#ifndef COMMLAB_ORDER_STORE_H
#define COMMLAB_ORDER_STORE_H

#include "../domain/order.h"
#include "db.h"

#define STATUS_MAX 16
#define DETAIL_MAX 96

struct order_record {
    struct order order;
    char status[STATUS_MAX]; /* accepted, confirmed, rejected, failed, pending */
    char detail[DETAIL_MAX]; /* why, e.g. "out_of_stock:truffle-fries", "inventory_timeout" */
};

struct order_store {
    struct db *db;
    sqlite3_stmt *st[3];
};

int order_store_open(struct order_store *s, struct db *db);
void order_store_close(struct order_store *s);

/* Inside db_transact: 1 inserted, 0 the order_id exists already (then
 * `existing` holds it when non-NULL), -1 error. */
int order_insert_locked(struct order_store *s, const struct order *o, const char *status,
                        struct order_record *existing);
int order_set_status(struct order_store *s, const char *order_id, const char *status,
                     const char *detail);
int order_set_status_locked(struct order_store *s, const char *order_id, const char *status,
                            const char *detail);
/* 1 found, 0 unknown, -1 error. */
int order_get(struct order_store *s, const char *order_id, struct order_record *out);

#endif
