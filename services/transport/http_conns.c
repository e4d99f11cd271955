#include "http_conns.h"

#include <linux/tcp.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "util/clock.h"

/* A deadline is checked this often, so a connection lives at most this much
 * past it. */
#define SWEEP_MS 200

/* Phase and the time it began, in one word so that the polling thread and
 * the sweeper never see one without the other. */
#define PACK(phase, ms) (((uint64_t)(phase) << 56) | ((ms) & ((1ull << 56) - 1)))
#define PHASE(v) ((enum conn_phase)((v) >> 56))
#define SINCE(v) ((v) & ((1ull << 56) - 1))

struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    _Atomic uint64_t state;
    _Atomic uint64_t idle_bytes; /* bytes received when it went idle */
    bool closing;
};

static uint64_t bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return 0;
    return ti.tcpi_bytes_received;
}

void http_conns_phase(struct http_conn *conn, enum conn_phase phase)
{
    if (!conn)
        return;
    if (phase == CONN_IDLE)
        conn->idle_bytes = bytes_received(conn->fd);
    atomic_store(&conn->state, PACK(phase, (clock_mono_us() / 1000)));
}

static void close_late(struct http_conns *c, struct http_conn *conn, const char *name,
                       const char *help)
{
    /* The library sees the end of the stream and closes the connection. */
    shutdown(conn->fd, SHUT_RDWR);
    conn->closing = true;
    if (c->count)
        c->count(c->count_ctx, name, help);
}

static void sweep(struct http_conns *c)
{
    uint64_t now = (clock_mono_us() / 1000);
    pthread_mutex_lock(&c->mu);
    for (struct http_conn *p = c->head; p; p = p->next) {
        if (p->closing)
            continue;
        uint64_t v = atomic_load(&p->state);
        uint64_t age = now - SINCE(v);
        switch (PHASE(v)) {
        case CONN_HEADER:
            if (age > c->header_ms)
                close_late(c, p, "http_header_deadline_closed_total",
                           "Connections closed: request header not complete in time.");
            break;
        case CONN_BODY:
            if (age > c->body_ms)
                close_late(c, p, "http_body_deadline_closed_total",
                           "Connections closed: request body not complete in time.");
            break;
        case CONN_IDLE:
            /* The next request began: its header deadline runs from now. */
            if (bytes_received(p->fd) != p->idle_bytes)
                atomic_compare_exchange_strong(&p->state, &v, PACK(CONN_HEADER, now));
            break;
        default:
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void sweeper(struct worker *w, void *arg)
{
    struct http_conns *c = arg;
    while (worker_sleep(w, SWEEP_MS))
        sweep(c);
}

int http_conns_start(struct http_conns *c, unsigned header_ms, unsigned body_ms,
                     http_conns_count_fn count, void *count_ctx)
{
    pthread_mutex_init(&c->mu, NULL);
    c->head = NULL;
    c->header_ms = header_ms;
    c->body_ms = body_ms;
    c->count = count;
    c->count_ctx = count_ctx;
    c->open = 0;
    return worker_start(&c->sweeper, "http-deadlines", sweeper, c);
}

void http_conns_stop(struct http_conns *c)
{
    worker_stop(&c->sweeper);
}

void http_conns_free(struct http_conns *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->head) {
        struct http_conn *p = c->head;
        c->head = p->next;
        free(p);
    }
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_destroy(&c->mu);
}

struct http_conn *http_conns_add(struct http_conns *c, int fd)
{
    struct http_conn *conn = calloc(1, sizeof *conn);
    if (!conn)
        return NULL;
    conn->fd = fd;
    atomic_init(&conn->state, PACK(CONN_HEADER, (clock_mono_us() / 1000)));
    pthread_mutex_lock(&c->mu);
    conn->next = c->head;
    if (c->head)
        c->head->prev = conn;
    c->head = conn;
    c->open++;
    pthread_mutex_unlock(&c->mu);
    return conn;
}

void http_conns_remove(struct http_conns *c, struct http_conn *conn)
{
    if (!conn)
        return;
    pthread_mutex_lock(&c->mu);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        c->head = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    c->open--;
    pthread_mutex_unlock(&c->mu);
    free(conn);
}

unsigned http_conns_answering(struct http_conns *c)
{
    unsigned n = 0;
    pthread_mutex_lock(&c->mu);
    for (struct http_conn *p = c->head; p; p = p->next) {
        enum conn_phase ph = PHASE(atomic_load(&p->state));
        n += ph == CONN_BUSY || ph == CONN_SENDING;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}
