/* Part C: the inventory consumer over Kafka, consume-process-produce in Kafka
 * transactions. For each batch read from order-events (group
 * inventory-consumer-group, read_committed):
 *
 *   1. one SQLite transaction reserves stock for every OrderPlaced
 *      (idempotent by order_id: a repeat returns the first answer and moves
 *      nothing) and records, per order_id, the input offset that first
 *      produced its outcome;
 *   2. one Kafka transaction carries the outcomes (InventoryReserved /
 *      InventoryFailed onto inventory-events, keyed by order_id), the
 *      malformed messages (onto the dead-letter topic) and the batch's input
 *      offsets (send_offsets_to_transaction), and commits them together.
 *
 * A crash or an abort between 1 and 2 leaves SQLite ahead of Kafka: the
 * batch is read again, SQLite answers from its record without moving stock,
 * and the outcome is produced again in the new transaction. An outcome is
 * produced only for the offset recorded first for its order_id, so the same
 * event produced twice (a second message, at another offset) yields no
 * second outcome. Committed output therefore holds each order_id once,
 * whatever the crashes; read_committed readers never see the aborted tries.
 *
 * Startup settings (the environment, like every option): COMMLAB_THROTTLE_MS
 * (ms per event), COMMLAB_PAUSED=1, COMMLAB_TRANSACTIONAL_ID (default
 * commlab-inventory: one consumer process; a restarted one fences its dead
 * predecessor and aborts its open transaction). At run time: POST /configure
 * {"throttle_ms":N,"paused":bool}. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/codec/event_json.h"
#include "../core/codec/event_writer.h"
#include "../core/codec/stream_json.h"
#include "../core/util/clock.h"
#include "../core/util/config.h"
#include "../core/util/log.h"
#include "../runtime/service.h"
#include "../transport/kafka.h"
#include "inventory_service.h"

#define GROUP "inventory-consumer-group"
#define IN_TOPIC "order-events"
#define OUT_TOPIC "inventory-events"
#define DLQ_TOPIC "order-events.dlq"
#define BATCH_MAX 1000
#define BATCH_US 100000
#define TXN_TIMEOUT_MS 30000

enum { ST_FIND, ST_ADD, ST_COUNT };

static const char schema[] = "CREATE TABLE IF NOT EXISTS kafka_outcomes("
                             " order_id TEXT PRIMARY KEY, src_partition INTEGER NOT NULL,"
                             " src_offset INTEGER NOT NULL) WITHOUT ROWID;";
static const char *const sql[] = {
    [ST_FIND] = "SELECT src_partition, src_offset FROM kafka_outcomes WHERE order_id=?",
    [ST_ADD] = "INSERT INTO kafka_outcomes(order_id,src_partition,src_offset) VALUES(?,?,?)",
};

/* What to do with one input message. */
enum action { ACT_NONE, ACT_EMIT, ACT_DUPLICATE, ACT_DEAD_LETTER };

struct item {
    rd_kafka_message_t *m;
    enum action act;
    struct event ev;  /* the outcome to emit */
    char reason[200]; /* dead letter: why */
};

struct kc {
    struct inventory_service *svc;
    rd_kafka_t *consumer, *producer;
    sqlite3_stmt *st[ST_COUNT];
    pthread_t thread;
    bool started;
    struct item items[BATCH_MAX];
    size_t n;
    struct event_writer ew; /* the outcomes' JSON, on the consumer thread */
    atomic_ullong delivery_failures;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kc *k = opaque;
    if (m->err) {
        /* The transaction commit fails too and the batch is retried; this
         * only makes the cause visible. */
        atomic_fetch_add(&k->delivery_failures, 1);
        log_warn("delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
                 rd_kafka_err2str(m->err));
    }
}

/* 1 when this (partition, offset) is the one that owns the outcome of
 * order_id (recording it if nobody owned it yet), 0 when another message
 * did, -1 on error. */
static int owns_outcome(struct kc *k, const char *order_id, int32_t part, int64_t off)
{
    sqlite3_stmt *st = db_reset(k->st[ST_FIND]);
    db_bind_text(st, 1, order_id);
    int rc = sqlite3_step(st);
    int owner = -1;
    if (rc == SQLITE_ROW)
        owner = sqlite3_column_int(st, 0) == part && sqlite3_column_int64(st, 1) == off;
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return owner;
    if (rc != SQLITE_DONE)
        return -1;
    st = db_reset(k->st[ST_ADD]);
    db_bind_text(st, 1, order_id);
    sqlite3_bind_int(st, 2, part);
    sqlite3_bind_int64(st, 3, off);
    return db_step_done(&k->svc->db, st) == 0 ? 1 : -1;
}

