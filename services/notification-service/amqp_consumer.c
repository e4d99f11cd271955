/* Part B, notification side: consumes InventoryReserved with manual acks.
 * One transaction per batch records each event_id as processed and the
 * confirmation for its order (one per order_id); the batch is acked after
 * the commit, so a crash before it means a redelivery that changes nothing
 * twice. */
#include <stdio.h>
#include <stdlib.h>

#include "../core/codec/event_json.h"
#include "../core/store/seen_store.h"
#include "../core/util/log.h"
#include "../transport/amqp_consume.h"
#include "../transport/amqp_topology.h"
#include "notification_service.h"

#define NOTIFICATION_PREFETCH 1024

struct amqp_notification {
    struct seen_store seen;
    bool seen_open;
    struct amqp_consumer *consumer;
};

struct note_work {
    size_t msg;
    struct event ev;
    int applied; /* 1 recorded now, 0 nothing new, -1 failed */
};

struct batch_job {
    struct notification_service *svc;
    struct amqp_notification *a;
    struct note_work *w;
    size_t n;
};

static int apply_one(struct notification_service *svc, struct amqp_notification *a,
                     struct note_work *w)
{
    int seen = seen_mark_locked(&a->seen, w->ev.event_id);
    if (seen <= 0)
        return seen;
    bool duplicate;
    char message[NOTIFY_MESSAGE_MAX];
    if (notify_record_locked(&svc->store, &w->ev.order, &duplicate, message) != 0)
        return -1;
    return duplicate ? 0 : 1;
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
        struct note_work *w = &j->w[k];
        w->applied = apply_one(j->svc, j->a, w);
        if (w->applied < 0)
            return -1;
    }
    return 0;
}

static void handle(void *ctx, const struct amqp_msg *msgs, size_t n, struct amqp_verdict *out)
{
    struct notification_service *svc = ctx;
    struct note_work *w = malloc(n * sizeof *w);
    if (!w) {
        for (size_t i = 0; i < n; i++)
            out[i].kind = AMQP_VERDICT_RETRY;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (event_accept(msgs[i].body, msgs[i].len, 1u << EVENT_INVENTORY_RESERVED, &w[k].ev,
                         out[i].reason, sizeof out[i].reason))
            w[k++].msg = i;
        else
            out[i].kind = AMQP_VERDICT_DEAD;
    }
    if (k > 0) {
        struct batch_job job = {svc, svc->consumer, w, k};
        int rc = db_transact(&svc->db, batch_job, &job);
        for (size_t m = 0; rc != 0 && m < k; m++) {
            /* The batch failed: each message alone, to find the one at fault. */
            struct batch_job one = {svc, svc->consumer, &w[m], 1};
            if (db_transact(&svc->db, batch_job, &one) != 0)
                w[m].applied = -1;
        }
        uint64_t sent = 0, dup = 0;
        for (size_t m = 0; m < k; m++) {
            bool ok = w[m].applied >= 0;
            out[w[m].msg].kind = ok ? AMQP_VERDICT_ACK : AMQP_VERDICT_RETRY;
            if (ok && w[m].applied == 1)
                sent++;
            else if (ok)
                dup++;
        }
        metrics_count(svc->metrics, "notifications_sent_total", "Confirmations recorded.", sent);
        metrics_count(svc->metrics, "amqp_duplicates_total",
                      "InventoryReserved redeliveries or repeats that changed nothing.", dup);
    }
    free(w);
}

int notification_amqp_start(struct notification_service *svc, const char *amqp_url)
{
    struct amqp_notification *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    svc->consumer = a;
    if (seen_store_open(&a->seen, &svc->db) != 0)
        return -1;
    a->seen_open = true;
    struct amqp_consumer_opts o = {.url = amqp_url,
                                   .queue = AMQP_Q_NOTIFICATION,
                                   .prefetch = NOTIFICATION_PREFETCH,
                                   .handle = handle,
                                   .ctx = svc};
    a->consumer = amqp_consumer_start(&o);
    if (!a->consumer)
        return -1;
    log_info("amqp mode: consuming %s", AMQP_Q_NOTIFICATION);
    return 0;
}

void notification_amqp_stop(struct notification_service *svc)
{
    struct amqp_notification *a = svc->consumer;
    if (!a)
        return;
    amqp_consumer_stop(a->consumer);
    if (a->seen_open)
        seen_store_close(&a->seen);
    free(a);
    svc->consumer = NULL;
}
