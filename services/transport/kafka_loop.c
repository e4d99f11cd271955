#include "kafka_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "util/clock.h"

/* A message of a batch that failed, and how often it has. */
struct suspect {
    char topic[128];
    int32_t partition;
    int64_t offset;
    int tries;
};

struct loop_state {
    const struct kafka_source_ops *src;
    void *sctx;
    struct kafka_msg *msgs;
    size_t n;
    struct suspect *sus; /* of the last failed batches; empty: batch mode */
    size_t nsus;
    size_t passed; /* single messages done since the last failure */
};

/* The default source: the consumer itself. */
static rd_kafka_message_t *consumer_poll(void *ctx, int timeout_ms)
{
    return rd_kafka_consumer_poll(ctx, timeout_ms);
}

static void consumer_release(void *ctx, rd_kafka_message_t *m)
{
    (void)ctx;
    rd_kafka_message_destroy(m);
}

static int consumer_seek(void *ctx, rd_kafka_topic_partition_list_t *l, char *err, size_t errlen)
{
    rd_kafka_error_t *e = rd_kafka_seek_partitions(ctx, l, 5000);
    if (e) {
        snprintf(err, errlen, "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].err) {
            snprintf(err, errlen, "%s [%d]: %s", l->elems[i].topic, (int)l->elems[i].partition,
                     rd_kafka_err2str(l->elems[i].err));
            return -1;
        }
    return 0;
}

static int consumer_rewind(void *ctx, int timeout_ms, char *err, size_t errlen)
{
    return kafka_rewind(ctx, timeout_ms, err, errlen);
}

static rd_kafka_topic_partition_list_t *consumer_assignment(void *ctx)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(ctx, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    return a;
}

static void consumer_pause(void *ctx, bool paused)
{
    kafka_pause(ctx, paused);
}

static const struct kafka_source_ops consumer_ops = {
    .poll = consumer_poll,
    .release = consumer_release,
    .seek = consumer_seek,
    .rewind = consumer_rewind,
    .assignment = consumer_assignment,
    .pause = consumer_pause,
};

static struct suspect *find_suspect(struct loop_state *s, const rd_kafka_message_t *m)
{
    const char *t = rd_kafka_topic_name(m->rkt);
    for (size_t i = 0; i < s->nsus; i++)
        if (s->sus[i].partition == m->partition && s->sus[i].offset == m->offset &&
            strcmp(s->sus[i].topic, t) == 0)
            return &s->sus[i];
    return NULL;
}

static void drop_suspect(struct loop_state *s, struct suspect *x)
{
    *x = s->sus[--s->nsus];
}

/* Suspects on partitions a rebalance took away never come back: forget
 * those (the others do come back, in order, after the rewind). */
static void prune_unassigned(struct loop_state *s)
{
    rd_kafka_topic_partition_list_t *a = s->src->assignment(s->sctx);
    if (!a)
        return;
    for (size_t i = 0; i < s->nsus;) {
        if (!rd_kafka_topic_partition_list_find(a, s->sus[i].topic, s->sus[i].partition))
            drop_suspect(s, &s->sus[i]);
        else
            i++;
    }
    rd_kafka_topic_partition_list_destroy(a);
}
/* A batch failed: each of its messages has failed once more. Counts add up
 * across batches, so a message that fails with others around it still
 * reaches the limit. */
static void blame(struct loop_state *s, size_t cap)
{
    for (size_t i = 0; i < s->n; i++) {
        struct suspect *x = find_suspect(s, s->msgs[i].m);
        if (!x && s->nsus < cap) {
            x = &s->sus[s->nsus++];
            snprintf(x->topic, sizeof x->topic, "%s", rd_kafka_topic_name(s->msgs[i].m->rkt));
            x->partition = s->msgs[i].m->partition;
            x->offset = s->msgs[i].m->offset;
            x->tries = 0;
        }
        if (x)
            x->tries++;
    }
}

/* After a failed batch: each partition of the batch back to its first
 * message there. A seek is local to the consumer (no broker, no group
 * coordinator), so it cannot fail the way a lookup of the committed offsets
 * can while the broker is away, and every offset before those is done:
 * batches are committed whole. */
static int rewind_batch(const struct loop_state *s, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->n);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) {
        const rd_kafka_message_t *m = s->msgs[i].m;
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(l, rd_kafka_topic_name(m->rkt), m->partition);
        if (!p) {
            p = rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition);
            p->offset = m->offset;
        } else if (m->offset < p->offset) {
            p->offset = m->offset;
        }
    }
    int rc = s->src->seek(s->sctx, l, err, errlen);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}
static void throttle(struct worker *w, const struct kafka_loop *l)
{
    long ms = atomic_load(l->throttle_ms);
    if (ms > 0)
        worker_sleep(w, ms);
}

static void free_msgs(struct loop_state *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->src->release(s->sctx, s->msgs[i].m);
    s->n = 0;
}

/* The message's value as an event, or why it is not one. */
static void decode(struct kafka_msg *km)
{
    struct field_error err;
    const rd_kafka_message_t *m = km->m;
    km->malformed[0] = '\0';
    km->decoded = event_decode(m->payload ? m->payload : "", m->len, &km->ev, &err) == 0;
    if (!km->decoded)
        snprintf(km->malformed, sizeof km->malformed, "%s%s%s", err.field, err.field[0] ? ": " : "",
                 err.message);
}

