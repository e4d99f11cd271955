/* The transactional outbox: an event is stored in the same transaction as the
 * state change it announces, and a relay (outbox_relay.h) delivers it later
 * and marks it sent only once the far side has taken it. Unsent rows survive
 * any crash. Rows are read and marked per destination, so that relays of
 * different destinations sharing one outbox do not hold each other up. */
#ifndef COMMLAB_OUTBOX_H
#define COMMLAB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct outbox_row {
    int64_t seq;
    char *destination; /* routing key, topic or the receiving service's request */
    char *key;         /* message key (order_id) */
    char *body;
    size_t body_len;
};

struct outbox {
    struct db *db;
    sqlite3_stmt *st[4];
};

int outbox_open(struct outbox *ob, struct db *db);
void outbox_close(struct outbox *ob);
/* Inside db_transact. The event_id is unique: adding the same
 * event twice keeps the first row (0), a new row returns 1, -1 on error. */
int outbox_add_locked(struct outbox *ob, const char *event_id, const char *destination,
                      const char *key, const char *body);
/* In each call below, `destination` NULL means every destination. */
/* Up to `max` unsent rows in order, each field malloc'd; free with outbox_rows_free. */
int outbox_pending(struct outbox *ob, const char *destination, struct outbox_row *rows, size_t max,
                   size_t *n);
void outbox_rows_free(struct outbox_row *rows, size_t n);
/* Marks rows up to and including `seq` as sent; _locked inside db_transact. */
int outbox_mark_sent(struct outbox *ob, const char *destination, int64_t upto_seq);
int outbox_mark_sent_locked(struct outbox *ob, const char *destination, int64_t upto_seq);
/* How many rows wait to be delivered. */
long outbox_backlog(struct outbox *ob, const char *destination);

#endif
