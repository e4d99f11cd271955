#include <stdlib.h>
#include <string.h>

#include "codec/order_json.h"
#include "domain/catalog.h"
#include "codec/service_json.h"
#include "codec/consumer_control_json.h"
#include "util/clock.h"
#include "util/log.h"
#include "runtime/service.h"
#include "inventory_service.h"

/* Applies the injected fault; false when the request must not be served
 * (an error was answered, or the service is stopping while hanging). */
static bool apply_fault(struct inventory_service *svc, struct http_response *res)
{
    long delay = atomic_load(&svc->fault_delay_ms);
    /* Sleep in slices so a stop or a /configure takes effect promptly. */
    for (uint64_t end = clock_mono_us() + (uint64_t)delay * 1000u;
         clock_mono_us() < end && !service_stopping();)
        clock_sleep_us(end - clock_mono_us() < 20000 ? end - clock_mono_us() : 20000);
    while (atomic_load(&svc->fault_mode) == FAULT_HANG && !service_stopping())
        clock_sleep_us(20000);
    if (service_stopping()) {
        http_respond(res, 503, error_encode("stopping", NULL, "inventory is shutting down"));
        return false;
    }
    if (atomic_load(&svc->fault_mode) == FAULT_ERROR) {
        http_respond(res, 500,
                     error_encode("injected_failure", NULL, "fault injection: mode=error"));
        return false;
    }
    return true;
}

/* The caller's deadline (DEADLINE_HEADER, milliseconds left when it sent
 * the request) as a clock_mono_us() instant: 0 when it sent none, -1 (400
 * answered) when the header is not a number of milliseconds. */
static int deadline_of(const struct http_request *req, struct http_response *res,
                       uint64_t *deadline_us)
{
    *deadline_us = 0;
    size_t len;
    const char *v = http_request_header(req, DEADLINE_HEADER, &len);
    if (!v)
        return 0;
    /* Digits only (no sign, no space inside); the loop stops before a value
     * past the bound could overflow. */
    long long ms = 0;
    size_t i = 0;
    while (i < len && v[i] >= '0' && v[i] <= '9' && ms <= 86400000)
        ms = ms * 10 + (v[i++] - '0');
    if (len == 0 || i != len || ms > 86400000) {
        http_respond(res, 400,
                     error_encode("bad_deadline", DEADLINE_HEADER,
                                  "expected the milliseconds left, 0 to 86400000"));
        return -1;
    }
    /* Two values leave it open which one a proxy on the way acted on. */
    if (http_request_header_count(req, DEADLINE_HEADER) > 1) {
        http_respond(res, 400,
                     error_encode("bad_deadline", DEADLINE_HEADER, "given more than once"));
        return -1;
    }
    *deadline_us = req->received_us + (uint64_t)ms * 1000u;
    return 0;
}

static void reserve(struct inventory_service *svc, const struct http_request *req,
                    struct http_response *res)
{
    res->route = "/reserve";
    struct order o;
    uint64_t deadline_us;
    if (deadline_of(req, res, &deadline_us) != 0 ||
        !service_post_order(req, res, NEED_ORDER_ID | NEED_ITEMS, &o))
        return;
    if (deadline_us)
        metrics_count(svc->metrics, "reserve_deadline_given_total",
                      "Reservations that came with the caller's deadline.", 1);
    if (!apply_fault(svc, res))
        return;
    /* The caller has given up (or will before an answer reaches it): a
     * reservation now would hold stock for an order that failed. */
    if (deadline_us && clock_mono_us() >= deadline_us) {
        metrics_count(svc->metrics, "reserve_deadline_expired_total",
                      "Reservations not started: the caller's deadline had passed.", 1);
        http_respond(res, 504,
                     error_encode("deadline_exceeded", DEADLINE_HEADER,
                                  "the caller's deadline passed before the reservation began"));
        return;
    }
    struct reserve_result r;
    if (stock_reserve(&svc->stock, &o, &r) != 0) {
        service_store_failed(res, "cannot update the stock database");
        return;
    }
    if (r.duplicate)
        metrics_count(svc->metrics, "reserve_duplicates_total",
                      "Reservations answered from the record of an earlier request.", 1);
    http_respond(res, r.reserved ? 200 : 409, reserve_answer_encode(o.order_id, &r));
}

/* Compensation from the order service for an order that failed on its side
 * (502/504): gives back what the order holds, or bars it if its /reserve has
 * not arrived yet. Not subject to the injected fault, which models a slow
 * or failing reservation path. */
