/* The RabbitMQ topology of the async model, in one place so that every
 * service declares exactly the same thing (declaring is idempotent only when
 * the arguments match). Every service declares all of it on each connect:
 * whoever starts first, no message is published before its queue exists. */
#ifndef COMMLAB_AMQP_TOPOLOGY_H
#define COMMLAB_AMQP_TOPOLOGY_H

#include "amqp.h"

/* Events travel through one durable topic exchange, routed by kind. */
#define AMQP_EXCHANGE "commlab.events"
/* Rejected and over-delivered messages: a direct exchange keyed by the queue
 * they came from, feeding QUEUE.dlq. */
#define AMQP_DLX "commlab.dlx"

/* Routing keys. OrderPlaced's is the destination the order service writes in
 * its outbox (the same word is the Kafka topic). */
#define AMQP_KEY_ORDER_PLACED "order-events"
#define AMQP_KEY_RESERVED "inventory.reserved"
#define AMQP_KEY_FAILED "inventory.failed"

/* Consuming queues (quorum), each with its .dlq. */
#define AMQP_Q_INVENTORY "inventory.order-placed"
#define AMQP_Q_NOTIFICATION "notification.inventory-reserved"
#define AMQP_Q_ORDER_OUTCOME "order.inventory-outcome"

/* Deliveries of one message before the broker dead-letters it. Quorum
 * queues count every return: a consumer crash, but also a link lost with
 * its whole window (a broker restart), which is no fault of the messages.
 * So this is only the backstop for a message that crashes its consumer;
 * the consumer dead-letters a message whose own applies failed 5 times
 * (transport/amqp_consume.c). */
#define AMQP_DELIVERY_LIMIT 20

int amqp_topology_declare(struct amqp_link *l);

#endif
