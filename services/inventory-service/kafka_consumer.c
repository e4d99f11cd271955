/* Part C: the inventory consumer over Kafka. Not built yet. */
#include "../core/util/log.h"
#include "inventory_service.h"

int inventory_kafka_start(struct inventory_service *svc, const char *where)
{
    (void)svc;
    log_error("kafka mode (%s) is not built yet", where);
    return -1;
}

void inventory_kafka_stop(struct inventory_service *svc)
{
    (void)svc;
}
