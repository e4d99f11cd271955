/* The Kafka topology of the streaming model, in one place: topics and
 * consumer groups every service, tool and script names. */
#ifndef COMMLAB_KAFKA_TOPOLOGY_H
#define COMMLAB_KAFKA_TOPOLOGY_H

/* OrderPlaced, keyed by order_id; also the order service's outbox
 * destination (the same word is the AMQP routing key). */
#define KAFKA_TOPIC_ORDERS "order-events"
/* InventoryReserved / InventoryFailed, keyed by order_id. */
#define KAFKA_TOPIC_OUTCOMES "inventory-events"
/* What inventory could not use from order-events, with a reason header. */
#define KAFKA_TOPIC_ORDERS_DLQ "order-events.dlq"
/* What analytics could not count from either topic (malformed, on the wrong
 * topic, in conflict), with a reason header: its own, so that a message bad
 * for both consumers is not dead-lettered twice in one place. */
#define KAFKA_TOPIC_ANALYTICS_DLQ "analytics.dlq"

#define KAFKA_GROUP_INVENTORY "inventory-consumer-group"
#define KAFKA_GROUP_ANALYTICS "analytics-consumer-group"

/* Every topic the lab creates, for tools. */
#define KAFKA_TOPICS_ALL                                                                           \
    KAFKA_TOPIC_ORDERS "," KAFKA_TOPIC_OUTCOMES "," KAFKA_TOPIC_ORDERS_DLQ                         \
                       "," KAFKA_TOPIC_ANALYTICS_DLQ

#endif
