/* What every service main shares: signals, the HTTP server with metrics and
 * the common endpoints, the port file the lab reads. Wiring only: no domain
 * rules here. */
#ifndef COMMLAB_SERVICE_H
#define COMMLAB_SERVICE_H

#include <stdbool.h>

#include "domain/order.h"
#include "metrics/metrics.h"
#include "transport/http_server.h"

/* Request bodies larger than this are refused with 413. */
#define SERVICE_MAX_BODY 65536
/* The time budget a caller has left for a request, in milliseconds: work
 * that cannot finish within it is not started. */
#define DEADLINE_HEADER "X-Commlab-Deadline-Ms"

/* Blocks SIGINT/SIGTERM (call before starting threads) and ignores SIGPIPE. */
void service_signals_init(void);
/* Waits for SIGINT or SIGTERM; afterwards service_stopping() is true. */
void service_wait(void);
bool service_stopping(void);
/* Makes service_stopping() true without a signal: the way out of a start
 * that failed after background threads began (they stop on it). */
void service_request_stop(void);

/* Writes the bound port to `path` atomically (write, then rename). */
int service_write_port_file(const char *path, unsigned port);

/* The HTTP server's options, the same in every service: put this in the
 * program's option table (it defines --listen's neighbours, not --listen). */
// clang-format off
#define SERVICE_HTTP_OPTIONS \
    {"http-header-timeout-ms", "10000", "close a connection whose request header is not " \
     "complete this long after it began", false, NULL}, \
    {"http-body-timeout-ms", "30000", "close a connection whose request body is not " \
     "complete this long after its header", false, NULL}, \
    {"http-idle-timeout-s", "30", "close a kept-alive connection idle this long", false, NULL}, \
    {"http-max-connections", "16384", "open connections at most (lowered to fit the " \
     "open-files limit, which is raised as far as allowed)", false, NULL}, \
    {"http-max-per-client", "1024", "open connections per client address at most", false, NULL}, \
    {"http-handler-threads", "32", "threads running request handlers (a request waits " \
     "for one; an open connection needs none)", false, NULL}, \
    {"http-poll-threads", "1", "threads polling the sockets, each with its own share of " \
     "the connections", false, NULL}
// clang-format on

struct opt;
/* Starts the HTTP server on --listen with the SERVICE_HTTP_OPTIONS limits,
 * recording every answer in `metrics`. NULL (logged) on failure. */
struct http_server *service_http_start(const struct opt *opts, struct metrics *metrics,
                                       http_handler_fn handler, void *ctx);

/* Answers /healthz, /metrics and /dump (the canonical state of `db_path`,
 * as commlab-dump prints it); true when it did. */
bool service_common_route(struct metrics *metrics, const char *db_path,
                          const struct http_request *req, struct http_response *res);
/* 404 / 405 / 415 / 400 answers with a JSON body. */
void service_not_found(struct http_response *res);
void service_method_not_allowed(struct http_response *res, const char *allowed);
/* True when the request is JSON; otherwise answers 415 and returns false. */
bool service_require_json(const struct http_request *req, struct http_response *res);
void service_bad_request(struct http_response *res, const char *field, const char *message);
/* The start of every POST that carries an order: the method, the content type
 * and the body decoded with the fields `need` (enum order_fields). Answers
 * 405, 415 or 400 (naming the field) itself and returns false. */
bool service_post_order(const struct http_request *req, struct http_response *res, unsigned need,
                        struct order *o);
void service_internal_error(struct http_response *res, const char *what);

#endif
