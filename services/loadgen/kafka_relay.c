/* `loadgen kafka relay`: the ceiling of a consume-process-produce loop on
 * this cluster. It reads --from in a fresh consumer group and produces each
 * message unchanged onto --to in batches shaped like inventory's (up to 1000
 * messages or 100 ms): one transaction per batch with the batch's offsets
 * sent into it (send_offsets_to_transaction), then the same offsets committed
 * the plain way, as inventory does for the mock cluster. --plain does the
 * same without transactions (produce, wait for every delivery report, commit
 * the offsets). It does no other work, so inventory cannot go faster on the
 * same cluster. The clock runs from the first message read to the last
 * commit: the group join is set-up, not relaying. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "util/clock.h"
#include "util/options.h"
#include "transport/kafka.h"
#include "drivers.h"
#include "report.h"

#define BATCH_MAX 1000
#define BATCH_US 100000
#define TXN_TIMEOUT_MS 30000

static struct opt opts[] = {
    {"brokers", "127.0.0.1:9092", "Kafka bootstrap servers (host:port,...)", false, NULL},
    {"from", "order-events", "topic to consume (from its start, in a new group)", false, NULL},
    {"to", "bench.relay-out", "topic each message is produced to (created if missing)", false,
     NULL},
    {"count", "0", "messages to relay (0: until nothing arrives for a second)", false, NULL},
    {"warmup", "0",
     "messages relayed first, untimed and counted apart (connections, producer id, group join)",
     false, NULL},
    {"plain", NULL, "no transactions: produce, wait for delivery reports, commit offsets", true,
     NULL},
    {"label", "kafka-relay", "name of this run in the output", false, NULL},
    {"json", NULL, "print one JSON object instead of text", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: loadgen kafka relay [options]\n"
    "Consumes --from and produces every message onto --to in batches of up to 1000\n"
    "(or 100 ms), one transaction per batch with its offsets (send_offsets_to_transaction),\n"
    "doing no other work: the ceiling for inventory's consume-reserve-produce loop.\n"
    "--plain: the same without transactions.";

struct relay {
    rd_kafka_t *consumer, *producer;
    const char *to;
    bool txn;
    uint64_t failed;             /* delivery reports with an error */
    uint64_t batches, commit_us; /* commit_us: in commits (transaction and offsets) */
    rd_kafka_message_t *batch[BATCH_MAX];
    size_t n;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct relay *r = opaque;
    if (m->err)
        r->failed++;
}

/* The next offset to read on each partition the batch touched. */
static rd_kafka_topic_partition_list_t *batch_offsets(const struct relay *r)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < r->n; i++)
        kafka_offset_after(l, r->batch[i]);
    return l;
}

static int produce_batch(struct relay *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const rd_kafka_message_t *m = r->batch[i];
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                r->producer, RD_KAFKA_V_TOPIC(r->to), RD_KAFKA_V_KEY(m->key, m->key_len),
                RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "loadgen kafka relay: cannot produce: %s\n", rd_kafka_err2str(e));
                return -1;
            }
            rd_kafka_poll(r->producer, 10);
        }
    }
    return 0;
}

