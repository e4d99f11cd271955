/* `loadgen kafka`: produces the seeded workload's OrderPlaced events straight
 * onto order-events with an idempotent producer (acks=all), keyed by
 * order_id, and checks every delivery report: a message the cluster did not
 * confirm makes the run fail with the broker's reason, never a silent drop.
 * --print writes the same messages as "key<TAB>value" lines instead, so that
 * kcat can produce exactly the same bytes for a baseline. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "util/log.h"
#include "domain/workload.h"
#include "metrics/histogram.h"
#include "util/clock.h"
#include "util/options.h"
#include "transport/kafka.h"
#include "drivers.h"
#include "events.h"
#include "progress.h"
#include "report.h"

static struct opt opts[] = {
    {"brokers", "127.0.0.1:9092", "Kafka bootstrap servers (host:port,...)", false, NULL},
    {"topic", "order-events", "topic to produce to", false, NULL},
    {"requests", "10000", "how many events (-n)", false, NULL},
    {"seed", "1", "workload seed: the same seed gives the same events", false, NULL},
    {"start", "0", "index of the first order (distinct ranges give distinct orders)", false, NULL},
    {"sold-out-pct", "5", "percent of orders that include the sold-out SKU (they fail)", false,
     NULL},
    {"label", "kafka", "name of this run in the output", false, NULL},
    {"print", NULL, "print key<TAB>event lines (for kcat -P -K) instead of producing", true, NULL},
    {"json", NULL, "print one JSON object instead of the table", true, NULL},
    {"quiet", NULL, "no progress line", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: loadgen kafka [options]   |   loadgen kafka relay [options] (its own --help)\n"
    "Produces N seeded OrderPlaced events (idempotent producer, acks=all, keyed by order_id)\n"
    "and reports the delivered rate and the delivery latency percentiles. Event i of a seed\n"
    "is the same everywhere (same event_id), so producing a range twice makes duplicates.";

struct state {
    struct histogram latency; /* produce -> delivery report, us */
    uint64_t delivered, failed;
    char first_error[256];
    struct progress progress;
};

