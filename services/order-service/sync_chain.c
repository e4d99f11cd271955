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
#include "util/clock.h"
#include "transport/http_async.h"
#include "transport/http_client.h"
#include "transport/http_outbox.h"
#include "order_service.h"

/* Less time left than this for inventory, and it is not asked: no answer
 * could come back in time. */
#define MIN_CALL_MS 10

struct step {
    int http_status;          /* what the client gets */
    enum order_status status; /* stored */
    char detail[DETAIL_MAX];
    const char *inventory; /* outcome label for the answer */
    const char *error;     /* error code for the answer, NULL on success */
    char message[160];
};

static void classify_inventory(const struct http_result *r, long timeout_ms, struct step *s)
{
    memset(s, 0, sizeof *s);
    s->status = ORDER_FAILED;
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
        s->status = ORDER_CONFIRMED;
        s->inventory = "reserved";
    } else if (r->status == 409) {
        s->http_status = 409;
        s->status = ORDER_REJECTED;
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
    j->inserted = order_insert_locked(j->orders, j->o, ORDER_PENDING, j->existing);
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
    j->moved = order_move_from_locked(&svc->orders, j->o->order_id, ORDER_PENDING, j->s->status,
                                      j->s->detail);
    if (j->moved != 1)
        return j->moved < 0 ? -1 : 0;
    if (j->release_body && add_row(svc, "release", RELEASE_DESTINATION, j->o, j->release_body))
        return -1;
    if (j->notify_body && add_row(svc, "notify", NOTIFY_DESTINATION, j->o, j->notify_body))
        return -1;
    return 0;
}

/* The final state with what must still be delivered for it. 0 stored,
 * 1 finished by someone else first, -1 the store failed. */
static int store_final(struct order_service *svc, const struct order *o, const struct step *s,
                       const char *body, bool notify_later)
{
    /* 502 and 504 leave it open whether inventory holds (or will hold) stock
     * for this order; a release settles it either way. */
    bool release = s->http_status == 502 || s->http_status == 504;
    struct finish_job fin = {svc, o, s, release ? body : NULL, notify_later ? body : NULL, 0};
    if (db_transact(&svc->db, finish_job, &fin) != 0)
        return -1;
    if (fin.moved != 1)
        return 1;
    if (release)
        http_outbox_relay_kick(svc->releases);
    if (notify_later)
        http_outbox_relay_kick(svc->notifications);
    return 0;
}

/* The answer when the order is stored but its outcome is not final here: its
 * final state is stored later (recovery), so the client is told to ask again
 * with the order_id rather than told an outcome the service may contradict. */
static void answer_unknown(struct order_service *svc, const struct order *o,
                           struct http_response *res)
{
    metrics_count(svc->metrics, "orders_outcome_unknown_total",
                  "Orders answered 503: stored, final state not yet stored.", 1);
    const char *extra[] = {"error", "outcome_unknown", "message",
                           "the order is stored but its outcome is not final yet; retry with its "
                           "order_id for the final answer",
                           NULL};
    res->retry_after_s =
        db_full(&svc->db) ? SERVICE_STORE_FULL_RETRY_S : SERVICE_STORE_BUSY_RETRY_S;
    http_respond(res, 503, order_view_encode(o, "pending", NULL, extra));
}

/* A repeated order_id: the stored order if final, else "ask again". */
static void answer_stored(struct order_service *svc, const struct order_record *rec,
                          struct http_response *res)
{
    if (strcmp(rec->status, "pending") == 0)
        answer_unknown(svc, &rec->order, res);
    else
        order_answer_existing(rec, res);
}

static void respond(struct order_service *svc, const struct order *o, int stored,
                    const struct step *s, const char *notification, struct http_response *res)
{
    struct order_record rec;
    if (stored < 0 || (stored == 1 && order_get(&svc->orders, o->order_id, &rec) != 1)) {
        answer_unknown(svc, o, res);
        return;
    }
    if (stored == 1) {
        answer_stored(svc, &rec, res);
        return;
    }
    metrics_count(svc->metrics, "orders_placed_total", "Orders answered by outcome.", 1);
    const char *extra[] = {
        "inventory", s->inventory, "notification", notification, s->error ? "error" : NULL,
        s->error,    "message",    s->message,     NULL};
    http_respond(res, s->http_status,
                 order_view_encode(o, order_status_name(s->status), s->detail, extra));
}

/* An order between its admission and its final state: a client's (answered
 * when stored) or a stored pending one that recovery drives. No thread waits
 * for it: the calls run on the client's event loop, the stores on a thread
 * that may block (a handler thread, or recovery's). */
struct chain {
    struct order_service *svc;
    struct order o;
    char *body;
    struct http_deferred *d; /* a client's order */
    sync_chain_done_fn done; /* recovery's */
    void *done_ctx;
    struct chain *running_prev, *running_next;
    struct step s;
    const char *notification;
    struct guard_ticket ticket;
    bool notify_later;
    bool not_sent; /* inventory was not called: says nothing of inventory */
};

