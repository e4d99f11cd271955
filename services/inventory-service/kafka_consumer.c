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
 * No message stalls the partition (transport/kafka_loop.h): a dead letter
 * too large to copy goes as its coordinates, a batch that fails is re-read
 * one message at a time, and a message that failed KAFKA_LOOP_MAX_TRIES
 * times is dead-lettered (as its coordinates once even that failed), never
 * retried for ever. An event_id seen before with another order_id is a
 * conflict: dead-lettered, counted, not applied. A dead letter never leaves a
 * committed effect behind: an OrderPlaced that failed its tries (a
 * reservation may have been committed by one of them, its outcome never)
 * has its reservation released and InventoryFailed ("dead_lettered") sent
 * in the transaction that dead-letters it; that outcome is retried, with
 * backoff, until it is committed.
 *
 * Startup settings: --throttle-ms, --paused, --transactional-id (see
 * main.c). At run time: POST /configure {"throttle_ms":N,"paused":bool}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "codec/event_writer.h"
#include "util/log.h"
#include "runtime/service.h"
#include "transport/kafka.h"
#include "transport/kafka_loop.h"
#include "transport/kafka_topology.h"
#include "inventory_service.h"

#define BATCH_MAX 1000
#define BATCH_MS 100
#define TXN_TIMEOUT_MS 30000
/* The InventoryFailed reason of an order whose message was dead-lettered. */
#define WITHDRAWN_REASON "dead_lettered"

enum { ST_FIND, ST_ADD, ST_EVENT_FIND, ST_EVENT_ADD, ST_COUNT };

static const char schema[] = "CREATE TABLE IF NOT EXISTS kafka_outcomes("
                             " order_id TEXT PRIMARY KEY, src_partition INTEGER NOT NULL,"
                             " src_offset INTEGER NOT NULL) WITHOUT ROWID;"
                             "CREATE TABLE IF NOT EXISTS kafka_events("
                             " event_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, digest INTEGER)"
                             " WITHOUT ROWID;";
static const char *const sql[] = {
    [ST_FIND] = "SELECT src_partition, src_offset FROM kafka_outcomes WHERE order_id=?",
    [ST_ADD] = "INSERT INTO kafka_outcomes(order_id,src_partition,src_offset) VALUES(?,?,?)"
               " ON CONFLICT(order_id) DO NOTHING",
    [ST_EVENT_FIND] = "SELECT order_id, digest FROM kafka_events WHERE event_id=?",
    [ST_EVENT_ADD] = "INSERT INTO kafka_events(event_id,order_id,digest) VALUES(?,?,?)"
                     " ON CONFLICT(event_id) DO NOTHING",
};

/* What to do with one input message. */
enum action { ACT_EMIT, ACT_DUPLICATE, ACT_DEAD_LETTER, ACT_SKIP };

struct item {
    rd_kafka_message_t *m;
    int tries;
    enum action act;
    bool conflict;
    /* An OrderPlaced set aside after its tries: an earlier try may have
     * committed its reservation, so it is released and, when this message
     * owns the order's outcome, InventoryFailed goes out with the dead
     * letter (`withdrawn`). Otherwise the stock would stay held with no
     * outcome that anyone downstream sees. */
    bool undo, withdrawn;
    struct event ev;            /* the input, then the outcome to emit */
    char in_id[ID_MAX_LEN + 1]; /* the input's event_id (--log-events) */
    bool decoded;               /* ev holds the input (an event, maybe of another type) */
    char reason[200];           /* dead letter: why */
};

struct inventory_kafka {
    struct inventory_service *svc;
    int sql_err; /* why the last batch failed to store (an SQLite code) */
    rd_kafka_t *consumer, *producer;
    sqlite3_stmt *st[ST_COUNT];
    struct worker worker;
    struct kafka_loop loop;
    struct item items[BATCH_MAX];
    size_t n;
    struct event_writer ew; /* the outcomes' JSON, on the consumer thread */
    /* Delivery reports of the open transaction whose error is the message's own. */
    atomic_int message_errors;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct inventory_kafka *k = opaque;
    if (m->err) {
        /* The transaction commit fails too and the batch is retried; this
         * says whether a message of it is why. */
        if (kafka_error_is_message(m->err))
            atomic_fetch_add(&k->message_errors, 1);
        log_warn("delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
                 rd_kafka_err2str(m->err));
    }
}

