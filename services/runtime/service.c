#include "service.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "codec/order_json.h"
#include "store/dump.h"
#include "util/options.h"
#include "util/log.h"

static atomic_bool stopping;
static sigset_t stop_signals;

void service_signals_init(void)
{
#ifdef __GLIBC__
    /* glibc gives threads their own malloc arenas, up to 8 per core; with a
     * thread per connection that multiplies the resident heap. The threads
     * mostly wait on sockets and fsync, so one arena costs no throughput. */
    mallopt(M_ARENA_MAX, 1);
#endif
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
}

void service_wait(void)
{
    int sig = 0;
    sigwait(&stop_signals, &sig);
    atomic_store(&stopping, true);
    log_info("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

bool service_stopping(void)
{
    return atomic_load(&stopping);
}

void service_request_stop(void)
{
    atomic_store(&stopping, true);
}

int service_write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        log_error("cannot write port file %s", path);
        return -1;
    }
    return 0;
}

static void observe(void *ctx, const char *route, int status, uint64_t usec)
{
    metrics_http_observe(ctx, route, status, usec);
}

static void count(void *ctx, const char *name, const char *help)
{
    metrics_count(ctx, name, help, 1);
}

static int limit(const struct opt *opts, const char *name, long min, long max, unsigned *out)
{
    long v;
    if (config_long(opts, name, min, max, &v) != 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Never block: answered on the polling thread, no hand-off to a handler.
 * /configure (fault injection, atomics only) too, so that it reaches a
 * service whose handler threads all hang in an injected fault. */
static const char *const inline_paths[] = {"/healthz", "/metrics", "/configure", NULL};

struct http_server *service_http_start(const struct opt *opts, struct metrics *metrics,
                                       http_handler_fn handler, void *ctx)
{
    struct http_limits lim;
    if (limit(opts, "http-header-timeout-ms", 1, 3600000, &lim.header_timeout_ms) ||
        limit(opts, "http-body-timeout-ms", 1, 3600000, &lim.body_timeout_ms) ||
        limit(opts, "http-idle-timeout-s", 1, 86400, &lim.idle_timeout_s) ||
        limit(opts, "http-max-connections", 1, 1000000, &lim.max_connections) ||
        limit(opts, "http-max-per-client", 1, 1000000, &lim.max_per_client) ||
        limit(opts, "http-handler-threads", 1, 1024, &lim.handler_threads) ||
        limit(opts, "http-poll-threads", 1, 64, &lim.poll_threads))
        return NULL;
    struct http_server_config cfg = {
        .listen = config_str(opts, "listen"),
        .limits = lim,
        .inline_paths = inline_paths,
        .count = count,
        .max_body = SERVICE_MAX_BODY,
        .handler = handler,
        .observe = observe,
        .observe_ctx = metrics,
        .ctx = ctx,
    };
    return http_server_start(&cfg);
}

static void answer(struct http_response *res, int status, const char *code, const char *field,
                   const char *message)
{
    http_respond(res, status, error_encode(code, field, message));
}

static void dump(const char *db_path, struct http_response *res)
{
    struct buf out = {0};
    if (dump_database(db_path, &out) != 0) {
        buf_free(&out);
        service_internal_error(res, "cannot read the database for /dump");
        return;
    }
    size_t len = 0;
    char *text = buf_take(&out, &len);
    http_respond_text(res, text ? 200 : 500, "text/plain; charset=utf-8", text, len);
}

bool service_common_route(struct metrics *metrics, const char *db_path,
                          const struct http_request *req, struct http_response *res)
{
    if (strcmp(req->path, "/dump") == 0) {
        res->route = "/dump";
        if (strcmp(req->method, "GET") != 0)
            service_method_not_allowed(res, "GET");
        else
            dump(db_path, res);
        return true;
    }
    if (strcmp(req->path, "/healthz") == 0) {
        res->route = "/healthz";
        if (strcmp(req->method, "GET") != 0)
            service_method_not_allowed(res, "GET");
        else
            http_respond(res, 200, strdup("{\"status\":\"ok\"}"));
        return true;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        res->route = "/metrics";
        if (strcmp(req->method, "GET") != 0) {
            service_method_not_allowed(res, "GET");
            return true;
        }
        size_t len = 0;
        char *text = metrics_render(metrics, &len);
        http_respond_text(res, text ? 200 : 500, "text/plain; version=0.0.4", text, len);
        return true;
    }
    return false;
}

void service_not_found(struct http_response *res)
{
    answer(res, 404, "not_found", NULL, "no such path");
}

void service_method_not_allowed(struct http_response *res, const char *allowed)
{
    /* Every GET route answers HEAD too (the server turns HEAD into GET). */
    res->allow = strcmp(allowed, "GET") == 0 ? "GET, HEAD" : allowed;
    char msg[64];
    snprintf(msg, sizeof msg, "use %s", allowed);
    answer(res, 405, "method_not_allowed", NULL, msg);
}

bool service_require_json(const struct http_request *req, struct http_response *res)
{
    const char *ct = req->content_type;
    size_t n = strlen("application/json");
    if (ct && strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';'))
        return true;
    answer(res, 415, "unsupported_media_type", NULL, "send Content-Type: application/json");
    return false;
}

void service_bad_request(struct http_response *res, const char *field, const char *message)
{
    answer(res, 400, "validation_failed", field, message);
}

bool service_post_order(const struct http_request *req, struct http_response *res, unsigned need,
                        struct order *o)
{
    if (strcmp(req->method, "POST") != 0) {
        service_method_not_allowed(res, "POST");
        return false;
    }
    if (!service_require_json(req, res))
        return false;
    struct field_error err;
    if (order_decode(req->body, req->body_len, need, o, &err) != 0) {
        service_bad_request(res, err.field, err.message);
        return false;
    }
    return true;
}

void service_internal_error(struct http_response *res, const char *what)
{
    log_error("%s", what);
    answer(res, 500, "internal_error", NULL, what);
}
