#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/order_json.h"
#include "store/db.h"
#include "store/dump.h"
#include "transport/http_query.h"
#include "transport/media_type.h"
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
        else if (service_no_query(req, res))
            dump(db_path, res);
        return true;
    }
    if (service_health_path(req->path)) {
        res->route = strcmp(req->path, "/health") == 0 ? "/health" : "/healthz";
        if (strcmp(req->method, "GET") != 0)
            service_method_not_allowed(res, "GET");
        else if (service_no_query(req, res))
            http_respond(res, 200, strdup("{\"status\":\"ok\"}"));
        return true;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        res->route = "/metrics";
        if (strcmp(req->method, "GET") != 0) {
            service_method_not_allowed(res, "GET");
            return true;
        }
        if (!service_no_query(req, res))
            return true;
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
    const char *why = ct ? media_type_json_error(ct, strlen(ct)) : "no Content-Type";
    if (!why)
        return true;
    char message[160];
    snprintf(message, sizeof message, "send Content-Type: application/json (%s)", why);
    answer(res, 415, "unsupported_media_type", NULL, message);
    return false;
}

void service_bad_request(struct http_response *res, const char *field, const char *message)
{
    answer(res, 400, "validation_failed", field, message);
}

bool service_no_query(const struct http_request *req, struct http_response *res)
{
    static const char *const none[] = {NULL};
    struct http_query q;
    if (http_query_read(req, none, &q) == 0)
        return true;
    service_bad_request(res, q.bad, q.why);
    return false;
}

bool service_post_order(const struct http_request *req, struct http_response *res, unsigned need,
                        struct order *o)
{
    if (strcmp(req->method, "POST") != 0) {
        service_method_not_allowed(res, "POST");
        return false;
    }
    if (!service_no_query(req, res))
        return false;
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

void service_store_failed(struct http_response *res, const char *what)
{
    int err = db_last_error();
    if (!db_error_is_transient(err)) {
        service_internal_error(res, what);
        return;
    }
    bool full = (err & 0xff) == SQLITE_FULL;
    char message[200];
    snprintf(message, sizeof message, "%s: %s; nothing was stored, retry later", what,
             full ? "the disk is full" : sqlite3_errstr(err));
    res->retry_after_s = full ? SERVICE_STORE_FULL_RETRY_S : SERVICE_STORE_BUSY_RETRY_S;
    answer(res, 503, full ? "storage_full" : "store_unavailable", NULL, message);
}
