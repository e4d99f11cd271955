/* Background threads, written once (here, below the transports, which own
 * their consumer loops): a worker is a thread with one stop flag,
 * a kick that wakes it early, and a sleep that returns as soon as it is
 * stopped. Relays and consumer loops are workers; none keeps its own flag. */
#ifndef COMMLAB_WORKER_H
#define COMMLAB_WORKER_H

#include <pthread.h>
#include <stdbool.h>

struct worker;
typedef void (*worker_fn)(struct worker *w, void *arg);

struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked, running;
    const char *name;
    worker_fn fn;
    void *arg;
};

/* Starts `fn(w, arg)` on a new thread; -1 (logged) if the thread cannot start. */
int worker_start(struct worker *w, const char *name, worker_fn fn, void *arg);
/* Asks the worker to stop without waiting: its sleeps return at once. */
void worker_request_stop(struct worker *w);
/* Asks it to stop and joins it. Safe on a worker that never started. */
void worker_stop(struct worker *w);
bool worker_stopping(struct worker *w);
/* Sleeps up to `ms`, less if kicked; false when the worker is stopping. */
bool worker_sleep(struct worker *w, long ms);
/* Wakes a sleeping worker: new work is waiting. */
void worker_kick(struct worker *w);

/* Exponential backoff in milliseconds, one type for every retry loop. */
struct backoff {
    long min_ms, max_ms, cur_ms;
};

void backoff_init(struct backoff *b, long min_ms, long max_ms);
/* The next delay: min, then doubling up to max. */
long backoff_next(struct backoff *b);
void backoff_reset(struct backoff *b);

#endif
