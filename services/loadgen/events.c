#include "events.h"

#include <string.h>

int loadgen_event(struct event_writer *ew, const struct workload *w, uint64_t index,
                  char key[ID_MAX_LEN + 1], char text[EVENT_TEXT_MAX])
{
    struct order o;
    struct event ev;
    workload_order(w, index, &o);
    event_from_order(&ev, EVENT_ORDER_PLACED, &o, NULL);
    memcpy(key, o.order_id, sizeof o.order_id);
    return event_writer_encode(ew, &ev, text, EVENT_TEXT_MAX);
}
