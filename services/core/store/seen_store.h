/* Events a consumer has applied, so a redelivered event changes nothing and
 * a reused event_id is told apart from a repeat. A duplicate is the same
 * event again: the same event_id, type, order_id and content (event_digest;
 * every event the system emits derives its id from (type, order_id), and a
 * retry carries the same content). The same event_id with another type,
 * order_id or content (other items, say) is a conflict. */
#ifndef COMMLAB_SEEN_STORE_H
#define COMMLAB_SEEN_STORE_H

#include "domain/event.h"
#include "db.h"

enum seen_result { SEEN_ERROR = -1, SEEN_DUPLICATE = 0, SEEN_NEW = 1, SEEN_CONFLICT = 2 };

struct seen_store {
    struct db *db;
    sqlite3_stmt *st[3];
};

int seen_store_open(struct seen_store *s, struct db *db);
void seen_store_close(struct seen_store *s);
/* Inside db_transact: records ev's event_id with its type and order_id when
 * new (SEEN_NEW); else compares with what was recorded. A conflict records
 * nothing. When `conflict` is non-NULL it then says what the id stood for. */
enum seen_result seen_claim_locked(struct seen_store *s, const struct event *ev, char *conflict,
                                   size_t conflict_len);
/* Inside db_transact: takes back the claim this transaction made for an
 * event judged to contradict the state it is about (an outcome whose order
 * is not the stored one). Unrecorded, it cannot make the true event with the
 * same id a conflict when that comes. 0, or -1 on error. */
int seen_forget_locked(struct seen_store *s, const char *event_id);

#endif
