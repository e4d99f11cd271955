/* `loadgen rest`: HTTP load with the seeded workload. Closed loop: N requests
 * by C workers back to back. Open loop: requests scheduled at a fixed rate;
 * each latency runs from its scheduled time, so a server that falls behind
 * shows it in the percentiles instead of slowing the load (no coordinated
 * omission). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/order_json.h"
#include "domain/workload.h"
#include "util/clock.h"
#include "util/options.h"
#include "transport/http_client.h"
#include "drivers.h"
#include "follow.h"
#include "progress.h"
#include "report.h"

static struct opt opts[] = {
    {"url", "http://127.0.0.1:8080", "base URL of the order service", false, NULL},
    {"target", "order", "order (POST /order) or healthz (GET /healthz, the no-op baseline)", false,
     NULL},
    {"requests", "1000", "closed loop: how many requests (-n)", false, NULL},
    {"concurrency", "20", "workers, each with its own keep-alive connection (-c)", false, NULL},
    {"rate", NULL, "open loop: requests per second (with --duration)", false, NULL},
    {"duration", "10", "open loop: seconds to keep the rate", false, NULL},
    {"seed", "1", "workload seed: the same seed gives the same orders", false, NULL},
    {"start", "0", "index of the first order (use distinct ranges for distinct orders)", false,
     NULL},
    {"sold-out-pct", "0", "percent of orders that include the sold-out SKU", false, NULL},
    {"timeout-ms", "30000", "client-side timeout per request", false, NULL},
    {"follow", "none",
     "accepted-to-final latency of 202 answers: none, http (GET /orders/{id} until the status "
     "is final) or kafka (the outcome event on --follow-topic)",
     false, NULL},
    {"follow-every", "10", "--follow http: follow every Nth order (each is polled every ~1 ms)",
     false, NULL},
    {"follow-brokers", "127.0.0.1:9092", "--follow kafka: bootstrap servers", false, NULL},
    {"follow-topic", "inventory-events", "--follow kafka: the topic of the outcome events", false,
     NULL},
    {"label", "rest", "name of this run in the output", false, NULL},
    {"accepted-file", NULL,
     "write the order_id of every order answered 201 or 202 to this file, one per line", false,
     NULL},
    {"trace", NULL,
     "write one line per request to this file (TSV with a header): send_ms (since the start; "
     "open loop: the scheduled time, which latency runs from), latency_ms, status (the HTTP "
     "status, timeout or unreachable), sorted by send_ms; --json gives the start as "
     "start_unix_ms",
     false, NULL},
    {"csv", NULL,
     "write one CSV line per request to this file, with a header: scheduled_ms, start_ms, end_ms "
     "(milliseconds since the run's start; closed loop: scheduled = start), status (as in "
     "--trace), order_id (empty for --target healthz), sorted by scheduled_ms",
     false, NULL},
    {"json", NULL, "print one JSON object instead of the table", true, NULL},
    {"quiet", NULL, "no progress line", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: loadgen rest [options]\n"
    "Sends the seeded order workload (or GET /healthz) and reports p50/p95/p99/max/mean\n"
    "latency, answers by status and throughput. Order i of a seed is the same everywhere:\n"
    "its order_id and occurred_at come from the seed, so reruns are idempotent.";

struct shared {
    const char *url;
    bool healthz;
    struct workload workload;
    uint64_t start;
    uint64_t n;
    long timeout_ms;
    bool open_loop;
    double rate;
    uint64_t t0_us;
    atomic_ullong next;
    struct progress progress;
    FILE *accepted;            /* --accepted-file, or NULL; stdio locks each write */
    bool trace;                /* --trace or --csv given */
    uint64_t origin_us;        /* --trace, --csv: times count from here */
    struct follower *follower; /* NULL: --follow none */
    uint64_t follow_every;
};

/* One request of --trace. status: the HTTP status, TRACE_TIMEOUT or
 * TRACE_UNREACHABLE. */
#define TRACE_TIMEOUT (-1)
#define TRACE_UNREACHABLE (-2)
struct trace_rec {
    uint64_t send_us; /* since origin_us: the scheduled time (closed loop: the start) */
    uint64_t latency_us;
    uint64_t start_us; /* since origin_us: when it was sent */
    uint64_t index;    /* of the workload order */
    int status;
};

struct worker {
    pthread_t thread;
    struct shared *sh;
    struct run_stats stats;
    int failed;
    /* --trace: this worker's requests, merged at the end (no lock per request). */
    struct trace_rec *trace;
    size_t ntrace, trace_cap;
    bool trace_oom;
};

