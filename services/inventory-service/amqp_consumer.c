/* Part B, inventory side: consumes OrderPlaced with manual acks. For a batch
 * of messages, one transaction records each event_id as processed, reserves
 * by order_id and writes the outcome event to this service's outbox (no
 * savepoint per message: when the transaction fails, transport/amqp_consume
 * retries the messages one by one, each in its own). A message is acked only
 * after the commit that holds it, and a relay publishes the outbox with
 * confirms. Hence, for a crash
 *   - before the commit: nothing was applied; the broker redelivers;
 *   - between commit and ack: redelivered, the event_id is already processed
 *     (and the reservation is idempotent by order_id anyway): acked, no effect;
 *   - between commit and publish: the outcome waits in the outbox and is
 *     published after restart;
 *   - between publish and mark-sent: published again with the same derived
 *     event_id, which the consumers downstream deduplicate.
 * The same event_id with another order_id is a conflict: dead-lettered. The
 * consumer loop, vetting and verdicts are transport/amqp_consume's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "store/outbox.h"
#include "util/clock.h"
#include "util/log.h"
#include "runtime/service.h"
#include "runtime/amqp_apply.h"
#include "transport/amqp_consume.h"
#include "transport/amqp_outbox.h"
#include "transport/amqp_topology.h"
#include "inventory_service.h"

/* At most this many OrderPlaced in flight (unacked) and in one transaction:
 * bounds memory whatever the backlog, and amortises one fsync over a batch. */
#define INVENTORY_PREFETCH 1024

struct amqp_inventory {
    struct outbox outbox;
    struct amqp_outbox_relay *relay;
    struct amqp_applier *consumer;
    bool outbox_open;
};

/* One new OrderPlaced inside the batch transaction (amqp_apply_each). */
static int apply_one(void *ctx, struct amqp_item *it)
{
    struct inventory_service *svc = ctx;
    struct amqp_inventory *a = svc->consumer;
    struct reserve_result r;
    if (stock_reserve_locked(&svc->stock, &it->ev.order, &r) != 0)
        return -1;
    /* The outcome is derived from the first answer for this order_id, and
     * its event_id from (type, order_id): a second OrderPlaced for the same
     * order (another event_id) adds no second outcome to the outbox. */
    struct event out;
    event_from_order(&out, r.reserved ? EVENT_INVENTORY_RESERVED : EVENT_INVENTORY_FAILED,
                     &it->ev.order, r.reserved ? NULL : r.reason);
    char *body = event_encode(&out);
    if (!body)
        return -1;
    int rc = outbox_add_locked(&a->outbox, out.event_id,
                               r.reserved ? AMQP_KEY_RESERVED : AMQP_KEY_FAILED, out.order.order_id,
                               body);
    free(body);
    if (rc < 0)
        return -1;
    it->result = r.duplicate ? AMQP_ITEM_DUPLICATE : AMQP_ITEM_APPLIED;
    return 0;
}

/* The fault knobs of /configure apply here too: a delay slows every batch,
 * "error" makes processing fail transiently (retried, then dead-lettered by
 * the delivery limit), "hang" holds the batch until the mode changes. Both
 * waits end when the consumer stops: the batch is then left unacked and
 * the broker redelivers it. False: this batch is not applied now. */
static bool fault_passes(void *ctx, struct amqp_consumer *c)
{
    struct inventory_service *svc = ctx;
    long delay = atomic_load(&svc->fault_delay_ms);
    if (delay > 0 && !amqp_consumer_sleep(c, delay))
        return false;
    while (atomic_load(&svc->fault_mode) == FAULT_HANG)
        if (!amqp_consumer_sleep(c, 100))
            return false;
    return atomic_load(&svc->fault_mode) != FAULT_ERROR;
}

int inventory_amqp_start(struct inventory_service *svc, const char *amqp_url)
{
    struct amqp_inventory *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    svc->consumer = a;
    /* Batches of up to 512 events per transaction: see db_tune_for_batches. */
    if (db_tune_for_batches(&svc->db) != 0)
        return -1;
    if (outbox_open(&a->outbox, &svc->db) != 0)
        return -1;
    a->outbox_open = true;
    a->relay = amqp_outbox_relay_start(amqp_url, &a->outbox, svc->metrics, &log_notifier);
    if (!a->relay)
        return -1;
    const struct amqp_applier_opts o = {.url = amqp_url,
                                        .queue = AMQP_Q_INVENTORY,
                                        .prefetch = INVENTORY_PREFETCH,
                                        .accepted = 1u << EVENT_ORDER_PLACED,
                                        .db = &svc->db,
                                        .metrics = svc->metrics,
                                        .apply_one = apply_one,
                                        .admit = fault_passes,
                                        .ctx = svc,
                                        .applied_metric = "amqp_orders_applied_total",
                                        .applied_help =
                                            "OrderPlaced events applied (reserved or refused)."};
    a->consumer = amqp_applier_start(&o);
    if (!a->consumer)
        return -1;
    log_info("amqp mode: consuming %s", AMQP_Q_INVENTORY);
    return 0;
}

void inventory_amqp_stop(struct inventory_service *svc)
{
    struct amqp_inventory *a = svc->consumer;
    if (!a)
        return;
    amqp_applier_stop(a->consumer);
    amqp_outbox_relay_stop(a->relay);
    if (a->outbox_open)
        outbox_close(&a->outbox);
    free(a);
    svc->consumer = NULL;
}
