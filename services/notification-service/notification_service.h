/* The notification service's state, shared by its HTTP API and its RabbitMQ consumer. */
#ifndef COMMLAB_NOTIFICATION_SERVICE_H
#define COMMLAB_NOTIFICATION_SERVICE_H

#include "metrics/metrics.h"
#include "store/db.h"
#include "store/notify_store.h"

struct amqp_applier;

struct notification_service {
    struct db db;
    struct notify_store store;
    struct metrics *metrics;
    const char *db_path;
    struct amqp_applier *consumer; /* amqp mode (amqp_consumer.c) */
};

/* Part B: consume InventoryReserved, one confirmation per order. */
int notification_amqp_start(struct notification_service *svc, const char *amqp_url);
void notification_amqp_stop(struct notification_service *svc);

#endif
