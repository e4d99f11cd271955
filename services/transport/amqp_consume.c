#include "amqp_consume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "util/worker.h"
#include "amqp_source.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* How long the thread waits for a first message before checking for stop. */
#define POLL_MS 200
/* Pause before requeueing a transient failure, so that a retry is not spent
 * in the same instant as the failure. */
#define RETRY_PAUSE_MS 200
/* Rounds of a batch the store could not take before it is requeued:
 * 0.2 + 0.4 + ... + 3.2 s. */
#define UNAVAILABLE_ROUNDS 5
/* A message is dead-lettered by us after this many failed applies of its
 * own. The broker's delivery limit (AMQP_DELIVERY_LIMIT, higher) counts
 * every return, a link lost with the window included, and is left as the
 * backstop for a message that crashes the process. */
#define APPLY_TRIES 5
/* Messages whose applies failed, remembered at most (the oldest forgotten). */
#define STRIKES_MAX 4096
/* After an undecodable frame, the link after it takes one message at a
 * time for this many messages: a second such frame close behind the first
 * then costs no other message a delivery. */
#define CAREFUL_MESSAGES 64

enum verdict { VERDICT_ACK, VERDICT_DEAD, VERDICT_RETRY };

struct amqp_consumer {
    struct amqp_consumer_opts o;
    char *queue;
    struct worker w;
    struct amqp_source src;
    bool own_src; /* made from o.url: freed with the consumer */
    bool linked;  /* src has a consuming link open */
    struct amqp_msg *msgs;
    enum verdict *verdicts;
    char (*reasons)[AMQP_REASON_MAX];
    struct amqp_item *items;
    bool *failed; /* per item: its retry alone failed too */
    unsigned batch_max;
    /* Failed applies per message (by a digest of its body), kept across
     * links: only these count towards APPLY_TRIES. */
    struct strike {
        uint64_t digest;
        int count;
    } * strikes;
    size_t nstrikes, strike_next;
    unsigned careful;  /* messages left to take one at a time */
    bool link_careful; /* the link was opened with prefetch 1 */
};

