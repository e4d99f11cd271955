/* Event ids a consumer has applied, so a redelivered event changes nothing. */
#ifndef COMMLAB_SEEN_STORE_H
#define COMMLAB_SEEN_STORE_H

#include "db.h"

struct seen_store {
    struct db *db;
    sqlite3_stmt *st[1];
};

int seen_store_open(struct seen_store *s, struct db *db);
void seen_store_close(struct seen_store *s);
/* Inside db_transact: 1 first time, 0 seen before, -1 error. */
int seen_mark_locked(struct seen_store *s, const char *event_id);

#endif
