/* Strict JSON through every decoder entry point: each case is spliced into a
 * valid body of each entry, once as an extra member "x" (which the decoders
 * ignore, so only the validator can refuse it) and once as the value of a
 * field the entry reads; the error must name the field it is in. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "codec/json_strict.h"
#include "codec/order_json.h"
#include "codec/service_json.h"
#include "codec/consumer_control_json.h"
#include "check.h"

typedef int (*decode_fn)(const char *body, size_t len, struct field_error *err);

static int dec_order(const char *b, size_t n, struct field_error *e)
{
    struct order o;
    return order_decode(b, n, NEED_USER_ID | NEED_ITEMS, &o, e);
}
static int dec_reserve(const char *b, size_t n, struct field_error *e)
{
    struct order o;
    return order_decode(b, n, NEED_ORDER_ID | NEED_ITEMS, &o, e);
}
static int dec_release(const char *b, size_t n, struct field_error *e)
{
    struct order o;
    return order_decode(b, n, NEED_ORDER_ID, &o, e);
}
static int dec_send(const char *b, size_t n, struct field_error *e)
{
    struct order o;
    return order_decode(b, n, NEED_ORDER_ID | NEED_USER_ID | NEED_ITEMS, &o, e);
}
static int dec_fault(const char *b, size_t n, struct field_error *e)
{
    long d = 0;
    enum fault_mode m = FAULT_NONE;
    return fault_decode(b, n, &d, &m, e);
}
static int dec_stream(const char *b, size_t n, struct field_error *e)
{
    long t = 0;
    bool p = false;
    return stream_control_decode(b, n, &t, &p, e);
}
static int dec_event(const char *b, size_t n, struct field_error *e)
{
    struct event ev;
    return event_decode(b, n, &ev, e);
}

#define ITEMS "\"items\":[{\"sku\":\"burger\",\"qty\":1}]"
#define ENVELOPE                                                                                   \
    "\"schema\":1,\"type\":\"OrderPlaced\",\"event_id\":\"e1\",\"order_id\":\"o1\","               \
    "\"occurred_at\":\"2026-02-18T12:00:00.000Z\""

/* A template holds one "@" where the case goes; `field` is where that is,
 * `container` the object around it. */
struct site {
    const char *tmpl, *field, *container;
};

struct entry {
    const char *name;
    decode_fn decode;
    const char *valid;     /* a body the entry accepts */
    const char *first_key; /* of `valid`, repeated for the duplicate-key case */
    struct site extra, real;
};

static const struct entry entries[] = {
    {"POST /order",
     dec_order,
     "{\"user_id\":\"u1\"," ITEMS "}",
     "user_id",
     {"{\"user_id\":\"u1\"," ITEMS ",\"x\":@}", "x", "body"},
     {"{\"user_id\":@," ITEMS "}", "user_id", "body"}},
    {"POST /order item",
     dec_order,
     "{\"user_id\":\"u1\"," ITEMS "}",
     "user_id",
     {"{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1,\"x\":@}]}", "items[0].x",
      "items[0]"},
     {"{\"user_id\":\"u1\",\"items\":[{\"sku\":\"fries\",\"qty\":1},{\"sku\":@,\"qty\":1}]}",
      "items[1].sku", "items[1]"}},
    {"POST /reserve",
     dec_reserve,
     "{\"order_id\":\"r1\"," ITEMS "}",
     "order_id",
     {"{\"order_id\":\"r1\"," ITEMS ",\"x\":@}", "x", "body"},
     {"{\"order_id\":@," ITEMS "}", "order_id", "body"}},
    {"POST /release",
     dec_release,
     "{\"order_id\":\"r1\"}",
     "order_id",
     {"{\"order_id\":\"r1\",\"x\":@}", "x", "body"},
     {"{\"order_id\":@}", "order_id", "body"}},
    {"POST /send",
     dec_send,
     "{\"order_id\":\"r1\",\"user_id\":\"u1\"," ITEMS "}",
     "order_id",
     {"{\"order_id\":\"r1\",\"user_id\":\"u1\"," ITEMS ",\"x\":@}", "x", "body"},
     {"{\"order_id\":\"r1\",\"user_id\":@," ITEMS "}", "user_id", "body"}},
    {"POST /configure (fault)",
     dec_fault,
     "{\"delay_ms\":5,\"mode\":\"none\"}",
     "delay_ms",
     {"{\"delay_ms\":5,\"mode\":\"none\",\"x\":@}", "x", "body"},
     {"{\"delay_ms\":5,\"mode\":@}", "mode", "body"}},
    {"POST /configure (stream)",
     dec_stream,
     "{\"throttle_ms\":5,\"paused\":false}",
     "throttle_ms",
     {"{\"throttle_ms\":5,\"paused\":false,\"x\":@}", "x", "body"},
     {"{\"throttle_ms\":@,\"paused\":false}", "throttle_ms", "body"}},
    {"event envelope",
     dec_event,
     "{" ENVELOPE ",\"payload\":{\"user_id\":\"u1\"," ITEMS "}}",
     "schema",
     {"{" ENVELOPE ",\"x\":@,\"payload\":{\"user_id\":\"u1\"," ITEMS "}}", "x", "body"},
     {"{\"schema\":1,\"type\":\"OrderPlaced\",\"event_id\":\"e1\",\"order_id\":@,\"occurred_at\":"
      "\"2026-02-18T12:00:00.000Z\",\"payload\":{\"user_id\":\"u1\"," ITEMS "}}",
      "order_id", "body"}},
    {"event payload",
     dec_event,
     "{" ENVELOPE ",\"payload\":{\"user_id\":\"u1\"," ITEMS "}}",
     "schema",
     {"{" ENVELOPE ",\"payload\":{\"user_id\":\"u1\"," ITEMS ",\"x\":@}}", "payload.x", "payload"},
     {"{" ENVELOPE ",\"payload\":{\"user_id\":\"u1\",\"items\":[{\"sku\":@,\"qty\":1}]}}",
      "payload.items[0].sku", "payload.items[0]"}},
};

