#include "event.h"

#include <stdio.h>
#include <string.h>

#include "../util/rng.h"

static const char *const names[] = {"OrderPlaced", "InventoryReserved", "InventoryFailed"};

const char *event_type_name(enum event_type t)
{
    return names[t];
}

int event_type_parse(const char *name, enum event_type *out)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(names[i], name) == 0) {
            *out = (enum event_type)i;
            return 0;
        }
    }
    return -1;
}

void event_id_derive(enum event_type t, const char *order_id, char out[EVENT_ID_LEN + 1])
{
    char key[ID_MAX_LEN + 24];
    int n = snprintf(key, sizeof key, "%s/%s", names[t], order_id);
    hex64(hash64(key, (size_t)n, 1), out);
    hex64(hash64(key, (size_t)n, 2), out + 16);
}

void event_from_order(struct event *ev, enum event_type t, const struct order *o,
                      const char *reason)
{
    memset(ev, 0, sizeof *ev);
    ev->type = t;
    ev->order = *o;
    event_id_derive(t, o->order_id, ev->event_id);
    if (reason)
        snprintf(ev->reason, sizeof ev->reason, "%s", reason);
}
