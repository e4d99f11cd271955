/* Part B, inventory side: consumes OrderPlaced with manual acks. For a batch
 * of messages, ONE transaction records each event_id as processed, reserves
 * by order_id and writes the outcome event to this service's outbox; the
 * batch is acked only after that commit, and a relay publishes the outbox with
 * confirms. Hence, for a crash
 *   - before the commit: nothing was applied; the broker redelivers;
 *   - between commit and ack: redelivered, the event_id is already processed
 *     (and the reservation is idempotent by order_id anyway): acked, no effect;
 *   - between commit and publish: the outcome waits in the outbox and is
 *     published after restart;
 *   - between publish and mark-sent: published again with the same derived
 *     event_id, which the consumers downstream deduplicate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/codec/event_json.h"
#include "../core/store/outbox.h"
#include "../core/store/seen_store.h"
#include "../core/util/clock.h"
#include "../core/util/log.h"
#include "../transport/amqp_consume.h"
#include "../transport/amqp_outbox.h"
#include "../transport/amqp_topology.h"
#include "inventory_service.h"

/* At most this many OrderPlaced in flight (unacked) and in one transaction:
 * bounds memory whatever the backlog, and amortises one fsync over a batch. */
#define INVENTORY_PREFETCH 1024

struct amqp_inventory {
    struct outbox outbox;
    struct seen_store seen;
    struct amqp_outbox_relay *relay;
    struct amqp_consumer *consumer;
    bool outbox_open, seen_open;
};

struct msg_work {
    size_t msg; /* index in the batch */
    struct event ev;
    int applied; /* 1 reserved/refused now, 0 seen before, -1 failed */
};

struct batch_job {
    struct inventory_service *svc;
    struct amqp_inventory *a;
    struct msg_work *w;
    size_t n;
};

/* One message inside the batch transaction, in a savepoint of its own so that
 * a failure undoes only this message (it is then retried alone). */
static int apply_one(struct inventory_service *svc, struct amqp_inventory *a, struct msg_work *w)
{
    int seen = seen_mark_locked(&a->seen, w->ev.event_id);
    if (seen <= 0)
        return seen; /* 0: processed before; its effects and outcome exist already */
    struct reserve_result r;
    if (stock_reserve_locked(&svc->stock, &w->ev.order, &r) != 0)
        return -1;
    /* The outcome is derived from the first answer for this order_id, and
     * its event_id from (type, order_id): a second OrderPlaced for the same
     * order (another event_id) adds no second outcome to the outbox. */
    struct event out;
    event_from_order(&out, r.reserved ? EVENT_INVENTORY_RESERVED : EVENT_INVENTORY_FAILED,
                     &w->ev.order, r.reserved ? NULL : r.reason);
    char *body = event_encode(&out);
    if (!body)
        return -1;
    int rc = outbox_add_locked(&a->outbox, out.event_id,
                               r.reserved ? AMQP_KEY_RESERVED : AMQP_KEY_FAILED, out.order.order_id,
                               body);
    free(body);
    if (rc < 0)
        return -1;
    return r.duplicate ? 0 : 1;
}

/* The whole batch in one transaction (one fsync), and no savepoint per
 * message: SQLite copies every page a savepoint touches into its statement
 * journal, which made per-message savepoints cost more than the work. If
 * anything fails, the batch is undone and run again one message per
 * transaction (see handle), so one bad message cannot hold up the others. */
static int batch_job(void *arg)
{
    struct batch_job *j = arg;
    for (size_t k = 0; k < j->n; k++) {
        struct msg_work *w = &j->w[k];
        w->applied = apply_one(j->svc, j->a, w);
        if (w->applied < 0)
            return -1;
    }
    return 0;
}

/* The fault knobs of /configure apply here too: a delay slows every batch,
 * "error" makes processing fail transiently (retried, then dead-lettered by
 * the delivery limit), "hang" holds the batch until the mode changes. */