#define S(lit) lit, sizeof lit - 1
/* `want`: "OK"; a suffix to the site's field ("" itself, ".a", "[1]"),
 * ending in '*' to match a prefix; "^" for the object around the site. */
struct value_case {
    const char *text;
    size_t len;
    const char *want;
};

static const struct value_case values[] = {
    /* numbers */
    {S("0"), "OK"},
    {S("-0"), "OK"},
    {S("7"), "OK"},
    {S("-12"), "OK"},
    {S("1.5"), "OK"},
    {S("-0.25"), "OK"},
    {S("1e5"), "OK"},
    {S("1E+5"), "OK"},
    {S("2e-5"), "OK"},
    {S("0.0e0"), "OK"},
    {S("123456789012345678901234567890"), "OK"},
    {S("1e400"), "OK"},
    {S("-1e-400"), "OK"},
    {S("01"), ""},
    {S("007"), ""},
    {S("-01"), ""},
    {S("00"), ""},
    {S("1."), ""},
    {S("1.e5"), ""},
    {S(".5"), ""},
    {S("+1"), ""},
    {S("-"), ""},
    {S("1e"), ""},
    {S("1e+"), ""},
    {S("0x10"), "^"},
    {S("1 2"), "^"},
    {S("NaN"), ""},
    {S("Infinity"), ""},
    {S("-Infinity"), ""},
    {S("1234567890123456789012345678901234567890123456789012345678901234"), ""},
    /* literals */
    {S("true"), "OK"},
    {S("false"), "OK"},
    {S("null"), "OK"},
    {S("tru"), ""},
    {S("nul"), ""},
    {S("True"), ""},
    {S("undefined"), ""},
    /* strings: escapes */
    {S("\"\""), "OK"},
    {S("\"plain text\""), "OK"},
    {S("\"\\\"\\\\\\/\""), "OK"},
    {S("\"\\u0041\\u007e\""), "OK"},
    {S("\"\\u00e9\\u00A0\""), "OK"},
    {S("\"\\ud83c\\udf54\""), "OK"},
    {S("\"\\uD83C\\uDF54\""), "OK"},
    {S("\"\\u0000\""), ""},
    {S("\"burger\\u0000caviar\""), ""},
    {S("\"\\u0001\""), ""},
    {S("\"\\u001f\""), ""},
    {S("\"\\u007f\""), ""},
    {S("\"\\u0085\""), ""},
    {S("\"\\u009F\""), ""},
    {S("\"\\n\""), ""},
    {S("\"\\t\""), ""},
    {S("\"\\r\""), ""},
    {S("\"\\b\""), ""},
    {S("\"\\f\""), ""},
    {S("\"\\x41\""), ""},
    {S("\"\\'\""), ""},
    {S("\"\\u12\""), ""},
    {S("\"\\u12g4\""), ""},
    {S("\"\\ud83c\""), ""},
    {S("\"\\ud83cx\""), ""},
    {S("\"\\ud83c\\u0041\""), ""},
    {S("\"\\ud83c\\ud83c\""), ""},
    {S("\"\\udf54\""), ""},
    {S("\"\\udf54\\ud83c\""), ""},
    /* strings: raw bytes */
    {S("\"a\0b\""), ""},
    {S("\"\x01\""), ""},
    {S("\"\x1f\""), ""},
    {S("\"a\nb\""), ""},
    {S("\"a\tb\""), ""},
    {S("\"\x7f\""), ""},
    {S("'single'"), ""},
    /* UTF-8: valid 2-, 3- and 4-byte forms and the edges */
    {S("\"\xc3\xa9\""), "OK"},
    {S("\"\xc2\xa0\""), "OK"},
    {S("\"\xdf\xbf\""), "OK"},
    {S("\"\xe2\x82\xac\""), "OK"},
    {S("\"\xe0\xa0\x80\""), "OK"},
    {S("\"\xed\x9f\xbf\""), "OK"},
    {S("\"\xee\x80\x80\""), "OK"},
    {S("\"\xef\xbf\xbf\""), "OK"},
    {S("\"\xf0\x9f\x8d\x94\""), "OK"},
    {S("\"\xf0\x90\x80\x80\""), "OK"},
    {S("\"\xf4\x8f\xbf\xbf\""), "OK"},
    /* UTF-8: invalid */
    {S("\"\xc2\x80\""), ""},
    {S("\"\xc2\x9f\""), ""},
    {S("\"\xc0\xaf\""), ""},
    {S("\"\xc1\xbf\""), ""},
    {S("\"\xe0\x80\xaf\""), ""},
    {S("\"\xe0\x9f\xbf\""), ""},
    {S("\"\xf0\x80\x80\xaf\""), ""},
    {S("\"\xf0\x8f\xbf\xbf\""), ""},
    {S("\"\xed\xa0\x80\""), ""},
    {S("\"\xed\xbf\xbf\""), ""},
    {S("\"\xed\xa0\xbd\xed\xb8\x80\""), ""},
    {S("\"\xf4\x90\x80\x80\""), ""},
    {S("\"\xf5\x80\x80\x80\""), ""},
    {S("\"\xf8\x88\x80\x80\x80\""), ""},
    {S("\"\xfe\""), ""},
    {S("\"\xff\""), ""},
    {S("\"\x80\""), ""},
    {S("\"\xbf\""), ""},
    {S("\"\xc3\""), ""},
    {S("\"\xc3x\""), ""},
    {S("\"\xe2\x82\""), ""},
    {S("\"\xe2\x82x\""), ""},
    {S("\"\xf0\x9f\x8d\""), ""},
    {S("\"\xf0\x9f\""), ""},
    {S("\xc3\xa9"), ""},
    /* structure */
    {S("[]"), "OK"},
    {S("{}"), "OK"},
    {S(" [ 1 ,\t2 ,\r\n3 ] "), "OK"},
    {S("[1,[2,[3,{\"a\":null}]]]"), "OK"},
    {S("{\"a\":1,\"A\":2}"), "OK"},
    {S("{\"a\":1,\"b\":{\"a\":2}}"), "OK"},
    {S("[{\"a\":1},{\"a\":2}]"), "OK"},
    {S("{\"\xc3\xa9\":1,\"e\":2}"), "OK"},
    {S("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"), "OK"},
    {S("[1,]"), "[1]"},
    {S("[,1]"), "[0]"},
    {S("[1 2]"), ""},
    {S("{\"a\":1,}"), ""},
    {S("{\"a\" 1}"), ""},
    {S("{\"a\":}"), ".a"},
    {S("{a:1}"), ""},
    {S("{\"a\":1,\"a\":2}"), ".a"},
    {S("{\"a\":1,\"b\":2,\"a\":3}"), ".a"},
    {S("{\"a\":1,\"\\u0061\":2}"), ".\\u0061"},
    {S("{\"\xc3\xa9\":1,\"\\u00e9\":2}"), ".\\u00e9"},
    {S("{\"k\":{\"a\":[1,{\"b\":1,\"b\":1}]}}"), ".k.a[1].b"},
    {S("{\"a\\u0000\":1}"), ""},
    {S("{\"a\xff\":1}"), ""},
    {S("[\"ok\",\"\\u0000\"]"), "[1]"},
    {S("/* c */ 1"), ""},
    {S("1 // c"), "^"},
    {S(""), ""},
    {S("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"), "*"},
};

