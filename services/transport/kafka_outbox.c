#include "kafka_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox_relay.h"
#include "kafka.h"

#define BATCH 1000

struct kafka_outbox_relay {
    struct outbox_relay relay;
    rd_kafka_t *rk;
    struct notifier notice;
    rd_kafka_resp_err_t result[BATCH]; /* delivery report per row */
    bool reported[BATCH];
};

/* opaque = index into the batch; runs inside rd_kafka_poll/flush on the relay thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kafka_outbox_relay *r = opaque;
    size_t i = (size_t)(uintptr_t)m->_private;
    if (i < BATCH) {
        r->result[i] = m->err;
        r->reported[i] = true;
    }
}

static bool refused_for_good(rd_kafka_resp_err_t e)
{
    return kafka_error_is_message(e) || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
           e == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION;
}

static void produce(struct kafka_outbox_relay *r, const struct outbox_row *row, size_t i)
{
    r->reported[i] = false;
    r->result[i] = RD_KAFKA_RESP_ERR__FAIL;
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

/* Publishes rows[0..n); each row's fate from its delivery report. */
static int publish(void *ctx, struct worker *w, struct outbox_row *rows, size_t n)
{
    struct kafka_outbox_relay *r = ctx;
    for (size_t i = 0; i < n; i++)
        produce(r, &rows[i], i);
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
            notify(&r->notice, NOTICE_ERROR,
                   "relay: %zu of %zu events not confirmed by Kafka (first: %s); they stay "
                   "in the outbox and are retried",
                   n - i, n, rd_kafka_err2str(e));
            return -1;
        }
    }
    return 0;
}

static const struct outbox_relay_ops ops = {.deliver = publish};

struct kafka_outbox_relay *kafka_outbox_relay_start(const char *brokers, struct outbox *ob,
                                                    struct metrics *m,
                                                    const struct notifier *notice)
{
    static const struct outbox_relay_config cfg =
        OUTBOX_RELAY_CONFIG("kafka relay", NULL, BATCH, 5, 100, 5000, "outbox");
    struct kafka_outbox_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->notice = *notice;
    char err[KAFKA_ERR_LEN];
    r->rk = kafka_producer_new(brokers, NULL, on_delivery, r, err, sizeof err);
    if (!r->rk) {
        notify(notice, NOTICE_ERROR, "kafka producer: %s", err);
        free(r);
        return NULL;
    }
    if (outbox_relay_start(&r->relay, &cfg, &ops, r, ob, m) == 0)
        return r;
    rd_kafka_destroy(r->rk);
    free(r);
    return NULL;
}

void kafka_outbox_relay_stop(struct kafka_outbox_relay *r)
{
    if (!r)
        return;
    outbox_relay_stop(&r->relay);
    /* Without a broker, librdkafka would retry for message.timeout.ms (5
     * minutes). Unconfirmed events were never marked sent: they stay in the
     * outbox and go out after the restart, so shutdown need not wait. */
    rd_kafka_flush(r->rk, 5000);
    int left = rd_kafka_outq_len(r->rk);
    if (left > 0) {
        notify(&r->notice, NOTICE_WARN,
               "relay: %d events not confirmed at shutdown; they stay in the outbox", left);
        rd_kafka_purge(r->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    rd_kafka_destroy(r->rk);
    free(r);
}
