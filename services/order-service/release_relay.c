/* Part A, compensation. An order that ends 502 or 504 may still hold stock:
 * inventory can commit a reservation whose answer never arrives (timeout,
 * crash after commit), or commit it later, when a delayed request is served.
 * The chain stores a release for such an order in the outbox, in the same
 * transaction as the order's final status; this thread delivers each to
 * inventory's POST /release until it is answered 200, in order, with backoff
 * while inventory is away, and again after a restart (the rows are durable).
 * Releases are idempotent at inventory, so a repeat is harmless. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/util/log.h"
#include "../transport/http_client.h"
#include "order_service.h"

#define RELEASE_BATCH 32
#define RELEASE_IDLE_MS 1000
#define RELEASE_BACKOFF_MAX_MS 5000

struct release_relay {
    struct order_service *svc;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t kick;
    bool stop, kicked;
};

/* Sleeps up to `ms`, or until stopped or kicked (a new release is stored). */
static bool wait_unless_stopped(struct release_relay *r, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!r->stop && !r->kicked)
        if (pthread_cond_timedwait(&r->kick, &r->mu, &until) == ETIMEDOUT)
            break;
    r->kicked = false;
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return !stop;
}

static bool stopping(struct release_relay *r)
{
    pthread_mutex_lock(&r->mu);
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

static bool deliver(struct order_service *svc, const struct outbox_row *row)
{
    struct http_result res;
    if (http_call("POST", svc->release_url, "application/json", row->body, row->body_len,
                  svc->inventory_timeout_ms, &res) != 0)
        return false;
    bool ok = res.failure == HTTP_ANSWERED && res.status == 200;
    if (!ok)
        log_warn("release of order %s not delivered (%s); will retry", row->key,
                 res.failure == HTTP_ANSWERED ? "inventory answered non-200" : res.error);
    http_result_free(&res);
    return ok;
}

static void *run(void *arg)
{
    struct release_relay *r = arg;
    struct order_service *svc = r->svc;
    long backoff = 0, wait_ms = 0;
    while (wait_unless_stopped(r, wait_ms)) {
        struct outbox_row rows[RELEASE_BATCH];
        size_t n = 0, done = 0;
        if (outbox_pending(&svc->outbox, rows, RELEASE_BATCH, &n) != 0) {
            log_error("releases: cannot read the outbox");
            n = 0;
        }
        while (done < n && !stopping(r) && deliver(svc, &rows[done]))
            done++;
        if (done > 0 && outbox_mark_sent(&svc->outbox, rows[done - 1].seq) != 0)
            log_error("releases: cannot mark %zu as delivered (they will be sent again)", done);
        outbox_rows_free(rows, n);
        metrics_count(svc->metrics, "inventory_releases_total",
                      "Releases of failed orders' stock delivered to inventory.", done);
        metrics_gauge(svc->metrics, "release_backlog", "Releases waiting to reach inventory.",
                      (double)outbox_backlog(&svc->outbox));
        if (done < n) {
            backoff = backoff ? backoff * 2 : 250;
            if (backoff > RELEASE_BACKOFF_MAX_MS)
                backoff = RELEASE_BACKOFF_MAX_MS;
            wait_ms = backoff;
        } else {
            backoff = 0;
            wait_ms = n == RELEASE_BATCH ? 0 : RELEASE_IDLE_MS;
        }
    }
    return NULL;
}

int release_relay_start(struct order_service *svc)
{
    struct release_relay *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->svc = svc;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->kick, NULL);
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        log_error("releases: cannot start a thread");
        pthread_cond_destroy(&r->kick);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return -1;
    }
    svc->releases = r;
    return 0;
}

void release_relay_kick(struct order_service *svc)
{
    struct release_relay *r = svc->releases;
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->kicked = true;
    pthread_cond_signal(&r->kick);
    pthread_mutex_unlock(&r->mu);
}

void release_relay_stop(struct order_service *svc)
{
    struct release_relay *r = svc->releases;
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->kick);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->kick);
    pthread_mutex_destroy(&r->mu);
    free(r);
    svc->releases = NULL;
}
