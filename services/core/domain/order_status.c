#include "order_status.h"

#include <string.h>

static const char *const names[ORDER_STATUS_COUNT] = {
    [ORDER_PENDING] = "pending",   [ORDER_ACCEPTED] = "accepted", [ORDER_CONFIRMED] = "confirmed",
    [ORDER_REJECTED] = "rejected", [ORDER_FAILED] = "failed",
};

/* allowed[from][to]; the diagonal (staying) is allowed for every status. */
static const bool allowed[ORDER_STATUS_COUNT][ORDER_STATUS_COUNT] = {
    [ORDER_PENDING] = {[ORDER_PENDING] = true,
                       [ORDER_CONFIRMED] = true,
                       [ORDER_REJECTED] = true,
                       [ORDER_FAILED] = true},
    [ORDER_ACCEPTED] = {[ORDER_ACCEPTED] = true, [ORDER_CONFIRMED] = true, [ORDER_REJECTED] = true},
    [ORDER_CONFIRMED] = {[ORDER_CONFIRMED] = true},
    [ORDER_REJECTED] = {[ORDER_REJECTED] = true},
    [ORDER_FAILED] = {[ORDER_FAILED] = true},
};

const char *order_status_name(enum order_status s)
{
    return (unsigned)s < ORDER_STATUS_COUNT ? names[s] : "unknown";
}

int order_status_parse(const char *name, enum order_status *out)
{
    for (int i = 0; i < ORDER_STATUS_COUNT; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (enum order_status)i;
            return 0;
        }
    return -1;
}

bool order_transition_allowed(enum order_status from, enum order_status to)
{
    return (unsigned)from < ORDER_STATUS_COUNT && (unsigned)to < ORDER_STATUS_COUNT &&
           allowed[from][to];
}
