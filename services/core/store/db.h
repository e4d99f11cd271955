/* One SQLite database per service: WAL, synchronous=FULL (a commit survives a
 * machine crash, not only a process kill), schema created idempotently,
 * statements prepared once at start. A connection is shared by a service's
 * threads; several stores on one connection (orders + outbox, stock +
 * processed events + outbox) commit together.
 *
 * Writes go through db_transact, which commits in groups: while one thread
 * commits (and waits for fsync), the transactions other threads submit queue
 * up and the next committer runs them all in one transaction, each inside its
 * own savepoint. Every caller still returns only after its work is durable,
 * and one caller's failure rolls back only its own work. */
#ifndef COMMLAB_DB_H
#define COMMLAB_DB_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

/* How long a connection waits for another one holding the write lock (a
 * commlab-dump reading, a relay thread) before giving up with an error. */
#define DB_BUSY_TIMEOUT_MS 5000

struct db_job;

struct db {
    sqlite3 *h;
    pthread_mutex_t mu;       /* the connection: held while statements run */
    pthread_mutex_t queue_mu; /* the queue below */
    struct db_job *queue;     /* submitted, not yet taken by a committer */
    struct db_job **tail;
    size_t queued;              /* jobs in the queue */
    int committing;             /* a thread is running a group */
    unsigned long groups, jobs; /* counts, for metrics */
};

/* Work run inside a transaction; return 0 to keep it, non-zero to undo it. */
typedef int (*db_txn_fn)(void *arg);

int db_open(struct db *db, const char *path);
void db_close(struct db *db);
/* Runs SQL without results (schema); logs and returns -1 on error. */
int db_exec(struct db *db, const char *sql);
/* Adds a column to a table made by an older version (no-op when it has it). */
int db_add_column(struct db *db, const char *table, const char *column, const char *decl);
/* For a consumer that commits batches of hundreds of events keyed by random
 * ids (event_id, order_id): each batch dirties a page in every index for
 * nearly every event. An 8 MiB page cache holds a batch's dirty pages (a
 * smaller one spills them to the WAL mid-transaction), and a checkpoint every
 * 8192 pages instead of 1000 copies each hot page back to the database once
 * per several batches rather than once per batch. The cache fills within the
 * first few thousand events and stays that size. */
int db_tune_for_batches(struct db *db);
/* Prepares n statements so that a typo fails at start, not mid-run. */
int db_prepare(struct db *db, const char *const *sql, size_t n, sqlite3_stmt **out);
void db_finalize(sqlite3_stmt **st, size_t n);

/* Runs fn(arg) in a transaction, durably committed when this returns 0.
 * Returns fn's non-zero result (its work undone), or -1 if the commit failed. */
int db_transact(struct db *db, db_txn_fn fn, void *arg);
/* Whether an SQLite error code is the store's trouble, not the data's: a full
 * disk, an I/O error, a busy or locked database, no memory. The same data may
 * pass later; a consumer must not count it against the message. */
int db_error_is_transient(int sqlite_code);
/* For reads outside a transaction. */
void db_lock(struct db *db);
void db_unlock(struct db *db);

/* Resets a statement and clears its bindings, returning it for chaining. */
sqlite3_stmt *db_reset(sqlite3_stmt *st);
/* Steps a statement that returns no rows; 0 on success. */
int db_step_done(struct db *db, sqlite3_stmt *st);
/* Binds a NUL-terminated string (copied: the caller's buffer may go). */
int db_bind_text(sqlite3_stmt *st, int col, const char *s);
/* Copies column `col` as text into out (always terminated). */
void db_column_text(sqlite3_stmt *st, int col, char *out, size_t len);

#endif
