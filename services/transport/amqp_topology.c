#include "amqp_topology.h"

int amqp_topology_declare(struct amqp_link *l)
{
    static const char *const inventory_keys[] = {AMQP_KEY_ORDER_PLACED};
    static const char *const notification_keys[] = {AMQP_KEY_RESERVED};
    static const char *const order_keys[] = {AMQP_KEY_RESERVED, AMQP_KEY_FAILED};
    return amqp_link_exchange(l, AMQP_EXCHANGE, "topic") ||
                   amqp_link_exchange(l, AMQP_DLX, "direct") ||
                   amqp_link_work_queue(l, AMQP_Q_INVENTORY, AMQP_EXCHANGE, inventory_keys, 1,
                                        AMQP_DLX, AMQP_DELIVERY_LIMIT) ||
                   amqp_link_work_queue(l, AMQP_Q_NOTIFICATION, AMQP_EXCHANGE, notification_keys, 1,
                                        AMQP_DLX, AMQP_DELIVERY_LIMIT) ||
                   amqp_link_work_queue(l, AMQP_Q_ORDER_OUTCOME, AMQP_EXCHANGE, order_keys, 2,
                                        AMQP_DLX, AMQP_DELIVERY_LIMIT)
               ? -1
               : 0;
}