/* The orders with a chain in this process: recovery leaves them alone. */
static void running_enter(struct chain *c)
{
    struct order_service *svc = c->svc;
    pthread_mutex_lock(&svc->running_mu);
    c->running_prev = NULL;
    c->running_next = svc->running;
    if (svc->running)
        svc->running->running_prev = c;
    svc->running = c;
    pthread_mutex_unlock(&svc->running_mu);
}

static void running_leave(struct chain *c)
{
    struct order_service *svc = c->svc;
    pthread_mutex_lock(&svc->running_mu);
    if (c->running_prev)
        c->running_prev->running_next = c->running_next;
    else
        svc->running = c->running_next;
    if (c->running_next)
        c->running_next->running_prev = c->running_prev;
    pthread_mutex_unlock(&svc->running_mu);
}

bool sync_chain_running(struct order_service *svc, const char *order_id)
{
    pthread_mutex_lock(&svc->running_mu);
    struct chain *c = svc->running;
    while (c && strcmp(c->o.order_id, order_id) != 0)
        c = c->running_next;
    pthread_mutex_unlock(&svc->running_mu);
    return c != NULL;
}

static void chain_end(struct chain *c)
{
    struct order_service *svc = c->svc;
    struct guard_ticket ticket = c->ticket;
    running_leave(c);
    free(c->body);
    free(c);
    inventory_guard_leave(svc, &ticket);
}

static void finish_chain(void *arg, struct http_response *res)
{
    struct chain *c = arg;
    res->route = "/order";
    int stored = store_final(c->svc, &c->o, &c->s, c->body, c->notify_later);
    respond(c->svc, &c->o, stored, &c->s, c->notification, res);
    chain_end(c);
}

/* The calls are over: the store is for a thread that may block. */
static void calls_done(struct chain *c)
{
    if (c->d)
        http_deferred_continue(c->d, finish_chain, c);
    else
        c->done(c->done_ctx, c);
}

int sync_chain_finish(struct chain *c)
{
    int rc = SYNC_CHAIN_LEFT_PENDING;
    /* Nobody waits for a recovered order: an inventory that failed or did
     * not answer is asked again later, through the breaker, rather than the
     * order failed for it. */
    if (c->s.http_status != 502 && c->s.http_status != 504)
        rc = store_final(c->svc, &c->o, &c->s, c->body, c->notify_later);
    chain_end(c);
    return rc;
}

void sync_chain_abandon(struct chain *c)
{
    chain_end(c);
}

static void notified(void *arg, struct http_result *r)
{
    struct chain *c = arg;
    bool sent = r->failure == HTTP_ANSWERED && r->status == 200;
    if (!sent)
        log_warn("notification of order %s not delivered (%s); will retry", c->o.order_id,
                 r->failure == HTTP_ANSWERED ? "non-200 answer" : r->error);
    http_result_free(r);
    c->notification = sent ? "sent" : "pending";
    c->notify_later = !sent;
    snprintf(c->s.detail, sizeof c->s.detail, sent ? "notified" : "notification_pending");
    calls_done(c);
}

static void reserved(void *arg, struct http_result *r)
{
    struct chain *c = arg;
    struct order_service *svc = c->svc;
    /* A refusal (409) is inventory working; what the breaker counts is
     * inventory not answering, or failing. */
    bool ok = r->failure == HTTP_ANSWERED && r->status < 500;
    inventory_guard_done(svc, &c->ticket, c->not_sent ? CALL_NOT_MADE : ok ? CALL_OK : CALL_FAILED);
    classify_inventory(r, svc->inventory_timeout_ms, &c->s);
    http_result_free(r);
    c->notification = "skipped";
    if (c->s.http_status == 201) {
        struct http_async_request send = {.url = svc->send_url,
                                          .body = c->body,
                                          .body_len = strlen(c->body),
                                          .timeout_ms = svc->notification_timeout_ms};
        if (http_async_call(svc->client, &send, notified, c) == 0)
            return;
        struct http_result none = {.failure = HTTP_UNREACHABLE};
        snprintf(none.error, sizeof none.error, "cannot start the call");
        notified(c, &none);
        return;
    }
    calls_done(c);
}

/* A chain admitted by the guard (its ticket, given back by
 * inventory_guard_done and at the latest by chain_end), for an order stored
 * pending: asks inventory within what is left of the budget, the deadline
 * sent along so that it does not start work nobody will wait for. */
