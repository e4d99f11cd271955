/* The analytics consumer: batches from both topics through the shared Kafka
 * loop (transport/kafka_loop.h), each applied in one SQLite transaction, then
 * the positions committed (at least once: the event_id set makes a re-read
 * harmless). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "codec/json_common.h"
#include "util/clock.h"
#include "util/log.h"
#include "runtime/service.h"
#include "transport/kafka_topology.h"
#include "analytics_service.h"

/* Events applied per SQLite transaction at most, and how long a batch may
 * collect: large batches make a rebuild fast, the time cap keeps commits
 * (and so the lag report) moving while throttled. */
#define BATCH_MAX 2000
#define BATCH_MS 200

static const char *const topics[] = {KAFKA_TOPIC_ORDERS, KAFKA_TOPIC_OUTCOMES};

struct batch {
    struct analytics *a;
    size_t n;
    uint64_t verdicts[4]; /* by enum analytics_verdict */
    int sql_err;          /* why the batch failed to store (an SQLite code) */
};

static int apply_batch(void *arg)
{
    struct batch *b = arg;
    memset(b->verdicts, 0, sizeof b->verdicts);
    for (size_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->a->evs[i];
        int v = analytics_add_locked(&b->a->store, ev);
        if (v < 0)
            return -1;
        b->verdicts[v]++;
        b->a->verdicts[i] = (unsigned char)v;
        if (v == ANALYTICS_CONFLICT || v == ANALYTICS_CONTRADICTION) {
            const rd_kafka_message_t *m = b->a->srcs[i];
            log_warn("not counted, %s [%d] offset %lld: %s %s of order %s %s",
                     rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
                     event_type_name(ev->type), ev->event_id, ev->order.order_id,
                     v == ANALYTICS_CONFLICT ? "reuses an event_id counted with other content"
                                             : "contradicts what was counted for the order");
        }
    }
    return 0;
}

/* apply_batch, noting why it failed (db_error_is_transient: nobody's fault,
 * or possibly the data's). */
static int apply_batch_noting(void *arg)
{
    struct batch *b = arg;
    int rc = apply_batch(arg);
    /* Applied, the transaction can still fail to commit: the store's trouble. */
    b->sql_err = rc != 0 ? sqlite3_errcode(b->a->db.h) : SQLITE_IOERR;
    return rc;
}

int analytics_write_metrics_file(struct analytics *a)
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
    /* The page cache is bounded (db_tune_for_batches): this shows it is what
     * fills as the event set grows, not the heap. */
    metrics_gauge(a->metrics, "sqlite_memory_bytes", "Memory SQLite holds (page cache included).",
                  (double)sqlite3_memory_used());
}

/* Commits the consumer's positions: the offset after the last message
 * returned by poll, past transaction markers, so a caught-up group shows lag
 * 0. Only called once everything polled is durably applied. */
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
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET && a->until_end) {
        /* A broker may refuse a commit from outside the group (the mock
         * cluster always does once the group has had members; Kafka while
         * it has some). The rebuilt set holds every event to the end, so
         * the group re-reading from its older offsets only finds duplicates. */
        log_info("until-end: the broker kept the group's offsets (%s); its next member "
                 "reads from there, finding events counted already",
                 rd_kafka_err2str(e));
        return -1;
    }
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        log_warn("offset commit failed (will retry with the next batch): %s", rd_kafka_err2str(e));
        metrics_count(a->metrics, "kafka_commit_failures_total", "Offset commits that failed.", 1);
        return -1;
    }
    return 0;
}

/* Notes m to be dead-lettered with the reason once the batch is stored. */
static void dead_letter(struct analytics *a, const rd_kafka_message_t *m, const char *fmt, ...)
    COMMLAB_PRINTF(3, 4);

static void dead_letter(struct analytics *a, const rd_kafka_message_t *m, const char *fmt, ...)
{
    if (!a->dlq || a->n_dead >= BATCH_MAX)
        return;
    struct analytics_dead *d = &a->dead[a->n_dead++];
    d->m = m;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
}

