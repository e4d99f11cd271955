/* `loadgen amqp ACTION`: RabbitMQ-side load and measurement.
 *   publish  the seeded OrderPlaced workload straight to the events exchange
 *            (or to one queue), persistent, with publisher confirms; open loop
 *            with --rate/--duration, else as fast as confirms allow
 *   noop     consume --count messages from a queue and ack them, doing
 *            nothing else: the broker's raw consume rate, the yardstick for
 *            the inventory consumer's drain rate
 *   relay    consume, republish each message with confirms through an exchange
 *            to --fanout queues, ack: the broker's ceiling for a consumer that
 *            answers each message with an event (inventory: fan-out 2)
 *   sample   a queue's depth every --interval-ms (passive declare), one
 *            "elapsed_ms depth consumers" line each, until --duration or SIGTERM
 *   depth    a queue's depth, once
 *   dlq      what a dead-letter queue holds, one line per message (left in place)
 *   declare  the topology (exchanges, queues, .dlq queues), and --queue if named */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "domain/workload.h"
#include "util/clock.h"
#include "util/options.h"
#include "transport/amqp.h"
#include "transport/amqp_topology.h"
#include "drivers.h"
#include "events.h"
#include "report.h"

static struct opt opts[] = {
    {"url", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ URL", false, NULL},
    {"queue", AMQP_Q_INVENTORY,
     "queue to sample/measure/consume; publish: send to this queue instead of the exchange "
     "(declared like the work queues)",
     false, NULL},
    {"requests", "1000", "publish: how many events (-n); noop: see --count", false, NULL},
    {"count", "0", "noop: messages to consume (0: until the queue is empty)", false, NULL},
    {"to", "bench.relay-out", "relay: the queue each consumed message is republished to", false,
     NULL},
    {"fanout", "1",
     "relay: queues each message is routed to (TO, TO.2, ...): 2 is inventory's outcome, which "
     "goes to the notification and the order queue",
     false, NULL},
    {"rate", NULL, "publish: events per second (with --duration); default as fast as possible",
     false, NULL},
    {"duration", "0", "publish: seconds at --rate; sample: seconds to run (0: until SIGTERM)",
     false, NULL},
    {"interval-ms", "250", "sample: time between samples", false, NULL},
    {"seed", "1", "workload seed", false, NULL},
    {"start", "0", "index of the first order", false, NULL},
    {"sold-out-pct", "0", "percent of orders that include the sold-out SKU", false, NULL},
    {"batch", "256",
     "publish: events per confirm round trip; noop: prefetch; relay: most per settle", false, NULL},
    {"label", "amqp", "name of this run in the output", false, NULL},
    {"json", NULL, "publish/noop: one JSON object instead of text", true, NULL},
    {"ids", NULL, "dlq: end each line with the copy's x-commlab-dead-letter-id (- if none)", true,
     NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: loadgen amqp publish|noop|relay|sample|depth|dlq|declare [options]\n"
    "publish: the seeded OrderPlaced events, persistent, with publisher confirms.\n"
    "noop:    consume and ack only (the raw consume rate of this broker).\n"
    "relay:   consume, republish each with confirms through an exchange to --fanout\n"
    "         queues (--to, --to.2, ...), then ack: the ceiling for a consumer that\n"
    "         answers every message with an event (inventory's outcome: --fanout 2).\n"
    "sample:  \"elapsed_ms depth consumers\" lines for --queue every --interval-ms.\n"
    "depth:   messages ready in --queue.   dlq: list --queue (a .dlq) without consuming.\n"
    "declare: the commlab topology, idempotently.";

static struct amqp_link *connect_or_say(void)
{
    char err[256];
    struct amqp_link *l = amqp_link_open(config_str(opts, "url"), err, sizeof err);
    if (!l)
        fprintf(stderr, "loadgen amqp: %s\n", err);
    return l;
}

static int declare_bench_queue(struct amqp_link *l, const char *queue)
{
    /* A queue outside the topology (a benchmark's): the same kind and limits
     * as the work queues, bound to nothing, so only we fill it. */
    return amqp_link_work_queue(l, queue, AMQP_EXCHANGE, NULL, 0, AMQP_DLX, AMQP_DELIVERY_LIMIT);
}

/* The relay's exchange: a benchmark's own, so nothing else is routed there. */
#define BENCH_EXCHANGE "commlab.bench"

/* The relay's targets TO, TO.2 ... TO.N, each bound to BENCH_EXCHANGE with
 * the key TO, so one publish is stored in N quorum queues as inventory's
 * outcome is. */
static int declare_fanout(struct amqp_link *l, const char *to, long fanout)
{
    const char *keys[] = {to};
    if (amqp_link_exchange(l, BENCH_EXCHANGE, "direct") != 0)
        return -1;
    for (long k = 1; k <= fanout; k++) {
        char q[256];
        if (k == 1)
            snprintf(q, sizeof q, "%s", to);
        else
            snprintf(q, sizeof q, "%s.%ld", to, k);
        if (amqp_link_work_queue(l, q, BENCH_EXCHANGE, keys, 1, AMQP_DLX, AMQP_DELIVERY_LIMIT) != 0)
            return -1;
    }
    return 0;
}

static bool is_topology_queue(const char *q)
{
    return strcmp(q, AMQP_Q_INVENTORY) == 0 || strcmp(q, AMQP_Q_NOTIFICATION) == 0 ||
           strcmp(q, AMQP_Q_ORDER_OUTCOME) == 0;
}

static void print_rate(const char *what, const char *label, uint64_t n, double s)
{
    if (config_flag(opts, "json")) {
        cJSON *j = report_begin(label, "amqp");
        cJSON_AddStringToObject(j, "op", what);
        cJSON_AddStringToObject(j, "queue", config_str(opts, "queue"));
        cJSON_AddNumberToObject(j, "messages", (double)n);
        report_add_rate(j, (double)n, s);
        report_print(j);
    } else
        printf("%s %s: %llu messages in %.3f s, %.1f msg/s\n", label, what, (unsigned long long)n,
               s, s > 0 ? (double)n / s : 0.0);
}

static int do_publish(bool to_queue)
{
    long n, seed, start, pct, batch;
    double rate = 0, duration = 0;
    if (config_long(opts, "requests", 1, 100000000, &n) ||
        config_long(opts, "seed", 0, 0x7fffffffL, &seed) ||
        config_long(opts, "start", 0, 1000000000000L, &start) ||
        config_long(opts, "sold-out-pct", 0, 100, &pct) ||
        config_long(opts, "batch", 1, 10000, &batch))
        return 2;
    bool open_loop = config_str(opts, "rate") != NULL;
    if (open_loop && (config_double(opts, "rate", 0.1, 1e6, &rate) ||
                      config_double(opts, "duration", 0.1, 86400, &duration)))
        return 2;
    if (open_loop)
        n = (long)(rate * duration + 0.5);
    const char *queue = config_str(opts, "queue");
    struct amqp_link *l = connect_or_say();
    if (!l)
        return 1;
    if (amqp_topology_declare(l) != 0 || (to_queue && declare_bench_queue(l, queue) != 0) ||
        amqp_link_confirm_mode(l) != 0) {
        fprintf(stderr, "loadgen amqp: %s\n", amqp_link_error(l));
        amqp_link_close(l);
        return 1;
    }
    struct workload w = {.seed = (uint64_t)seed, .sold_out_pct = (int)pct};
    struct event_writer ew;
    if (event_writer_init(&ew) != 0) {
        fprintf(stderr, "loadgen amqp: out of memory\n");
        amqp_link_close(l);
        return 1;
    }
    uint64_t t0 = clock_mono_us();
    long sent = 0, in_window = 0;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        if (open_loop) {
            uint64_t due = t0 + (uint64_t)((double)i * 1e6 / rate);
            uint64_t now = clock_mono_us();
            if (due > now) {
                /* Confirm what is out before sleeping, so nothing waits long. */
                if (in_window > 0 && (rc = amqp_link_wait_confirms(l, 15000)) == 0) {
                    sent += in_window;
                    in_window = 0;
                }
                now = clock_mono_us();
                if (due > now)
                    clock_sleep_us(due - now);
            }
        }
        char key[ID_MAX_LEN + 1], body[EVENT_TEXT_MAX];
        int len = loadgen_event(&ew, &w, (uint64_t)(start + i), key, body);
        if (len < 0) {
            rc = -1;
            break;
        }
        rc = to_queue ? amqp_link_publish(l, "", queue, body, (size_t)len, NULL)
                      : amqp_link_publish(l, AMQP_EXCHANGE, AMQP_KEY_ORDER_PLACED, body,
                                          (size_t)len, NULL);
        if (rc == 0 && ++in_window >= batch) {
            rc = amqp_link_wait_confirms(l, 15000);
            if (rc == 0)
                sent += in_window;
            in_window = 0;
        }
    }
    if (rc == 0 && in_window > 0 && (rc = amqp_link_wait_confirms(l, 15000)) == 0)
        sent += in_window;
    event_writer_free(&ew);
    double s = (double)(clock_mono_us() - t0) / 1e6;
    if (rc != 0)
        fprintf(stderr, "loadgen amqp: publish failed after %ld confirmed: %s\n", sent,
                amqp_link_error(l));
    amqp_link_close(l);
    print_rate("publish", config_str(opts, "label"), (uint64_t)sent, s);
    return rc == 0 ? 0 : 1;
}

static int do_noop(void)
{
    long count, batch;
    if (config_long(opts, "count", 0, 100000000, &count) ||
        config_long(opts, "batch", 1, 65535, &batch))
        return 2;
    const char *queue = config_str(opts, "queue");
    struct amqp_link *l = connect_or_say();
    if (!l)
        return 1;
    if (amqp_link_consume(l, queue, (unsigned)batch) != 0) {
        fprintf(stderr, "loadgen amqp: %s\n", amqp_link_error(l));
        amqp_link_close(l);
        return 1;
    }
    uint64_t got = 0, t0 = 0, t_last = 0, last_tag = 0, acked = 0;
    int rc = 0;
    for (;;) {
        struct amqp_msg m;
        /* The clock starts at the first message: connection set-up is not
         * consuming. An idle second means the queue is empty. */
        int r = amqp_link_next(l, &m, got == 0 ? 10000 : 1000);
        if (r <= 0) {
            rc = r < 0 ? -1 : 0;
            break;
        }
        if (got == 0)
            t0 = clock_mono_us();
        got++;
        t_last = clock_mono_us();
        last_tag = m.tag;
        amqp_msg_free(&m);
        bool done = count > 0 && got >= (uint64_t)count;
        /* The same settling as the real consumers: one cumulative ack per batch. */
        if (got % (uint64_t)batch == 0 || done) {
            if ((rc = amqp_link_ack(l, last_tag, true)) != 0)
                break;
            acked = last_tag;
        }
        if (done)
            break;
    }
    if (rc == 0 && last_tag > acked)
        rc = amqp_link_ack(l, last_tag, true);
    double s = got > 1 ? (double)(t_last - t0) / 1e6 : 0;
    if (rc != 0)
        fprintf(stderr, "loadgen amqp: %s\n", amqp_link_error(l));
    amqp_link_close(l);
    print_rate("noop", config_str(opts, "label"), got, s);
    return rc == 0 ? 0 : 1;
}

static int settle(struct amqp_link *in, struct amqp_link *out, uint64_t tag)
{
    return amqp_link_wait_confirms(out, 15000) || amqp_link_ack(in, tag, true) ? -1 : 0;
}

/* The ceiling for any consumer that answers each message with a confirmed
 * event: consume --queue, republish every body persistent through the bench
 * exchange to --fanout queues, ack what was relayed once its confirms are in. No work of its own,
 * so what limits it is the broker, which the inventory's drain shares. */
static int do_relay(void)
{
    long batch, fanout;
    if (config_long(opts, "batch", 1, 32767, &batch) || config_long(opts, "fanout", 1, 16, &fanout))
        return 2;
    const char *queue = config_str(opts, "queue"), *to = config_str(opts, "to");
    struct amqp_link *in = connect_or_say(), *out = in ? connect_or_say() : NULL;
    if (!out) {
        amqp_link_close(in);
        return 1;
    }
    int rc = declare_fanout(out, to, fanout) || amqp_link_confirm_mode(out) ||
                     amqp_link_consume(in, queue, (unsigned)(2 * batch))
                 ? -1
                 : 0;
    uint64_t got = 0, t0 = 0, t_last = 0, tag = 0;
    long window = 0;
    while (rc == 0) {
        struct amqp_msg m;
        /* Settle a window when it is full or nothing more is at hand; an
         * idle second with nothing outstanding means the queue is empty. */
        int r = amqp_link_next(in, &m, window > 0 ? 0 : got == 0 ? 10000 : 1000);
        if (r < 0)
            rc = -1;
        if (r <= 0 && window == 0)
            break;
        if (r == 1) {
            if (got++ == 0)
                t0 = clock_mono_us();
            tag = m.tag;
            rc = amqp_link_publish(out, BENCH_EXCHANGE, to, m.body, m.len, NULL);
            amqp_msg_free(&m);
            window++;
        }
        if (rc == 0 && (r == 0 || window >= batch)) {
            rc = settle(in, out, tag);
            window = 0;
            t_last = clock_mono_us();
        }
    }
    double s = got > 0 ? (double)(t_last - t0) / 1e6 : 0;
    if (rc != 0)
        fprintf(stderr, "loadgen amqp: %s / %s\n", amqp_link_error(in), amqp_link_error(out));
    amqp_link_close(in);
    amqp_link_close(out);
    print_rate("relay", config_str(opts, "label"), got, s);
    return rc == 0 ? 0 : 1;
}

static volatile sig_atomic_t stop_sampling;

static void on_term(int sig)
{
    (void)sig;
    stop_sampling = 1;
}

static int do_sample(void)
{
    long interval;
    double duration;
    if (config_long(opts, "interval-ms", 10, 60000, &interval) ||
        config_double(opts, "duration", 0, 86400, &duration))
        return 2;
    const char *queue = config_str(opts, "queue");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    uint64_t t0 = clock_mono_us();
    struct amqp_link *l = NULL;
    for (uint64_t k = 0; !stop_sampling; k++) {
        uint64_t due = t0 + k * (uint64_t)interval * 1000;
        uint64_t now = clock_mono_us();
        if (due > now)
            clock_sleep_us(due - now);
        if (stop_sampling || (duration > 0 && (double)(due - t0) / 1e6 > duration))
            break;
        char err[256];
        if (!l)
            l = amqp_link_open(config_str(opts, "url"), err, sizeof err);
        long consumers = 0;
        long depth = l ? amqp_link_depth(l, queue, &consumers) : -1;
        if (depth < 0) {
            /* Broker away (a restart scenario): say so and keep sampling. */
            amqp_link_close(l);
            l = NULL;
        }
        printf("%llu %ld %ld\n", (unsigned long long)((clock_mono_us() - t0) / 1000), depth,
               consumers);
        fflush(stdout);
    }
    amqp_link_close(l);
    return 0;
}

static int do_depth(void)
{
    struct amqp_link *l = connect_or_say();
    if (!l)
        return 1;
    long consumers = 0;
    long d = amqp_link_depth(l, config_str(opts, "queue"), &consumers);
    if (d < 0)
        fprintf(stderr, "loadgen amqp: %s\n", amqp_link_error(l));
    else
        printf("%ld %ld\n", d, consumers);
    amqp_link_close(l);
    return d < 0 ? 1 : 0;
}

/* Lists a dead-letter queue: "reason<TAB>broker-reason<TAB>bytes<TAB>body
 * start" per message, with --ids then "<TAB>dead-letter id". The messages are
 * taken unacked and given back when the link closes, so the queue is unchanged. */
static void print_dead_letter(const struct amqp_msg *m)
{
    char head[61];
    size_t k = 0;
    for (size_t i = 0; i < m->len && k < sizeof head - 1; i++)
        head[k++] = (m->body[i] >= 32 && m->body[i] < 127 && m->body[i] != '\t') ? m->body[i] : '.';
    head[k] = '\0';
    const char *reason = m->commlab_reason[0] ? m->commlab_reason : "-";
    if (m->undecodable)
        reason = m->refused;
    printf("%s\t%s\t%zu\t%s", reason, m->death_reason[0] ? m->death_reason : "-", m->len, head);
    if (config_flag(opts, "ids"))
        printf("\t%s", m->dead_letter_id[0] ? m->dead_letter_id : "-");
    putchar('\n');
}

/* Lists without consuming: every message is taken unacked and goes back when
 * the link closes. A message the library cannot decode ends a link's input;
 * it is listed, and a new link skips what was listed already. */
static int do_dlq(void)
{
    const char *q = config_str(opts, "queue");
    long listed = 0;
    for (;;) {
        struct amqp_link *l = connect_or_say();
        if (!l)
            return 1;
        int r;
        long seen = 0;
        bool again = false;
        struct amqp_msg m;
        while ((r = amqp_link_get(l, q, &m)) == 1) {
            bool fresh = seen++ >= listed;
            if (fresh) {
                print_dead_letter(&m);
                listed++;
            }
            /* Only a new one moves the listing on: a skipped one found
             * undecodable again (the order changed) ends it. */
            again = m.undecodable && fresh;
            bool stop = m.undecodable;
            amqp_msg_free(&m);
            if (stop)
                break;
        }
        if (r < 0)
            fprintf(stderr, "loadgen amqp: %s\n", amqp_link_error(l));
        amqp_link_close(l);
        if (!again)
            return r < 0 ? 1 : 0;
    }
}

static int do_declare(void)
{
    struct amqp_link *l = connect_or_say();
    if (!l)
        return 1;
    const char *q = config_str(opts, "queue");
    int rc = amqp_topology_declare(l);
    if (rc == 0 && !is_topology_queue(q))
        rc = declare_bench_queue(l, q);
    if (rc != 0)
        fprintf(stderr, "loadgen amqp: %s\n", amqp_link_error(l));
    amqp_link_close(l);
    return rc == 0 ? 0 : 1;
}

int loadgen_amqp(int argc, char **argv)
{
    loadgen_short_options(argc, argv);
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            config_usage(opts, usage);
            return 0;
        }
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    const char *action = argv[1];
    enum config_result cr = config_parse(opts, argc - 1, argv + 1, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    if (strcmp(action, "publish") == 0)
        return do_publish(!is_topology_queue(config_str(opts, "queue")));
    if (strcmp(action, "noop") == 0)
        return do_noop();
    if (strcmp(action, "relay") == 0)
        return do_relay();
    if (strcmp(action, "sample") == 0)
        return do_sample();
    if (strcmp(action, "depth") == 0)
        return do_depth();
    if (strcmp(action, "dlq") == 0)
        return do_dlq();
    if (strcmp(action, "declare") == 0)
        return do_declare();
    fprintf(stderr, "loadgen amqp: unknown action '%s'\n%s\n", action, usage);
    return 2;
}