static int apply_batch(void *arg)
{
    struct kc *k = arg;
    for (size_t i = 0; i < k->n; i++) {
        struct item *it = &k->items[i];
        if (it->act != ACT_EMIT)
            continue;
        struct reserve_result r;
        if (stock_reserve_locked(&k->svc->stock, &it->ev.order, &r) != 0)
            return -1;
        int own = owns_outcome(k, it->ev.order.order_id, it->m->partition, it->m->offset);
        if (own < 0)
            return -1;
        if (!own) {
            it->act = ACT_DUPLICATE;
            continue;
        }
        struct order o = it->ev.order;
        event_from_order(&it->ev, r.reserved ? EVENT_INVENTORY_RESERVED : EVENT_INVENTORY_FAILED,
                         &o, r.reserved ? NULL : r.reason);
    }
    return 0;
}

/* Sorts the message into an action; decoding happens outside SQLite's lock. */
static void classify(struct kc *k, struct item *it)
{
    struct field_error err;
    const rd_kafka_message_t *m = it->m;
    it->act = ACT_NONE;
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            log_warn("consumer: %s", rd_kafka_message_errstr(m));
        return;
    }
    if (event_decode(m->payload ? m->payload : "", m->len, &it->ev, &err) != 0) {
        snprintf(it->reason, sizeof it->reason, "malformed: %s%s%s", err.field,
                 err.field[0] ? ": " : "", err.message);
        it->act = ACT_DEAD_LETTER;
    } else if (it->ev.type != EVENT_ORDER_PLACED) {
        snprintf(it->reason, sizeof it->reason, "unexpected event type %s on " IN_TOPIC,
                 event_type_name(it->ev.type));
        it->act = ACT_DEAD_LETTER;
    } else {
        it->act = ACT_EMIT;
    }
    (void)k;
}

static void throttle(struct kc *k)
{
    long ms = atomic_load(&k->svc->stream_throttle_ms);
    for (uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
         ms > 0 && clock_mono_us() < end && !service_stopping();) {
        uint64_t left = end - clock_mono_us();
        clock_sleep_us(left < 20000 ? left : 20000);
    }
}

static rd_kafka_resp_err_t produce(struct kc *k, const char *topic, const char *key,
                                   const void *value, size_t len, const char *reason,
                                   const rd_kafka_message_t *src)
{
    char where[48];
    if (src)
        snprintf(where, sizeof where, "%d/%lld", (int)src->partition, (long long)src->offset);
    for (;;) {
        rd_kafka_resp_err_t e =
            reason ? rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(topic),
                                       RD_KAFKA_V_KEY(key, strlen(key)),
                                       RD_KAFKA_V_VALUE((void *)value, len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_HEADER("dead_letter_reason", reason, -1),
                                       RD_KAFKA_V_HEADER("source", where, -1), RD_KAFKA_V_END)
                   : rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(topic),
                                       RD_KAFKA_V_KEY(key, strlen(key)),
                                       RD_KAFKA_V_VALUE((void *)value, len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return e;
        rd_kafka_poll(k->producer, 10);
    }
}

/* The next offset to read on each partition the batch touched. */
static rd_kafka_topic_partition_list_t *batch_offsets(struct kc *k)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < k->n; i++) {
        const rd_kafka_message_t *m = k->items[i].m;
        if (m->err)
            continue;
        const char *t = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(l, t, m->partition);
        if (!p)
            p = rd_kafka_topic_partition_list_add(l, t, m->partition);
        if (m->offset + 1 > p->offset)
            p->offset = m->offset + 1;
    }
    return l;
}

/* The same offsets again with a plain commit, once the transaction has
 * committed them. On a real broker this rewrites equal values; it is here
 * because librdkafka's mock cluster (the local lab's broker) acknowledges
 * TxnOffsetCommit without storing it, so without this the group would show
 * no progress and a restart would read from the start. A failure only
 * means a restart re-reads a batch, which the reservation records absorb. */
