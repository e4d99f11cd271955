/* Part B: relays the outbox to RabbitMQ. Not built yet. */
#include "../core/util/log.h"
#include "order_service.h"

int amqp_relay_start(struct order_service *svc, const char *amqp_url)
{
    (void)svc;
    log_error("async mode (RabbitMQ at %s) is not built yet", amqp_url);
    return -1;
}

void amqp_relay_stop(struct order_service *svc)
{
    (void)svc;
}
