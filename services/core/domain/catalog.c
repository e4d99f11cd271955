#include "catalog.h"

#include <string.h>

/* Sorted by name, so the catalog index order is also the canonical text order. */
static const char *const skus[] = {
    "burger", "coffee", "cookie", "fries", "pizza", "salad", "soda", CATALOG_SOLD_OUT, "wrap",
};

size_t catalog_count(void)
{
    return sizeof skus / sizeof skus[0];
}

const char *catalog_sku(size_t index)
{
    return index < catalog_count() ? skus[index] : NULL;
}

int catalog_index(const char *sku)
{
    for (size_t i = 0; i < catalog_count(); i++)
        if (strcmp(skus[i], sku) == 0)
            return (int)i;
    return -1;
}

long catalog_default_stock(size_t index)
{
    return strcmp(skus[index], CATALOG_SOLD_OUT) == 0 ? 0 : CATALOG_DEFAULT_STOCK;
}

int catalog_sold_out(void)
{
    return catalog_index(CATALOG_SOLD_OUT);
}
