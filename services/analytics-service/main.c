/* analytics-service: consumes order-events and inventory-events (group
 * analytics-consumer-group, read_committed) and keeps orders per minute of
 * event time, failure rate and totals. Every event is kept once by event_id
 * in SQLite; the metrics are computed from that set, so they depend on the
 * events alone. Serves GET /metrics.json (the canonical document, also
 * written to --metrics-file), /stats, POST /configure, and the common
 * /healthz /metrics /dump. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/codec/event_json.h"
#include "../core/codec/stream_json.h"
#include "../core/store/analytics_store.h"
#include "../core/util/clock.h"
#include "../core/util/config.h"
#include "../core/util/log.h"
#include "../runtime/service.h"
#include "../transport/kafka.h"

#define GROUP "analytics-consumer-group"
/* Events applied per SQLite transaction at most, and how long a batch may
 * collect: large batches make a rebuild fast, the time cap keeps commits
 * (and so the lag report) moving while throttled. */
#define BATCH_MAX 2000
#define BATCH_US 200000

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
     "group's offsets to earliest)",
     true, NULL},
    {"port-file", NULL, "write the bound port to this file once listening", false, NULL},
    {"quiet", NULL, "log warnings and errors only", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-analytics [options]\n"
    "Counts orders per minute of event time, failure rate and totals from Kafka topics\n"
    "order-events and inventory-events (group " GROUP ", read_committed), once per event_id.\n"
    "GET /metrics.json (canonical, sorted), GET /stats, POST /configure {\"throttle_ms\":N,\n"
    "\"paused\":bool}, GET /healthz, GET /metrics.";

struct analytics {
    struct db db;
    struct analytics_store store;
    struct metrics *metrics;
    const char *db_path;
    const char *metrics_file;
    rd_kafka_t *rk;
    pthread_t thread;
    bool thread_started;
    atomic_long throttle_ms;
    atomic_bool paused;
    atomic_bool failed; /* the consumer thread gave up: /healthz says so */
    /* For /stats: events consumed since start and when the first and the
     * latest batch were applied (a rebuild's rate, measured by itself). */
    atomic_ullong consumed;
    atomic_ullong first_us, last_us;
};

/* Sleeps `ms` in slices so that a stop or a /configure is seen promptly. */
static void throttle(struct analytics *a)
{
    long ms = atomic_load(&a->throttle_ms);
    for (uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
         ms > 0 && clock_mono_us() < end && !service_stopping();) {
        uint64_t left = end - clock_mono_us();
        clock_sleep_us(left < 20000 ? left : 20000);
    }
}

struct batch {
    struct analytics *a;
    struct event *ev;
    size_t n;
    long added, duplicates;
};

static int apply_batch(void *arg)
{
    struct batch *b = arg;
    b->added = b->duplicates = 0;
    for (size_t i = 0; i < b->n; i++) {
        int rc = analytics_add_locked(&b->a->store, &b->ev[i]);
        if (rc < 0)
            return -1;
        if (rc == 1)
            b->added++;
        else
            b->duplicates++;
    }
    return 0;
}

static int write_metrics_file(struct analytics *a)
{
    struct buf b = {0};
    if (analytics_render(&a->store, &b) != 0) {
        buf_free(&b);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->metrics_file);
    FILE *f = fopen(tmp, "w");
    int rc = f && fwrite(b.data, 1, b.len, f) == b.len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, a->metrics_file) != 0)
        rc = -1;
    if (rc != 0)
        log_error("cannot write %s", a->metrics_file);
    buf_free(&b);
    return rc;
}

static void update_gauges(struct analytics *a)
{
    struct analytics_totals t;
    if (analytics_totals(&a->store, &t) != 0)
        return;
    metrics_gauge(a->metrics, "analytics_orders", "Distinct OrderPlaced events counted.",
                  (double)t.orders);
    metrics_gauge(a->metrics, "analytics_reserved", "Distinct InventoryReserved events counted.",
                  (double)t.reserved);
    metrics_gauge(a->metrics, "analytics_failed", "Distinct InventoryFailed events counted.",
                  (double)t.failed);
}

/* Commits the consumer's positions: the offset after the last message
 * returned by poll, past transaction markers, so a caught-up group shows lag
 * 0. Only called once everything polled is durably applied (at least once;
 * the event_id set makes a re-read harmless). */
