#include "util/breaker.h"

#include <string.h>

const char *breaker_state_name(enum breaker_state s)
{
    return s == BREAKER_OPEN ? "open" : s == BREAKER_HALF_OPEN ? "half_open" : "closed";
}

void breaker_init(struct breaker *b, const struct breaker_config *cfg)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    b->cfg = *cfg;
    if (b->cfg.window_s == 0 || b->cfg.window_s > BREAKER_WINDOW_SLOTS)
        b->cfg.window_s = BREAKER_WINDOW_SLOTS;
    if (b->cfg.min_calls == 0)
        b->cfg.min_calls = 1;
}

void breaker_destroy(struct breaker *b)
{
    pthread_mutex_destroy(&b->mu);
}

static void move_locked(struct breaker *b, enum breaker_state to)
{
    b->state = to;
    *(to == BREAKER_OPEN        ? &b->opened
      : to == BREAKER_HALF_OPEN ? &b->half_opened
                                : &b->closed) += 1;
    if (b->on_change)
        b->on_change(b->ctx, to);
}

static void open_locked(struct breaker *b, uint64_t now_us)
{
    b->opened_us = now_us;
    b->probing = false;
    move_locked(b, BREAKER_OPEN);
}

bool breaker_allow(struct breaker *b, uint64_t now_us, uint64_t *retry_after_ms, bool *probe)
{
    *probe = false;
    if (b->cfg.failures == 0)
        return true;
    pthread_mutex_lock(&b->mu);
    bool ok = true;
    uint64_t cooldown_us = (uint64_t)b->cfg.cooldown_ms * 1000u;
    /* A clock read before the breaker opened (on another thread) is "just
     * opened", never a wrap-around past the cool-down. */
    uint64_t open_for = now_us > b->opened_us ? now_us - b->opened_us : 0;
    if (b->state == BREAKER_OPEN && open_for >= cooldown_us) {
        move_locked(b, BREAKER_HALF_OPEN);
    }
    if (b->state == BREAKER_OPEN) {
        ok = false;
        *retry_after_ms = (cooldown_us - open_for + 999) / 1000;
    } else if (b->state == BREAKER_HALF_OPEN) {
        ok = !b->probing;
        b->probing = true;
        *probe = ok;
        /* The probe's answer comes within the caller's timeout. */
        *retry_after_ms = b->cfg.cooldown_ms;
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

/* Failures over the window exceed the rate, over enough calls? */
static bool rate_exceeded(struct breaker *b, uint64_t second)
{
    unsigned calls = 0, failures = 0;
    for (unsigned i = 0; i < BREAKER_WINDOW_SLOTS; i++)
        if (b->slot[i].second + b->cfg.window_s > second) {
            calls += b->slot[i].calls;
            failures += b->slot[i].failures;
        }
    return b->cfg.rate_pct > 0 && calls >= b->cfg.min_calls &&
           (uint64_t)failures * 100u > (uint64_t)b->cfg.rate_pct * calls;
}

void breaker_record(struct breaker *b, bool ok, bool probe, uint64_t now_us)
{
    if (b->cfg.failures == 0)
        return;
    pthread_mutex_lock(&b->mu);
    uint64_t second = now_us / 1000000u + 1; /* 0 marks an unused slot */
    unsigned i = (unsigned)(second % BREAKER_WINDOW_SLOTS);
    if (b->slot[i].second != second) {
        b->slot[i].second = second;
        b->slot[i].calls = b->slot[i].failures = 0;
    }
    b->slot[i].calls++;
    b->slot[i].failures += !ok;
    b->run = ok ? 0 : b->run + 1;
    if (probe && b->state == BREAKER_HALF_OPEN) {
        b->probing = false;
        if (ok) {
            move_locked(b, BREAKER_CLOSED);
            memset(b->slot, 0, sizeof b->slot); /* the old failures are history */
        } else {
            open_locked(b, now_us);
        }
    } else if (b->state == BREAKER_CLOSED && !ok &&
               (b->run >= b->cfg.failures || rate_exceeded(b, second))) {
        open_locked(b, now_us);
    }
    pthread_mutex_unlock(&b->mu);
}

void breaker_cancel(struct breaker *b, bool probe)
{
    if (!probe)
        return;
    pthread_mutex_lock(&b->mu);
    b->probing = false;
    pthread_mutex_unlock(&b->mu);
}
