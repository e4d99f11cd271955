#include "event.h"

#include <stdio.h>
#include <string.h>

#include "util/rng.h"

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
    /* The key is "<type>/<order_id>". */
    char key[ID_MAX_LEN + 24];
    size_t tl = strlen(names[t]), ol = strnlen(order_id, ID_MAX_LEN);
    memcpy(key, names[t], tl);
    key[tl] = '/';
    memcpy(key + tl + 1, order_id, ol);
    size_t n = tl + 1 + ol;
    hex64(hash64(key, n, 1), out);
    hex64(hash64(key, n, 2), out + 16);
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

void event_outcome_line(char out[EVENT_LINE_MAX], const char *outcome, const struct event *ev,
                        const char *source, const char *reason)
{
    int n =
        snprintf(out, EVENT_LINE_MAX, "event %s type=%s event_id=%s order_id=%s source=%s", outcome,
                 ev ? event_type_name(ev->type) : "-", ev && ev->event_id[0] ? ev->event_id : "-",
                 ev && ev->order.order_id[0] ? ev->order.order_id : "-", source);
    if (reason && reason[0] && n > 0 && n < EVENT_LINE_MAX)
        snprintf(out + n, EVENT_LINE_MAX - (size_t)n, " reason=%s", reason);
    /* A reason may quote a message's bytes: one line stays one line. */
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

uint64_t event_digest(const struct event *ev)
{
    /* Every field in a fixed layout, strings with their terminators, so no
     * two different events give the same bytes. Items are kept in catalog
     * order, so the order they were sent in does not count. */
    char buf[3 * (ID_MAX_LEN + 1) + EVENT_REASON_MAX + 16 + ORDER_MAX_ITEMS * 8];
    size_t n = 0;
    const char *parts[] = {event_type_name(ev->type), ev->order.order_id, ev->order.user_id,
                           ev->reason};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t l = strnlen(parts[i], ID_MAX_LEN) + 1;
        memcpy(buf + n, parts[i], l);
        buf[n + l - 1] = '\0';
        n += l;
    }
    int64_t t = ev->order.occurred_at;
    memcpy(buf + n, &t, sizeof t);
    n += sizeof t;
    for (int i = 0; i < ev->order.n_items; i++) {
        int32_t pair[2] = {ev->order.items[i].sku, ev->order.items[i].qty};
        memcpy(buf + n, pair, sizeof pair);
        n += sizeof pair;
    }
    return hash64(buf, n, 3);
}