static int say(rd_kafka_error_t *e, const char *what)
{
    if (!e)
        return 0;
    fprintf(stderr, "loadgen kafka relay: %s: %s\n", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}

/* One batch onward and its offsets committed; 0 or -1 (the run stops: a
 * ceiling that retried would measure its retries). */
static int relay_batch(struct relay *r)
{
    rd_kafka_topic_partition_list_t *offs = batch_offsets(r);
    int rc = 0;
    uint64_t t0 = clock_mono_us();
    r->batches++;
    if (r->txn) {
        rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(r->consumer);
        rc =
            say(rd_kafka_begin_transaction(r->producer), "begin transaction") || produce_batch(r) ||
                    say(rd_kafka_send_offsets_to_transaction(r->producer, offs, md, TXN_TIMEOUT_MS),
                        "send offsets to the transaction") ||
                    say(rd_kafka_commit_transaction(r->producer, TXN_TIMEOUT_MS),
                        "commit transaction")
                ? -1
                : 0;
        rd_kafka_consumer_group_metadata_destroy(md);
    } else {
        rc = produce_batch(r);
        while (rc == 0 && rd_kafka_outq_len(r->producer) > 0)
            rd_kafka_flush(r->producer, 1000);
    }
    rd_kafka_poll(r->producer, 0); /* delivery reports of this batch */
    if (rc == 0 && r->failed) {
        fprintf(stderr, "loadgen kafka relay: %llu messages not delivered\n",
                (unsigned long long)r->failed);
        rc = -1;
    }
    /* Plain commit also after a transaction, as inventory does: the mock
     * cluster drops TxnOffsetCommit. */
    rd_kafka_resp_err_t ce = rc == 0 ? rd_kafka_commit(r->consumer, offs, 0) : 0;
    if (ce) {
        fprintf(stderr, "loadgen kafka relay: offset commit: %s\n", rd_kafka_err2str(ce));
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(offs);
    for (size_t i = 0; i < r->n; i++)
        rd_kafka_message_destroy(r->batch[i]);
    r->n = 0;
    r->commit_us += clock_mono_us() - t0;
    return rc;
}

static int ensure_topic(const char *brokers, const char *from, const char *to)
{
    char err[KAFKA_ERR_LEN];
    rd_kafka_t *admin = kafka_admin_new(brokers, err, sizeof err);
    if (!admin) {
        fprintf(stderr, "loadgen kafka relay: %s\n", err);
        return -1;
    }
    int parts = kafka_partition_count(admin, from, 10000);
    const char *t[] = {to};
    int rc = parts <= 0 ? -1
             : kafka_partition_count(admin, to, 10000) > 0
                 ? 0
                 : kafka_create_topics(admin, t, 1, parts, 1, 10000, err, sizeof err);
    if (parts <= 0)
        fprintf(stderr, "loadgen kafka relay: topic %s not found on %s\n", from, brokers);
    else if (rc != 0)
        fprintf(stderr, "loadgen kafka relay: cannot create %s: %s\n", to, err);
    rd_kafka_destroy(admin);
    return rc;
}

int loadgen_kafka_relay(int argc, char **argv)
{
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    long count, warmup;
    if (config_long(opts, "count", 0, 1000000000L, &count) ||
        config_long(opts, "warmup", 0, 1000000000L, &warmup))
        return 2;
    /* Both counts in one: the warm-up messages come first. */
    uint64_t total = count ? (uint64_t)(count + warmup) : 0;
    const char *brokers = config_str(opts, "brokers"), *from = config_str(opts, "from");
    static struct relay r; /* the batch array is large; keep it off the stack */
    r.to = config_str(opts, "to");
    r.txn = !config_flag(opts, "plain");
    if (ensure_topic(brokers, from, r.to) != 0)
        return 1;
    char group[64], txn_id[64], err[KAFKA_ERR_LEN];
    snprintf(group, sizeof group, "bench-relay-%ld", (long)getpid());
    snprintf(txn_id, sizeof txn_id, "bench-relay-%ld", (long)getpid());
    r.consumer = kafka_consumer_new(brokers, group, true, err, sizeof err);
    r.producer = r.consumer ? kafka_producer_new(brokers, r.txn ? txn_id : NULL, on_delivery, &r,
                                                 err, sizeof err)
                            : NULL;
    int rc = 0;
    if (!r.producer) {
        fprintf(stderr, "loadgen kafka relay: %s\n", err);
        rc = 1;
    } else if (r.txn && say(rd_kafka_init_transactions(r.producer, TXN_TIMEOUT_MS),
                            "init transactions") != 0) {
        rc = 1;
    } else if (kafka_subscribe(r.consumer, &from, 1, err, sizeof err) != 0) {
        fprintf(stderr, "loadgen kafka relay: %s\n", err);
        rc = 1;
    }
    /* base: messages relayed before the clock started (the warm-up). */
    uint64_t got = 0, base = 0, t0 = 0, t_last = 0, idle_since = clock_mono_us();
    bool timing = warmup == 0;
    while (rc == 0 && (total == 0 || got < total)) {
        uint64_t start = clock_mono_us();
        /* A batch ends at the warm-up's last message, so the clock starts
         * on a batch boundary. */
        uint64_t stop_at = !timing ? (uint64_t)warmup : total;
        while (r.n < BATCH_MAX && (stop_at == 0 || got < stop_at)) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(r.consumer, r.n ? 0 : 100);
            if (!m)
                break;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    fprintf(stderr, "loadgen kafka relay: %s\n", rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            if (got++ == base && timing)
                t0 = clock_mono_us();
            r.batch[r.n++] = m;
            if (clock_mono_us() - start > BATCH_US)
                break;
        }
        if (r.n == 0) {
            /* Before the first message the group is still joining: wait up
             * to a minute for it; after, an idle second means the end. */
            if (clock_mono_us() - idle_since > (got ? 1000000u : 60000000u))
                break;
            continue;
        }
        if (relay_batch(&r) != 0)
            rc = 1;
        t_last = idle_since = clock_mono_us();
        if (!timing && got >= (uint64_t)warmup) {
            timing = true;
            base = got;
            r.batches = r.commit_us = 0;
        }
    }
    if (r.consumer)
        rd_kafka_consumer_close(r.consumer);
    for (size_t i = 0; i < r.n; i++)
        rd_kafka_message_destroy(r.batch[i]);
    if (r.producer)
        rd_kafka_destroy(r.producer);
    if (r.consumer)
        rd_kafka_destroy(r.consumer);
    uint64_t timed = got - base;
    double s = timed && timing ? (double)(t_last - t0) / 1e6 : 0;
    double rate = s > 0 ? (double)timed / s : 0;
    const char *label = config_str(opts, "label");
    if (config_flag(opts, "json")) {
        cJSON *j = report_begin(label, "kafka");
        cJSON_AddStringToObject(j, "op", "relay");
        cJSON_AddBoolToObject(j, "transactions", r.txn);
        cJSON_AddNumberToObject(j, "warmup", (double)base);
        cJSON_AddNumberToObject(j, "messages", (double)timed);
        cJSON_AddNumberToObject(j, "batches", (double)r.batches);
        report_add_rate(j, (double)timed, s);
        cJSON_AddNumberToObject(j, "batch_duration_s", (double)r.commit_us / 1e6);
        if (report_print(j) != 0)
            rc = 1;
    } else
        printf("%s relay%s: %llu messages in %.3f s, %.1f msg/s\n", label,
               r.txn ? " (transactions)" : "", (unsigned long long)timed, s, rate);
    if (rc == 0 && total > 0 && got < total) {
        fprintf(stderr, "loadgen kafka relay: only %llu of %llu messages arrived\n",
                (unsigned long long)got, (unsigned long long)total);
        rc = 1;
    }
    return rc;
}
