/* AMQP 0-9-1 over librabbitmq (rabbitmq-c), the synchronous API only: one
 * link = one TCP connection with one channel, used by one thread at a time,
 * and kept alive by a heartbeat thread of its own (so the owner may spend as
 * long as it likes between calls: a slow apply does not cost the link).
 * No domain here: bodies are bytes, names come from amqp_topology.h. */
#ifndef COMMLAB_AMQP_H
#define COMMLAB_AMQP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Heartbeats let a link notice a broker that vanished without closing TCP
 * (a crashed VM): a silent peer is dropped after about twice this. The
 * broker's own setting wins when it is lower. */
#define AMQP_HEARTBEAT_S 10
/* Longest header value copied out of a message (x-commlab-reason, x-death). */
#define AMQP_REASON_MAX 200

struct amqp_link;

struct amqp_msg {
    uint64_t tag; /* delivery tag, for ack/nack on the link that received it */
    bool redelivered;
    char *body; /* malloc'd, NUL-terminated copy; len excludes the NUL */
    size_t len;
    char routing_key[128];
    /* Dead-letter bookkeeping, when present: our own reason header, and the
     * broker's first x-death entry (reason and queue). */
    char commlab_reason[AMQP_REASON_MAX];
    char death_reason[32];
    char death_queue[128];
    /* x-commlab-dead-letter-id, when a string that fits. */
    char dead_letter_id[40];
    long delivery_count; /* x-delivery-count of quorum queues, 0 if absent */
    /* Set when the message cannot be taken as it is: its properties break
     * the contract (see amqp_props_check) or the library could not decode
     * them (then `undecodable`, and body is empty). The consumer
     * dead-letters such a message without handing it to the service. */
    char refused[AMQP_REASON_MAX];
    bool undecodable;
};

/* Nodes of one cluster tried by amqp_link_open at the most. */
#define AMQP_MAX_NODES 8
/* Connects, logs in and opens channel 1. The URL is amqp://user:pass@host:port/vhost
 * (an empty vhost means "/"), or several such, comma-separated: the nodes of a
 * cluster, tried in turn, from a different one each call. NULL with `err`
 * filled on failure. */
struct amqp_link *amqp_link_open(const char *url, char *err, size_t errlen);
void amqp_link_close(struct amqp_link *l);
/* The last error on this link, for logs. */
const char *amqp_link_error(const struct amqp_link *l);

/* Declares a durable exchange of `type` (direct, topic, fanout). */
int amqp_link_exchange(struct amqp_link *l, const char *name, const char *type);
/* Declares a durable quorum queue bound to `exchange` with each of `keys`
 * (n_keys of them) whose rejected and over-delivered messages go to
 * `dlx` with routing key `name`, and its `name`.dlq bound there. */
int amqp_link_work_queue(struct amqp_link *l, const char *name, const char *exchange,
                         const char *const *keys, size_t n_keys, const char *dlx,
                         long delivery_limit);
/* Messages ready in a queue (passive declare, creates nothing); -1 on error
 * (the link is unusable after a missing queue: the broker closes the channel). */
long amqp_link_depth(struct amqp_link *l, const char *queue, long *consumers);

/* Publisher confirms: after this, every publish is acked or nacked by the broker. */
int amqp_link_confirm_mode(struct amqp_link *l);
/* A persistent JSON message. `reason` (may be NULL) goes in header
 * x-commlab-reason. Returns 0 when written to the socket. */
int amqp_link_publish(struct amqp_link *l, const char *exchange, const char *routing_key,
                      const void *body, size_t len, const char *reason);
/* A dead-letter copy of a message taken from `queue`: amqp_link_publish with
 * routing key `queue`, `reason` in x-commlab-reason and the copy's identity in
 * x-commlab-dead-letter-id (dead_letter_id.h: of `queue` and the body), the
 * same each time the same message is dead-lettered again. */
int amqp_link_dead_letter(struct amqp_link *l, const char *exchange, const char *queue,
                          const void *body, size_t len, const char *reason);
/* Waits until the broker confirmed everything published since the last call.
 * 0: all acked (and routed to a queue); -1: a nack, a return (unroutable), a
 * closed link or `timeout_ms` passed. Either way the window starts afresh. */
int amqp_link_wait_confirms(struct amqp_link *l, int timeout_ms);

/* What became of one publish (amqp_link_wait_confirms_each). */
enum amqp_confirm {
    AMQP_CONFIRM_PENDING,  /* no answer (the link broke or the wait timed out) */
    AMQP_CONFIRM_ACKED,    /* taken by a queue */
    AMQP_CONFIRM_NACKED,   /* refused by the broker (for now: its own trouble) */
    AMQP_CONFIRM_RETURNED, /* unroutable: no queue is bound to its routing key */
};
/* The same wait, per message: out[i] for the i-th publish since the last
 * wait (up to n). A nack or a return ends nothing: 0 once every message is
 * answered, -1 when the link broke or the wait timed out (out[] says which
 * were answered before). */
int amqp_link_wait_confirms_each(struct amqp_link *l, int timeout_ms, enum amqp_confirm *out,
                                 size_t n);

/* Manual-ack consumer with at most `prefetch` unacked messages in flight. */
int amqp_link_consume(struct amqp_link *l, const char *queue, unsigned prefetch);
/* 1: a message in `m` (free with amqp_msg_free); 0: none within timeout_ms
 * (0 polls); -1: the link broke. A message with `refused` set was read whole
 * but breaks the property contract; one with `undecodable` set could not be
 * read at all (only its tag is known): the link can still ack, nack and
 * publish, and its next read fails, so settle and reconnect. */
int amqp_link_next(struct amqp_link *l, struct amqp_msg *m, int timeout_ms);
/* One message by basic.get (no consumer needed); same results as next. */
int amqp_link_get(struct amqp_link *l, const char *queue, struct amqp_msg *m);
void amqp_msg_free(struct amqp_msg *m);
int amqp_link_ack(struct amqp_link *l, uint64_t tag, bool multiple);
int amqp_link_nack(struct amqp_link *l, uint64_t tag, bool requeue);
/* Waits up to timeout_ms for anything from the broker while idle (keeps
 * heartbeats going); 0 fine, -1 the link broke. Only for links that neither
 * consume nor have unconfirmed publishes. */
int amqp_link_idle(struct amqp_link *l, int timeout_ms);

#endif
