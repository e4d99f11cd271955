/* HTTP/1.1 server over libmicrohttpd, knowing nothing of what it serves: a
 * handler turns a whole request into a whole response. One thread per
 * connection, so a handler may block (on a downstream call, an injected delay)
 * without stalling other clients. Bodies over `max_body` never reach the
 * handler: the server answers 413 itself. */
#ifndef COMMLAB_HTTP_SERVER_H
#define COMMLAB_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct http_request {
    const char *method;
    const char *path;
    const char *content_type; /* NULL when absent */
    const char *body;         /* NUL-terminated, may contain NULs */
    size_t body_len;
};

struct http_response {
    int status;
    char *body; /* malloc'd; the server frees it */
    size_t body_len;
    const char *content_type; /* default application/json */
    const char *route;        /* label for metrics, e.g. "/order"; default "other" */
};

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *res);
typedef void (*http_observe_fn)(void *ctx, const char *route, int status, uint64_t usec);

struct http_server_config {
    const char *listen; /* "host:port"; port 0 picks a free one */
    size_t max_body;
    http_handler_fn handler;
    http_observe_fn observe; /* may be NULL */
    void *observe_ctx;
    void *ctx;
};

struct http_server;

struct http_server *http_server_start(const struct http_server_config *cfg);
uint16_t http_server_port(const struct http_server *s);
/* Stops accepting, waits for handlers to return, frees everything. */
void http_server_stop(struct http_server *s);

/* Helpers for handlers. */
void http_respond(struct http_response *res, int status, char *body);
void http_respond_text(struct http_response *res, int status, const char *content_type,
                       char *body, size_t len);

#endif
