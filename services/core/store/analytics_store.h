/* Analytics over the event streams: every distinct event (by event_id) kept
 * once, and the metrics computed from that set alone. A set has no order, so
 * the output depends only on which events exist: never on arrival order,
 * partition count, redeliveries or the wall clock. */
#ifndef COMMLAB_ANALYTICS_STORE_H
#define COMMLAB_ANALYTICS_STORE_H

#include "domain/event.h"
#include "util/buf.h"
#include "db.h"

struct analytics_store {
    struct db *db;
    sqlite3_stmt *st[6];
};

/* What analytics_add_locked did with an event. */
enum analytics_verdict {
    ANALYTICS_ADDED,
    ANALYTICS_DUPLICATE,    /* counted before: the same event_id, type, order_id and content, or
                             * an event of the same kind and content for the order */
    ANALYTICS_CONFLICT,     /* same event_id with another type, order_id or content: not applied */
    ANALYTICS_CONTRADICTION /* says otherwise of an order than what was counted for it (the
                             * opposite outcome, another user, items or event time): not
                             * applied */
};

struct analytics_totals {
    long orders;   /* distinct OrderPlaced */
    long reserved; /* distinct InventoryReserved */
    long failed;   /* distinct InventoryFailed */
};

int analytics_store_open(struct analytics_store *s, struct db *db);
void analytics_store_close(struct analytics_store *s);
/* Inside db_transact: counts the event if it is new and fits (enum
 * analytics_verdict); -1 on error. Only ANALYTICS_ADDED changes anything. */
int analytics_add_locked(struct analytics_store *s, const struct event *ev);
/* Inside db_transact: forgets every event (a rebuild from the log). */
int analytics_clear_locked(struct analytics_store *s);
int analytics_totals(struct analytics_store *s, struct analytics_totals *t);

/* The canonical metrics document: fixed key order, one line per minute of
 * event time in ascending order, integers and fixed-point rates only:
 *   {"schema":1,
 *    "totals":{"orders":N,"reserved":R,"failed":F,"failure_rate":0.049800},
 *    "per_minute":[
 *     {"minute":"2026-02-18T11:30Z","orders":600,"reserved":570,"failed":30,"failure_rate":0.050000},
 *     ...]}
 * failure_rate = failed / (reserved + failed) of the outcomes in that bucket,
 * rounded half up to 6 decimals (0 when there are none). Orders are bucketed
 * by the order's event time; outcomes carry the same event time. */
int analytics_render(struct analytics_store *s, struct buf *out);

#endif
