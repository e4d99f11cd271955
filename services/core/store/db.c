#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "util/clock.h"
#include "util/log.h"

static _Thread_local int last_error;

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

/* The checkpoint after a commit (in place of SQLite's own, which knows only a
 * page count): when the log holds checkpoint_pages, or earlier when the
 * filesystem has less room left than twice what the log holds. A checkpoint
 * must grow the database by what the log holds before the log can be
 * emptied; if the disk fills first, neither can move. */
static int after_commit(void *arg, sqlite3 *h, const char *name, int pages)
{
    struct db *db = arg;
    bool due = pages >= db->checkpoint_pages;
    if (!due && pages >= DB_LOW_SPACE_MIN_PAGES) {
        struct statvfs fs;
        unsigned long long log = (unsigned long long)pages * (unsigned long long)db->page_size;
        due =
            statvfs(db->path, &fs) == 0 && (unsigned long long)fs.f_bavail * fs.f_frsize < 2 * log;
    }
    if (due)
        sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static int wal_limit(struct db *db, long bytes)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%ld", bytes);
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
        db_exec(db, "PRAGMA cache_size=-1024") || wal_limit(db, DB_WAL_LIMIT_BYTES)) {
        sqlite3_close(db->h);
        db->h = NULL;
        return -1;
    }
    snprintf(db->path, sizeof db->path, "%s", path);
    db->checkpoint_pages = 1000;
    sqlite3_stmt *st = NULL;
    db->page_size = 4096;
    if (sqlite3_prepare_v2(db->h, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        db->page_size = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_wal_hook(db->h, after_commit, db);
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
    if (wal_limit(db, DB_WAL_LIMIT_BATCH_BYTES) != 0)
        return -1;
    db->checkpoint_pages = 8192;
    return 0;
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

int db_open_store(struct db *db, const char *schema, const char *const *sql, size_t n,
                  sqlite3_stmt **out)
{
    return db_exec(db, schema) != 0 ? -1 : db_prepare(db, sql, n, out);
}

int db_page(struct db *db, sqlite3_stmt *st, const char *after, size_t max)
{
    db_lock(db);
    db_reset(st);
    return db_bind_text(st, 1, after) == 0 &&
                   sqlite3_bind_int64(st, 2, (sqlite3_int64)max) == SQLITE_OK
               ? SQLITE_ROW
               : SQLITE_ERROR;
}

int db_page_end(struct db *db, sqlite3_stmt *st, int rc)
{
    sqlite3_reset(st);
    db_unlock(db);
    return rc == SQLITE_DONE ? 0 : -1;
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
    int err; /* the SQLite code it failed with */
    int finished;
    struct db_job *next;
    pthread_cond_t wake;
};

/* The connection's last error, with a full disk named as such: SQLite
 * reports some writes that hit ENOSPC (the log's shared memory, a size hint)
 * as I/O errors. */
static int failure_code(struct db *db)
{
    int rc = sqlite3_extended_errcode(db->h);
    if ((rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db->h) == ENOSPC)
        return SQLITE_FULL;
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0; /* fn failed on its own account */
    default:
        return rc;
    }
}

/* Moves the whole log into the database and truncates it; under mu, outside
 * a transaction. 0 done, else the SQLite code. */
static int checkpoint_truncate(struct db *db)
{
    int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    return (rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db->h) == ENOSPC ? SQLITE_FULL : rc;
}

/* Under mu. While the disk is full, a write is tried only once a checkpoint
 * has emptied the log: a write into the log first would take the space just
 * freed, and the log could then never be moved into a database that cannot
 * grow. Between attempts, writes are refused at once. */
static bool may_write(struct db *db)
{
    if (!atomic_load(&db->full))
        return true;
    uint64_t now = clock_mono_us();
    if (now < db->full_probe_us)
        return false;
    db->full_probe_us = now + DB_FULL_PROBE_MS * 1000u;
    int rc = checkpoint_truncate(db);
    if (rc == SQLITE_FULL) {
        /* The room freed may fit a write but not the checkpoint (the log
         * holds more than that): a write is still tried now and then, and
         * commits early checkpoint as room allows (after_commit). */
        if (now < db->full_write_us)
            return false;
        db->full_write_us = now + DB_FULL_WRITE_MS * 1000u;
        return true;
    }
    /* Done, or held up by a reader (SQLITE_BUSY): the write decides. */
    atomic_store(&db->full, false);
    log_info("sqlite: disk space is back (checkpoint %s); writing again",
             rc == 0 ? "done, log truncated" : sqlite3_errstr(rc));
    return true;
}

/* Under mu, after a group ran: err is SQLITE_FULL if it found the disk full. */
static void note_failure(struct db *db, int err)
{
    if (err != SQLITE_FULL) {
        if (atomic_load(&db->full)) {
            atomic_store(&db->full, false);
            log_info("sqlite: a write fit in the room freed; writing again");
        }
        return;
    }
    if (atomic_load(&db->full))
        return;
    log_warn("sqlite: the disk is full; writes are refused until a checkpoint can empty the log");
    atomic_store(&db->full, true);
    /* At once: what the log holds may fit in the database now. */
    db->full_probe_us = 0;
    if (checkpoint_truncate(db) == 0) {
        atomic_store(&db->full, false);
        log_info("sqlite: the log was checkpointed and truncated; writing again");
    }
}

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
    if (db_exec(db, "BEGIN IMMEDIATE") != 0) {
        j->result = -1;
        j->err = failure_code(db);
        return;
    }
    j->result = j->fn(j->arg);
    if (j->result != 0)
        j->err = failure_code(db);
    if (rolled_back(db)) {
        if (j->result == 0) {
            j->result = -1;
            j->err = failure_code(db);
        }
    } else if (j->result != 0)
        db_exec(db, "ROLLBACK");
    else if (db_exec(db, "COMMIT") != 0) {
        j->err = failure_code(db);
        db_exec(db, "ROLLBACK");
        j->result = -1;
    }
}

