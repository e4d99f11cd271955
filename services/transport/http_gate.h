/* The HTTP server's front door: it accepts every connection itself and
 * hands libmicrohttpd only those that can be HTTP/1.x, so that what the
 * library would hold without an answer is answered here at once:
 * - a first line that cannot start a request line (a TLS or SSLv2
 *   ClientHello, binary bytes): the library waits for its end of line, which
 *   may never come, and closes some without a word; here it is 400 at once;
 * - a connection over the per-client cap: the library closes it before
 *   reading anything; here it is 503 with Retry-After.
 * One thread and one epoll for all of them: a connection waits here only
 * until its first bytes arrive (an idle one until the header deadline),
 * then costs one MSG_PEEK, and a refused one is drained briefly after its
 * answer, so that unread bytes do not reset the connection and destroy the
 * answer before the client reads it. */
#ifndef COMMLAB_HTTP_GATE_H
#define COMMLAB_HTTP_GATE_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/worker.h"

/* Hands a connection that can be HTTP to the library, which owns and closes
 * `fd` from now on (and calls http_gate_closed then); false if it refused
 * it (the socket is closed already). */
typedef bool (*http_gate_pass_fn)(void *ctx, int fd, const struct sockaddr_in *from);
typedef void (*http_gate_observe_fn)(void *ctx, int status);
typedef void (*http_gate_count_fn)(void *ctx, const char *name, const char *help);

struct http_gate_config {
    int listen_fd; /* bound and listening; the gate owns it from now on */
    unsigned max_connections, max_per_client;
    unsigned first_byte_ms; /* an idle connection is closed after this */
    http_gate_pass_fn pass;
    http_gate_observe_fn observe; /* each canned answer's status; may be NULL */
    http_gate_count_fn count;     /* deadline closes; may be NULL */
    void *ctx;
};

struct gate_client;
struct gate_conn;

struct http_gate {
    struct http_gate_config cfg;
    int epoll_fd;
    struct worker thread;
    /* Connections waiting here, in no order (the gate thread's alone). */
    struct gate_conn *waiting;
    /* Open connections, here or in the library, in all and per client
     * address; the library's close notifications change them too. */
    pthread_mutex_t mu;
    unsigned open;
    struct gate_client **clients;
    char answer_400[512], answer_503[512];
    bool paused; /* out of descriptors: not accepting until the next sweep */
};

int http_gate_start(struct http_gate *g, const struct http_gate_config *cfg);
/* Stops accepting and closes every connection still waiting here. */
void http_gate_stop(struct http_gate *g);
/* After the library has stopped: frees what http_gate_closed needed. */
void http_gate_free(struct http_gate *g);
/* A connection passed on was closed by the library. */
void http_gate_closed(struct http_gate *g, const struct sockaddr *from);
/* Whether the n bytes a connection sent first can begin an HTTP/1.x request
 * (RFC 9112 2.2 and 3): empty lines, then a method (a token), a space, a
 * target, a space and "HTTP/", as far as the bytes go. */
bool http_gate_request_start(const unsigned char *buf, size_t n);
/* RFC 9110 5.6.2: a token character. */
bool http_is_tchar(unsigned char c);

#endif