/* Whole bodies, refused at "body" by every entry. */
static const struct value_case bodies[] = {
    {S(""), "body"},           {S("  \n\t "), "body"},      {S("\xef\xbb\xbf{}"), "body"},
    {S("{}x"), "body"},        {S("{}\0"), "body"},         {S("\0{}"), "body"},
    {S("{}{}"), "body"},       {S("{}}"), "body"},          {S("{"), "body"},
    {S("{\"a\":1,}"), "body"}, {S("\"a string\""), "body"}, {S("[{}]"), "body"},
    {S("null"), "body"},
};

static int run_count;

static void expect(const struct entry *e, const char *what, const char *body, size_t len,
                   const char *want)
{
    struct field_error err;
    memset(&err, 0, sizeof err);
    int rc = e->decode(body, len, &err);
    run_count++;
    bool ok;
    size_t wl = strlen(want);
    if (strcmp(want, "OK") == 0)
        ok = rc == 0;
    else if (wl > 0 && want[wl - 1] == '*')
        ok = rc != 0 && strncmp(err.field, want, wl - 1) == 0;
    else
        ok = rc != 0 && strcmp(err.field, want) == 0;
    /* A refusal of the validator says where. */
    if (ok && rc != 0 && strcmp(want, "body") != 0)
        ok = strstr(err.message, " at byte ") != NULL;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s, %s: %.*s -> rc %d field \"%s\" (%s), wanted %s\n", e->name, what,
                (int)len, body, rc, err.field, err.message, want);
}

