/* One outbox relay for every transport: a worker that reads a destination's
 * unsent rows in order, hands them to the transport's delivery callback,
 * records what became of each (delivered, with the transport's own
 * bookkeeping in the same transaction; refused for good: set aside with its
 * reason; refused for now: tried again after a backoff of its own, its
 * order's later rows with it), keeps the gauges and the counters, and backs
 * off while the transport is broken. A transport says only how to connect and how to
 * deliver. A crash anywhere delivers at most the undelivered tail again, with
 * the same keys and event ids, which the receivers deduplicate. */
#ifndef COMMLAB_OUTBOX_RELAY_H
#define COMMLAB_OUTBOX_RELAY_H

#include <stdbool.h>

#include "metrics/metrics.h"
#include "util/worker.h"
#include "outbox.h"

struct outbox_relay_ops {
    /* Optional: opens the transport; 0 ready, non-zero retried after backoff. */
    int (*connect)(void *ctx);
    /* Optional: closes it (broken, or the relay stops). */
    void (*disconnect)(void *ctx);
    /* Delivers rows[0..n) in order, setting each row's fate (and `why` for a
     * refusal); rows it does not get to stay OUTBOX_NOT_TRIED. A row after
     * one of the same key (order) that was not delivered must not be
     * delivered in the same round. 0, or -1 when the transport is broken (it
     * is reconnected). May return early once worker_stopping(w). */
    int (*deliver)(void *ctx, struct worker *w, struct outbox_row *rows, size_t n);
    /* Optional, with nothing pending: watches the transport up to `ms` (0, or
     * -1 when broken). Without it the relay sleeps `idle_ms` or until kicked. */
    int (*idle)(void *ctx, long ms);
    /* Optional: runs inside the transaction that marks rows[0..n) sent. */
    int (*settle_locked)(void *ctx, const struct outbox_row *rows, size_t n);
};

/* commlab_<prefix>_backlog, _delivered_total, _delivery_failures_total,
 * _dead_letters (rows set aside) and _refused_total (refusals, for good or
 * for now). */
#define OUTBOX_RELAY_METRICS(prefix)                                                               \
    {                                                                                              \
        prefix "_backlog", prefix "_delivered_total", prefix "_delivery_failures_total",           \
            prefix "_dead_letters", prefix "_refused_total"                                        \
    }

struct outbox_relay_config {
    const char *name;        /* for the log */
    const char *destination; /* the rows it delivers; NULL: all */
    size_t batch;            /* rows per delivery round */
    long idle_ms;            /* how often an idle relay looks again */
    long backoff_min_ms, backoff_max_ms;
    struct {
        const char *backlog, *delivered, *failures, *dead, *refused;
    } metric; /* static names: OUTBOX_RELAY_METRICS */
};

/* A relay's settings, the metrics named by OUTBOX_RELAY_METRICS(prefix). */
#define OUTBOX_RELAY_CONFIG(name_, destination_, batch_, idle_ms_, backoff_min_ms_,                \
                            backoff_max_ms_, prefix)                                               \
    {                                                                                              \
        .name = name_, .destination = destination_, .batch = batch_, .idle_ms = idle_ms_,          \
        .backoff_min_ms = backoff_min_ms_, .backoff_max_ms = backoff_max_ms_,                      \
        .metric = OUTBOX_RELAY_METRICS(prefix)                                                     \
    }

struct outbox_relay {
    struct worker w;
    struct outbox_relay_config cfg;
    const struct outbox_relay_ops *ops;
    void *ctx;
    struct outbox *ob;
    struct metrics *m;
    struct outbox_row *rows;
    struct outbox_row *done; /* the delivered rows of a round, for settle_locked */
};

/* Starts the worker; it starts at once even if the far side is down. */
int outbox_relay_start(struct outbox_relay *r, const struct outbox_relay_config *cfg,
                       const struct outbox_relay_ops *ops, void *ctx, struct outbox *ob,
                       struct metrics *m);
/* New rows were stored: look now rather than after idle_ms. */
void outbox_relay_kick(struct outbox_relay *r);
/* Whether a row comes after one of its order (key) that was not delivered
 * in this round: it must wait too. For the transports' deliver callbacks. */
bool outbox_row_held(const struct outbox_row *rows, size_t i);
/* Stops and joins it; rows not delivered stay in the outbox. */
void outbox_relay_stop(struct outbox_relay *r);

#endif
