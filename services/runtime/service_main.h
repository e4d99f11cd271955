/* One service process from start to exit, the same for every service: parse
 * the options (the common ones around the service's own), logging, signals,
 * the database and the metrics, the service's start hook, HTTP, the port file;
 * then wait for SIGINT/SIGTERM and tear down in reverse. */
#ifndef COMMLAB_SERVICE_MAIN_H
#define COMMLAB_SERVICE_MAIN_H

#include <stddef.h>

#include "metrics/metrics.h"
#include "runtime/mode.h"
#include "store/db.h"
#include "transport/http_server.h"

struct opt;

/* What one mode adds to the service's start and stop: a row per mode,
 * indexed by enum service_mode. Its start runs after the service's own,
 * its stop before the service's own (also after a start that failed part
 * way, so it undoes only what was done). A NULL hook: nothing to do. */
struct service_mode_hooks {
    int (*start)(void *ctx, const struct opt *opts);
    void (*stop)(void *ctx);
};

/* The broker options a service takes, declared once (service_main.c) with
 * one help text each: --amqp-url; --kafka-brokers; --throttle-ms and
 * --paused, the flow control of a Kafka consumer. */
#define SERVICE_AMQP 1u
#define SERVICE_KAFKA 2u
#define SERVICE_KAFKA_FLOW 4u

struct service_def {
    const char *name;   /* log tag and metrics namespace: "order" */
    const char *listen; /* --listen default */
    const char *db;     /* --db default */
    const char *usage;  /* --help's first lines */
    /* The service's own options, NULL-terminated; --help lists them between
     * the HTTP limits and its broker options (brokers), then --port-file. */
    const struct opt *options;
    /* Where the service keeps what the lifecycle opens for it. */
    struct db *db_handle;
    struct metrics **metrics;
    const char **db_path;
    /* The modes its --mode (one of its options) accepts, MODE_BIT()s, and
     * where the parsed one goes; 0 for a service without --mode. */
    unsigned modes;
    enum service_mode *mode;
    const struct service_mode_hooks *mode_hooks; /* [MODE_...]; NULL: none */
    unsigned brokers; /* SERVICE_AMQP | SERVICE_KAFKA | SERVICE_KAFKA_FLOW */
    void *ctx;        /* passed to every hook */
    http_handler_fn handler;
    void *handler_ctx; /* the handler's; ctx when NULL */
    /* All hooks get the whole option table (config_str() and friends). */
    /* Checks the service's options before anything starts; nonzero: exit 2
     * (it printed why). Optional. */
    int (*configure)(void *ctx, const struct opt *opts);
    /* With the database and metrics open, before HTTP: opens the stores and
     * starts the background work; nonzero: exit 1 (it logged why). */
    int (*start)(void *ctx, const struct opt *opts);
    /* After the stop signal, while HTTP still serves: finishes the requests
     * answered later (http_defer), which a stopping server cannot hold.
     * Optional. */
    void (*drain)(void *ctx);
    /* After HTTP stopped; also after a start that failed part way, so it
     * undoes only what was done. */
    void (*stop)(void *ctx);
    /* Writes what "listening on port N, " is followed by in the log. */
    void (*describe)(void *ctx, const struct opt *opts, char *buf, size_t len);
    /* The exit status after a signal; 0 when NULL. Optional. */
    int (*exit_status)(void *ctx);
};

/* Runs the service: the process's exit status (0; 1 when it could not start
 * or exit_status said so; 2 for bad options). */
int service_main(const struct service_def *def, int argc, char **argv);

#endif
