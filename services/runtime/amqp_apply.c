#include "amqp_apply.h"

struct apply_job {
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
static int apply_job(void *arg)
{
    struct apply_job *j = arg;
    for (size_t k = 0; k < j->n; k++) {
        struct amqp_item *it = &j->items[k];
        switch (seen_claim_locked(j->seen, &it->ev, it->reason, sizeof it->reason)) {
        case SEEN_NEW:
            it->result = AMQP_ITEM_APPLIED;
            if (j->fn(j->ctx, it) != 0)
                return -1;
            break;
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

enum amqp_apply_rc amqp_apply_each(struct db *db, struct seen_store *seen, amqp_apply_one_fn fn,
                                   void *ctx, struct amqp_item *items, size_t n)
{
    struct apply_job j = {seen, fn, ctx, items, n};
    return db_transact(db, apply_job, &j) == 0 ? AMQP_APPLY_OK : AMQP_APPLY_FAILED;
}
