/* Parts B and C: the order and its OrderPlaced event are stored in one
 * transaction and the client gets 202 at once; a relay publishes the event. */
#include <stdlib.h>
#include <string.h>

#include "../core/codec/event_json.h"
#include "../core/codec/order_json.h"
#include "../runtime/service.h"
#include "order_service.h"

/* Where OrderPlaced goes: the routing key on RabbitMQ, the topic on Kafka. */
#define ORDER_PLACED_DESTINATION "order-events"

void outbox_place_order(struct order_service *svc, const struct order *o,
                        struct http_response *res)
{
    struct event ev;
    event_from_order(&ev, EVENT_ORDER_PLACED, o, NULL);
    char *body = event_encode(&ev);
    if (!body) {
        service_internal_error(res, "out of memory");
        return;
    }
    struct order_record existing;
    int inserted = -1;
    if (db_begin(&svc->db) == 0) {
        inserted = order_insert_locked(&svc->orders, o, "accepted", &existing);
        if (inserted == 1 && outbox_add_locked(&svc->outbox, ev.event_id,
                                               ORDER_PLACED_DESTINATION, o->order_id, body) < 0)
            inserted = -1;
        if (inserted < 0)
            db_rollback(&svc->db);
        else if (db_commit(&svc->db) != 0)
            inserted = -1;
    }
    free(body);
    if (inserted < 0) {
        service_internal_error(res, "cannot store the order and its event");
    } else if (inserted == 0) {
        order_answer_existing(&existing, res);
    } else {
        metrics_count(svc->metrics, "orders_accepted_total", "Orders stored with their event.", 1);
        http_respond(res, 202, order_view_encode(o, "accepted", NULL, NULL));
    }
}
