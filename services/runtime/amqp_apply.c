#include "amqp_apply.h"

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
