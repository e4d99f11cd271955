/* Non-blocking HTTP client: one thread drives every call through libcurl's
 * multi interface, so a call in flight costs a socket and a little memory,
 * never a thread. Connections to a peer are kept alive and shared by the
 * calls that follow; a dead one (the peer restarted) is replaced on the next. */
#ifndef COMMLAB_HTTP_ASYNC_H
#define COMMLAB_HTTP_ASYNC_H

#include <stddef.h>

#include "transport/http_client.h"

struct http_async;

struct http_async_request {
    const char *url;
    const char *body; /* POSTed; copied by http_async_call */
    size_t body_len;
    const char *content_type;
    const char *header; /* one extra "Name: value" line, or NULL */
    long timeout_ms;
};

/* Runs on the client's thread, which must not block: hand longer work on.
 * `r` is the callee's to free (http_result_free). */
typedef void (*http_async_done_fn)(void *arg, struct http_result *r);

struct http_async *http_async_start(const char *name);
/* Refuses new calls from now on and waits for the calls in flight (each
 * ends by its timeout at the latest); http_async_call keeps answering -1
 * until http_async_free, which may only come when no thread can call any
 * more. */
void http_async_stop(struct http_async *a);
void http_async_free(struct http_async *a);
/* 0: `done` will run exactly once, on the client's thread. -1: the call
 * could not be started (stopping, out of memory); `done` never runs. */
int http_async_call(struct http_async *a, const struct http_async_request *req,
                    http_async_done_fn done, void *arg);

#endif
