/* The event decoder every consumer runs on untrusted broker messages: no
 * crash, and an accepted event round-trips exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "strict_invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strict_invariants(data, size);
    struct event ev, back;
    struct field_error err;
    char reason[160];
    (void)event_accept((const char *)data, size, 1u << EVENT_INVENTORY_RESERVED, &ev, reason,
                       sizeof reason);
    if (event_decode((const char *)data, size, &ev, &err) != 0)
        return 0;
    char *text = event_encode(&ev);
    if (!text)
        return 0;
    if (event_decode(text, strlen(text), &back, &err) != 0 || memcmp(&ev, &back, sizeof ev) != 0)
        abort();
    free(text);
    return 0;
}