/* 1 when this (partition, offset) is the one that owns the outcome of
 * order_id (recording it if nobody owned it yet), 0 when another message
 * did, -1 on error. */
static int owns_outcome(struct inventory_kafka *k, const char *order_id, int32_t part, int64_t off)
{
    /* Insert first: new order_ids are the common case, and this is one
     * b-tree descent for them instead of a lookup and then an insert. */
    sqlite3_stmt *st = db_reset(k->st[ST_ADD]);
    if (db_bind_text(st, 1, order_id) != 0)
        return -1;
    sqlite3_bind_int(st, 2, part);
    sqlite3_bind_int64(st, 3, off);
    if (db_step_done(&k->svc->db, st) != 0)
        return -1;
    if (sqlite3_changes(k->svc->db.h) == 1)
        return 1;
    st = db_reset(k->st[ST_FIND]);
    if (db_bind_text(st, 1, order_id) != 0)
        return -1;
    int rc = sqlite3_step(st);
    int owner = -1;
    if (rc == SQLITE_ROW)
        owner = sqlite3_column_int(st, 0) == part && sqlite3_column_int64(st, 1) == off;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? owner : -1;
}

/* 1 when the event's id is new or was this event's (a duplicate is the same
 * event_id, type, order_id and content, event_digest; inventory takes one
 * type), 0 when it was another order's (a conflict: `other` says whose), 2
 * when it was this order's with other content (a conflict too; rows from
 * before the digest have none and are told apart by order), -1 on error. */
