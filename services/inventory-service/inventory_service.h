#ifndef COMMLAB_INVENTORY_SERVICE_H
#define COMMLAB_INVENTORY_SERVICE_H

#include <stdatomic.h>

#include "../core/domain/fault.h"
#include "../core/metrics/metrics.h"
#include "../core/store/db.h"
#include "../core/store/stock_store.h"
#include "../transport/http_server.h"

struct inventory_service {
    struct db db;
    struct stock_store stock;
    struct metrics *metrics;
    const char *db_path;
    atomic_long fault_delay_ms;
    atomic_int fault_mode; /* enum fault_mode */
};

void inventory_api_handle(void *ctx, const struct http_request *req, struct http_response *res);

#endif
