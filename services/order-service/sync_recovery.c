/* Part A, recovery. An order is stored pending before the chain calls
 * inventory; if the service dies (or its final update fails) before the
 * final state commits, the order would stay pending forever, perhaps holding
 * stock, and a client retrying its order_id would be told "ask again"
 * forever. This worker looks for pending orders that no chain of this
 * process is running — at start, every pending order — and drives each
 * through the chain again (sync_chain_resume): /reserve and /send are
 * idempotent by order_id, so inventory answers what it answered the first
 * time (or decides now), and the order ends as the chain would have ended
 * it, with its release or notification stored. Nothing is written before
 * that final transaction, so a kill at any moment, recovery included,
 * leaves the order pending for the next start.
 *
 * It goes through the live orders' admission: the bulkhead counts its
 * chains, an open breaker stops it (the orders wait, pending, for the
 * breaker to let calls through again), its calls carry the deadline and are
 * counted. At most RECOVERY_WINDOW of its chains run at once, so that a
 * backlog of pending orders does not take the bulkhead from clients. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/worker.h"
#include "order_service.h"

/* How often to look for orders left pending while the service runs. */
#define RECOVERY_SCAN_MS 1000
#define RECOVERY_BATCH 64
#define RECOVERY_WINDOW 8

struct sync_recovery {
    struct worker w;
    struct order_service *svc;
    pthread_mutex_t mu;
    struct chain *ended[RECOVERY_WINDOW]; /* calls over, final state not stored */
    size_t n_ended;
    size_t running; /* chains started and not finished */
};

/* On the client's event loop: hands the chain to the worker. */
static void calls_ended(void *ctx, struct chain *c)
{
    struct sync_recovery *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->ended[r->n_ended++] = c;
    pthread_mutex_unlock(&r->mu);
    worker_kick(&r->w);
}

static void finish_ended(struct sync_recovery *r)
{
    struct order_service *svc = r->svc;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        struct chain *c = r->n_ended ? r->ended[--r->n_ended] : NULL;
        pthread_mutex_unlock(&r->mu);
        if (!c)
            return;
        int rc = sync_chain_finish(c);
        pthread_mutex_lock(&r->mu);
        r->running--;
        pthread_mutex_unlock(&r->mu);
        if (rc < 0)
            log_error("recovery: cannot store the final state of an order; it is tried again");
        else if (rc == 0)
            metrics_count(svc->metrics, "orders_recovered_total",
                          "Orders left pending (crash, failed update) driven to a final state.", 1);
    }
}

static size_t running(struct sync_recovery *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->running;
    pthread_mutex_unlock(&r->mu);
    return n;
}

enum step { STEP_ON, STEP_WINDOW_FULL, STEP_REFUSED };

/* Starts the chain of one pending order, unless a chain runs it already. */
static enum step recover(struct sync_recovery *r, const char *order_id, long *wait_ms)
{
    struct order_service *svc = r->svc;
    struct order_record rec;
    if (sync_chain_running(svc, order_id) || order_get(&svc->orders, order_id, &rec) != 1 ||
        strcmp(rec.status, "pending") != 0)
        return STEP_ON;
    if (running(r) >= RECOVERY_WINDOW)
        return STEP_WINDOW_FULL;
    pthread_mutex_lock(&r->mu);
    r->running++;
    pthread_mutex_unlock(&r->mu);
    unsigned retry_after_s = 1;
    enum admission why = sync_chain_resume(svc, &rec.order, calls_ended, r, &retry_after_s);
    if (why == ADMIT_OK)
        return STEP_ON;
    pthread_mutex_lock(&r->mu);
    r->running--;
    pthread_mutex_unlock(&r->mu);
    /* The breaker is open or the bulkhead full: the orders wait, pending. */
    *wait_ms = why == ADMIT_CIRCUIT_OPEN ? (long)retry_after_s * 1000 : RECOVERY_SCAN_MS;
    return STEP_REFUSED;
}

enum pass { PASS_DONE, PASS_WINDOW_FULL, PASS_REFUSED };

/* Goes on with a pass over the pending orders after `after`. */
static enum pass scan(struct sync_recovery *r, char after[ID_MAX_LEN + 1], long *wait_ms)
{
    size_t n = RECOVERY_BATCH;
    while (n == RECOVERY_BATCH && !worker_stopping(&r->w)) {
        char ids[RECOVERY_BATCH][ID_MAX_LEN + 1];
        if (order_list_pending(&r->svc->orders, after, ids, RECOVERY_BATCH, &n) != 0) {
            log_error("recovery: cannot list pending orders; retrying");
            break;
        }
        for (size_t i = 0; i < n && !worker_stopping(&r->w); i++) {
            switch (recover(r, ids[i], wait_ms)) {
            case STEP_ON:
                memcpy(after, ids[i], ID_MAX_LEN + 1);
                break;
            case STEP_WINDOW_FULL:
                return PASS_WINDOW_FULL;
            case STEP_REFUSED:
                after[0] = '\0';
                return PASS_REFUSED;
            }
        }
    }
    after[0] = '\0';
    return PASS_DONE;
}

/* A pass starts at most every RECOVERY_SCAN_MS (an order inventory failed
 * for waits for the next one), or when the breaker lets calls through
 * again; a pass held up by a full window goes on as soon as a chain ends. */
static void run(struct worker *w, void *arg)
{
    struct sync_recovery *r = arg;
    char after[ID_MAX_LEN + 1] = "";
    bool mid_pass = false;
    uint64_t next_pass_us = 0;
    long wait_ms = 0; /* at start, at once */
    while (worker_sleep(w, wait_ms)) {
        finish_ended(r);
        uint64_t now = clock_mono_us();
        wait_ms = RECOVERY_SCAN_MS;
        if (!mid_pass) {
            if (now < next_pass_us) {
                wait_ms = (long)((next_pass_us - now) / 1000u) + 1;
                continue;
            }
            next_pass_us = now + RECOVERY_SCAN_MS * 1000u;
        }
        long refused_ms = RECOVERY_SCAN_MS;
        enum pass p = scan(r, after, &refused_ms);
        mid_pass = p == PASS_WINDOW_FULL;
        if (p == PASS_REFUSED) {
            next_pass_us = now + (uint64_t)refused_ms * 1000u;
            wait_ms = refused_ms;
        }
    }
}

int sync_recovery_start(struct order_service *svc)
{
    struct sync_recovery *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->svc = svc;
    pthread_mutex_init(&r->mu, NULL);
    svc->recovery = r;
    if (worker_start(&r->w, "recovery", run, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        free(r);
        svc->recovery = NULL;
        return -1;
    }
    return 0;
}

void sync_recovery_stop(struct order_service *svc)
{
    struct sync_recovery *r = svc->recovery;
    if (!r)
        return;
    worker_stop(&r->w);
    /* The client has stopped (sync_chain_drain): no chain ends any more.
     * Those that ended unstored stay pending for the next start. */
    for (size_t i = 0; i < r->n_ended; i++)
        sync_chain_abandon(r->ended[i]);
    if (r->running > r->n_ended)
        log_warn("recovery: %zu chains never ended", r->running - r->n_ended);
    pthread_mutex_destroy(&r->mu);
    free(r);
    svc->recovery = NULL;
}
