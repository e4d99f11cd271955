/* The AMQP property contract, every header kind: each at the top of the
 * header table, inside a nested table and inside an array; the kinds the
 * contract lists (docs/contracts.md) are accepted, every other is refused naming its kind. */
#include <stdio.h>
#include <string.h>

#include "transport/amqp_props.h"
#include "check.h"

struct kind_case {
    amqp_field_value_t value;
    bool allowed;
};

static struct kind_case kind_cases[] = {
    {{.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1}, true},
    {{.kind = AMQP_FIELD_KIND_I8, .value.i8 = -8}, true},
    {{.kind = AMQP_FIELD_KIND_U8, .value.u8 = 8}, true},
    {{.kind = AMQP_FIELD_KIND_I16, .value.i16 = -16}, true},
    {{.kind = AMQP_FIELD_KIND_U16, .value.u16 = 16}, true},
    {{.kind = AMQP_FIELD_KIND_I32, .value.i32 = -32}, true},
    {{.kind = AMQP_FIELD_KIND_U32, .value.u32 = 32}, true},
    {{.kind = AMQP_FIELD_KIND_I64, .value.i64 = -64}, true},
    {{.kind = AMQP_FIELD_KIND_U64, .value.u64 = 64}, true},
    {{.kind = AMQP_FIELD_KIND_TIMESTAMP, .value.u64 = 1771415400}, true},
    {{.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = {2, "ok"}}, true},
    {{.kind = AMQP_FIELD_KIND_TABLE, .value.table = {0, NULL}}, true},
    {{.kind = AMQP_FIELD_KIND_ARRAY, .value.array = {0, NULL}}, true},
    {{.kind = AMQP_FIELD_KIND_BYTES, .value.bytes = {3, "\0\1\2"}}, false},
    {{.kind = AMQP_FIELD_KIND_F32, .value.f32 = 1.5f}, false},
    {{.kind = AMQP_FIELD_KIND_F64, .value.f64 = -0.0}, false},
    {{.kind = AMQP_FIELD_KIND_DECIMAL, .value.decimal = {2, 100}}, false},
    {{.kind = AMQP_FIELD_KIND_VOID}, false},
};

static amqp_basic_properties_t json_props(amqp_table_t headers)
{
    amqp_basic_properties_t p = {0};
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.headers = headers;
    return p;
}

static void expect_kind(const struct kind_case *c, amqp_table_t headers, const char *where)
{
    amqp_basic_properties_t p = json_props(headers);
    char why[AMQP_REASON_MAX] = "";
    bool ok = amqp_properties_ok(&p, why);
    char want[64];
    snprintf(want, sizeof want, "a field of kind '%c'", (char)c->value.kind);
    bool right = c->allowed ? ok : !ok && strstr(why, want) != NULL;
    CHECK(right);
    if (!right)
        fprintf(stderr, "  kind '%c' %s: %s (%s)\n", (char)c->value.kind, where,
                ok ? "accepted" : "refused", why);
}

static void test_every_kind(void)
{
    for (size_t i = 0; i < sizeof kind_cases / sizeof kind_cases[0]; i++) {
        const struct kind_case *c = &kind_cases[i];
        amqp_table_entry_t top = {amqp_cstring_bytes("h"), c->value};
        expect_kind(c, (amqp_table_t){1, &top}, "at the top");
        amqp_table_entry_t outer = {.key = amqp_cstring_bytes("t")};
        outer.value.kind = AMQP_FIELD_KIND_TABLE;
        outer.value.value.table = (amqp_table_t){1, &top};
        expect_kind(c, (amqp_table_t){1, &outer}, "in a table");
        amqp_field_value_t elems[2] = {{.kind = AMQP_FIELD_KIND_I32, .value.i32 = 1}, c->value};
        amqp_table_entry_t arr = {.key = amqp_cstring_bytes("a")};
        arr.value.kind = AMQP_FIELD_KIND_ARRAY;
        arr.value.value.array = (amqp_array_t){2, elems};
        expect_kind(c, (amqp_table_t){1, &arr}, "in an array");
    }
}

/* The other properties of the contract: the content type and encoding. */
static void test_content(void)
{
    static const struct {
        const char *type, *encoding;
        bool ok;
    } cases[] = {
        {"application/json", NULL, true},
        {"APPLICATION/JSON", NULL, true},
        {"application/json; charset=utf-8", NULL, true},
        {"application/json;charset=UTF-8", NULL, true},
        {"application/json", "", true},
        {"application/json", "identity", true},
        {"application/json; charset=\"utf-8\"", NULL, true},
        {"application/json ; charset=utf-8 ", NULL, true},
        {"application/json;\tcharset=\"UTF-8\"", NULL, true},
        {"application/json; charset=latin1", NULL, false},
        {"application/json; charset=\"latin1\"", NULL, false},
        {"application/json; charset", NULL, false},
        {"application/jsonx", NULL, false},
        {"text/plain", NULL, false},
        {"", NULL, false},
        {"application/json", "gzip", false},
        {"application/json", "deflate", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        amqp_basic_properties_t p = {0};
        p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG;
        p.content_type = amqp_cstring_bytes(cases[i].type);
        if (cases[i].encoding) {
            p._flags |= AMQP_BASIC_CONTENT_ENCODING_FLAG;
            p.content_encoding = amqp_cstring_bytes(cases[i].encoding);
        }
        char why[AMQP_REASON_MAX] = "";
        bool ok = amqp_properties_ok(&p, why);
        CHECK(ok == cases[i].ok);
        if (ok != cases[i].ok)
            fprintf(stderr, "  content_type '%s' encoding '%s': %s\n", cases[i].type,
                    cases[i].encoding ? cases[i].encoding : "(none)", why);
    }
}

/* A refused content type or encoding is quoted in the reason, which goes into
 * the dead letter's header and the log: its control and non-ASCII bytes as
 * \xHH, so a client cannot start a log line of its own or hide bytes. */
static void test_reason_printable(void)
{
    static const char *const shown[] = {
        "text/plain\nX-Forged: line",
        "application/json\r\n04:00:00.000 order info: forged",
        "application/json\x01",
        "application/json\x7f",
        "text/\xc3\xa9",
        "text/plain\t",
    };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        for (int enc = 0; enc < 2; enc++) {
            amqp_basic_properties_t p = {0};
            p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG;
            p.content_type = amqp_cstring_bytes(enc ? "application/json" : shown[i]);
            if (enc) {
                p._flags |= AMQP_BASIC_CONTENT_ENCODING_FLAG;
                p.content_encoding = amqp_cstring_bytes(shown[i]);
            }
            char why[AMQP_REASON_MAX] = "";
            bool ok = amqp_properties_ok(&p, why);
            bool printable = why[0] != '\0';
            for (const unsigned char *c = (const unsigned char *)why; *c; c++)
                printable = printable && *c >= 0x20 && *c < 0x7f;
            CHECK(!ok && printable && strstr(why, "\\x") != NULL);
            if (ok || !printable || !strstr(why, "\\x"))
                fprintf(stderr, "  %s %zu: %s\n", enc ? "encoding" : "type", i, why);
        }
}

int main(void)
{
    test_every_kind();
    test_content();
    test_reason_printable();
    return check_summary("test_amqp_props");
}
