#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

enum { ST_ADD, ST_PENDING, ST_MARK, ST_COUNT, ST_MARK_ROW, ST_SET_ASIDE, ST_DEFER, ST_DEAD };

/* sent: 0 waiting, 1 delivered, 2 set aside (dead_reason says why). */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS outbox("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,"
    " destination TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,"
    " sent INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL DEFAULT 0, dead_reason TEXT);"
    "CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(seq) WHERE sent=0;";
/* After the columns exist (an outbox made before them gains them first). */
static const char indexes[] =
    "CREATE INDEX IF NOT EXISTS outbox_deferred ON outbox(next_at) WHERE sent=0 AND next_at>0;";
static const char *const added_columns[] = {
    "attempts INTEGER NOT NULL DEFAULT 0",
    "next_at INTEGER NOT NULL DEFAULT 0",
    "dead_reason TEXT",
};

static const char *const sql[] = {
    [ST_ADD] = ("INSERT INTO outbox(event_id,destination,key,body) VALUES(?,?,?,?) "
                "ON CONFLICT(event_id) DO NOTHING"),
    /* The keys waiting out a backoff: a handful at most, read once per query
     * through outbox_deferred. */
    [ST_PENDING] = ("SELECT seq,destination,key,body,attempts FROM outbox WHERE sent=0"
                    " AND (?2 IS NULL OR destination=?2) AND next_at<=?3"
                    " AND key NOT IN (SELECT key FROM outbox"
                    "  WHERE sent=0 AND next_at>0 AND next_at>?3)"
                    " ORDER BY seq LIMIT ?1"),
    [ST_MARK] = ("UPDATE outbox SET sent=1 WHERE sent=0 AND seq<=?1"
                 " AND (?2 IS NULL OR destination=?2)"),
    [ST_COUNT] = "SELECT count(*) FROM outbox WHERE sent=0 AND (?1 IS NULL OR destination=?1)",
    [ST_MARK_ROW] = "UPDATE outbox SET sent=1 WHERE seq=?1 AND sent=0",
    [ST_SET_ASIDE] = ("UPDATE outbox SET sent=2, attempts=attempts+1, dead_reason=?2"
                      " WHERE seq=?1 AND sent=0"),
    [ST_DEFER] = "UPDATE outbox SET attempts=attempts+1, next_at=?2 WHERE seq=?1 AND sent=0",
    [ST_DEAD] = "SELECT count(*) FROM outbox WHERE sent=2 AND (?1 IS NULL OR destination=?1)",
};

static int has_column(struct db *db, const char *decl)
{
    size_t n = strcspn(decl, " ");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "SELECT name FROM pragma_table_info('outbox')", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    int found = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name && strlen(name) == n && strncmp(name, decl, n) == 0)
            found = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? found : -1;
}

int outbox_open(struct outbox *ob, struct db *db)
{
    ob->db = db;
    if (db_exec(db, schema) != 0)
        return -1;
    for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++) {
        int has = has_column(db, added_columns[i]);
        char alter[128];
        snprintf(alter, sizeof alter, "ALTER TABLE outbox ADD COLUMN %s", added_columns[i]);
        if (has < 0 || (has == 0 && db_exec(db, alter) != 0))
            return -1;
    }
    if (db_exec(db, indexes) != 0)
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
    sqlite3_bind_int64(st, 3, clock_wall_ms());
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
        r->attempts = sqlite3_column_int(st, 4);
        r->fate = OUTBOX_NOT_TRIED;
        r->why[0] = '\0';
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

int outbox_mark_row_sent_locked(struct outbox *ob, int64_t seq)
{
    sqlite3_stmt *st = db_reset(ob->st[ST_MARK_ROW]);
    sqlite3_bind_int64(st, 1, seq);
    return db_step_done(ob->db, st);
}

int outbox_set_aside_locked(struct outbox *ob, int64_t seq, const char *why)
{
    sqlite3_stmt *st = db_reset(ob->st[ST_SET_ASIDE]);
    sqlite3_bind_int64(st, 1, seq);
    if (db_bind_text(st, 2, why) != 0)
        return -1;
    return db_step_done(ob->db, st);
}

int outbox_defer_locked(struct outbox *ob, int64_t seq, int64_t next_at_ms)
{
    sqlite3_stmt *st = db_reset(ob->st[ST_DEFER]);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, next_at_ms);
    return db_step_done(ob->db, st);
}

static long count(struct outbox *ob, int which, const char *destination)
{
    db_lock(ob->db);
    sqlite3_stmt *st = db_reset(ob->st[which]);
    long n = -1;
    if (!destination || db_bind_text(st, 1, destination) == 0)
        n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    db_unlock(ob->db);
    return n;
}

long outbox_backlog(struct outbox *ob, const char *destination)
{
    return count(ob, ST_COUNT, destination);
}

long outbox_dead_letters(struct outbox *ob, const char *destination)
{
    return count(ob, ST_DEAD, destination);
}
