#include "seen_store.h"

#include <stdio.h>
#include <string.h>

enum { ST_INSERT, ST_GET, ST_FORGET };

/* A table of its own name: the earlier one kept ids only. The digest
 * (event_digest) came later: rows from before it have none, and are told
 * apart by type and order_id alone. */
static const char schema[] = "CREATE TABLE IF NOT EXISTS seen_events("
                             " event_id TEXT PRIMARY KEY, type TEXT NOT NULL,"
                             " order_id TEXT NOT NULL, digest INTEGER) WITHOUT ROWID;";

static const char *const sql[] = {
    [ST_INSERT] = "INSERT INTO seen_events(event_id,type,order_id,digest) VALUES(?,?,?,?) "
                  "ON CONFLICT(event_id) DO NOTHING",
    [ST_GET] = "SELECT type,order_id,digest FROM seen_events WHERE event_id=?",
    [ST_FORGET] = "DELETE FROM seen_events WHERE event_id=?",
};

int seen_store_open(struct seen_store *s, struct db *db)
{
    s->db = db;
    if (db_exec(db, schema) != 0 || db_add_column(db, "seen_events", "digest", "INTEGER") != 0)
        return -1;
    return db_prepare(db, sql, sizeof sql / sizeof sql[0], s->st);
}

void seen_store_close(struct seen_store *s)
{
    db_finalize(s->st, sizeof s->st / sizeof s->st[0]);
}

enum seen_result seen_claim_locked(struct seen_store *s, const struct event *ev, char *conflict,
                                   size_t conflict_len)
{
    const char *type = event_type_name(ev->type);
    sqlite3_int64 digest = (sqlite3_int64)event_digest(ev);
    sqlite3_stmt *st = db_reset(s->st[ST_INSERT]);
    if (db_bind_text(st, 1, ev->event_id) != 0 || db_bind_text(st, 2, type) != 0 ||
        db_bind_text(st, 3, ev->order.order_id) != 0 ||
        sqlite3_bind_int64(st, 4, digest) != SQLITE_OK || db_step_done(s->db, st) != 0)
        return SEEN_ERROR;
    if (sqlite3_changes(s->db->h) == 1)
        return SEEN_NEW;
    st = db_reset(s->st[ST_GET]);
    if (db_bind_text(st, 1, ev->event_id) != 0 || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return SEEN_ERROR;
    }
    char was_type[32], was_order[ID_MAX_LEN + 1];
    db_column_text(st, 0, was_type, sizeof was_type);
    db_column_text(st, 1, was_order, sizeof was_order);
    bool same_body =
        sqlite3_column_type(st, 2) == SQLITE_NULL || sqlite3_column_int64(st, 2) == digest;
    sqlite3_reset(st);
    bool same_key = strcmp(was_type, type) == 0 && strcmp(was_order, ev->order.order_id) == 0;
    if (same_key && same_body)
        return SEEN_DUPLICATE;
    if (conflict && same_key)
        snprintf(conflict, conflict_len, "event_id %s was %s for order %s with other content",
                 ev->event_id, was_type, was_order);
    else if (conflict)
        snprintf(conflict, conflict_len, "event_id %s was %s for order %s", ev->event_id, was_type,
                 was_order);
    return SEEN_CONFLICT;
}

int seen_forget_locked(struct seen_store *s, const char *event_id)
{
    sqlite3_stmt *st = db_reset(s->st[ST_FORGET]);
    if (db_bind_text(st, 1, event_id) != 0)
        return -1;
    return db_step_done(s->db, st);
}
