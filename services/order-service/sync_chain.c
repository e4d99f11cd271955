/* Part A: the synchronous chain. The order is stored first (so a client can
 * look it up and a retry with the same order_id is answered from the store),
 * then inventory and notification are called in turn while the client waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/codec/order_json.h"
#include "../core/codec/service_json.h"
#include "../core/util/log.h"
#include "../runtime/service.h"
#include "../transport/http_client.h"
#include "order_service.h"

struct step {
    int http_status;    /* what the client gets */
    const char *status; /* order status stored */
    char detail[DETAIL_MAX];
    const char *inventory; /* outcome label for the answer */
    const char *error;     /* error code for the answer, NULL on success */
    char message[160];
};

static void classify_inventory(const struct http_result *r, long timeout_ms, struct step *s)
{
    memset(s, 0, sizeof *s);
    s->status = "failed";
    s->http_status = 502;
    if (r->failure == HTTP_TIMEOUT) {
        s->http_status = 504;
        s->inventory = "timeout";
        s->error = "inventory_timeout";
        snprintf(s->detail, sizeof s->detail, "inventory_timeout");
        snprintf(s->message, sizeof s->message, "inventory did not answer within %ld ms",
                 timeout_ms);
    } else if (r->failure == HTTP_UNREACHABLE) {
        s->inventory = "unavailable";
        s->error = "inventory_unavailable";
        snprintf(s->detail, sizeof s->detail, "inventory_unavailable");
        snprintf(s->message, sizeof s->message, "inventory unreachable: %s", r->error);
    } else if (r->status == 200) {
        s->http_status = 201;
        s->status = "confirmed";
        s->inventory = "reserved";
    } else if (r->status == 409) {
        s->http_status = 409;
        s->status = "rejected";
        s->inventory = "refused";
        s->error = "out_of_stock";
        char reason[EVENT_REASON_MAX];
        reserve_answer_reason(r->body ? r->body : "", r->body_len, reason, sizeof reason);
        snprintf(s->detail, sizeof s->detail, "%s", reason[0] ? reason : "out_of_stock");
        snprintf(s->message, sizeof s->message, "inventory refused: %s", s->detail);
    } else {
        s->inventory = "error";
        s->error = "inventory_error";
        snprintf(s->detail, sizeof s->detail, "inventory_error:%d", r->status);
        snprintf(s->message, sizeof s->message, "inventory answered HTTP %d", r->status);
    }
}

struct insert_job {
    struct order_store *orders;
    const struct order *o;
    struct order_record *existing;
    int inserted;
};

static int insert_job(void *arg)
{
    struct insert_job *j = arg;
    j->inserted = order_insert_locked(j->orders, j->o, "pending", j->existing);
    return j->inserted < 0 ? -1 : 0;
}

struct finish_job {
    struct order_service *svc;
    const struct order *o;
    const struct step *s;
    const char *release_body; /* NULL: nothing to release */
};

/* The final status, and with a failed order its release, commit together:
 * a crash cannot leave a failed order whose stock nobody will give back. */
static int finish_job(void *arg)
{
    struct finish_job *j = arg;
    if (order_set_status_locked(&j->svc->orders, j->o->order_id, j->s->status, j->s->detail) != 0)
        return -1;
    if (!j->release_body)
        return 0;
    char event_id[ID_MAX_LEN + 16];
    snprintf(event_id, sizeof event_id, "release/%s", j->o->order_id);
    return outbox_add_locked(&j->svc->outbox, event_id, "inventory.release", j->o->order_id,
                             j->release_body) < 0
               ? -1
               : 0;
}

void sync_place_order(struct order_service *svc, const struct order *o, struct http_response *res)
{
    struct order_record existing;
    struct insert_job job = {&svc->orders, o, &existing, -1};
    if (db_transact(&svc->db, insert_job, &job) != 0) {
        service_internal_error(res, "cannot store the order");
        return;
    }
    int inserted = job.inserted;
    if (inserted == 0) {
        order_answer_existing(&existing, res);
        return;
    }

    char *body = order_encode(o);
    if (!body) {
        service_internal_error(res, "out of memory");
        return;
    }
    struct http_result inv;
    struct step s;
    if (http_call("POST", svc->reserve_url, "application/json", body, strlen(body),
                  svc->inventory_timeout_ms, &inv) != 0) {
        inv.failure = HTTP_UNREACHABLE;
        snprintf(inv.error, sizeof inv.error, "cannot create an HTTP request");
    }
    classify_inventory(&inv, svc->inventory_timeout_ms, &s);
    http_result_free(&inv);

    const char *notification = "skipped";
    if (s.http_status == 201) {
        struct http_result n;
        int rc = http_call("POST", svc->send_url, "application/json", body, strlen(body),
                           svc->notification_timeout_ms, &n);
        bool sent = rc == 0 && n.failure == HTTP_ANSWERED && n.status == 200;
        notification = sent ? "sent" : "failed";
        snprintf(s.detail, sizeof s.detail, sent ? "notified" : "notification_failed");
        if (!sent)
            log_warn("order %s: notification failed (%s)", o->order_id,
                     n.failure == HTTP_ANSWERED ? "non-200 answer" : n.error);
        http_result_free(&n);
    }
    /* 502 and 504 leave it open whether inventory holds (or will hold) stock
     * for this order; a release settles it either way. */
    bool release = s.http_status == 502 || s.http_status == 504;
    struct finish_job fin = {svc, o, &s, release ? body : NULL};
    int stored = db_transact(&svc->db, finish_job, &fin);
    free(body);
    if (stored != 0) {
        service_internal_error(res, "cannot update the order");
        return;
    }
    if (release)
        release_relay_kick(svc);
    metrics_count(svc->metrics, "orders_placed_total", "Orders answered by outcome.", 1);
    const char *extra[] = {
        "inventory", s.inventory, "notification", notification, s.error ? "error" : NULL,
        s.error,     "message",   s.message,      NULL};
    http_respond(res, s.http_status, order_view_encode(o, s.status, s.detail, extra));
}
