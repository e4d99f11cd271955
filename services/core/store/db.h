/* One SQLite database per service: WAL, synchronous=FULL (a commit survives a
 * machine crash, not only a process kill), schema created idempotently,
 * statements prepared once at start. A connection is shared by a service's
 * threads and serialised by a mutex held for a whole transaction, so several
 * stores on one connection (orders + outbox, stock + processed events + outbox)
 * commit together. */
#ifndef COMMLAB_DB_H
#define COMMLAB_DB_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

/* How long a connection waits for another one holding the write lock (a
 * commlab-dump reading, a relay thread) before giving up with an error. */
#define DB_BUSY_TIMEOUT_MS 5000

struct db {
    sqlite3 *h;
    pthread_mutex_t mu;
};

int db_open(struct db *db, const char *path);
void db_close(struct db *db);
/* Runs SQL without results (schema); logs and returns -1 on error. */
int db_exec(struct db *db, const char *sql);
/* Prepares n statements so that a typo fails at start, not mid-run. */
int db_prepare(struct db *db, const char *const *sql, size_t n, sqlite3_stmt **out);
void db_finalize(sqlite3_stmt **st, size_t n);

/* BEGIN IMMEDIATE under the mutex; commit/rollback release it. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
/* For single statements outside an explicit transaction. */
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
