/* Part C: relays the outbox to Kafka. POST /order has already stored the
 * order and its OrderPlaced event in one SQLite transaction (outbox_place.c);
 * the outbox relay (core/store/outbox_relay.h) hands unsent rows to an
 * idempotent producer (acks=all), keyed by order_id so an order's events stay
 * in one partition, and marks rows sent up to the first row whose delivery
 * failed for a reason not its own (the broker away, a timeout). Such a row
 * stays in the outbox and is published again: nothing acknowledged to a
 * client is lost. A row published twice (its delivery failed after a later
 * row succeeded) carries the same event_id, which the consumers deduplicate.
 * A row refused for its own sake (too large, an invalid record, an unknown
 * topic) is set aside with the error, and the rows behind it go on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox_relay.h"
#include "util/log.h"
#include "transport/kafka.h"
#include "order_service.h"

#define RELAY_BATCH 1000

struct kafka_relay {
    struct outbox_relay relay;
    rd_kafka_t *rk;
    rd_kafka_resp_err_t result[RELAY_BATCH]; /* delivery report per row */
    bool reported[RELAY_BATCH];
};

/* opaque = index into the batch; runs inside rd_kafka_poll/flush on the relay thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kafka_relay *r = opaque;
    size_t i = (size_t)(uintptr_t)m->_private;
    if (i < RELAY_BATCH) {
        r->result[i] = m->err;
        r->reported[i] = true;
    }
}

static bool refused_for_good(rd_kafka_resp_err_t e)
{
    return kafka_error_is_message(e) || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
           e == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION;
}

/* Publishes rows[0..n); each row's fate from its delivery report. */
static int publish(void *ctx, struct worker *w, struct outbox_row *rows, size_t n)
{
    struct kafka_relay *r = ctx;
    for (size_t i = 0; i < n; i++) {
        r->reported[i] = false;
        r->result[i] = RD_KAFKA_RESP_ERR__FAIL;
        const struct outbox_row *row = &rows[i];
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
    while (rd_kafka_outq_len(r->rk) > 0 && !worker_stopping(w))
        rd_kafka_flush(r->rk, 1000);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = r->reported[i] ? r->result[i] : RD_KAFKA_RESP_ERR__FAIL;
        if (!e) {
            rows[i].fate = OUTBOX_DELIVERED;
        } else if (refused_for_good(e)) {
            rows[i].fate = OUTBOX_REFUSED;
            snprintf(rows[i].why, sizeof rows[i].why, "Kafka refused it: %s (%s)",
                     rd_kafka_err2str(e), rd_kafka_err2name(e));
        } else {
            log_error("relay: %zu of %zu events not confirmed by Kafka (first: %s); they stay "
                      "in the outbox and are retried",
                      n - i, n, rd_kafka_err2str(e));
            return -1;
        }
    }
    return 0;
}

static const struct outbox_relay_ops ops = {.deliver = publish};

int kafka_relay_start(struct order_service *svc, const char *brokers)
{
    static const struct outbox_relay_config cfg = {
        .name = "kafka relay",
        .batch = RELAY_BATCH,
        .idle_ms = 5,
        .backoff_min_ms = 100,
        .backoff_max_ms = 5000,
        .metric = OUTBOX_RELAY_METRICS("outbox"),
    };
    struct kafka_relay *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    char err[KAFKA_ERR_LEN];
    r->rk = kafka_producer_new(brokers, NULL, on_delivery, r, err, sizeof err);
    if (!r->rk) {
        log_error("kafka producer: %s", err);
        free(r);
        return -1;
    }
    if (outbox_relay_start(&r->relay, &cfg, &ops, r, &svc->outbox, svc->metrics) != 0) {
        rd_kafka_destroy(r->rk);
        free(r);
        return -1;
    }
    svc->kafka = r;
    log_info("stream mode: relaying the outbox to Kafka at %s", brokers);
    return 0;
}

void kafka_relay_stop(struct order_service *svc)
{
    struct kafka_relay *r = svc->kafka;
    if (!r)
        return;
    outbox_relay_stop(&r->relay);
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
    svc->kafka = NULL;
}
