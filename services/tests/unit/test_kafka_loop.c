/* The Kafka batch loop without a broker: its messages come from a log held
 * in memory (kafka_loop.h's source), two partitions of one topic, and the
 * batch callback plays a service that applies a batch and commits its
 * offsets as one, as the consumers do. What must hold: no offset is
 * committed past a message not applied (or set aside); every message is
 * applied once; a poison message is handed back with its tries counted,
 * set aside at KAFKA_LOOP_MAX_TRIES and the partition goes on; a batch that
 * fails through nobody's fault counts against no message; each message comes
 * decoded (a value that is no event, with why). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/event_json.h"
#include "transport/kafka_loop.h"
#include "check.h"

#define PARTS 2
#define LEN 40
#define POISON_PART 0
#define POISON_OFFSET 7
/* A message whose value is no event: the loop hands it over undecoded. */
#define MALFORMED_PART 1
#define MALFORMED_OFFSET 3

static char *event_text; /* every other message's value */

struct log {
    rd_kafka_topic_t *topic;
    int64_t pos[PARTS];       /* the next offset polled */
    int64_t committed[PARTS]; /* by the service */
    int next_part;            /* round robin */
    int seeks, rewinds;
};

/* The service's side. */
struct svc {
    struct log *log;
    int applied[PARTS][LEN];
    int dead[PARTS][LEN];
    int poison_tries[KAFKA_LOOP_MAX_TRIES + 2]; /* batches it was handed in, by tries */
    int max_other_tries;                        /* of every other message */
    int batches, retries_left, log_seeks;
    int violations; /* commits past a message neither applied nor set aside */
    int misdecoded; /* messages the loop decoded other than they are */
    bool with_poison;
    atomic_bool finished;
};

static bool poison(const struct svc *v, const rd_kafka_message_t *m)
{
    return v->with_poison && m->partition == POISON_PART && m->offset == POISON_OFFSET;
}

static rd_kafka_message_t *log_poll(void *ctx, int timeout_ms)
{
    (void)timeout_ms;
    struct log *g = ctx;
    for (int k = 0; k < PARTS; k++) {
        int p = (g->next_part + k) % PARTS;
        if (g->pos[p] < LEN) {
            g->next_part = (p + 1) % PARTS;
            rd_kafka_message_t *m = calloc(1, sizeof *m);
            m->rkt = g->topic;
            m->partition = p;
            m->offset = g->pos[p]++;
            bool bad = p == MALFORMED_PART && m->offset == MALFORMED_OFFSET;
            m->payload = bad ? "{\"type\":" : event_text;
            m->len = strlen(m->payload);
            return m;
        }
    }
    return NULL;
}

static void log_release(void *ctx, rd_kafka_message_t *m)
{
    (void)ctx;
    free(m);
}

static int log_seek(void *ctx, rd_kafka_topic_partition_list_t *l, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    struct log *g = ctx;
    for (int i = 0; i < l->cnt; i++)
        g->pos[l->elems[i].partition] = l->elems[i].offset;
    g->seeks++;
    return 0;
}

static int log_rewind(void *ctx, int timeout_ms, char *err, size_t errlen)
{
    (void)timeout_ms, (void)err, (void)errlen;
    struct log *g = ctx;
    memcpy(g->pos, g->committed, sizeof g->pos);
    g->rewinds++;
    return 0;
}

static rd_kafka_topic_partition_list_t *log_assignment(void *ctx)
{
    struct log *g = ctx;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTS);
    for (int p = 0; p < PARTS; p++)
        rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(g->topic), p);
    return l;
}

static void log_pause(void *ctx, bool paused)
{
    (void)ctx, (void)paused;
}

/* In the order of struct kafka_source_ops. */
static const struct kafka_source_ops log_ops = {log_poll,   log_release,    log_seek,
                                                log_rewind, log_assignment, log_pause};

/* Commits the offset after each partition's last message of the batch,
 * checking first that everything before it is done. */
static void commit(struct svc *v, struct kafka_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i].m;
        int64_t *c = &v->log->committed[m->partition];
        if (m->offset + 1 <= *c)
            continue;
        for (int64_t o = 0; o <= m->offset; o++)
            if (v->applied[m->partition][o] + v->dead[m->partition][o] != 1)
                v->violations++;
        *c = m->offset + 1;
    }
}

/* A batch is all or nothing: a poison message fails the whole batch until
 * its tries are spent, then it is set aside (dead-lettered) with the rest
 * applied. The first `retries_left` batches fail for the broker's sake. */
