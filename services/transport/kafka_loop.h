/* One consumer batch loop for every Kafka consumer: poll up to a batch (a
 * count and a time cap), pause and throttle on request, hand the batch to
 * the service, and rewind to the committed offsets when it fails.
 *
 * No message can stall a partition: when a batch fails for a reason that may
 * be one of its messages, the loop re-reads it one message at a time, and
 * tells the service how often each message has failed already (`tries`);
 * from KAFKA_LOOP_MAX_TRIES on the service must set it aside (dead-letter
 * or skip it) instead of trying again. A failure that is nobody's message
 * (the broker is away) is retried with backoff and counts for no message. */
#ifndef COMMLAB_KAFKA_LOOP_H
#define COMMLAB_KAFKA_LOOP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "domain/event.h"
#include "util/notice.h"
#include "util/worker.h"
#include "kafka.h"

#define KAFKA_LOOP_MAX_TRIES 3

/* Longest account of why a message is not an event. */
#define KAFKA_MALFORMED_MAX 176

struct kafka_msg {
    rd_kafka_message_t *m;
    int tries; /* earlier batches with this message that failed */
    /* Its value decoded by the loop, the one decoder of both Kafka consumers:
     * the event (`decoded`), or why it is none in `malformed`, "FIELD: WHAT",
     * which the service dead-letters as "malformed: " and that. */
    bool decoded;
    struct event ev;
    char malformed[KAFKA_MALFORMED_MAX];
};

/* Where a loop's messages come from and where it seeks: the consumer `rk`
 * (source NULL), or a stand-in that keeps the same promises (the unit
 * tests' log held in memory). */
struct kafka_source_ops {
    /* The next message or event (rd_kafka_consumer_poll); NULL: none within timeout_ms. */
    rd_kafka_message_t *(*poll)(void *ctx, int timeout_ms);
    void (*release)(void *ctx, rd_kafka_message_t *m);
    /* Seeks each partition of `l` to its offset (local: no broker); 0, or -1 with err. */
    int (*seek)(void *ctx, rd_kafka_topic_partition_list_t *l, char *err, size_t errlen);
    /* Seeks every assigned partition back to its committed offset (kafka_rewind). */
    int (*rewind)(void *ctx, int timeout_ms, char *err, size_t errlen);
    /* The partitions assigned now, for the caller to destroy; NULL on error. */
    rd_kafka_topic_partition_list_t *(*assignment)(void *ctx);
    void (*pause)(void *ctx, bool paused);
};

enum kafka_batch_result {
    KAFKA_BATCH_DONE,   /* every message dealt with (and its offset committed) */
    KAFKA_BATCH_FAILED, /* nothing committed; one of the messages may be why */
    KAFKA_BATCH_RETRY,  /* nothing committed; not the messages' fault */
    KAFKA_BATCH_FATAL,  /* the consumer cannot go on: the loop ends */
};

struct kafka_loop {
    rd_kafka_t *rk;
    const struct kafka_source_ops *source; /* NULL: rk */
    void *source_ctx;
    size_t batch_max;
    long batch_ms;            /* a batch collects this long at most */
    atomic_long *throttle_ms; /* pause this long per message */
    atomic_bool *paused;
    /* Messages of a batch, in poll order (no error events). */
    enum kafka_batch_result (*batch)(void *ctx, struct kafka_msg *msgs, size_t n);
    /* Optional: nothing arrived within a poll; true ends the loop. */
    bool (*idle)(void *ctx);
    /* Optional: a partition-EOF event (a reader made with enable.partition.eof). */
    void (*eof)(void *ctx, const rd_kafka_message_t *m);
    /* Commits nothing as it reads (a reader by assignment): the group's
     * committed offsets say nothing of its progress, so where a failed batch
     * cannot be sought back to, the loop ends rather than rewind to them. */
    bool reader;
    void *ctx;
    struct notifier notice; /* consumer errors, rewinds */
    /* Filled by the loop: rewinds after a failed batch. */
    atomic_ullong failed_batches;
};

/* The worker function: runs until the worker stops, `batch` returns FATAL
 * or `idle` returns true. `arg` is the struct kafka_loop. */
void kafka_loop_run(struct worker *w, void *arg);

/* Seeks every assigned partition back to its committed offset (the start
 * of the log where nothing is committed); 0 or -1 with `err`. */
int kafka_rewind(rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen);

#endif
