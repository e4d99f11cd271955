/* notification-service: POST /send records one confirmation per order_id;
 * a repeat gets the first answer and records nothing more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/order_json.h"
#include "codec/service_json.h"
#include "util/options.h"
#include "util/log.h"
#include "runtime/list_page.h"
#include "runtime/mode.h"
#include "runtime/service.h"
#include "runtime/service_main.h"
#include "notification_service.h"

static const struct opt opts[] = {
    {"mode", "rest", "rest (POST /send) or amqp (also consume InventoryReserved from RabbitMQ)",
     false, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-notification [options]\n"
    "Serves POST /send {\"order_id\":..,\"user_id\":..,\"items\":[..]} (items optional),\n"
    "GET /healthz, GET /metrics and GET /dump (canonical state, as commlab-dump prints it).\n"
    "With --mode amqp it also consumes InventoryReserved from RabbitMQ (same one-per-order rule).";

static void send_one(struct notification_service *svc, const struct http_request *req,
                     struct http_response *res)
{
    res->route = "/send";
    struct order o;
    if (!service_post_order(req, res, NEED_ORDER_ID | NEED_USER_ID, &o))
        return;
    bool duplicate;
    char message[NOTIFY_MESSAGE_MAX];
    if (notify_record(&svc->store, &o, &duplicate, message) != 0) {
        service_store_failed(res, "cannot record the notification");
        return;
    }
    metrics_count(
        svc->metrics, duplicate ? "send_duplicates_total" : "notifications_sent_total",
        duplicate ? "Repeated /send for an order already notified." : "Confirmations recorded.", 1);
    const char *pairs[] = {"order_id", o.order_id, "status", "sent", "message", message, NULL};
    http_respond(res, 200, json_object_of(pairs));
}

static bool list_row(void *ctx, const char *order_id, const char *user_id, const char *message)
{
    struct list_page *p = ctx;
    char *json = NULL;
    if (!p->user_id[0] || strcmp(p->user_id, user_id) == 0) {
        const char *pairs[] = {"order_id", order_id, "user_id", user_id, "message", message, NULL};
        if (!(json = json_object_of(pairs)))
            p->out.failed = 1;
    }
    bool more = list_page_row(p, order_id, json);
    free(json);
    return more;
}

/* GET /notifications: a page in order_id order (list_page.h). */
static void list(struct notification_service *svc, const struct http_request *req,
                 struct http_response *res)
{
    res->route = "/notifications";
    struct list_page p;
    if (!list_page_start(req, res, NULL, "notifications", &p))
        return;
    int rc = notify_scan(&svc->store, p.after, LIST_SCAN_MAX, list_row, &p);
    list_page_finish(&p, rc != 0, res);
}

static void handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct notification_service *svc = ctx;
    if (service_common_route(svc->metrics, svc->db_path, req, res))
        return;
    if (strcmp(req->path, "/send") == 0)
        send_one(svc, req, res);
    else if (strcmp(req->path, "/notifications") == 0)
        list(svc, req, res);
    else
        service_not_found(res);
}

/* The service and its mode, from configure to stop. */
struct notification_main {
    struct notification_service svc;
    enum service_mode mode;
};

static int start(void *ctx, const struct opt *o)
{
    (void)o;
    struct notification_main *m = ctx;
    return notify_store_open(&m->svc.store, &m->svc.db);
}

static void stop(void *ctx)
{
    struct notification_main *m = ctx;
    notify_store_close(&m->svc.store);
}

static int amqp_start(void *ctx, const struct opt *o)
{
    struct notification_main *m = ctx;
    return notification_amqp_start(&m->svc, config_str(o, "amqp-url"));
}

static void amqp_stop(void *ctx)
{
    struct notification_main *m = ctx;
    notification_amqp_stop(&m->svc);
}

/* REST needs nothing more than the store: POST /send is always served. */
static const struct service_mode_hooks modes[MODE_STREAM + 1] = {
    [MODE_ASYNC] = {amqp_start, amqp_stop},
};

static void describe(void *ctx, const struct opt *o, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "database %s", config_str(o, "db"));
}

int main(int argc, char **argv)
{
    struct notification_main m = {0};
    const struct service_def def = {
        .name = "notification",
        .listen = "127.0.0.1:8082",
        .db = "notification.db",
        .usage = usage,
        .options = opts,
        .db_handle = &m.svc.db,
        .metrics = &m.svc.metrics,
        .db_path = &m.svc.db_path,
        .modes = MODE_BIT(MODE_SYNC) | MODE_BIT(MODE_ASYNC),
        .mode = &m.mode,
        .mode_hooks = modes,
        .brokers = SERVICE_AMQP,
        .ctx = &m,
        .handler = handle,
        .handler_ctx = &m.svc,
        .start = start,
        .stop = stop,
        .describe = describe,
    };
    return service_main(&def, argc, argv);
}
