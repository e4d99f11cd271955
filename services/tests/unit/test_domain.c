#include <stdio.h>
#include <stdlib.h>

#include "domain/catalog.h"
#include "domain/event.h"
#include "domain/order.h"
#include "domain/order_status.h"
#include "domain/workload.h"
#include "util/clock.h"
#include "check.h"

static void test_time(void)
{
    char t[TIME_TEXT_LEN + 1];
    time_format_ms(WORKLOAD_BASE_MS, t);
    CHECK_STR(t, "2026-02-18T11:30:00.000Z");
    time_format_ms(0, t);
    CHECK_STR(t, "1970-01-01T00:00:00.000Z");
    int64_t ms;
    CHECK(time_parse_ms("2026-02-18T11:30:00.123Z", &ms) == NULL && ms == WORKLOAD_BASE_MS + 123);
    CHECK(time_parse_ms("2024-02-29T00:00:00Z", &ms) == NULL);
    time_format_ms(ms, t);
    CHECK_STR(t, "2024-02-29T00:00:00.000Z");
    CHECK(time_parse_ms("2026-02-29T00:00:00Z", &ms) != NULL); /* not a leap year */
    CHECK(time_parse_ms("2026-13-01T00:00:00Z", &ms) != NULL);
    CHECK(time_parse_ms("2026-02-18 11:30:00Z", &ms) != NULL);
    CHECK(time_parse_ms("", &ms) != NULL);
}

static void test_ids_and_items(void)
{
    CHECK(id_valid("u1"));
    CHECK(id_valid("order-2026.02:18@x_1"));
    CHECK(!id_valid(""));
    CHECK(!id_valid("has space"));
    CHECK(!id_valid("quote\""));
    char long_id[70];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    CHECK(!id_valid(long_id));
    long_id[64] = '\0';
    CHECK(id_valid(long_id));

    struct order o = {0};
    CHECK(order_add_item(&o, catalog_index("wrap"), 2) == 0);
    CHECK(order_add_item(&o, catalog_index("burger"), 1) == 0);
    CHECK(order_add_item(&o, catalog_index("burger"), 3) != 0); /* repeated SKU */
    char text[ITEMS_TEXT_MAX];
    order_items_text(&o, text);
    CHECK_STR(text, "burger:1,wrap:2"); /* catalog order, whatever the input order */
    struct order back = {0};
    CHECK(order_items_parse(&back, text) == 0 && back.n_items == 2);
    CHECK(order_items_parse(&back, "burger:0") != 0);
    CHECK(order_items_parse(&back, "nosuch:1") != 0);
    CHECK(order_items_parse(&back, "burger:1,burger:1") != 0);
    CHECK(order_items_parse(&back, "") != 0);

    /* Two copies of one order: the first field they disagree on. */
    struct order same = o, other = o;
    CHECK(order_differs(&o, &same) == NULL);
    snprintf(same.order_id, sizeof same.order_id, "%s", "another-id"); /* not compared */
    CHECK(order_differs(&o, &same) == NULL);
    snprintf(other.user_id, sizeof other.user_id, "%s", "u2");
    CHECK_STR(order_differs(&o, &other), "user_id");
    other = o;
    other.items[1].qty = 3;
    CHECK_STR(order_differs(&o, &other), "items");
    other = o;
    other.items[0].sku = catalog_index("coffee");
    CHECK_STR(order_differs(&o, &other), "items");
    other = o;
    other.n_items = 1;
    CHECK_STR(order_differs(&o, &other), "items");
    CHECK_STR(order_differs(&other, &o), "items");
    other = o;
    other.occurred_at = o.occurred_at + 1;
    CHECK_STR(order_differs(&o, &other), "occurred_at");

    char a[ID_MAX_LEN + 1], b[ID_MAX_LEN + 1];
    order_id_random(a);
    order_id_random(b);
    CHECK(id_valid(a) && id_valid(b) && strcmp(a, b) != 0);
}

