/* The property contract of a work-queue message (README, Part B, "Message
 * properties"), as the consumers apply it: exposed for its unit test. */
#ifndef COMMLAB_AMQP_PROPS_H
#define COMMLAB_AMQP_PROPS_H

#include <stdbool.h>

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#else
#include <amqp.h>
#endif

#include "amqp.h"

/* True when `p` keeps the contract; false with the reason in `why`. */
bool amqp_properties_ok(const amqp_basic_properties_t *p, char why[AMQP_REASON_MAX]);

#endif