static bool fault_fails(struct inventory_service *svc)
{
    long delay = atomic_load(&svc->fault_delay_ms);
    if (delay > 0)
        clock_sleep_us((uint64_t)delay * 1000);
    while (atomic_load(&svc->fault_mode) == FAULT_HANG)
        clock_sleep_us(100 * 1000);
    return atomic_load(&svc->fault_mode) == FAULT_ERROR;
}

static void handle(void *ctx, const struct amqp_msg *msgs, size_t n, struct amqp_verdict *out)
{
    struct inventory_service *svc = ctx;
    struct amqp_inventory *a = svc->consumer;
    struct msg_work *w = malloc(n * sizeof *w);
    if (!w) {
        for (size_t i = 0; i < n; i++)
            out[i].kind = AMQP_VERDICT_RETRY;
        return;
    }
    size_t k = 0;
    uint64_t dead = 0;
    for (size_t i = 0; i < n; i++) {
        if (event_accept(msgs[i].body, msgs[i].len, 1u << EVENT_ORDER_PLACED, &w[k].ev,
                         out[i].reason, sizeof out[i].reason)) {
            w[k++].msg = i;
        } else {
            out[i].kind = AMQP_VERDICT_DEAD;
            dead++;
        }
    }
    if (dead)
        metrics_count(svc->metrics, "amqp_dead_lettered_total",
                      "Messages refused as malformed, sent to the .dlq.", dead);
    if (k > 0) {
        bool failing = fault_fails(svc);
        struct batch_job job = {svc, a, w, k};
        int rc = failing ? -1 : db_transact(&svc->db, batch_job, &job);
        for (size_t m = 0; rc != 0 && !failing && m < k; m++) {
            /* The batch failed: each message alone, to find the one at fault. */
            struct batch_job one = {svc, a, &w[m], 1};
            if (db_transact(&svc->db, batch_job, &one) != 0)
                w[m].applied = -1;
        }
        uint64_t applied = 0, dup = 0, retry = 0;
        for (size_t m = 0; m < k; m++) {
            bool ok = !failing && w[m].applied >= 0;
            out[w[m].msg].kind = ok ? AMQP_VERDICT_ACK : AMQP_VERDICT_RETRY;
            if (!ok)
                retry++;
            else if (w[m].applied == 1)
                applied++;
            else
                dup++;
        }
        metrics_count(svc->metrics, "amqp_batches_total",
                      "Transactions of OrderPlaced events (batches).", 1);
        metrics_count(svc->metrics, "amqp_orders_applied_total",
                      "OrderPlaced events applied (reserved or refused).", applied);
        metrics_count(svc->metrics, "amqp_duplicates_total",
                      "OrderPlaced redeliveries or repeats that changed nothing.", dup);
        metrics_count(svc->metrics, "amqp_retries_total",
                      "OrderPlaced requeued after a transient failure.", retry);
    }
    free(w);
}

int inventory_amqp_start(struct inventory_service *svc, const char *amqp_url)
{
    struct amqp_inventory *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    svc->consumer = a;
    /* Drain speed: about 1.5 times the events per second of db_open's
     * defaults on a 100k backlog (bench-async-rabbitmq). */
    if (db_tune_for_batches(&svc->db) != 0)
        return -1;
    if (outbox_open(&a->outbox, &svc->db) != 0)
        return -1;
    a->outbox_open = true;
    if (seen_store_open(&a->seen, &svc->db) != 0)
        return -1;
    a->seen_open = true;
    a->relay = amqp_outbox_relay_start(amqp_url, &a->outbox, svc->metrics);
    if (!a->relay)
        return -1;
    struct amqp_consumer_opts o = {.url = amqp_url,
                                   .queue = AMQP_Q_INVENTORY,
                                   .prefetch = INVENTORY_PREFETCH,
                                   .handle = handle,
                                   .ctx = svc};
    a->consumer = amqp_consumer_start(&o);
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
    amqp_consumer_stop(a->consumer);
    amqp_outbox_relay_stop(a->relay);
    if (a->seen_open)
        seen_store_close(&a->seen);
    if (a->outbox_open)
        outbox_close(&a->outbox);
    free(a);
    svc->consumer = NULL;
}
