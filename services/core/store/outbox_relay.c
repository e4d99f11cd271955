#include "outbox_relay.h"

#include <stdlib.h>

#include "util/log.h"

struct settle_job {
    struct outbox_relay *r;
    size_t n;
};

static int settle_job(void *arg)
{
    struct settle_job *j = arg;
    struct outbox_relay *r = j->r;
    if (outbox_mark_sent_locked(r->ob, r->cfg.destination, r->rows[j->n - 1].seq) != 0)
        return -1;
    return r->ops->settle_locked ? r->ops->settle_locked(r->ctx, r->rows, j->n) : 0;
}

#define BACKLOG_HELP "Outbox rows not yet delivered by this relay."

static void gauge_backlog(struct outbox_relay *r)
{
    metrics_gauge(r->m, r->cfg.metric.backlog, BACKLOG_HELP,
                  (double)outbox_backlog(r->ob, r->cfg.destination));
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
    long got = r->ops->deliver(r->ctx, &r->w, r->rows, n);
    size_t done = got > 0 ? (size_t)got : 0;
    /* Only now is each row the far side's responsibility. A crash before the
     * commit delivers them again after restart: a duplicate, never a loss. */
    struct settle_job job = {r, done};
    if (done > 0 && db_transact(r->ob->db, settle_job, &job) != 0)
        log_error("%s: cannot mark %zu rows delivered (they will be delivered again)", r->cfg.name,
                  done);
    metrics_count(r->m, r->cfg.metric.delivered, "Outbox rows delivered by this relay.", done);
    outbox_rows_free(r->rows, n);
    gauge_backlog(r);
    if (done == n) {
        backoff_reset(b);
        return 0;
    }
    metrics_count(r->m, r->cfg.metric.failures,
                  "Outbox rows whose delivery failed (they stay and are retried).", n - done);
    if (got < 0 && r->ops->disconnect) {
        r->ops->disconnect(r->ctx);
        *up = false;
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
    if (!r->rows || worker_start(&r->w, cfg->name, run, r) != 0) {
        free(r->rows);
        r->rows = NULL;
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
    r->rows = NULL;
}
