#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead_letter_id.h"

/* librdkafka reports from its own threads, for every handle of the process:
 * one notifier for all. */
static struct notifier notice;

void kafka_set_notifier(const struct notifier *n)
{
    notice = *n;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
    if (rd_kafka_conf_set(conf, name, value, err, errlen) != RD_KAFKA_CONF_OK)
        return -1;
    return 0;
}

/* librdkafka's log lines become notices, so they carry the service's prefix. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 4)
        notify(&notice, level <= 3 ? NOTICE_ERROR : NOTICE_WARN, "kafka %s: %s", fac, buf);
}

static rd_kafka_conf_t *conf_new(const char *brokers, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (set(conf, "bootstrap.servers", brokers, err, errlen) != 0 ||
        set(conf, "client.id", "commlab", err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static rd_kafka_t *client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, errlen);
    if (!rk)
        rd_kafka_conf_destroy(conf); /* rd_kafka_new owns it only on success */
    return rk;
}

rd_kafka_t *kafka_producer_new(const char *brokers, const char *transactional_id,
                               void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                               void *opaque, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = conf_new(brokers, err, errlen);
    if (!conf)
        return NULL;
    /* A few ms of linger batches bursts without adding visible latency. */
    if (set(conf, "enable.idempotence", "true", err, errlen) != 0 ||
        set(conf, "acks", "all", err, errlen) != 0 ||
        set(conf, "linger.ms", "5", err, errlen) != 0 ||
        (transactional_id && set(conf, "transactional.id", transactional_id, err, errlen) != 0)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (dr_cb)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    return client_new(RD_KAFKA_PRODUCER, conf, err, errlen);
}

static rd_kafka_t *consumer_new(const char *brokers, const char *group, bool read_committed,
                                bool eof, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = conf_new(brokers, err, errlen);
    if (!conf)
        return NULL;
    if (set(conf, "group.id", group, err, errlen) != 0 ||
        set(conf, "enable.partition.eof", eof ? "true" : "false", err, errlen) != 0 ||
        set(conf, "enable.auto.commit", "false", err, errlen) != 0 ||
        set(conf, "enable.auto.offset.store", "false", err, errlen) != 0 ||
        set(conf, "auto.offset.reset", "earliest", err, errlen) != 0 ||
        set(conf, "isolation.level", read_committed ? "read_committed" : "read_uncommitted", err,
            errlen) != 0 ||
        /* Also the rebalance timeout, and librdkafka gives a JoinGroup
         * request this long (+3 s) to be answered. librdkafka 2.0.2's mock
         * cluster can drop a joining member whose session expires just as
         * the election is due (both at session.timeout.ms), leaving its
         * JoinGroup unanswered: with the default 300 s, an inventory
         * restarted after kill -9 was seen idle for minutes. 30 s bounds
         * that and still outlasts the longest batch (a paused or throttled
         * consumer keeps polling). */
        set(conf, "max.poll.interval.ms", "30000", err, errlen) != 0 ||
        /* A member killed with SIGKILL never says goodbye; the group waits
         * this long before giving its partitions to the restarted process.
         * 6 s is the brokers' default minimum. */
        set(conf, "session.timeout.ms", "6000", err, errlen) != 0 ||
        set(conf, "heartbeat.interval.ms", "1000", err, errlen) != 0 ||
        /* How long a broker may hold a fetch that finds no data. Kafka
         * answers as soon as data arrives, so this only bounds idle
         * fetching there; librdkafka's mock cluster (the local lab's
         * broker) holds it the whole time however soon data arrives, so
         * librdkafka's 500 ms default was added to every hop of the
         * pipeline. 50 ms: 20 empty fetches a second per broker when idle. */
        set(conf, "fetch.wait.max.ms", "50", err, errlen) != 0 ||
        /* What the consumer fetches ahead of its batches: librdkafka's default
         * (64 MiB, and 100,000 messages a partition) held a backlog of 200k
         * events in memory, and the heap kept the pages after. 8 MiB is
         * some 30,000 events, fifteen of the largest batches. */
        set(conf, "queued.max.messages.kbytes", "8192", err, errlen) != 0 ||
        set(conf, "queued.min.messages", "20000", err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (rk)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

rd_kafka_t *kafka_consumer_new(const char *brokers, const char *group, bool read_committed,
                               char *err, size_t errlen)
{
    return consumer_new(brokers, group, read_committed, false, err, errlen);
}

rd_kafka_t *kafka_reader_new(const char *brokers, const char *group, bool read_committed, char *err,
                             size_t errlen)
{
    return consumer_new(brokers, group, read_committed, true, err, errlen);
}

int kafka_subscribe(rd_kafka_t *rk, const char *const *topics, size_t n, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "cannot subscribe: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

void kafka_pause(rd_kafka_t *rk, bool pause)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    if (l->cnt > 0) {
        if (pause)
            rd_kafka_pause_partitions(rk, l);
        else
            rd_kafka_resume_partitions(rk, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

rd_kafka_topic_partition_list_t *kafka_positions(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    if (rd_kafka_position(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(l);
        return NULL;
    }
    return l;
}

void kafka_offset_after(rd_kafka_topic_partition_list_t *l, const rd_kafka_message_t *m)
{
    const char *t = rd_kafka_topic_name(m->rkt);
    rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(l, t, m->partition);
    if (!p)
        p = rd_kafka_topic_partition_list_add(l, t, m->partition);
    if (m->offset + 1 > p->offset)
        p->offset = m->offset + 1;
}

rd_kafka_t *kafka_admin_new(const char *brokers, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = conf_new(brokers, err, errlen);
    return conf ? client_new(RD_KAFKA_PRODUCER, conf, err, errlen) : NULL;
}

int kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (!t)
        return -1;
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rd_kafka_metadata(rk, 0, t, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    return n;
}

/* Every partition of the topics, or NULL with `err`. */
static rd_kafka_topic_partition_list_t *all_partitions(rd_kafka_t *rk, const char *const *topics,
                                                       size_t ntopics, int timeout_ms, char *err,
                                                       size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (size_t i = 0; i < ntopics; i++) {
        int n = kafka_partition_count(rk, topics[i], timeout_ms);
        if (n <= 0) {
            snprintf(err, errlen, "topic %s: no such topic, or no broker answered", topics[i]);
            rd_kafka_topic_partition_list_destroy(l);
            return NULL;
        }
        for (int p = 0; p < n; p++)
            rd_kafka_topic_partition_list_add(l, topics[i], p);
    }
    return l;
}

enum mark { MARK_LOW, MARK_HIGH, MARK_HIGH_NONEMPTY };

/* Every partition of the topics with its low or high watermark as the
 * offset (MARK_HIGH_NONEMPTY: only partitions holding messages); NULL with
 * `err`. */
static rd_kafka_topic_partition_list_t *watermarks(rd_kafka_t *rk, const char *const *topics,
                                                   size_t ntopics, enum mark which, int timeout_ms,
                                                   char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *all =
        all_partitions(rk, topics, ntopics, timeout_ms, err, errlen);
    if (!all)
        return NULL;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(all->cnt);
    for (int i = 0; i < all->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &all->elems[i];
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &lo, &hi, timeout_ms);
        if (e) {
            snprintf(err, errlen, "%s [%d] watermarks: %s", p->topic, (int)p->partition,
                     rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            l = NULL;
            break;
        }
        if (which != MARK_HIGH_NONEMPTY || hi > lo)
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
                which == MARK_LOW ? lo : hi;
    }
    rd_kafka_topic_partition_list_destroy(all);
    return l;
}

/* Waits for the Admin API result of type `type` on q; NULL with `err`. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type, int timeout_ms,
                                    char *err, size_t errlen)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        snprintf(err, errlen, "no answer from the cluster within %d ms", timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_type(ev) != type || rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "%s", rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

/* The partitions of a single-group result, checking group and partition
 * errors; `code` (when not NULL) gets the broker's error code. */
static const rd_kafka_topic_partition_list_t *
group_partitions(const rd_kafka_group_result_t **groups, size_t n, rd_kafka_resp_err_t *code,
                 char *err, size_t errlen)
{
    if (n != 1) {
        snprintf(err, errlen, "expected one group in the answer, got %zu", n);
        return NULL;
    }
    const rd_kafka_error_t *ge = rd_kafka_group_result_error(groups[0]);
    if (ge) {
        if (code)
            *code = rd_kafka_error_code(ge);
        snprintf(err, errlen, "%s", rd_kafka_error_string(ge));
        return NULL;
    }
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(groups[0]);
    for (int i = 0; parts && i < parts->cnt; i++) {
        if (parts->elems[i].err) {
            if (code)
                *code = parts->elems[i].err;
            snprintf(err, errlen, "%s [%d]: %s", parts->elems[i].topic,
                     (int)parts->elems[i].partition, rd_kafka_err2str(parts->elems[i].err));
            return NULL;
        }
    }
    return parts;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                              int timeout_ms)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    char e[128];
    rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, e, sizeof e);
    return o;
}

/* One partition's row: its committed offset (from `committed`, the
 * group's), its watermarks and the lag between; 0 or -1 with `err`. */
static int lag_row(rd_kafka_t *rk, const rd_kafka_topic_partition_t *p,
                   const rd_kafka_topic_partition_list_t *committed, int timeout_ms,
                   struct kafka_lag_row *r, char *err, size_t errlen)
{
    snprintf(r->topic, sizeof r->topic, "%s", p->topic);
    r->partition = p->partition;
    const rd_kafka_topic_partition_t *c = rd_kafka_topic_partition_list_find(
        (rd_kafka_topic_partition_list_t *)committed, r->topic, r->partition);
    r->committed = c && c->offset >= 0 ? c->offset : -1;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        rk, r->topic, r->partition, &r->log_start, &r->log_end, timeout_ms);
    if (e) {
        snprintf(err, errlen, "%s [%d] watermarks: %s", r->topic, (int)r->partition,
                 rd_kafka_err2str(e));
        return -1;
    }
    int64_t from = r->committed >= 0 ? r->committed : r->log_start;
    r->lag = r->log_end > from ? r->log_end - from : 0;
    return 0;
}

int kafka_group_lag(rd_kafka_t *rk, const char *group, const char *const *topics, size_t ntopics,
                    int timeout_ms, struct kafka_lag_row **rows, size_t *nrows, char *err,
                    size_t errlen)
{
    *rows = NULL;
    *nrows = 0;
    rd_kafka_topic_partition_list_t *l =
        all_partitions(rk, topics, ntopics, timeout_ms, err, errlen);
    if (!l)
        return -1;
    int rc = -1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, l);
    rd_kafka_AdminOptions_t *o =
        admin_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, o, q);
    rd_kafka_event_t *ev =
        admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, timeout_ms, err, errlen);
    struct kafka_lag_row *out = calloc((size_t)l->cnt, sizeof *out);
    if (ev && out) {
        size_t ng = 0;
        const rd_kafka_group_result_t **groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &ng);
        const rd_kafka_topic_partition_list_t *parts =
            group_partitions(groups, ng, NULL, err, errlen);
        rc = parts ? 0 : -1;
        for (int i = 0; rc == 0 && i < l->cnt; i++)
            rc = lag_row(rk, &l->elems[i], parts, timeout_ms, &out[i], err, errlen);
    } else if (ev) {
        snprintf(err, errlen, "out of memory");
    }
    if (rc == 0) {
        *rows = out;
        *nrows = (size_t)l->cnt;
    } else {
        free(out);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* The fallback for brokers that refuse AlterConsumerGroupOffsets from a
 * non-member once a group has had members (librdkafka's mock cluster answers
 * UNKNOWN_MEMBER_ID): join the group as its only member, wait until every
 * partition is ours, commit the offsets, leave. Only right while no other
 * consumer of the group runs, which is the rule for a reset anyway. */
static int reset_as_member(const char *brokers, const char *group, const char *const *topics,
                           size_t ntopics, const rd_kafka_topic_partition_list_t *want,
                           int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_t *c = kafka_consumer_new(brokers, group, false, err, errlen);
    if (!c)
        return -1;
    int rc = -1;
    if (kafka_subscribe(c, topics, ntopics, err, errlen) == 0) {
        for (int waited = 0; waited < timeout_ms * 3; waited += 100) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
            if (m)
                rd_kafka_message_destroy(m);
            rd_kafka_topic_partition_list_t *a = NULL;
            int have = rd_kafka_assignment(c, &a) == 0 ? a->cnt : 0;
            if (a)
                rd_kafka_topic_partition_list_destroy(a);
            if (have == want->cnt) {
                rc = 0;
                break;
            }
        }
        if (rc != 0) {
            snprintf(err, errlen,
                     "could not take over every partition of the group (is a "
                     "consumer of it still running?)");
        } else {
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(want);
            rd_kafka_resp_err_t e = rd_kafka_commit(c, l, 0);
            rd_kafka_topic_partition_list_destroy(l);
            if (e) {
                snprintf(err, errlen, "commit: %s", rd_kafka_err2str(e));
                rc = -1;
            }
        }
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return rc;
}

int kafka_group_reset(const char *brokers, rd_kafka_t *rk, const char *group,
                      const char *const *topics, size_t ntopics, bool to_latest, int timeout_ms,
                      char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l =
        watermarks(rk, topics, ntopics, to_latest ? MARK_HIGH : MARK_LOW, timeout_ms, err, errlen);
    if (!l)
        return -1;
    int rc = -1;
    rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AlterConsumerGroupOffsets_t *req = rd_kafka_AlterConsumerGroupOffsets_new(group, l);
    rd_kafka_AdminOptions_t *o =
        admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout_ms);
    rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, o, q);
    rd_kafka_event_t *ev =
        admin_wait(q, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, timeout_ms, err, errlen);
    if (ev) {
        size_t ng = 0;
        const rd_kafka_group_result_t **groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &ng);
        rc = group_partitions(groups, ng, &code, err, errlen) ? 0 : -1;
        rd_kafka_event_destroy(ev);
    }
    if (rc != 0 && code == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
        rc = reset_as_member(brokers, group, topics, ntopics, l, timeout_ms, err, errlen);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

int kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t ntopics, int partitions,
                        int replication, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_NewTopic_t **nt = calloc(ntopics, sizeof *nt);
    if (!nt) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < ntopics; i++) {
        nt[i] = rd_kafka_NewTopic_new(topics[i], partitions, replication, err, errlen);
        if (!nt[i])
            rc = -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
    if (rc == 0) {
        rd_kafka_CreateTopics(rk, nt, ntopics, o, q);
        ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, timeout_ms, err, errlen);
        rc = ev ? 0 : -1;
    }
    if (ev) {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(err, errlen, "%s: %s", rd_kafka_topic_result_name(res[i]),
                         rd_kafka_topic_result_error_string(res[i]));
                rc = -1;
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    for (size_t i = 0; i < ntopics; i++)
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
    free(nt);
    return rc;
}

rd_kafka_topic_partition_list_t *kafka_end_offsets(rd_kafka_t *rk, const char *const *topics,
                                                   size_t ntopics, int timeout_ms, char *err,
                                                   size_t errlen)
{
    return watermarks(rk, topics, ntopics, MARK_HIGH_NONEMPTY, timeout_ms, err, errlen);
}

rd_kafka_topic_partition_list_t *kafka_assign_until_end(rd_kafka_t *rk, const char *const *topics,
                                                        size_t ntopics, bool from_start,
                                                        int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *ends =
        kafka_end_offsets(rk, topics, ntopics, timeout_ms, err, errlen);
    if (!ends)
        return NULL;
    rd_kafka_topic_partition_list_t *from = rd_kafka_topic_partition_list_copy(ends);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (from_start) {
        for (int i = 0; i < from->cnt; i++)
            from->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    } else {
        /* OffsetFetch needs no membership, so the group is asked, not joined. */
        e = rd_kafka_committed(rk, from, timeout_ms);
        for (int i = 0; !e && i < from->cnt; i++) {
            if (from->elems[i].err)
                e = from->elems[i].err;
            else if (from->elems[i].offset < 0)
                from->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    /* Where the reader starts at or past the end there is nothing to wait for. */
    for (int i = from->cnt - 1; !e && i >= 0; i--)
        if (from->elems[i].offset >= ends->elems[i].offset) {
            rd_kafka_topic_partition_list_del_by_idx(ends, i);
            rd_kafka_topic_partition_list_del_by_idx(from, i);
        }
    if (!e)
        e = rd_kafka_assign(rk, from);
    rd_kafka_topic_partition_list_destroy(from);
    if (e) {
        snprintf(err, errlen, "cannot assign the partitions: %s", rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(ends);
        return NULL;
    }
    return ends;
}

bool kafka_reached(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *ends,
                   const rd_kafka_message_t *eof)
{
    if (eof && eof->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        int i = 0;
        while (i < ends->cnt && (ends->elems[i].partition != eof->partition ||
                                 strcmp(ends->elems[i].topic, rd_kafka_topic_name(eof->rkt)) != 0))
            i++;
        if (i < ends->cnt && eof->offset >= ends->elems[i].offset)
            rd_kafka_topic_partition_list_del_by_idx(ends, i);
    }
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_copy(ends);
    if (rd_kafka_position(rk, pos) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = pos->cnt - 1; i >= 0; i--)
            if (pos->elems[i].offset >= ends->elems[i].offset)
                rd_kafka_topic_partition_list_del_by_idx(ends, i);
    rd_kafka_topic_partition_list_destroy(pos);
    return ends->cnt == 0;
}

/* Bytes as lower-case hex into `out` (2 * n + 1 bytes). */
static void hex(const void *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* `s` as the inside of a JSON string: quotes, backslashes and control
 * characters escaped, anything else as is (the caller's text is ours). */
static void json_text(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

rd_kafka_resp_err_t kafka_dead_letter(rd_kafka_t *producer, const char *topic,
                                      const rd_kafka_message_t *m, const char *reason, bool copy)
{
    const char *src = rd_kafka_topic_name(m->rkt);
    char part[16], off[24];
    snprintf(part, sizeof part, "%d", (int)m->partition);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    /* A record is known in its topic by partition and offset: the same record
     * handed over again (a crash before the commit) gives the same id, and
     * two records never share one, even with equal keys and values. */
    char at[48], id[DEAD_LETTER_ID_LEN + 1];
    int at_len = snprintf(at, sizeof at, "%s/%s", part, off);
    dead_letter_id(src, at, (size_t)at_len, id);
    copy = copy && m->key_len + m->len <= KAFKA_DEAD_LETTER_COPY_MAX;
    char coords[1024];
    const void *key = m->key, *value = m->payload;
    size_t key_len = m->key_len, len = m->len;
    if (!copy) {
        char why[256], kx[2 * KAFKA_DEAD_LETTER_HEAD + 1], vx[2 * KAFKA_DEAD_LETTER_HEAD + 1];
        json_text(reason, why, sizeof why);
        hex(m->key, m->key_len < KAFKA_DEAD_LETTER_HEAD ? m->key_len : KAFKA_DEAD_LETTER_HEAD, kx);
        hex(m->payload, m->len < KAFKA_DEAD_LETTER_HEAD ? m->len : KAFKA_DEAD_LETTER_HEAD, vx);
        int n = snprintf(coords, sizeof coords,
                         "{\"topic\":\"%s\",\"partition\":%s,\"offset\":%s,\"key_size\":%zu,"
                         "\"key_first_bytes\":\"%s\",\"size\":%zu,\"first_bytes\":\"%s\","
                         "\"reason\":\"%s\"}",
                         src, part, off, m->key_len, kx, m->len, vx, why);
        value = coords;
        len = n < (int)sizeof coords ? (size_t)n : sizeof coords - 1;
        key_len = key_len < KAFKA_DEAD_LETTER_HEAD ? key_len : KAFKA_DEAD_LETTER_HEAD;
    }
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, key_len),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADER("dead_letter_reason", reason, -1),
            RD_KAFKA_V_HEADER("dead_letter_copy", copy ? "whole" : "coordinates", -1),
            RD_KAFKA_V_HEADER("source_topic", src, -1),
            RD_KAFKA_V_HEADER("source_partition", part, -1),
            RD_KAFKA_V_HEADER("source_offset", off, -1),
            RD_KAFKA_V_HEADER(DEAD_LETTER_ID_HEADER, id, -1), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return e;
        rd_kafka_poll(producer, 10);
    }
}

bool kafka_error_is_message(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return true;
    default:
        return false;
    }
}
