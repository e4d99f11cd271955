/* order-service: POST /order in one of three modes (sync REST, async via
 * RabbitMQ, streaming via Kafka), GET /orders/{id}, /healthz, /metrics. */
#include <stdio.h>
#include <string.h>

#include "util/options.h"
#include "runtime/service_main.h"
#include "transport/http_client.h"
#include "order_service.h"

static const struct opt opts[] = {
    {"mode", "sync", "sync (REST chain), async (RabbitMQ) or stream (Kafka)", false, NULL},
    {"inventory-url", "http://127.0.0.1:8081", "sync: inventory service base URL", false, NULL},
    {"notification-url", "http://127.0.0.1:8082", "sync: notification service base URL", false,
     NULL},
    {"inventory-timeout-ms", "3000", "sync: give up on inventory after this long (504)", false,
     NULL},
    {"notification-timeout-ms", "2000", "sync: give up on notification after this long", false,
     NULL},
    {"amqp-url", "amqp://guest:guest@127.0.0.1:5672/",
     "async: RabbitMQ to publish OrderPlaced to (a cluster: its nodes' URLs, comma-separated)",
     false, NULL},
    {"kafka-brokers", "127.0.0.1:9092", "stream: Kafka bootstrap servers (host:port,...)", false,
     NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-order [options]\n"
    "Takes campus food orders: POST /order {\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\","
    "\"qty\":1}]}\n"
    "GET /orders/{id}, GET /healthz, GET /metrics and GET /dump (canonical state) in every mode.";

static int configure(void *ctx, const struct opt *o)
{
    struct order_service *svc = ctx;
    if (config_long(o, "inventory-timeout-ms", 1, 600000, &svc->inventory_timeout_ms) ||
        config_long(o, "notification-timeout-ms", 1, 600000, &svc->notification_timeout_ms))
        return -1;
    snprintf(svc->reserve_url, sizeof svc->reserve_url, "%s/reserve",
             config_str(o, "inventory-url"));
    snprintf(svc->release_url, sizeof svc->release_url, "%s/release",
             config_str(o, "inventory-url"));
    snprintf(svc->send_url, sizeof svc->send_url, "%s/send", config_str(o, "notification-url"));
    return 0;
}

static int start(void *ctx, const struct opt *o)
{
    struct order_service *svc = ctx;
    if (http_client_init() != 0 || order_store_open(&svc->orders, &svc->db) != 0 ||
        outbox_open(&svc->outbox, &svc->db) != 0)
        return -1;
    switch (svc->mode) {
    case MODE_SYNC:
        return http_relays_start(svc) != 0 || sync_recovery_start(svc) != 0 ? -1 : 0;
    case MODE_ASYNC:
        return amqp_relay_start(svc, config_str(o, "amqp-url"));
    case MODE_STREAM:
        return kafka_relay_start(svc, config_str(o, "kafka-brokers"));
    }
    return -1;
}

static void stop(void *ctx)
{
    struct order_service *svc = ctx;
    sync_recovery_stop(svc);
    http_relays_stop(svc);
    if (svc->mode == MODE_ASYNC)
        amqp_relay_stop(svc);
    if (svc->mode == MODE_STREAM)
        kafka_relay_stop(svc);
    outbox_close(&svc->outbox);
    order_store_close(&svc->orders);
    http_client_cleanup();
}

static void describe(void *ctx, const struct opt *o, char *buf, size_t len)
{
    (void)ctx;
    snprintf(buf, len, "mode %s, database %s", config_str(o, "mode"), config_str(o, "db"));
}

int main(int argc, char **argv)
{
    struct order_service svc = {0};
    const struct service_def def = {
        .name = "order",
        .listen = "127.0.0.1:8080",
        .db = "order.db",
        .usage = usage,
        .options = opts,
        .db_handle = &svc.db,
        .metrics = &svc.metrics,
        .db_path = &svc.db_path,
        .modes = MODE_ALL,
        .mode = &svc.mode,
        .ctx = &svc,
        .handler = order_api_handle,
        .configure = configure,
        .start = start,
        .stop = stop,
        .describe = describe,
    };
    return service_main(&def, argc, argv);
}
