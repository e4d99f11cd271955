/* Parts B and C: the order and its OrderPlaced event are stored in one
 * transaction and the client gets 202 at once; a relay publishes the event. */
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "codec/order_json.h"
#include "runtime/service.h"
#include "order_service.h"

/* Where OrderPlaced goes: the routing key on RabbitMQ, the topic on Kafka. */
#define ORDER_PLACED_DESTINATION "order-events"

struct place_job {
    struct order_service *svc;
    const struct order *o;
    const struct event *ev;
    const char *body;
    struct order_record existing;
    int inserted;
};

static int place_job(void *arg)
{
    struct place_job *j = arg;
    j->inserted = order_insert_locked(&j->svc->orders, j->o, ORDER_ACCEPTED, &j->existing);
    if (j->inserted == 1 &&
        outbox_add_locked(&j->svc->outbox, j->ev->event_id, ORDER_PLACED_DESTINATION,
                          j->o->order_id, j->body) < 0)
        j->inserted = -1;
    return j->inserted < 0 ? -1 : 0;
}

void outbox_place_order(struct order_service *svc, const struct order *o, struct http_response *res)
{
    struct event ev;
    event_from_order(&ev, EVENT_ORDER_PLACED, o, NULL);
    char *body = event_encode(&ev);
    if (!body) {
        service_internal_error(res, "out of memory");
        return;
    }
    struct place_job job = {.svc = svc, .o = o, .ev = &ev, .body = body, .inserted = -1};
    if (db_transact(&svc->db, place_job, &job) != 0)
        job.inserted = -1;
    free(body);
    int inserted = job.inserted;
    if (inserted < 0) {
        service_store_failed(res, "cannot store the order and its event");
    } else if (inserted == 0) {
        order_answer_existing(&job.existing, res);
    } else {
        metrics_count(svc->metrics, "orders_accepted_total", "Orders stored with their event.", 1);
        http_respond(res, 202, order_view_encode(o, "accepted", NULL, NULL));
    }
}
