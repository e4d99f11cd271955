/* Kafka over librdkafka, knowing nothing of the domain: client construction
 * with the settings every commlab client shares, and the group tooling (lag
 * report, offset reset) built on the Admin API and plain consumer calls, so it
 * works the same against the local mock cluster and a real Kafka. */
#ifndef COMMLAB_KAFKA_H
#define COMMLAB_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/notice.h"

#define KAFKA_ERR_LEN 512

/* Where librdkafka's own log lines go (every handle of the process; set it
 * before creating one). Unset, they are dropped. */
void kafka_set_notifier(const struct notifier *n);

/* A producer with enable.idempotence=true and acks=all: retries never
 * duplicate or reorder within a partition, and a delivery report says
 * "stored on every in-sync replica" or names the error. With a
 * transactional_id it is also transactional (init_transactions is the
 * caller's). `dr_cb` gets every delivery report (from rd_kafka_poll/flush). */
rd_kafka_t *kafka_producer_new(const char *brokers, const char *transactional_id,
                               void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                               void *opaque, char *err, size_t errlen);

/* A consumer in `group` with manual offset commits and auto.offset.reset =
 * earliest (a group with no committed offset reads the whole log). With
 * read_committed it never sees messages of aborted or open transactions. */
rd_kafka_t *kafka_consumer_new(const char *brokers, const char *group, bool read_committed,
                               char *err, size_t errlen);
/* The same, for reading by assignment (kafka_assign_until_end) rather than as
 * a member of the group: it also reports each partition's end as an event
 * (RD_KAFKA_RESP_ERR__PARTITION_EOF). */
rd_kafka_t *kafka_reader_new(const char *brokers, const char *group, bool read_committed, char *err,
                             size_t errlen);
/* Subscribes to `n` topics; 0 or -1 with `err`. */
int kafka_subscribe(rd_kafka_t *rk, const char *const *topics, size_t n, char *err, size_t errlen);

/* Pauses (or resumes) fetching on every partition currently assigned; the
 * consumer keeps polling, so it stays in its group while paused. */
void kafka_pause(rd_kafka_t *rk, bool pause);
/* The assigned partitions with the consumer's position (the next offset it
 * would read; -1001 where it has read nothing yet); NULL on error. */
rd_kafka_topic_partition_list_t *kafka_positions(rd_kafka_t *rk);
/* Raises m's partition in `l` (adding it) to the offset after m: over a
 * batch, the next offset to read on each partition it touched, which is
 * what a commit of the batch takes. */
void kafka_offset_after(rd_kafka_topic_partition_list_t *l, const rd_kafka_message_t *m);

/* The end offset (high watermark) of every non-empty partition of the
 * topics; NULL with `err`. */
rd_kafka_topic_partition_list_t *kafka_end_offsets(rd_kafka_t *rk, const char *const *topics,
                                                   size_t ntopics, int timeout_ms, char *err,
                                                   size_t errlen);
/* Reads to the end as kcat -e does, with no group join and no rebalance:
 * assigns every non-empty partition of the topics to `rk` (a reader), from the
 * start of the log, or from the committed offsets of its group (the start
 * where it has none; fetching them needs no membership), and returns the end
 * offsets to read to, leaving out partitions that start there already (an
 * empty list: nothing to read). NULL with `err`. */
rd_kafka_topic_partition_list_t *kafka_assign_until_end(rd_kafka_t *rk, const char *const *topics,
                                                        size_t ntopics, bool from_start,
                                                        int timeout_ms, char *err, size_t errlen);
/* Takes out of `ends` every partition `rk` has read to: its position there (a
 * local call, past transaction markers), or `eof` (a partition-EOF event, or
 * NULL) at or past the end. True once none is left. */
bool kafka_reached(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *ends,
                   const rd_kafka_message_t *eof);

/* A dead letter is a copy of the message while key and value stay below
 * this (a producer sends up to 1,000,000 bytes by default); beyond it, its
 * coordinates: a JSON value with topic, partition, offset, key_size,
 * key_first_bytes, size, first_bytes (hex, the first KAFKA_DEAD_LETTER_HEAD
 * bytes) and reason. */
#define KAFKA_DEAD_LETTER_COPY_MAX 900000
#define KAFKA_DEAD_LETTER_HEAD 32

/* Produces the dead letter of `m` onto `topic` with headers
 * dead_letter_reason, dead_letter_copy (whole|coordinates), source_topic,
 * source_partition, source_offset and x-commlab-dead-letter-id (dead_letter_id.h:
 * of the source topic, partition and offset); `copy` false asks for the coordinates
 * even when a copy would fit. The produce call's error. */
rd_kafka_resp_err_t kafka_dead_letter(rd_kafka_t *producer, const char *topic,
                                      const rd_kafka_message_t *m, const char *reason, bool copy);
/* True for errors that are the message's own (too large, invalid): trying
 * it again cannot help, while any other error may pass. */
bool kafka_error_is_message(rd_kafka_resp_err_t e);

/* A plain client for metadata, watermarks and the Admin API. */
rd_kafka_t *kafka_admin_new(const char *brokers, char *err, size_t errlen);
/* How many partitions `topic` has; -1 when unknown (missing topic, no broker). */
int kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms);

/* One row of a lag report, as kafka-consumer-groups --describe prints it.
 * committed is -1 when the group has no offset there (it would start at
 * log_start, so lag counts from there). */
struct kafka_lag_row {
    char topic[128];
    int32_t partition;
    int64_t committed;
    int64_t log_start;
    int64_t log_end;
    int64_t lag;
};

/* Committed offsets of `group` (Admin API ListConsumerGroupOffsets) next to
 * each partition's watermarks. `rows` is malloc'd; 0 or -1 with `err`. */
int kafka_group_lag(rd_kafka_t *rk, const char *group, const char *const *topics, size_t ntopics,
                    int timeout_ms, struct kafka_lag_row **rows, size_t *nrows, char *err,
                    size_t errlen);

/* Sets the committed offsets of `group` on every partition of the topics to
 * the earliest (or latest) offset in the log, with the Admin API
 * AlterConsumerGroupOffsets. Kafka refuses while the group has active members
 * subscribed to those topics: stop the consumers first. Where a broker refuses
 * a non-member's commit (the mock cluster does), it joins the group as its
 * only member and commits. 0 or -1 with `err`. */
int kafka_group_reset(const char *brokers, rd_kafka_t *rk, const char *group,
                      const char *const *topics, size_t ntopics, bool to_latest, int timeout_ms,
                      char *err, size_t errlen);

/* Creates the topics with `partitions` partitions and the given replication
 * factor (Admin API CreateTopics); topics that exist already are fine. */
int kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t ntopics, int partitions,
                        int replication, int timeout_ms, char *err, size_t errlen);

#endif
