/* The open connections of one HTTP server and their read deadlines.
 * libmicrohttpd's own timeout counts inactivity only, so a client that sends
 * one header line a second would hold its connection forever; here a sweeper
 * closes a connection whose request header, or body, is not complete within
 * its deadline, however steadily it trickles. */
#ifndef COMMLAB_HTTP_CONNS_H
#define COMMLAB_HTTP_CONNS_H

#include <pthread.h>
#include <stdint.h>

#include "util/worker.h"

enum conn_phase {
    CONN_HEADER,  /* reading a request header: header deadline */
    CONN_BODY,    /* reading its body: body deadline */
    CONN_BUSY,    /* a handler has it: no read deadline */
    CONN_SENDING, /* answering: the library's inactivity timeout */
    CONN_IDLE,    /* kept alive between requests: the idle timeout */
};

struct http_conn;
typedef void (*http_conns_count_fn)(void *ctx, const char *name, const char *help);

struct http_conns {
    pthread_mutex_t mu;
    struct http_conn *head;
    unsigned header_ms, body_ms;
    http_conns_count_fn count;
    void *count_ctx;
    struct worker sweeper;
    unsigned open;
};

int http_conns_start(struct http_conns *c, unsigned header_ms, unsigned body_ms,
                     http_conns_count_fn count, void *count_ctx);
/* Stops the sweeper; the list stays usable until http_conns_free. */
void http_conns_stop(struct http_conns *c);
void http_conns_free(struct http_conns *c);

/* The connection on socket `fd` opened (NULL when out of memory: it then
 * has the library's inactivity timeout only). */
struct http_conn *http_conns_add(struct http_conns *c, int fd);
/* Must be called before the socket is closed, so the sweeper never touches
 * a descriptor that was reused. */
void http_conns_remove(struct http_conns *c, struct http_conn *conn);
/* The connection entered `phase` now; NULL is ignored. */
void http_conns_phase(struct http_conn *conn, enum conn_phase phase);
/* Connections with a request in a handler or an answer being written. */
unsigned http_conns_answering(struct http_conns *c);

#endif
