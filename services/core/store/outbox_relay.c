#include "outbox_relay.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

/* Rows refused for now wait this long, doubling with each refusal, up to the
 * relay's backoff_max_ms. */
#define DEFER_MIN_MS 250

struct settle_job {
    struct outbox_relay *r;
    size_t n;
    size_t done; /* filled: rows delivered */
};

static int64_t defer_until(const struct outbox_relay *r, int attempts)
{
    int64_t ms = DEFER_MIN_MS;
    for (int i = 0; i < attempts && ms < r->cfg.backoff_max_ms; i++)
        ms *= 2;
    if (ms > r->cfg.backoff_max_ms)
        ms = r->cfg.backoff_max_ms;
    return clock_wall_ms() + ms;
}

static int settle_job(void *arg)
{
    struct settle_job *j = arg;
    struct outbox_relay *r = j->r;
    j->done = 0;
    for (size_t i = 0; i < j->n; i++) {
        struct outbox_row *row = &r->rows[i];
        int rc = 0;
        switch (row->fate) {
        case OUTBOX_DELIVERED:
            rc = outbox_mark_row_sent_locked(r->ob, row->seq);
            r->done[j->done++] = *row; /* shares the strings: freed with rows */
            break;
        case OUTBOX_REFUSED:
            rc = outbox_set_aside_locked(r->ob, row->seq, row->why);
            break;
        case OUTBOX_DEFERRED:
            rc = outbox_defer_locked(r->ob, row->seq, defer_until(r, row->attempts));
            break;
        case OUTBOX_NOT_TRIED:
            break;
        }
        if (rc != 0)
            return -1;
    }
    if (j->done > 0 && r->ops->settle_locked)
        return r->ops->settle_locked(r->ctx, r->done, j->done);
    return 0;
}

#define BACKLOG_HELP "Outbox rows not yet delivered by this relay."
#define DEAD_HELP                                                                                  \
    "Outbox rows refused for good by the far side, set aside (see /dump: outbox_dead)."

static void gauge_backlog(struct outbox_relay *r)
{
    metrics_gauge(r->m, r->cfg.metric.backlog, BACKLOG_HELP,
                  (double)outbox_backlog(r->ob, r->cfg.destination));
    metrics_gauge(r->m, r->cfg.metric.dead, DEAD_HELP,
                  (double)outbox_dead_letters(r->ob, r->cfg.destination));
}

bool outbox_row_held(const struct outbox_row *rows, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (rows[j].fate != OUTBOX_DELIVERED && rows[j].fate != OUTBOX_REFUSED &&
            strcmp(rows[j].key, rows[i].key) == 0)
            return true;
    return false;
}

/* One round: read, deliver, mark. The delay before the next round. */
static long round_trip(struct outbox_relay *r, struct backoff *b, bool *up)
{
    size_t n = 0;
    if (outbox_pending(r->ob, r->cfg.destination, r->rows, r->cfg.batch, &n) != 0) {
        log_error("%s: cannot read the outbox; retrying", r->cfg.name);
        return backoff_next(b);
    }
    if (n == 0) {
        metrics_gauge(r->m, r->cfg.metric.backlog, BACKLOG_HELP, 0);
        backoff_reset(b);
        if (!r->ops->idle)
            return r->cfg.idle_ms;
        if (r->ops->idle(r->ctx, r->cfg.idle_ms) != 0) {
            r->ops->disconnect(r->ctx);
            *up = false;
        }
        return 0;
    }
    int rc = r->ops->deliver(r->ctx, &r->w, r->rows, n);
    size_t delivered = 0, refused = 0, deferred = 0;
    for (size_t i = 0; i < n; i++) {
        const struct outbox_row *row = &r->rows[i];
        delivered += row->fate == OUTBOX_DELIVERED;
        refused += row->fate == OUTBOX_REFUSED;
        deferred += row->fate == OUTBOX_DEFERRED;
        if (row->fate == OUTBOX_REFUSED || row->fate == OUTBOX_DEFERRED)
            log_warn("%s: row %lld (%s, key %s) refused %s (attempt %d): %s", r->cfg.name,
                     (long long)row->seq, row->destination, row->key,
                     row->fate == OUTBOX_REFUSED ? "for good, set aside" : "for now, retried later",
                     row->attempts + 1, row->why);
    }
    /* Only now is each row the far side's responsibility. A crash before the
     * commit delivers them again after restart: a duplicate, never a loss. */
    struct settle_job job = {r, n, 0};
    if (delivered + refused + deferred > 0 && db_transact(r->ob->db, settle_job, &job) != 0) {
        log_error("%s: cannot record a round of %zu rows (they will be delivered again)",
                  r->cfg.name, n);
        delivered = 0;
    }
    metrics_count(r->m, r->cfg.metric.delivered, "Outbox rows delivered by this relay.", delivered);
    metrics_count(r->m, r->cfg.metric.refused,
                  "Outbox rows the far side refused (for good: set aside; for now: retried later).",
                  refused + deferred);
    outbox_rows_free(r->rows, n);
    gauge_backlog(r);
    if (n - delivered - refused > 0)
        metrics_count(r->m, r->cfg.metric.failures,
                      "Outbox rows whose delivery failed (they stay and are retried).",
                      n - delivered - refused);
    if (rc < 0) {
        if (r->ops->disconnect) {
            r->ops->disconnect(r->ctx);
            *up = false;
        }
        return backoff_next(b);
    }
    /* Progress, or rows that now wait out a backoff of their own: go on with
     * the others at once. Nothing done at all: the far side is failing. */
    if (delivered + refused + deferred > 0) {
        backoff_reset(b);
        return 0;
    }
    return backoff_next(b);
}

static void run(struct worker *w, void *arg)
{
    struct outbox_relay *r = arg;
    struct backoff b;
    backoff_init(&b, r->cfg.backoff_min_ms, r->cfg.backoff_max_ms);
    bool up = !r->ops->connect;
    long wait_ms = 0;
    while (worker_sleep(w, wait_ms)) {
        if (!up) {
            if (r->ops->connect(r->ctx) != 0) {
                gauge_backlog(r);
                wait_ms = backoff_next(&b);
                continue;
            }
            up = true;
        }
        wait_ms = round_trip(r, &b, &up);
    }
    if (up && r->ops->disconnect)
        r->ops->disconnect(r->ctx);
}

int outbox_relay_start(struct outbox_relay *r, const struct outbox_relay_config *cfg,
                       const struct outbox_relay_ops *ops, void *ctx, struct outbox *ob,
                       struct metrics *m)
{
    r->cfg = *cfg;
    r->ops = ops;
    r->ctx = ctx;
    r->ob = ob;
    r->m = m;
    r->rows = calloc(cfg->batch, sizeof *r->rows);
    r->done = calloc(cfg->batch, sizeof *r->done);
    if (!r->rows || !r->done || worker_start(&r->w, cfg->name, run, r) != 0) {
        free(r->rows);
        free(r->done);
        r->rows = r->done = NULL;
        return -1;
    }
    return 0;
}

void outbox_relay_kick(struct outbox_relay *r)
{
    worker_kick(&r->w);
}

void outbox_relay_stop(struct outbox_relay *r)
{
    worker_stop(&r->w);
    free(r->rows);
    free(r->done);
    r->rows = r->done = NULL;
}
