#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "util/clock.h"

static void *run(void *arg)
{
    struct progress *p = arg;
    pthread_setname_np(pthread_self(), "progress");
    while (!atomic_load(&p->stop)) {
        clock_sleep_us(250000);
        double secs = (double)(clock_mono_us() - p->start_us) / 1e6;
        unsigned long long done = atomic_load(&p->done);
        fprintf(stderr, "\r  %llu", done);
        if (p->total)
            fprintf(stderr, "/%llu", (unsigned long long)p->total);
        fprintf(stderr, " done   %.0f/s   errors %llu   %.1f s   ",
                secs > 0 ? (double)done / secs : 0.0, (unsigned long long)atomic_load(&p->errors),
                secs);
    }
    fprintf(stderr, "\r%60s\r", "");
    return NULL;
}

void progress_start(struct progress *p, uint64_t total, bool enabled)
{
    atomic_init(&p->done, 0);
    atomic_init(&p->errors, 0);
    atomic_init(&p->stop, false);
    p->total = total;
    p->start_us = clock_mono_us();
    p->active = enabled && isatty(STDOUT_FILENO) && pthread_create(&p->thread, NULL, run, p) == 0;
}

void progress_stop(struct progress *p)
{
    if (!p->active)
        return;
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    p->active = false;
}
