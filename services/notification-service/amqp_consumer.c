/* Part B, notification side: consumes InventoryReserved with manual acks.
 * One transaction per batch records each event_id as processed and the
 * confirmation for its order (one per order_id); the batch is acked after
 * the commit, so a crash before it means a redelivery that changes nothing
 * twice; the same event_id for another order is a conflict, dead-lettered. */
#include <stdio.h>
#include <string.h>

#include "codec/event_json.h"
#include "util/log.h"
#include "runtime/amqp_apply.h"
#include "transport/amqp_topology.h"
#include "notification_service.h"

#define NOTIFICATION_PREFETCH 1024

/* One new InventoryReserved inside the batch transaction (amqp_apply_each).
 * The first outcome for an order is the one notified: this service keeps no
 * copy of the order to check it against. A later one for the same order is
 * a duplicate only when it says the same (the same user and items); one
 * that says otherwise is a conflict, dead-lettered, and its event_id not
 * kept (AMQP_APPLY_ONE_FOREIGN). */
static int apply_one(void *ctx, struct amqp_item *it)
{
    struct notification_service *svc = ctx;
    bool duplicate;
    char message[NOTIFY_MESSAGE_MAX], said[NOTIFY_MESSAGE_MAX];
    if (notify_record_locked(&svc->store, &it->ev.order, &duplicate, message) != 0)
        return -1;
    notify_message(&it->ev.order, said);
    if (duplicate && strcmp(message, said) != 0) {
        it->result = AMQP_ITEM_CONFLICT;
        snprintf(it->reason, sizeof it->reason,
                 "conflict: InventoryReserved for order %s with another user_id or items than "
                 "the one notified",
                 it->ev.order.order_id);
        return AMQP_APPLY_ONE_FOREIGN;
    }
    it->result = duplicate ? AMQP_ITEM_DUPLICATE : AMQP_ITEM_APPLIED;
    return 0;
}

int notification_amqp_start(struct notification_service *svc, const char *amqp_url)
{
    const struct amqp_applier_opts o = {.url = amqp_url,
                                        .queue = AMQP_Q_NOTIFICATION,
                                        .prefetch = NOTIFICATION_PREFETCH,
                                        .accepted = 1u << EVENT_INVENTORY_RESERVED,
                                        .db = &svc->db,
                                        .metrics = svc->metrics,
                                        .apply_one = apply_one,
                                        .ctx = svc,
                                        .applied_metric = "notifications_sent_total",
                                        .applied_help = "Confirmations recorded."};
    svc->consumer = amqp_applier_start(&o);
    if (!svc->consumer)
        return -1;
    log_info("amqp mode: consuming %s", AMQP_Q_NOTIFICATION);
    return 0;
}

void notification_amqp_stop(struct notification_service *svc)
{
    amqp_applier_stop(svc->consumer);
    svc->consumer = NULL;
}
