/* notification-service: POST /send records one confirmation per order_id;
 * a repeat gets the first answer and records nothing more. */
#include <stdio.h>
#include <string.h>

#include "codec/order_json.h"
#include "codec/service_json.h"
#include "util/options.h"
#include "util/log.h"
#include "runtime/service.h"
#include "notification_service.h"

static struct opt opts[] = {
    {"listen", "127.0.0.1:8082", "HOST:PORT to serve HTTP on (port 0: any free port)", false, NULL},
    {"db", "notification.db", "SQLite database file (created if missing)", false, NULL},
    SERVICE_HTTP_OPTIONS,
    {"mode", "rest", "rest (POST /send) or amqp (also consume InventoryReserved from RabbitMQ)",
     false, NULL},
    {"amqp-url", "amqp://guest:guest@127.0.0.1:5672/",
     "amqp: RabbitMQ to consume from (a cluster: its nodes' URLs, comma-separated)", false, NULL},
    {"port-file", NULL, "write the bound port to this file once listening", false, NULL},
    {"quiet", NULL, "log warnings and errors only", true, NULL},
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
        service_internal_error(res, "cannot record the notification");
        return;
    }
    metrics_count(
        svc->metrics, duplicate ? "send_duplicates_total" : "notifications_sent_total",
        duplicate ? "Repeated /send for an order already notified." : "Confirmations recorded.", 1);
    const char *pairs[] = {"order_id", o.order_id, "status", "sent", "message", message, NULL};
    http_respond(res, 200, json_object_of(pairs));
}

static void handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct notification_service *svc = ctx;
    if (service_common_route(svc->metrics, svc->db_path, req, res))
        return;
    if (strcmp(req->path, "/send") == 0)
        send_one(svc, req, res);
    else
        service_not_found(res);
}

int main(int argc, char **argv)
{
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    log_init("notification");
    log_set_quiet(config_flag(opts, "quiet"));
    struct notification_service svc = {0};
    const char *mode = config_str(opts, "mode");
    bool amqp = strcmp(mode, "amqp") == 0;
    if (!amqp && strcmp(mode, "rest") != 0) {
        fprintf(stderr, "--mode: expected rest or amqp, got '%s'\n", mode);
        return 2;
    }
    service_signals_init();
    svc.db_path = config_str(opts, "db");
    if (db_open(&svc.db, svc.db_path) != 0)
        return 1;
    int rc = 1;
    struct http_server *http = NULL;
    svc.metrics = metrics_new("notification");
    if (!svc.metrics || notify_store_open(&svc.store, &svc.db) != 0)
        goto out;
    if (amqp && notification_amqp_start(&svc, config_str(opts, "amqp-url")) != 0)
        goto out;
    http = service_http_start(opts, svc.metrics, handle, &svc);
    if (!http)
        goto out;
    const char *port_file = config_str(opts, "port-file");
    if (port_file && service_write_port_file(port_file, http_server_port(http)) != 0)
        goto out;
    log_info("listening on port %u, database %s", http_server_port(http), config_str(opts, "db"));
    service_wait();
    rc = 0;
out:
    service_request_stop();
    http_server_stop(http);
    notification_amqp_stop(&svc);
    notify_store_close(&svc.store);
    db_close(&svc.db);
    metrics_free(svc.metrics);
    return rc;
}