static void on_dlq_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct analytics *a = opaque;
    if (m->err)
        atomic_fetch_add(&a->dlq_failed, 1);
}

/* The batch's dead letters, after the batch is stored and before its
 * positions are committed (at least once: a crash in between sends them
 * again). A dead-letter topic the broker refuses is counted and logged, and
 * the stream goes on: the events are counted as refused or in conflict
 * already, and a stalled stream would cost every other event. */
static void send_dead_letters(struct analytics *a)
{
    if (!a->n_dead)
        return;
    uint64_t failed0 = atomic_load(&a->dlq_failed), failed = 0;
    for (size_t i = 0; i < a->n_dead; i++)
        if (kafka_dead_letter(a->dlq, KAFKA_TOPIC_ANALYTICS_DLQ, a->dead[i].m, a->dead[i].reason,
                              true) != RD_KAFKA_RESP_ERR_NO_ERROR)
            failed++;
    if (rd_kafka_flush(a->dlq, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        failed = a->n_dead;
    failed += atomic_load(&a->dlq_failed) - failed0;
    if (failed > a->n_dead)
        failed = a->n_dead;
    metrics_count(a->metrics, "analytics_dead_letters_total",
                  "Messages moved to " KAFKA_TOPIC_ANALYTICS_DLQ " with their reason.",
                  a->n_dead - failed);
    metrics_count(a->metrics, "analytics_dead_letter_failures_total",
                  "Dead letters the broker did not take (logged, counted as refused or in "
                  "conflict all the same).",
                  failed);
    if (failed)
        log_error("%llu of %zu dead letters not taken by " KAFKA_TOPIC_ANALYTICS_DLQ,
                  (unsigned long long)failed, a->n_dead);
    a->n_dead = 0;
}

/* The event the loop decoded, into ev; false (counted, logged, dead-lettered)
 * when the message is not an event, or not one its topic carries. */
static bool vet(struct analytics *a, const struct kafka_msg *km, struct event *ev)
{
    const rd_kafka_message_t *m = km->m;
    const char *topic = rd_kafka_topic_name(m->rkt);
    *ev = km->ev;
    if (!km->decoded) {
        metrics_count(a->metrics, "analytics_malformed_total",
                      "Messages that are not valid events (skipped).", 1);
        log_warn("skipping malformed message at %s [%d] offset %lld: %s", topic, (int)m->partition,
                 (long long)m->offset, km->malformed);
        dead_letter(a, m, "malformed: %s", km->malformed);
        return false;
    }
    bool placed = ev->type == EVENT_ORDER_PLACED;
    if (strcmp(topic, placed ? KAFKA_TOPIC_ORDERS : KAFKA_TOPIC_OUTCOMES) != 0) {
        metrics_count(a->metrics, "analytics_refused_total",
                      "Events on a topic that does not carry their type (not counted).", 1);
        log_warn("not counting %s %s at %s [%d] offset %lld: %s carries no such events",
                 event_type_name(ev->type), ev->event_id, topic, (int)m->partition,
                 (long long)m->offset, topic);
        dead_letter(a, m, "refused: %s carries no %s events", topic, event_type_name(ev->type));
        return false;
    }
    return true;
}

/* --until-end: stops once everything up to the end offsets taken at start
 * is applied. */
static bool reached_end(struct analytics *a)
{
    if (!a->until_end || !kafka_reached(a->rk, a->ends, NULL))
        return false;
    if (atomic_exchange(&a->reached, true))
        return true;
    log_info("until-end: every partition read to its end offset at start; stopping");
    worker_request_stop(&a->worker);
    service_exit(); /* main tears down and exits 0 */
    return true;
}

/* --log-events: what became of each event of a committed batch. */
static void log_batch(const struct batch *b)
{
    struct notifier out = log_event_notifier();
    for (size_t i = 0; out.fn && i < b->n; i++) {
        int v = b->a->verdicts[i];
        const char *outcome = v == ANALYTICS_ADDED       ? EVENT_OUTCOME_APPLIED
                              : v == ANALYTICS_DUPLICATE ? EVENT_OUTCOME_DUPLICATE
                                                         : EVENT_OUTCOME_CONFLICT;
        const char *reason =
            v == ANALYTICS_CONFLICT        ? "reuses an event_id counted with other content"
            : v == ANALYTICS_CONTRADICTION ? "contradicts what was counted for the order"
                                           : NULL;
        char line[EVENT_LINE_MAX];
        event_outcome_line(line, outcome, &b->a->evs[i], rd_kafka_topic_name(b->a->srcs[i]->rkt),
                           reason);
        notify(&out, NOTICE_INFO, "%s", line);
    }
}

/* The stored batch's events that were not counted, to the dead-letter topic. */
static void dead_letter_conflicts(struct analytics *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct event *ev = &a->evs[i];
        if (a->verdicts[i] == ANALYTICS_CONFLICT)
            dead_letter(a, a->srcs[i],
                        "conflict: event_id %s reused with other content (%s of order %s)",
                        ev->event_id, event_type_name(ev->type), ev->order.order_id);
        else if (a->verdicts[i] == ANALYTICS_CONTRADICTION)
            dead_letter(a, a->srcs[i],
                        "conflict: %s of order %s contradicts what was counted for it",
                        event_type_name(ev->type), ev->order.order_id);
    }
    send_dead_letters(a);
}

static enum kafka_batch_result on_batch(void *ctx, struct kafka_msg *msgs, size_t n)
{
    struct analytics *a = ctx;
    uint64_t start = clock_mono_us();
    struct batch b = {.a = a, .sql_err = SQLITE_BUSY};
    uint64_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i].m;
        if (msgs[i].tries >= KAFKA_LOOP_MAX_TRIES) {
            log_error("passing %s [%d] offset %lld: it could not be stored in %d tries",
                      rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
                      msgs[i].tries);
            skipped++;
        } else if (vet(a, &msgs[i], &a->evs[b.n])) {
            a->srcs[b.n++] = m;
        }
    }
    if (b.n && db_transact(&a->db, apply_batch_noting, &b) != 0) {
        a->n_dead = 0; /* noted again when the batch is read again */
        log_error("cannot store %zu events; reading them again", b.n);
        metrics_count(a->metrics, "analytics_store_failures_total",
                      "Batches that could not be stored.", 1);
        return db_error_is_transient(b.sql_err) ? KAFKA_BATCH_RETRY : KAFKA_BATCH_FAILED;
    }
    log_batch(&b);
    dead_letter_conflicts(a, b.n);
    if (!a->until_end)
        commit_positions(a); /* a reader commits once, at its end */
    uint64_t now = clock_mono_us();
    unsigned long long zero = 0; /* the type of first_us, whatever uint64_t is */
    atomic_compare_exchange_strong(&a->first_us, &zero, start);
    atomic_store(&a->last_us, now);
    atomic_fetch_add(&a->consumed, n);
    metrics_count(a->metrics, "analytics_events_total", "Distinct events counted.",
                  b.verdicts[ANALYTICS_ADDED]);
    metrics_count(
        a->metrics, "analytics_duplicates_total",
        "Events counted before (the same event_id, or the same kind of event and content for "
        "the order; ignored).",
        b.verdicts[ANALYTICS_DUPLICATE]);
    metrics_count(
        a->metrics, "analytics_conflicts_total",
        "Events reusing an event_id with other content, or contradicting what was counted "
        "for their order: the opposite outcome, another user, items or event time (not "
        "counted).",
        b.verdicts[ANALYTICS_CONFLICT] + b.verdicts[ANALYTICS_CONTRADICTION]);
    metrics_count(a->metrics, "analytics_skipped_total",
                  "Messages passed after failing to be stored in every try.", skipped);
    a->dirty = true;
    if (now - a->last_gauges > 500000) {
        update_gauges(a);
        a->last_gauges = now;
    }
    reached_end(a);
    return KAFKA_BATCH_DONE;
}