static void call_inventory(struct chain *c, uint64_t start_us)
{
    struct order_service *svc = c->svc;
    long left = svc->inventory_timeout_ms - (long)((clock_mono_us() - start_us) / 1000u);
    if (left < MIN_CALL_MS) {
        /* The budget went on this side (a slow insert): too little is left to
         * ask inventory, and its breaker must not count it. */
        c->not_sent = true;
        struct http_result spent = {.failure = HTTP_TIMEOUT};
        snprintf(spent.error, sizeof spent.error, "no time left to call inventory");
        reserved(c, &spent);
        return;
    }
    char deadline[64];
    snprintf(deadline, sizeof deadline, "%s: %ld", DEADLINE_HEADER, left);
    struct http_async_request reserve = {.url = svc->reserve_url,
                                         .body = c->body,
                                         .body_len = strlen(c->body),
                                         .header = deadline,
                                         .timeout_ms = left};
    /* Counted first: once the call is under way the chain may end at any time. */
    inventory_guard_called(svc);
    if (http_async_call(svc->client, &reserve, reserved, c) == 0)
        return;
    c->not_sent = true;
    struct http_result none = {.failure = HTTP_UNREACHABLE};
    snprintf(none.error, sizeof none.error, "cannot start the call");
    reserved(c, &none);
}

/* Admission, then a chain for the order: NULL (and *why) if not admitted or
 * out of memory (ADMIT_OK with NULL), the guard's counts given back. */
static struct chain *chain_new(struct order_service *svc, const struct order *o,
                               enum admission *why, unsigned *retry_after_s)
{
    struct guard_ticket ticket;
    *why = inventory_guard_admit(svc, &ticket, retry_after_s);
    if (*why != ADMIT_OK)
        return NULL;
    struct chain *c = calloc(1, sizeof *c);
    if (!c || !(c->body = order_encode(o))) {
        free(c);
        inventory_guard_leave(svc, &ticket);
        return NULL;
    }
    c->svc = svc;
    c->o = *o;
    c->ticket = ticket;
    /* Running before anything is stored: recovery must never take a pending
     * order that a chain of this process is about to drive. */
    running_enter(c);
    return c;
}

enum admission sync_chain_resume(struct order_service *svc, const struct order *o,
                                 sync_chain_done_fn done, void *ctx, unsigned *retry_after_s)
{
    uint64_t start_us = clock_mono_us();
    enum admission why;
    struct chain *c = chain_new(svc, o, &why, retry_after_s);
    if (!c)
        return why == ADMIT_OK ? ADMIT_OVERLOADED : why;
    c->done = done;
    c->done_ctx = ctx;
    call_inventory(c, start_us);
    return ADMIT_OK;
}

/* Answers an order not admitted: from the store if its order_id is known
 * (a retry of an order placed before), else 503 with nothing stored. */
static void refuse(struct order_service *svc, const struct order *o, enum admission why,
                   unsigned retry_after_s, struct http_response *res)
{
    struct order_record rec;
    int found = order_get(&svc->orders, o->order_id, &rec);
    if (found == 1)
        answer_stored(svc, &rec, res);
    else if (why == ADMIT_OK)
        service_internal_error(res, "out of memory");
    else
        inventory_guard_refuse(why, retry_after_s, res);
}

void sync_place_order(struct order_service *svc, const struct order *o, struct http_response *res)
{
    uint64_t start_us = clock_mono_us();
    enum admission why;
    unsigned retry_after_s;
    struct chain *c = chain_new(svc, o, &why, &retry_after_s);
    if (!c) {
        refuse(svc, o, why, retry_after_s, res);
        return;
    }
    struct order_record existing;
    struct insert_job job = {&svc->orders, o, &existing, -1};
    int rc = db_transact(&svc->db, insert_job, &job);
    if (rc != 0 || job.inserted != 1) {
        if (rc == 0 && job.inserted == 0)
            answer_stored(svc, &existing, res);
        else /* nothing stored: the transaction rolled back */
            service_store_failed(res, "cannot store the order");
        chain_end(c);
        return;
    }
    c->d = http_defer(res);
    call_inventory(c, start_us);
}

int sync_chain_start(struct order_service *svc)
{
    pthread_mutex_init(&svc->running_mu, NULL);
    svc->running = NULL;
    svc->client = http_async_start("sync-chain");
    return svc->client ? 0 : -1;
}

void sync_chain_drain(struct order_service *svc)
{
    if (!svc->client)
        return;
    /* Each chain ends within its two timeouts; the stores after them are quick. */
    long budget_ms = svc->inventory_timeout_ms + svc->notification_timeout_ms + 5000;
    for (long waited = 0; inventory_guard_chains(svc) > 0 && waited < budget_ms; waited += 10)
        clock_sleep_us(10000);
    if (inventory_guard_chains(svc) > 0)
        log_warn("%ld orders still in flight at stop: recovery drives them at the next start",
                 inventory_guard_chains(svc));
    /* Freed only after the HTTP server has stopped (sync_chain_stop): a chain
     * still waiting on its insert calls it later, and is refused. */
    http_async_stop(svc->client);
}

void sync_chain_stop(struct order_service *svc)
{
    if (!svc->client)
        return;
    http_async_free(svc->client);
    svc->client = NULL;
    pthread_mutex_destroy(&svc->running_mu);
}
