#include "amqp_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp_topology.h"

#define CONFIRM_TIMEOUT_MS 10000

struct rabbit {
    char *url;
    struct amqp_link *link; /* consumes */
    struct amqp_link *dead; /* publishes dead letters (confirm mode); lazily opened */
};

static int rabbit_open(void *ctx, const char *queue, unsigned prefetch, char *err, size_t errlen)
{
    struct rabbit *r = ctx;
    char why[256];
    r->link = amqp_link_open(r->url, why, sizeof why);
    if (!r->link) {
        snprintf(err, errlen, "RabbitMQ unavailable: %s", why);
        return -1;
    }
    if (amqp_topology_declare(r->link) != 0 || amqp_link_consume(r->link, queue, prefetch) != 0) {
        snprintf(err, errlen, "%s", amqp_link_error(r->link));
        amqp_link_close(r->link);
        r->link = NULL;
        return -1;
    }
    return 0;
}

static int rabbit_next(void *ctx, struct amqp_msg *m, int timeout_ms)
{
    struct rabbit *r = ctx;
    return amqp_link_next(r->link, m, timeout_ms);
}

static int rabbit_ack(void *ctx, uint64_t upto)
{
    struct rabbit *r = ctx;
    return amqp_link_ack(r->link, upto, true);
}

static int rabbit_nack(void *ctx, uint64_t tag, bool requeue)
{
    struct rabbit *r = ctx;
    return amqp_link_nack(r->link, tag, requeue);
}

static int rabbit_dead_letter(void *ctx, const char *queue, const struct amqp_msg *m,
                              const char *reason, char *err, size_t errlen)
{
    struct rabbit *r = ctx;
    err[0] = '\0';
    if (!r->dead) {
        char why[256];
        r->dead = amqp_link_open(r->url, why, sizeof why);
        if (!r->dead || amqp_link_confirm_mode(r->dead) != 0) {
            amqp_link_close(r->dead);
            r->dead = NULL;
            return -1;
        }
    }
    if (amqp_link_dead_letter(r->dead, AMQP_DLX, queue, m->body, m->len, reason) != 0 ||
        amqp_link_wait_confirms(r->dead, CONFIRM_TIMEOUT_MS) != 0) {
        snprintf(err, errlen, "%s", amqp_link_error(r->dead));
        amqp_link_close(r->dead);
        r->dead = NULL;
        return -1;
    }
    return 0;
}

static const char *rabbit_error(void *ctx)
{
    struct rabbit *r = ctx;
    return amqp_link_error(r->link);
}

static void rabbit_close(void *ctx, bool all)
{
    struct rabbit *r = ctx;
    amqp_link_close(r->link);
    r->link = NULL;
    if (all) {
        amqp_link_close(r->dead);
        r->dead = NULL;
    }
}

static void rabbit_free(void *ctx)
{
    struct rabbit *r = ctx;
    rabbit_close(r, true);
    free(r->url);
    free(r);
}

static const struct amqp_source_ops rabbit_ops = {
    .open = rabbit_open,
    .next = rabbit_next,
    .ack = rabbit_ack,
    .nack = rabbit_nack,
    .dead_letter = rabbit_dead_letter,
    .error = rabbit_error,
    .close = rabbit_close,
    .free = rabbit_free,
};

int amqp_source_rabbitmq(const char *url, struct amqp_source *out)
{
    struct rabbit *r = calloc(1, sizeof *r);
    if (!r || !(r->url = strdup(url))) {
        free(r);
        return -1;
    }
    *out = (struct amqp_source){&rabbit_ops, r};
    return 0;
}
