/* analytics-service (see analytics_service.h): options, then the store, the
 * consumer (consumer.c) and the HTTP API (api.c). */
#include <stdio.h>
#include <stdlib.h>

#include "codec/consumer_control_json.h"
#include "util/options.h"
#include "util/log.h"
#include "runtime/service_main.h"
#include "transport/kafka_topology.h"
#include "analytics_service.h"

static const struct opt opts[] = {
    {"metrics-file", NULL, "write the canonical metrics.json here whenever the stream is idle",
     false, NULL},
    {"rebuild", NULL,
     "forget every event counted so far and rebuild from the log (use after resetting the "
     "group's offsets to earliest; with --until-end it reads from the start of the log itself)",
     true, NULL},
    {"until-end", NULL,
     "read until every partition of both topics reaches the end offset it had at start, write "
     "the metrics as usual, then exit 0 (times a replay as one process); reads by assignment "
     "as kcat does, not as a member of the group, from the group's committed offsets",
     true, NULL},
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

static int configure(void *ctx, const struct opt *o)
{
    struct analytics *a = ctx;
    long t;
    if (config_long(o, "throttle-ms", 0, STREAM_MAX_THROTTLE_MS, &t))
        return -1;
    atomic_init(&a->throttle_ms, t);
    atomic_init(&a->paused, config_flag(o, "paused"));
    a->metrics_file = config_str(o, "metrics-file");
    return 0;
}

static int start(void *ctx, const struct opt *o)
{
    struct analytics *a = ctx;
    if (analytics_store_open(&a->store, &a->db) != 0)
        return -1;
    if (config_flag(o, "rebuild")) {
        if (db_transact(&a->db, clear_job, &a->store) != 0)
            return -1;
        log_info("rebuild: forgot every event; counting again from %s",
                 config_flag(o, "until-end") ? "the start of the log" : "the committed offsets");
    }
    return analytics_consumer_start(a, config_str(o, "kafka-brokers"), config_flag(o, "until-end"),
                                    config_flag(o, "rebuild"));
}

static void stop(void *ctx)
{
    struct analytics *a = ctx;
    analytics_consumer_stop(a);
    analytics_store_close(&a->store);
}

/* An --until-end run stopped before the end is a failed replay. */
static int exit_status(void *ctx)
{
    struct analytics *a = ctx;
    return a->until_end && !atomic_load(&a->reached) ? 1 : 0;
}

static void describe(void *ctx, const struct opt *o, char *buf, size_t len)
{
    struct analytics *a = ctx;
    snprintf(buf, len, "database %s, kafka %s", a->db_path, config_str(o, "kafka-brokers"));
}

int main(int argc, char **argv)
{
    struct analytics a = {0};
    const struct service_def def = {
        .name = "analytics",
        .listen = "127.0.0.1:8083",
        .db = "analytics.db",
        .usage = usage,
        .options = opts,
        .db_handle = &a.db,
        .metrics = &a.metrics,
        .db_path = &a.db_path,
        .brokers = SERVICE_KAFKA | SERVICE_KAFKA_FLOW,
        .ctx = &a,
        .handler = analytics_api_handle,
        .configure = configure,
        .start = start,
        .stop = stop,
        .describe = describe,
        .exit_status = exit_status,
    };
    return service_main(&def, argc, argv);
}