static void release(struct inventory_service *svc, const struct http_request *req,
                    struct http_response *res)
{
    res->route = "/release";
    struct order o;
    if (!service_post_order(req, res, NEED_ORDER_ID, &o))
        return;
    if (svc->consumer || svc->kafka) {
        /* With a broker, the outcome of an order is an event already sent on. */
        http_respond(res, 409,
                     error_encode("release_unavailable", NULL,
                                  "releases belong to the synchronous chain; in amqp and kafka "
                                  "mode an order's outcome is final"));
        return;
    }
    enum release_outcome r;
    if (stock_release(&svc->stock, o.order_id, &r) != 0) {
        service_store_failed(res, "cannot update the stock database");
        return;
    }
    metrics_count(svc->metrics, "releases_total", "Orders released at the order service's request.",
                  1);
    const char *pairs[] = {"order_id", o.order_id, "outcome", release_outcome_name(r), NULL};
    http_respond(res, 200, json_object_of(pairs));
}

static void stock(struct inventory_service *svc, const struct http_request *req,
                  struct http_response *res)
{
    res->route = "/stock";
    if (strcmp(req->method, "GET") != 0) {
        service_method_not_allowed(res, "GET");
        return;
    }
    if (!service_no_query(req, res))
        return;
    long levels[16];
    if (stock_levels(&svc->stock, levels) != 0)
        service_internal_error(res, "cannot read the stock database");
    else
        http_respond(res, 200, stock_encode(levels));
}

/* GET /stock/{sku}: {"sku":..,"qty":..}, 404 for a SKU not on the menu. */
static void stock_one(struct inventory_service *svc, const struct http_request *req,
                      struct http_response *res)
{
    res->route = "/stock/{sku}";
    if (strcmp(req->method, "GET") != 0) {
        service_method_not_allowed(res, "GET");
        return;
    }
    if (!service_no_query(req, res))
        return;
    int i = catalog_index(req->path + strlen("/stock/"));
    long levels[16];
    if (i < 0) {
        http_respond(res, 404, error_encode("not_found", "sku", "no such SKU on the menu"));
    } else if (stock_levels(&svc->stock, levels) != 0) {
        service_internal_error(res, "cannot read the stock database");
    } else {
        http_respond(res, 200, stock_item_encode(catalog_sku((size_t)i), levels[i]));
    }
}

static void configure(struct inventory_service *svc, const struct http_request *req,
                      struct http_response *res)
{
    res->route = "/configure";
    if (strcmp(req->method, "POST") != 0) {
        service_method_not_allowed(res, "POST");
        return;
    }
    if (!service_no_query(req, res))
        return;
    if (!service_require_json(req, res))
        return;
    long delay = atomic_load(&svc->fault_delay_ms);
    enum fault_mode mode = (enum fault_mode)atomic_load(&svc->fault_mode);
    struct field_error err;
    if (fault_decode(req->body, req->body_len, &delay, &mode, &err) != 0) {
        service_bad_request(res, err.field, err.message);
        return;
    }
    /* Kafka mode also takes {"throttle_ms":N,"paused":bool}; both bodies are
     * checked before anything changes, so bad input changes nothing. */
    long throttle = atomic_load(&svc->stream_throttle_ms);
    bool paused = atomic_load(&svc->stream_paused);
    if (svc->kafka &&
        stream_control_decode(req->body, req->body_len, &throttle, &paused, &err) != 0) {
        service_bad_request(res, err.field, err.message);
        return;
    }
    atomic_store(&svc->fault_delay_ms, delay);
    atomic_store(&svc->fault_mode, (int)mode);
    if (svc->kafka) {
        atomic_store(&svc->stream_throttle_ms, throttle);
        atomic_store(&svc->stream_paused, paused);
        log_info("kafka consumption now throttle_ms=%ld paused=%s", throttle,
                 paused ? "true" : "false");
        http_respond(res, 200, stream_control_encode(throttle, paused));
        return;
    }
    log_info("fault injection now delay_ms=%ld mode=%s", delay, fault_mode_name(mode));
    http_respond(res, 200, fault_encode(delay, mode));
}

void inventory_api_handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct inventory_service *svc = ctx;
    if (service_health_path(req->path) && atomic_load(&svc->stream_failed)) {
        res->route = "/healthz";
        service_internal_error(res, "the kafka consumer stopped (see the log)");
        return;
    }
    if (service_common_route(svc->metrics, svc->db_path, req, res))
        return;
    if (strcmp(req->path, "/reserve") == 0)
        reserve(svc, req, res);
    else if (strcmp(req->path, "/release") == 0)
        release(svc, req, res);
    else if (strcmp(req->path, "/stock") == 0)
        stock(svc, req, res);
    else if (strncmp(req->path, "/stock/", 7) == 0)
        stock_one(svc, req, res);
    else if (strcmp(req->path, "/configure") == 0)
        configure(svc, req, res);
    else
        service_not_found(res);
}
