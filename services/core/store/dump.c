#include "dump.h"

#include <sqlite3.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

struct table {
    const char *name;
    const char *query;
    int time_col;     /* column holding event time in ms, printed as text; -1 none */
    const char *from; /* the table read, when not `name` */
};

static const struct table tables[] = {
    {"orders",
     "SELECT order_id,user_id,occurred_at,items,status,detail FROM orders ORDER BY order_id", 2,
     NULL},
    {"stock", "SELECT sku,qty FROM stock ORDER BY sku", -1, NULL},
    {"reservations", "SELECT order_id,status,items,reason FROM reservations ORDER BY order_id", -1,
     NULL},
    {"notifications", "SELECT order_id,user_id,message FROM notifications ORDER BY order_id", -1,
     NULL},
    /* Outbox rows the far side refused for good, with why (outbox.h). */
    {"outbox_dead",
     "SELECT event_id,destination,key,dead_reason FROM outbox WHERE sent=2 ORDER BY event_id", -1,
     "outbox"},
};

static int has_table(sqlite3 *h, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int dump_table(sqlite3 *h, const struct table *t, struct buf *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, t->query, -1, &st, NULL) != SQLITE_OK) {
        /* An outbox from before dead letters (its service not started
         * since, which adds the columns) has none to list. */
        return t->from && strstr(sqlite3_errmsg(h), "no such column") ? 0 : -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        buf_puts(out, t->name);
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            buf_puts(out, "\t");
            if (c == t->time_col) {
                char text[TIME_TEXT_LEN + 1];
                time_format_ms(sqlite3_column_int64(st, c), text);
                buf_puts(out, text);
            } else {
                const unsigned char *v = sqlite3_column_text(st, c);
                buf_puts(out, v ? (const char *)v : "");
            }
        }
        buf_puts(out, "\n");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int dump_database(const char *path, struct buf *out)
{
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        log_error("cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return -1;
    }
    sqlite3_busy_timeout(h, 5000);
    int rc = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0] && rc == 0; i++) {
        int has = has_table(h, tables[i].from ? tables[i].from : tables[i].name);
        if (has < 0)
            rc = -1;
        else if (has)
            rc = dump_table(h, &tables[i], out);
    }
    if (rc != 0)
        log_error("cannot read %s: %s", path, sqlite3_errmsg(h));
    sqlite3_close(h);
    return rc;
}
