#include "event_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_writer.h"
#include "json_common.h"

char *event_encode(const struct event *ev)
{
    struct event_writer w;
    if (event_writer_init(&w) != 0)
        return NULL;
    char text[EVENT_TEXT_MAX];
    int n = event_writer_encode(&w, ev, text, sizeof text);
    event_writer_free(&w);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s)
        memcpy(s, text, (size_t)n + 1);
    return s;
}

static int decode_root(const cJSON *root, struct event *ev, struct field_error *err)
{
    if (!cJSON_IsObject(root)) {
        field_error_set(err, "body", "must be a JSON object");
        return -1;
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    long long version;
    if (!json_whole_in(schema, EVENT_SCHEMA_VERSION, EVENT_SCHEMA_VERSION, &version)) {
        field_error_set(err, "schema", "must be 1 (unknown schema version)");
        return -1;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(type) || event_type_parse(type->valuestring, &ev->type) != 0) {
        field_error_set(err, "type", "must be OrderPlaced, InventoryReserved or InventoryFailed");
        return -1;
    }
    if (json_read_id(root, "event_id", true, ev->event_id, err) != 0 ||
        json_read_id(root, "order_id", true, ev->order.order_id, err) != 0 ||
        json_read_time(root, "occurred_at", true, &ev->order.occurred_at, err) != 0)
        return -1;
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
    if (!cJSON_IsObject(payload)) {
        field_error_set(err, "payload", "must be an object");
        return -1;
    }
    if (json_read_id(payload, "user_id", true, ev->order.user_id, err) != 0 ||
        json_read_items(payload, true, &ev->order, err) != 0) {
        /* Field names are short; an over-long one is cut, never overrun. */
        size_t n = strnlen(err->field, sizeof err->field - 9);
        memmove(err->field + 8, err->field, n);
        memcpy(err->field, "payload.", 8);
        err->field[n + 8] = '\0';
        return -1;
    }
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(payload, "reason");
    if (reason) {
        if (!cJSON_IsString(reason) || strlen(reason->valuestring) >= EVENT_REASON_MAX) {
            field_error_set(err, "payload.reason", "must be a string under 64 bytes");
            return -1;
        }
        memcpy(ev->reason, reason->valuestring, strlen(reason->valuestring) + 1);
    }
    return 0;
}

bool event_accept(const char *body, size_t len, unsigned expected, struct event *ev, char *reason,
                  size_t reason_len)
{
    struct field_error fe;
    if (len > EVENT_MAX_BYTES) {
        snprintf(reason, reason_len, "body: larger than %d bytes", EVENT_MAX_BYTES);
        return false;
    }
    if (event_decode(body, len, ev, &fe) != 0) {
        snprintf(reason, reason_len, "%s: %s", fe.field[0] ? fe.field : "body", fe.message);
        return false;
    }
    if (expected & (1u << ev->type))
        return true;
    size_t n = (size_t)snprintf(reason, reason_len, "type: expected");
    const char *sep = " ";
    for (int t = EVENT_ORDER_PLACED; t <= EVENT_INVENTORY_FAILED && n < reason_len; t++) {
        if (expected & (1u << t)) {
            n += (size_t)snprintf(reason + n, reason_len - n, "%s%s", sep,
                                  event_type_name((enum event_type)t));
            sep = " or ";
        }
    }
    if (n < reason_len)
        snprintf(reason + n, reason_len - n, ", got %s", event_type_name(ev->type));
    return false;
}

int event_decode(const char *body, size_t len, struct event *ev, struct field_error *err)
{
    memset(ev, 0, sizeof *ev);
    if (len > EVENT_MAX_BYTES) {
        field_error_set(err, "body", "larger than 65536 bytes");
        return -1;
    }
    cJSON *root = json_parse_exact(body, len, err);
    if (!root)
        return -1;
    int rc = decode_root(root, ev, err);
    cJSON_Delete(root);
    return rc;
}
