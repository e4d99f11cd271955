#include "order_store.h"

#include <string.h>

enum { ST_INSERT, ST_STATUS, ST_GET, ST_MOVE, ST_PENDING, ST_SCAN };

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS orders("
    " order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, occurred_at INTEGER NOT NULL,"
    " items TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS orders_pending ON orders(order_id) WHERE status='pending';";

static const char *const sql[] = {
    [ST_INSERT] = ("INSERT INTO orders(order_id,user_id,occurred_at,items,status) "
                   "VALUES(?,?,?,?,?) ON CONFLICT(order_id) DO NOTHING"),
    [ST_STATUS] = "UPDATE orders SET status=?, detail=? WHERE order_id=?",
    [ST_GET] = "SELECT user_id,occurred_at,items,status,detail FROM orders WHERE order_id=?",
    [ST_MOVE] = "UPDATE orders SET status=?, detail=? WHERE order_id=? AND status=?",
    [ST_PENDING] = ("SELECT order_id FROM orders WHERE status='pending' AND order_id>?"
                    " ORDER BY order_id LIMIT ?"),
    [ST_SCAN] = ("SELECT order_id,user_id,occurred_at,items,status,detail FROM orders"
                 " WHERE order_id>? ORDER BY order_id LIMIT ?"),
};

int order_store_open(struct order_store *s, struct db *db)
{
    s->db = db;
    return db_open_store(db, schema, sql, sizeof sql / sizeof sql[0], s->st);
}

void order_store_close(struct order_store *s)
{
    db_finalize(s->st, sizeof s->st / sizeof s->st[0]);
}

int order_get_locked(struct order_store *s, const char *order_id, struct order_record *out)
{
    sqlite3_stmt *st = db_reset(s->st[ST_GET]);
    db_bind_text(st, 1, order_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return -1;
    }
    memset(out, 0, sizeof *out);
    strcpy(out->order.order_id, order_id);
    db_column_text(st, 0, out->order.user_id, sizeof out->order.user_id);
    out->order.occurred_at = sqlite3_column_int64(st, 1);
    int ok = order_items_parse(&out->order, (const char *)sqlite3_column_text(st, 2)) == 0;
    db_column_text(st, 3, out->status, sizeof out->status);
    db_column_text(st, 4, out->detail, sizeof out->detail);
    sqlite3_reset(st);
    return ok ? 1 : -1;
}

int order_insert_locked(struct order_store *s, const struct order *o, enum order_status status,
                        struct order_record *existing)
{
    char items[ITEMS_TEXT_MAX];
    order_items_text(o, items);
    sqlite3_stmt *st = db_reset(s->st[ST_INSERT]);
    db_bind_text(st, 1, o->order_id);
    db_bind_text(st, 2, o->user_id);
    sqlite3_bind_int64(st, 3, o->occurred_at);
    db_bind_text(st, 4, items);
    db_bind_text(st, 5, order_status_name(status));
    if (db_step_done(s->db, st) != 0)
        return -1;
    if (sqlite3_changes(s->db->h) == 1)
        return 1;
    if (existing && order_get_locked(s, o->order_id, existing) != 1)
        return -1;
    return 0;
}

enum order_move order_move_locked(struct order_store *s, const char *order_id, enum order_status to,
                                  const char *detail, enum order_status *was)
{
    struct order_record rec;
    int found = order_get_locked(s, order_id, &rec);
    if (found < 0)
        return ORDER_MOVE_ERROR;
    if (found == 0)
        return ORDER_MOVE_UNKNOWN;
    enum order_status from;
    if (order_status_parse(rec.status, &from) != 0)
        return ORDER_MOVE_ERROR;
    if (was)
        *was = from;
    if (!order_transition_allowed(from, to))
        return ORDER_MOVE_REFUSED;
    sqlite3_stmt *st = db_reset(s->st[ST_STATUS]);
    if (db_bind_text(st, 1, order_status_name(to)) != 0 ||
        db_bind_text(st, 2, detail ? detail : "") != 0 || db_bind_text(st, 3, order_id) != 0)
        return ORDER_MOVE_ERROR;
    return db_step_done(s->db, st) == 0 ? ORDER_MOVE_DONE : ORDER_MOVE_ERROR;
}

int order_get(struct order_store *s, const char *order_id, struct order_record *out)
{
    db_lock(s->db);
    int rc = order_get_locked(s, order_id, out);
    db_unlock(s->db);
    return rc;
}

int order_move_from_locked(struct order_store *s, const char *order_id, enum order_status from,
                           enum order_status to, const char *detail)
{
    if (!order_transition_allowed(from, to))
        return -1;
    sqlite3_stmt *st = db_reset(s->st[ST_MOVE]);
    if (db_bind_text(st, 1, order_status_name(to)) || db_bind_text(st, 2, detail ? detail : "") ||
        db_bind_text(st, 3, order_id) || db_bind_text(st, 4, order_status_name(from)))
        return -1;
    if (db_step_done(s->db, st) != 0)
        return -1;
    return sqlite3_changes(s->db->h) == 1 ? 1 : 0;
}

int order_list_pending(struct order_store *s, const char *after, char (*ids)[ID_MAX_LEN + 1],
                       size_t max, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = s->st[ST_PENDING];
    int rc = db_page(s->db, st, after ? after : "", max);
    while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW)
        db_column_text(st, 0, ids[(*n)++], ID_MAX_LEN + 1);
    return db_page_end(s->db, st, rc);
}

int order_scan(struct order_store *s, const char *after, size_t max, order_scan_fn fn, void *ctx)
{
    sqlite3_stmt *st = s->st[ST_SCAN];
    int rc = db_page(s->db, st, after, max);
    struct order_record rec;
    while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&rec, 0, sizeof rec);
        db_column_text(st, 0, rec.order.order_id, sizeof rec.order.order_id);
        db_column_text(st, 1, rec.order.user_id, sizeof rec.order.user_id);
        rec.order.occurred_at = sqlite3_column_int64(st, 2);
        if (order_items_parse(&rec.order, (const char *)sqlite3_column_text(st, 3)) != 0) {
            rc = SQLITE_ERROR;
            break;
        }
        db_column_text(st, 4, rec.status, sizeof rec.status);
        db_column_text(st, 5, rec.detail, sizeof rec.detail);
        if (!fn(ctx, &rec)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    return db_page_end(s->db, st, rc);
}
