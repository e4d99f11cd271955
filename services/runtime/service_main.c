#include "service_main.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "service.h"
#include "util/log.h"
#include "util/options.h"
#include "transport/kafka.h"

/* The options every service has: --listen and --db (defaults per service)
 * and the HTTP server's limits before the service's own, --port-file and
 * --quiet after them. */
// clang-format off
static const struct opt head[] = {
    {"listen", NULL, "HOST:PORT to serve HTTP on (port 0: any free port)", false, NULL},
    {"db", NULL, "SQLite database file (created if missing)", false, NULL},
    {"http-header-timeout-ms", "10000", "close a connection whose request header is not "
     "complete this long after it began", false, NULL},
    {"http-body-timeout-ms", "30000", "close a connection whose request body is not "
     "complete this long after its header", false, NULL},
    {"http-idle-timeout-s", "30", "close a kept-alive connection idle this long", false, NULL},
    {"http-max-connections", "16384", "open connections at most (lowered to fit the "
     "open-files limit, which is raised as far as allowed)", false, NULL},
    {"http-max-per-client", "1024", "open connections per client address at most", false, NULL},
    {"http-handler-threads", "32", "threads running request handlers (a request waits "
     "for one; an open connection needs none)", false, NULL},
    {"http-poll-threads", "1", "threads polling the sockets, each with its own share of "
     "the connections", false, NULL},
};
static const struct opt tail[] = {
    {"port-file", NULL, "write the bound port to this file once listening", false, NULL},
    {"quiet", NULL, "log warnings and errors only", true, NULL},
    {"log-events", NULL, "log one info line per event consumed: applied, duplicate, conflict or "
     "dead letter, with event_id, order_id and the reason (even with --quiet)", true, NULL},
};
/* The broker options, for the services whose def names them (brokers). */
static const struct opt amqp_opts[] = {
    {"amqp-url", "amqp://guest:guest@127.0.0.1:5672/", "the async model's RabbitMQ: its URL (a "
     "cluster: its nodes' URLs, comma-separated)", false, NULL},
};
static const struct opt kafka_opts[] = {
    {"kafka-brokers", "127.0.0.1:9092", "the stream model's Kafka: its bootstrap "
     "servers (host:port,...)", false, NULL},
};
static const struct opt kafka_flow_opts[] = {
    {"throttle-ms", "0", "stream consumer: pause this long per event (to make "
     "lag visible; 0 to 60000; also POST /configure)", false, NULL},
    {"paused", NULL, "stream consumer: start with consumption paused (POST /configure "
     "{\"paused\":false})", true, NULL},
};
static const struct {
    unsigned bit;
    const struct opt *opts;
    size_t n;
} brokers[] = {
    {SERVICE_AMQP, amqp_opts, sizeof amqp_opts / sizeof amqp_opts[0]},
    {SERVICE_KAFKA, kafka_opts, sizeof kafka_opts / sizeof kafka_opts[0]},
    {SERVICE_KAFKA_FLOW, kafka_flow_opts, sizeof kafka_flow_opts / sizeof kafka_flow_opts[0]},
};
// clang-format on

#define NHEAD (sizeof head / sizeof head[0])
#define NTAIL (sizeof tail / sizeof tail[0])
#define MAX_OPTIONS 64

static atomic_bool stopping;
static sigset_t stop_signals;

/* Blocks SIGINT/SIGTERM (before any thread starts, so every thread inherits
 * the mask and service_wait() is the one to take them) and ignores SIGPIPE. */
static void signals_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
}

static void service_wait(void)
{
    int sig = 0;
    sigwait(&stop_signals, &sig);
    atomic_store(&stopping, true);
    log_info("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

bool service_stopping(void)
{
    return atomic_load(&stopping);
}

void service_request_stop(void)
{
    atomic_store(&stopping, true);
}

void service_exit(void)
{
    kill(getpid(), SIGTERM);
}

/* Atomically (write, then rename): the lab reads it as soon as it exists. */
static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        log_error("cannot write port file %s", path);
        return -1;
    }
    return 0;
}

static void observe(void *ctx, const char *route, int status, uint64_t usec)
{
    metrics_http_observe(ctx, route, status, usec);
}

static void count(void *ctx, const char *name, const char *help)
{
    metrics_count(ctx, name, help, 1);
}