static int commit_positions(struct analytics *a)
{
    rd_kafka_topic_partition_list_t *l = kafka_positions(a->rk);
    if (!l)
        return -1;
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(l->cnt);
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].offset >= 0)
            rd_kafka_topic_partition_list_add(c, l->elems[i].topic, l->elems[i].partition)->offset =
                l->elems[i].offset;
    rd_kafka_resp_err_t e = c->cnt ? rd_kafka_commit(a->rk, c, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(c);
    rd_kafka_topic_partition_list_destroy(l);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        log_warn("offset commit failed (will retry with the next batch): %s", rd_kafka_err2str(e));
        metrics_count(a->metrics, "kafka_commit_failures_total", "Offset commits that failed.", 1);
        return -1;
    }
    return 0;
}

/* Decodes one message into ev; false (counted, logged) when it is not an
 * event. Malformed events are inventory's to dead-letter; analytics skips
 * them so the stream flows on. */
static bool decode(struct analytics *a, const rd_kafka_message_t *m, struct event *ev)
{
    struct field_error err;
    if (event_decode(m->payload ? m->payload : "", m->len, ev, &err) == 0)
        return true;
    metrics_count(a->metrics, "analytics_malformed_total",
                  "Messages that are not valid events (skipped).", 1);
    log_warn("skipping malformed message at %s [%d] offset %lld: %s%s%s",
             rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, err.field,
             err.field[0] ? ": " : "", err.message);
    return false;
}

static void *consume(void *arg)
{
    struct analytics *a = arg;
    struct event *evs = calloc(BATCH_MAX, sizeof *evs);
    bool dirty = true, was_paused = false;
    uint64_t last_gauges = 0;
    if (!evs) {
        log_error("out of memory");
        atomic_store(&a->failed, true);
        return NULL;
    }
    while (!service_stopping()) {
        bool paused = atomic_load(&a->paused);
        if (paused || was_paused)
            kafka_pause(a->rk, paused); /* again each round: assignments can change */
        was_paused = paused;
        struct batch b = {.a = a, .ev = evs, .n = 0};
        uint64_t start = clock_mono_us();
        size_t polled = 0;
        while (b.n < BATCH_MAX && !service_stopping()) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(a->rk, polled ? 0 : 100);
            if (!m)
                break;
            polled++;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    log_warn("consumer: %s", rd_kafka_message_errstr(m));
            } else {
                throttle(a);
                if (decode(a, m, &b.ev[b.n]))
                    b.n++;
            }
            rd_kafka_message_destroy(m);
            if (clock_mono_us() - start > BATCH_US || atomic_load(&a->throttle_ms) > 0)
                break;
        }
        if (polled == 0) {
            if (dirty && (!a->metrics_file || write_metrics_file(a) == 0)) {
                update_gauges(a);
                dirty = false;
            }
            continue;
        }
        if (b.n && db_transact(&a->db, apply_batch, &b) != 0) {
            /* Nothing was committed: seek back so the batch is read again. */
            log_error("cannot store %zu events; reading them again", b.n);
            metrics_count(a->metrics, "analytics_store_failures_total",
                          "Batches that could not be stored.", 1);
            rd_kafka_topic_partition_list_t *l = NULL;
            if (rd_kafka_assignment(a->rk, &l) == 0 && rd_kafka_committed(a->rk, l, 5000) == 0)
                rd_kafka_error_destroy(rd_kafka_seek_partitions(a->rk, l, 5000));
            if (l)
                rd_kafka_topic_partition_list_destroy(l);
            clock_sleep_us(500000);
            continue;
        }
        commit_positions(a);
        uint64_t now = clock_mono_us();
        unsigned long long zero = 0; /* the type of first_us, whatever uint64_t is */
        atomic_compare_exchange_strong(&a->first_us, &zero, start);
        atomic_store(&a->last_us, now);
        atomic_fetch_add(&a->consumed, polled);
        metrics_count(a->metrics, "analytics_events_total", "Distinct events counted.",
                      (uint64_t)b.added);
        metrics_count(a->metrics, "analytics_duplicates_total",
                      "Events whose event_id was counted before (ignored).",
                      (uint64_t)b.duplicates);
        dirty = true;
        if (now - last_gauges > 500000) {
            update_gauges(a);
            last_gauges = now;
        }
    }
    commit_positions(a);
    if (a->metrics_file)
        write_metrics_file(a);
    free(evs);
    return NULL;
}

static void get_metrics_json(struct analytics *a, struct http_response *res)
{
    struct buf b = {0};
    if (analytics_render(&a->store, &b) != 0) {
        buf_free(&b);
        service_internal_error(res, "cannot read the analytics database");
        return;
    }
    size_t len = 0;
    char *text = buf_take(&b, &len);
    http_respond_text(res, 200, "application/json", text, len);
}

