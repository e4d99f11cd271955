/* analytics-service (see analytics_service.h): options, then the store, the
 * consumer (consumer.c) and the HTTP API (api.c). */
#include <stdio.h>
#include <stdlib.h>

#include "codec/consumer_control_json.h"
#include "util/options.h"
#include "util/log.h"
#include "runtime/service.h"
#include "transport/kafka_topology.h"
#include "analytics_service.h"

static struct opt opts[] = {
    {"listen", "127.0.0.1:8083", "HOST:PORT to serve HTTP on (port 0: any free port)", false, NULL},
    {"db", "analytics.db", "SQLite database file (created if missing)", false, NULL},
    SERVICE_HTTP_OPTIONS,
    {"kafka-brokers", "127.0.0.1:9092", "Kafka bootstrap servers (host:port,...)", false, NULL},
    {"metrics-file", NULL, "write the canonical metrics.json here whenever the stream is idle",
     false, NULL},
    {"throttle-ms", "0", "pause this long per event (to make lag visible)", false, NULL},
    {"paused", NULL, "start with consumption paused (POST /configure {\"paused\":false})", true,
     NULL},
    {"rebuild", NULL,
     "forget every event counted so far and rebuild from the log (use after resetting the "
     "group's offsets to earliest; with --until-end it reads from the start of the log itself)",
     true, NULL},
    {"until-end", NULL,
     "read until every partition of both topics reaches the end offset it had at start, write "
     "the metrics as usual, then exit 0 (times a replay as one process); reads by assignment "
     "as kcat does, not as a member of the group, from the group's committed offsets",
     true, NULL},
    {"port-file", NULL, "write the bound port to this file once listening", false, NULL},
    {"quiet", NULL, "log warnings and errors only", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-analytics [options]\n"
    "Counts orders per minute of event time, failure rate and totals from Kafka topics\n"
    "" KAFKA_TOPIC_ORDERS " and " KAFKA_TOPIC_OUTCOMES " (group " KAFKA_GROUP_ANALYTICS
    ", read_committed), once per event_id.\n"
    "GET /metrics.json (canonical, sorted), GET /stats, POST /configure {\"throttle_ms\":N,\n"
    "\"paused\":bool}, GET /healthz, GET /metrics. With --until-end it exits 0 once caught up\n"
    "with the end offsets it saw at start, reading by assignment (--rebuild --until-end: a\n"
    "replay from the start of the log, as one process, with no reset and no group join).";

static int clear_job(void *arg)
{
    return analytics_clear_locked(arg);
}

int main(int argc, char **argv)
{
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    log_init("analytics");
    log_set_quiet(config_flag(opts, "quiet"));
    static struct analytics a; /* static: large, and zeroed */
    long t;
    if (config_long(opts, "throttle-ms", 0, STREAM_MAX_THROTTLE_MS, &t))
        return 2;
    atomic_init(&a.throttle_ms, t);
    atomic_init(&a.paused, config_flag(opts, "paused"));
    service_signals_init();
    a.db_path = config_str(opts, "db");
    a.metrics_file = config_str(opts, "metrics-file");
    if (db_open(&a.db, a.db_path) != 0)
        return 1;
    int rc = 1;
    struct http_server *http = NULL;
    a.metrics = metrics_new("analytics");
    if (!a.metrics || analytics_store_open(&a.store, &a.db) != 0)
        goto out;
    if (config_flag(opts, "rebuild")) {
        if (db_transact(&a.db, clear_job, &a.store) != 0)
            goto out;
        log_info("rebuild: forgot every event; counting again from %s",
                 config_flag(opts, "until-end") ? "the start of the log" : "the committed offsets");
    }
    bool until_end = config_flag(opts, "until-end");
    if (analytics_consumer_start(&a, config_str(opts, "kafka-brokers"), until_end,
                                 config_flag(opts, "rebuild")) != 0)
        goto out;
    http = service_http_start(opts, a.metrics, analytics_api_handle, &a);
    if (!http)
        goto out;
    const char *port_file = config_str(opts, "port-file");
    if (port_file && service_write_port_file(port_file, http_server_port(http)) != 0)
        goto out;
    log_info("listening on port %u, database %s, kafka %s", http_server_port(http), a.db_path,
             config_str(opts, "kafka-brokers"));
    service_wait();
    rc = until_end && !atomic_load(&a.reached) ? 1 : 0;
out:
    service_request_stop();
    http_server_stop(http);
    analytics_consumer_stop(&a);
    analytics_store_close(&a.store);
    db_close(&a.db);
    metrics_free(a.metrics);
    return rc;
}
