/* order-service: POST /order in one of three modes (sync REST, async via
 * RabbitMQ, streaming via Kafka), GET /orders/{id}, /healthz, /metrics. */
#include <stdio.h>
#include <string.h>

#include "util/options.h"
#include "util/log.h"
#include "runtime/service.h"
#include "transport/http_client.h"
#include "order_service.h"

static struct opt opts[] = {
    {"listen", "127.0.0.1:8080", "HOST:PORT to serve HTTP on (port 0: any free port)", false, NULL},
    {"db", "order.db", "SQLite database file (created if missing)", false, NULL},
    SERVICE_HTTP_OPTIONS,
    {"mode", "sync", "sync (REST chain), async (RabbitMQ) or stream (Kafka)", false, NULL},
    {"inventory-url", "http://127.0.0.1:8081", "sync: inventory service base URL", false, NULL},
    {"notification-url", "http://127.0.0.1:8082", "sync: notification service base URL", false,
     NULL},
    {"inventory-timeout-ms", "3000", "sync: give up on inventory after this long (504)", false,
     NULL},
    {"notification-timeout-ms", "2000", "sync: give up on notification after this long", false,
     NULL},
    {"inventory-max-inflight", "64",
     "sync: orders waiting on inventory at most; past it 503 at once (0: no bound)", false, NULL},
    {"breaker-failures", "5",
     "sync: inventory failures or timeouts in a row that open its circuit breaker (0: no breaker)",
     false, NULL},
    {"breaker-failure-rate", "50",
     "sync: also open it when over this percentage of calls failed in the window", false, NULL},
    {"breaker-window-s", "10", "sync: the failure-rate window, seconds (1-60)", false, NULL},
    {"breaker-min-calls", "20", "sync: calls in the window before the rate counts", false, NULL},
    {"breaker-cooldown-ms", "2000",
     "sync: an open breaker refuses orders this long, then lets one probe call through", false,
     NULL},
    {"amqp-url", "amqp://guest:guest@127.0.0.1:5672/",
     "async: RabbitMQ to publish OrderPlaced to (a cluster: its nodes' URLs, comma-separated)",
     false, NULL},
    {"kafka-brokers", "127.0.0.1:9092", "stream: Kafka bootstrap servers (host:port,...)", false,
     NULL},
    {"port-file", NULL, "write the bound port to this file once listening", false, NULL},
    {"quiet", NULL, "log warnings and errors only", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-order [options]\n"
    "Takes campus food orders: POST /order {\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\","
    "\"qty\":1}]}\n"
    "GET /orders/{id}, GET /healthz, GET /metrics and GET /dump (canonical state) in every mode.";

static int configure(struct order_service *svc)
{
    const char *mode = config_str(opts, "mode");
    if (strcmp(mode, "sync") == 0)
        svc->mode = MODE_SYNC;
    else if (strcmp(mode, "async") == 0)
        svc->mode = MODE_ASYNC;
    else if (strcmp(mode, "stream") == 0)
        svc->mode = MODE_STREAM;
    else {
        fprintf(stderr, "--mode: expected sync, async or stream, got '%s'\n", mode);
        return -1;
    }
    if (config_long(opts, "inventory-timeout-ms", 1, 600000, &svc->inventory_timeout_ms) ||
        config_long(opts, "notification-timeout-ms", 1, 600000, &svc->notification_timeout_ms) ||
        config_long(opts, "inventory-max-inflight", 0, 1000000, &svc->guard.limit))
        return -1;
    long failures, rate, window, min_calls, cooldown;
    if (config_long(opts, "breaker-failures", 0, 1000000, &failures) ||
        config_long(opts, "breaker-failure-rate", 0, 100, &rate) ||
        config_long(opts, "breaker-window-s", 1, BREAKER_WINDOW_SLOTS, &window) ||
        config_long(opts, "breaker-min-calls", 1, 1000000, &min_calls) ||
        config_long(opts, "breaker-cooldown-ms", 1, 3600000, &cooldown))
        return -1;
    svc->breaker_cfg = (struct breaker_config){(unsigned)failures, (unsigned)rate, (unsigned)window,
                                               (unsigned)min_calls, (unsigned)cooldown};
    snprintf(svc->reserve_url, sizeof svc->reserve_url, "%s/reserve",
             config_str(opts, "inventory-url"));
    snprintf(svc->release_url, sizeof svc->release_url, "%s/release",
             config_str(opts, "inventory-url"));
    snprintf(svc->send_url, sizeof svc->send_url, "%s/send", config_str(opts, "notification-url"));
    return 0;
}

int main(int argc, char **argv)
{
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    log_init("order");
    log_set_quiet(config_flag(opts, "quiet"));
    struct order_service svc = {0};
    if (configure(&svc) != 0)
        return 2;
    service_signals_init();
    svc.db_path = config_str(opts, "db");
    if (http_client_init() != 0 || db_open(&svc.db, svc.db_path) != 0)
        return 1;
    int rc = 1;
    struct http_server *http = NULL;
    svc.metrics = metrics_new("order");
    if (!svc.metrics || order_store_open(&svc.orders, &svc.db) != 0 ||
        outbox_open(&svc.outbox, &svc.db) != 0)
        goto out;
    if (svc.mode == MODE_SYNC) {
        inventory_guard_init(&svc, &svc.breaker_cfg);
        if (http_relays_start(&svc) != 0 || sync_recovery_start(&svc) != 0 ||
            sync_chain_start(&svc) != 0)
            goto out;
    }
    if (svc.mode == MODE_ASYNC && amqp_relay_start(&svc, config_str(opts, "amqp-url")) != 0)
        goto out;
    if (svc.mode == MODE_STREAM && kafka_relay_start(&svc, config_str(opts, "kafka-brokers")) != 0)
        goto out;
    http = service_http_start(opts, svc.metrics, order_api_handle, &svc);
    if (!http)
        goto out;
    const char *port_file = config_str(opts, "port-file");
    if (port_file && service_write_port_file(port_file, http_server_port(http)) != 0)
        goto out;
    log_info("listening on port %u, mode %s, database %s", http_server_port(http),
             config_str(opts, "mode"), config_str(opts, "db"));
    service_wait();
    rc = 0;
out:
    service_request_stop();
    sync_chain_drain(&svc);
    http_server_stop(http);
    sync_recovery_stop(&svc);
    http_relays_stop(&svc);
    if (svc.mode == MODE_ASYNC)
        amqp_relay_stop(&svc);
    if (svc.mode == MODE_STREAM)
        kafka_relay_stop(&svc);
    outbox_close(&svc.outbox);
    order_store_close(&svc.orders);
    db_close(&svc.db);
    if (svc.mode == MODE_SYNC)
        inventory_guard_destroy(&svc);
    metrics_free(svc.metrics);
    http_client_cleanup();
    return rc;
}
