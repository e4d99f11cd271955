/* The identity of a dead-letter copy, in header x-commlab-dead-letter-id on
 * both brokers. A copy is made, confirmed, and only then is the source
 * message acked (AMQP) or its offset committed (Kafka): a crash in between
 * hands the message over again and it is dead-lettered again. Every such
 * repeat carries the same id, so a reader of the dead letters drops the
 * repeats by it. A checksum for telling copies apart, not a cryptographic
 * digest: it proves nothing about who wrote the message. */
#ifndef COMMLAB_DEAD_LETTER_ID_H
#define COMMLAB_DEAD_LETTER_ID_H

#include <stddef.h>

#define DEAD_LETTER_ID_HEADER "x-commlab-dead-letter-id"
/* Hex digits in an id (128 bits). */
#define DEAD_LETTER_ID_LEN 32

/* The id of a dead letter taken from `source` (a queue or topic name) and
 * known there by `len` bytes at `what` (an AMQP message's body; a Kafka
 * record's partition and offset): DEAD_LETTER_ID_LEN lowercase hex digits
 * and a NUL. Equal inputs give equal ids, on any machine and build. */
void dead_letter_id(const char *source, const void *what, size_t len,
                    char out[DEAD_LETTER_ID_LEN + 1]);

#endif
