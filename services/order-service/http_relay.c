/* Part A, the chain's deferred deliveries. The chain stores them in the
 * outbox in the same transaction as the order's final status, and an HTTP
 * outbox relay (transport/http_outbox.h) delivers each in order until it is
 * answered, with backoff while the receiver is away, and again after a
 * restart (the rows are durable):
 * - a release for an order that ended 502 or 504, which may still hold stock:
 *   inventory can commit a reservation whose answer never arrives (timeout,
 *   crash after commit), or commit it later, when a delayed request is served;
 * - a notification the chain could not deliver while the client waited; once
 *   delivered, the order's detail turns from notification_pending to notified.
 * Both are idempotent at the receiver (by order_id), so a repeat is harmless:
 * at least once on the wire, exactly once in effect. */
#include "util/log.h"
#include "transport/http_outbox.h"
#include "order_service.h"

/* The order shows its notification delivered, in the same commit. */
static int notified_locked(void *ctx, const struct outbox_row *rows, size_t n)
{
    struct order_service *svc = ctx;
    for (size_t i = 0; i < n; i++)
        if (order_move_from_locked(&svc->orders, rows[i].key, ORDER_CONFIRMED, ORDER_CONFIRMED,
                                   "notified") < 0)
            return -1;
    return 0;
}

int http_relays_start(struct order_service *svc)
{
    const struct http_outbox_opts releases = {
        .relay = HTTP_OUTBOX_CONFIG("releases", RELEASE_DESTINATION, "release"),
        .url = svc->release_url,
        .timeout_ms = svc->inventory_timeout_ms,
        .what = "release",
        .notice = log_notifier,
    };
    const struct http_outbox_opts notifications = {
        .relay = HTTP_OUTBOX_CONFIG("notifications", NOTIFY_DESTINATION, "notification"),
        .url = svc->send_url,
        .timeout_ms = svc->notification_timeout_ms,
        .what = "notification",
        .settle_locked = notified_locked,
        .ctx = svc,
        .notice = log_notifier,
    };
    svc->releases = http_outbox_relay_start(&releases, &svc->outbox, svc->metrics);
    svc->notifications = http_outbox_relay_start(&notifications, &svc->outbox, svc->metrics);
    return svc->releases && svc->notifications ? 0 : -1;
}

void http_relays_stop(struct order_service *svc)
{
    http_outbox_relay_stop(svc->releases);
    http_outbox_relay_stop(svc->notifications);
    svc->releases = svc->notifications = NULL;
}