static int event_fits(struct inventory_kafka *k, const struct event *ev, char other[ID_MAX_LEN + 1])
{
    /* Insert first, as in owns_outcome. */
    sqlite3_stmt *st = db_reset(k->st[ST_EVENT_ADD]);
    sqlite3_int64 digest = (sqlite3_int64)event_digest(ev);
    if (db_bind_text(st, 1, ev->event_id) != 0 || db_bind_text(st, 2, ev->order.order_id) != 0 ||
        sqlite3_bind_int64(st, 3, digest) != SQLITE_OK)
        return -1;
    if (db_step_done(&k->svc->db, st) != 0)
        return -1;
    if (sqlite3_changes(k->svc->db.h) == 1)
        return 1;
    st = db_reset(k->st[ST_EVENT_FIND]);
    if (db_bind_text(st, 1, ev->event_id) != 0)
        return -1;
    int rc = sqlite3_step(st);
    bool same_body = true;
    if (rc == SQLITE_ROW) {
        snprintf(other, ID_MAX_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        same_body =
            sqlite3_column_type(st, 1) == SQLITE_NULL || sqlite3_column_int64(st, 1) == digest;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return -1;
    if (strcmp(other, ev->order.order_id) != 0)
        return 0;
    return same_body ? 1 : 2;
}

/* The undo of a message set aside (see struct item): -1 on error. When the
 * store refuses the undo itself for this order (a constraint, a trigger:
 * what may have made it fail its tries), no try of it can have committed
 * either, the reservation and the record of its outcome being one
 * transaction: nothing to undo, and the dead letter goes alone. */
static int withdraw(struct inventory_kafka *k, struct item *it)
{
    enum release_outcome ro;
    int own = owns_outcome(k, it->ev.order.order_id, it->m->partition, it->m->offset);
    if (own == 0)
        return 0; /* another message carries this order's outcome */
    if (own < 0 || stock_release_locked(&k->svc->stock, it->ev.order.order_id, &ro) != 0) {
        if (db_error_is_transient(sqlite3_errcode(k->svc->db.h)))
            return -1;
        log_warn("order %s: the store refuses its undo (%s); dead-lettering it alone",
                 it->ev.order.order_id, sqlite3_errmsg(k->svc->db.h));
        return 0;
    }
    struct order o = it->ev.order;
    event_from_order(&it->ev, EVENT_INVENTORY_FAILED, &o, WITHDRAWN_REASON);
    it->withdrawn = true;
    return 0;
}

static int apply_batch(void *arg)
{
    struct inventory_kafka *k = arg;
    for (size_t i = 0; i < k->n; i++) {
        struct item *it = &k->items[i];
        it->withdrawn = false;
        if (it->undo && withdraw(k, it) != 0)
            return -1;
        if (it->act != ACT_EMIT)
            continue;
        char other[ID_MAX_LEN + 1];
        int fits = event_fits(k, &it->ev, other);
        if (fits < 0)
            return -1;
        if (fits != 1) {
            if (fits == 2)
                snprintf(it->reason, sizeof it->reason,
                         "conflict: event_id %s was order %s's with other content", it->ev.event_id,
                         other);
            else
                snprintf(it->reason, sizeof it->reason,
                         "conflict: event_id %s was order %s's, not %s's", it->ev.event_id, other,
                         it->ev.order.order_id);
            it->act = ACT_DEAD_LETTER;
            it->conflict = true;
            continue;
        }
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

/* apply_batch, noting why it failed: a refusal of the data (a constraint, a
 * trigger, a failure of ours) may be one message's fault; a full disk or an
 * I/O error is nobody's, and must not use up the messages' tries. */
static int apply_batch_noting(void *arg)
{
    struct inventory_kafka *k = arg;
    int rc = apply_batch(arg);
    /* Applied, the transaction can still fail to commit: the store's trouble. */
    k->sql_err = rc != 0 ? sqlite3_errcode(k->svc->db.h) : SQLITE_IOERR;
    return rc;
}

/* Sorts the message into an action, from the event the loop decoded. */
static void classify(struct item *it, const struct kafka_msg *km)
{
    bool placed = km->decoded && km->ev.type == EVENT_ORDER_PLACED;
    it->ev = km->ev;
    it->conflict = false;
    it->decoded = false;
    it->undo = false;
    if (it->tries >= KAFKA_LOOP_MAX_TRIES) {
        it->undo = placed;
        if (it->undo)
            memcpy(it->in_id, it->ev.event_id, sizeof it->in_id);
        it->decoded = it->undo;
    }
    if (it->tries > KAFKA_LOOP_MAX_TRIES) {
        /* Even its coordinates could not be dead-lettered. */
        it->act = ACT_SKIP;
    } else if (it->tries == KAFKA_LOOP_MAX_TRIES) {
        snprintf(it->reason, sizeof it->reason, "failed %d times in a transaction",
                 KAFKA_LOOP_MAX_TRIES);
        it->act = ACT_DEAD_LETTER;
    } else if (!km->decoded) {
        snprintf(it->reason, sizeof it->reason, "malformed: %s", km->malformed);
        it->act = ACT_DEAD_LETTER;
    } else if (it->ev.type != EVENT_ORDER_PLACED) {
        snprintf(it->reason, sizeof it->reason, "unexpected event type %s on " KAFKA_TOPIC_ORDERS,
                 event_type_name(it->ev.type));
        it->act = ACT_DEAD_LETTER;
        it->decoded = true;
    } else {
        it->act = ACT_EMIT;
        it->decoded = true;
        memcpy(it->in_id, it->ev.event_id, sizeof it->in_id);
    }
}

static rd_kafka_resp_err_t produce_outcome(struct inventory_kafka *k, const struct event *ev)
{
    char body[EVENT_TEXT_MAX];
    int len = event_writer_encode(&k->ew, ev, body, sizeof body);
    if (len < 0)
        return RD_KAFKA_RESP_ERR__FAIL; /* out of memory: abort and retry */
    for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(KAFKA_TOPIC_OUTCOMES),
                              RD_KAFKA_V_KEY(ev->order.order_id, strlen(ev->order.order_id)),
                              RD_KAFKA_V_VALUE(body, (size_t)len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return e;
        rd_kafka_poll(k->producer, 10);
    }
}

/* A dead letter: the copy while the message has not failed before, its
 * coordinates once it has (or when the copy is refused at once). */
static rd_kafka_resp_err_t produce_dead_letter(struct inventory_kafka *k, const struct item *it)
{
    bool copy = it->tries < KAFKA_LOOP_MAX_TRIES;
    rd_kafka_resp_err_t e =
        kafka_dead_letter(k->producer, KAFKA_TOPIC_ORDERS_DLQ, it->m, it->reason, copy);
    if (e && copy && kafka_error_is_message(e))
        e = kafka_dead_letter(k->producer, KAFKA_TOPIC_ORDERS_DLQ, it->m, it->reason, false);
    return e;
}

/* The next offset to read on each partition the batch touched. */
static rd_kafka_topic_partition_list_t *batch_offsets(struct inventory_kafka *k)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < k->n; i++)
        kafka_offset_after(l, k->items[i].m);
    return l;
}

/* The same offsets again with a plain commit, once the transaction has
 * committed them. On a real broker this rewrites equal values; it is here
 * because librdkafka's mock cluster (the local lab's broker) acknowledges
 * TxnOffsetCommit without storing it, so without this the group would show
 * no progress and a restart would read from the start. A failure only
 * means a restart re-reads a batch, which the reservation records absorb. */
static void plain_commit(struct inventory_kafka *k)
{
    rd_kafka_topic_partition_list_t *offs = batch_offsets(k);
    rd_kafka_resp_err_t e = rd_kafka_commit(k->consumer, offs, 0);
    if (e)
        log_warn("plain offset commit after the transaction failed: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(offs);
}

/* Produces what each message of the batch emits, inside the transaction;
 * false at the first that cannot be (*message_error: through a fault of
 * the message's own). */
static bool produce_batch(struct inventory_kafka *k, bool *message_error)
{
    for (size_t i = 0; i < k->n; i++) {
        struct item *it = &k->items[i];
        rd_kafka_resp_err_t pe = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (it->act == ACT_EMIT)
            pe = produce_outcome(k, &it->ev);
        else if (it->act == ACT_DEAD_LETTER)
            pe = produce_dead_letter(k, it);
        if (!pe && it->withdrawn)
            pe = produce_outcome(k, &it->ev);
        if (pe) {
            *message_error = kafka_error_is_message(pe);
            log_warn("cannot produce in the transaction (%s [%d] offset %lld): %s",
                     rd_kafka_topic_name(it->m->rkt), (int)it->m->partition,
                     (long long)it->m->offset, rd_kafka_err2str(pe));
            return false;
        }
    }
    return true;
}

/* Runs the Kafka side of a batch: DONE, FAILED (aborted, a message's own
 * error), RETRY (aborted, the broker's), FATAL (this producer is fenced or
 * broken: the process must stop). */
static enum kafka_batch_result kafka_txn(struct inventory_kafka *k)
{
    atomic_store(&k->message_errors, 0);
    bool message_error = false;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(k->producer);
    if (e)
        goto failed;
    if (!produce_batch(k, &message_error))
        goto abort;
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
            return KAFKA_BATCH_DONE;
        }
        if (!rd_kafka_error_is_retriable(e) || tries >= 3)
            goto failed;
        rd_kafka_error_destroy(e);
    }
failed:
    if (rd_kafka_error_is_fatal(e)) {
        log_error("kafka transaction: fatal: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return KAFKA_BATCH_FATAL;
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
            return KAFKA_BATCH_FATAL;
    }
    metrics_count(k->svc->metrics, "kafka_txn_aborts_total",
                  "Kafka transactions aborted (their batch is processed again).", 1);
    return message_error || atomic_load(&k->message_errors) > 0 ? KAFKA_BATCH_FAILED
                                                                : KAFKA_BATCH_RETRY;
}

/* --log-events: what became of each message of a committed batch. */
static void log_batch(const struct inventory_kafka *k)
{
    struct notifier out = log_event_notifier();
    for (size_t i = 0; out.fn && i < k->n; i++) {
        const struct item *it = &k->items[i];
        char line[EVENT_LINE_MAX];
        if (it->act == ACT_EMIT) {
            struct event in = {.type = EVENT_ORDER_PLACED};
            memcpy(in.event_id, it->in_id, sizeof in.event_id);
            memcpy(in.order.order_id, it->ev.order.order_id, sizeof in.order.order_id);
            event_outcome_line(line, EVENT_OUTCOME_APPLIED, &in, KAFKA_TOPIC_ORDERS, NULL);
        } else if (it->act == ACT_DUPLICATE) {
            event_outcome_line(line, EVENT_OUTCOME_DUPLICATE, &it->ev, KAFKA_TOPIC_ORDERS, NULL);
        } else if (it->act == ACT_DEAD_LETTER && it->withdrawn) {
            /* ev is now the InventoryFailed that went out with it. */
            struct event in = {.type = EVENT_ORDER_PLACED};
            memcpy(in.event_id, it->in_id, sizeof in.event_id);
            memcpy(in.order.order_id, it->ev.order.order_id, sizeof in.order.order_id);
            event_outcome_line(line, EVENT_OUTCOME_DEAD_LETTER, &in, KAFKA_TOPIC_ORDERS,
                               it->reason);
        } else if (it->act == ACT_DEAD_LETTER) {
            event_outcome_line(line,
                               it->conflict ? EVENT_OUTCOME_CONFLICT : EVENT_OUTCOME_DEAD_LETTER,
                               it->decoded ? &it->ev : NULL, KAFKA_TOPIC_ORDERS, it->reason);
        } else {
            continue;
        }
        notify(&out, NOTICE_INFO, "%s", line);
    }
}

static void count_batch(struct inventory_kafka *k)
{
    uint64_t res = 0, fail = 0, dup = 0, dlq = 0, conflicts = 0, skipped = 0, withdrawn = 0;
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
        else if (it->act == ACT_SKIP)
            skipped++;
        conflicts += it->conflict;
        withdrawn += it->withdrawn;
    }
    struct metrics *mx = k->svc->metrics;
    metrics_count(mx, "kafka_txn_commits_total", "Kafka transactions committed.", 1);
    metrics_count(mx, "kafka_reserved_total", "InventoryReserved events committed.", res);
    metrics_count(mx, "kafka_refused_total", "InventoryFailed events committed.", fail);
    metrics_count(mx, "kafka_duplicates_total",
                  "OrderPlaced messages whose order_id had its outcome already (no output).", dup);
    metrics_count(mx, "kafka_dead_letters_total",
                  "Messages moved to " KAFKA_TOPIC_ORDERS_DLQ " in a transaction.", dlq);
    metrics_count(mx, "kafka_conflicts_total",
                  "OrderPlaced reusing another order's event_id (dead-lettered, not applied).",
                  conflicts);
    metrics_count(mx, "kafka_withdrawn_total",
                  "Orders whose message was set aside after its tries: reservation released, "
                  "InventoryFailed sent.",
                  withdrawn);
    metrics_count(mx, "kafka_skipped_total",
                  "Messages whose dead letter could not be produced either (logged, passed).",
                  skipped);
}

static enum kafka_batch_result on_batch(void *ctx, struct kafka_msg *msgs, size_t n)
{
    struct inventory_kafka *k = ctx;
    k->n = n;
    for (size_t i = 0; i < n; i++) {
        struct item *it = &k->items[i];
        it->m = msgs[i].m;
        it->tries = msgs[i].tries;
        classify(it, &msgs[i]);
        if (it->act == ACT_SKIP)
            log_error("passing %s [%d] offset %lld: not even its coordinates could be "
                      "dead-lettered in %d tries",
                      rd_kafka_topic_name(it->m->rkt), (int)it->m->partition,
                      (long long)it->m->offset, it->tries);
    }
    k->sql_err = SQLITE_BUSY; /* stays so if the transaction cannot begin */
    if (db_transact(&k->svc->db, apply_batch_noting, k) != 0) {
        log_error("cannot store a batch of %zu reservations; reading it again", n);
        metrics_count(k->svc->metrics, "kafka_store_failures_total",
                      "Batches SQLite could not store.", 1);
        return db_error_is_transient(k->sql_err) ? KAFKA_BATCH_RETRY : KAFKA_BATCH_FAILED;
    }
    enum kafka_batch_result r = kafka_txn(k);
    if (r == KAFKA_BATCH_DONE) {
        count_batch(k);
        log_batch(k);
    }
    if (r == KAFKA_BATCH_FATAL) {
        /* Fenced by a newer instance, or the producer is broken: this
         * process cannot go on. /healthz says so, and the process stops
         * with exit status 1 for its supervisor to restart it
         * (Restart=on-failure in the NixOS module). */
        atomic_store(&k->svc->stream_failed, true);
        log_error("kafka: the transactional producer cannot go on; stopping (exit 1)");
        service_exit();
    }
    return r;
}

int inventory_kafka_start(struct inventory_service *svc, const char *brokers,
                          const struct inventory_kafka_options *o)
{
    struct inventory_kafka *k = calloc(1, sizeof *k);
    if (!k)
        return -1;
    svc->kafka = k;
    k->svc = svc;
    if (event_writer_init(&k->ew) != 0)
        return -1;
    atomic_store(&svc->stream_throttle_ms, o->throttle_ms);
    atomic_store(&svc->stream_paused, o->paused);
    /* Batches of up to BATCH_MAX events per transaction: see db_tune_for_batches. */
    if (db_tune_for_batches(&svc->db) != 0)
        return -1;
    if (db_exec(&svc->db, schema) != 0 ||
        db_add_column(&svc->db, "kafka_events", "digest", "INTEGER") != 0 ||
        db_prepare(&svc->db, sql, ST_COUNT, k->st) != 0)
        return -1;
    char err[KAFKA_ERR_LEN];
    k->producer = kafka_producer_new(brokers, o->transactional_id, on_delivery, k, err, sizeof err);
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
    k->consumer = kafka_consumer_new(brokers, KAFKA_GROUP_INVENTORY, true, err, sizeof err);
    if (!k->consumer) {
        log_error("kafka consumer: %s", err);
        return -1;
    }
    static const char *const topics[] = {KAFKA_TOPIC_ORDERS};
    if (kafka_subscribe(k->consumer, topics, 1, err, sizeof err) != 0) {
        log_error("kafka: %s", err);
        return -1;
    }
    k->loop = (struct kafka_loop){.notice = log_notifier,
                                  .rk = k->consumer,
                                  .batch_max = BATCH_MAX,
                                  .batch_ms = BATCH_MS,
                                  .throttle_ms = &svc->stream_throttle_ms,
                                  .paused = &svc->stream_paused,
                                  .batch = on_batch,
                                  .ctx = k};
    if (worker_start(&k->worker, "inventory-kafka", kafka_loop_run, &k->loop) != 0)
        return -1;
    log_info("kafka: consuming " KAFKA_TOPIC_ORDERS " as " KAFKA_GROUP_INVENTORY
             ", transactional outcomes to " KAFKA_TOPIC_OUTCOMES);
    return 0;
}

void inventory_kafka_stop(struct inventory_service *svc)
{
    struct inventory_kafka *k = svc->kafka;
    if (!k)
        return;
    worker_stop(&k->worker);
    if (k->consumer) {
        rd_kafka_consumer_close(k->consumer);
        rd_kafka_destroy(k->consumer);
    }
    if (k->producer)
        rd_kafka_destroy(k->producer);
    event_writer_free(&k->ew);
    db_finalize(k->st, ST_COUNT);
    free(k);
    svc->kafka = NULL;
}