static char *splice(const char *tmpl, const char *text, size_t len, size_t *out_len)
{
    const char *at = strchr(tmpl, '@');
    size_t head = (size_t)(at - tmpl), tail = strlen(at + 1);
    char *b = malloc(head + len + tail + 1);
    memcpy(b, tmpl, head);
    memcpy(b + head, text, len);
    memcpy(b + head + len, at + 1, tail + 1);
    *out_len = head + len + tail;
    return b;
}

static void run_site(const struct entry *e, const struct site *s, bool real,
                     const struct value_case *c)
{
    /* A valid value in a field the entry reads may still be wrong there. */
    if (real && strcmp(c->want, "OK") == 0)
        return;
    char want[96];
    if (strcmp(c->want, "OK") == 0)
        snprintf(want, sizeof want, "OK");
    else if (strcmp(c->want, "^") == 0)
        snprintf(want, sizeof want, "%s", s->container);
    else
        snprintf(want, sizeof want, "%s%s", s->field, c->want);
    size_t len;
    char *body = splice(s->tmpl, c->text, c->len, &len);
    expect(e, real ? "as a field" : "as an extra member", body, len, want);
    free(body);
}

static void test_every_entry(void)
{
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        const struct entry *e = &entries[i];
        expect(e, "valid", e->valid, strlen(e->valid), "OK");
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
            run_site(e, &e->extra, false, &values[k]);
            run_site(e, &e->real, true, &values[k]);
        }
        for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++)
            expect(e, "whole body", bodies[k].text, bodies[k].len, bodies[k].want);
        /* The valid body with its first key once more at the end. */
        char dup[512];
        size_t n = strlen(e->valid) - 1;
        memcpy(dup, e->valid, n);
        snprintf(dup + n, sizeof dup - n, ",\"%s\":42}", e->first_key);
        expect(e, "duplicate key", dup, strlen(dup), e->first_key);
    }
}

/* The validator alone: depth and member limits, offsets, and a field name cut
 * to fit without splitting a UTF-8 character. */
