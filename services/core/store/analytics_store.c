#include "analytics_store.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"

enum { ST_ADD, ST_CLEAR, ST_TOTALS, ST_MINUTES, ST_FIND, ST_ORDER };

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS analytics_events("
    " event_id TEXT PRIMARY KEY, type INTEGER NOT NULL, order_id TEXT NOT NULL,"
    " occurred_at INTEGER NOT NULL, digest INTEGER) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS analytics_events_order ON analytics_events(order_id, type);";

/* Types are stored as enum event_type values. */
static const char *const sql[] = {
    [ST_ADD] = "INSERT INTO analytics_events(event_id,type,order_id,occurred_at,digest,"
               "order_digest) VALUES(?,?,?,?,?,?) ON CONFLICT(event_id) DO NOTHING",
    [ST_CLEAR] = "DELETE FROM analytics_events",
    [ST_TOTALS] = "SELECT type, count(*) FROM analytics_events GROUP BY type",
    [ST_MINUTES] = "SELECT occurred_at / 60000 AS m, type, count(*) FROM analytics_events"
                   " GROUP BY m, type ORDER BY m, type",
    [ST_FIND] = "SELECT type, order_id, digest FROM analytics_events WHERE event_id=?",
    [ST_ORDER] = "SELECT event_id, type, order_digest FROM analytics_events WHERE order_id=?",
};

int analytics_store_open(struct analytics_store *s, struct db *db)
{
    s->db = db;
    /* Rows from before the digests have none: told apart by type and order. */
    if (db_exec(db, schema) != 0 ||
        db_add_column(db, "analytics_events", "digest", "INTEGER") != 0 ||
        db_add_column(db, "analytics_events", "order_digest", "INTEGER") != 0)
        return -1;
    return db_prepare(db, sql, sizeof sql / sizeof sql[0], s->st);
}

void analytics_store_close(struct analytics_store *s)
{
    db_finalize(s->st, sizeof s->st / sizeof s->st[0]);
}

/* What an event says of its order: the order_id, user, items and event
 * time, the same in an OrderPlaced and in the outcome that answers it. */
static uint64_t order_digest(const struct event *ev)
{
    struct event o = {.type = EVENT_ORDER_PLACED, .order = ev->order};
    return event_digest(&o);
}

/* The verdict of the other events counted for ev's order (under other
 * event_ids; its own id is counted()'s to judge): a contradiction when one
 * says otherwise of the order (other user, items or event time) or is the
 * opposite outcome; a duplicate when one is the same kind of event for the
 * same order (one of each kind counts); 0 when ev fits; -1 on error. */
static int fits(struct analytics_store *s, const struct event *ev, uint64_t od)
{
    sqlite3_stmt *st = db_reset(s->st[ST_ORDER]);
    if (db_bind_text(st, 1, ev->order.order_id) != 0)
        return -1;
    int rc = SQLITE_DONE, v = 0;
    while (v != ANALYTICS_CONTRADICTION && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(st, 0), ev->event_id) == 0)
            continue;
        int type = sqlite3_column_int(st, 1);
        bool other_order = sqlite3_column_type(st, 2) != SQLITE_NULL &&
                           sqlite3_column_int64(st, 2) != (sqlite3_int64)od;
        if (other_order ||
            (ev->type != EVENT_ORDER_PLACED && type != EVENT_ORDER_PLACED && type != (int)ev->type))
            v = ANALYTICS_CONTRADICTION;
        else if (type == (int)ev->type)
            v = ANALYTICS_DUPLICATE;
    }
    if (v != ANALYTICS_CONTRADICTION && rc != SQLITE_DONE)
        v = -1;
    sqlite3_reset(st);
    return v;
}

/* The verdict on an event_id counted already: the same event again (type,
 * order and content: event_digest), or another one reusing its id; 0 when
 * it is not there, -1 on error. */
static int counted(struct analytics_store *s, const struct event *ev)
{
    sqlite3_stmt *st = db_reset(s->st[ST_FIND]);
    if (db_bind_text(st, 1, ev->event_id) != 0)
        return -1;
    int rc = sqlite3_step(st);
    int v = rc == SQLITE_DONE ? 0 : -1;
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int(st, 0) == (int)ev->type &&
                    strcmp((const char *)sqlite3_column_text(st, 1), ev->order.order_id) == 0 &&
                    (sqlite3_column_type(st, 2) == SQLITE_NULL ||
                     sqlite3_column_int64(st, 2) == (sqlite3_int64)event_digest(ev))
                ? ANALYTICS_DUPLICATE
                : ANALYTICS_CONFLICT;
    sqlite3_reset(st);
    return v;
}

