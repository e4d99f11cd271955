/* Part B, order service side: the outbox relay publishing OrderPlaced, and a
 * consumer of the inventory outcome that moves each order from "accepted" to
 * "confirmed" or "rejected" so GET /orders/{id} shows where it ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "util/log.h"
#include "runtime/service.h"
#include "runtime/amqp_apply.h"
#include "transport/amqp_consume.h"
#include "transport/amqp_outbox.h"
#include "transport/amqp_topology.h"
#include "order_service.h"

#define OUTCOME_PREFETCH 1024

struct amqp_side {
    struct amqp_outbox_relay *relay;
    struct amqp_applier *outcomes;
};

/* An outcome moves its order from accepted to confirmed or rejected; the
 * same outcome again is a duplicate; one that contradicts where the order
 * is (InventoryFailed for a confirmed order, an outcome for an order this
 * service never accepted) or what it is (another user, other items or
 * another event time than the stored order's) is a conflict: nothing
 * changes. */
static int apply_one(void *ctx, struct amqp_item *it)
{
    struct order_service *svc = ctx;
    const struct event *ev = &it->ev;
    struct order_record rec;
    int found = order_get_locked(&svc->orders, ev->order.order_id, &rec);
    if (found < 0)
        return -1;
    /* An outcome for an order this service never accepted is not about any
     * order it holds: its event_id is not kept either, or a forgery sent
     * before the order under the id its true outcome will carry (ids derive
     * from type and order_id) would turn that outcome into a conflict or a
     * duplicate and leave the order accepted for good. */
    if (!found) {
        it->result = AMQP_ITEM_CONFLICT;
        snprintf(it->reason, sizeof it->reason, "conflict: %s for unknown order %s",
                 event_type_name(ev->type), ev->order.order_id);
        return AMQP_APPLY_ONE_FOREIGN;
    }
    const char *differs = order_differs(&ev->order, &rec.order);
    if (differs) {
        it->result = AMQP_ITEM_CONFLICT;
        snprintf(it->reason, sizeof it->reason,
                 "conflict: %s for order %s with another %s than the order's",
                 event_type_name(ev->type), ev->order.order_id, differs);
        return AMQP_APPLY_ONE_FOREIGN;
    }
    bool ok = ev->type == EVENT_INVENTORY_RESERVED;
    enum order_status to = ok ? ORDER_CONFIRMED : ORDER_REJECTED, was = to;
    enum order_move mv =
        order_move_locked(&svc->orders, ev->order.order_id, to, ok ? "" : ev->reason, &was);
    if (mv == ORDER_MOVE_ERROR)
        return -1;
    if (mv == ORDER_MOVE_DONE) {
        it->result = was == to ? AMQP_ITEM_DUPLICATE : AMQP_ITEM_APPLIED;
        return 0;
    }
    /* Its event_id stays recorded: judged once, a redelivery of the same
     * event (its dead-letter copy made, the ack lost) is then a duplicate. */
    it->result = AMQP_ITEM_CONFLICT;
    snprintf(it->reason, sizeof it->reason, "conflict: %s for an order already %s",
             event_type_name(ev->type), order_status_name(was));
    return 0;
}

static void side_free(struct amqp_side *s)
{
    amqp_applier_stop(s->outcomes);
    amqp_outbox_relay_stop(s->relay);
    free(s);
}

int amqp_relay_start(struct order_service *svc, const char *amqp_url)
{
    struct amqp_side *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->relay = amqp_outbox_relay_start(amqp_url, &svc->outbox, svc->metrics, &log_notifier);
    const struct amqp_applier_opts o = {
        .url = amqp_url,
        .queue = AMQP_Q_ORDER_OUTCOME,
        .prefetch = OUTCOME_PREFETCH,
        .accepted = 1u << EVENT_INVENTORY_RESERVED | 1u << EVENT_INVENTORY_FAILED,
        .db = &svc->db,
        .metrics = svc->metrics,
        .apply_one = apply_one,
        .ctx = svc,
        .applied_metric = "outcomes_applied_total",
        .applied_help = "Inventory outcomes applied to orders.",
    };
    s->outcomes = s->relay ? amqp_applier_start(&o) : NULL;
    if (!s->outcomes) {
        log_error("cannot start the RabbitMQ threads");
        side_free(s);
        return -1;
    }
    svc->amqp = s;
    log_info("async mode: relaying the outbox to RabbitMQ");
    return 0;
}

void amqp_relay_stop(struct order_service *svc)
{
    struct amqp_side *s = svc->amqp;
    if (!s)
        return;
    side_free(s);
    svc->amqp = NULL;
}
