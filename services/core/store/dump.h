/* The canonical dump of a service database: the state tests hash. Only
 * state that must be equal across interleavings, crashes and redeliveries is
 * printed (orders, stock, reservations, notifications); bookkeeping such as
 * the outbox and processed event ids is not. */
#ifndef COMMLAB_DUMP_H
#define COMMLAB_DUMP_H

#include "util/buf.h"

/* Appends one line per row, "table<TAB>col<TAB>col...", tables in a fixed
 * order and rows sorted by key. Returns -1 when the file cannot be read. */
int dump_database(const char *path, struct buf *out);

#endif
