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
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long a connection waits for another one holding the write lock (a
 * commlab-dump reading, a relay thread) before giving up with an error. */
#define DB_BUSY_TIMEOUT_MS 5000
/* What the write-ahead log may keep of its file after a checkpoint (a batch
 * consumer keeps more: its log grows to 32 MiB between checkpoints). Without
 * a limit the log never shrinks, and on a nearly full disk the space it holds
 * is the space a checkpoint needs to grow the database. */
#define DB_WAL_LIMIT_BYTES (4L << 20)
#define DB_WAL_LIMIT_BATCH_BYTES (32L << 20)
/* While the disk is full, how often a write first tries to move the log into
 * the database and truncate it; in between, writes are refused at once. */
#define DB_FULL_PROBE_MS 200
#define DB_FULL_WRITE_MS 1000
/* Below this many pages in the log, no early checkpoint for lack of room. */
#define DB_LOW_SPACE_MIN_PAGES 64

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
    /* A write found the disk full: no write is tried until a checkpoint has
     * moved the log into the database and truncated it (space freed meanwhile
     * goes to the checkpoint, not to a log that can never be moved). */
    atomic_bool full;
    uint64_t full_probe_us; /* the next checkpoint attempt; under mu */
    uint64_t full_write_us; /* the next write tried although the checkpoint failed */
    int checkpoint_pages;   /* the log's size, in pages, that starts a checkpoint */
    int page_size;
    char path[4096]; /* the database file, for the room left beside it */
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
 * per several batches rather than once per batch (earlier when the disk has
 * less room than twice the log: see after_commit). The cache fills within
 * the first few thousand events and stays that size. */
int db_tune_for_batches(struct db *db);
/* Prepares n statements so that a typo fails at start, not mid-run. */
int db_prepare(struct db *db, const char *const *sql, size_t n, sqlite3_stmt **out);
void db_finalize(sqlite3_stmt **st, size_t n);
/* A store's opening: creates its tables (`schema`, IF NOT EXISTS) and
 * prepares its n statements; 0 or -1. */
int db_open_store(struct db *db, const char *schema, const char *const *sql, size_t n,
                  sqlite3_stmt **out);
/* A page of rows in key order (a query of "key>?1 ... LIMIT ?2"): db_page
 * locks the database and binds the page to `st`, SQLITE_ROW to go on
 * stepping or SQLITE_ERROR; db_page_end (whatever came of it) resets `st`
 * and unlocks: 0 when the rows ran out or the reader stopped
 * (rc SQLITE_DONE), else -1. */
int db_page(struct db *db, sqlite3_stmt *st, const char *after, size_t max);
int db_page_end(struct db *db, sqlite3_stmt *st, int rc);

/* Runs fn(arg) in a transaction, durably committed when this returns 0.
 * Returns fn's non-zero result (its work undone), or -1 if the commit failed. */
int db_transact(struct db *db, db_txn_fn fn, void *arg);
/* Why the calling thread's last db_transact failed: an SQLite code (a full
 * disk is SQLITE_FULL however SQLite saw it), 0 if it succeeded or fn
 * failed without an SQLite error. Per thread, as errno is. */
int db_last_error(void);
/* True while writes are refused because the disk was full (see `full`). */
bool db_full(struct db *db);
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
