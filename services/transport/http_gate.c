#include "http_gate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"

/* Deadlines are checked this often. */
#define SWEEP_MS 200
/* A refused connection is read and dropped this long at most after its
 * answer, or until the client closes it. */
#define DRAIN_MS 1000
/* What a first look reads: a method, a target's start and "HTTP/". */
#define PEEK_BYTES 256
#define CLIENT_BUCKETS 4096

struct gate_client {
    struct gate_client *next;
    uint32_t addr;
    unsigned n;
};

struct gate_conn {
    struct gate_conn *prev, *next;
    int fd;
    struct sockaddr_in from;
    uint64_t deadline_ms;
    bool counted;  /* in its client's count */
    bool draining; /* answered: read and dropped until closed */
};

/* A 400's body: what the first bytes were not. */
static const char body_400[] =
    "{\"error\":\"bad_request_line\",\"message\":\"not the start of an HTTP/1.x request line "
    "(a TLS or SSLv2 hello, or binary bytes?)\"}";

static uint64_t now_ms(void)
{
    return clock_mono_us() / 1000;
}

bool http_is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool http_gate_request_start(const unsigned char *buf, size_t n)
{
    size_t i = 0, from;
    /* RFC 9112 2.2: empty lines before a request line are ignored. */
    while (i < n && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    for (from = i; i < n && http_is_tchar(buf[i]); i++)
        ;
    if (i == n)
        return true;
    if (i == from || buf[i++] != ' ')
        return false;
    /* The target: no space and no control byte (3.2). */
    for (from = i; i < n && buf[i] > ' ' && buf[i] != 0x7f; i++)
        ;
    if (i == n)
        return true;
    if (i == from || buf[i++] != ' ')
        return false;
    static const char version[] = "HTTP/";
    for (size_t k = 0; k < sizeof version - 1 && i < n; k++, i++)
        if (buf[i] != (unsigned char)version[k])
            return false;
    return true;
}

static struct gate_client **bucket(struct http_gate *g, uint32_t addr)
{
    return &g->clients[(addr * 2654435761u) >> 20 & (CLIENT_BUCKETS - 1)];
}

/* Adds `delta` to the client's count (under g->mu); its count before. */
static unsigned client_add(struct http_gate *g, uint32_t addr, int delta)
{
    struct gate_client **pp = bucket(g, addr), *c;
    for (; (c = *pp) != NULL; pp = &c->next)
        if (c->addr == addr)
            break;
    if (!c) {
        if (delta <= 0 || !(c = calloc(1, sizeof *c)))
            return 0;
        c->addr = addr;
        *pp = c;
    }
    unsigned before = c->n;
    c->n += (unsigned)delta;
    if (c->n == 0) {
        *pp = c->next;
        free(c);
    }
    return before;
}

static void release(struct http_gate *g, uint32_t addr, bool counted)
{
    pthread_mutex_lock(&g->mu);
    g->open--;
    if (counted)
        client_add(g, addr, -1);
    pthread_mutex_unlock(&g->mu);
}

static void unlink_conn(struct http_gate *g, struct gate_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        g->waiting = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void finish(struct http_gate *g, struct gate_conn *c)
{
    unlink_conn(g, c);
    close(c->fd);
    release(g, c->from.sin_addr.s_addr, c->counted);
    free(c);
}

/* Writes the answer, shuts the sending side (the client sees the end of the
 * stream at once) and drains what it still sends. */
static void refuse(struct http_gate *g, struct gate_conn *c, int status, const char *answer)
{
    ssize_t w = send(c->fd, answer, strlen(answer), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w; /* a client that cannot take half a kilobyte is closed all the same */
    shutdown(c->fd, SHUT_WR);
    if (c->counted) {
        pthread_mutex_lock(&g->mu);
        client_add(g, c->from.sin_addr.s_addr, -1);
        pthread_mutex_unlock(&g->mu);
        c->counted = false;
    }
    c->draining = true;
    c->deadline_ms = now_ms() + DRAIN_MS;
    if (g->cfg.observe)
        g->cfg.observe(g->cfg.ctx, status);
}

static void on_readable(struct http_gate *g, struct gate_conn *c)
{
    unsigned char buf[PEEK_BYTES];
    if (c->draining) {
        ssize_t r;
        while ((r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            ;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            finish(g, c);
        return;
    }
    ssize_t r = recv(c->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        finish(g, c);
        return;
    }
    if (!http_gate_request_start(buf, (size_t)r)) {
        refuse(g, c, 400, g->answer_400);
        return;
    }
    epoll_ctl(g->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    unlink_conn(g, c);
    if (!g->cfg.pass(g->cfg.ctx, c->fd, &c->from))
        release(g, c->from.sin_addr.s_addr, c->counted);
    free(c);
}

static void accept_all(struct http_gate *g)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        int fd =
            accept4(g->cfg.listen_fd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                /* Out of descriptors or memory: the backlog waits for the
                 * next sweep instead of waking this loop again at once. */
                struct epoll_event off = {.events = 0};
                epoll_ctl(g->epoll_fd, EPOLL_CTL_MOD, g->cfg.listen_fd, &off);
                g->paused = true;
            }
            return;
        }
        if (len != sizeof from || from.sin_family != AF_INET)
            memset(&from, 0, sizeof from);
        pthread_mutex_lock(&g->mu);
        bool full = g->open >= g->cfg.max_connections;
        bool over = !full && client_add(g, from.sin_addr.s_addr, 0) >= g->cfg.max_per_client;
        if (!full) {
            g->open++;
            if (!over)
                client_add(g, from.sin_addr.s_addr, 1);
        }
        pthread_mutex_unlock(&g->mu);
        struct gate_conn *c = full ? NULL : calloc(1, sizeof *c);
        if (!c) {
            /* At the connection limit there is no room to answer: closed
             * at once, as the library does. */
            close(fd);
            if (!full)
                release(g, from.sin_addr.s_addr, !over);
            continue;
        }
        c->fd = fd;
        c->from = from;
        c->counted = !over;
        c->deadline_ms = now_ms() + g->cfg.first_byte_ms;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            release(g, from.sin_addr.s_addr, c->counted);
            free(c);
            continue;
        }
        c->next = g->waiting;
        if (g->waiting)
            g->waiting->prev = c;
        g->waiting = c;
        if (over)
            refuse(g, c, 503, g->answer_503);
    }
}

static void sweep(struct http_gate *g)
{
    uint64_t now = now_ms();
    struct gate_conn *next;
    for (struct gate_conn *c = g->waiting; c; c = next) {
        next = c->next;
        if (now < c->deadline_ms)
            continue;
        if (!c->draining && g->cfg.count)
            g->cfg.count(g->cfg.ctx, "http_header_deadline_closed_total",
                         "Connections closed: request header not complete in time.");
        finish(g, c);
    }
}

static void gate_loop(struct worker *w, void *arg)
{
    struct http_gate *g = arg;
    struct epoll_event evs[64];
    uint64_t next_sweep = now_ms() + SWEEP_MS;
    while (!worker_stopping(w)) {
        int n = epoll_wait(g->epoll_fd, evs, 64, SWEEP_MS);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL)
                accept_all(g);
            else
                on_readable(g, evs[i].data.ptr);
        }
        if (now_ms() >= next_sweep) {
            sweep(g);
            if (g->paused) {
                struct epoll_event on = {.events = EPOLLIN, .data.ptr = NULL};
                g->paused = epoll_ctl(g->epoll_fd, EPOLL_CTL_MOD, g->cfg.listen_fd, &on) != 0;
            }
            next_sweep = now_ms() + SWEEP_MS;
        }
    }
}