static void plain_commit(struct kc *k)
{
    rd_kafka_topic_partition_list_t *offs = batch_offsets(k);
    rd_kafka_resp_err_t e = rd_kafka_commit(k->consumer, offs, 0);
    if (e)
        log_warn("plain offset commit after the transaction failed: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(offs);
}

/* After an abort: read again from the last committed offsets. */
static void rewind_to_committed(struct kc *k)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(k->consumer, &l) != 0)
        return;
    if (rd_kafka_committed(k->consumer, l, 10000) == 0) {
        for (int i = 0; i < l->cnt; i++)
            if (l->elems[i].offset < 0)
                l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(k->consumer, l, 10000);
        if (e) {
            log_warn("cannot rewind after an abort: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Runs the Kafka side of a batch; 0 committed, 1 aborted (retry the batch),
 * -1 fatal (this producer is fenced or broken: the process must stop). */
static int kafka_txn(struct kc *k)
{
    rd_kafka_error_t *e = rd_kafka_begin_transaction(k->producer);
    if (e)
        goto failed;
    for (size_t i = 0; i < k->n; i++) {
        struct item *it = &k->items[i];
        rd_kafka_resp_err_t pe = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (it->act == ACT_EMIT) {
            char body[EVENT_TEXT_MAX];
            int len = event_writer_encode(&k->ew, &it->ev, body, sizeof body);
            if (len < 0)
                pe = RD_KAFKA_RESP_ERR__FAIL; /* out of memory: abort and retry */
            else
                pe = produce(k, OUT_TOPIC, it->ev.order.order_id, body, (size_t)len, NULL, NULL);
        } else if (it->act == ACT_DEAD_LETTER) {
            const char *key = it->m->key ? (const char *)it->m->key : "";
            char keybuf[ID_MAX_LEN + 1];
            snprintf(keybuf, sizeof keybuf, "%.*s", (int)it->m->key_len, key);
            pe = produce(k, DLQ_TOPIC, keybuf, it->m->payload, it->m->len, it->reason, it->m);
        }
        if (pe) {
            log_warn("cannot produce in the transaction: %s", rd_kafka_err2str(pe));
            goto abort;
        }
    }
    rd_kafka_topic_partition_list_t *offs = batch_offsets(k);
    rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(k->consumer);
    e = rd_kafka_send_offsets_to_transaction(k->producer, offs, md, TXN_TIMEOUT_MS);
    rd_kafka_consumer_group_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(offs);
    if (e)
        goto failed;
    for (int tries = 0;; tries++) {
        e = rd_kafka_commit_transaction(k->producer, TXN_TIMEOUT_MS);
        if (!e) {
            plain_commit(k);
            return 0;
        }
        if (!rd_kafka_error_is_retriable(e) || tries >= 3)
            goto failed;
        rd_kafka_error_destroy(e);
    }
failed:
    if (rd_kafka_error_is_fatal(e)) {
        log_error("kafka transaction: fatal: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    log_warn("kafka transaction aborted (batch will be read again): %s", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
abort:
    e = rd_kafka_abort_transaction(k->producer, TXN_TIMEOUT_MS);
    if (e) {
        log_error("kafka transaction: cannot abort: %s", rd_kafka_error_string(e));
        bool fatal = rd_kafka_error_is_fatal(e);
        rd_kafka_error_destroy(e);
        if (fatal)
            return -1;
    }
    metrics_count(k->svc->metrics, "kafka_txn_aborts_total",
                  "Kafka transactions aborted (their batch is processed again).", 1);
    rewind_to_committed(k);
    return 1;
}

static void count_batch(struct kc *k)
{
    uint64_t res = 0, fail = 0, dup = 0, dlq = 0;
    for (size_t i = 0; i < k->n; i++) {
        const struct item *it = &k->items[i];
        if (it->act == ACT_EMIT && it->ev.type == EVENT_INVENTORY_RESERVED)
            res++;
        else if (it->act == ACT_EMIT)
            fail++;
        else if (it->act == ACT_DUPLICATE)
            dup++;
        else if (it->act == ACT_DEAD_LETTER)
            dlq++;
    }
    struct metrics *mx = k->svc->metrics;
    metrics_count(mx, "kafka_txn_commits_total", "Kafka transactions committed.", 1);
    metrics_count(mx, "kafka_reserved_total", "InventoryReserved events committed.", res);
    metrics_count(mx, "kafka_refused_total", "InventoryFailed events committed.", fail);
    metrics_count(mx, "kafka_duplicates_total",
                  "OrderPlaced messages whose order_id had its outcome already (no output).", dup);
    metrics_count(mx, "kafka_dead_letters_total",
                  "Malformed messages moved to " DLQ_TOPIC " in a transaction.", dlq);
}

static void free_batch(struct kc *k)
{
    for (size_t i = 0; i < k->n; i++)
        rd_kafka_message_destroy(k->items[i].m);
    k->n = 0;
}

static void *run(void *arg)
{
    struct kc *k = arg;
    bool was_paused = false;
    while (!service_stopping()) {
        bool paused = atomic_load(&k->svc->stream_paused);
        if (paused || was_paused)
            kafka_pause(k->consumer, paused);
        was_paused = paused;
        uint64_t start = clock_mono_us();
        while (k->n < BATCH_MAX && !service_stopping()) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, k->n ? 0 : 100);
            if (!m)
                break;
            struct item *it = &k->items[k->n++];
            it->m = m;
            classify(k, it);
            if (it->act != ACT_NONE)
                throttle(k);
            if (clock_mono_us() - start > BATCH_US || atomic_load(&k->svc->stream_throttle_ms) > 0)
                break;
        }
        if (k->n == 0)
            continue;
        if (db_transact(&k->svc->db, apply_batch, k) != 0) {
            log_error("cannot store a batch of %zu reservations; reading it again", k->n);
            metrics_count(k->svc->metrics, "kafka_store_failures_total",
                          "Batches SQLite could not store.", 1);
            free_batch(k);
            rewind_to_committed(k);
            clock_sleep_us(500000);
            continue;
        }
        int rc = kafka_txn(k);
        if (rc == 0)
            count_batch(k);
        free_batch(k);
        if (rc < 0) {
            /* Fenced by a newer instance, or the producer is broken: this
             * process cannot go on. /healthz says so, and the process
             * stops with exit status 1 for its supervisor to restart it
             * (Restart=on-failure in the NixOS module). */
            atomic_store(&k->svc->stream_failed, true);
            log_error("kafka: the transactional producer cannot go on; stopping (exit 1)");
            kill(getpid(), SIGTERM);
            break;
        }
    }
    return NULL;
}

static long env_long(const char *name, long max)
{
    const char *v = getenv(name);
    long out = 0;
    if (v && parse_long(v, 0, max, &out) != 0) {
        log_warn("%s=%s is not a number from 0 to %ld; using 0", name, v, max);
        out = 0;
    }
    return out;
}

int inventory_kafka_start(struct inventory_service *svc, const char *brokers)
{
    struct kc *k = calloc(1, sizeof *k);
    if (!k)
        return -1;
    svc->consumer = k;
    svc->kafka_mode = true;
    k->svc = svc;
    if (event_writer_init(&k->ew) != 0)
        return -1;
    atomic_store(&svc->stream_throttle_ms, env_long("COMMLAB_THROTTLE_MS", STREAM_MAX_THROTTLE_MS));
    atomic_store(&svc->stream_paused, env_long("COMMLAB_PAUSED", 1) == 1);
    if (db_exec(&svc->db, schema) != 0 || db_prepare(&svc->db, sql, ST_COUNT, k->st) != 0)
        return -1;
    const char *txid = getenv("COMMLAB_TRANSACTIONAL_ID");
    char err[KAFKA_ERR_LEN];
    k->producer = kafka_producer_new(brokers, txid && *txid ? txid : "commlab-inventory",
                                     on_delivery, k, err, sizeof err);
    if (!k->producer) {
        log_error("kafka producer: %s", err);
        return -1;
    }
    /* Fences any earlier instance with the same transactional id and
     * aborts the transaction it left open. */
    rd_kafka_error_t *e = rd_kafka_init_transactions(k->producer, TXN_TIMEOUT_MS);
    if (e) {
        log_error("kafka: cannot initialise transactions at %s: %s", brokers,
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    k->consumer = kafka_consumer_new(brokers, GROUP, true, err, sizeof err);
    if (!k->consumer) {
        log_error("kafka consumer: %s", err);
        return -1;
    }
    static const char *const topics[] = {IN_TOPIC};
    if (kafka_subscribe(k->consumer, topics, 1) != 0)
        return -1;
    if (pthread_create(&k->thread, NULL, run, k) != 0) {
        log_error("cannot start the kafka consumer thread");
        return -1;
    }
    k->started = true;
    log_info("kafka: consuming %s as %s, transactional outcomes to %s", IN_TOPIC, GROUP, OUT_TOPIC);
    return 0;
}

void inventory_kafka_stop(struct inventory_service *svc)
{
    struct kc *k = svc->consumer;
    if (!k)
        return;
    if (k->started)
        pthread_join(k->thread, NULL); /* it stops once service_stopping() */
    free_batch(k);
    if (k->consumer) {
        rd_kafka_consumer_close(k->consumer);
        rd_kafka_destroy(k->consumer);
    }
    if (k->producer)
        rd_kafka_destroy(k->producer);
    event_writer_free(&k->ew);
    db_finalize(k->st, ST_COUNT);
    free(k);
    svc->consumer = NULL;
}
