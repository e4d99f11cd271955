/* An order as every model carries it, and the limits that make input valid. */
#ifndef COMMLAB_ORDER_H
#define COMMLAB_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define ID_MAX_LEN 64
#define ORDER_MAX_ITEMS 16
#define ITEM_MAX_QTY 100
/* Canonical items text: "sku:qty" joined by ',' in catalog order. */
#define ITEMS_TEXT_MAX (ORDER_MAX_ITEMS * (SKU_MAX_LEN + 5))

struct order_item {
    int sku; /* catalog index */
    int qty;
};

struct order {
    char order_id[ID_MAX_LEN + 1];
    char user_id[ID_MAX_LEN + 1];
    int64_t occurred_at; /* event time, ms since the epoch */
    int n_items;
    struct order_item items[ORDER_MAX_ITEMS]; /* distinct SKUs, catalog order */
};

/* Names the offending field the way a client wrote it, e.g. "items[2].qty". */
struct field_error {
    char field[48];
    char message[112];
};

/* Ids are 1..ID_MAX_LEN characters of [A-Za-z0-9_.@:-]. */
bool id_valid(const char *id);
/* Adds an item keeping catalog order; fails on a repeated SKU or a full order. */
int order_add_item(struct order *o, int sku, int qty);
void order_items_text(const struct order *o, char out[ITEMS_TEXT_MAX]);
/* Inverse of order_items_text; -1 on anything it would not have written. */
int order_items_parse(struct order *o, const char *text);
/* Where two copies of one order disagree: "user_id", "items" or
 * "occurred_at" (the first found), or NULL when they agree. Items are in
 * catalog order in both, so the order a client listed them in does not count. */
const char *order_differs(const struct order *a, const struct order *b);
/* A fresh random id for orders whose client did not name one. */
void order_id_random(char out[ID_MAX_LEN + 1]);

#endif
