#include "follow.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/order.h"
#include "util/clock.h"
#include "util/worker.h"
#include "transport/http_client.h"
#include "transport/kafka.h"

/* One order: when its 202 came and when its outcome was seen (0: not yet). */
struct entry {
    char id[ID_MAX_LEN + 1];
    uint64_t accepted_us, final_us;
};

struct follower {
    struct worker w;
    pthread_mutex_t mu;
    _Atomic uint64_t deadline_us; /* set by follower_finish */
    bool kafka;
    char url[1024];
    /* http: orders not final yet (added by the load threads, taken by the
     * follower); the follower records into `hist` itself. */
    struct entry *pending;
    size_t n_pending, cap_pending;
    struct histogram hist;
    uint64_t followed;
    /* kafka: every order id seen on either side, open addressing. An outcome
     * may in principle be read before its 202 is handled, so both sides fill
     * the same entry. */
    struct entry *table;
    size_t table_cap;
    rd_kafka_t *consumer;
};

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The entry for `id` (created empty if absent); NULL when the table is full. */
static struct entry *table_slot(struct follower *f, const char *id)
{
    size_t mask = f->table_cap - 1;
    for (size_t i = (size_t)hash_id(id) & mask, k = 0; k < f->table_cap; i = (i + 1) & mask, k++) {
        struct entry *e = &f->table[i];
        if (e->id[0] == '\0') {
            snprintf(e->id, sizeof e->id, "%s", id);
            return e;
        }
        if (strcmp(e->id, id) == 0)
            return e;
    }
    return NULL;
}

void follower_add(struct follower *f, const char *order_id, uint64_t accepted_us)
{
    pthread_mutex_lock(&f->mu);
    f->followed++;
    if (f->kafka) {
        struct entry *e = table_slot(f, order_id);
        if (e)
            e->accepted_us = accepted_us;
    } else {
        if (f->n_pending == f->cap_pending) {
            size_t cap = f->cap_pending ? 2 * f->cap_pending : 256;
            struct entry *p = realloc(f->pending, cap * sizeof *p);
            if (p) {
                f->pending = p;
                f->cap_pending = cap;
            }
        }
        if (f->n_pending < f->cap_pending) {
            struct entry *e = &f->pending[f->n_pending++];
            snprintf(e->id, sizeof e->id, "%s", order_id);
            e->accepted_us = accepted_us;
            e->final_us = 0;
        }
    }
    pthread_mutex_unlock(&f->mu);
}

static bool finished(struct follower *f, bool idle)
{
    return worker_stopping(&f->w) && (idle || clock_mono_us() > atomic_load(&f->deadline_us));
}

/* 1 when the order has an outcome, 0 not yet, -1 cannot tell. */
static int http_final(struct follower *f, const char *id)
{
    char url[1200];
    snprintf(url, sizeof url, "%s/orders/%s", f->url, id);
    struct http_result r;
    if (http_call("GET", url, NULL, NULL, 0, 5000, &r) != 0)
        return -1;
    int out = -1;
    if (r.failure == HTTP_ANSWERED && r.status == 200) {
        cJSON *j = cJSON_Parse(r.body);
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
        out = st ? strcmp(st, "accepted") != 0 && strcmp(st, "pending") != 0 : -1;
        cJSON_Delete(j);
    }
    http_result_free(&r);
    return out;
}

static void http_loop(struct worker *w, void *arg)
{
    (void)w;
    struct follower *f = arg;
    struct entry *mine = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        if (n + f->n_pending > cap) {
            size_t want = 2 * (n + f->n_pending);
            struct entry *p = realloc(mine, want * sizeof *p);
            if (p) {
                mine = p;
                cap = want;
            }
        }
        if (n + f->n_pending <= cap) {
            memcpy(mine + n, f->pending, f->n_pending * sizeof *mine);
            n += f->n_pending;
            f->n_pending = 0;
        }
        pthread_mutex_unlock(&f->mu);
        if (finished(f, n == 0))
            break;
        for (size_t i = 0; i < n;) {
            if (http_final(f, mine[i].id) == 1) {
                histogram_record(&f->hist, clock_mono_us() - mine[i].accepted_us);
                mine[i] = mine[--n];
            } else {
                i++;
            }
        }
        clock_sleep_us(1000);
    }
    pthread_mutex_lock(&f->mu);
    f->n_pending += n; /* what never finished */
    pthread_mutex_unlock(&f->mu);
    free(mine);
}