/* A whole answer, written in one send before the connection is shut. */
static void canned(char *out, size_t len, const char *status, const char *extra, const char *body)
{
    snprintf(out, len,
             "HTTP/1.1 %s\r\nConnection: close\r\nContent-Type: application/json\r\n%s"
             "Content-Length: %zu\r\n\r\n%s",
             status, extra, strlen(body), body);
}

int http_gate_start(struct http_gate *g, const struct http_gate_config *cfg)
{
    memset(g, 0, sizeof *g);
    g->cfg = *cfg;
    pthread_mutex_init(&g->mu, NULL);
    char body_503[256];
    snprintf(body_503, sizeof body_503,
             "{\"error\":\"too_many_connections\",\"message\":\"at most %u open connections per "
             "client address\",\"limit\":%u}",
             cfg->max_per_client, cfg->max_per_client);
    canned(g->answer_400, sizeof g->answer_400, "400 Bad Request", "", body_400);
    canned(g->answer_503, sizeof g->answer_503, "503 Service Unavailable", "Retry-After: 1\r\n",
           body_503);
    g->clients = calloc(CLIENT_BUCKETS, sizeof *g->clients);
    g->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (!g->clients || g->epoll_fd < 0 ||
        epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, cfg->listen_fd, &ev) != 0 ||
        worker_start(&g->thread, "http-gate", gate_loop, g) != 0) {
        if (g->epoll_fd >= 0)
            close(g->epoll_fd);
        free(g->clients);
        pthread_mutex_destroy(&g->mu);
        return -1;
    }
    return 0;
}

void http_gate_stop(struct http_gate *g)
{
    worker_stop(&g->thread);
    close(g->cfg.listen_fd);
    while (g->waiting)
        finish(g, g->waiting);
    close(g->epoll_fd);
}

/* After the library stopped: no close notification can come any more. */
void http_gate_free(struct http_gate *g)
{
    for (unsigned i = 0; i < CLIENT_BUCKETS; i++)
        while (g->clients[i]) {
            struct gate_client *c = g->clients[i];
            g->clients[i] = c->next;
            free(c);
        }
    free(g->clients);
    pthread_mutex_destroy(&g->mu);
}

void http_gate_closed(struct http_gate *g, const struct sockaddr *from)
{
    uint32_t addr = 0;
    if (from && from->sa_family == AF_INET)
        addr = ((const struct sockaddr_in *)from)->sin_addr.s_addr;
    release(g, addr, true);
}
