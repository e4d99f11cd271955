/* Part A, recovery. An order is stored pending before the chain calls
 * inventory; if the service dies (or its final update fails) before the
 * final state commits, the order would stay pending forever, perhaps holding
 * stock, and a client retrying its order_id would be told "pending" forever.
 * This worker looks for pending orders that no chain of this process is
 * running — at start, every pending order — and runs the chain again for
 * each: /reserve and /send are idempotent by order_id, so inventory answers
 * what it answered the first time (or decides now), and the order ends as
 * the chain would have ended it, with its release or notification stored.
 * Nothing is written before that final transaction, so a kill at any moment,
 * recovery included, leaves the order pending for the next start. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/worker.h"
#include "order_service.h"

/* How often to look for orders left pending while the service runs. */
#define RECOVERY_SCAN_MS 1000
#define RECOVERY_BATCH 64

struct sync_recovery {
    struct worker w;
    struct order_service *svc;
    pthread_mutex_t mu;
    struct inflight *head; /* chains in flight in this process */
};

void inflight_enter(struct order_service *svc, struct inflight *f, const char *order_id)
{
    struct sync_recovery *r = svc->recovery;
    f->order_id = order_id;
    f->prev = NULL;
    pthread_mutex_lock(&r->mu);
    f->next = r->head;
    if (r->head)
        r->head->prev = f;
    r->head = f;
    pthread_mutex_unlock(&r->mu);
}

void inflight_leave(struct order_service *svc, struct inflight *f)
{
    struct sync_recovery *r = svc->recovery;
    pthread_mutex_lock(&r->mu);
    if (f->prev)
        f->prev->next = f->next;
    else
        r->head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    pthread_mutex_unlock(&r->mu);
}

static bool in_flight(struct sync_recovery *r, const char *order_id)
{
    pthread_mutex_lock(&r->mu);
    struct inflight *f = r->head;
    while (f && strcmp(f->order_id, order_id) != 0)
        f = f->next;
    pthread_mutex_unlock(&r->mu);
    return f != NULL;
}

static void recover(struct sync_recovery *r, const char *order_id)
{
    struct order_service *svc = r->svc;
    struct order_record rec;
    /* A chain may have finished it since the list was read. */
    if (in_flight(r, order_id) || order_get(&svc->orders, order_id, &rec) != 1 ||
        strcmp(rec.status, "pending") != 0)
        return;
    if (sync_drive(svc, &rec.order) < 0) {
        log_error("recovery: cannot finish order %s; it is tried again", order_id);
        return;
    }
    log_info("recovery: order %s, left pending, is final", order_id);
    metrics_count(svc->metrics, "orders_recovered_total",
                  "Orders left pending (crash, failed update) driven to a final state.", 1);
}

static void run(struct worker *w, void *arg)
{
    struct sync_recovery *r = arg;
    long wait_ms = 0; /* at start, at once */
    while (worker_sleep(w, wait_ms)) {
        wait_ms = RECOVERY_SCAN_MS;
        char after[ID_MAX_LEN + 1] = "";
        size_t n = RECOVERY_BATCH;
        while (n == RECOVERY_BATCH && !worker_stopping(w)) {
            char ids[RECOVERY_BATCH][ID_MAX_LEN + 1];
            if (order_list_pending(&r->svc->orders, after, ids, RECOVERY_BATCH, &n) != 0) {
                log_error("recovery: cannot list pending orders; retrying");
                break;
            }
            for (size_t i = 0; i < n && !worker_stopping(w); i++)
                recover(r, ids[i]);
            if (n > 0)
                memcpy(after, ids[n - 1], sizeof after);
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
    pthread_mutex_destroy(&r->mu);
    free(r);
    svc->recovery = NULL;
}
