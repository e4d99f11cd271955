/* HTTP/1.1 server over libmicrohttpd, knowing nothing of what it serves: a
 * handler turns a whole request into a whole response.
 *
 * Event-driven: one thread polls every socket (epoll), so an open connection
 * costs memory, not a thread. Handlers may block (fsync, a downstream call),
 * so they run on a bounded pool of handler threads while their connection is
 * suspended; handlers that never block can be declared inline and run on the
 * polling thread. A handler can also keep its connection waiting and answer
 * later, from any thread (http_defer / http_deferred_finish).
 *
 * The server enforces RFC 9112 framing and read deadlines before a handler
 * sees anything: bad framing is 400, bodies over `max_body` are 413 (cut as
 * soon as they pass the limit), and the connection is closed after either.
 *
 * It logs nothing itself: errors come back to the caller (an err buffer),
 * and what the service may want to log is handed to it (the `log` hook,
 * http_server_describe, http_server_notice). */
#ifndef COMMLAB_HTTP_SERVER_H
#define COMMLAB_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_request {
    const char *method;       /* HEAD arrives as GET: the server drops the body */
    const char *path;         /* percent-decoded, origin form, no NUL or control bytes */
    const char *content_type; /* NULL when absent */
    const char *body;         /* NUL-terminated, may contain NULs */
    size_t body_len;
    uint64_t received_us;           /* clock_mono_us() when the request began to arrive */
    struct http_exchange *exchange; /* the server's; for http_request_header */
};

struct http_exchange;

struct http_response {
    int status;
    char *body; /* malloc'd; the server frees it */
    size_t body_len;
    const char *content_type;       /* default application/json */
    const char *route;              /* label for metrics, e.g. "/order"; default "other" */
    const char *allow;              /* Allow header (405 answers); static storage */
    unsigned retry_after_s;         /* Retry-After header (503 answers) when not 0 */
    struct http_exchange *exchange; /* the server's; handlers leave it alone */
    bool deferred;                  /* set by http_defer */
};

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *res);
typedef void (*http_observe_fn)(void *ctx, const char *route, int status, uint64_t usec);
/* Adds one to a named counter (deadline closes and other events with no route). */
typedef void (*http_count_fn)(void *ctx, const char *name, const char *help);

struct http_limits {
    unsigned header_timeout_ms; /* a request's header complete within this */
    unsigned body_timeout_ms;   /* its body complete within this, after the header */
    unsigned idle_timeout_s;    /* a kept-alive connection with no traffic is closed */
    unsigned max_connections;   /* lowered to what the open-files limit allows */
    unsigned max_per_client;    /* connections per client address */
    unsigned handler_threads;
    unsigned poll_threads; /* threads polling the sockets (each its own epoll) */
};

struct http_server_config {
    const char *listen; /* "host:port"; port 0 picks a free one */
    size_t max_body;
    struct http_limits limits;
    http_handler_fn handler;
    /* Paths whose handler never blocks: run on the polling thread. */
    const char *const *inline_paths; /* NULL-terminated, may be NULL */
    http_observe_fn observe;         /* may be NULL */
    http_count_fn count;             /* may be NULL */
    void *observe_ctx;
    void *ctx;
    /* libmicrohttpd's own messages, one line each and a few a second at
     * most; may be NULL (dropped). */
    void (*log)(const char *line);
};

/* Big enough for any http_server_start error. */
#define HTTP_ERR_LEN 256

struct http_server;

/* Starts serving; NULL with the reason in `err`. */
struct http_server *http_server_start(const struct http_server_config *cfg, char *err,
                                      size_t errlen);
uint16_t http_server_port(const struct http_server *s);
/* The connection limit in force (after the open-files limit). */
unsigned http_server_max_connections(const struct http_server *s);
/* One line for the log: the library's version and the limits in force. */
void http_server_describe(const struct http_server *s, char *buf, size_t len);
/* Why the connection limit is lower than asked (the open-files limit), or
 * NULL when it is not. */
const char *http_server_notice(const struct http_server *s);
/* Stops accepting, lets queued handlers finish, frees everything. */
void http_server_stop(struct http_server *s);

/* Helpers for handlers. */
void http_respond(struct http_response *res, int status, char *body);
void http_respond_text(struct http_response *res, int status, const char *content_type, char *body,
                       size_t len);

/* Called by a handler: its connection waits after the handler returns, and
 * `res` is ignored. The answer is given once, later, from any thread, by
 * http_deferred_finish (which takes over res->body). */
struct http_deferred *http_defer(struct http_response *res);
void http_deferred_finish(struct http_deferred *d, struct http_response *res);
/* Runs `fn(arg, res)` for a deferred request on a handler thread (it may
 * block there), and answers with what it leaves in `res` unless it defers
 * again. For callers on a thread that must not block, such as a client's
 * event loop. */
typedef void (*http_continue_fn)(void *arg, struct http_response *res);
void http_deferred_continue(struct http_deferred *d, http_continue_fn fn, void *arg);

/* A request header's value, or NULL; *len is its length without the
 * whitespace after it (RFC 9110 5.5: OWS around a field value is not part of
 * it; the library drops what comes before). Only while the handler runs. */
const char *http_request_header(const struct http_request *req, const char *name, size_t *len);
/* How many times the request carries the header (0 when absent). */
unsigned http_request_header_count(const struct http_request *req, const char *name);
/* Calls fn with each query parameter in the order sent, repeats included;
 * percent escapes are left as sent ("+" arrives as a space), value NULL for
 * a name without "=". Only while the handler runs; http_query.h reads them. */
typedef void (*http_arg_fn)(void *ctx, const char *name, const char *value);
void http_request_args(const struct http_request *req, http_arg_fn fn, void *ctx);

#endif