static void trace_add(struct worker *w, struct trace_rec rec)
{
    if (w->ntrace == w->trace_cap) {
        size_t cap = w->trace_cap ? w->trace_cap * 2 : 1024;
        struct trace_rec *t = realloc(w->trace, cap * sizeof *t);
        if (!t) {
            w->trace_oom = true;
            return;
        }
        w->trace = t;
        w->trace_cap = cap;
    }
    w->trace[w->ntrace++] = rec;
}

static void one_request(struct worker *w, uint64_t i, uint64_t sched_us)
{
    struct shared *sh = w->sh;
    struct http_result r;
    char *body = NULL;
    uint64_t begin = clock_mono_us();
    if (sched_us == 0)
        sched_us = begin;
    else if (begin > sched_us + 1000)
        w->stats.late_starts++;
    int rc;
    struct order o;
    if (sh->healthz) {
        rc = http_call("GET", sh->url, NULL, NULL, 0, sh->timeout_ms, &r);
    } else {
        workload_order(&sh->workload, sh->start + i, &o);
        body = order_encode(&o);
        rc = body ? http_call("POST", sh->url, "application/json", body, strlen(body),
                              sh->timeout_ms, &r)
                  : -1;
    }
    uint64_t end = clock_mono_us();
    free(body);
    int tstatus = TRACE_UNREACHABLE;
    bool ok = false;
    if (rc != 0) {
        w->stats.unreachable++;
    } else {
        if (r.failure == HTTP_TIMEOUT)
            w->stats.timeouts++;
        else if (r.failure == HTTP_UNREACHABLE)
            w->stats.unreachable++;
        else if (r.status >= 0 && r.status < REPORT_MAX_STATUS)
            w->stats.status[r.status]++;
        if (r.failure == HTTP_TIMEOUT)
            tstatus = TRACE_TIMEOUT;
        else if (r.failure == HTTP_ANSWERED)
            tstatus = r.status;
        ok = r.failure == HTTP_ANSWERED && r.status >= 200 && r.status < 300;
        if (sh->accepted && r.failure == HTTP_ANSWERED && (r.status == 201 || r.status == 202))
            fprintf(sh->accepted, "%s\n", o.order_id);
        if (sh->follower && !sh->healthz && r.failure == HTTP_ANSWERED && r.status == 202 &&
            i % sh->follow_every == 0)
            follower_add(sh->follower, o.order_id, end);
        http_result_free(&r);
    }
    histogram_record(&w->stats.latency, end - sched_us);
    if (sh->trace)
        trace_add(w, (struct trace_rec){
                         .send_us = sched_us > sh->origin_us ? sched_us - sh->origin_us : 0,
                         .latency_us = end - sched_us,
                         .start_us = begin > sh->origin_us ? begin - sh->origin_us : 0,
                         .index = sh->start + i,
                         .status = tstatus,
                     });
    atomic_fetch_add(&sh->progress.done, 1);
    if (!ok)
        atomic_fetch_add(&sh->progress.errors, 1);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_setname_np(pthread_self(), "rest-client");
    struct shared *sh = w->sh;
    for (;;) {
        uint64_t i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->n)
            break;
        uint64_t sched = 0;
        if (sh->open_loop) {
            sched = sh->t0_us + (uint64_t)((double)i * 1e6 / sh->rate);
            uint64_t now = clock_mono_us();
            if (sched > now)
                clock_sleep_us(sched - now);
        }
        one_request(w, i, sched);
    }
    return NULL;
}

static int cmp_trace(const void *a, const void *b)
{
    const struct trace_rec *x = a, *y = b;
    return (x->send_us > y->send_us) - (x->send_us < y->send_us);
}

/* The workers' records merged by send time (*total of them); NULL when out
 * of memory. */
static struct trace_rec *merge_trace(struct worker *workers, long n, size_t *total)
{
    *total = 0;
    bool oom = false;
    for (long i = 0; i < n; i++) {
        *total += workers[i].ntrace;
        oom |= workers[i].trace_oom;
    }
    struct trace_rec *all = malloc((*total ? *total : 1) * sizeof *all);
    if (!all || oom) {
        fprintf(stderr, "loadgen: out of memory for --trace / --csv\n");
        free(all);
        return NULL;
    }
    size_t k = 0;
    for (long i = 0; i < n; i++) {
        if (!workers[i].ntrace)
            continue; /* its trace is NULL: it sent nothing */
        memcpy(all + k, workers[i].trace, workers[i].ntrace * sizeof *all);
        k += workers[i].ntrace;
    }
    qsort(all, *total, sizeof *all, cmp_trace);
    return all;
}

static void put_status(FILE *f, int status, char end)
{
    if (status == TRACE_TIMEOUT)
        fprintf(f, "timeout%c", end);
    else if (status == TRACE_UNREACHABLE)
        fprintf(f, "unreachable%c", end);
    else
        fprintf(f, "%d%c", status, end);
}

