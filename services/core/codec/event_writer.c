#include "event_writer.h"

#include <string.h>

#include "domain/catalog.h"
#include "json_common.h"

/* A string node that prints `text` without owning it. */
static cJSON *ref(const char *text)
{
    return cJSON_CreateStringReference(text);
}

/* The same for raw JSON text (a number written by json_int_text). cJSON has
 * no constructor for it; a raw node is a string node printed unquoted. */
static cJSON *raw_ref(const char *text)
{
    cJSON *n = cJSON_CreateStringReference(text);
    if (n)
        n->type = cJSON_Raw | cJSON_IsReference;
    return n;
}

/* Adds `child` under a constant key; frees it if that fails. */
static bool put(cJSON *obj, const char *key, cJSON *child)
{
    if (child && cJSON_AddItemToObjectCS(obj, key, child))
        return true;
    cJSON_Delete(child);
    return false;
}

int event_writer_init(struct event_writer *w)
{
    memset(w, 0, sizeof *w);
    json_int_text(EVENT_SCHEMA_VERSION, w->schema_text);
    w->root = cJSON_CreateObject();
    w->reason = ref("");
    /* Containers join the tree before their members, so a failure at any
     * step leaves everything made so far owned by root. */
    if (w->root && w->reason && put(w->root, "schema", raw_ref(w->schema_text)) &&
        put(w->root, "type", w->type = ref("")) &&
        put(w->root, "event_id", w->event_id = ref("")) &&
        put(w->root, "order_id", w->order_id = ref("")) &&
        put(w->root, "occurred_at", w->occurred_at = ref(w->time)) &&
        put(w->root, "payload", w->payload = cJSON_CreateObject()) &&
        put(w->payload, "user_id", w->user_id = ref("")) &&
        put(w->payload, "items", w->items = cJSON_CreateArray()))
        return 0;
    cJSON_Delete(w->reason);
    cJSON_Delete(w->root);
    memset(w, 0, sizeof *w);
    return -1;
}

void event_writer_free(struct event_writer *w)
{
    /* Nodes not linked into the tree at the moment are freed on their own. */
    for (int i = w->linked; i < w->made; i++)
        cJSON_Delete(w->item[i]);
    if (!w->reason_linked)
        cJSON_Delete(w->reason);
    cJSON_Delete(w->root);
    memset(w, 0, sizeof *w);
}

static int make_item(struct event_writer *w)
{
    int i = w->made;
    cJSON *it = cJSON_CreateObject();
    if (!it || !put(it, "sku", w->sku[i] = ref("")) ||
        !put(it, "qty", w->qty[i] = raw_ref(w->qty_text[i]))) {
        cJSON_Delete(it);
        return -1;
    }
    w->item[i] = it;
    w->made++;
    return 0;
}

/* Links exactly n item nodes into "items", in order. */
static int link_items(struct event_writer *w, int n)
{
    while (w->linked > n)
        cJSON_DetachItemViaPointer(w->items, w->item[--w->linked]);
    while (w->linked < n) {
        if (w->linked == w->made && make_item(w) != 0)
            return -1;
        cJSON_AddItemToArray(w->items, w->item[w->linked++]);
    }
    return 0;
}

int event_writer_encode(struct event_writer *w, const struct event *ev, char *out, size_t cap)
{
    const struct order *o = &ev->order;
    if (o->n_items < 0 || o->n_items > ORDER_MAX_ITEMS || link_items(w, o->n_items) != 0)
        return -1;
    /* The nodes are references: they only borrow these strings until the
     * print below. */
    w->type->valuestring = (char *)event_type_name(ev->type);
    w->event_id->valuestring = (char *)ev->event_id;
    w->order_id->valuestring = (char *)o->order_id;
    w->user_id->valuestring = (char *)o->user_id;
    time_format_ms(o->occurred_at, w->time);
    for (int i = 0; i < o->n_items; i++) {
        w->sku[i]->valuestring = (char *)catalog_sku((size_t)o->items[i].sku);
        json_int_text(o->items[i].qty, w->qty_text[i]);
    }
    if (ev->reason[0] && !w->reason_linked) {
        if (!cJSON_AddItemToObjectCS(w->payload, "reason", w->reason))
            return -1;
        w->reason_linked = true;
    } else if (!ev->reason[0] && w->reason_linked) {
        cJSON_DetachItemViaPointer(w->payload, w->reason);
        w->reason_linked = false;
    }
    w->reason->valuestring = (char *)ev->reason;
    if (cap > 0x7fffffff || !cJSON_PrintPreallocated(w->root, out, (int)cap, 0))
        return -1;
    return (int)strlen(out);
}
