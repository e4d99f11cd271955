/* Encodes many events with one cJSON tree. The tree is built once; each
 * event only points its string nodes at the event's own fields and links as
 * many item nodes as it has items, then prints into the caller's buffer.
 * No allocation per event: a producer encoding 10,000 events spends its
 * time on the wire, not in malloc. The bytes are event_encode()'s (which is
 * built on this). One writer per thread. */
#ifndef COMMLAB_EVENT_WRITER_H
#define COMMLAB_EVENT_WRITER_H

#include <cJSON.h>

#include "domain/event.h"
#include "util/clock.h"

/* Large enough for the largest event: 16 items, a 64-byte reason. */
#define EVENT_TEXT_MAX 2048

struct event_writer {
    cJSON *root, *payload, *items, *reason;
    cJSON *type, *event_id, *order_id, *occurred_at, *user_id;
    cJSON *item[ORDER_MAX_ITEMS]; /* {"sku":..,"qty":..}, made on first use */
    cJSON *sku[ORDER_MAX_ITEMS], *qty[ORDER_MAX_ITEMS];
    int made, linked;   /* item nodes made; of those, linked into "items" */
    bool reason_linked; /* "reason" is in "payload" */
    char time[TIME_TEXT_LEN + 1];
    char qty_text[ORDER_MAX_ITEMS][24];
    char schema_text[24];
};

/* 0, or -1 when out of memory (nothing to free then). */
int event_writer_init(struct event_writer *w);
void event_writer_free(struct event_writer *w);
/* Writes ev's JSON and a NUL into out; returns its length, or -1 when out of
 * memory or when `cap` is too small (EVENT_TEXT_MAX always suffices). */
int event_writer_encode(struct event_writer *w, const struct event *ev, char *out, size_t cap);

#endif
