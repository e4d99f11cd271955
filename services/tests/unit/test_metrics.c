#include <stdlib.h>

#include "metrics/histogram.h"
#include "metrics/metrics.h"
#include "check.h"

static int close_to(uint64_t got, uint64_t want, double rel)
{
    double d = (double)got - (double)want;
    return (d < 0 ? -d : d) <= rel * (double)want + 1;
}

static void test_histogram(void)
{
    struct histogram h, other;
    CHECK(histogram_init(&h) == 0 && histogram_init(&other) == 0);
    CHECK(histogram_quantile(&h, 0.5) == 0);
    for (uint64_t v = 1; v <= 1000; v++)
        histogram_record(&h, v);
    CHECK(histogram_quantile(&h, 0.5) == 500); /* exact below 1024 us */
    CHECK(histogram_quantile(&h, 0.99) == 990);
    CHECK(histogram_quantile(&h, 1.0) == 1000);
    for (uint64_t v = 1; v <= 100000; v++)
        histogram_record(&other, v * 37);
    CHECK(close_to(histogram_quantile(&other, 0.5), 50000 * 37, 0.002));
    CHECK(close_to(histogram_quantile(&other, 0.95), 95000 * 37, 0.002));
    CHECK(histogram_quantile(&other, 1.0) == 100000 * 37);
    histogram_merge(&h, &other);
    CHECK(h.total == 101000 && h.min == 1 && h.max == 3700000);
    histogram_record(&h, UINT64_MAX); /* clamped, not out of bounds */
    CHECK(h.max == (UINT64_C(1) << 40) - 1);
    histogram_free(&h);
    histogram_free(&other);

    /* 2 s with a little spread: the percentile lands within 0.2%. */
    CHECK(histogram_init(&h) == 0);
    for (int i = 0; i < 200; i++)
        histogram_record(&h, 2000000 + (uint64_t)i * 100);
    CHECK(close_to(histogram_quantile(&h, 0.5), 2010000, 0.002));
    CHECK(histogram_mean(&h) > 2009000 && histogram_mean(&h) < 2011000);
    histogram_free(&h);
}

static void test_prometheus(void)
{
    struct metrics *m = metrics_new("order");
    metrics_http_observe(m, "/order", 201, 700);
    metrics_http_observe(m, "/order", 201, 3000000);
    metrics_http_observe(m, "/order", 400, 50);
    metrics_count(m, "orders_placed_total", "Orders.", 2);
    metrics_gauge(m, "backlog", "Rows.", 7);
    size_t len;
    char *text = metrics_render(m, &len);
    CHECK(text && strlen(text) == len);
    CHECK(strstr(text, "commlab_http_requests_total{service=\"order\",route=\"/order\",status=\"201\"} 2\n"));
    CHECK(strstr(text, "commlab_http_requests_total{service=\"order\",route=\"/order\",status=\"400\"} 1\n"));
    CHECK(strstr(text, "commlab_http_request_duration_seconds_bucket{service=\"order\",route=\"/order\",le=\"0.001\"} 2\n"));
    CHECK(strstr(text, "commlab_http_request_duration_seconds_bucket{service=\"order\",route=\"/order\",le=\"+Inf\"} 3\n"));
    CHECK(strstr(text, "commlab_http_request_duration_seconds_count{service=\"order\",route=\"/order\"} 3\n"));
    CHECK(strstr(text, "# TYPE commlab_orders_placed_total counter\ncommlab_orders_placed_total{service=\"order\"} 2\n"));
    CHECK(strstr(text, "# TYPE commlab_backlog gauge\ncommlab_backlog{service=\"order\"} 7\n"));
    CHECK(strstr(text, "process_resident_memory_bytes{service=\"order\"} "));
    free(text);
    metrics_free(m);
}

int main(void)
{
    test_histogram();
    test_prometheus();
    return check_summary("test_metrics");
}
