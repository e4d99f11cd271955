#include "outbox.h"

#include <stdlib.h>
#include <string.h>

enum { ST_ADD, ST_PENDING, ST_MARK, ST_COUNT };

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS outbox("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,"
    " destination TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,"
    " sent INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(seq) WHERE sent=0;";

static const char *const sql[] = {
    [ST_ADD] = ("INSERT INTO outbox(event_id,destination,key,body) VALUES(?,?,?,?) "
                "ON CONFLICT(event_id) DO NOTHING"),
    [ST_PENDING] = ("SELECT seq,destination,key,body FROM outbox WHERE sent=0"
                    " AND (?2 IS NULL OR destination=?2) ORDER BY seq LIMIT ?1"),
    [ST_MARK] = ("UPDATE outbox SET sent=1 WHERE sent=0 AND seq<=?1"
                 " AND (?2 IS NULL OR destination=?2)"),
    [ST_COUNT] = "SELECT count(*) FROM outbox WHERE sent=0 AND (?1 IS NULL OR destination=?1)",
};

int outbox_open(struct outbox *ob, struct db *db)
{
    ob->db = db;
    if (db_exec(db, schema) != 0)
        return -1;
    return db_prepare(db, sql, sizeof sql / sizeof sql[0], ob->st);
}

void outbox_close(struct outbox *ob)
{
    db_finalize(ob->st, sizeof ob->st / sizeof ob->st[0]);
}

int outbox_add_locked(struct outbox *ob, const char *event_id, const char *destination,
                      const char *key, const char *body)
{
    sqlite3_stmt *st = db_reset(ob->st[ST_ADD]);
    db_bind_text(st, 1, event_id);
    db_bind_text(st, 2, destination);
    db_bind_text(st, 3, key);
    db_bind_text(st, 4, body);
    if (db_step_done(ob->db, st) != 0)
        return -1;
    return sqlite3_changes(ob->db->h) == 1 ? 1 : 0;
}

static char *dup_col(sqlite3_stmt *st, int col, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, t ? (const char *)t : "", n);
        p[n] = '\0';
    }
    if (len)
        *len = n;
    return p;
}

int outbox_pending(struct outbox *ob, const char *destination, struct outbox_row *rows, size_t max,
                   size_t *n)
{
    *n = 0;
    db_lock(ob->db);
    sqlite3_stmt *st = db_reset(ob->st[ST_PENDING]);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    if (destination && db_bind_text(st, 2, destination) != 0) {
        db_unlock(ob->db);
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct outbox_row *r = &rows[*n];
        r->seq = sqlite3_column_int64(st, 0);
        r->destination = dup_col(st, 1, NULL);
        r->key = dup_col(st, 2, NULL);
        r->body = dup_col(st, 3, &r->body_len);
        (*n)++;
        if (!r->destination || !r->key || !r->body) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_reset(st);
    db_unlock(ob->db);
    if (rc != SQLITE_DONE) {
        outbox_rows_free(rows, *n);
        *n = 0;
        return -1;
    }
    return 0;
}

void outbox_rows_free(struct outbox_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].destination);
        free(rows[i].key);
        free(rows[i].body);
    }
}

int outbox_mark_sent_locked(struct outbox *ob, const char *destination, int64_t upto_seq)
{
    sqlite3_stmt *st = db_reset(ob->st[ST_MARK]);
    sqlite3_bind_int64(st, 1, upto_seq);
    if (destination && db_bind_text(st, 2, destination) != 0)
        return -1;
    return db_step_done(ob->db, st);
}

struct mark_job {
    struct outbox *ob;
    const char *destination;
    int64_t upto_seq;
};

static int mark_job(void *arg)
{
    struct mark_job *j = arg;
    return outbox_mark_sent_locked(j->ob, j->destination, j->upto_seq);
}

int outbox_mark_sent(struct outbox *ob, const char *destination, int64_t upto_seq)
{
    struct mark_job j = {ob, destination, upto_seq};
    return db_transact(ob->db, mark_job, &j);
}

long outbox_backlog(struct outbox *ob, const char *destination)
{
    db_lock(ob->db);
    sqlite3_stmt *st = db_reset(ob->st[ST_COUNT]);
    long n = -1;
    if (!destination || db_bind_text(st, 1, destination) == 0)
        n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    db_unlock(ob->db);
    return n;
}
