#include "order_json.h"

#include <string.h>

#include "util/clock.h"
#include "json_common.h"

int order_decode(const char *body, size_t len, unsigned need, struct order *o,
                 struct field_error *err)
{
    memset(o, 0, sizeof *o);
    cJSON *root = json_parse_exact(body, len, err);
    if (!root)
        return -1;
    int rc = -1;
    if (!cJSON_IsObject(root))
        field_error_set(err, "body", "must be a JSON object");
    else if (json_read_id(root, "order_id", need & NEED_ORDER_ID, o->order_id, err) == 0 &&
             json_read_id(root, "user_id", need & NEED_USER_ID, o->user_id, err) == 0 &&
             json_read_time(root, "occurred_at", false, &o->occurred_at, err) == 0 &&
             json_read_items(root, need & NEED_ITEMS, o, err) == 0)
        rc = 0;
    cJSON_Delete(root);
    return rc;
}

static int add_order_fields(cJSON *root, const struct order *o)
{
    if (o->order_id[0] && !cJSON_AddStringToObject(root, "order_id", o->order_id))
        return -1;
    if (o->user_id[0] && !cJSON_AddStringToObject(root, "user_id", o->user_id))
        return -1;
    if (o->occurred_at >= 0) {
        char t[TIME_TEXT_LEN + 1];
        time_format_ms(o->occurred_at, t);
        if (!cJSON_AddStringToObject(root, "occurred_at", t))
            return -1;
    }
    if (o->n_items > 0 && !json_add_items(root, o))
        return -1;
    return 0;
}

char *order_encode(const struct order *o)
{
    cJSON *root = cJSON_CreateObject();
    if (root && add_order_fields(root, o) != 0) {
        cJSON_Delete(root);
        return NULL;
    }
    return json_finish(root);
}

char *order_view_encode(const struct order *o, const char *status, const char *detail,
                        const char *const *extra)
{
    cJSON *root = cJSON_CreateObject();
    bool ok = root && add_order_fields(root, o) == 0 &&
              cJSON_AddStringToObject(root, "status", status) &&
              (!detail || !*detail || cJSON_AddStringToObject(root, "detail", detail));
    for (size_t i = 0; ok && extra && extra[i]; i += 2)
        ok = cJSON_AddStringToObject(root, extra[i], extra[i + 1]) != NULL;
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return json_finish(root);
}

char *error_encode(const char *code, const char *field, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!cJSON_AddStringToObject(root, "error", code) ||
                 (field && !cJSON_AddStringToObject(root, "field", field)) ||
                 (message && !cJSON_AddStringToObject(root, "message", message)))) {
        cJSON_Delete(root);
        return NULL;
    }
    return json_finish(root);
}