/* New event_ids are the common case: inserting first (nothing where the id
 * is there) costs them one b-tree descent instead of a lookup and an insert;
 * the verdicts are those of looking up first. */
int analytics_add_locked(struct analytics_store *s, const struct event *ev)
{
    /* One event of each kind per order, all saying the same of it: what
     * was counted first wins. */
    uint64_t od = order_digest(ev);
    int fit = fits(s, ev, od);
    if (fit < 0)
        return -1;
    if (fit) {
        int v = counted(s, ev); /* a duplicate or a conflict of its id says so first */
        return v != 0 ? v : fit;
    }
    sqlite3_stmt *st = db_reset(s->st[ST_ADD]);
    if (db_bind_text(st, 1, ev->event_id) != 0 || db_bind_text(st, 3, ev->order.order_id) != 0)
        return -1;
    sqlite3_bind_int(st, 2, (int)ev->type);
    sqlite3_bind_int64(st, 4, ev->order.occurred_at);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)event_digest(ev));
    sqlite3_bind_int64(st, 6, (sqlite3_int64)od);
    if (db_step_done(s->db, st) != 0)
        return -1;
    if (sqlite3_changes(s->db->h) == 1)
        return ANALYTICS_ADDED;
    int v = counted(s, ev);
    return v != 0 ? v : -1;
}

int analytics_clear_locked(struct analytics_store *s)
{
    return db_step_done(s->db, db_reset(s->st[ST_CLEAR]));
}

static void add_count(struct analytics_totals *t, int type, long n)
{
    if (type == EVENT_ORDER_PLACED)
        t->orders += n;
    else if (type == EVENT_INVENTORY_RESERVED)
        t->reserved += n;
    else if (type == EVENT_INVENTORY_FAILED)
        t->failed += n;
}

int analytics_totals(struct analytics_store *s, struct analytics_totals *t)
{
    memset(t, 0, sizeof *t);
    db_lock(s->db);
    sqlite3_stmt *st = db_reset(s->st[ST_TOTALS]);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        add_count(t, sqlite3_column_int(st, 0), (long)sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    db_unlock(s->db);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* failed / (reserved + failed) as "0.dddddd", rounded half up, in integers
 * so that no floating-point formatting can differ between machines. */
static void rate_text(long failed, long reserved, char out[48])
{
    long all = failed + reserved;
    long long ppm = all ? ((long long)failed * 2000000 + all) / (2LL * all) : 0;
    snprintf(out, 48, "%lld.%06lld", ppm / 1000000, ppm % 1000000);
}

static void put_bucket(struct buf *b, bool first, int64_t minute, const struct analytics_totals *t)
{
    char when[TIME_TEXT_LEN + 1], rate[48];
    time_format_ms(minute * 60000, when);
    rate_text(t->failed, t->reserved, rate);
    /* "YYYY-MM-DDTHH:MM" + "Z": the minute, seconds dropped. */
    buf_printf(b,
               "%s\n {\"minute\":\"%.16sZ\",\"orders\":%ld,\"reserved\":%ld,\"failed\":%ld,"
               "\"failure_rate\":%s}",
               first ? "" : ",", when, t->orders, t->reserved, t->failed, rate);
}

int analytics_render(struct analytics_store *s, struct buf *out)
{
    struct analytics_totals all = {0}, cur = {0};
    struct buf minutes = {0};
    bool first = true, have = false;
    int64_t m = 0;
    db_lock(s->db);
    sqlite3_stmt *st = db_reset(s->st[ST_MINUTES]);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t row_m = sqlite3_column_int64(st, 0);
        if (have && row_m != m) {
            put_bucket(&minutes, first, m, &cur);
            first = false;
            memset(&cur, 0, sizeof cur);
        }
        m = row_m;
        have = true;
        long n = (long)sqlite3_column_int64(st, 2);
        add_count(&cur, sqlite3_column_int(st, 1), n);
        add_count(&all, sqlite3_column_int(st, 1), n);
    }
    sqlite3_reset(st);
    db_unlock(s->db);
    if (have)
        put_bucket(&minutes, first, m, &cur);
    if (rc != SQLITE_DONE || minutes.failed) {
        buf_free(&minutes);
        return -1;
    }
    char rate[48];
    rate_text(all.failed, all.reserved, rate);
    buf_printf(out,
               "{\"schema\":1,\n\"totals\":{\"orders\":%ld,\"reserved\":%ld,\"failed\":%ld,"
               "\"failure_rate\":%s},\n\"per_minute\":[",
               all.orders, all.reserved, all.failed, rate);
    if (minutes.len)
        buf_append(out, minutes.data, minutes.len);
    buf_puts(out, "\n]}\n");
    buf_free(&minutes);
    return out->failed ? -1 : 0;
}
