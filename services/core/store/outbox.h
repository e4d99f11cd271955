/* The transactional outbox: an event is stored in the same transaction as the
 * state change it announces, and a relay (outbox_relay.h) delivers it later
 * and marks it sent only once the far side has taken it. Unsent rows survive
 * any crash. Rows are read and marked per destination, so that relays of
 * different destinations sharing one outbox do not hold each other up.
 *
 * One refused row holds up nothing but its own order: a row the far side
 * refused for good is set aside as a dead letter with its reason (sent=2,
 * listed by /dump as outbox_dead), and one it refused for now waits a
 * backoff of its own (next_at), during which the rows of its order (key)
 * wait with it and every other order's go on. */
#ifndef COMMLAB_OUTBOX_H
#define COMMLAB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Longest reason kept with a dead letter. */
#define OUTBOX_WHY_MAX 200

/* What became of a row in one delivery round (set by the transport). */
enum outbox_fate {
    OUTBOX_NOT_TRIED, /* not delivered, for no fault of its own (the round stopped) */
    OUTBOX_DELIVERED, /* the far side took it */
    OUTBOX_DEFERRED,  /* refused for now (the receiver answered, but busy or failing) */
    OUTBOX_REFUSED,   /* refused for good (a 4xx, unroutable, too large): set aside */
};

struct outbox_row {
    int64_t seq;
    char *destination; /* routing key, topic or the receiving service's request */
    char *key;         /* message key (order_id) */
    char *body;
    size_t body_len;
    int attempts; /* refusals so far */
    enum outbox_fate fate;
    char why[OUTBOX_WHY_MAX]; /* DEFERRED, REFUSED: the far side's answer */
};

struct outbox {
    struct db *db;
    sqlite3_stmt *st[8];
};

int outbox_open(struct outbox *ob, struct db *db);
void outbox_close(struct outbox *ob);
/* Inside db_transact. The event_id is unique: adding the same
 * event twice keeps the first row (0), a new row returns 1, -1 on error. */
int outbox_add_locked(struct outbox *ob, const char *event_id, const char *destination,
                      const char *key, const char *body);
/* In each call below, `destination` NULL means every destination. */
/* Up to `max` unsent rows due now in order (none of an order whose earlier
 * row waits out a backoff), each field malloc'd; free with outbox_rows_free. */
int outbox_pending(struct outbox *ob, const char *destination, struct outbox_row *rows, size_t max,
                   size_t *n);
void outbox_rows_free(struct outbox_row *rows, size_t n);
/* Marks rows up to and including `seq` as sent; _locked inside db_transact. */
int outbox_mark_sent(struct outbox *ob, const char *destination, int64_t upto_seq);
int outbox_mark_sent_locked(struct outbox *ob, const char *destination, int64_t upto_seq);
/* Inside db_transact: one row delivered; one refused for good (its reason
 * kept); one refused for now, tried again at `next_at_ms` (wall clock). */
int outbox_mark_row_sent_locked(struct outbox *ob, int64_t seq);
int outbox_set_aside_locked(struct outbox *ob, int64_t seq, const char *why);
int outbox_defer_locked(struct outbox *ob, int64_t seq, int64_t next_at_ms);
/* How many rows wait to be delivered. */
long outbox_backlog(struct outbox *ob, const char *destination);
/* How many rows were set aside as dead letters. */
long outbox_dead_letters(struct outbox *ob, const char *destination);

#endif
