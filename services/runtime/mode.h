/* The three models, one vocabulary: every service's --mode takes the model's
 * short name, its transport or the model's full name, whichever the caller
 * thinks in (sync, rest, sync-rest are one mode). */
#ifndef COMMLAB_MODE_H
#define COMMLAB_MODE_H

#include <stddef.h>

enum service_mode {
    MODE_SYNC,   /* REST calls; order answers 201 */
    MODE_ASYNC,  /* RabbitMQ; order answers 202 and relays its outbox */
    MODE_STREAM, /* Kafka; order answers 202 and relays its outbox */
};

#define MODE_BIT(m) (1u << (m))
#define MODE_ALL (MODE_BIT(MODE_SYNC) | MODE_BIT(MODE_ASYNC) | MODE_BIT(MODE_STREAM))

/* Parses any spelling of a mode in `allowed` (MODE_BIT()s); 0, or -1 with
 * the accepted spellings in `err`. */
int mode_parse(const char *s, unsigned allowed, enum service_mode *out, char *err, size_t errlen);

#endif