/* --trace: TSV into `f`, which it closes. */
static int write_trace(FILE *f, const struct trace_rec *all, size_t total)
{
    fputs("send_ms\tlatency_ms\tstatus\n", f);
    for (size_t i = 0; i < total; i++) {
        fprintf(f, "%.3f\t%.3f\t", (double)all[i].send_us / 1e3, (double)all[i].latency_us / 1e3);
        put_status(f, all[i].status, '\n');
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* --csv: into `f`, which it closes. Ids are [A-Za-z0-9_.@:-]: no quoting. */
static int write_csv(FILE *f, const struct trace_rec *all, size_t total, const struct shared *sh)
{
    fputs("scheduled_ms,start_ms,end_ms,status,order_id\n", f);
    for (size_t i = 0; i < total; i++) {
        const struct trace_rec *r = &all[i];
        fprintf(f, "%.3f,%.3f,%.3f,", (double)r->send_us / 1e3, (double)r->start_us / 1e3,
                (double)(r->send_us + r->latency_us) / 1e3);
        put_status(f, r->status, ',');
        if (!sh->healthz) {
            struct order o;
            workload_order(&sh->workload, r->index, &o);
            fputs(o.order_id, f);
        }
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int loadgen_rest(int argc, char **argv)
{
    loadgen_short_options(argc, argv);
    enum config_result cr = config_parse(opts, argc, argv, usage, NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    struct shared sh = {0};
    long n, c, seed, start, pct, timeout;
    double duration = 0;
    const char *target = config_str(opts, "target");
    if (strcmp(target, "order") != 0 && strcmp(target, "healthz") != 0) {
        fprintf(stderr, "--target: expected order or healthz, got '%s'\n", target);
        return 2;
    }
    long every;
    const char *follow = config_str(opts, "follow");
    if (strcmp(follow, "none") != 0 && strcmp(follow, "http") != 0 &&
        strcmp(follow, "kafka") != 0) {
        fprintf(stderr, "--follow: expected none, http or kafka, got '%s'\n", follow);
        return 2;
    }
    if (config_long(opts, "follow-every", 1, 1000000, &every) ||
        config_long(opts, "requests", 1, 100000000, &n) ||
        config_long(opts, "concurrency", 1, 1000, &c) ||
        config_long(opts, "seed", 0, 0x7fffffffL, &seed) ||
        config_long(opts, "start", 0, 1000000000000L, &start) ||
        config_long(opts, "sold-out-pct", 0, 100, &pct) ||
        config_long(opts, "timeout-ms", 1, 3600000, &timeout))
        return 2;
    sh.open_loop = config_str(opts, "rate") != NULL;
    if (sh.open_loop && (config_double(opts, "rate", 0.1, 1e6, &sh.rate) ||
                         config_double(opts, "duration", 0.1, 86400, &duration)))
        return 2;
    char url[1024];
    sh.healthz = strcmp(target, "healthz") == 0;
    snprintf(url, sizeof url, "%s%s", config_str(opts, "url"), sh.healthz ? "/healthz" : "/order");
    sh.url = url;
    sh.workload = (struct workload){.seed = (uint64_t)seed, .sold_out_pct = (int)pct};
    sh.start = (uint64_t)start;
    sh.n = sh.open_loop ? (uint64_t)(sh.rate * duration + 0.5) : (uint64_t)n;
    if (sh.n == 0)
        sh.n = 1;
    sh.timeout_ms = timeout;
    atomic_init(&sh.next, 0);
    if (http_client_init() != 0) {
        fprintf(stderr, "loadgen: cannot initialise libcurl\n");
        return 1;
    }

    /* Every order is followed on Kafka (reading the topic costs the service
     * nothing); polling is sampled. */
    sh.follow_every = strcmp(follow, "kafka") == 0 ? 1 : (uint64_t)every;
    if (strcmp(follow, "none") != 0) {
        bool kafka = strcmp(follow, "kafka") == 0;
        sh.follower = follower_start(
            follow, kafka ? config_str(opts, "follow-brokers") : config_str(opts, "url"),
            config_str(opts, "follow-topic"), sh.n);
        if (!sh.follower) {
            http_client_cleanup();
            return 1;
        }
    }
    struct worker *workers = calloc((size_t)c, sizeof *workers);
    struct run_stats total;
    if (!workers || run_stats_init(&total) != 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        free(workers);
        return 1;
    }
    const char *accepted_path = config_str(opts, "accepted-file");
    if (accepted_path && !sh.healthz && !(sh.accepted = fopen(accepted_path, "w"))) {
        fprintf(stderr, "loadgen: cannot write --accepted-file %s: %s\n", accepted_path,
                strerror(errno));
        http_client_cleanup();
        run_stats_free(&total);
        free(workers);
        return 1;
    }
    const char *trace_path = config_str(opts, "trace");
    FILE *trace = NULL;
    if (trace_path && !(trace = fopen(trace_path, "w"))) {
        fprintf(stderr, "loadgen: cannot write --trace %s: %s\n", trace_path, strerror(errno));
        if (sh.accepted)
            fclose(sh.accepted);
        http_client_cleanup();
        run_stats_free(&total);
        free(workers);
        return 1;
    }
    const char *csv_path = config_str(opts, "csv");
    FILE *csv = NULL;
    if (csv_path && !(csv = fopen(csv_path, "w"))) {
        fprintf(stderr, "loadgen: cannot write --csv %s: %s\n", csv_path, strerror(errno));
        if (trace)
            fclose(trace);
        if (sh.accepted)
            fclose(sh.accepted);
        http_client_cleanup();
        run_stats_free(&total);
        free(workers);
        return 1;
    }
    sh.trace = trace != NULL || csv != NULL;
    progress_start(&sh.progress, sh.n, !config_flag(opts, "quiet") && !config_flag(opts, "json"));
    uint64_t t0 = clock_mono_us();
    int64_t t0_wall_ms = clock_wall_ms();
    sh.origin_us = t0;
    sh.t0_us = t0 + 1000;
    long started = 0;
    for (; started < c; started++) {
        workers[started].sh = &sh;
        if (run_stats_init(&workers[started].stats) != 0 ||
            pthread_create(&workers[started].thread, NULL, work, &workers[started]) != 0) {
            fprintf(stderr, "loadgen: cannot start worker %ld\n", started);
            atomic_store(&sh.next, sh.n); /* tell the others to stop */
            run_stats_free(&workers[started].stats);
            break;
        }
    }
    for (long i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        run_stats_merge(&total, &workers[i].stats);
        run_stats_free(&workers[i].stats);
    }
    uint64_t t1 = clock_mono_us();
    progress_stop(&sh.progress);
    struct follow_result fr = {0};
    struct histogram final;
    bool have_final = false;
    if (sh.follower && histogram_init(&final) == 0) {
        fr = follower_finish(sh.follower, 60000, &final);
        have_final = true;
    }
    uint64_t t2 = clock_mono_us();
    int rc = started == c ? 0 : 1;
    size_t ntrace = 0;
    struct trace_rec *merged = sh.trace ? merge_trace(workers, started, &ntrace) : NULL;
    if (trace && (merged ? write_trace(trace, merged, ntrace) : fclose(trace) - 1) != 0) {
        fprintf(stderr, "loadgen: cannot write --trace %s\n", trace_path);
        rc = 1;
    }
    if (csv && (merged ? write_csv(csv, merged, ntrace, &sh) : fclose(csv) - 1) != 0) {
        fprintf(stderr, "loadgen: cannot write --csv %s\n", csv_path);
        rc = 1;
    }
    free(merged); /* (without it the files were closed above, reported as not written) */
    for (long i = 0; i < c; i++)
        free(workers[i].trace);
    http_client_cleanup();
    free(workers);
    if (sh.accepted && fclose(sh.accepted) != 0) {
        fprintf(stderr, "loadgen: cannot write --accepted-file %s\n", accepted_path);
        rc = 1;
    }

    char target_text[32];
    snprintf(target_text, sizeof target_text, "%s", sh.healthz ? "GET /healthz" : "POST /order");
    struct run_info info = {
        .label = config_str(opts, "label"),
        .driver = "rest",
        .target = target_text,
        .url = config_str(opts, "url"),
        .open_loop = sh.open_loop,
        .requests = sh.n,
        .concurrency = (unsigned)c,
        .rate = sh.rate,
        .seed = (uint64_t)seed,
        .start_index = (uint64_t)start,
        .duration_s = (double)(t1 - t0) / 1e6,
        .follow = have_final ? follow : NULL,
        .final = have_final ? &final : NULL,
        .followed = fr.followed,
        .unfinished = fr.unfinished,
        .final_duration_s = (double)(t2 - t0) / 1e6,
        .start_unix_ms = t0_wall_ms,
    };
    if (config_flag(opts, "json")) {
        if (report_json(&info, &total) != 0)
            rc = 1;
    } else {
        report_table(&info, &total);
    }
    if (run_stats_total(&total) == total.unreachable && total.unreachable > 0)
        fprintf(stderr, "loadgen: nothing answered at %s: is the service running?\n", url);
    run_stats_free(&total);
    if (have_final) {
        if (fr.unfinished)
            fprintf(stderr, "loadgen: %llu of %llu followed orders never reached a final state\n",
                    (unsigned long long)fr.unfinished, (unsigned long long)fr.followed);
        histogram_free(&final);
    }
    return rc;
}
