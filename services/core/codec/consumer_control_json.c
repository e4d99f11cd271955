#include "consumer_control_json.h"

#include "json_common.h"

int stream_control_decode(const char *body, size_t len, long *throttle_ms, bool *paused,
                          struct field_error *err)
{
    cJSON *root = json_parse_exact(body, len, err);
    if (!root)
        return -1;
    int rc = -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "throttle_ms");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "paused");
    long long throttle = 0;
    if (!cJSON_IsObject(root)) {
        field_error_set(err, "body", "must be a JSON object");
    } else if (t && !json_whole_in(t, 0, STREAM_MAX_THROTTLE_MS, &throttle)) {
        field_error_set(err, "throttle_ms", "must be a whole number of ms from 0 to 60000");
    } else if (p && !cJSON_IsBool(p)) {
        field_error_set(err, "paused", "must be true or false");
    } else {
        if (t)
            *throttle_ms = (long)throttle;
        if (p)
            *paused = cJSON_IsTrue(p);
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

char *stream_control_encode(long throttle_ms, bool paused)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!json_add_int(root, "throttle_ms", throttle_ms) ||
                 !cJSON_AddBoolToObject(root, "paused", paused))) {
        cJSON_Delete(root);
        return NULL;
    }
    return json_finish(root);
}
