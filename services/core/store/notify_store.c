#include "notify_store.h"

#include <stdio.h>
#include <string.h>

enum { ST_INSERT, ST_GET, ST_SCAN };

static const char schema[] = "CREATE TABLE IF NOT EXISTS notifications("
                             " order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
                             " message TEXT NOT NULL) WITHOUT ROWID;";

static const char *const sql[] = {
    [ST_INSERT] = ("INSERT INTO notifications(order_id,user_id,message) VALUES(?,?,?) "
                   "ON CONFLICT(order_id) DO NOTHING"),
    [ST_GET] = "SELECT message FROM notifications WHERE order_id=?",
    [ST_SCAN] = ("SELECT order_id,user_id,message FROM notifications WHERE order_id>?"
                 " ORDER BY order_id LIMIT ?"),
};

int notify_store_open(struct notify_store *s, struct db *db)
{
    s->db = db;
    if (db_exec(db, schema) != 0)
        return -1;
    return db_prepare(db, sql, sizeof sql / sizeof sql[0], s->st);
}

void notify_store_close(struct notify_store *s)
{
    db_finalize(s->st, sizeof s->st / sizeof s->st[0]);
}

void notify_message(const struct order *o, char out[NOTIFY_MESSAGE_MAX])
{
    size_t n = (size_t)snprintf(out, NOTIFY_MESSAGE_MAX,
                                "Hi %s, order %s is confirmed:", o->user_id, o->order_id);
    for (int i = 0; i < o->n_items && n < NOTIFY_MESSAGE_MAX; i++)
        n += (size_t)snprintf(out + n, NOTIFY_MESSAGE_MAX - n, "%s %dx %s", i ? "," : "",
                              o->items[i].qty, catalog_sku((size_t)o->items[i].sku));
}

int notify_record_locked(struct notify_store *s, const struct order *o, bool *duplicate,
                         char message[NOTIFY_MESSAGE_MAX])
{
    notify_message(o, message);
    sqlite3_stmt *st = db_reset(s->st[ST_INSERT]);
    db_bind_text(st, 1, o->order_id);
    db_bind_text(st, 2, o->user_id);
    db_bind_text(st, 3, message);
    if (db_step_done(s->db, st) != 0)
        return -1;
    *duplicate = sqlite3_changes(s->db->h) == 0;
    if (*duplicate) {
        st = db_reset(s->st[ST_GET]);
        db_bind_text(st, 1, o->order_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            db_column_text(st, 0, message, NOTIFY_MESSAGE_MAX);
        sqlite3_reset(st);
    }
    return 0;
}

struct record_job {
    struct notify_store *s;
    const struct order *o;
    bool *duplicate;
    char *message;
};

static int record_job(void *arg)
{
    struct record_job *j = arg;
    return notify_record_locked(j->s, j->o, j->duplicate, j->message);
}

int notify_record(struct notify_store *s, const struct order *o, bool *duplicate,
                  char message[NOTIFY_MESSAGE_MAX])
{
    struct record_job j = {s, o, duplicate, message};
    return db_transact(s->db, record_job, &j);
}

int notify_scan(struct notify_store *s, const char *after, size_t max, notify_scan_fn fn, void *ctx)
{
    db_lock(s->db);
    sqlite3_stmt *st = db_reset(s->st[ST_SCAN]);
    int rc = db_bind_text(st, 1, after) == 0 &&
                     sqlite3_bind_int64(st, 2, (sqlite3_int64)max) == SQLITE_OK
                 ? SQLITE_ROW
                 : SQLITE_ERROR;
    char order_id[ID_MAX_LEN + 1], user_id[ID_MAX_LEN + 1], message[NOTIFY_MESSAGE_MAX];
    while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        db_column_text(st, 0, order_id, sizeof order_id);
        db_column_text(st, 1, user_id, sizeof user_id);
        db_column_text(st, 2, message, sizeof message);
        if (!fn(ctx, order_id, user_id, message)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    db_unlock(s->db);
    return rc == SQLITE_DONE ? 0 : -1;
}
