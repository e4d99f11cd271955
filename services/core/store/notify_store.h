/* The notification service's record of what it sent: one per order_id. */
#ifndef COMMLAB_NOTIFY_STORE_H
#define COMMLAB_NOTIFY_STORE_H

#include <stdbool.h>

#include "domain/order.h"
#include "db.h"

#define NOTIFY_MESSAGE_MAX 512

struct notify_store {
    struct db *db;
    sqlite3_stmt *st[2];
};

int notify_store_open(struct notify_store *s, struct db *db);
void notify_store_close(struct notify_store *s);
/* The confirmation text for an order; a pure function of the order. */
void notify_message(const struct order *o, char out[NOTIFY_MESSAGE_MAX]);
/* Records the confirmation unless this order_id has one; `duplicate` says which.
 * `message` receives the text stored (the first one on a repeat). */
int notify_record_locked(struct notify_store *s, const struct order *o, bool *duplicate,
                         char message[NOTIFY_MESSAGE_MAX]);
int notify_record(struct notify_store *s, const struct order *o, bool *duplicate,
                  char message[NOTIFY_MESSAGE_MAX]);

#endif