static enum kafka_batch_result on_batch(void *ctx, struct kafka_msg *msgs, size_t n)
{
    struct svc *v = ctx;
    v->batches++;
    if (v->retries_left > 0) {
        v->retries_left--;
        return KAFKA_BATCH_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i].m;
        bool bad = m->partition == MALFORMED_PART && m->offset == MALFORMED_OFFSET;
        if (bad ? msgs[i].decoded || !msgs[i].malformed[0]
                : !msgs[i].decoded || strcmp(msgs[i].ev.order.order_id, "o1") != 0)
            v->misdecoded++;
    }
    for (size_t i = 0; i < n; i++) {
        if (poison(v, msgs[i].m)) {
            v->poison_tries[msgs[i].tries < KAFKA_LOOP_MAX_TRIES + 1 ? msgs[i].tries
                                                                     : KAFKA_LOOP_MAX_TRIES + 1]++;
            if (msgs[i].tries < KAFKA_LOOP_MAX_TRIES)
                return KAFKA_BATCH_FAILED;
        } else if (msgs[i].tries > v->max_other_tries) {
            v->max_other_tries = msgs[i].tries;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i].m;
        if (poison(v, m))
            v->dead[m->partition][m->offset]++;
        else
            v->applied[m->partition][m->offset]++;
    }
    commit(v, msgs, n);
    return KAFKA_BATCH_DONE;
}

/* Ends the loop once every partition is committed to its end. */
static bool idle(void *ctx)
{
    struct svc *v = ctx;
    for (int p = 0; p < PARTS; p++)
        if (v->log->committed[p] < LEN)
            return false;
    atomic_store(&v->finished, true);
    return true;
}

static void run(struct svc *v, rd_kafka_topic_t *topic)
{
    struct log g = {.topic = topic};
    v->log = &g;
    atomic_long throttle = 0;
    atomic_bool paused = false;
    struct kafka_loop l = {
        .source = &log_ops,
        .source_ctx = &g,
        .batch_max = 8,
        .batch_ms = 50,
        .throttle_ms = &throttle,
        .paused = &paused,
        .batch = on_batch,
        .idle = idle,
        .ctx = v,
    };
    struct worker w;
    CHECK(worker_start(&w, "test-loop", kafka_loop_run, &l) == 0);
    for (int i = 0; i < 3000 && !atomic_load(&v->finished); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    worker_stop(&w);
    CHECK(atomic_load(&v->finished));
    CHECK(v->violations == 0);
    CHECK(v->misdecoded == 0);
    for (int p = 0; p < PARTS; p++)
        for (int o = 0; o < LEN; o++) {
            bool bad = v->with_poison && p == POISON_PART && o == POISON_OFFSET;
            CHECK(v->applied[p][o] == (bad ? 0 : 1));
            CHECK(v->dead[p][o] == (bad ? 1 : 0));
        }
    v->log_seeks = g.seeks;
    v->log = NULL;
}

/* The poison message: failed batches hand it back with tries 0, 1, 2 (alone
 * after the first), then at KAFKA_LOOP_MAX_TRIES it is set aside; its
 * neighbours in the first failed batch carry one try at the most, and are
 * applied, never set aside. */
static void test_poison(rd_kafka_topic_t *topic)
{
    struct svc v = {.with_poison = true};
    run(&v, topic);
    for (int t = 0; t <= KAFKA_LOOP_MAX_TRIES; t++)
        CHECK(v.poison_tries[t] == 1);
    CHECK(v.poison_tries[KAFKA_LOOP_MAX_TRIES + 1] == 0);
    CHECK(v.max_other_tries == 1);
    CHECK(v.log_seeks >= KAFKA_LOOP_MAX_TRIES);
}

/* Batches that fail through nobody's fault (the broker away) are read again
 * and count against no message. */
static void test_retry(rd_kafka_topic_t *topic)
{
    struct svc v = {.retries_left = 3};
    run(&v, topic);
    CHECK(v.max_other_tries == 0);
    CHECK(v.log_seeks == 3);
}

int main(void)
{
    /* A client that never connects: it only names the topic of the
     * messages (rd_kafka_topic_name). */
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CHECK(rk != NULL);
    rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, "order-events", NULL);
    struct order o = {
        .order_id = "o1", .user_id = "u1", .occurred_at = 1700000000000, .n_items = 1};
    o.items[0] = (struct order_item){0, 1};
    struct event ev;
    event_from_order(&ev, EVENT_ORDER_PLACED, &o, NULL);
    event_text = event_encode(&ev);
    test_poison(topic);
    test_retry(topic);
    rd_kafka_topic_destroy(topic);
    free(event_text);
    rd_kafka_destroy(rk);
    return check_summary("test_kafka_loop");
}
