/* The seeded workload's OrderPlaced events, as loadgen's drivers send them. */
#ifndef COMMLAB_LOADGEN_EVENTS_H
#define COMMLAB_LOADGEN_EVENTS_H

#include <stdint.h>

#include "codec/event_writer.h"
#include "domain/workload.h"

/* Event `index` of the workload into `text`, its order_id into `key`.
 * Returns the text's length, -1 if out of memory. */
int loadgen_event(struct event_writer *ew, const struct workload *w, uint64_t index,
                  char key[ID_MAX_LEN + 1], char text[EVENT_TEXT_MAX]);

#endif
