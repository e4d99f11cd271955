#include "report.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int run_stats_init(struct run_stats *s)
{
    memset(s, 0, sizeof *s);
    return histogram_init(&s->latency);
}

void run_stats_free(struct run_stats *s)
{
    histogram_free(&s->latency);
}

void run_stats_merge(struct run_stats *into, const struct run_stats *from)
{
    histogram_merge(&into->latency, &from->latency);
    for (int i = 0; i < REPORT_MAX_STATUS; i++)
        into->status[i] += from->status[i];
    into->timeouts += from->timeouts;
    into->unreachable += from->unreachable;
    into->late_starts += from->late_starts;
}

uint64_t run_stats_ok(const struct run_stats *s)
{
    uint64_t n = 0;
    for (int i = 200; i < 300; i++)
        n += s->status[i];
    return n;
}

uint64_t run_stats_total(const struct run_stats *s)
{
    uint64_t n = s->timeouts + s->unreachable;
    for (int i = 0; i < REPORT_MAX_STATUS; i++)
        n += s->status[i];
    return n;
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

void report_table(const struct run_info *info, const struct run_stats *s)
{
    const struct histogram *h = &s->latency;
    uint64_t total = run_stats_total(s);
    printf("%s  %s %s  (%s loop", info->label, info->driver, info->target,
           info->open_loop ? "open" : "closed");
    if (info->open_loop)
        printf(", %.0f/s offered", info->rate);
    printf(", concurrency %u, seed %llu)\n", info->concurrency, (unsigned long long)info->seed);
    printf("  requests %llu   ok %llu   errors %llu   %.3f s   %.1f req/s\n",
           (unsigned long long)total, (unsigned long long)run_stats_ok(s),
           (unsigned long long)(total - run_stats_ok(s)), info->duration_s,
           info->duration_s > 0 ? (double)total / info->duration_s : 0.0);
    printf("  latency ms   p50 %.3f   p95 %.3f   p99 %.3f   max %.3f   mean %.3f\n",
           ms(histogram_quantile(h, 0.50)), ms(histogram_quantile(h, 0.95)),
           ms(histogram_quantile(h, 0.99)), ms(h->max), histogram_mean(h) / 1000.0);
    printf("  answers     ");
    for (int i = 0; i < REPORT_MAX_STATUS; i++)
        if (s->status[i])
            printf(" %d:%llu", i, (unsigned long long)s->status[i]);
    if (s->timeouts)
        printf(" timeout:%llu", (unsigned long long)s->timeouts);
    if (s->unreachable)
        printf(" unreachable:%llu", (unsigned long long)s->unreachable);
    if (info->open_loop)
        printf("   (started late: %llu)", (unsigned long long)s->late_starts);
    printf("\n");
    if (info->final) {
        const struct histogram *f = info->final;
        printf("  accepted->final ms (%s, %llu followed, %llu unfinished)   p50 %.3f   p95 %.3f"
               "   p99 %.3f   max %.3f\n",
               info->follow, (unsigned long long)info->followed,
               (unsigned long long)info->unfinished, ms(histogram_quantile(f, 0.50)),
               ms(histogram_quantile(f, 0.95)), ms(histogram_quantile(f, 0.99)), ms(f->max));
    }
}

/* p50/p95/p99/max/mean of `h` in ms under `name`. */
static cJSON *add_latency(cJSON *root, const char *name, const struct histogram *h)
{
    cJSON *lat = cJSON_AddObjectToObject(root, name);
    cJSON_AddNumberToObject(lat, "p50", ms(histogram_quantile(h, 0.50)));
    cJSON_AddNumberToObject(lat, "p95", ms(histogram_quantile(h, 0.95)));
    cJSON_AddNumberToObject(lat, "p99", ms(histogram_quantile(h, 0.99)));
    cJSON_AddNumberToObject(lat, "max", ms(h->max));
    cJSON_AddNumberToObject(lat, "mean", histogram_mean(h) / 1000.0);
    return lat;
}

cJSON *report_begin(const char *label, const char *driver)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!cJSON_AddStringToObject(root, "label", label) ||
                 !cJSON_AddStringToObject(root, "driver", driver))) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

void report_add_rate(cJSON *root, double count, double duration_s)
{
    cJSON_AddNumberToObject(root, "duration_s", duration_s);
    cJSON_AddNumberToObject(root, "rate_per_s", duration_s > 0 ? count / duration_s : 0.0);
}

void report_add_latency(cJSON *root, const struct histogram *h)
{
    add_latency(root, "latency_ms", h);
}

int report_print(cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return -1;
    int rc = puts(text) < 0 ? -1 : 0;
    free(text);
    return rc;
}

int report_json(const struct run_info *info, const struct run_stats *s)
{
    const struct histogram *h = &s->latency;
    uint64_t total = run_stats_total(s);
    cJSON *root = report_begin(info->label, info->driver);
    cJSON *status = cJSON_AddObjectToObject(root, "status");
    if (!root || !status) {
        cJSON_Delete(root);
        return -1;
    }
    cJSON_AddStringToObject(root, "target", info->target);
    cJSON_AddStringToObject(root, "mode", info->open_loop ? "open" : "closed");
    cJSON_AddNumberToObject(root, "requests", (double)total);
    cJSON_AddNumberToObject(root, "concurrency", info->concurrency);
    if (info->open_loop)
        cJSON_AddNumberToObject(root, "offered_rate", info->rate);
    cJSON_AddNumberToObject(root, "seed", (double)info->seed);
    cJSON_AddNumberToObject(root, "start_index", (double)info->start_index);
    cJSON_AddNumberToObject(root, "ok", (double)run_stats_ok(s));
    cJSON_AddNumberToObject(root, "errors", (double)(total - run_stats_ok(s)));
    report_add_rate(root, (double)total, info->duration_s);
    if (info->start_unix_ms)
        cJSON_AddNumberToObject(root, "start_unix_ms", (double)info->start_unix_ms);
    for (int i = 0; i < REPORT_MAX_STATUS; i++) {
        if (s->status[i]) {
            char k[8];
            snprintf(k, sizeof k, "%d", i);
            cJSON_AddNumberToObject(status, k, (double)s->status[i]);
        }
    }
    cJSON_AddNumberToObject(status, "timeout", (double)s->timeouts);
    cJSON_AddNumberToObject(status, "unreachable", (double)s->unreachable);
    cJSON_AddNumberToObject(root, "late_starts", (double)s->late_starts);
    add_latency(root, "latency_ms", h);
    if (info->final) {
        cJSON *f = add_latency(root, "accepted_to_final_ms", info->final);
        cJSON_AddStringToObject(f, "via", info->follow);
        cJSON_AddNumberToObject(f, "followed", (double)info->followed);
        cJSON_AddNumberToObject(f, "unfinished", (double)info->unfinished);
        cJSON_AddNumberToObject(f, "duration_s", info->final_duration_s);
    }
    /* The latency distribution as [percentile, ms] pairs, for plots. */
    static const double qs[] = {0,  1,  5,  10, 20, 30, 40,   50,   60,    70,
                                80, 90, 95, 97, 98, 99, 99.5, 99.9, 99.99, 100};
    cJSON *dist = cJSON_AddArrayToObject(root, "latency_percentiles_ms");
    for (size_t i = 0; dist && i < sizeof qs / sizeof qs[0]; i++) {
        cJSON *pair = cJSON_CreateArray();
        if (!pair || !cJSON_AddItemToArray(dist, pair))
            break;
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(qs[i]));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(ms(histogram_quantile(h, qs[i] / 100))));
    }
    return report_print(root);
}
