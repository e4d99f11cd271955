#include "db.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"

int db_exec(struct db *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("sqlite: %.60s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int db_add_column(struct db *db, const char *table, const char *column, const char *decl)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, "SELECT 1 FROM pragma_table_info(?) WHERE name=?", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return -1;
    char sql[256];
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", table, column, decl);
    return db_exec(db, sql);
}

int db_open(struct db *db, const char *path)
{
    memset(db, 0, sizeof *db);
    int rc = sqlite3_open_v2(
        path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        log_error("cannot open database %s: %s (check the directory exists and is writable)", path,
                  db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        sqlite3_close(db->h);
        db->h = NULL;
        return -1;
    }
    sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
    /* A 1 MiB page cache per service: the hot rows are few, and memory stays
     * inside the footprint budget whatever the table sizes. */
    if (db_exec(db, "PRAGMA journal_mode=WAL") || db_exec(db, "PRAGMA synchronous=FULL") ||
        db_exec(db, "PRAGMA cache_size=-1024")) {
        sqlite3_close(db->h);
        db->h = NULL;
        return -1;
    }
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->queue_mu, NULL);
    db->tail = &db->queue;
    return 0;
}

void db_close(struct db *db)
{
    if (!db->h)
        return;
    if (db->jobs)
        log_info("database closed: %lu transactions in %lu commits", db->jobs, db->groups);
    sqlite3_close(db->h);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->queue_mu);
    db->h = NULL;
}

int db_tune_for_batches(struct db *db)
{
    if (db_exec(db, "PRAGMA cache_size=-8192") != 0)
        return -1;
    return db_exec(db, "PRAGMA wal_autocheckpoint=8192");
}

int db_prepare(struct db *db, const char *const *sql, size_t n, sqlite3_stmt **out)
{
    for (size_t i = 0; i < n; i++) {
        if (sqlite3_prepare_v3(db->h, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &out[i], NULL) !=
            SQLITE_OK) {
            log_error("sqlite: cannot prepare \"%s\": %s", sql[i], sqlite3_errmsg(db->h));
            db_finalize(out, i);
            return -1;
        }
    }
    return 0;
}

void db_finalize(sqlite3_stmt **st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_finalize(st[i]);
        st[i] = NULL;
    }
}

void db_lock(struct db *db)
{
    pthread_mutex_lock(&db->mu);
}

void db_unlock(struct db *db)
{
    pthread_mutex_unlock(&db->mu);
}

struct db_job {
    db_txn_fn fn;
    void *arg;
    int result;
    int finished;
    struct db_job *next;
    pthread_cond_t wake;
};

/* True when SQLite itself rolled the open transaction back: SQLITE_FULL,
 * IOERR and NOMEM may do that, whatever savepoint the job ran in. */
static int rolled_back(struct db *db)
{
    return sqlite3_get_autocommit(db->h);
}

/* A group of one needs no savepoint: its failure rolls back the whole
 * transaction. That matters for big jobs (a consumer's batch): SQLite copies
 * every existing page a savepoint modifies into a statement journal. */
static void run_alone(struct db *db, struct db_job *j)
{
    pthread_mutex_lock(&db->mu);
    if (db_exec(db, "BEGIN IMMEDIATE") != 0) {
        j->result = -1;
    } else {
        j->result = j->fn(j->arg);
        if (rolled_back(db)) {
            if (j->result == 0)
                j->result = -1;
        } else if (j->result != 0)
            db_exec(db, "ROLLBACK");
        else if (db_exec(db, "COMMIT") != 0) {
            db_exec(db, "ROLLBACK");
            j->result = -1;
        }
    }
    pthread_mutex_unlock(&db->mu);
}

/* Runs one group: every job in its own savepoint, one COMMIT for all. If a
 * job's error rolls the whole transaction back, the jobs before it are undone
 * with it, and the next job's SAVEPOINT would open a new transaction that its
 * RELEASE commits on its own: so the group ends there, every job in it
 * failed, the rest not run. */
static void run_group(struct db *db, struct db_job *group)
{
    if (!group->next) {
        run_alone(db, group);
        return;
    }
    pthread_mutex_lock(&db->mu);
    int open = db_exec(db, "BEGIN IMMEDIATE") == 0;
    for (struct db_job *j = group; j; j = j->next) {
        if (!open || db_exec(db, "SAVEPOINT job") != 0) {
            j->result = -1;
            continue;
        }
        j->result = j->fn(j->arg);
        if (!rolled_back(db)) {
            if (j->result != 0)
                db_exec(db, "ROLLBACK TO job");
            db_exec(db, "RELEASE job");
            continue;
        }
        log_error("sqlite rolled back a group of transactions: reporting each one failed");
        for (struct db_job *k = group; k; k = k->next)
            if (k->result == 0) /* committed nothing, or never ran */
                k->result = -1;
        open = 0;
        break;
    }
    if (open && db_exec(db, "COMMIT") != 0) {
        db_exec(db, "ROLLBACK");
        for (struct db_job *j = group; j; j = j->next)
            j->result = -1;
    }
    pthread_mutex_unlock(&db->mu);
}

int db_transact(struct db *db, db_txn_fn fn, void *arg)
{
    /* Each waiter sleeps on its own condition: a committer wakes exactly the
     * jobs it finished and the next leader, not every waiting thread (with a
     * shared condition, each commit woke them all to find most still queued). */
    struct db_job me = {.fn = fn, .arg = arg, .wake = PTHREAD_COND_INITIALIZER};
    pthread_mutex_lock(&db->queue_mu);
    *db->tail = &me;
    db->tail = &me.next;
    db->queued++;
    while (!me.finished) {
        if (db->committing) {
            pthread_cond_wait(&me.wake, &db->queue_mu);
            continue;
        }
        /* Nobody is committing: take everything queued (this job included). */
        struct db_job *group = db->queue;
        db->queue = NULL;
        db->tail = &db->queue;
        db->queued = 0;
        db->committing = 1;
        pthread_mutex_unlock(&db->queue_mu);
        run_group(db, group);
        pthread_mutex_lock(&db->queue_mu);
        unsigned long n = 0;
        for (struct db_job *j = group, *next; j; j = next) {
            /* A finished job's memory belongs to its waiter again as soon as
             * queue_mu is released; it cannot return before that. */
            next = j->next;
            j->finished = 1;
            if (j != &me)
                pthread_cond_signal(&j->wake);
            n++;
        }
        db->groups++;
        db->jobs += n;
        db->committing = 0;
        if (db->queue)
            pthread_cond_signal(&db->queue->wake); /* the next group's leader */
    }
    pthread_mutex_unlock(&db->queue_mu);
    pthread_cond_destroy(&me.wake);
    return me.result;
}

sqlite3_stmt *db_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int db_step_done(struct db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("sqlite: %s", sqlite3_errmsg(db->h));
        return -1;
    }
    return 0;
}

int db_bind_text(sqlite3_stmt *st, int col, const char *s)
{
    return sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

void db_column_text(sqlite3_stmt *st, int col, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

int db_error_is_transient(int sqlite_code)
{
    switch (sqlite_code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        return 1;
    default:
        return 0;
    }
}
