/* The canteen's menu. The failure rule lives here: an order is refused exactly
 * when it asks for more of a SKU than is in stock. The lab's default stock
 * makes that a pure function of the order: CATALOG_SOLD_OUT starts at 0 and
 * every other SKU starts far above what any workload can order, so an order
 * fails if and only if it contains the sold-out SKU, whatever the interleaving. */
#ifndef COMMLAB_CATALOG_H
#define COMMLAB_CATALOG_H

#include <stddef.h>

#define SKU_MAX_LEN 32
#define CATALOG_SOLD_OUT "truffle-fries"
#define CATALOG_DEFAULT_STOCK 100000000L

size_t catalog_count(void);
const char *catalog_sku(size_t index);
/* Index of a SKU, or -1 when it is not on the menu. */
int catalog_index(const char *sku);
long catalog_default_stock(size_t index);
/* Index of the sold-out SKU. */
int catalog_sold_out(void);

#endif