/* Runs on the thread calling rd_kafka_poll/flush (this one). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct state *s = opaque;
    if (m->err) {
        if (s->failed++ == 0)
            snprintf(s->first_error, sizeof s->first_error, "%s", rd_kafka_err2str(m->err));
        atomic_fetch_add(&s->progress.errors, 1);
    } else {
        s->delivered++;
        int64_t us = rd_kafka_message_latency(m);
        histogram_record(&s->latency, us > 0 ? (uint64_t)us : 0);
    }
    atomic_fetch_add(&s->progress.done, 1);
}

static int print_events(const struct workload *w, uint64_t start, uint64_t n)
{
    struct event_writer ew;
    if (event_writer_init(&ew) != 0)
        return 1;
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        char key[ID_MAX_LEN + 1], text[EVENT_TEXT_MAX];
        if (loadgen_event(&ew, w, start + i, key, text) < 0 || printf("%s\t%s\n", key, text) < 0)
            rc = 1;
    }
    event_writer_free(&ew);
    return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

int loadgen_kafka(int argc, char **argv)
{
    kafka_set_notifier(&log_notifier);
    if (argc >= 2 && strcmp(argv[1], "relay") == 0)
        return loadgen_kafka_relay(argc - 1, argv + 1);
    loadgen_short_options(argc, argv);
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    long n, seed, start, pct;
    if (config_long(opts, "requests", 1, 100000000, &n) ||
        config_long(opts, "seed", 0, 0x7fffffffL, &seed) ||
        config_long(opts, "start", 0, 1000000000000L, &start) ||
        config_long(opts, "sold-out-pct", 0, 100, &pct))
        return 2;
    struct workload w = {.seed = (uint64_t)seed, .sold_out_pct = (int)pct};
    if (config_flag(opts, "print"))
        return print_events(&w, (uint64_t)start, (uint64_t)n);

    static struct state s; /* the histogram is large; keep it off the stack */
    struct event_writer ew;
    if (histogram_init(&s.latency) != 0) {
        fprintf(stderr, "loadgen kafka: out of memory\n");
        return 1;
    }
    if (event_writer_init(&ew) != 0) {
        fprintf(stderr, "loadgen kafka: out of memory\n");
        histogram_free(&s.latency);
        return 1;
    }
    const char *brokers = config_str(opts, "brokers");
    const char *topic = config_str(opts, "topic");
    bool json = config_flag(opts, "json");
    char err[KAFKA_ERR_LEN];
    rd_kafka_t *rk = kafka_producer_new(brokers, NULL, on_delivery, &s, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "loadgen kafka: %s\n", err);
        event_writer_free(&ew);
        histogram_free(&s.latency);
        return 1;
    }
    progress_start(&s.progress, (uint64_t)n, !config_flag(opts, "quiet") && !json);
    /* Each event is encoded right before it is produced, so encoding overlaps
     * with librdkafka's network threads; the rate is what a producer of this
     * workload achieves, encoding included. (Encoding everything first left
     * the new producer idle on its connection, and the first delivery then
     * waited about a second: seen on librdkafka 2.0.2.) */
    int rc = 0;
    uint64_t t0 = clock_mono_us();
    for (long i = 0; i < n && rc == 0; i++) {
        char key[ID_MAX_LEN + 1], text[EVENT_TEXT_MAX];
        int len = loadgen_event(&ew, &w, (uint64_t)(start + i), key, text);
        if (len < 0) {
            fprintf(stderr, "loadgen kafka: out of memory\n");
            rc = 1;
            break;
        }
        for (;;) {
            /* F_COPY: librdkafka keeps its own copy of the text; the key is
             * always copied. */
            rd_kafka_resp_err_t e =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_VALUE(text, (size_t)len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "loadgen kafka: cannot produce event %ld: %s\n", start + i,
                        rd_kafka_err2str(e));
                rc = 1;
                break;
            }
            rd_kafka_poll(rk, 10); /* the local queue is full: let deliveries drain it */
        }
        /* Serve delivery reports now and then, not per message: each poll
         * takes librdkafka's queue lock. */
        if ((i & 255) == 0)
            rd_kafka_poll(rk, 0);
    }
    /* Every message ends in exactly one delivery report; wait for them all. */
    while (rd_kafka_outq_len(rk) > 0 && clock_mono_us() - t0 < 120000000u)
        rd_kafka_flush(rk, 1000);
    uint64_t t1 = clock_mono_us();
    progress_stop(&s.progress);
    uint64_t unconfirmed = (uint64_t)rd_kafka_outq_len(rk);
    rd_kafka_destroy(rk);
    event_writer_free(&ew);
    double secs = (double)(t1 - t0) / 1e6;
    double rate = secs > 0 ? (double)s.delivered / secs : 0;
    const char *label = config_str(opts, "label");
    if (json) {
        cJSON *j = report_begin(label, "kafka");
        cJSON_AddStringToObject(j, "topic", topic);
        cJSON_AddNumberToObject(j, "seed", (double)seed);
        cJSON_AddNumberToObject(j, "start", (double)start);
        cJSON_AddNumberToObject(j, "events", (double)n);
        cJSON_AddNumberToObject(j, "delivered", (double)s.delivered);
        cJSON_AddNumberToObject(j, "failed", (double)(s.failed + unconfirmed));
        report_add_rate(j, (double)s.delivered, secs);
        report_add_latency(j, &s.latency);
        if (report_print(j) != 0)
            rc = 1;
    } else {
        printf("%s  kafka -> %s  (idempotent, acks=all, seed %ld, start %ld)\n", label, topic, seed,
               start);
        printf("  events %ld   delivered %llu   failed %llu   %.3f s   %.1f events/s\n", n,
               (unsigned long long)s.delivered, (unsigned long long)(s.failed + unconfirmed), secs,
               rate);
        printf("  delivery ms  p50 %.3f   p95 %.3f   p99 %.3f   max %.3f\n",
               (double)histogram_quantile(&s.latency, 0.5) / 1000,
               (double)histogram_quantile(&s.latency, 0.95) / 1000,
               (double)histogram_quantile(&s.latency, 0.99) / 1000, (double)s.latency.max / 1000);
    }
    if (s.failed || unconfirmed) {
        fprintf(stderr, "loadgen kafka: %llu events not confirmed by the cluster (%s)\n",
                (unsigned long long)(s.failed + unconfirmed),
                s.failed ? s.first_error : "no delivery report in time");
        rc = 1;
    }
    histogram_free(&s.latency);
    return rc;
}
