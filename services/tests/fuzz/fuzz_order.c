/* Every client-facing order decoder: no crash, no sanitizer report, and an
 * order it accepts encodes to JSON that decodes to the same order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/order_json.h"
#include "strict_invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strict_invariants(data, size);
    static const unsigned needs[] = {NEED_USER_ID | NEED_ITEMS, NEED_ORDER_ID | NEED_ITEMS,
                                     NEED_ORDER_ID | NEED_USER_ID};
    for (size_t k = 0; k < sizeof needs / sizeof needs[0]; k++) {
        struct order o, back;
        struct field_error err;
        if (order_decode((const char *)data, size, needs[k], &o, &err) != 0)
            continue;
        char *text = order_encode(&o);
        if (!text)
            continue;
        if (order_decode(text, strlen(text), needs[k], &back, &err) != 0 ||
            memcmp(&o, &back, sizeof o) != 0)
            abort();
        free(text);
    }
    return 0;
}
