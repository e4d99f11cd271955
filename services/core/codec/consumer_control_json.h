/* POST /configure of the streaming consumers (inventory in kafka mode,
 * analytics): {"throttle_ms": 0..60000, "paused": true|false}, each optional.
 * Throttle is a pause per event, so a consumer can be made slower than the
 * producers on purpose and its lag watched. */
#ifndef COMMLAB_CONSUMER_CONTROL_JSON_H
#define COMMLAB_CONSUMER_CONTROL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/order.h"

#define STREAM_MAX_THROTTLE_MS 60000

/* Fields absent leave *throttle_ms / *paused untouched; -1 with `err` naming
 * the field, and nothing changed, on bad input. */
int stream_control_decode(const char *body, size_t len, long *throttle_ms, bool *paused,
                          struct field_error *err);
char *stream_control_encode(long throttle_ms, bool paused);

#endif
