#include "mode.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *model, *transport, *full;
} names[] = {
    [MODE_SYNC] = {"sync", "rest", "sync-rest"},
    [MODE_ASYNC] = {"async", "amqp", "async-rabbitmq"},
    [MODE_STREAM] = {"stream", "kafka", "streaming-kafka"},
};

#define NMODES (sizeof names / sizeof names[0])

int mode_parse(const char *s, unsigned allowed, enum service_mode *out, char *err, size_t errlen)
{
    for (size_t m = 0; s && m < NMODES; m++) {
        if (!(allowed & MODE_BIT(m)))
            continue;
        if (strcmp(s, names[m].model) == 0 || strcmp(s, names[m].transport) == 0 ||
            strcmp(s, names[m].full) == 0) {
            *out = (enum service_mode)m;
            return 0;
        }
    }
    size_t len = (size_t)snprintf(err, errlen, "expected");
    const char *sep = " ";
    for (size_t m = 0; m < NMODES && len < errlen; m++) {
        if (!(allowed & MODE_BIT(m)))
            continue;
        len += (size_t)snprintf(err + len, errlen - len, "%s%s (%s, %s)", sep, names[m].model,
                                names[m].transport, names[m].full);
        sep = ", ";
    }
    if (len < errlen)
        snprintf(err + len, errlen - len, ", got '%s'", s ? s : "");
    return -1;
}
