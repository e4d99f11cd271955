#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/order_json.h"
#include "util/clock.h"
#include "runtime/list_page.h"
#include "runtime/service.h"
#include "order_service.h"

static void place(struct order_service *svc, const struct http_request *req,
                  struct http_response *res)
{
    res->route = "/order";
    struct order o;
    if (!service_post_order(req, res, NEED_USER_ID | NEED_ITEMS, &o))
        return;
    if (!o.order_id[0])
        order_id_random(o.order_id);
    if (o.occurred_at < 0)
        o.occurred_at = clock_wall_ms();
    if (svc->mode == MODE_SYNC)
        sync_place_order(svc, &o, res);
    else
        outbox_place_order(svc, &o, res);
}

static void show(struct order_service *svc, const struct http_request *req,
                 struct http_response *res)
{
    res->route = "/orders/{id}";
    if (strcmp(req->method, "GET") != 0) {
        service_method_not_allowed(res, "GET");
        return;
    }
    if (!service_no_query(req, res))
        return;
    const char *id = req->path + strlen("/orders/");
    struct order_record rec;
    int found = id_valid(id) ? order_get(&svc->orders, id, &rec) : 0;
    if (found < 0)
        service_internal_error(res, "cannot read the order database");
    else if (found == 0)
        http_respond(res, 404, error_encode("not_found", "order_id", "no order with this id"));
    else
        http_respond(res, 200, order_view_encode(&rec.order, rec.status, rec.detail, NULL));
}

static bool status_known(const char *name)
{
    enum order_status s;
    return order_status_parse(name, &s) == 0;
}

static bool list_row(void *ctx, const struct order_record *rec)
{
    struct list_page *p = ctx;
    bool match = (!p->user_id[0] || strcmp(p->user_id, rec->order.user_id) == 0) &&
                 (!p->status[0] || strcmp(p->status, rec->status) == 0);
    char *json = match ? order_view_encode(&rec->order, rec->status, rec->detail, NULL) : NULL;
    if (match && !json)
        p->out.failed = 1;
    bool more = list_page_row(p, rec->order.order_id, json);
    free(json);
    return more;
}

/* GET /orders: a page in order_id order (list_page.h). */
static void list(struct order_service *svc, const struct http_request *req,
                 struct http_response *res)
{
    res->route = "/orders";
    struct list_page p;
    if (!list_page_start(req, res, status_known, "orders", &p))
        return;
    int rc = order_scan(&svc->orders, p.after, LIST_SCAN_MAX, list_row, &p);
    list_page_finish(&p, rc != 0, res);
}

void order_api_handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct order_service *svc = ctx;
    if (service_common_route(svc->metrics, svc->db_path, req, res))
        return;
    if (strcmp(req->path, "/order") == 0)
        place(svc, req, res);
    else if (strcmp(req->path, "/orders") == 0)
        list(svc, req, res);
    else if (strncmp(req->path, "/orders/", 8) == 0)
        show(svc, req, res);
    else
        service_not_found(res);
}
