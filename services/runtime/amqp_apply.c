#include "amqp_apply.h"

#include <stdlib.h>

#include "util/log.h"

struct apply_job {
    struct db *db;
    int sql_err; /* why the job failed (an SQLite code) */
    struct seen_store *seen;
    amqp_apply_one_fn fn;
    void *ctx;
    struct amqp_item *items;
    size_t n;
};

/* No savepoint per message: SQLite copies every page a savepoint touches
 * into its statement journal, which made per-message savepoints cost more
 * than the work. A failure undoes the whole call; the consumer then retries
 * one item per call, so one bad message cannot hold up the others. */
static int apply_items(struct apply_job *j)
{
    for (size_t k = 0; k < j->n; k++) {
        struct amqp_item *it = &j->items[k];
        switch (seen_claim_locked(j->seen, &it->ev, it->reason, sizeof it->reason)) {
        case SEEN_NEW: {
            it->result = AMQP_ITEM_APPLIED;
            int rc = j->fn(j->ctx, it);
            if (rc == AMQP_APPLY_ONE_FOREIGN)
                rc = seen_forget_locked(j->seen, it->ev.event_id);
            if (rc != 0)
                return -1;
            break;
        }
        case SEEN_DUPLICATE: /* its effects exist already */
            it->result = AMQP_ITEM_DUPLICATE;
            break;
        case SEEN_CONFLICT: /* nothing recorded, nothing applied */
            it->result = AMQP_ITEM_CONFLICT;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

static int apply_job(void *arg)
{
    struct apply_job *j = arg;
    int rc = apply_items(j);
    /* Applied, the transaction can still fail to commit: the store's trouble. */
    j->sql_err = rc != 0 ? sqlite3_errcode(j->db->h) : SQLITE_IOERR;
    return rc;
}

enum amqp_apply_rc amqp_apply_each(struct db *db, struct seen_store *seen, amqp_apply_one_fn fn,
                                   void *ctx, struct amqp_item *items, size_t n)
{
    /* SQLITE_BUSY stays if the transaction cannot begin. */
    struct apply_job j = {db, SQLITE_BUSY, seen, fn, ctx, items, n};
    if (db_transact(db, apply_job, &j) == 0)
        return AMQP_APPLY_OK;
    /* A full disk or an I/O error is not the messages' fault: they must not
     * use up their deliveries on it. */
    return db_error_is_transient(j.sql_err) ? AMQP_APPLY_STORE_BUSY : AMQP_APPLY_FAILED;
}

struct amqp_applier {
    struct amqp_applier_opts o;
    struct seen_store seen;
    bool seen_open;
    struct amqp_consumer *consumer;
};

static enum amqp_apply_rc apply(void *ctx, struct amqp_consumer *c, struct amqp_item *items,
                                size_t n)
{
    struct amqp_applier *a = ctx;
    if (a->o.admit && !a->o.admit(a->o.ctx, c))
        return AMQP_APPLY_UNAVAILABLE;
    return amqp_apply_each(a->o.db, &a->seen, a->o.apply_one, a->o.ctx, items, n);
}

struct amqp_applier *amqp_applier_start(const struct amqp_applier_opts *o)
{
    struct amqp_applier *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->o = *o;
    a->seen_open = seen_store_open(&a->seen, o->db) == 0;
    struct amqp_consumer_opts co = {.url = o->url,
                                    .queue = o->queue,
                                    .prefetch = o->prefetch,
                                    .accepted = o->accepted,
                                    .apply = apply,
                                    .ctx = a,
                                    .metrics = o->metrics,
                                    .applied_metric = o->applied_metric,
                                    .applied_help = o->applied_help,
                                    .notice = log_notifier,
                                    .events = log_event_notifier()};
    a->consumer = a->seen_open ? amqp_consumer_start(&co) : NULL;
    if (a->consumer)
        return a;
    log_error("cannot start the consumer of %s", o->queue);
    amqp_applier_stop(a);
    return NULL;
}

void amqp_applier_stop(struct amqp_applier *a)
{
    if (!a)
        return;
    amqp_consumer_stop(a->consumer);
    if (a->seen_open)
        seen_store_close(&a->seen);
    free(a);
}
