/* The outbox relay over HTTP: the transport part of the outbox relay
 * (core/store/outbox_relay.h), which marks rows sent. Each row's body is
 * POSTed (application/json) to one URL, in order, until it is answered.
 *
 * What the receiver says decides what becomes of a row: 2xx delivered; a
 * 4xx other than 408, 425 and 429 refuses it for good (it is set aside with
 * the answer, and the rows behind it go on); 408, 425, 429 and 5xx refuse it
 * for now (it waits a backoff of its own, the other keys' rows go on); no
 * answer at all (refused connection, timeout) means the receiver is away:
 * the round stops and the relay backs off. */
#ifndef COMMLAB_HTTP_OUTBOX_H
#define COMMLAB_HTTP_OUTBOX_H

#include "metrics/metrics.h"
#include "store/outbox_relay.h"
#include "util/notice.h"

/* A batch of rows a round, looked for every second when idle, retried from
 * 0.25 s doubling to 5 s while the receiver is away. */
#define HTTP_OUTBOX_CONFIG(name_, destination_, metric_prefix)                                     \
    ((struct outbox_relay_config)OUTBOX_RELAY_CONFIG(name_, destination_, 32, 1000, 250, 5000,     \
                                                     metric_prefix))

struct http_outbox_opts {
    struct outbox_relay_config relay; /* HTTP_OUTBOX_CONFIG() */
    const char *url;                  /* kept, not copied */
    long timeout_ms;
    const char *what; /* the row's name in a notice: "release" */
    /* Optional: the sender's own bookkeeping, in the transaction that marks
     * rows[0..n) delivered; -1 rolls it back. */
    int (*settle_locked)(void *ctx, const struct outbox_row *rows, size_t n);
    void *ctx;
    struct notifier notice;
};

struct http_outbox_relay;

/* Starts at once even if the receiver is away; NULL if it cannot start. */
struct http_outbox_relay *http_outbox_relay_start(const struct http_outbox_opts *o,
                                                  struct outbox *ob, struct metrics *m);
/* Wakes the relay at once (a row was just stored); NULL does nothing. */
void http_outbox_relay_kick(struct http_outbox_relay *r);
/* Stops and frees it; rows not delivered stay in the outbox. */
void http_outbox_relay_stop(struct http_outbox_relay *r);

#endif