static void test_workload(void)
{
    struct workload w = {.seed = 42, .sold_out_pct = 10};
    struct order a, b;
    workload_order(&w, 7, &a);
    workload_order(&w, 7, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    /* The whole workload is pinned: a change here changes every hash in results/. */
    CHECK_STR(a.order_id, "o16062d6c1339e500");
    int sold_out = 0, distinct = 1;
    int64_t prev = -1;
    char first[ID_MAX_LEN + 1] = "";
    for (uint64_t i = 0; i < 10000; i++) {
        workload_order(&w, i, &a);
        CHECK(a.n_items >= 1 && a.n_items <= 4);
        CHECK(a.occurred_at > prev);
        prev = a.occurred_at;
        for (int k = 0; k < a.n_items; k++)
            sold_out += a.items[k].sku == catalog_sold_out();
        if (i == 0)
            strcpy(first, a.order_id);
        else if (strcmp(first, a.order_id) == 0)
            distinct = 0;
    }
    CHECK(distinct);
    CHECK(sold_out > 800 && sold_out < 1200); /* about 10% */
    struct workload other = {.seed = 43};
    workload_order(&other, 7, &b);
    workload_order(&w, 7, &a);
    CHECK(strcmp(a.order_id, b.order_id) != 0);
}

static void test_events(void)
{
    char a[EVENT_ID_LEN + 1], b[EVENT_ID_LEN + 1];
    event_id_derive(EVENT_ORDER_PLACED, "o1", a);
    event_id_derive(EVENT_ORDER_PLACED, "o1", b);
    CHECK_STR(a, b);
    CHECK(strlen(a) == EVENT_ID_LEN);
    event_id_derive(EVENT_INVENTORY_RESERVED, "o1", b);
    CHECK(strcmp(a, b) != 0);
    enum event_type t;
    CHECK(event_type_parse("InventoryFailed", &t) == 0 && t == EVENT_INVENTORY_FAILED);
    CHECK(event_type_parse("inventoryfailed", &t) != 0);
    CHECK(catalog_default_stock((size_t)catalog_sold_out()) == 0);
    CHECK(catalog_index("burger") >= 0 && catalog_index("caviar") < 0);
}

/* Every pair of the transition table, against the model's rules. */
static void test_order_status(void)
{
    for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
        enum order_status s;
        CHECK(order_status_parse(order_status_name((enum order_status)i), &s) == 0 && (int)s == i);
    }
    enum order_status s;
    CHECK(order_status_parse("Confirmed", &s) == -1);
    CHECK(order_status_parse("", &s) == -1);
    CHECK(order_status_parse(NULL, &s) == -1);
    CHECK_STR(order_status_name((enum order_status)99), "unknown");
    static const char *const want[ORDER_STATUS_COUNT] = {
        /* to:              P  A  C  R  F */
        [ORDER_PENDING] = "10111",  [ORDER_ACCEPTED] = "01110", [ORDER_CONFIRMED] = "00100",
        [ORDER_REJECTED] = "00010", [ORDER_FAILED] = "00001",
    };
    for (int f = 0; f < ORDER_STATUS_COUNT; f++)
        for (int t = 0; t < ORDER_STATUS_COUNT; t++) {
            bool ok = order_transition_allowed((enum order_status)f, (enum order_status)t);
            if (ok != (want[f][t] == '1'))
                fprintf(stderr, "transition %s -> %s: %d\n", order_status_name(f),
                        order_status_name(t), ok);
            CHECK(ok == (want[f][t] == '1'));
        }
    CHECK(!order_transition_allowed((enum order_status) - 1, ORDER_CONFIRMED));
    CHECK(!order_transition_allowed(ORDER_ACCEPTED, (enum order_status)ORDER_STATUS_COUNT));
}

int main(void)
{
    test_order_status();
    test_time();
    test_ids_and_items();
    test_workload();
    test_events();
    return check_summary("test_domain");
}
