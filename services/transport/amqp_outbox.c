#include "amqp_outbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util/log.h"
#include "amqp.h"
#include "amqp_consume.h"
#include "amqp_topology.h"

/* Rows per confirm round trip: large enough to amortise the broker's fsync,
 * small enough that a failed round republishes little. */
#define BATCH 1024
#define IDLE_POLL_MS 20
#define CONFIRM_TIMEOUT_MS 15000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct amqp_outbox_relay {
    char *url;
    struct outbox *ob;
    struct metrics *m;
    pthread_t thread;
    _Atomic bool stop;
    struct amqp_link *link;
    struct outbox_row rows[BATCH];
};

static int connect_link(struct amqp_outbox_relay *r)
{
    char err[256];
    r->link = amqp_link_open(r->url, err, sizeof err);
    if (!r->link) {
        log_warn("relay: RabbitMQ unavailable: %s", err);
        return -1;
    }
    if (amqp_topology_declare(r->link) != 0 || amqp_link_confirm_mode(r->link) != 0) {
        log_warn("relay: %s", amqp_link_error(r->link));
        amqp_link_close(r->link);
        r->link = NULL;
        return -1;
    }
    log_info("relay: connected to RabbitMQ");
    metrics_gauge(r->m, "amqp_relay_connected", "1 while the outbox relay has a link.", 1);
    return 0;
}

static void drop_link(struct amqp_outbox_relay *r)
{
    log_warn("relay: link lost: %s; reconnecting", amqp_link_error(r->link));
    amqp_link_close(r->link);
    r->link = NULL;
    metrics_gauge(r->m, "amqp_relay_connected", "1 while the outbox relay has a link.", 0);
}

/* One round: publish what is pending, wait for every confirm, mark sent.
 * 1 published something, 0 nothing pending, -1 failed (rows stay unsent). */
static int round_trip(struct amqp_outbox_relay *r)
{
    size_t n;
    if (outbox_pending(r->ob, r->rows, BATCH, &n) != 0)
        return -1;
    if (n == 0)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = amqp_link_publish(r->link, AMQP_EXCHANGE, r->rows[i].destination, r->rows[i].body,
                               r->rows[i].body_len, NULL);
    if (amqp_link_wait_confirms(r->link, CONFIRM_TIMEOUT_MS) != 0)
        rc = -1;
    /* Only now is each row the broker's responsibility. A crash before this
     * line publishes the rows again after restart: duplicates with the same
     * event_id, never a loss. */
    if (rc == 0 && outbox_mark_sent(r->ob, r->rows[n - 1].seq) != 0) {
        log_error("relay: cannot mark rows sent (they will be published again)");
        rc = -1;
    }
    outbox_rows_free(r->rows, n);
    if (rc != 0)
        return -1;
    metrics_count(r->m, "outbox_published_total", "Outbox events confirmed by the broker.", n);
    return 1;
}

static void *run(void *arg)
{
    struct amqp_outbox_relay *r = arg;
    long backoff = BACKOFF_MIN_MS;
    while (!atomic_load(&r->stop)) {
        metrics_gauge(r->m, "outbox_backlog", "Outbox events not yet confirmed by the broker.",
                      (double)outbox_backlog(r->ob));
        if (!r->link && connect_link(r) != 0) {
            amqp_sleep_unless(&r->stop, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = BACKOFF_MIN_MS;
        int rc = round_trip(r);
        if (rc < 0 || (rc == 0 && amqp_link_idle(r->link, IDLE_POLL_MS) != 0))
            drop_link(r);
    }
    amqp_link_close(r->link);
    return NULL;
}

struct amqp_outbox_relay *amqp_outbox_relay_start(const char *url, struct outbox *ob,
                                                  struct metrics *m)
{
    struct amqp_outbox_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->url = strdup(url);
    r->ob = ob;
    r->m = m;
    atomic_init(&r->stop, false);
    if (!r->url || pthread_create(&r->thread, NULL, run, r) != 0) {
        free(r->url);
        free(r);
        return NULL;
    }
    return r;
}

void amqp_outbox_relay_stop(struct amqp_outbox_relay *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    free(r->url);
    free(r);
}
