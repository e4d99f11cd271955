/* Part A: the synchronous chain. The order is stored first (so a client can
 * look it up and a retry with the same order_id is answered from the store),
 * then inventory and notification are called in turn while the client waits.
 * What cannot be delivered then is stored with the final state and delivered
 * later (http_relay.c); an order left pending is driven on by sync_recovery.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/order_json.h"
#include "codec/service_json.h"
#include "util/log.h"
#include "runtime/service.h"
#include "transport/http_client.h"
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
    const char *notify_body;  /* NULL: notified already */
    int moved;
};

static int add_row(struct order_service *svc, const char *what, const char *destination,
                   const struct order *o, const char *body)
{
    char event_id[ID_MAX_LEN + 16];
    snprintf(event_id, sizeof event_id, "%s/%s", what, o->order_id);
    return outbox_add_locked(&svc->outbox, event_id, destination, o->order_id, body) < 0 ? -1 : 0;
}

/* The final status commits together with what must still be delivered for
 * it: a crash cannot leave a failed order whose stock nobody will give back,
 * nor a confirmed one nobody will notify. Only a pending order is finished:
 * if recovery and a chain race, the first final state stays. */
static int finish_job(void *arg)
{
    struct finish_job *j = arg;
    struct order_service *svc = j->svc;
    j->moved =
        order_move_from_locked(&svc->orders, j->o->order_id, "pending", j->s->status, j->s->detail);
    if (j->moved != 1)
        return j->moved < 0 ? -1 : 0;
    if (j->release_body && add_row(svc, "release", RELEASE_DESTINATION, j->o, j->release_body))
        return -1;
    if (j->notify_body && add_row(svc, "notify", NOTIFY_DESTINATION, j->o, j->notify_body))
        return -1;
    return 0;
}

/* Runs the chain for a stored pending order: reserve, notify once while the
 * client waits, then the final state. Both calls are idempotent by order_id,
 * so running it again for the same order (recovery after a crash) changes
 * nothing that was done. 0 finished here (s filled), 1 finished by someone
 * else, -1 the store failed. */
static int run_chain(struct order_service *svc, const struct order *o, struct step *s,
                     const char **notification)
{
    char *body = order_encode(o);
    if (!body)
        return -1;
    struct http_result inv;
    if (http_call("POST", svc->reserve_url, "application/json", body, strlen(body),
                  svc->inventory_timeout_ms, &inv) != 0) {
        inv.failure = HTTP_UNREACHABLE;
        snprintf(inv.error, sizeof inv.error, "cannot create an HTTP request");
    }
    classify_inventory(&inv, svc->inventory_timeout_ms, s);
    http_result_free(&inv);

    *notification = "skipped";
    bool later = false;
    if (s->http_status == 201) {
        bool sent = http_deliver(svc->send_url, body, strlen(body), svc->notification_timeout_ms,
                                 "notification", o->order_id);
        *notification = sent ? "sent" : "pending";
        snprintf(s->detail, sizeof s->detail, sent ? "notified" : "notification_pending");
        later = !sent;
    }
    /* 502 and 504 leave it open whether inventory holds (or will hold) stock
     * for this order; a release settles it either way. */
    bool release = s->http_status == 502 || s->http_status == 504;
    struct finish_job fin = {svc, o, s, release ? body : NULL, later ? body : NULL, 0};
    int stored = db_transact(&svc->db, finish_job, &fin);
    free(body);
    if (stored != 0)
        return -1;
    if (fin.moved != 1)
        return 1;
    if (release)
        http_relay_kick(svc->releases);
    if (later)
        http_relay_kick(svc->notifications);
    return 0;
}

int sync_drive(struct order_service *svc, const struct order *o)
{
    struct step s;
    const char *notification;
    return run_chain(svc, o, &s, &notification);
}

void sync_place_order(struct order_service *svc, const struct order *o, struct http_response *res)
{
    struct inflight f;
    inflight_enter(svc, &f, o->order_id);
    struct order_record existing;
    struct insert_job job = {&svc->orders, o, &existing, -1};
    int rc = db_transact(&svc->db, insert_job, &job) != 0 ? -1 : job.inserted == 0 ? 1 : 0;
    struct step s;
    const char *notification = NULL;
    if (rc == 0)
        rc = run_chain(svc, o, &s, &notification);
    inflight_leave(svc, &f);
    if (rc < 0) {
        service_internal_error(res, "cannot store the order");
        return;
    }
    if (rc == 1) {
        if (job.inserted != 0 && order_get(&svc->orders, o->order_id, &existing) != 1) {
            service_internal_error(res, "cannot read the order");
            return;
        }
        order_answer_existing(&existing, res);
        return;
    }
    metrics_count(svc->metrics, "orders_placed_total", "Orders answered by outcome.", 1);
    const char *extra[] = {
        "inventory", s.inventory, "notification", notification, s.error ? "error" : NULL,
        s.error,     "message",   s.message,      NULL};
    http_respond(res, s.http_status, order_view_encode(o, s.status, s.detail, extra));
}
