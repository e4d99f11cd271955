/* The order service's orders. */
#ifndef COMMLAB_ORDER_STORE_H
#define COMMLAB_ORDER_STORE_H

#include "domain/order.h"
#include "domain/order_status.h"
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
    sqlite3_stmt *st[6];
};

int order_store_open(struct order_store *s, struct db *db);
void order_store_close(struct order_store *s);

/* Inside db_transact: 1 inserted, 0 the order_id exists already (then
 * `existing` holds it when non-NULL), -1 error. */
int order_insert_locked(struct order_store *s, const struct order *o, enum order_status status,
                        struct order_record *existing);
/* Moves an order to `to` when the model allows it from where it is
 * (order_status.h); `was` (may be NULL) gets where it was. */
enum order_move {
    ORDER_MOVE_ERROR = -1,
    ORDER_MOVE_DONE = 0,    /* moved (or stayed, with the new detail) */
    ORDER_MOVE_REFUSED = 1, /* not allowed from its status: nothing changed */
    ORDER_MOVE_UNKNOWN = 2, /* no such order */
};
enum order_move order_move_locked(struct order_store *s, const char *order_id, enum order_status to,
                                  const char *detail, enum order_status *was);
/* Inside db_transact: moves the order to `to` only if it is still in `from` (a
 * move the model allows); 1 moved, 0 not in `from` (someone else moved it
 * first), -1 error or a move the model does not allow. */
int order_move_from_locked(struct order_store *s, const char *order_id, enum order_status from,
                           enum order_status to, const char *detail);
/* Up to `max` ids of pending orders after `after` ("" or NULL: from the first),
 * in id order. */
int order_list_pending(struct order_store *s, const char *after, char (*ids)[ID_MAX_LEN + 1],
                       size_t max, size_t *n);
/* Up to `max` orders after `after` ("" from the first) in id order, each
 * handed to fn until it returns false. 0, or -1 on error. */
typedef bool (*order_scan_fn)(void *ctx, const struct order_record *rec);
int order_scan(struct order_store *s, const char *after, size_t max, order_scan_fn fn, void *ctx);
/* 1 found, 0 unknown, -1 error; order_get_locked inside db_transact (what
 * a change in the same transaction is judged against). */
int order_get_locked(struct order_store *s, const char *order_id, struct order_record *out);
int order_get(struct order_store *s, const char *order_id, struct order_record *out);

#endif
