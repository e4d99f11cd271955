/* A circuit breaker for one downstream: closed (calls go through) -> open
 * after a run of failures, or a failure rate over a window -> half-open after
 * a cool-down (one probe call at a time) -> closed when a probe succeeds, or
 * open again when it fails. Thread-safe; time is passed in, so it is tested
 * without sleeping. */
#ifndef COMMLAB_BREAKER_H
#define COMMLAB_BREAKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

#define BREAKER_WINDOW_SLOTS 60 /* the rate window is counted in 1 s slots */

struct breaker_config {
    unsigned failures;  /* this many in a row open it; 0: no breaker */
    unsigned rate_pct;  /* or this percentage of failures ... */
    unsigned window_s;  /* ... over this many seconds (at most BREAKER_WINDOW_SLOTS) ... */
    unsigned min_calls; /* ... once at least this many calls were made */
    unsigned cooldown_ms;
};

struct breaker {
    pthread_mutex_t mu;
    struct breaker_config cfg;
    enum breaker_state state;
    unsigned run; /* failures in a row */
    uint64_t opened_us;
    bool probing; /* a half-open probe is in flight */
    struct {
        uint64_t second;
        unsigned calls, failures;
    } slot[BREAKER_WINDOW_SLOTS];
    uint64_t opened, half_opened, closed; /* transitions so far */
    /* Told of each transition, under the breaker's lock; may be NULL. */
    void (*on_change)(void *ctx, enum breaker_state to);
    void *ctx;
};

const char *breaker_state_name(enum breaker_state s);
void breaker_init(struct breaker *b, const struct breaker_config *cfg);
void breaker_destroy(struct breaker *b);
/* May a call go now? When not, *retry_after_ms is how long until one may.
 * In half-open the one call let through is the probe (*probe set): only its
 * outcome decides whether the breaker closes. */
bool breaker_allow(struct breaker *b, uint64_t now_us, uint64_t *retry_after_ms, bool *probe);
/* The outcome of a call breaker_allow let through. */
void breaker_record(struct breaker *b, bool ok, bool probe, uint64_t now_us);
/* A call breaker_allow let through was not made after all. */
void breaker_cancel(struct breaker *b, bool probe);

#endif
