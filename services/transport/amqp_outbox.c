#include "amqp_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox_relay.h"
#include "amqp.h"
#include "amqp_topology.h"

/* Rows per confirm round trip: large enough to amortise the broker's fsync,
 * small enough that a failed round republishes little. */
#define BATCH 1024
#define IDLE_POLL_MS 20
#define CONFIRM_TIMEOUT_MS 15000

struct amqp_outbox_relay {
    struct outbox_relay relay;
    char *url;
    struct metrics *m;
    struct amqp_link *link;
    struct notifier notice;
    enum amqp_confirm confirms[BATCH];
};

static void set_connected(struct amqp_outbox_relay *r, int up)
{
    metrics_gauge(r->m, "amqp_relay_connected", "1 while the outbox relay has a link.", up);
}

static int connect_link(void *ctx)
{
    struct amqp_outbox_relay *r = ctx;
    char err[256];
    r->link = amqp_link_open(r->url, err, sizeof err);
    if (!r->link) {
        notify(&r->notice, NOTICE_WARN, "relay: RabbitMQ unavailable: %s", err);
        return -1;
    }
    if (amqp_topology_declare(r->link) != 0 || amqp_link_confirm_mode(r->link) != 0) {
        notify(&r->notice, NOTICE_WARN, "relay: %s", amqp_link_error(r->link));
        amqp_link_close(r->link);
        r->link = NULL;
        return -1;
    }
    notify(&r->notice, NOTICE_INFO, "relay: connected to RabbitMQ");
    set_connected(r, 1);
    return 0;
}

static void drop_link(void *ctx)
{
    struct amqp_outbox_relay *r = ctx;
    amqp_link_close(r->link);
    r->link = NULL;
    set_connected(r, 0);
}

/* Publishes the rows as persistent messages and waits for every confirm.
 * Each row's fate is its own: acked, delivered; returned (no queue takes its
 * routing key), refused for good; nacked, refused for now. A broken link
 * leaves the unanswered rows for the next round, on a new link. */
static int publish(void *ctx, struct worker *w, struct outbox_row *rows, size_t n)
{
    (void)w;
    struct amqp_outbox_relay *r = ctx;
    size_t sent = 0;
    while (sent < n && amqp_link_publish(r->link, AMQP_EXCHANGE, rows[sent].destination,
                                         rows[sent].body, rows[sent].body_len, NULL) == 0)
        sent++;
    int rc = amqp_link_wait_confirms_each(r->link, CONFIRM_TIMEOUT_MS, r->confirms, sent);
    for (size_t i = 0; i < sent; i++) {
        switch (r->confirms[i]) {
        case AMQP_CONFIRM_ACKED:
            rows[i].fate = OUTBOX_DELIVERED;
            break;
        case AMQP_CONFIRM_RETURNED:
            rows[i].fate = OUTBOX_REFUSED;
            snprintf(rows[i].why, sizeof rows[i].why,
                     "unroutable: no queue bound to routing key '%.100s' on %s",
                     rows[i].destination, AMQP_EXCHANGE);
            break;
        case AMQP_CONFIRM_NACKED:
            rows[i].fate = OUTBOX_DEFERRED;
            snprintf(rows[i].why, sizeof rows[i].why, "the broker refused it (nack)");
            break;
        case AMQP_CONFIRM_PENDING:
            break;
        }
    }
    if (rc == 0 && sent == n)
        return 0;
    notify(&r->notice, NOTICE_WARN, "relay: link lost: %s; reconnecting", amqp_link_error(r->link));
    return -1;
}

static int watch_link(void *ctx, long ms)
{
    struct amqp_outbox_relay *r = ctx;
    if (amqp_link_idle(r->link, (int)ms) == 0)
        return 0;
    notify(&r->notice, NOTICE_WARN, "relay: link lost: %s; reconnecting", amqp_link_error(r->link));
    return -1;
}

static const struct outbox_relay_ops ops = {
    .connect = connect_link,
    .disconnect = drop_link,
    .deliver = publish,
    .idle = watch_link,
};

struct amqp_outbox_relay *amqp_outbox_relay_start(const char *url, struct outbox *ob,
                                                  struct metrics *m, const struct notifier *notice)
{
    static const struct outbox_relay_config cfg =
        OUTBOX_RELAY_CONFIG("amqp relay", NULL, BATCH, IDLE_POLL_MS, 100, 2000, "outbox");
    struct amqp_outbox_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->url = strdup(url);
    r->m = m;
    r->notice = *notice;
    if (!r->url || outbox_relay_start(&r->relay, &cfg, &ops, r, ob, m) != 0) {
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
    outbox_relay_stop(&r->relay);
    free(r->url);
    free(r);
}
