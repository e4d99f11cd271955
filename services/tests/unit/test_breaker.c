/* The circuit breaker's states, driven by a clock the test moves. */
#include "util/breaker.h"
#include "check.h"

#define S 1000000ull /* one second in microseconds */

static bool allow(struct breaker *b, uint64_t now, bool *probe)
{
    uint64_t retry = 0;
    return breaker_allow(b, now, &retry, probe);
}

static void test_run_of_failures(void)
{
    struct breaker b;
    breaker_init(&b, &(struct breaker_config){.failures = 3, .cooldown_ms = 2000});
    bool probe;
    uint64_t t = 100 * S;
    for (int i = 0; i < 2; i++) {
        CHECK(allow(&b, t, &probe) && !probe);
        breaker_record(&b, false, probe, t);
    }
    breaker_record(&b, true, false, t); /* a success ends the run */
    for (int i = 0; i < 2; i++)
        breaker_record(&b, false, false, t);
    CHECK(b.state == BREAKER_CLOSED);
    breaker_record(&b, false, false, t);
    CHECK(b.state == BREAKER_OPEN);
    uint64_t retry = 0;
    CHECK(!breaker_allow(&b, t + S, &retry, &probe));
    CHECK(retry == 1000);
    /* A clock read on another thread just before it opened is not "long
     * after": no probe before the cool-down. */
    CHECK(!breaker_allow(&b, t - 1000, &retry, &probe) && !probe);
    CHECK(b.state == BREAKER_OPEN);
    /* After the cool-down one probe goes, the next call waits for it. */
    CHECK(allow(&b, t + 2 * S, &probe) && probe);
    CHECK(b.state == BREAKER_HALF_OPEN);
    CHECK(!allow(&b, t + 2 * S, &probe));
    /* A late answer of a call from before the opening decides nothing. */
    breaker_record(&b, true, false, t + 2 * S);
    CHECK(b.state == BREAKER_HALF_OPEN);
    breaker_record(&b, false, true, t + 2 * S); /* the probe fails: open again */
    CHECK(b.state == BREAKER_OPEN);
    CHECK(!allow(&b, t + 3 * S, &probe));
    CHECK(allow(&b, t + 4 * S, &probe) && probe);
    breaker_record(&b, true, true, t + 4 * S);
    CHECK(b.state == BREAKER_CLOSED);
    CHECK(allow(&b, t + 4 * S, &probe) && !probe);
    CHECK(b.opened == 2 && b.half_opened == 2 && b.closed == 1);
    breaker_destroy(&b);
}

static void test_failure_rate(void)
{
    struct breaker b;
    breaker_init(
        &b,
        &(struct breaker_config){
            .failures = 100, .rate_pct = 50, .window_s = 10, .min_calls = 20, .cooldown_ms = 1000});
    uint64_t t = 50 * S;
    /* Alternating: half fail, never two in a row; 50 % is not over 50 %. */
    for (int i = 0; i < 40; i++)
        breaker_record(&b, i % 2 == 0, false, t + (uint64_t)i * S / 10);
    CHECK(b.state == BREAKER_CLOSED);
    /* Failures older than the window no longer count. */
    t += 20 * S;
    for (int i = 0; i < 9; i++)
        breaker_record(&b, i % 3 != 0, false, t);
    breaker_record(&b, false, false, t);
    CHECK(b.state == BREAKER_CLOSED); /* 10 calls: under min_calls */
    for (int i = 0; i < 10; i++)
        breaker_record(&b, i % 4 == 0, false, t + S);
    CHECK(b.state == BREAKER_OPEN); /* 20 calls, 11 failed */
    breaker_destroy(&b);
}

static void test_disabled(void)
{
    struct breaker b;
    breaker_init(&b, &(struct breaker_config){.failures = 0});
    bool probe;
    for (int i = 0; i < 1000; i++)
        breaker_record(&b, false, false, (uint64_t)i * S);
    CHECK(allow(&b, 2000 * S, &probe) && !probe);
    CHECK(b.state == BREAKER_CLOSED);
    breaker_destroy(&b);
}

int main(void)
{
    test_run_of_failures();
    test_failure_rate();
    test_disabled();
    return check_summary("test_breaker");
}
