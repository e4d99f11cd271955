/* A live progress line on stderr while a run goes, only when stdout is a
 * terminal (so redirected output stays clean). */
#ifndef COMMLAB_LOADGEN_PROGRESS_H
#define COMMLAB_LOADGEN_PROGRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct progress {
    atomic_ullong done;
    atomic_ullong errors;
    uint64_t total; /* 0 when unknown */
    atomic_bool stop;
    bool active;
    pthread_t thread;
    uint64_t start_us;
};

void progress_start(struct progress *p, uint64_t total, bool enabled);
void progress_stop(struct progress *p);

#endif
