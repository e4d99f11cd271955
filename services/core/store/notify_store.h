/* The notification service's record of what it sent: one per order_id. */
#ifndef COMMLAB_NOTIFY_STORE_H
#define COMMLAB_NOTIFY_STORE_H

#include <stdbool.h>

#include "domain/order.h"
#include "db.h"

#define NOTIFY_MESSAGE_MAX 512

struct notify_store {
    struct db *db;
    sqlite3_stmt *st[3];
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
/* Up to `max` notifications after `after` ("" from the first) in order_id
 * order, each handed to fn until it returns false. 0, or -1 on error. */
typedef bool (*notify_scan_fn)(void *ctx, const char *order_id, const char *user_id,
                               const char *message);
int notify_scan(struct notify_store *s, const char *after, size_t max, notify_scan_fn fn,
                void *ctx);

#endif
