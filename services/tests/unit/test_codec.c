#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec/event_json.h"
#include "codec/event_writer.h"
#include "codec/json_common.h"
#include "domain/catalog.h"
#include "domain/workload.h"
#include "codec/order_json.h"
#include "codec/service_json.h"
#include "check.h"

/* Decodes `body` as a client order and returns the field named in the error
 * ("OK" when valid). */
static const char *field_of(const char *body, unsigned need)
{
    static struct field_error err;
    struct order o;
    if (order_decode(body, strlen(body), need, &o, &err) == 0)
        return "OK";
    return err.field;
}

static void test_order_decode(void)
{
    unsigned need = NEED_USER_ID | NEED_ITEMS;
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1}]}", need),
              "OK");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1}]}  \n", need),
              "OK");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1}]} x", need),
              "body");
    CHECK_STR(field_of("{\"user_id\":\"u1\",", need), "body");
    CHECK_STR(field_of("[1,2]", need), "body");
    CHECK_STR(field_of("{\"items\":[{\"sku\":\"burger\",\"qty\":1}]}", need), "user_id");
    CHECK_STR(field_of("{\"user_id\":7,\"items\":[{\"sku\":\"burger\",\"qty\":1}]}", need),
              "user_id");
    CHECK_STR(field_of("{\"user_id\":\"u1\"}", need), "items");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[]}", need), "items");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":{}}", need), "items");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":0}]}", need),
              "items[0].qty");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":-1}]}", need),
              "items[0].qty");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1e9}]}", need),
              "items[0].qty");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1.5}]}", need),
              "items[0].qty");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":\"1\"}]}", need),
              "items[0].qty");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"fries\",\"qty\":1},"
                       "{\"sku\":\"caviar\",\"qty\":1}]}",
                       need),
              "items[1].sku");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"sku\":\"fries\",\"qty\":1},"
                       "{\"sku\":\"fries\",\"qty\":1}]}",
                       need),
              "items[1].sku");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[{\"qty\":1}]}", need), "items[0].sku");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"items\":[5]}", need), "items[0]");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"order_id\":\"a b\",\"items\":[{\"sku\":\"burger\","
                       "\"qty\":1}]}",
                       need),
              "order_id");
    CHECK_STR(field_of("{\"user_id\":\"u1\",\"occurred_at\":\"yesterday\",\"items\":[{\"sku\":"
                       "\"burger\",\"qty\":1}]}",
                       need),
              "occurred_at");
    CHECK_STR(field_of("{\"items\":[{\"sku\":\"burger\",\"qty\":1}]}", NEED_ORDER_ID | NEED_ITEMS),
              "order_id");

    struct order o;
    struct field_error err;
    const char *body = "{\"order_id\":\"o1\",\"user_id\":\"u1\",\"occurred_at\":"
                       "\"2026-02-18T11:30:00.250Z\",\"items\":[{\"sku\":\"wrap\",\"qty\":2},"
                       "{\"sku\":\"burger\",\"qty\":1}]}";
    CHECK(order_decode(body, strlen(body), need, &o, &err) == 0);
    char *again = order_encode(&o);
    CHECK_STR(again, "{\"order_id\":\"o1\",\"user_id\":\"u1\",\"occurred_at\":"
                     "\"2026-02-18T11:30:00.250Z\",\"items\":[{\"sku\":\"burger\",\"qty\":1},"
                     "{\"sku\":\"wrap\",\"qty\":2}]}");
    free(again);
    /* An embedded NUL is not whitespace: the body is refused. */
    CHECK(order_decode("{\"user_id\":\"u1\"}\0x", 18, NEED_USER_ID, &o, &err) != 0);
}

