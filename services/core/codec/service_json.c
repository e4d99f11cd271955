#include "service_json.h"

#include <stdio.h>
#include <string.h>

#include "json_common.h"

char *reserve_answer_encode(const char *order_id, const struct reserve_result *r)
{
    const char *pairs[] = {"order_id",
                           order_id,
                           "status",
                           r->reserved ? "reserved" : "refused",
                           r->reserved ? NULL : "reason",
                           r->reason,
                           NULL};
    return json_object_of(pairs);
}

void reserve_answer_reason(const char *body, size_t len, char *reason, size_t reason_len)
{
    reason[0] = '\0';
    struct field_error err;
    cJSON *root = json_parse_exact(body, len, &err);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "reason");
    if (cJSON_IsString(r))
        snprintf(reason, reason_len, "%s", r->valuestring);
    cJSON_Delete(root);
}

int fault_decode(const char *body, size_t len, long *delay_ms, enum fault_mode *mode,
                 struct field_error *err)
{
    cJSON *root = json_parse_exact(body, len, err);
    if (!root)
        return -1;
    int rc = -1;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "delay_ms");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "mode");
    enum fault_mode parsed = FAULT_NONE;
    long long delay = 0;
    if (!cJSON_IsObject(root)) {
        field_error_set(err, "body", "must be a JSON object");
    } else if (d && !json_whole_in(d, 0, FAULT_MAX_DELAY_MS, &delay)) {
        field_error_set(err, "delay_ms", "must be a whole number of ms from 0 to 600000");
    } else if (m && (!cJSON_IsString(m) || fault_mode_parse(m->valuestring, &parsed) != 0)) {
        field_error_set(err, "mode", "must be \"none\", \"error\" or \"hang\"");
    } else {
        if (d)
            *delay_ms = (long)delay;
        if (m)
            *mode = parsed;
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

char *fault_encode(long delay_ms, enum fault_mode mode)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!json_add_int(root, "delay_ms", delay_ms) ||
                 !cJSON_AddStringToObject(root, "mode", fault_mode_name(mode)))) {
        cJSON_Delete(root);
        return NULL;
    }
    return json_finish(root);
}

char *stock_encode(const long *levels)
{
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < catalog_count(); i++) {
        if (!json_add_int(root, catalog_sku(i), levels[i])) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return json_finish(root);
}

char *stock_item_encode(const char *sku, long qty)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!cJSON_AddStringToObject(root, "sku", sku) || !json_add_int(root, "qty", qty))) {
        cJSON_Delete(root);
        return NULL;
    }
    return json_finish(root);
}

char *json_object_of(const char *const *pairs)
{
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && pairs[i]; i += 2) {
        if (!cJSON_AddStringToObject(root, pairs[i], pairs[i + 1])) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return json_finish(root);
}
