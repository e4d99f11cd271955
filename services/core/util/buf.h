/* A growable byte buffer for building responses and dumps. */
#ifndef COMMLAB_BUF_H
#define COMMLAB_BUF_H

#include <stddef.h>

#include "log.h"

struct buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; later appends are ignored */
};

void buf_append(struct buf *b, const char *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) COMMLAB_PRINTF(2, 3);
/* Hands the NUL-terminated contents to the caller (NULL if an allocation failed). */
char *buf_take(struct buf *b, size_t *len);
void buf_free(struct buf *b);

#endif
