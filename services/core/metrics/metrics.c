#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"

#define MAX_SERIES 96
#define MAX_ROUTES 24
#define MAX_NAMED 48

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

struct series {
    const char *route;
    int status;
    uint64_t count;
};

struct route_hist {
    const char *route;
    uint64_t buckets[NBOUNDS + 1];
    uint64_t count;
    double sum;
};

struct named {
    const char *name;
    const char *help;
    int gauge;
    double value;
};

struct metrics {
    pthread_mutex_t mu;
    const char *service;
    struct series series[MAX_SERIES];
    size_t nseries;
    struct route_hist hists[MAX_ROUTES];
    size_t nhists;
    struct named named[MAX_NAMED];
    size_t nnamed;
};

struct metrics *metrics_new(const char *service)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->service = service;
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void metrics_http_observe(struct metrics *m, const char *route, int status, uint64_t usec)
{
    pthread_mutex_lock(&m->mu);
    size_t i;
    for (i = 0; i < m->nseries; i++)
        if (m->series[i].status == status && strcmp(m->series[i].route, route) == 0)
            break;
    if (i == m->nseries && m->nseries < MAX_SERIES)
        m->series[m->nseries++] = (struct series){.route = route, .status = status};
    if (i < MAX_SERIES)
        m->series[i].count++;

    for (i = 0; i < m->nhists; i++)
        if (strcmp(m->hists[i].route, route) == 0)
            break;
    if (i == m->nhists && m->nhists < MAX_ROUTES)
        m->hists[m->nhists++].route = route;
    if (i < MAX_ROUTES) {
        double s = (double)usec / 1e6;
        size_t b = 0;
        while (b < NBOUNDS && s > bounds[b])
            b++;
        m->hists[i].buckets[b]++;
        m->hists[i].count++;
        m->hists[i].sum += s;
    }
    pthread_mutex_unlock(&m->mu);
}

static struct named *named_slot(struct metrics *m, const char *name, const char *help, int gauge)
{
    for (size_t i = 0; i < m->nnamed; i++)
        if (strcmp(m->named[i].name, name) == 0)
            return &m->named[i];
    if (m->nnamed == MAX_NAMED)
        return NULL;
    struct named *n = &m->named[m->nnamed++];
    *n = (struct named){.name = name, .help = help, .gauge = gauge};
    return n;
}

void metrics_count(struct metrics *m, const char *name, const char *help, uint64_t delta)
{
    pthread_mutex_lock(&m->mu);
    struct named *n = named_slot(m, name, help, 0);
    if (n)
        n->value += (double)delta;
    pthread_mutex_unlock(&m->mu);
}

void metrics_gauge(struct metrics *m, const char *name, const char *help, double value)
{
    pthread_mutex_lock(&m->mu);
    struct named *n = named_slot(m, name, help, 1);
    if (n)
        n->value = value;
    pthread_mutex_unlock(&m->mu);
}

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%ld %ld", &pages, &rss) == 2;
    fclose(f);
    return ok ? rss * sysconf(_SC_PAGESIZE) : -1;
}

char *metrics_render(struct metrics *m, size_t *len)
{
    struct buf b = {0};
    const char *svc = m->service;
    pthread_mutex_lock(&m->mu);
    buf_puts(&b, "# HELP commlab_http_requests_total HTTP requests answered, by route and "
                 "status.\n# TYPE commlab_http_requests_total counter\n");
    for (size_t i = 0; i < m->nseries; i++)
        buf_printf(&b, "commlab_http_requests_total{service=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                   svc, m->series[i].route, m->series[i].status,
                   (unsigned long long)m->series[i].count);
    buf_puts(&b, "# HELP commlab_http_request_duration_seconds Time from request to response.\n"
                 "# TYPE commlab_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->nhists; i++) {
        const struct route_hist *h = &m->hists[i];
        uint64_t cum = 0;
        for (size_t k = 0; k <= NBOUNDS; k++) {
            cum += h->buckets[k];
            char le[32];
            if (k < NBOUNDS)
                snprintf(le, sizeof le, "%g", bounds[k]);
            else
                snprintf(le, sizeof le, "+Inf");
            buf_printf(&b,
                       "commlab_http_request_duration_seconds_bucket{service=\"%s\",route=\"%s\","
                       "le=\"%s\"} %llu\n",
                       svc, h->route, le, (unsigned long long)cum);
        }
        buf_printf(&b,
                   "commlab_http_request_duration_seconds_sum{service=\"%s\",route=\"%s\"} %.6f\n"
                   "commlab_http_request_duration_seconds_count{service=\"%s\",route=\"%s\"} %llu\n",
                   svc, h->route, h->sum, svc, h->route, (unsigned long long)h->count);
    }
    for (size_t i = 0; i < m->nnamed; i++) {
        const struct named *n = &m->named[i];
        buf_printf(&b, "# HELP commlab_%s %s\n# TYPE commlab_%s %s\ncommlab_%s{service=\"%s\"} %.17g\n",
                   n->name, n->help, n->name, n->gauge ? "gauge" : "counter", n->name, svc,
                   n->value);
    }
    pthread_mutex_unlock(&m->mu);
    buf_printf(&b, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                   "# TYPE process_resident_memory_bytes gauge\n"
                   "process_resident_memory_bytes{service=\"%s\"} %ld\n",
               svc, rss_bytes());
    return buf_take(&b, len);
}