/* Collects a batch: up to batch_max messages (one while suspects are left),
 * for batch_ms at most, a single one while throttled. */
static void collect(struct worker *w, struct kafka_loop *l, struct loop_state *s)
{
    size_t max = s->nsus ? 1 : l->batch_max;
    uint64_t start = clock_mono_us();
    while (s->n < max && !worker_stopping(w)) {
        rd_kafka_message_t *m = s->src->poll(s->sctx, s->n ? 0 : 100);
        if (!m)
            break;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                notify(&l->notice, NOTICE_WARN, "consumer: %s", rd_kafka_message_errstr(m));
            else if (l->eof)
                l->eof(l->ctx, m);
            s->src->release(s->sctx, m);
            continue;
        }
        const struct suspect *x = find_suspect(s, m);
        struct kafka_msg *km = &s->msgs[s->n++];
        km->m = m;
        km->tries = x ? x->tries : 0;
        decode(km);
        throttle(w, l);
        if (clock_mono_us() - start > (uint64_t)l->batch_ms * 1000u ||
            atomic_load(l->throttle_ms) > 0)
            break;
    }
}

/* A batch done: its messages are suspects no more, and the suspects of
 * partitions no longer assigned are let go now and then. */
static void batch_done(struct kafka_loop *l, struct loop_state *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct suspect *x = find_suspect(s, s->msgs[i].m);
        if (x)
            drop_suspect(s, x);
    }
    if (s->nsus && ++s->passed > l->batch_max) {
        prune_unassigned(s);
        s->passed = 0;
    }
}

/* After a failed batch: back to its first offsets, or else to the committed
 * ones. Failing both, the loop must not go on past the batch (committing a
 * later one would skip it): false, the loop stops. */
static bool seek_back(struct worker *w, struct kafka_loop *l, struct loop_state *s,
                      struct backoff *bo)
{
    char err[KAFKA_ERR_LEN];
    if (rewind_batch(s, err, sizeof err) == 0)
        return true;
    if (l->reader) {
        notify(&l->notice, NOTICE_ERROR, "cannot seek back to a failed batch (%s); stopping", err);
        return false;
    }
    notify(&l->notice, NOTICE_WARN,
           "cannot seek back to a failed batch (%s); rewinding to the committed offsets", err);
    while (s->src->rewind(s->sctx, 10000, err, sizeof err) != 0 && !worker_stopping(w)) {
        notify(&l->notice, NOTICE_WARN, "cannot rewind after a failed batch: %s; trying again",
               err);
        worker_sleep(w, backoff_next(bo));
    }
    return true;
}

void kafka_loop_run(struct worker *w, void *arg)
{
    struct kafka_loop *l = arg;
    struct loop_state s = {.src = l->source ? l->source : &consumer_ops,
                           .sctx = l->source ? l->source_ctx : l->rk,
                           .msgs = calloc(l->batch_max, sizeof *s.msgs),
                           .sus = calloc(l->batch_max, sizeof *s.sus)};
    if (!s.msgs || !s.sus) {
        notify(&l->notice, NOTICE_ERROR, "kafka consumer: out of memory");
        free(s.msgs);
        free(s.sus);
        return;
    }
    struct backoff bo;
    backoff_init(&bo, 100, 5000);
    bool was_paused = false;
    while (!worker_stopping(w)) {
        bool paused = atomic_load(l->paused);
        if (paused || was_paused)
            s.src->pause(s.sctx, paused); /* again each round: assignments can change */
        was_paused = paused;
        collect(w, l, &s);
        if (s.n == 0) {
            if (l->idle && l->idle(l->ctx))
                break;
            continue;
        }
        enum kafka_batch_result r = l->batch(l->ctx, s.msgs, s.n);
        if (r == KAFKA_BATCH_DONE) {
            batch_done(l, &s);
            backoff_reset(&bo);
            free_msgs(&s);
            continue;
        }
        s.passed = 0;
        if (r == KAFKA_BATCH_FAILED)
            blame(&s, l->batch_max);
        if (r == KAFKA_BATCH_FATAL) {
            free_msgs(&s);
            break;
        }
        atomic_fetch_add(&l->failed_batches, 1);
        bool go_on = seek_back(w, l, &s, &bo);
        free_msgs(&s);
        if (!go_on)
            break;
        worker_sleep(w, backoff_next(&bo));
    }
    free_msgs(&s);
    free(s.msgs);
    free(s.sus);
}

int kafka_rewind(rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(rk, &l);
    if (!e)
        e = rd_kafka_committed(rk, l, timeout_ms);
    int rc = e ? -1 : 0;
    if (e)
        snprintf(err, errlen, "%s", rd_kafka_err2str(e));
    for (int i = 0; rc == 0 && i < l->cnt; i++)
        if (l->elems[i].offset < 0)
            l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    if (rc == 0 && l->cnt > 0) {
        rd_kafka_error_t *se = rd_kafka_seek_partitions(rk, l, timeout_ms);
        if (se) {
            snprintf(err, errlen, "%s", rd_kafka_error_string(se));
            rd_kafka_error_destroy(se);
            rc = -1;
        }
    }
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    return rc;
}