static void test_limits(void)
{
    struct json_strict_error err;
    char deep[2 * JSON_STRICT_MAX_DEPTH + 4];
    for (int depth = JSON_STRICT_MAX_DEPTH; depth <= JSON_STRICT_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            deep[n++] = '[';
        for (int i = 0; i < depth; i++)
            deep[n++] = ']';
        CHECK((json_strict_check(deep, n, &err) == 0) == (depth <= JSON_STRICT_MAX_DEPTH));
    }
    CHECK(err.offset == JSON_STRICT_MAX_DEPTH);

    char wide[JSON_STRICT_MAX_KEYS * 12 + 16];
    for (int members = JSON_STRICT_MAX_KEYS; members <= JSON_STRICT_MAX_KEYS + 1; members++) {
        size_t n = 0;
        wide[n++] = '{';
        for (int i = 0; i < members; i++)
            n += (size_t)snprintf(wide + n, sizeof wide - n, "%s\"k%d\":0", i ? "," : "", i);
        wide[n++] = '}';
        CHECK((json_strict_check(wide, n, &err) == 0) == (members <= JSON_STRICT_MAX_KEYS));
    }
    CHECK_STR(err.field, "body");

    const char *off = "{\"a\":[1,2,01]}";
    CHECK(json_strict_check(off, strlen(off), &err) != 0);
    CHECK(err.offset == 10);
    CHECK_STR(err.field, "a[2]");
    CHECK_STR(err.message, "number with a leading zero at byte 10");

    /* 46 ASCII bytes then a 2-byte character across the 48-byte field. */
    const char *longkey = "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\":01}";
    CHECK(json_strict_check(longkey, strlen(longkey), &err) != 0);
    CHECK(strlen(err.field) == 46);

    /* A key name with a NUL cannot hide a duplicate: "a\u0000" != "a". */
    const char *nulkey = "{\"a\":1,\"a\\u0000\":2}";
    CHECK(json_strict_check(nulkey, strlen(nulkey), &err) != 0);
    CHECK(strstr(err.message, "NUL") != NULL);
}

/* Integer fields are read on the number's text: a double rounds
 * 3.0000000000000001 to 3 and 99.99999999999999999 to 100. */
#define NOT_WHOLE (-424242LL) /* `value` of a token with a fraction left */
#define TOO_BIG (-424243LL)   /* whole, outside long long */
struct whole_case {
    const char *tok;
    long long value;
};

static const struct whole_case wholes[] = {
    {"0", 0},
    {"-0", 0},
    {"0.0", 0},
    {"0e0", 0},
    {"0E+99999999999", 0},
    {"0.000e-5", 0},
    {"1", 1},
    {"3", 3},
    {"-3", -3},
    {"100", 100},
    {"1e2", 100},
    {"1E2", 100},
    {"1e+2", 100},
    {"100.0", 100},
    {"100.000000000000000000000000", 100},
    {"1.00e2", 100},
    {"10000e-2", 100},
    {"0.1e3", 100},
    {"1000e-1", 100},
    {"99.99999999999999999", NOT_WHOLE},
    {"3.0000000000000001", NOT_WHOLE},
    {"2.9999999999999999", NOT_WHOLE},
    {"1.5", NOT_WHOLE},
    {"0.5", NOT_WHOLE},
    {"-0.5", NOT_WHOLE},
    {"1e-1", NOT_WHOLE},
    {"100e-3", NOT_WHOLE},
    {"1001e-1", NOT_WHOLE},
    {"1e-99999999999999", NOT_WHOLE},
    {"0.00000000000000000000000000001", NOT_WHOLE},
    {"100.00000000000000000000000001", NOT_WHOLE},
    {"9223372036854775807", 9223372036854775807LL},
    {"-9223372036854775807", -9223372036854775807LL},
    {"9223372036854775808", TOO_BIG},
    {"-9223372036854775809", TOO_BIG},
    {"18446744073709551615", TOO_BIG},
    {"18446744073709551616", TOO_BIG},
    {"1e19", TOO_BIG},
    {"1e18", 1000000000000000000LL},
    {"9.223372036854775807e18", 9223372036854775807LL},
    {"1e999999999999999999", TOO_BIG},
    {"1e400", TOO_BIG},
    {"12345678901234567890123456789", TOO_BIG},
    {"9007199254740993", 9007199254740993LL}, /* 2^53 + 1: a double has no such value */
};

