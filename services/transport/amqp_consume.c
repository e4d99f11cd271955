#include "amqp_consume.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util/clock.h"
#include "../core/util/log.h"
#include "amqp_topology.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* How long the thread waits for a first message before checking for stop. */
#define POLL_MS 200
/* Pause before requeueing a transient failure, so that a retry is not spent
 * in the same instant as the failure. */
#define RETRY_PAUSE_MS 200
#define CONFIRM_TIMEOUT_MS 10000

struct amqp_consumer {
    struct amqp_consumer_opts o;
    char *url, *queue;
    pthread_t thread;
    _Atomic bool stop;
    _Atomic bool connected;
    struct amqp_link *link; /* consumes */
    struct amqp_link *dead; /* publishes dead letters (confirm mode); lazily opened */
    struct amqp_msg *msgs;
    struct amqp_verdict *verdicts;
    unsigned batch_max;
};

void amqp_sleep_unless(const _Atomic bool *stop, long ms)
{
    while (ms > 0 && !atomic_load(stop)) {
        long step = ms < 50 ? ms : 50;
        clock_sleep_us((uint64_t)step * 1000);
        ms -= step;
    }
}

bool amqp_consumer_connected(const struct amqp_consumer *c)
{
    return c && atomic_load(&c->connected);
}

static int connect_link(struct amqp_consumer *c)
{
    char err[256];
    c->link = amqp_link_open(c->url, err, sizeof err);
    if (!c->link) {
        log_warn("%s: RabbitMQ unavailable: %s", c->queue, err);
        return -1;
    }
    if (amqp_topology_declare(c->link) != 0 ||
        amqp_link_consume(c->link, c->queue, c->o.prefetch) != 0) {
        log_warn("%s: %s", c->queue, amqp_link_error(c->link));
        amqp_link_close(c->link);
        c->link = NULL;
        return -1;
    }
    log_info("consuming %s (prefetch %u)", c->queue, c->o.prefetch);
    atomic_store(&c->connected, true);
    return 0;
}

static void drop_links(struct amqp_consumer *c)
{
    if (c->link)
        log_warn("%s: link lost: %s; reconnecting", c->queue, amqp_link_error(c->link));
    amqp_link_close(c->link);
    amqp_link_close(c->dead);
    c->link = c->dead = NULL;
    atomic_store(&c->connected, false);
}

/* Puts a poison message in QUEUE.dlq with our reason as a header, confirmed;
 * -1 if that failed (the caller then rejects it, and the broker dead-letters
 * it without our reason). */
static int dead_letter(struct amqp_consumer *c, const struct amqp_msg *m, const char *reason)
{
    if (!c->dead) {
        char err[256];
        c->dead = amqp_link_open(c->url, err, sizeof err);
        if (!c->dead || amqp_link_confirm_mode(c->dead) != 0) {
            amqp_link_close(c->dead);
            c->dead = NULL;
            return -1;
        }
    }
    if (amqp_link_publish(c->dead, AMQP_DLX, c->queue, m->body, m->len, reason) != 0 ||
        amqp_link_wait_confirms(c->dead, CONFIRM_TIMEOUT_MS) != 0) {
        log_warn("%s: dead-letter publish failed: %s", c->queue, amqp_link_error(c->dead));
        amqp_link_close(c->dead);
        c->dead = NULL;
        return -1;
    }
    return 0;
}

/* Settles a decided batch. Acks go last and cumulatively: every message
 * before them is either done durably or already nacked. */
static int settle(struct amqp_consumer *c, size_t n)
{
    bool retry_paused = false;
    for (size_t i = 0; i < n; i++) {
        struct amqp_verdict *v = &c->verdicts[i];
        if (v->kind == AMQP_VERDICT_DEAD) {
            log_warn("%s: dead-lettering a %zu-byte message: %s", c->queue, c->msgs[i].len,
                     v->reason);
            if (dead_letter(c, &c->msgs[i], v->reason) != 0 &&
                amqp_link_nack(c->link, c->msgs[i].tag, false) != 0)
                return -1;
        } else if (v->kind == AMQP_VERDICT_RETRY) {
            if (!retry_paused) {
                amqp_sleep_unless(&c->stop, RETRY_PAUSE_MS);
                retry_paused = true;
            }
            if (amqp_link_nack(c->link, c->msgs[i].tag, true) != 0)
                return -1;
        }
    }
    return amqp_link_ack(c->link, c->msgs[n - 1].tag, true);
}

static void *run(void *arg)
{
    struct amqp_consumer *c = arg;
    long backoff = BACKOFF_MIN_MS;
    while (!atomic_load(&c->stop)) {
        if (!c->link && connect_link(c) != 0) {
            amqp_sleep_unless(&c->stop, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = BACKOFF_MIN_MS;
        size_t n = 0;
        int r = amqp_link_next(c->link, &c->msgs[0], POLL_MS);
        if (r == 1) {
            n = 1;
            /* Whatever else is already here joins the batch: one commit for all. */
            while (n < c->batch_max && (r = amqp_link_next(c->link, &c->msgs[n], 0)) == 1)
                n++;
        }
        if (r < 0) {
            /* Unacked messages return to the queue when the link goes. */
            for (size_t i = 0; i < n; i++)
                amqp_msg_free(&c->msgs[i]);
            drop_links(c);
            continue;
        }
        if (n == 0)
            continue;
        memset(c->verdicts, 0, n * sizeof c->verdicts[0]);
        c->o.handle(c->o.ctx, c->msgs, n, c->verdicts);
        int rc = settle(c, n);
        for (size_t i = 0; i < n; i++)
            amqp_msg_free(&c->msgs[i]);
        if (rc != 0)
            drop_links(c);
    }
    drop_links(c);
    return NULL;
}

struct amqp_consumer *amqp_consumer_start(const struct amqp_consumer_opts *o)
{
    struct amqp_consumer *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = *o;
    if (c->o.prefetch == 0)
        c->o.prefetch = 1;
    c->url = strdup(o->url);
    c->queue = strdup(o->queue);
    c->batch_max = c->o.prefetch > 1 ? c->o.prefetch / 2 : 1;
    c->msgs = calloc(c->batch_max, sizeof c->msgs[0]);
    c->verdicts = calloc(c->batch_max, sizeof c->verdicts[0]);
    atomic_init(&c->stop, false);
    atomic_init(&c->connected, false);
    if (!c->url || !c->queue || !c->msgs || !c->verdicts ||
        pthread_create(&c->thread, NULL, run, c) != 0) {
        free(c->url);
        free(c->queue);
        free(c->msgs);
        free(c->verdicts);
        free(c);
        return NULL;
    }
    return c;
}

void amqp_consumer_stop(struct amqp_consumer *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    free(c->url);
    free(c->queue);
    free(c->msgs);
    free(c->verdicts);
    free(c);
}
