/* The analytics HTTP API: GET /metrics.json (the canonical document),
 * GET /stats, POST /configure, and the common /healthz /metrics /dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/consumer_control_json.h"
#include "util/log.h"
#include "runtime/service.h"
#include "analytics_service.h"

static void get_metrics_json(struct analytics *a, struct http_response *res)
{
    struct buf b = {0};
    if (analytics_render(&a->store, &b) != 0) {
        buf_free(&b);
        service_internal_error(res, "cannot read the analytics database");
        return;
    }
    size_t len = 0;
    char *text = buf_take(&b, &len);
    http_respond_text(res, 200, "application/json", text, len);
}

static void get_stats(struct analytics *a, struct http_response *res)
{
    uint64_t first = atomic_load(&a->first_us), last = atomic_load(&a->last_us);
    char *body = malloc(256);
    if (body)
        snprintf(body, 256,
                 "{\"events_consumed\":%llu,\"active_seconds\":%.6f,\"throttle_ms\":%ld,"
                 "\"paused\":%s}",
                 (unsigned long long)atomic_load(&a->consumed),
                 first && last > first ? (double)(last - first) / 1e6 : 0.0,
                 atomic_load(&a->throttle_ms), atomic_load(&a->paused) ? "true" : "false");
    http_respond(res, 200, body);
}

static void configure(struct analytics *a, const struct http_request *req,
                      struct http_response *res)
{
    if (strcmp(req->method, "POST") != 0) {
        service_method_not_allowed(res, "POST");
        return;
    }
    if (!service_no_query(req, res))
        return;
    if (!service_require_json(req, res))
        return;
    long t = atomic_load(&a->throttle_ms);
    bool p = atomic_load(&a->paused);
    struct field_error err;
    if (stream_control_decode(req->body, req->body_len, &t, &p, &err) != 0) {
        service_bad_request(res, err.field, err.message);
        return;
    }
    atomic_store(&a->throttle_ms, t);
    atomic_store(&a->paused, p);
    log_info("consumption now throttle_ms=%ld paused=%s", t, p ? "true" : "false");
    http_respond(res, 200, stream_control_encode(t, p));
}

void analytics_api_handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct analytics *a = ctx;
    if (service_health_path(req->path) && atomic_load(&a->failed)) {
        res->route = "/healthz";
        service_internal_error(res, "the consumer stopped");
        return;
    }
    if (service_common_route(a->metrics, a->db_path, req, res))
        return;
    if (strcmp(req->path, "/metrics.json") == 0) {
        res->route = "/metrics.json";
        if (strcmp(req->method, "GET") != 0)
            service_method_not_allowed(res, "GET");
        else if (service_no_query(req, res))
            get_metrics_json(a, res);
    } else if (strcmp(req->path, "/stats") == 0) {
        res->route = "/stats";
        if (strcmp(req->method, "GET") != 0)
            service_method_not_allowed(res, "GET");
        else if (service_no_query(req, res))
            get_stats(a, res);
    } else if (strcmp(req->path, "/configure") == 0) {
        res->route = "/configure";
        configure(a, req, res);
    } else {
        service_not_found(res);
    }
}
