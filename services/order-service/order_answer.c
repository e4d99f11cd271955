/* The answer both placement paths (sync_chain.c, outbox_place.c) give to an
 * order_id the service already holds: below both, so neither reaches up
 * into the HTTP API for it. */
#include "codec/order_json.h"
#include "order_service.h"

void order_answer_existing(const struct order_record *rec, struct http_response *res)
{
    const char *extra[] = {"note", "order_id seen before: this is the stored order", NULL};
    http_respond(res, 200, order_view_encode(&rec->order, rec->status, rec->detail, extra));
}