static uint64_t digest(const struct amqp_msg *m)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < m->len; i++)
        h = (h ^ (unsigned char)m->body[i]) * 1099511628211ull;
    for (const char *k = m->routing_key; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

static struct strike *find_strike(struct amqp_consumer *c, uint64_t d)
{
    for (size_t i = 0; i < c->nstrikes; i++)
        if (c->strikes[i].digest == d)
            return &c->strikes[i];
    return NULL;
}

/* One more failed apply for the message; how many it has now. */
static int strike(struct amqp_consumer *c, const struct amqp_msg *m)
{
    uint64_t d = digest(m);
    struct strike *s = find_strike(c, d);
    if (!s) {
        if (c->nstrikes < STRIKES_MAX) {
            s = &c->strikes[c->nstrikes++];
        } else {
            s = &c->strikes[c->strike_next];
            c->strike_next = (c->strike_next + 1) % STRIKES_MAX;
        }
        *s = (struct strike){.digest = d};
    }
    return ++s->count;
}

/* The message is settled for good: forget its strikes. */
static void forgive(struct amqp_consumer *c, const struct amqp_msg *m)
{
    if (c->nstrikes == 0)
        return;
    struct strike *s = find_strike(c, digest(m));
    if (s) {
        *s = c->strikes[--c->nstrikes];
        c->strike_next = 0;
    }
}

bool amqp_consumer_sleep(struct amqp_consumer *c, long ms)
{
    return worker_sleep(&c->w, ms);
}

static void count(struct amqp_consumer *c, const char *name, const char *help, uint64_t n)
{
    if (c->o.metrics)
        metrics_count(c->o.metrics, name, help, n);
}

static int connect_link(struct amqp_consumer *c)
{
    char err[256];
    c->link_careful = c->careful > 0;
    unsigned prefetch = c->link_careful ? 1 : c->o.prefetch;
    if (c->src.ops->open(c->src.ctx, c->queue, prefetch, err, sizeof err) != 0) {
        notify(&c->o.notice, NOTICE_WARN, "%s: %s", c->queue, err);
        return -1;
    }
    c->linked = true;
    notify(&c->o.notice, NOTICE_INFO, "consuming %s (prefetch %u)", c->queue, prefetch);
    return 0;
}

static void drop_links(struct amqp_consumer *c)
{
    if (c->linked && !worker_stopping(&c->w))
        notify(&c->o.notice, NOTICE_WARN, "%s: link lost: %s; reconnecting", c->queue,
               c->src.ops->error(c->src.ctx));
    c->src.ops->close(c->src.ctx, true);
    c->linked = false;
}

/* Puts a message in QUEUE.dlq with our reason as a header, confirmed; -1 if
 * that failed (the caller then rejects it, and the broker dead-letters it
 * with x-death reason "rejected" instead of ours). */
static int dead_letter(struct amqp_consumer *c, const struct amqp_msg *m, const char *reason)
{
    if (m->undecodable)
        return -1; /* no body to copy: only the broker can move it */
    char err[256];
    if (c->src.ops->dead_letter(c->src.ctx, c->queue, m, reason, err, sizeof err) == 0)
        return 0;
    if (err[0])
        notify(&c->o.notice, NOTICE_WARN, "%s: dead-letter publish failed: %s", c->queue, err);
    return -1;
}

/* Settles a decided batch. One cumulative ack goes last, up to the last
 * message not nacked (acking a nacked tag is a channel error): every message
 * before it is done durably, dead-lettered by copy, or nacked already. */
static int settle(struct amqp_consumer *c, size_t n)
{
    bool retry_paused = false;
    uint64_t ack_upto = 0;
    for (size_t i = 0; i < n; i++) {
        const struct amqp_msg *m = &c->msgs[i];
        if (c->verdicts[i] == VERDICT_DEAD) {
            notify(&c->o.notice, NOTICE_WARN, "%s: dead-lettering a %zu-byte message: %s", c->queue,
                   m->len, c->reasons[i]);
            if (dead_letter(c, m, c->reasons[i]) == 0)
                ack_upto = m->tag;
            else if (c->src.ops->nack(c->src.ctx, m->tag, false) != 0)
                return -1;
        } else if (c->verdicts[i] == VERDICT_RETRY) {
            if (!retry_paused) {
                worker_sleep(&c->w, RETRY_PAUSE_MS);
                retry_paused = true;
            }
            if (c->src.ops->nack(c->src.ctx, m->tag, true) != 0)
                return -1;
        } else {
            ack_upto = m->tag;
        }
    }
    return ack_upto ? c->src.ops->ack(c->src.ctx, ack_upto) : 0;
}

static void event_line(struct amqp_consumer *c, const char *outcome, const struct event *ev,
                       const char *reason)
{
    if (!c->o.events.fn)
        return;
    char line[EVENT_LINE_MAX];
    event_outcome_line(line, outcome, ev, c->queue, reason);
    notify(&c->o.events, NOTICE_INFO, "%s", line);
}

static void refuse(struct amqp_consumer *c, size_t i, const char *reason)
{
    c->verdicts[i] = VERDICT_DEAD;
    if (reason != c->reasons[i])
        snprintf(c->reasons[i], sizeof c->reasons[i], "%s", reason);
}

/* Sets each message's verdict to ACK, or DEAD when it cannot be applied
 * (refused by the link, or not an accepted event); the rest become the
 * items to apply. Returns how many. */
static size_t vet(struct amqp_consumer *c, size_t n)
{
    size_t k = 0;
    uint64_t dead = 0;
    for (size_t i = 0; i < n; i++) {
        const struct amqp_msg *m = &c->msgs[i];
        c->verdicts[i] = VERDICT_ACK;
        c->reasons[i][0] = '\0';
        if (m->refused[0]) {
            refuse(c, i, m->refused);
            event_line(c, EVENT_OUTCOME_DEAD_LETTER, NULL, c->reasons[i]);
            dead++;
        } else if (!event_accept(m->body, m->len, c->o.accepted, &c->items[k].ev, c->reasons[i],
                                 sizeof c->reasons[i])) {
            refuse(c, i, c->reasons[i]);
            event_line(c, EVENT_OUTCOME_DEAD_LETTER, NULL, c->reasons[i]);
            dead++;
        } else {
            c->items[k].result = AMQP_ITEM_APPLIED;
            c->items[k].reason[0] = '\0';
            c->items[k++].msg = i;
        }
    }
    count(c, "amqp_dead_lettered_total", "Messages refused (malformed, undecodable, wrong type).",
          dead);
    return k;
}

/* Applies items[0..k) in one transaction, each alone when that fails (so
 * one message at fault cannot hold up the others; c->failed says which).
 * The store unavailable (a full disk, an I/O error) is nobody's fault: it
 * is tried again here for a few seconds, well inside the heartbeat timeout,
 * before requeueing, which would count a delivery against every message;
 * *store_busy when it stayed so (AMQP_APPLY_UNAVAILABLE then). */
static enum amqp_apply_rc apply(struct amqp_consumer *c, size_t k, bool *store_busy)
{
    bool *failed = c->failed;
    enum amqp_apply_rc rc;
    struct backoff again;
    backoff_init(&again, 200, 3200);
    *store_busy = false;
    for (int round = 0;; round++) {
        rc = c->o.apply(c->o.ctx, c, c->items, k);
        count(c, "amqp_batches_total", "Batches applied (one transaction each).", 1);
        memset(failed, 0, k * sizeof failed[0]);
        if (rc == AMQP_APPLY_FAILED) {
            for (size_t j = 0; j < k; j++) {
                enum amqp_apply_rc one = c->o.apply(c->o.ctx, c, &c->items[j], 1);
                failed[j] = one != AMQP_APPLY_OK;
                if (one == AMQP_APPLY_UNAVAILABLE || one == AMQP_APPLY_STORE_BUSY)
                    rc = one;
            }
        }
        if (rc != AMQP_APPLY_STORE_BUSY)
            return rc;
        if (round >= UNAVAILABLE_ROUNDS || !worker_sleep(&c->w, backoff_next(&again))) {
            *store_busy = true;
            return AMQP_APPLY_UNAVAILABLE;
        }
    }
}

/* Each applied item's verdict from the apply's outcome (a message that
 * failed too often is dead-lettered), its event line, and the counts. */
static void tally(struct amqp_consumer *c, size_t k, enum amqp_apply_rc rc, bool store_busy)
{
    const bool *failed = c->failed;
    uint64_t applied = 0, dup = 0, conflict = 0, retry = 0, spent = 0;
    for (size_t j = 0; j < k; j++) {
        size_t i = c->items[j].msg;
        /* A failed apply counts against its message; a store that stayed
         * unavailable (store_busy) counts against none. */
        if ((rc == AMQP_APPLY_UNAVAILABLE && !store_busy) || failed[j]) {
            int tries = strike(c, &c->msgs[i]);
            if (tries >= APPLY_TRIES) {
                char why[AMQP_REASON_MAX];
                snprintf(why, sizeof why, "failed %d times: its apply did not succeed", tries);
                refuse(c, i, why);
                forgive(c, &c->msgs[i]);
                spent++;
                continue;
            }
        }
        if (rc == AMQP_APPLY_UNAVAILABLE || failed[j]) {
            c->verdicts[i] = VERDICT_RETRY;
            retry++;
        } else if (c->items[j].result == AMQP_ITEM_CONFLICT) {
            refuse(c, i, c->items[j].reason);
            event_line(c, EVENT_OUTCOME_CONFLICT, &c->items[j].ev, c->items[j].reason);
            conflict++;
        } else if (c->items[j].result == AMQP_ITEM_DUPLICATE) {
            event_line(c, EVENT_OUTCOME_DUPLICATE, &c->items[j].ev, NULL);
            dup++;
        } else {
            event_line(c, EVENT_OUTCOME_APPLIED, &c->items[j].ev, NULL);
            applied++;
        }
        if (c->verdicts[i] != VERDICT_RETRY)
            forgive(c, &c->msgs[i]);
    }
    count(c, "amqp_dead_lettered_total", "Messages refused (malformed, undecodable, wrong type).",
          spent);
    if (c->o.applied_metric)
        count(c, c->o.applied_metric, c->o.applied_help, applied);
    count(c, "amqp_duplicates_total", "Redeliveries or repeats of an event that changed nothing.",
          dup);
    count(c, "amqp_conflicts_total",
          "Events that contradict the state or reuse an event_id with other content "
          "(dead-lettered, not applied).",
          conflict);
    count(c, "amqp_retries_total", "Messages requeued after a transient failure.", retry);
}

/* Vets, applies and decides a batch; false when the consumer is stopping in
 * the middle (nothing is settled then: the broker redelivers it all). */
static bool decide(struct amqp_consumer *c, size_t n)
{
    size_t k = vet(c, n);
    if (k == 0)
        return true;
    bool store_busy;
    enum amqp_apply_rc rc = apply(c, k, &store_busy);
    if (rc == AMQP_APPLY_UNAVAILABLE && worker_stopping(&c->w))
        return false;
    tally(c, k, rc, store_busy);
    return true;
}

static void run(struct worker *w, void *arg)
{
    struct amqp_consumer *c = arg;
    struct backoff b;
    backoff_init(&b, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
    while (!worker_stopping(w)) {
        if (!c->linked && connect_link(c) != 0) {
            worker_sleep(w, backoff_next(&b));
            continue;
        }
        backoff_reset(&b);
        size_t n = 0;
        int r = c->src.ops->next(c->src.ctx, &c->msgs[0], POLL_MS);
        if (r == 1) {
            n = 1;
            /* Whatever else is already here joins the batch: one commit for
             * all. Nothing follows an undecodable message on this link. */
            while (n < c->batch_max && !c->msgs[n - 1].undecodable &&
                   (r = c->src.ops->next(c->src.ctx, &c->msgs[n], 0)) == 1)
                n++;
        }
        bool broken = r < 0 || (n > 0 && c->msgs[n - 1].undecodable);
        if (r < 0 && (n == 0 || !c->msgs[n - 1].undecodable)) {
            /* Unacked messages return to the queue when the link goes. */
            for (size_t i = 0; i < n; i++)
                amqp_msg_free(&c->msgs[i]);
            drop_links(c);
            continue;
        }
        /* An undecodable message ends the batch: what came before it is
         * settled, it is rejected to the dead-letter exchange by tag, and
         * the link (whose input cannot go on) is replaced. */
        int rc = 0;
        if (n > 0)
            rc = decide(c, n) ? settle(c, n) : -1;
        for (size_t i = 0; i < n; i++)
            amqp_msg_free(&c->msgs[i]);
        if (broken) {
            c->careful = CAREFUL_MESSAGES;
        } else if (c->careful > 0) {
            c->careful = c->careful > n ? c->careful - (unsigned)n : 0;
        }
        if (rc == 0 && !broken && c->link_careful && c->careful == 0) {
            /* Careful long enough: everything is settled, so closing this
             * link returns nothing; the next takes the full prefetch. */
            c->src.ops->close(c->src.ctx, false);
            c->linked = false;
        } else if (rc != 0 || broken) {
            drop_links(c);
        }
    }
    drop_links(c);
}

static void free_consumer(struct amqp_consumer *c)
{
    if (c->own_src && c->src.ops)
        c->src.ops->free(c->src.ctx);
    free(c->queue);
    free(c->msgs);
    free(c->verdicts);
    free(c->reasons);
    free(c->items);
    free(c->failed);
    free(c->strikes);
    free(c);
}

struct amqp_consumer *amqp_consumer_start(const struct amqp_consumer_opts *o)
{
    struct amqp_consumer *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = *o;
    if (c->o.prefetch == 0)
        c->o.prefetch = 1;
    if (o->source.ops) {
        c->src = o->source;
    } else if (amqp_source_rabbitmq(o->url, &c->src) == 0) {
        c->own_src = true;
    }
    c->queue = strdup(o->queue);
    c->batch_max = c->o.prefetch > 1 ? c->o.prefetch / 2 : 1;
    c->msgs = calloc(c->batch_max, sizeof c->msgs[0]);
    c->verdicts = calloc(c->batch_max, sizeof c->verdicts[0]);
    c->reasons = calloc(c->batch_max, sizeof c->reasons[0]);
    c->items = calloc(c->batch_max, sizeof c->items[0]);
    c->failed = calloc(c->batch_max, sizeof c->failed[0]);
    c->strikes = calloc(STRIKES_MAX, sizeof c->strikes[0]);
    if (!c->src.ops || !c->queue || !c->msgs || !c->verdicts || !c->reasons || !c->items ||
        !c->failed || !c->strikes || worker_start(&c->w, c->queue, run, c) != 0) {
        free_consumer(c);
        return NULL;
    }
    return c;
}

void amqp_consumer_stop(struct amqp_consumer *c)
{
    if (!c)
        return;
    worker_stop(&c->w);
    free_consumer(c);
}