static void kafka_loop(struct worker *w, void *arg)
{
    (void)w;
    struct follower *f = arg;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(f->consumer, 10);
        if (m && !m->err && m->key && m->key_len <= ID_MAX_LEN) {
            uint64_t now = clock_mono_us();
            char id[ID_MAX_LEN + 1];
            snprintf(id, sizeof id, "%.*s", (int)m->key_len, (const char *)m->key);
            pthread_mutex_lock(&f->mu);
            struct entry *e = table_slot(f, id);
            if (e && e->final_us == 0)
                e->final_us = now;
            pthread_mutex_unlock(&f->mu);
        }
        if (m)
            rd_kafka_message_destroy(m);
        else if (finished(f, false))
            break;
        if (m || !worker_stopping(&f->w))
            continue;
        /* Stopping and idle: done once every followed order has its outcome. */
        bool all = true;
        pthread_mutex_lock(&f->mu);
        for (size_t i = 0; i < f->table_cap && all; i++)
            if (f->table[i].accepted_us && !f->table[i].final_us)
                all = false;
        pthread_mutex_unlock(&f->mu);
        if (all)
            break;
    }
}

/* Assigns every partition of `topic` at its current end: outcomes of this
 * run only, and no group join to wait for. */
static int kafka_open(struct follower *f, const char *brokers, const char *topic)
{
    char err[KAFKA_ERR_LEN], group[64];
    snprintf(group, sizeof group, "loadgen-follow-%ld", (long)getpid());
    /* A client of its own rather than the services' consumer settings: an
     * observer must not add latency of its own. librdkafka's mock broker
     * holds an empty fetch for all of fetch.wait.max.ms (default 500 ms)
     * even when data arrives meanwhile, so an outcome could be seen up to
     * 500 ms late; 5 ms costs only idle fetches. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const settings[][2] = {
        {"bootstrap.servers", brokers},  {"group.id", group},
        {"enable.auto.commit", "false"}, {"isolation.level", "read_committed"},
        {"fetch.wait.max.ms", "5"},      {"log_level", "3"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "loadgen: --follow kafka: %s\n", err);
            rd_kafka_conf_destroy(conf);
            return -1;
        }
    }
    f->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!f->consumer) {
        fprintf(stderr, "loadgen: --follow kafka: %s\n", err);
        rd_kafka_conf_destroy(conf); /* rd_kafka_new owns it only on success */
        return -1;
    }
    rd_kafka_poll_set_consumer(f->consumer);
    int parts = kafka_partition_count(f->consumer, topic, 10000);
    if (parts <= 0) {
        fprintf(stderr, "loadgen: --follow kafka: no topic %s on %s\n", topic, brokers);
        return -1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    int rc = 0;
    for (int p = 0; p < parts && rc == 0; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(f->consumer, topic, p, &lo, &hi, 10000) != 0)
            rc = -1;
        else
            rd_kafka_topic_partition_list_add(l, topic, p)->offset = hi;
    }
    if (rc == 0 && rd_kafka_assign(f->consumer, l) != 0)
        rc = -1;
    rd_kafka_topic_partition_list_destroy(l);
    if (rc != 0)
        fprintf(stderr, "loadgen: --follow kafka: cannot read the end of %s\n", topic);
    return rc;
}

static void follower_free(struct follower *f)
{
    if (f->consumer) {
        rd_kafka_consumer_close(f->consumer);
        rd_kafka_destroy(f->consumer);
    }
    histogram_free(&f->hist);
    pthread_mutex_destroy(&f->mu);
    free(f->pending);
    free(f->table);
    free(f);
}

struct follower *follower_start(const char *kind, const char *where, const char *topic,
                                uint64_t expected)
{
    struct follower *f = calloc(1, sizeof *f);
    if (!f || histogram_init(&f->hist) != 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        free(f);
        return NULL;
    }
    pthread_mutex_init(&f->mu, NULL);
    atomic_init(&f->deadline_us, UINT64_MAX);
    f->kafka = strcmp(kind, "kafka") == 0;
    snprintf(f->url, sizeof f->url, "%s", where);
    if (f->kafka) {
        f->table_cap = 1024;
        while (f->table_cap < 2 * expected + 1024)
            f->table_cap *= 2;
        f->table = calloc(f->table_cap, sizeof *f->table);
        if (!f->table || kafka_open(f, where, topic) != 0) {
            follower_free(f);
            return NULL;
        }
    }
    if (worker_start(&f->w, "follow", f->kafka ? kafka_loop : http_loop, f) != 0) {
        follower_free(f);
        return NULL;
    }
    return f;
}

struct follow_result follower_finish(struct follower *f, long timeout_ms, struct histogram *out)
{
    atomic_store(&f->deadline_us, clock_mono_us() + (uint64_t)timeout_ms * 1000);
    worker_stop(&f->w);
    struct follow_result r = {.followed = f->followed};
    if (f->kafka) {
        for (size_t i = 0; i < f->table_cap; i++) {
            const struct entry *e = &f->table[i];
            if (!e->accepted_us)
                continue;
            if (e->final_us)
                histogram_record(out,
                                 e->final_us > e->accepted_us ? e->final_us - e->accepted_us : 0);
            else
                r.unfinished++;
        }
    } else {
        histogram_merge(out, &f->hist);
        r.unfinished = f->n_pending;
    }
    follower_free(f);
    return r;
}
