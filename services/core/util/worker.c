#include "worker.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Profiles and `top -H` split threads by role only when they carry a name;
 * the kernel keeps 15 bytes of it. */
static void name_thread(const char *name)
{
    char comm[16];
    size_t n = 0;
    for (; name[n] && n < sizeof comm - 1; n++)
        comm[n] = name[n] == ' ' ? '-' : name[n];
    comm[n] = '\0';
    pthread_setname_np(pthread_self(), comm);
}

static void *trampoline(void *arg)
{
    struct worker *w = arg;
    name_thread(w->name);
    w->fn(w, w->arg);
    return NULL;
}

int worker_start(struct worker *w, const char *name, worker_fn fn, void *arg)
{
    memset(w, 0, sizeof *w);
    w->name = name;
    w->fn = fn;
    w->arg = arg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    /* Sleeps measure elapsed time: a wall-clock step must not stretch them. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    int rc = pthread_create(&w->thread, NULL, trampoline, w);
    if (rc != 0) {
        log_error("%s: cannot start a thread: %s", name, strerror(rc));
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return -1;
    }
    w->running = true;
    return 0;
}

void worker_request_stop(struct worker *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void worker_stop(struct worker *w)
{
    if (!w->running)
        return;
    worker_request_stop(w);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->running = false;
}

bool worker_stopping(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

bool worker_sleep(struct worker *w, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->stop && !w->kicked && ms > 0)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
            break;
    w->kicked = false;
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return !stop;
}

void worker_kick(struct worker *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->mu);
    w->kicked = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void backoff_init(struct backoff *b, long min_ms, long max_ms)
{
    b->min_ms = min_ms;
    b->max_ms = max_ms;
    b->cur_ms = 0;
}

long backoff_next(struct backoff *b)
{
    b->cur_ms = b->cur_ms ? b->cur_ms * 2 : b->min_ms;
    if (b->cur_ms > b->max_ms)
        b->cur_ms = b->max_ms;
    return b->cur_ms;
}

void backoff_reset(struct backoff *b)
{
    b->cur_ms = 0;
}
