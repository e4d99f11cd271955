/* Part C: relays the outbox to Kafka. Not built yet. */
#include "../core/util/log.h"
#include "order_service.h"

int kafka_relay_start(struct order_service *svc, const char *brokers)
{
    (void)svc;
    log_error("stream mode (Kafka at %s) is not built yet", brokers);
    return -1;
}

void kafka_relay_stop(struct order_service *svc)
{
    (void)svc;
}
