/* What every service's HTTP API shares: the common endpoints and the error
 * answers. Wiring only: no domain rules here. The process around it is
 * service_main.h's. */
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

/* True once the process was told to stop (SIGINT/SIGTERM, see
 * service_main.h): a wait in a request handler gives up on it. */
bool service_stopping(void);
/* Makes service_stopping() true without a signal: the way out of a start
 * that failed after background threads began (they stop on it). */
void service_request_stop(void);
/* Ends the process from a background thread the way a SIGTERM does: the
 * main thread's wait returns and it tears down in order (the exit status is
 * the service's exit_status hook's). */
void service_exit(void);

/* /healthz or its alias /health. */
bool service_health_path(const char *path);
/* Answers /healthz (and /health), /metrics and /dump (the canonical state of `db_path`,
 * as commlab-dump prints it); true when it did. */
bool service_common_route(struct metrics *metrics, const char *db_path,
                          const struct http_request *req, struct http_response *res);
/* 404 / 405 / 415 / 400 answers with a JSON body. */
void service_not_found(struct http_response *res);
void service_method_not_allowed(struct http_response *res, const char *allowed);
/* True when the request is JSON; otherwise answers 415 and returns false. */
bool service_require_json(const struct http_request *req, struct http_response *res);
void service_bad_request(struct http_response *res, const char *field, const char *message);
/* Every route but a list takes no query parameter: true when the request
 * carries none, else answers 400 naming the first one (http_query.h: an
 * empty query, or empty sequences such as "?&", hold none). */
bool service_no_query(const struct http_request *req, struct http_response *res);
/* The start of every POST that carries an order: the method, the content type
 * and the body decoded with the fields `need` (enum order_fields). Answers
 * 405, 415 or 400 (naming the field) itself and returns false. */
bool service_post_order(const struct http_request *req, struct http_response *res, unsigned need,
                        struct order *o);
void service_internal_error(struct http_response *res, const char *what);
/* The answer to a write the store refused (db_transact failed on this
 * thread; nothing was stored): 503 with Retry-After when the trouble passes
 * by itself (a full disk, a lock held elsewhere, an I/O error), else 500. */
void service_store_failed(struct http_response *res, const char *what);
/* Seconds a client is told to wait while the disk is full, or the database busy. */
#define SERVICE_STORE_FULL_RETRY_S 5
#define SERVICE_STORE_BUSY_RETRY_S 1

#endif
