/* Part C: relays the outbox to Kafka. POST /order has already stored the
 * order and its OrderPlaced event in one SQLite transaction (outbox_place.c);
 * this thread publishes unsent rows with an idempotent producer (acks=all),
 * keyed by order_id so an order's events stay in one partition, and marks
 * rows sent only up to the first row whose delivery report is not a success.
 * A failed row stays in the outbox and is published again: nothing
 * acknowledged to a client is lost. A row published twice (its delivery
 * failed after a later row succeeded) carries the same event_id, which the
 * consumers deduplicate. Failures are logged and counted
 * (commlab_kafka_delivery_failures_total), and the backlog is a gauge. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util/clock.h"
#include "../core/util/log.h"
#include "../runtime/service.h"
#include "../transport/kafka.h"
#include "order_service.h"

#define RELAY_BATCH 1000
#define IDLE_US 5000

struct relay {
    struct order_service *svc;
    rd_kafka_t *rk;
    pthread_t thread;
    struct outbox_row rows[RELAY_BATCH];
    rd_kafka_resp_err_t result[RELAY_BATCH]; /* delivery report per row */
    bool reported[RELAY_BATCH];
};

/* opaque = index into rows; runs inside rd_kafka_poll/flush on the relay thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct relay *r = opaque;
    size_t i = (size_t)(uintptr_t)m->_private;
    if (i < RELAY_BATCH) {
        r->result[i] = m->err;
        r->reported[i] = true;
    }
}

/* Publishes rows[0..n) and returns how many leading rows were delivered. */
static size_t publish(struct relay *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        r->reported[i] = false;
        r->result[i] = RD_KAFKA_RESP_ERR__FAIL;
        const struct outbox_row *row = &r->rows[i];
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(r->rk, RD_KAFKA_V_TOPIC(row->destination),
                                      RD_KAFKA_V_KEY(row->key, strlen(row->key)),
                                      RD_KAFKA_V_VALUE(row->body, row->body_len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(r->rk, 10);
        if (e) {
            r->result[i] = e;
            r->reported[i] = true;
        }
    }
    /* Every produced message gets exactly one delivery report; idempotence
     * lets librdkafka retry within message.timeout.ms without duplicates. */
    while (rd_kafka_outq_len(r->rk) > 0 && !service_stopping())
        rd_kafka_flush(r->rk, 1000);
    size_t ok = 0;
    while (ok < n && r->reported[ok] && r->result[ok] == RD_KAFKA_RESP_ERR_NO_ERROR)
        ok++;
    return ok;
}

static void *run(void *arg)
{
    struct relay *r = arg;
    struct order_service *svc = r->svc;
    uint64_t backoff = 0;
    while (!service_stopping()) {
        size_t n = 0;
        if (outbox_pending(&svc->outbox, r->rows, RELAY_BATCH, &n) != 0) {
            log_error("relay: cannot read the outbox");
            clock_sleep_us(500000);
            continue;
        }
        if (n == 0) {
            metrics_gauge(svc->metrics, "outbox_backlog", "Events waiting to be published.", 0);
            clock_sleep_us(IDLE_US);
            continue;
        }
        size_t ok = publish(r, n);
        if (ok > 0 && outbox_mark_sent(&svc->outbox, r->rows[ok - 1].seq) != 0)
            log_error("relay: cannot mark %zu events sent (they will be published again)", ok);
        metrics_count(svc->metrics, "kafka_published_total",
                      "OrderPlaced events confirmed by Kafka (acks=all).", ok);
        if (ok < n) {
            rd_kafka_resp_err_t e = r->result[ok];
            log_error("relay: %zu of %zu events not confirmed by Kafka (first: %s); they stay "
                      "in the outbox and are retried",
                      n - ok, n, rd_kafka_err2str(e));
            metrics_count(svc->metrics, "kafka_delivery_failures_total",
                          "Outbox events whose delivery report was an error (retried).", n - ok);
            backoff = backoff ? (backoff * 2 > 5000000 ? 5000000 : backoff * 2) : 100000;
            for (uint64_t end = clock_mono_us() + backoff;
                 clock_mono_us() < end && !service_stopping();)
                clock_sleep_us(20000);
        } else {
            backoff = 0;
        }
        metrics_gauge(svc->metrics, "outbox_backlog", "Events waiting to be published.",
                      (double)outbox_backlog(&svc->outbox));
        outbox_rows_free(r->rows, n);
    }
    return NULL;
}

int kafka_relay_start(struct order_service *svc, const char *brokers)
{
    struct relay *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    char err[KAFKA_ERR_LEN];
    r->svc = svc;
    r->rk = kafka_producer_new(brokers, NULL, on_delivery, r, err, sizeof err);
    if (!r->rk) {
        log_error("kafka producer: %s", err);
        free(r);
        return -1;
    }
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        log_error("cannot start the kafka relay thread");
        rd_kafka_destroy(r->rk);
        free(r);
        return -1;
    }
    svc->relay = r;
    log_info("stream mode: relaying the outbox to Kafka at %s", brokers);
    return 0;
}

void kafka_relay_stop(struct order_service *svc)
{
    struct relay *r = svc->relay;
    if (!r)
        return;
    pthread_join(r->thread, NULL); /* it stops once service_stopping() */
    /* Without a broker, librdkafka would retry for message.timeout.ms (5
     * minutes). Unconfirmed events were never marked sent: they stay in the
     * outbox and go out after the restart, so shutdown need not wait. */
    rd_kafka_flush(r->rk, 5000);
    int left = rd_kafka_outq_len(r->rk);
    if (left > 0) {
        log_warn("relay: %d events not confirmed at shutdown; they stay in the outbox", left);
        rd_kafka_purge(r->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    rd_kafka_destroy(r->rk);
    free(r);
    svc->relay = NULL;
}
