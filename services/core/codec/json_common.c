#include "json_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "json_strict.h"

/* The next number token at or after p, skipping strings (keys included):
 * the text passed the strict check, so a digit or '-' outside a string
 * starts a number. */
static const char *next_number(const char *p, const char *end)
{
    while (p < end) {
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++)
                p += *p == '\\';
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            return p;
        }
        p++;
    }
    return end;
}

/* cJSON keeps a number only as a double, which rounds 3.0000000000000001 to
 * 3: each number node gets its source text as valuestring (cJSON_Delete
 * frees it), so that integer fields are read on the text. cJSON keeps
 * members in document order, so a walk of the tree meets the numbers in the
 * order the text has them. */
static int attach_number_text(cJSON *node, const char **cur, const char *end)
{
    for (; node; node = node->next) {
        if (cJSON_IsNumber(node)) {
            const char *p = next_number(*cur, end);
            size_t n = 0;
            while (p + n < end && strchr("0123456789+-.eE", p[n]))
                n++;
            node->valuestring = strndup(p, n);
            if (!node->valuestring)
                return -1;
            *cur = p + n;
        } else if (node->child && attach_number_text(node->child, cur, end) != 0) {
            return -1;
        }
    }
    return 0;
}

cJSON *json_parse_exact(const char *body, size_t len, struct field_error *err)
{
    struct json_strict_error se;
    if (json_strict_check(body, len, &se) != 0) {
        field_error_set(err, se.field, se.message);
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(body, len);
    const char *cur = body;
    if (root && attach_number_text(root, &cur, body + len) != 0) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (!root)
        field_error_set(err, "body", "cannot be parsed (out of memory); try again");
    return root;
}

bool json_whole_in(const cJSON *v, long long min, long long max, long long *out)
{
    long long x;
    if (!cJSON_IsNumber(v) || !v->valuestring ||
        json_number_whole(v->valuestring, strlen(v->valuestring), &x) != 0 || x < min || x > max)
        return false;
    *out = x;
    return true;
}

void field_error_set(struct field_error *err, const char *field, const char *message)
{
    snprintf(err->field, sizeof err->field, "%s", field);
    snprintf(err->message, sizeof err->message, "%s", message);
}

int json_read_id(const cJSON *obj, const char *name, bool required, char out[ID_MAX_LEN + 1],
                 struct field_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    out[0] = '\0';
    if (!v) {
        if (required)
            field_error_set(err, name, "is required");
        return required ? -1 : 0;
    }
    if (!cJSON_IsString(v) || !id_valid(v->valuestring)) {
        field_error_set(err, name,
                        "must be a string of 1-64 characters from A-Z a-z 0-9 _ - . @ :");
        return -1;
    }
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

int json_read_time(const cJSON *obj, const char *name, bool required, int64_t *out,
                   struct field_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = -1;
    if (!v) {
        if (required)
            field_error_set(err, name, "is required");
        return required ? -1 : 0;
    }
    const char *why = cJSON_IsString(v) ? time_parse_ms(v->valuestring, out) : "not a string";
    if (why) {
        char message[sizeof err->message];
        snprintf(message, sizeof message, "must be an RFC 3339 date-time: %s", why);
        field_error_set(err, name, message);
        *out = -1;
        return -1;
    }
    return 0;
}

static int read_item(const cJSON *item, int i, struct order *o, struct field_error *err)
{
    char field[48];
    if (!cJSON_IsObject(item)) {
        snprintf(field, sizeof field, "items[%d]", i);
        field_error_set(err, field, "must be an object with sku and qty");
        return -1;
    }
    const cJSON *sku = cJSON_GetObjectItemCaseSensitive(item, "sku");
    const cJSON *qty = cJSON_GetObjectItemCaseSensitive(item, "qty");
    snprintf(field, sizeof field, "items[%d].sku", i);
    if (!sku) {
        field_error_set(err, field, "is required");
        return -1;
    }
    if (!cJSON_IsString(sku)) {
        field_error_set(err, field, "must be a string");
        return -1;
    }
    int idx = strlen(sku->valuestring) <= SKU_MAX_LEN ? catalog_index(sku->valuestring) : -1;
    if (idx < 0) {
        field_error_set(err, field, "is not on the menu (GET /stock on inventory lists it)");
        return -1;
    }
    snprintf(field, sizeof field, "items[%d].qty", i);
    if (!qty) {
        field_error_set(err, field, "is required");
        return -1;
    }
    long long q;
    if (!json_whole_in(qty, 1, ITEM_MAX_QTY, &q)) {
        field_error_set(err, field, "must be a whole number from 1 to 100");
        return -1;
    }
    if (order_add_item(o, idx, (int)q) != 0) {
        snprintf(field, sizeof field, "items[%d].sku", i);
        field_error_set(err, field, "appears twice in the order");
        return -1;
    }
    return 0;
}

int json_read_items(const cJSON *obj, bool required, struct order *o, struct field_error *err)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(obj, "items");
    o->n_items = 0;
    if (!items) {
        if (required)
            field_error_set(err, "items", "is required");
        return required ? -1 : 0;
    }
    if (!cJSON_IsArray(items)) {
        field_error_set(err, "items", "must be an array");
        return -1;
    }
    int n = cJSON_GetArraySize(items);
    if (n < 1 || n > ORDER_MAX_ITEMS) {
        field_error_set(err, "items", "must hold 1 to 16 items");
        return -1;
    }
    int i = 0;
    for (const cJSON *item = items->child; item; item = item->next, i++)
        if (read_item(item, i, o, err) != 0)
            return -1;
    return 0;
}

cJSON *json_add_items(cJSON *obj, const struct order *o)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "items");
    if (!arr)
        return NULL;
    for (int i = 0; i < o->n_items; i++) {
        cJSON *it = cJSON_CreateObject();
        if (!it || !cJSON_AddItemToArray(arr, it) ||
            !cJSON_AddStringToObject(it, "sku", catalog_sku((size_t)o->items[i].sku)) ||
            !json_add_int(it, "qty", o->items[i].qty))
            return NULL;
    }
    return arr;
}

void json_int_text(long long v, char out[JSON_INT_TEXT])
{
    char rev[JSON_INT_TEXT];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        rev[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    size_t k = 0;
    if (v < 0)
        out[k++] = '-';
    while (n > 0)
        out[k++] = rev[--n];
    out[k] = '\0';
}

cJSON *json_add_int(cJSON *obj, const char *name, long long v)
{
    char text[JSON_INT_TEXT];
    json_int_text(v, text);
    return cJSON_AddRawToObject(obj, name, text);
}

char *json_finish(cJSON *root)
{
    if (!root)
        return NULL;
    /* Most documents fit here: one copy out instead of cJSON's growing
     * buffer and its final shrinking reallocation. */
    char text[1024];
    char *s = NULL;
    if (cJSON_PrintPreallocated(root, text, (int)sizeof text, 0)) {
        size_t n = strlen(text) + 1;
        s = malloc(n);
        if (s)
            memcpy(s, text, n);
    } else {
        s = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(root);
    return s;
}
