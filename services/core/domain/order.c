#include "order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/clock.h"
#include "util/rng.h"

bool id_valid(const char *id)
{
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.' || c == '@' || c == ':';
        if (!ok || n >= ID_MAX_LEN)
            return false;
    }
    return n > 0;
}

int order_add_item(struct order *o, int sku, int qty)
{
    if (o->n_items >= ORDER_MAX_ITEMS)
        return -1;
    int at = o->n_items;
    for (int i = 0; i < o->n_items; i++) {
        if (o->items[i].sku == sku)
            return -1;
        if (o->items[i].sku > sku && at == o->n_items)
            at = i;
    }
    memmove(&o->items[at + 1], &o->items[at], (size_t)(o->n_items - at) * sizeof o->items[0]);
    o->items[at] = (struct order_item){.sku = sku, .qty = qty};
    o->n_items++;
    return 0;
}

void order_items_text(const struct order *o, char out[ITEMS_TEXT_MAX])
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < o->n_items; i++)
        n += (size_t)snprintf(out + n, ITEMS_TEXT_MAX - n, "%s%s:%d", i ? "," : "",
                              catalog_sku((size_t)o->items[i].sku), o->items[i].qty);
}

int order_items_parse(struct order *o, const char *text)
{
    o->n_items = 0;
    const char *p = text;
    while (*p) {
        const char *colon = strchr(p, ':');
        if (!colon || colon == p || colon - p > SKU_MAX_LEN)
            return -1;
        char sku[SKU_MAX_LEN + 1];
        memcpy(sku, p, (size_t)(colon - p));
        sku[colon - p] = '\0';
        char *end;
        long qty = strtol(colon + 1, &end, 10);
        int idx = catalog_index(sku);
        if (idx < 0 || end == colon + 1 || qty < 1 || qty > ITEM_MAX_QTY ||
            (*end != ',' && *end != '\0') || order_add_item(o, idx, (int)qty) != 0)
            return -1;
        p = *end ? end + 1 : end;
    }
    return o->n_items > 0 ? 0 : -1;
}

void order_id_random(char out[ID_MAX_LEN + 1])
{
    uint64_t r[2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* Entropy is only for uniqueness here, so time and address do. */
        r[0] = mix64(clock_mono_us());
        r[1] = mix64((uint64_t)(uintptr_t)out ^ (uint64_t)clock_wall_ms());
    }
    char a[17], b[17];
    hex64(r[0], a);
    hex64(r[1], b);
    snprintf(out, ID_MAX_LEN + 1, "r%s%s", a, b);
}

const char *order_differs(const struct order *a, const struct order *b)
{
    if (strcmp(a->user_id, b->user_id) != 0)
        return "user_id";
    if (a->n_items != b->n_items)
        return "items";
    for (int i = 0; i < a->n_items; i++)
        if (a->items[i].sku != b->items[i].sku || a->items[i].qty != b->items[i].qty)
            return "items";
    if (a->occurred_at != b->occurred_at)
        return "occurred_at";
    return NULL;
}