static void get_stats(struct analytics *a, struct http_response *res)
{
    uint64_t first = atomic_load(&a->first_us), last = atomic_load(&a->last_us);
    char *body = malloc(256);
    if (body)
        snprintf(body, 256,
                 "{\"events_consumed\":%llu,\"active_seconds\":%.6f,\"throttle_ms\":%ld,"
                 "\"paused\":%s}",
                 (unsigned long long)atomic_load(&a->consumed),
                 first && last > first ? (double)(last - first) / 1e6 : 0.0,
                 atomic_load(&a->throttle_ms), atomic_load(&a->paused) ? "true" : "false");
    http_respond(res, 200, body);
}

static void configure(struct analytics *a, const struct http_request *req,
                      struct http_response *res)
{
    if (strcmp(req->method, "POST") != 0) {
        service_method_not_allowed(res, "POST");
        return;
    }
    if (!service_require_json(req, res))
        return;
    long t = atomic_load(&a->throttle_ms);
    bool p = atomic_load(&a->paused);
    struct field_error err;
    if (stream_control_decode(req->body, req->body_len, &t, &p, &err) != 0) {
        service_bad_request(res, err.field, err.message);
        return;
    }
    atomic_store(&a->throttle_ms, t);
    atomic_store(&a->paused, p);
    log_info("consumption now throttle_ms=%ld paused=%s", t, p ? "true" : "false");
    http_respond(res, 200, stream_control_encode(t, p));
}

static void handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct analytics *a = ctx;
    if (strcmp(req->path, "/healthz") == 0 && atomic_load(&a->failed)) {
        res->route = "/healthz";
        service_internal_error(res, "the consumer stopped");
        return;
    }
    if (service_common_route(a->metrics, a->db_path, req, res))
        return;
    if (strcmp(req->path, "/metrics.json") == 0) {
        res->route = "/metrics.json";
        if (strcmp(req->method, "GET") != 0)
            service_method_not_allowed(res, "GET");
        else
            get_metrics_json(a, res);
    } else if (strcmp(req->path, "/stats") == 0) {
        res->route = "/stats";
        if (strcmp(req->method, "GET") != 0)
            service_method_not_allowed(res, "GET");
        else
            get_stats(a, res);
    } else if (strcmp(req->path, "/configure") == 0) {
        res->route = "/configure";
        configure(a, req, res);
    } else {
        service_not_found(res);
    }
}

static int clear_job(void *arg)
{
    return analytics_clear_locked(arg);
}

static int start_consumer(struct analytics *a, const char *brokers)
{
    char err[KAFKA_ERR_LEN];
    a->rk = kafka_consumer_new(brokers, GROUP, true, err, sizeof err);
    if (!a->rk) {
        log_error("kafka consumer: %s", err);
        return -1;
    }
    static const char *const topics[] = {"order-events", "inventory-events"};
    if (kafka_subscribe(a->rk, topics, 2) != 0)
        return -1;
    if (pthread_create(&a->thread, NULL, consume, a) != 0) {
        log_error("cannot start the consumer thread");
        return -1;
    }
    a->thread_started = true;
    return 0;
}

int main(int argc, char **argv)
{
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    log_init("analytics");
    log_set_quiet(config_flag(opts, "quiet"));
    static struct analytics a; /* static: the consumer thread may outlive main's frame on error */
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
        log_info("rebuild: forgot every event; counting again from the committed offsets");
    }
    if (start_consumer(&a, config_str(opts, "kafka-brokers")) != 0)
        goto out;
    http = service_http_start(opts, a.metrics, handle, &a);
    if (!http)
        goto out;
    const char *port_file = config_str(opts, "port-file");
    if (port_file && service_write_port_file(port_file, http_server_port(http)) != 0)
        goto out;
    log_info("listening on port %u, database %s, kafka %s", http_server_port(http), a.db_path,
             config_str(opts, "kafka-brokers"));
    service_wait();
    rc = 0;
out:
    service_request_stop();
    http_server_stop(http);
    if (a.thread_started)
        pthread_join(a.thread, NULL);
    if (a.rk) {
        rd_kafka_consumer_close(a.rk);
        rd_kafka_destroy(a.rk);
    }
    analytics_store_close(&a.store);
    db_close(&a.db);
    metrics_free(a.metrics);
    return rc;
}
