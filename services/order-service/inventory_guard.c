/* Part A, protection of the chain from a slow or failing inventory. Without
 * it, callers pile up behind a dependency that hangs: every order waits the
 * whole timeout, the orders in flight grow with the arrival rate, and the
 * service spends its memory and connections on calls that will fail. The
 * bulkhead bounds the orders in flight towards inventory (past it, 503 at
 * once); the breaker stops calling an inventory that keeps failing (503 at
 * once, nothing sent) and probes it again after a cool-down. */
#include <stdio.h>

#include "codec/order_json.h"
#include "util/clock.h"
#include "util/log.h"
#include "runtime/service.h"
#include "order_service.h"

static const char state_help[] = "Inventory circuit breaker: 0 closed, 1 open, 2 half-open.";

static void publish_inflight(struct order_service *svc, long n)
{
    metrics_gauge(svc->metrics, "inventory_inflight", "Orders waiting on inventory now.",
                  (double)n);
}

/* Runs under the breaker's lock: counters and the gauge only. */
static void on_breaker_change(void *ctx, enum breaker_state to)
{
    struct order_service *svc = ctx;
    metrics_gauge(svc->metrics, "inventory_breaker_state", state_help, (double)to);
    if (to == BREAKER_OPEN)
        metrics_count(svc->metrics, "inventory_breaker_opened_total",
                      "Times the inventory breaker opened.", 1);
    else if (to == BREAKER_HALF_OPEN)
        metrics_count(svc->metrics, "inventory_breaker_half_opened_total",
                      "Times the inventory breaker let a probe through.", 1);
    else
        metrics_count(svc->metrics, "inventory_breaker_closed_total",
                      "Times the inventory breaker closed after a probe succeeded.", 1);
    log_warn("inventory circuit breaker now %s", breaker_state_name(to));
}

void inventory_guard_init(struct order_service *svc, const struct breaker_config *cfg)
{
    struct inventory_guard *g = &svc->guard;
    breaker_init(&g->breaker, cfg);
    g->breaker.on_change = on_breaker_change;
    g->breaker.ctx = svc;
    atomic_store(&g->inflight, 0);
    atomic_store(&g->chains, 0);
    publish_inflight(svc, 0);
    metrics_gauge(svc->metrics, "inventory_inflight_limit",
                  "Orders waiting on inventory at most (0: no bound).", (double)g->limit);
    metrics_gauge(svc->metrics, "inventory_breaker_state", state_help, 0);
    metrics_count(svc->metrics, "inventory_calls_total", "Reservation calls sent to inventory.", 0);
    metrics_count(svc->metrics, "orders_refused_overloaded_total",
                  "Orders answered 503 at once: too many waiting on inventory.", 0);
    metrics_count(svc->metrics, "orders_refused_circuit_open_total",
                  "Orders answered 503 at once: the inventory breaker is open.", 0);
}

void inventory_guard_destroy(struct order_service *svc)
{
    breaker_destroy(&svc->guard.breaker);
}

enum admission inventory_guard_admit(struct order_service *svc, struct guard_ticket *t,
                                     unsigned *retry_after_s)
{
    struct inventory_guard *g = &svc->guard;
    *t = (struct guard_ticket){0};
    *retry_after_s = 1;
    /* Counted before the stop is checked: a drain that sees no chain left
     * can be sure no other will start. */
    atomic_fetch_add(&g->chains, 1);
    if (service_stopping()) {
        atomic_fetch_sub(&g->chains, 1);
        return ADMIT_STOPPING;
    }
    long n = atomic_fetch_add(&g->inflight, 1) + 1;
    if (g->limit > 0 && n > g->limit) {
        atomic_fetch_sub(&g->inflight, 1);
        metrics_count(svc->metrics, "orders_refused_overloaded_total", NULL, 1);
        atomic_fetch_sub(&g->chains, 1);
        return ADMIT_OVERLOADED;
    }
    uint64_t wait_ms = 0;
    if (!breaker_allow(&g->breaker, clock_mono_us(), &wait_ms, &t->probe)) {
        atomic_fetch_sub(&g->inflight, 1);
        metrics_count(svc->metrics, "orders_refused_circuit_open_total", NULL, 1);
        atomic_fetch_sub(&g->chains, 1);
        *retry_after_s = wait_ms > 1000 ? (unsigned)((wait_ms + 999) / 1000) : 1;
        return ADMIT_CIRCUIT_OPEN;
    }
    publish_inflight(svc, n);
    t->calling = true;
    return ADMIT_OK;
}

void inventory_guard_called(struct order_service *svc)
{
    metrics_count(svc->metrics, "inventory_calls_total", NULL, 1);
}

void inventory_guard_done(struct order_service *svc, struct guard_ticket *t,
                          enum call_outcome outcome)
{
    struct inventory_guard *g = &svc->guard;
    if (!t->calling)
        return;
    t->calling = false;
    if (outcome == CALL_NOT_MADE)
        breaker_cancel(&g->breaker, t->probe);
    else
        breaker_record(&g->breaker, outcome == CALL_OK, t->probe, clock_mono_us());
    publish_inflight(svc, atomic_fetch_sub(&g->inflight, 1) - 1);
}

void inventory_guard_leave(struct order_service *svc, struct guard_ticket *t)
{
    inventory_guard_done(svc, t, CALL_NOT_MADE);
    atomic_fetch_sub(&svc->guard.chains, 1);
}

long inventory_guard_chains(struct order_service *svc)
{
    return atomic_load(&svc->guard.chains);
}

void inventory_guard_refuse(enum admission why, unsigned retry_after_s, struct http_response *res)
{
    static const char *const code[] = {
        [ADMIT_OVERLOADED] = "inventory_overloaded",
        [ADMIT_CIRCUIT_OPEN] = "inventory_circuit_open",
        [ADMIT_STOPPING] = "stopping",
    };
    static const char *const message[] = {
        [ADMIT_OVERLOADED] = "too many orders are waiting on inventory; retry later",
        [ADMIT_CIRCUIT_OPEN] = "inventory is failing; orders are refused until it recovers",
        [ADMIT_STOPPING] = "the order service is stopping; retry later",
    };
    res->retry_after_s = retry_after_s;
    http_respond(res, 503, error_encode(code[why], NULL, message[why]));
}
