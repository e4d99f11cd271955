/* Part B: the inventory consumer over RabbitMQ. Not built yet. */
#include "../core/util/log.h"
#include "inventory_service.h"

int inventory_amqp_start(struct inventory_service *svc, const char *where)
{
    (void)svc;
    log_error("amqp mode (%s) is not built yet", where);
    return -1;
}

void inventory_amqp_stop(struct inventory_service *svc)
{
    (void)svc;
}
