/* order-service: POST /order in one of three modes (sync REST, async via
 * RabbitMQ, streaming via Kafka), GET /orders/{id}, /healthz, /metrics. */
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/options.h"
#include "runtime/service_main.h"
#include "transport/http_client.h"
#include "transport/kafka_outbox.h"
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
    long failures, rate, window, min_calls, cooldown;
    if (config_long(o, "inventory-timeout-ms", 1, 600000, &svc->inventory_timeout_ms) ||
        config_long(o, "notification-timeout-ms", 1, 600000, &svc->notification_timeout_ms) ||
        config_long(o, "inventory-max-inflight", 0, 1000000, &svc->guard.limit) ||
        config_long(o, "breaker-failures", 0, 1000000, &failures) ||
        config_long(o, "breaker-failure-rate", 0, 100, &rate) ||
        config_long(o, "breaker-window-s", 1, BREAKER_WINDOW_SLOTS, &window) ||
        config_long(o, "breaker-min-calls", 1, 1000000, &min_calls) ||
        config_long(o, "breaker-cooldown-ms", 1, 3600000, &cooldown))
        return -1;
    svc->breaker_cfg = (struct breaker_config){(unsigned)failures, (unsigned)rate, (unsigned)window,
                                               (unsigned)min_calls, (unsigned)cooldown};
    snprintf(svc->reserve_url, sizeof svc->reserve_url, "%s/reserve",
             config_str(o, "inventory-url"));
    snprintf(svc->release_url, sizeof svc->release_url, "%s/release",
             config_str(o, "inventory-url"));
    snprintf(svc->send_url, sizeof svc->send_url, "%s/send", config_str(o, "notification-url"));
    return 0;
}

static int start(void *ctx, const struct opt *o)
{
    (void)o;
    struct order_service *svc = ctx;
    return http_client_init() != 0 || order_store_open(&svc->orders, &svc->db) != 0 ||
                   outbox_open(&svc->outbox, &svc->db) != 0
               ? -1
               : 0;
}

static void stop(void *ctx)
{
    struct order_service *svc = ctx;
    outbox_close(&svc->outbox);
    order_store_close(&svc->orders);
    http_client_cleanup();
}

/* Part A: the chain, its guard, its deferred deliveries and its recovery. */
static int sync_start(void *ctx, const struct opt *o)
{
    (void)o;
    struct order_service *svc = ctx;
    inventory_guard_init(svc, &svc->breaker_cfg);
    return http_relays_start(svc) != 0 || sync_chain_start(svc) != 0 ||
                   sync_recovery_start(svc) != 0
               ? -1
               : 0;
}

static void sync_stop(void *ctx)
{
    struct order_service *svc = ctx;
    sync_recovery_stop(svc);
    http_relays_stop(svc);
    sync_chain_stop(svc);
    inventory_guard_destroy(svc);
}

static void drain(void *ctx)
{
    sync_chain_drain(ctx);
}

/* Part B: the outbox relayed to RabbitMQ, the outcomes consumed from it. */
static int async_start(void *ctx, const struct opt *o)
{
    return amqp_relay_start(ctx, config_str(o, "amqp-url"));
}

static void async_stop(void *ctx)
{
    amqp_relay_stop(ctx);
}

/* Part C: the outbox relayed to Kafka. */
static int stream_start(void *ctx, const struct opt *o)
{
    struct order_service *svc = ctx;
    const char *brokers = config_str(o, "kafka-brokers");
    svc->kafka = kafka_outbox_relay_start(brokers, &svc->outbox, svc->metrics, &log_notifier);
    if (!svc->kafka)
        return -1;
    log_info("stream mode: relaying the outbox to Kafka at %s", brokers);
    return 0;
}

static void stream_stop(void *ctx)
{
    struct order_service *svc = ctx;
    kafka_outbox_relay_stop(svc->kafka);
    svc->kafka = NULL;
}

static const struct service_mode_hooks modes[] = {
    [MODE_SYNC] = {sync_start, sync_stop},
    [MODE_ASYNC] = {async_start, async_stop},
    [MODE_STREAM] = {stream_start, stream_stop},
};

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
        .mode_hooks = modes,
        .brokers = SERVICE_AMQP | SERVICE_KAFKA,
        .ctx = &svc,
        .handler = order_api_handle,
        .configure = configure,
        .start = start,
        .drain = drain,
        .stop = stop,
        .describe = describe,
    };
    return service_main(&def, argc, argv);
}
