/* inventory-service: reserves stock, idempotent by order_id, with fault
 * injection at start (options/environment) and at run time (POST /configure). */
#include <stdio.h>
#include <string.h>

#include "codec/consumer_control_json.h"
#include "util/options.h"
#include "util/log.h"
#include "runtime/service.h"
#include "inventory_service.h"

static struct opt opts[] = {
    {"listen", "127.0.0.1:8081", "HOST:PORT to serve HTTP on (port 0: any free port)", false, NULL},
    {"db", "inventory.db", "SQLite database file (created if missing)", false, NULL},
    SERVICE_HTTP_OPTIONS,
    {"stock", NULL,
     "initial stock as sku=qty,...; SKUs not named start at their default (truffle-fries 0, "
     "others 100000000). Only applied to SKUs the database does not have yet",
     false, NULL},
    {"fault-delay-ms", "0", "delay every /reserve by this many ms", false, NULL},
    {"fault-mode", "none", "none, error (answer 500) or hang (never answer)", false, NULL},
    {"mode", "rest", "rest (POST /reserve), amqp (consume from RabbitMQ) or kafka", false, NULL},
    {"amqp-url", "amqp://guest:guest@127.0.0.1:5672/",
     "amqp: RabbitMQ to consume from (a cluster: its nodes' URLs, comma-separated)", false, NULL},
    {"kafka-brokers", "127.0.0.1:9092", "kafka: bootstrap servers (host:port,...)", false, NULL},
    {"throttle-ms", "0", "kafka: pause this long per event (to make lag visible; 0 to 60000)",
     false, NULL},
    {"paused", NULL, "kafka: start with consumption paused (POST /configure {\"paused\":false})",
     true, NULL},
    {"transactional-id", "commlab-inventory",
     "kafka: the producer's transactional.id; one per consumer process (a restarted one fences "
     "its predecessor and aborts the transaction it left open)",
     false, NULL},
    {"port-file", NULL, "write the bound port to this file once listening", false, NULL},
    {"quiet", NULL, "log warnings and errors only", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-inventory [options]\n"
    "Serves POST /reserve {\"order_id\":..,\"items\":[..]} (200 reserved, 409 refused; a repeated\n"
    "order_id gets the first answer), GET /stock, POST /configure {\"delay_ms\":N,\"mode\":..},\n"
    "GET /healthz, GET /metrics and GET /dump (canonical state, as commlab-dump prints it).";

int main(int argc, char **argv)
{
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    log_init("inventory");
    log_set_quiet(config_flag(opts, "quiet"));
    struct inventory_service svc = {0};
    long delay, initial[16];
    enum fault_mode mode;
    char err[160];
    if (config_long(opts, "fault-delay-ms", 0, FAULT_MAX_DELAY_MS, &delay))
        return 2;
    if (fault_mode_parse(config_str(opts, "fault-mode"), &mode) != 0) {
        fprintf(stderr, "--fault-mode: expected none, error or hang\n");
        return 2;
    }
    if (stock_parse_spec(config_str(opts, "stock"), initial, err, sizeof err) != 0) {
        fprintf(stderr, "--%s\n", err);
        return 2;
    }
    const char *mode_name = config_str(opts, "mode");
    if (strcmp(mode_name, "rest") && strcmp(mode_name, "amqp") && strcmp(mode_name, "kafka")) {
        fprintf(stderr, "--mode: expected rest, amqp or kafka, got '%s'\n", mode_name);
        return 2;
    }
    struct inventory_kafka_options ko = {.paused = config_flag(opts, "paused"),
                                         .transactional_id = config_str(opts, "transactional-id")};
    if (config_long(opts, "throttle-ms", 0, STREAM_MAX_THROTTLE_MS, &ko.throttle_ms))
        return 2;
    if (!ko.transactional_id || !*ko.transactional_id || strlen(ko.transactional_id) > 200) {
        fprintf(stderr, "--transactional-id: give a name of 1 to 200 characters\n");
        return 2;
    }
    atomic_init(&svc.fault_delay_ms, delay);
    atomic_init(&svc.fault_mode, (int)mode);
    service_signals_init();
    svc.db_path = config_str(opts, "db");
    if (db_open(&svc.db, svc.db_path) != 0)
        return 1;
    int rc = 1;
    struct http_server *http = NULL;
    svc.metrics = metrics_new("inventory");
    if (!svc.metrics || stock_store_open(&svc.stock, &svc.db, initial) != 0)
        goto out;
    if (strcmp(mode_name, "amqp") == 0 &&
        inventory_amqp_start(&svc, config_str(opts, "amqp-url")) != 0)
        goto out;
    if (strcmp(mode_name, "kafka") == 0 &&
        inventory_kafka_start(&svc, config_str(opts, "kafka-brokers"), &ko) != 0)
        goto out;
    http = service_http_start(opts, svc.metrics, inventory_api_handle, &svc);
    if (!http)
        goto out;
    const char *port_file = config_str(opts, "port-file");
    if (port_file && service_write_port_file(port_file, http_server_port(http)) != 0)
        goto out;
    log_info("listening on port %u, database %s, fault delay_ms=%ld mode=%s",
             http_server_port(http), config_str(opts, "db"), delay, fault_mode_name(mode));
    service_wait();
    rc = atomic_load(&svc.stream_failed) ? 1 : 0;
out:
    service_request_stop();
    http_server_stop(http);
    if (strcmp(mode_name, "amqp") == 0)
        inventory_amqp_stop(&svc);
    if (strcmp(mode_name, "kafka") == 0)
        inventory_kafka_stop(&svc);
    stock_store_close(&svc.stock);
    db_close(&svc.db);
    metrics_free(svc.metrics);
    return rc;
}
