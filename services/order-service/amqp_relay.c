/* Part B, order service side: the outbox relay publishing OrderPlaced, and a
 * consumer of the inventory outcome that moves each order from "accepted" to
 * "confirmed" or "rejected" so GET /orders/{id} shows where it ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/codec/event_json.h"
#include "../core/util/log.h"
#include "../transport/amqp_consume.h"
#include "../transport/amqp_outbox.h"
#include "../transport/amqp_topology.h"
#include "order_service.h"

#define OUTCOME_PREFETCH 1024

struct amqp_side {
    struct amqp_outbox_relay *relay;
    struct amqp_consumer *outcomes;
};

struct outcome_job {
    struct order_service *svc;
    const struct event *events; /* decoded outcomes */
    const size_t *index;        /* which message each event came from */
    size_t n;
    struct amqp_verdict *out;
};

/* Setting a status is idempotent (the outcome of an order never changes), so
 * a redelivered outcome needs no event-id bookkeeping. */
static int outcome_job(void *arg)
{
    struct outcome_job *j = arg;
    for (size_t k = 0; k < j->n; k++) {
        const struct event *ev = &j->events[k];
        bool ok = ev->type == EVENT_INVENTORY_RESERVED;
        if (order_set_status_locked(&j->svc->orders, ev->order.order_id,
                                    ok ? "confirmed" : "rejected", ok ? "" : ev->reason) != 0)
            return -1;
    }
    return 0;
}

static void handle_outcomes(void *ctx, const struct amqp_msg *msgs, size_t n,
                            struct amqp_verdict *out)
{
    struct order_service *svc = ctx;
    struct event *events = malloc(n * sizeof *events);
    size_t *index = malloc(n * sizeof *index);
    if (!events || !index) {
        for (size_t i = 0; i < n; i++)
            out[i].kind = AMQP_VERDICT_RETRY;
        free(events);
        free(index);
        return;
    }
    size_t k = 0;
    const unsigned outcomes = 1u << EVENT_INVENTORY_RESERVED | 1u << EVENT_INVENTORY_FAILED;
    for (size_t i = 0; i < n; i++) {
        if (event_accept(msgs[i].body, msgs[i].len, outcomes, &events[k], out[i].reason,
                         sizeof out[i].reason))
            index[k++] = i;
        else
            out[i].kind = AMQP_VERDICT_DEAD;
    }
    if (k > 0) {
        struct outcome_job job = {svc, events, index, k, out};
        int rc = db_transact(&svc->db, outcome_job, &job);
        for (size_t m = 0; m < k; m++)
            out[index[m]].kind = rc == 0 ? AMQP_VERDICT_ACK : AMQP_VERDICT_RETRY;
        if (rc == 0)
            metrics_count(svc->metrics, "outcomes_applied_total",
                          "Inventory outcomes applied to orders.", k);
    }
    free(events);
    free(index);
}

int amqp_relay_start(struct order_service *svc, const char *amqp_url)
{
    struct amqp_side *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->relay = amqp_outbox_relay_start(amqp_url, &svc->outbox, svc->metrics);
    struct amqp_consumer_opts o = {.url = amqp_url,
                                   .queue = AMQP_Q_ORDER_OUTCOME,
                                   .prefetch = OUTCOME_PREFETCH,
                                   .handle = handle_outcomes,
                                   .ctx = svc};
    s->outcomes = s->relay ? amqp_consumer_start(&o) : NULL;
    if (!s->outcomes) {
        log_error("cannot start the RabbitMQ threads");
        amqp_outbox_relay_stop(s->relay);
        free(s);
        return -1;
    }
    svc->relay = s;
    log_info("async mode: relaying the outbox to RabbitMQ");
    return 0;
}

void amqp_relay_stop(struct order_service *svc)
{
    struct amqp_side *s = svc->relay;
    if (!s)
        return;
    amqp_consumer_stop(s->outcomes);
    amqp_outbox_relay_stop(s->relay);
    free(s);
    svc->relay = NULL;
}