static bool on_idle(void *ctx)
{
    struct analytics *a = ctx;
    if (a->dirty && (!a->metrics_file || analytics_write_metrics_file(a) == 0)) {
        update_gauges(a);
        a->dirty = false;
    }
    return reached_end(a);
}

/* Only notes the partition: the batch collected with it is not applied yet. */
static void on_eof(void *ctx, const rd_kafka_message_t *m)
{
    struct analytics *a = ctx;
    kafka_reached(a->rk, a->ends, m);
}

/* The worker: the loop, and for --until-end the process's end when the loop
 * stopped short of it (main then exits 1). */
static void run(struct worker *w, void *arg)
{
    struct analytics *a = arg;
    kafka_loop_run(w, &a->loop);
    if (a->until_end && !atomic_load(&a->reached)) {
        log_error("until-end: stopped before reaching the end of the log");
        service_exit();
    }
}

int analytics_consumer_start(struct analytics *a, const char *brokers, bool until_end,
                             bool from_start)
{
    char err[KAFKA_ERR_LEN];
    a->evs = calloc(BATCH_MAX, sizeof *a->evs);
    a->srcs = calloc(BATCH_MAX, sizeof *a->srcs);
    a->verdicts = calloc(BATCH_MAX, sizeof *a->verdicts);
    a->dead = calloc(BATCH_MAX, sizeof *a->dead);
    if (!a->evs || !a->srcs || !a->verdicts || !a->dead) {
        log_error("out of memory");
        return -1;
    }
    a->dirty = true;
    /* Batches of up to BATCH_MAX events per transaction: see db_tune_for_batches. */
    if (db_tune_for_batches(&a->db) != 0)
        return -1;
    a->until_end = until_end;
    /* A replay to the end reads by assignment, as kcat does: a group join
     * (seconds on the mock cluster) would be most of its time. */
    a->rk = until_end ? kafka_reader_new(brokers, KAFKA_GROUP_ANALYTICS, true, err, sizeof err)
                      : kafka_consumer_new(brokers, KAFKA_GROUP_ANALYTICS, true, err, sizeof err);
    if (!a->rk) {
        log_error("kafka consumer: %s", err);
        return -1;
    }
    if (!until_end) {
        a->dlq = kafka_producer_new(brokers, NULL, on_dlq_delivery, a, err, sizeof err);
        if (!a->dlq) {
            log_error("kafka dead-letter producer: %s", err);
            return -1;
        }
    }
    if (until_end) {
        a->ends = kafka_assign_until_end(a->rk, topics, 2, from_start, 10000, err, sizeof err);
        if (!a->ends) {
            log_error("until-end: %s", err);
            return -1;
        }
    } else if (kafka_subscribe(a->rk, topics, 2, err, sizeof err) != 0) {
        log_error("kafka: %s", err);
        return -1;
    }
    a->loop = (struct kafka_loop){.notice = log_notifier,
                                  .rk = a->rk,
                                  .batch_max = BATCH_MAX,
                                  .batch_ms = BATCH_MS,
                                  .throttle_ms = &a->throttle_ms,
                                  .paused = &a->paused,
                                  .batch = on_batch,
                                  .idle = on_idle,
                                  .eof = until_end ? on_eof : NULL,
                                  .reader = until_end,
                                  .ctx = a};
    if (until_end && a->ends->cnt == 0)
        reached_end(a); /* nothing to read */
    return worker_start(&a->worker, "analytics-kafka", run, a);
}

void analytics_consumer_stop(struct analytics *a)
{
    bool ran = a->worker.running;
    worker_stop(&a->worker);
    if (ran) {
        if (!a->until_end || atomic_load(&a->reached))
            commit_positions(a);
        if (a->metrics_file)
            analytics_write_metrics_file(a);
    }
    if (a->ends)
        rd_kafka_topic_partition_list_destroy(a->ends);
    if (a->rk) {
        rd_kafka_consumer_close(a->rk);
        rd_kafka_destroy(a->rk);
    }
    if (a->dlq) {
        rd_kafka_flush(a->dlq, 5000);
        rd_kafka_destroy(a->dlq);
    }
    free(a->evs);
    free(a->srcs);
    free(a->verdicts);
    free(a->dead);
}
