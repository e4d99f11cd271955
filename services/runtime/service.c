#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/order_json.h"
#include "store/dump.h"
#include "util/log.h"

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
    if (service_health_path(req->path)) {
        res->route = strcmp(req->path, "/health") == 0 ? "/health" : "/healthz";
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

bool service_health_path(const char *path)
{
    /* /health is what the seeds and other implementations probe. */
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/health") == 0;
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