/* Order o9 of one `sku` (qty 1), decoded from a client body. */
static struct order example_order(const char *sku)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"order_id\":\"o9\",\"user_id\":\"u9\",\"occurred_at\":"
             "\"2026-02-18T11:31:00.000Z\",\"items\":[{\"sku\":\"%s\",\"qty\":1}]}",
             sku);
    struct order o;
    struct field_error err;
    CHECK(order_decode(body, strlen(body), NEED_ORDER_ID | NEED_USER_ID | NEED_ITEMS, &o, &err) ==
          0);
    return o;
}

static void test_events(void)
{
    struct order o = example_order("truffle-fries");
    struct field_error err;
    struct event ev, back;
    event_from_order(&ev, EVENT_INVENTORY_FAILED, &o, "out_of_stock:truffle-fries");
    char *text = event_encode(&ev);
    CHECK(text != NULL);
    CHECK(event_decode(text, strlen(text), &back, &err) == 0);
    CHECK(memcmp(&ev, &back, sizeof ev) == 0);
    char *text2 = event_encode(&back);
    CHECK_STR(text2, text);
    free(text);
    free(text2);

    const char *bad[][2] = {
        {"not json", "body"},
        {"{\"schema\":2,\"type\":\"OrderPlaced\"}", "schema"},
        {"{\"schema\":1,\"type\":\"Nope\"}", "type"},
        {"{\"schema\":1,\"type\":\"OrderPlaced\",\"event_id\":\"e\",\"occurred_at\":"
         "\"2026-02-18T11:31:00Z\",\"payload\":{}}",
         "order_id"},
        {"{\"schema\":1,\"type\":\"OrderPlaced\",\"event_id\":\"e\",\"order_id\":\"o\","
         "\"occurred_at\":\"2026-02-18T11:31:00Z\",\"payload\":{\"user_id\":\"u\",\"items\":\"x\"}"
         "}",
         "payload.items"},
        {"{\"schema\":1,\"type\":\"OrderPlaced\",\"event_id\":\"e\",\"order_id\":\"o\","
         "\"occurred_at\":\"2026-02-18T11:31:00Z\",\"payload\":{\"items\":[]}}",
         "payload.user_id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(event_decode(bad[i][0], strlen(bad[i][0]), &back, &err) != 0);
        CHECK_STR(err.field, bad[i][1]);
    }
}

static void test_event_accept(void)
{
    struct order o = example_order("fries");
    struct event ev, got;
    event_from_order(&ev, EVENT_ORDER_PLACED, &o, NULL);
    char *text = event_encode(&ev);
    char reason[160];
    CHECK(event_accept(text, strlen(text), 1u << EVENT_ORDER_PLACED, &got, reason, sizeof reason));
    CHECK(!event_accept(text, strlen(text), 1u << EVENT_INVENTORY_RESERVED, &got, reason,
                        sizeof reason));
    CHECK_STR(reason, "type: expected InventoryReserved, got OrderPlaced");
    CHECK(!event_accept(text, strlen(text),
                        1u << EVENT_INVENTORY_RESERVED | 1u << EVENT_INVENTORY_FAILED, &got, reason,
                        sizeof reason));
    CHECK_STR(reason, "type: expected InventoryReserved or InventoryFailed, got OrderPlaced");
    CHECK(!event_accept("{", 1, 1u << EVENT_ORDER_PLACED, &got, reason, sizeof reason));
    CHECK_STR(reason, "body: object is not closed at byte 1");
    CHECK(!event_accept(text, EVENT_MAX_BYTES + 1, 1u << EVENT_ORDER_PLACED, &got, reason,
                        sizeof reason));
    CHECK_STR(reason, "body: larger than 65536 bytes");
    free(text);
}

static void test_service_json(void)
{
    long delay = 5;
    enum fault_mode mode = FAULT_NONE;
    struct field_error err;
    const char *b = "{\"delay_ms\":2000}";
    CHECK(fault_decode(b, strlen(b), &delay, &mode, &err) == 0 && delay == 2000 &&
          mode == FAULT_NONE);
    b = "{\"mode\":\"hang\"}";
    CHECK(fault_decode(b, strlen(b), &delay, &mode, &err) == 0 && delay == 2000 &&
          mode == FAULT_HANG);
    b = "{\"mode\":\"explode\"}";
    CHECK(fault_decode(b, strlen(b), &delay, &mode, &err) != 0);
    CHECK_STR(err.field, "mode");
    b = "{\"delay_ms\":-1}";
    CHECK(fault_decode(b, strlen(b), &delay, &mode, &err) != 0);
    CHECK_STR(err.field, "delay_ms");

    struct reserve_result r = {.reserved = false, .reason = "out_of_stock:fries"};
    char *ans = reserve_answer_encode("o1", &r);
    CHECK_STR(ans,
              "{\"order_id\":\"o1\",\"status\":\"refused\",\"reason\":\"out_of_stock:fries\"}");
    char reason[64];
    reserve_answer_reason(ans, strlen(ans), reason, sizeof reason);
    CHECK_STR(reason, "out_of_stock:fries");
    free(ans);
}

/* The reusable writer prints what a fresh one does, whatever the previous
 * event linked (more or fewer items, a reason or none). */
static void test_event_writer(void)
{
    struct order o = example_order("truffle-fries");
    struct field_error err;
    struct event ev;
    event_from_order(&ev, EVENT_INVENTORY_FAILED, &o, "out_of_stock:truffle-fries");
    char *text = event_encode(&ev);
    CHECK(text != NULL);
    char want[512];
    snprintf(want, sizeof want,
             "{\"schema\":1,\"type\":\"InventoryFailed\",\"event_id\":\"%s\",\"order_id\":\"o9\","
             "\"occurred_at\":\"2026-02-18T11:31:00.000Z\",\"payload\":{\"user_id\":\"u9\","
             "\"items\":[{\"sku\":\"truffle-fries\",\"qty\":1}],"
             "\"reason\":\"out_of_stock:truffle-fries\"}}",
             ev.event_id);
    CHECK_STR(text, want);
    free(text);

    struct event_writer w;
    CHECK(event_writer_init(&w) == 0);
    struct workload wl = {.seed = 3, .sold_out_pct = 50};
    for (uint64_t i = 0; i < 64; i++) {
        workload_order(&wl, i, &o);
        if (i % 7 == 3) { /* every SKU once: the most items an order holds */
            o.n_items = 0;
            for (size_t k = 0; k < catalog_count(); k++)
                CHECK(order_add_item(&o, (int)k, (int)k + 1) == 0);
        }
        event_from_order(&ev, i % 2 ? EVENT_INVENTORY_FAILED : EVENT_ORDER_PLACED, &o,
                         i % 2 ? "out_of_stock:truffle-fries" : NULL);
        char out[EVENT_TEXT_MAX];
        int n = event_writer_encode(&w, &ev, out, sizeof out);
        char *fresh = event_encode(&ev);
        CHECK(fresh != NULL && n == (int)strlen(fresh));
        CHECK_STR(out, fresh);
        struct event back;
        CHECK(event_decode(out, (size_t)n, &back, &err) == 0);
        CHECK(memcmp(&ev, &back, sizeof ev) == 0);
        free(fresh);
    }
    char tiny[16];
    CHECK(event_writer_encode(&w, &ev, tiny, sizeof tiny) == -1);
    event_writer_free(&w);

    char num[JSON_INT_TEXT];
    json_int_text(0, num);
    CHECK_STR(num, "0");
    json_int_text(100000000, num);
    CHECK_STR(num, "100000000");
    json_int_text(-42, num);
    CHECK_STR(num, "-42");
    json_int_text(LLONG_MIN, num);
    CHECK_STR(num, "-9223372036854775808");
}

int main(void)
{
    test_order_decode();
    test_events();
    test_event_accept();
    test_service_json();
    test_event_writer();
    return check_summary("test_codec");
}