static void test_whole_numbers(void)
{
    for (size_t i = 0; i < sizeof wholes / sizeof wholes[0]; i++) {
        const struct whole_case *c = &wholes[i];
        struct json_strict_error err;
        CHECK(json_strict_check(c->tok, strlen(c->tok), &err) == 0);
        long long v = 12345;
        int rc = json_number_whole(c->tok, strlen(c->tok), &v);
        int want = c->value == NOT_WHOLE ? -1 : c->value == TOO_BIG ? -2 : 0;
        bool ok = rc == want && (want != 0 || v == c->value);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  %s -> rc %d value %lld, wanted rc %d value %lld\n", c->tok, rc, v,
                    want, c->value);
    }
    long long min = 0;
    CHECK(json_number_whole("-9223372036854775808", 20, &min) == 0 && min == LLONG_MIN);
}

/* Every integer field of every entry point, with every token above: accepted
 * exactly when the token's value is whole and within the field's range. */
struct int_site {
    const char *name;
    decode_fn decode;
    const char *tmpl, *field;
    long long min, max;
};

static const struct int_site int_sites[] = {
    {"POST /order qty", dec_order,
     "{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":@}]}", "items[0].qty", 1, 100},
    {"POST /reserve qty", dec_reserve,
     "{\"order_id\":\"r1\",\"items\":[{\"sku\":\"fries\",\"qty\":1},{\"sku\":\"burger\",\"qty\":@}]"
     "}",
     "items[1].qty", 1, 100},
    {"POST /send qty", dec_send,
     "{\"order_id\":\"r1\",\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":@}]}",
     "items[0].qty", 1, 100},
    {"POST /configure delay_ms", dec_fault, "{\"delay_ms\":@,\"mode\":\"none\"}", "delay_ms", 0,
     600000},
    {"POST /configure throttle_ms", dec_stream, "{\"throttle_ms\":@}", "throttle_ms", 0, 60000},
    {"event schema", dec_event,
     "{\"schema\":@,\"type\":\"OrderPlaced\",\"event_id\":\"e1\",\"order_id\":\"o1\","
     "\"occurred_at\":\"2026-02-18T12:00:00.000Z\",\"payload\":{\"user_id\":\"u1\"," ITEMS "}}",
     "schema", 1, 1},
    {"event qty", dec_event,
     "{" ENVELOPE ",\"payload\":{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":@}]}}",
     "payload.items[0].qty", 1, 100},
};

static void test_integer_fields(void)
{
    static const char *const extra[] = {"1",         "2",     "99",    "101",    "-1",     "1.0",
                                        "2e0",       "60000", "60001", "600000", "600001", "6e5",
                                        "6.00001e5", "\"1\"", "true",  "null",   "[1]",    "{}"};
    for (size_t s = 0; s < sizeof int_sites / sizeof int_sites[0]; s++) {
        const struct int_site *site = &int_sites[s];
        size_t n_tok = sizeof wholes / sizeof wholes[0] + sizeof extra / sizeof extra[0];
        for (size_t k = 0; k < n_tok; k++) {
            const char *tok = k < sizeof wholes / sizeof wholes[0]
                                  ? wholes[k].tok
                                  : extra[k - sizeof wholes / sizeof wholes[0]];
            long long v;
            bool valid = tok[0] != '"' && tok[0] != 't' && tok[0] != 'n' && tok[0] != '[' &&
                         tok[0] != '{' && json_number_whole(tok, strlen(tok), &v) == 0 &&
                         v >= site->min && v <= site->max;
            size_t len;
            char *body = splice(site->tmpl, tok, strlen(tok), &len);
            struct field_error err;
            memset(&err, 0, sizeof err);
            int rc = site->decode(body, len, &err);
            run_count++;
            bool ok = valid ? rc == 0 : rc != 0 && strcmp(err.field, site->field) == 0;
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "  %s: %s -> rc %d field \"%s\" (%s), wanted %s\n", site->name, tok,
                        rc, err.field, err.message, valid ? "OK" : site->field);
            free(body);
        }
    }
}

int main(void)
{
    test_every_entry();
    test_limits();
    test_whole_numbers();
    test_integer_fields();
    printf("test_json_strict: %zu value cases, %zu whole bodies, %zu entry points, %d decodes\n",
           sizeof values / sizeof values[0], sizeof bodies / sizeof bodies[0],
           sizeof entries / sizeof entries[0], run_count);
    return check_summary("test_json_strict");
}
