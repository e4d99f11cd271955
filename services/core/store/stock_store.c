#include "stock_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/options.h"

enum { ST_SEED, ST_FIND, ST_QTY, ST_TAKE, ST_RECORD, ST_ALL, ST_GIVE, ST_MARK_RELEASED, ST_BAR };

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS stock("
    " sku TEXT PRIMARY KEY, qty INTEGER NOT NULL CHECK(qty >= 0)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS reservations("
    " order_id TEXT PRIMARY KEY, status TEXT NOT NULL, items TEXT NOT NULL,"
    " reason TEXT NOT NULL) WITHOUT ROWID;";

static const char *const sql[] = {
    [ST_SEED] = "INSERT INTO stock(sku,qty) VALUES(?,?) ON CONFLICT(sku) DO NOTHING",
    [ST_FIND] = "SELECT status,reason,items FROM reservations WHERE order_id=?",
    [ST_QTY] = "SELECT qty FROM stock WHERE sku=?",
    [ST_TAKE] = "UPDATE stock SET qty=qty-? WHERE sku=? AND qty>=?",
    [ST_RECORD] = "INSERT INTO reservations(order_id,status,items,reason) VALUES(?,?,?,?)",
    [ST_ALL] = "SELECT sku,qty FROM stock",
    [ST_GIVE] = "UPDATE stock SET qty=qty+? WHERE sku=?",
    [ST_MARK_RELEASED] =
        "UPDATE reservations SET status='released',reason='released' WHERE order_id=?",
    /* A release that comes first bars the order: its /reserve, if it arrives
     * later, is answered like a refusal and moves nothing. */
    [ST_BAR] = ("INSERT INTO reservations(order_id,status,items,reason)"
                " VALUES(?,'released','','released_before_reserve')"),
};

struct seed_job {
    struct stock_store *s;
    const long *initial;
};

static int seed_job(void *arg)
{
    struct seed_job *j = arg;
    for (size_t i = 0; i < catalog_count(); i++) {
        sqlite3_stmt *st = db_reset(j->s->st[ST_SEED]);
        db_bind_text(st, 1, catalog_sku(i));
        sqlite3_bind_int64(st, 2, j->initial ? j->initial[i] : catalog_default_stock(i));
        if (db_step_done(j->s->db, st) != 0)
            return -1;
    }
    return 0;
}

int stock_store_open(struct stock_store *s, struct db *db, const long *initial)
{
    s->db = db;
    if (db_open_store(db, schema, sql, sizeof sql / sizeof sql[0], s->st) != 0)
        return -1;
    struct seed_job j = {s, initial};
    return db_transact(db, seed_job, &j);
}

void stock_store_close(struct stock_store *s)
{
    db_finalize(s->st, sizeof s->st / sizeof s->st[0]);
}

static int find(struct stock_store *s, const char *order_id, struct reserve_result *r)
{
    sqlite3_stmt *st = db_reset(s->st[ST_FIND]);
    db_bind_text(st, 1, order_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->reserved = strcmp((const char *)sqlite3_column_text(st, 0), "reserved") == 0;
        db_column_text(st, 1, r->reason, sizeof r->reason);
        r->duplicate = true;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static long qty_of(struct stock_store *s, const char *sku)
{
    sqlite3_stmt *st = db_reset(s->st[ST_QTY]);
    db_bind_text(st, 1, sku);
    long q = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return q;
}

static int record(struct stock_store *s, const struct order *o, const struct reserve_result *r)
{
    char items[ITEMS_TEXT_MAX];
    order_items_text(o, items);
    sqlite3_stmt *st = db_reset(s->st[ST_RECORD]);
    db_bind_text(st, 1, o->order_id);
    db_bind_text(st, 2, r->reserved ? "reserved" : "refused");
    db_bind_text(st, 3, items);
    db_bind_text(st, 4, r->reason);
    return db_step_done(s->db, st);
}

int stock_reserve_locked(struct stock_store *s, const struct order *o, struct reserve_result *r)
{
    memset(r, 0, sizeof *r);
    int found = find(s, o->order_id, r);
    if (found != 0)
        return found < 0 ? -1 : 0;
    /* Check every item first so a refusal moves nothing. */
    for (int i = 0; i < o->n_items; i++) {
        const char *sku = catalog_sku((size_t)o->items[i].sku);
        long q = qty_of(s, sku);
        if (q < 0)
            return -1;
        if (q < o->items[i].qty) {
            snprintf(r->reason, sizeof r->reason, "out_of_stock:%s", sku);
            return record(s, o, r);
        }
    }
    for (int i = 0; i < o->n_items; i++) {
        sqlite3_stmt *st = db_reset(s->st[ST_TAKE]);
        sqlite3_bind_int(st, 1, o->items[i].qty);
        db_bind_text(st, 2, catalog_sku((size_t)o->items[i].sku));
        sqlite3_bind_int(st, 3, o->items[i].qty);
        if (db_step_done(s->db, st) != 0 || sqlite3_changes(s->db->h) != 1)
            return -1;
    }
    r->reserved = true;
    return record(s, o, r);
}

struct reserve_job {
    struct stock_store *s;
    const struct order *o;
    struct reserve_result *r;
};

static int reserve_job(void *arg)
{
    struct reserve_job *j = arg;
    return stock_reserve_locked(j->s, j->o, j->r);
}

int stock_reserve(struct stock_store *s, const struct order *o, struct reserve_result *r)
{
    struct reserve_job j = {s, o, r};
    return db_transact(s->db, reserve_job, &j);
}

/* Puts a reserved order's items back and marks it released: a repeat then
 * finds "released" and moves nothing. */
static int release_held(struct stock_store *s, const char *order_id, const char *items)
{
    struct order o;
    memset(&o, 0, sizeof o);
    if (order_items_parse(&o, items) != 0)
        return -1;
    for (int i = 0; i < o.n_items; i++) {
        sqlite3_stmt *st = db_reset(s->st[ST_GIVE]);
        sqlite3_bind_int(st, 1, o.items[i].qty);
        db_bind_text(st, 2, catalog_sku((size_t)o.items[i].sku));
        if (db_step_done(s->db, st) != 0 || sqlite3_changes(s->db->h) != 1)
            return -1;
    }
    sqlite3_stmt *st = db_reset(s->st[ST_MARK_RELEASED]);
    db_bind_text(st, 1, order_id);
    return db_step_done(s->db, st);
}

int stock_release_locked(struct stock_store *s, const char *order_id, enum release_outcome *out)
{
    sqlite3_stmt *st = db_reset(s->st[ST_FIND]);
    db_bind_text(st, 1, order_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        *out = RELEASE_BARRED;
        st = db_reset(s->st[ST_BAR]);
        db_bind_text(st, 1, order_id);
        return db_step_done(s->db, st);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return -1;
    }
    bool held = strcmp((const char *)sqlite3_column_text(st, 0), "reserved") == 0;
    char items[ITEMS_TEXT_MAX];
    db_column_text(st, 2, items, sizeof items);
    sqlite3_reset(st);
    *out = held ? RELEASE_RESTORED : RELEASE_NOTHING_HELD;
    return held ? release_held(s, order_id, items) : 0;
}

struct release_job {
    struct stock_store *s;
    const char *order_id;
    enum release_outcome *out;
};

static int release_job(void *arg)
{
    struct release_job *j = arg;
    return stock_release_locked(j->s, j->order_id, j->out);
}

int stock_release(struct stock_store *s, const char *order_id, enum release_outcome *out)
{
    struct release_job j = {s, order_id, out};
    return db_transact(s->db, release_job, &j);
}

const char *release_outcome_name(enum release_outcome r)
{
    return r == RELEASE_RESTORED ? "restored" : r == RELEASE_BARRED ? "barred" : "nothing_held";
}

int stock_levels(struct stock_store *s, long *out)
{
    for (size_t i = 0; i < catalog_count(); i++)
        out[i] = 0;
    db_lock(s->db);
    sqlite3_stmt *st = db_reset(s->st[ST_ALL]);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int idx = catalog_index((const char *)sqlite3_column_text(st, 0));
        if (idx >= 0)
            out[idx] = (long)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    db_unlock(s->db);
    return rc == SQLITE_DONE ? 0 : -1;
}

int stock_parse_spec(const char *spec, long *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < catalog_count(); i++)
        out[i] = catalog_default_stock(i);
    if (!spec || !*spec)
        return 0;
    char *copy = strdup(spec);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        long q;
        int idx = -1;
        if (eq) {
            *eq = '\0';
            idx = catalog_index(tok);
        }
        if (idx < 0 || parse_long(eq + 1, 0, 1000000000L, &q) != 0) {
            snprintf(err, errlen,
                     "stock: expected sku=qty[,sku=qty...] with SKUs from the menu, "
                     "got '%s'",
                     spec);
            rc = -1;
            break;
        }
        out[idx] = q;
    }
    free(copy);
    return rc;
}
