/* Part A, the chain's deferred deliveries. The chain stores them in the
 * outbox in the same transaction as the order's final status, and a relay
 * (core/store/outbox_relay.h) delivers each in order until it is answered
 * 200, with backoff while the receiver is away, and again after a restart
 * (the rows are durable):
 * - a release for an order that ended 502 or 504, which may still hold stock:
 *   inventory can commit a reservation whose answer never arrives (timeout,
 *   crash after commit), or commit it later, when a delayed request is served;
 * - a notification the chain could not deliver while the client waited; once
 *   delivered, the order's detail turns from notification_pending to notified.
 * Both are idempotent at the receiver (by order_id), so a repeat is harmless:
 * at least once on the wire, exactly once in effect.
 *
 * What the receiver says decides what becomes of a row: 2xx delivered; a
 * 4xx other than 408, 425 and 429 refuses it for good (it is set aside with
 * the answer, and the rows behind it go on); 408, 425, 429 and 5xx refuse it
 * for now (it waits a backoff of its own, the other orders' rows go on); no
 * answer at all (refused connection, timeout) means the receiver is away:
 * the round stops and the relay backs off. */
#include <stdio.h>
#include <stdlib.h>

#include "store/outbox_relay.h"
#include "util/log.h"
#include "transport/http_client.h"
#include "order_service.h"

#define HTTP_RELAY_BATCH 32
#define HTTP_RELAY_IDLE_MS 1000

/* Releases and notifications: a batch of rows, retried from 0.25 s doubling
 * to 5 s while the receiver is away. */
#define HTTP_RELAY(name_, destination_, metric_prefix)                                             \
    ((struct outbox_relay_config){.name = name_,                                                   \
                                  .destination = destination_,                                     \
                                  .batch = HTTP_RELAY_BATCH,                                       \
                                  .idle_ms = HTTP_RELAY_IDLE_MS,                                   \
                                  .backoff_min_ms = 250,                                           \
                                  .backoff_max_ms = 5000,                                          \
                                  .metric = OUTBOX_RELAY_METRICS(metric_prefix)})

struct http_relay {
    struct outbox_relay relay;
    struct order_service *svc;
    const char *url, *what;
    long timeout_ms;
};

bool http_deliver(const char *url, const char *body, size_t len, long timeout_ms, const char *what,
                  const char *order_id)
{
    struct http_result res;
    if (http_call("POST", url, "application/json", body, len, timeout_ms, &res) != 0)
        return false;
    bool ok = res.failure == HTTP_ANSWERED && res.status == 200;
    if (!ok)
        log_warn("%s of order %s not delivered (%s); will retry", what, order_id,
                 res.failure == HTTP_ANSWERED ? "non-200 answer" : res.error);
    http_result_free(&res);
    return ok;
}

static bool refused_for_good(int status)
{
    return status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
}

/* One row: 0 with its fate set, -1 when the receiver did not answer. */
static int deliver_row(struct http_relay *r, struct outbox_row *row)
{
    struct http_result res;
    if (http_call("POST", r->url, "application/json", row->body, row->body_len, r->timeout_ms,
                  &res) != 0)
        return -1;
    int rc = 0;
    if (res.failure != HTTP_ANSWERED) {
        log_warn("%s of order %s not delivered (%s); will retry", r->what, row->key, res.error);
        rc = -1;
    } else if (res.status >= 200 && res.status < 300) {
        row->fate = OUTBOX_DELIVERED;
    } else {
        row->fate = refused_for_good(res.status) ? OUTBOX_REFUSED : OUTBOX_DEFERRED;
        snprintf(row->why, sizeof row->why, "HTTP %d from %s: %.120s", res.status, r->url,
                 res.body ? res.body : "");
    }
    http_result_free(&res);
    return rc;
}

static int deliver(void *ctx, struct worker *w, struct outbox_row *rows, size_t n)
{
    struct http_relay *r = ctx;
    for (size_t i = 0; i < n && !worker_stopping(w); i++)
        if (!outbox_row_held(rows, i) && deliver_row(r, &rows[i]) != 0)
            return -1;
    return 0;
}

/* The order shows its notification delivered, in the same commit. */
static int notified_locked(void *ctx, const struct outbox_row *rows, size_t n)
{
    struct http_relay *r = ctx;
    for (size_t i = 0; i < n; i++)
        if (order_move_from_locked(&r->svc->orders, rows[i].key, "confirmed", "confirmed",
                                   "notified") < 0)
            return -1;
    return 0;
}

static const struct outbox_relay_ops release_ops = {.deliver = deliver};
static const struct outbox_relay_ops notify_ops = {.deliver = deliver,
                                                   .settle_locked = notified_locked};

static struct http_relay *start(struct order_service *svc, const struct outbox_relay_config *cfg,
                                const struct outbox_relay_ops *ops, const char *url,
                                long timeout_ms, const char *what)
{
    struct http_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = (struct http_relay){.svc = svc, .url = url, .what = what, .timeout_ms = timeout_ms};
    if (outbox_relay_start(&r->relay, cfg, ops, r, &svc->outbox, svc->metrics) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

int http_relays_start(struct order_service *svc)
{
    svc->releases = start(svc, &HTTP_RELAY("releases", RELEASE_DESTINATION, "release"),
                          &release_ops, svc->release_url, svc->inventory_timeout_ms, "release");
    svc->notifications =
        start(svc, &HTTP_RELAY("notifications", NOTIFY_DESTINATION, "notification"), &notify_ops,
              svc->send_url, svc->notification_timeout_ms, "notification");
    return svc->releases && svc->notifications ? 0 : -1;
}

void http_relay_kick(struct http_relay *r)
{
    if (r)
        outbox_relay_kick(&r->relay);
}

static void stop(struct http_relay **rp)
{
    if (!*rp)
        return;
    outbox_relay_stop(&(*rp)->relay);
    free(*rp);
    *rp = NULL;
}

void http_relays_stop(struct order_service *svc)
{
    stop(&svc->releases);
    stop(&svc->notifications);
}
