/* inventory-service: reserves stock, idempotent by order_id, with fault
 * injection at start (options/environment) and at run time (POST /configure). */
#include <stdio.h>
#include <string.h>

#include "codec/consumer_control_json.h"
#include "util/options.h"
#include "runtime/mode.h"
#include "runtime/service_main.h"
#include "inventory_service.h"

static const struct opt opts[] = {
    {"stock", NULL,
     "initial stock as sku=qty,...; SKUs not named start at their default (truffle-fries 0, "
     "others 100000000). Only applied to SKUs the database does not have yet",
     false, NULL},
    {"fault-delay-ms", "0", "delay every /reserve by this many ms", false, NULL},
    {"fault-mode", "none", "none, error (answer 500) or hang (never answer)", false, NULL},
    {"mode", "rest", "rest (POST /reserve), amqp (consume from RabbitMQ) or kafka", false, NULL},
    {"transactional-id", "commlab-inventory",
     "kafka: the producer's transactional.id; one per consumer process (a restarted one fences "
     "its predecessor and aborts the transaction it left open)",
     false, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-inventory [options]\n"
    "Serves POST /reserve {\"order_id\":..,\"items\":[..]} (200 reserved, 409 refused; a repeated\n"
    "order_id gets the first answer), GET /stock, POST /configure {\"delay_ms\":N,\"mode\":..},\n"
    "GET /healthz, GET /metrics and GET /dump (canonical state, as commlab-dump prints it).";

/* The service and what its options say, from configure to stop. */
struct inventory_main {
    struct inventory_service svc;
    enum service_mode mode;
    long initial[16];
    struct inventory_kafka_options ko;
};

static int configure(void *ctx, const struct opt *o)
{
    struct inventory_main *m = ctx;
    long delay;
    enum fault_mode fault;
    char err[256];
    if (config_long(o, "fault-delay-ms", 0, FAULT_MAX_DELAY_MS, &delay))
        return -1;
    if (fault_mode_parse(config_str(o, "fault-mode"), &fault) != 0) {
        fprintf(stderr, "--fault-mode: expected none, error or hang\n");
        return -1;
    }
    if (stock_parse_spec(config_str(o, "stock"), m->initial, err, sizeof err) != 0) {
        fprintf(stderr, "--%s\n", err);
        return -1;
    }
    m->ko = (struct inventory_kafka_options){.paused = config_flag(o, "paused"),
                                             .transactional_id = config_str(o, "transactional-id")};
    if (config_long(o, "throttle-ms", 0, STREAM_MAX_THROTTLE_MS, &m->ko.throttle_ms))
        return -1;
    const char *tid = m->ko.transactional_id;
    if (!tid || !*tid || strlen(tid) > 200) {
        fprintf(stderr, "--transactional-id: give a name of 1 to 200 characters\n");
        return -1;
    }
    atomic_init(&m->svc.fault_delay_ms, delay);
    atomic_init(&m->svc.fault_mode, (int)fault);
    return 0;
}

static int start(void *ctx, const struct opt *o)
{
    (void)o;
    struct inventory_main *m = ctx;
    return stock_store_open(&m->svc.stock, &m->svc.db, m->initial);
}

static void stop(void *ctx)
{
    struct inventory_main *m = ctx;
    stock_store_close(&m->svc.stock);
}

static int amqp_start(void *ctx, const struct opt *o)
{
    struct inventory_main *m = ctx;
    return inventory_amqp_start(&m->svc, config_str(o, "amqp-url"));
}

static void amqp_stop(void *ctx)
{
    struct inventory_main *m = ctx;
    inventory_amqp_stop(&m->svc);
}

static int kafka_start(void *ctx, const struct opt *o)
{
    struct inventory_main *m = ctx;
    return inventory_kafka_start(&m->svc, config_str(o, "kafka-brokers"), &m->ko);
}

static void kafka_stop(void *ctx)
{
    struct inventory_main *m = ctx;
    inventory_kafka_stop(&m->svc);
}

/* REST needs nothing more than the store: POST /reserve is always served. */
static const struct service_mode_hooks modes[] = {
    [MODE_SYNC] = {NULL, NULL},
    [MODE_ASYNC] = {amqp_start, amqp_stop},
    [MODE_STREAM] = {kafka_start, kafka_stop},
};

static void describe(void *ctx, const struct opt *o, char *buf, size_t len)
{
    struct inventory_main *m = ctx;
    snprintf(buf, len, "database %s, fault delay_ms=%ld mode=%s", config_str(o, "db"),
             atomic_load(&m->svc.fault_delay_ms),
             fault_mode_name((enum fault_mode)atomic_load(&m->svc.fault_mode)));
}

/* A Kafka consumer that gave up (fenced, fatal producer error) exits 1. */
static int exit_status(void *ctx)
{
    struct inventory_main *m = ctx;
    return atomic_load(&m->svc.stream_failed) ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct inventory_main m = {0};
    const struct service_def def = {
        .name = "inventory",
        .listen = "127.0.0.1:8081",
        .db = "inventory.db",
        .usage = usage,
        .options = opts,
        .db_handle = &m.svc.db,
        .metrics = &m.svc.metrics,
        .db_path = &m.svc.db_path,
        .modes = MODE_ALL,
        .mode = &m.mode,
        .mode_hooks = modes,
        .brokers = SERVICE_AMQP | SERVICE_KAFKA | SERVICE_KAFKA_FLOW,
        .ctx = &m,
        .handler = inventory_api_handle,
        .handler_ctx = &m.svc,
        .configure = configure,
        .start = start,
        .stop = stop,
        .describe = describe,
        .exit_status = exit_status,
    };
    return service_main(&def, argc, argv);
}