static int limit(const struct opt *opts, const char *name, long min, long max, unsigned *out)
{
    long v;
    if (config_long(opts, name, min, max, &v) != 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static void library_log(const char *line)
{
    log_info("%s", line);
}

/* Never block: answered on the polling thread, no hand-off to a handler.
 * /configure (fault injection, atomics only) too, so that it reaches a
 * service whose handler threads all hang in an injected fault. */
static const char *const inline_paths[] = {"/healthz", "/health", "/metrics", "/configure", NULL};

static struct http_server *http_start(const struct opt *opts, struct metrics *metrics,
                                      http_handler_fn handler, void *ctx)
{
    struct http_limits lim;
    if (limit(opts, "http-header-timeout-ms", 1, 3600000, &lim.header_timeout_ms) ||
        limit(opts, "http-body-timeout-ms", 1, 3600000, &lim.body_timeout_ms) ||
        limit(opts, "http-idle-timeout-s", 1, 86400, &lim.idle_timeout_s) ||
        limit(opts, "http-max-connections", 1, 1000000, &lim.max_connections) ||
        limit(opts, "http-max-per-client", 1, 1000000, &lim.max_per_client) ||
        limit(opts, "http-handler-threads", 1, 1024, &lim.handler_threads) ||
        limit(opts, "http-poll-threads", 1, 64, &lim.poll_threads))
        return NULL;
    struct http_server_config cfg = {
        .listen = config_str(opts, "listen"),
        .limits = lim,
        .inline_paths = inline_paths,
        .count = count,
        .max_body = SERVICE_MAX_BODY,
        .handler = handler,
        .observe = observe,
        .observe_ctx = metrics,
        .ctx = ctx,
        .log = library_log,
    };
    char err[HTTP_ERR_LEN];
    struct http_server *s = http_server_start(&cfg, err, sizeof err);
    if (!s) {
        log_error("%s", err);
        return NULL;
    }
    const char *notice = http_server_notice(s);
    if (notice)
        log_warn("%s", notice);
    char what[512];
    http_server_describe(s, what, sizeof what);
    log_info("HTTP: %s", what);
    return s;
}

/* Appends opts[0..n) to the table at *at; -1 when it would not leave room
 * for the tail and the terminator. */
static int append(struct opt *t, size_t *at, const struct opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (*at + NTAIL + 1 >= MAX_OPTIONS)
            return -1;
        t[(*at)++] = opts[i];
    }
    return 0;
}

/* head, the service's options, its broker options, tail, the terminator:
 * one table for config_parse and --help. */
static int build_table(const struct service_def *def, struct opt *t)
{
    size_t n = 0;
    for (size_t i = 0; i < NHEAD; i++)
        t[n++] = head[i];
    t[0].def = def->listen;
    t[1].def = def->db;
    size_t own = 0;
    while (def->options && def->options[own].name)
        own++;
    if (append(t, &n, def->options, own) != 0)
        return -1;
    for (size_t i = 0; i < sizeof brokers / sizeof brokers[0]; i++)
        if ((def->brokers & brokers[i].bit) && append(t, &n, brokers[i].opts, brokers[i].n) != 0)
            return -1;
    for (size_t i = 0; i < NTAIL; i++)
        t[n++] = tail[i];
    t[n] = (struct opt){0};
    return 0;
}

/* The options, logging and the mode: -1 to go on, else the exit status
 * (0 after --help, 2 for bad options). */
static int parse(const struct service_def *def, struct opt *opts, int argc, char **argv)
{
    if (build_table(def, opts) != 0) {
        fprintf(stderr, "%s: too many options\n", def->name);
        return 2;
    }
    enum config_result cr = config_parse(opts, argc, argv, def->usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    log_init(def->name);
    log_set_quiet(config_flag(opts, "quiet"));
    log_set_events(config_flag(opts, "log-events"));
    char err[256];
    if (def->modes &&
        mode_parse(config_str(opts, "mode"), def->modes, def->mode, err, sizeof err)) {
        fprintf(stderr, "--mode: %s\n", err);
        return 2;
    }
    if (def->configure && def->configure(def->ctx, opts) != 0)
        return 2;
    return -1;
}

int service_main(const struct service_def *def, int argc, char **argv)
{
    struct opt opts[MAX_OPTIONS];
    int rc = parse(def, opts, argc, argv);
    if (rc >= 0)
        return rc;
#ifdef __GLIBC__
    /* glibc gives threads their own malloc arenas, up to 8 per core; with a
     * thread per connection that multiplies the resident heap. The threads
     * mostly wait on sockets and fsync, so one arena costs no throughput. */
    mallopt(M_ARENA_MAX, 1);
#endif
    signals_init();
    kafka_set_notifier(&log_notifier);
    *def->db_path = config_str(opts, "db");
    if (db_open(def->db_handle, *def->db_path) != 0)
        return 1;
    rc = 1;
    struct http_server *http = NULL;
    const struct service_mode_hooks *mode = def->mode_hooks ? &def->mode_hooks[*def->mode] : NULL;
    *def->metrics = metrics_new(def->name);
    if (!*def->metrics || def->start(def->ctx, opts) != 0 ||
        (mode && mode->start && mode->start(def->ctx, opts) != 0))
        goto out;
    http = http_start(opts, *def->metrics, def->handler,
                      def->handler_ctx ? def->handler_ctx : def->ctx);
    if (!http)
        goto out;
    const char *port_file = config_str(opts, "port-file");
    if (port_file && write_port_file(port_file, http_server_port(http)) != 0)
        goto out;
    char what[512] = "";
    def->describe(def->ctx, opts, what, sizeof what);
    log_info("listening on port %u, %s", http_server_port(http), what);
    service_wait();
    rc = def->exit_status ? def->exit_status(def->ctx) : 0;
out:
    service_request_stop();
    if (def->drain)
        def->drain(def->ctx);
    http_server_stop(http);
    if (mode && mode->stop)
        mode->stop(def->ctx);
    def->stop(def->ctx);
    db_close(def->db_handle);
    metrics_free(*def->metrics);
    return rc;
}
