#include "seen_store.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS processed_events(event_id TEXT PRIMARY KEY) WITHOUT ROWID;";

static const char *const sql[] = {
    "INSERT INTO processed_events(event_id) VALUES(?) ON CONFLICT(event_id) DO NOTHING",
};

int seen_store_open(struct seen_store *s, struct db *db)
{
    s->db = db;
    if (db_exec(db, schema) != 0)
        return -1;
    return db_prepare(db, sql, 1, s->st);
}

void seen_store_close(struct seen_store *s)
{
    db_finalize(s->st, 1);
}

int seen_mark_locked(struct seen_store *s, const char *event_id)
{
    sqlite3_stmt *st = db_reset(s->st[0]);
    db_bind_text(st, 1, event_id);
    if (db_step_done(s->db, st) != 0)
        return -1;
    return sqlite3_changes(s->db->h) == 1 ? 1 : 0;
}