static void fail_all(struct db_job *group, int err)
{
    for (struct db_job *j = group; j; j = j->next)
        if (j->result == 0) { /* committed nothing, or never ran */
            j->result = -1;
            j->err = err;
        }
}

/* Runs a group of more than one: every job in its own savepoint, one COMMIT
 * for all. If a job's error rolls the whole transaction back, the jobs
 * before it are undone with it, and the next job's SAVEPOINT would open a
 * new transaction that its RELEASE commits on its own: so the group ends
 * there, every job in it failed, the rest not run. */
static void run_savepoints(struct db *db, struct db_job *group)
{
    if (db_exec(db, "BEGIN IMMEDIATE") != 0) {
        fail_all(group, failure_code(db));
        return;
    }
    for (struct db_job *j = group; j; j = j->next) {
        if (db_exec(db, "SAVEPOINT job") != 0) {
            j->result = -1;
            j->err = failure_code(db);
            continue;
        }
        j->result = j->fn(j->arg);
        if (j->result != 0)
            j->err = failure_code(db);
        if (!rolled_back(db)) {
            if (j->result != 0)
                db_exec(db, "ROLLBACK TO job");
            db_exec(db, "RELEASE job");
            continue;
        }
        log_error("sqlite rolled back a group of transactions: reporting each one failed");
        int err = j->err ? j->err : failure_code(db);
        for (struct db_job *k = group; k; k = k->next)
            if (k->result == 0 || k == j) {
                k->result = k->result ? k->result : -1;
                k->err = err;
            }
        return;
    }
    if (db_exec(db, "COMMIT") != 0) {
        int err = failure_code(db);
        db_exec(db, "ROLLBACK");
        for (struct db_job *j = group; j; j = j->next) {
            j->result = -1;
            j->err = err;
        }
    }
}

static void run_group(struct db *db, struct db_job *group)
{
    pthread_mutex_lock(&db->mu);
    if (!may_write(db)) {
        fail_all(group, SQLITE_FULL);
    } else {
        if (group->next)
            run_savepoints(db, group);
        else
            run_alone(db, group);
        int err = 0;
        for (struct db_job *j = group; j && !err; j = j->next)
            err = j->result != 0 && j->err == SQLITE_FULL ? SQLITE_FULL : 0;
        note_failure(db, err);
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
    last_error = me.result != 0 ? me.err : 0;
    return me.result;
}

int db_last_error(void)
{
    return last_error;
}

bool db_full(struct db *db)
{
    return atomic_load(&db->full);
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
