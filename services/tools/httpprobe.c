/* commlab-httpprobe: hostile and slow HTTP clients for the tests, loopback
 * only, bounded in count and time.
 *   send HOST:PORT        raw bytes from stdin, prints every byte answered
 *   hold HOST:PORT        N idle, slowloris or /healthz connections at once,
 *                         measuring /healthz and orders meanwhile
 *   sample HOST:PORT      the order service's in-flight gauge, breaker state,
 *                         inventory calls and a timed /healthz, as TSV */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/options.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double now_ms_f(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int loopback_addr(const char *hostport, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    long port;
    if (!colon || (size_t)(colon - hostport) >= sizeof host ||
        parse_long(colon + 1, 1, 65535, &port) != 0)
        return -1;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || (ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "httpprobe: %s: give a loopback address (127.x.y.z:PORT)\n", hostport);
        return -1;
    }
    return 0;
}

/* Connects from 127.0.1.(1 + source), so that a per-address limit of the
 * server sees several clients. */
static int dial(const struct sockaddr_in *to, unsigned source, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl((127u << 24) | (1u << 8) | (1 + source % 250));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
        (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- send ---------------------------------------------------------------- */

/* from: a loopback address to connect from (a client of a per-address
 * limit), or NULL. */
static int cmd_send(const char *target, const char *from, long timeout_ms)
{
    struct sockaddr_in sa, src;
    char src_port[80];
    snprintf(src_port, sizeof src_port, "%s:1", from ? from : "127.0.0.1");
    if (loopback_addr(target, &sa) != 0 || loopback_addr(src_port, &src) != 0)
        return 2;
    src.sin_port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || (from && bind(fd, (struct sockaddr *)&src, sizeof src) != 0) ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("httpprobe send: connect");
        return 1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (send(fd, buf, n, MSG_NOSIGNAL) < 0)
            break; /* the server may close early; print what it answered */
    /* No shutdown(SHUT_WR): a server must not need the client's EOF. */
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t t = now_ms();
        if (t >= end) {
            fprintf(stderr, "httpprobe send: still open after %ld ms\n", timeout_ms);
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(end - t)) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) {
            printf("\n-- closed by server\n");
            break;
        }
        fwrite(buf, 1, (size_t)r, stdout);
    }
    close(fd);
    return 0;
}

/* ---- hold ---------------------------------------------------------------- */

enum mode { MODE_IDLE, MODE_SLOW, MODE_SLOWBODY, MODE_HEALTHZ };

struct slot {
    int fd;
    uint64_t opened, connected_at, closed;
    bool connected, answered_ok, answered_503;
    size_t got;
};

struct sample {
    double *ms;
    size_t n, cap;
    unsigned failed;
};

static void sample_add(struct sample *s, double ms)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->ms = realloc(s->ms, s->cap * sizeof *s->ms);
        if (!s->ms)
            abort();
    }
    s->ms[s->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(struct sample *s, double p)
{
    if (!s->n)
        return 0;
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->ms[i];
}

/* One request on a fresh keep-alive connection (reopened when lost); the
 * status, or -1 on timeout or a lost connection. */
static int request(int *fd, const struct sockaddr_in *to, const char *req, long timeout_ms)
{
    if (*fd < 0) {
        *fd = dial(to, 249, false);
        if (*fd < 0)
            return -1;
    }
    size_t len = strlen(req);
    if (send(*fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        goto lost;
    char buf[8192];
    size_t got = 0;
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        char *hdr_end = got ? strstr(buf, "\r\n\r\n") : NULL;
        if (hdr_end) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t want = (size_t)(hdr_end + 4 - buf) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
            if (got >= want) {
                int status = atoi(buf + 9);
                if (strstr(buf, "Connection: close")) {
                    close(*fd);
                    *fd = -1;
                }
                return status;
            }
        }
        uint64_t t = now_ms();
        struct pollfd p = {.fd = *fd, .events = POLLIN};
        if (t >= end || poll(&p, 1, (int)(end - t)) <= 0 || got + 1 >= sizeof buf)
            goto lost;
        ssize_t r = recv(*fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0)
            goto lost;
        got += (size_t)r;
        buf[got] = '\0';
    }
lost:
    close(*fd);
    *fd = -1;
    return -1;
}

struct measure {
    struct sockaddr_in to;
    bool enabled;
    const char *req;
    long interval_ms;
    atomic_bool *stop;
    struct sample s;
    unsigned ok;
    int ok_status;
};

static void *measure_loop(void *arg)
{
    struct measure *m = arg;
    int fd = -1;
    while (!atomic_load(m->stop)) {
        double t0 = now_ms_f();
        int status = request(&fd, &m->to, m->req, 5000);
        double dt = now_ms_f() - t0;
        if (status == m->ok_status) {
            sample_add(&m->s, dt);
            m->ok++;
        } else {
            m->s.failed++;
        }
        if (m->interval_ms > dt)
            usleep((useconds_t)((double)m->interval_ms - dt) * 1000);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static long rss_kib(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

static const char slow_start[] = "GET /healthz HTTP/1.1\r\nHost: probe\r\n";
/* How often slow clients send, each its share. */
#define TICK_MS 20

static const char slow_line[] = "X-Slow: 1\r\n";
static const char slowbody_start[] = "POST /order HTTP/1.1\r\nHost: probe\r\nContent-Type: "
                                     "application/json\r\nContent-Length: 1000\r\n\r\n";
static const char healthz_close[] =
    "GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n";

struct hold_cfg {
    struct sockaddr_in to;
    enum mode mode;
    long count, seconds, connect_seconds, interval_ms, rss_pid;
};

static void slot_close(struct slot *sl, int ep, uint64_t t, unsigned *open)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, sl->fd, NULL);
    close(sl->fd);
    sl->fd = -1;
    sl->closed = t;
    (*open)--;
}

static void on_event(struct slot *sl, uint32_t ev, int ep, enum mode mode, unsigned *open)
{
    uint64_t t = now_ms();
    if (!sl->connected && (ev & EPOLLOUT)) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(sl->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            slot_close(sl, ep, t, open);
            return;
        }
        sl->connected = true;
        sl->connected_at = t;
        struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = sl};
        epoll_ctl(ep, EPOLL_CTL_MOD, sl->fd, &e);
        const char *first = mode == MODE_SLOW       ? slow_start
                            : mode == MODE_SLOWBODY ? slowbody_start
                                                    : "";
        if (*first)
            send(sl->fd, first, strlen(first), MSG_NOSIGNAL);
        return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        char buf[4096];
        ssize_t r;
        while ((r = recv(sl->fd, buf, sizeof buf, 0)) > 0) {
            if (sl->got == 0 && r >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0)
                sl->answered_ok = true;
            if (sl->got == 0 && r >= 12 && memcmp(buf, "HTTP/1.1 503", 12) == 0)
                sl->answered_503 = true;
            sl->got += (size_t)r;
        }
        if (r == 0 || (r < 0 && errno != EAGAIN))
            slot_close(sl, ep, t, open);
    }
}

static int cmd_hold(struct hold_cfg *c, struct measure *hz, struct measure *orders)
{
    raise_nofile();
    struct slot *slots = calloc((size_t)c->count, sizeof *slots);
    int ep = epoll_create1(0);
    if (!slots || ep < 0)
        return 1;
    atomic_bool stop = false;
    hz->stop = orders->stop = &stop;
    unsigned open = 0, dial_failed = 0;
    /* Spread over sources so no address holds more than 500. */
    unsigned sources = (unsigned)(c->count / 500 + 1);
    for (long i = 0; i < c->count; i++) {
        slots[i].opened = now_ms(); /* before the server can accept it */
        slots[i].fd = dial(&c->to, (unsigned)i % sources, true);
        if (slots[i].fd < 0) {
            dial_failed++;
            continue;
        }
        struct epoll_event e = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = &slots[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, slots[i].fd, &e);
        open++;
    }
    uint64_t start = now_ms(), end = UINT64_MAX, next_line = start, connect_ms = 0;
    long cursor = 0;
    pthread_t th[2];
    int started = 0;
    bool measuring = false;
    long rss = -1;
    unsigned peak_open = 0;
    struct epoll_event evs[256];
    while (now_ms() < end && (c->mode != MODE_HEALTHZ || open > 0)) {
        int n = epoll_wait(ep, evs, 256, TICK_MS);
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events, ep, c->mode, &open);
        unsigned connected = 0;
        uint64_t t = now_ms();
        /* Each connection sends once per interval, the connections spread over
         * it as independent clients would be (not all in one burst). */
        if ((c->mode == MODE_SLOW || c->mode == MODE_SLOWBODY) && t >= next_line) {
            const char *line = c->mode == MODE_SLOW ? slow_line : " ";
            next_line = t + TICK_MS;
            long slice = c->count * TICK_MS / c->interval_ms + 1;
            for (long k = 0; k < slice; k++, cursor = (cursor + 1) % c->count)
                if (slots[cursor].fd >= 0 && slots[cursor].connected)
                    send(slots[cursor].fd, line, strlen(line), MSG_NOSIGNAL);
        }
        for (long i = 0; i < c->count; i++)
            connected += slots[i].fd >= 0 && slots[i].connected;
        if (connected > peak_open) {
            peak_open = connected;
            if (c->rss_pid && connected == (unsigned)c->count)
                rss = rss_kib(c->rss_pid);
        }
        /* The hold and its timing start once every connection is open (or at
         * the connect deadline): the figures are those of a server holding
         * them, not accepting them. A burst past the listen backlog has some
         * SYNs dropped, which the kernel retries seconds later. */
        if (!measuring &&
            (connected == (unsigned)c->count || t >= start + (uint64_t)c->connect_seconds * 1000)) {
            measuring = true;
            connect_ms = t - start;
            end = t + (uint64_t)c->seconds * 1000;
            /* All at once: every connection is open before any asks. */
            for (long i = 0; c->mode == MODE_HEALTHZ && i < c->count; i++)
                if (slots[i].fd >= 0 && slots[i].connected)
                    send(slots[i].fd, healthz_close, sizeof healthz_close - 1, MSG_NOSIGNAL);
            if (hz->enabled && pthread_create(&th[started], NULL, measure_loop, hz) == 0)
                started++;
            if (orders->enabled && pthread_create(&th[started], NULL, measure_loop, orders) == 0)
                started++;
        }
    }
    atomic_store(&stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    unsigned never = 0, closed = 0, still = 0, ok = 0, busy = 0;
    uint64_t life_min = UINT64_MAX, life_max = 0;
    for (long i = 0; i < c->count; i++) {
        struct slot *sl = &slots[i];
        ok += sl->answered_ok;
        busy += sl->answered_503;
        if (!sl->connected) {
            never++;
        } else if (sl->fd < 0) {
            closed++;
            /* A connection whose SYN the kernel retried opened seconds after
             * its dial: the shortest life counts from the dial and the
             * longest from the open, so that delay can pass neither bound. */
            uint64_t shortest = sl->closed - sl->opened, longest = sl->closed - sl->connected_at;
            life_min = shortest < life_min ? shortest : life_min;
            life_max = longest > life_max ? longest : life_max;
        } else {
            still++;
            close(sl->fd);
        }
    }
    printf("connections=%ld dial_failed=%u never_connected=%u peak_open=%u closed_by_server=%u "
           "still_open=%u answered_200=%u answered_503=%u closed_after_ms_min=%llu "
           "closed_after_ms_max=%llu "
           "rss_kib=%ld connect_ms=%llu\n",
           c->count, dial_failed, never, peak_open, closed, still, ok, busy,
           (unsigned long long)(closed ? life_min : 0), (unsigned long long)life_max, rss,
           (unsigned long long)connect_ms);
    struct measure *ms[] = {hz, orders};
    const char *names[] = {"healthz", "orders"};
    for (int i = 0; i < 2; i++) {
        if (!ms[i]->enabled)
            continue;
        struct sample *s = &ms[i]->s;
        qsort(s->ms, s->n, sizeof *s->ms, cmp_double);
        printf("%s_ok=%u %s_failed=%u %s_p50_ms=%.2f %s_p99_ms=%.2f %s_max_ms=%.2f\n", names[i],
               ms[i]->ok, names[i], s->failed, names[i], pct(s, 0.5), names[i], pct(s, 0.99),
               names[i], s->n ? s->ms[s->n - 1] : 0.0);
        free(s->ms);
    }
    free(slots);
    close(ep);
    return 0;
}

/* ---- sample -------------------------------------------------------------- */

/* What `sample` records from /metrics: the sum of every series of `name`
 * whose labels contain `label` (NULL: any), from the order service or from
 * --inventory. Absent series print NA. */
struct column {
    const char *title;
    bool inventory;
    const char *name;
    const char *label;
};

static const struct column columns[] = {
    {"inflight", false, "commlab_inventory_inflight", NULL},
    {"inflight_limit", false, "commlab_inventory_inflight_limit", NULL},
    {"breaker_state", false, "commlab_inventory_breaker_state", NULL},
    {"inventory_calls", false, "commlab_inventory_calls_total", NULL},
    {"refused_overloaded", false, "commlab_orders_refused_overloaded_total", NULL},
    {"refused_circuit_open", false, "commlab_orders_refused_circuit_open_total", NULL},
    {"breaker_opened", false, "commlab_inventory_breaker_opened_total", NULL},
    {"breaker_half_opened", false, "commlab_inventory_breaker_half_opened_total", NULL},
    {"breaker_closed", false, "commlab_inventory_breaker_closed_total", NULL},
    {"orders_placed", false, "commlab_orders_placed_total", NULL},
    {"reserve_requests", true, "commlab_http_requests_total", "route=\"/reserve\""},
    {"reserve_deadline_expired", true, "commlab_reserve_deadline_expired_total", NULL},
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

/* Any IPv4 address or host name: the sampler is an ordinary client. Takes
 * HOST:PORT or http://HOST:PORT[/]. */
static int resolve(const char *target, struct sockaddr_in *sa)
{
    if (strncmp(target, "http://", 7) == 0)
        target += 7;
    char host[256];
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= sizeof host)
        return -1;
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = '\0';
    char port[8];
    size_t plen = strcspn(colon + 1, "/");
    if (plen == 0 || plen >= sizeof port)
        return -1;
    memcpy(port, colon + 1, plen);
    port[plen] = '\0';
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    memcpy(sa, res->ai_addr, sizeof *sa);
    freeaddrinfo(res);
    return 0;
}

struct conn {
    struct sockaddr_in to;
    int fd;
    char *buf;
    size_t cap;
};

/* GET `path` on a kept-alive connection (reopened when lost). Returns the
 * status, or -1 on timeout or a lost connection; the body is in c->buf from
 * *body_at. */
static int get(struct conn *c, const char *path, long timeout_ms, size_t *body_at)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    if (c->fd < 0) {
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        if (c->fd >= 0)
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        if (c->fd >= 0)
            setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&c->to, sizeof c->to) != 0)
            goto lost;
    }
    char req[256];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: sampler\r\n\r\n", path);
    if (send(c->fd, req, (size_t)len, MSG_NOSIGNAL) != len)
        goto lost;
    size_t got = 0;
    for (;;) {
        char *hdr_end = got ? strstr(c->buf, "\r\n\r\n") : NULL;
        if (hdr_end) {
            *hdr_end = '\0';
            const char *cl = strstr(c->buf, "Content-Length: ");
            *hdr_end = '\r';
            size_t head = (size_t)(hdr_end + 4 - c->buf);
            size_t want = head + (cl ? strtoul(cl + 16, NULL, 10) : 0);
            if (got >= want) {
                int status = atoi(c->buf + 9);
                *body_at = head;
                if (strstr(c->buf, "Connection: close")) {
                    close(c->fd);
                    c->fd = -1;
                }
                return status;
            }
        }
        if (got + 4096 >= c->cap) {
            size_t cap = c->cap * 2;
            char *b = cap <= (64u << 20) ? realloc(c->buf, cap) : NULL;
            if (!b)
                goto lost;
            c->buf = b;
            c->cap = cap;
        }
        uint64_t t = now_ms();
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (t >= end || poll(&p, 1, (int)(end - t)) <= 0)
            goto lost;
        ssize_t r = recv(c->fd, c->buf + got, c->cap - 1 - got, 0);
        if (r <= 0)
            goto lost;
        got += (size_t)r;
        c->buf[got] = '\0';
    }
lost:
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    return -1;
}

/* Sum of the series of `col` in a Prometheus text body; false if none. */
static bool metric_sum(const char *text, const struct column *col, double *out)
{
    size_t nlen = strlen(col->name);
    bool found = false;
    double sum = 0;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);
        if (llen > nlen && strncmp(line, col->name, nlen) == 0 &&
            (line[nlen] == '{' || line[nlen] == ' ')) {
            const char *value = memchr(line, ' ', llen);
            const char *close_brace = line[nlen] == '{' ? memchr(line, '}', llen) : NULL;
            bool labelled = !col->label;
            if (col->label && close_brace) {
                size_t lab = strlen(col->label);
                for (const char *p = line + nlen; p + lab <= close_brace && !labelled; p++)
                    labelled = strncmp(p, col->label, lab) == 0;
            }
            if (close_brace)
                value = memchr(close_brace, ' ', (size_t)(line + llen - close_brace));
            if (labelled && value) {
                sum += strtod(value + 1, NULL);
                found = true;
            }
        }
        line = eol ? eol + 1 : line + llen;
    }
    *out = sum;
    return found;
}

static volatile sig_atomic_t sample_stop;

static void on_stop(int sig)
{
    (void)sig;
    sample_stop = 1;
}

static int conn_init(struct conn *c, const char *target)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->cap = 65536;
    c->buf = malloc(c->cap);
    if (!c->buf || resolve(target, &c->to) != 0) {
        fprintf(stderr, "httpprobe sample: cannot resolve %s (HOST:PORT or http://HOST:PORT)\n",
                target);
        return -1;
    }
    return 0;
}

static int cmd_sample(const char *order, const char *inventory, long every_ms, long seconds,
                      long timeout_ms)
{
    struct conn hz, om, im;
    if (conn_init(&hz, order) || conn_init(&om, order) || (inventory && conn_init(&im, inventory)))
        return 2;
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("unix_ms\tt_ms\thealthz_ms\thealthz_status");
    for (size_t i = 0; i < NCOLUMNS; i++)
        printf("\t%s", columns[i].title);
    printf("\n");
    double start = now_ms_f();
    for (uint64_t n = 0; !sample_stop; n++) {
        double due = start + (double)n * (double)every_ms;
        if (seconds && due >= start + (double)seconds * 1000)
            break;
        double t = now_ms_f();
        if (due > t) {
            usleep((useconds_t)((due - t) * 1000));
            if (sample_stop)
                break;
        } else if (t - due > (double)every_ms) {
            continue; /* fell behind a whole slot: skip it rather than burst */
        }
        double t0 = now_ms_f();
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        size_t at = 0;
        int hs = get(&hz, "/healthz", timeout_ms, &at);
        double hms = now_ms_f() - t0;
        printf("%lld\t%.1f\t%.3f\t%d",
               (long long)wall.tv_sec * 1000 + (long long)(wall.tv_nsec / 1000000), t0 - start, hms,
               hs < 0 ? 0 : hs);
        const char *otext = get(&om, "/metrics", timeout_ms, &at) == 200 ? om.buf + at : NULL;
        char *ocopy = otext ? strdup(otext) : NULL;
        const char *itext =
            inventory && get(&im, "/metrics", timeout_ms, &at) == 200 ? im.buf + at : NULL;
        for (size_t i = 0; i < NCOLUMNS; i++) {
            const char *text = columns[i].inventory ? itext : ocopy;
            double v;
            if (text && metric_sum(text, &columns[i], &v))
                printf("\t%.15g", v);
            else
                printf("\tNA");
        }
        printf("\n");
        free(ocopy);
    }
    struct conn *cs[] = {&hz, &om, inventory ? &im : NULL};
    for (int i = 0; i < 3; i++) {
        if (!cs[i])
            continue;
        if (cs[i]->fd >= 0)
            close(cs[i]->fd);
        free(cs[i]->buf);
    }
    return 0;
}

static struct opt opts[] = {
    {"timeout-ms", "3000", "send: wait this long for the server to answer and close", false, NULL},
    {"from", NULL, "send: connect from this loopback address (127.x.y.z)", false, NULL},
    {"count", "1000", "hold: connections to open", false, NULL},
    {"mode", "idle",
     "hold: idle (send nothing), slow (a header line per interval), slow-body (a whole header, "
     "then a body byte per interval) or healthz",
     false, NULL},
    {"seconds", "5",
     "hold: keep them this long once all are open (healthz: until all are answered)", false, NULL},
    {"connect-seconds", "30", "hold: wait at most this long for every connection to open", false,
     NULL},
    {"interval-ms", "1000", "hold, slow: one header line per connection this often", false, NULL},
    {"healthz", NULL, "hold: HOST:PORT whose GET /healthz is timed meanwhile", false, NULL},
    {"orders", NULL, "hold: HOST:PORT of an order service to POST /order to meanwhile", false,
     NULL},
    {"order-interval-ms", "20", "hold: one order this often", false, NULL},
    {"rss-pid", "0", "hold: report this process's RSS once every connection is open", false, NULL},
    {"every-ms", "100", "sample: one line this often", false, NULL},
    {"inventory", NULL, "sample: HOST:PORT of inventory, whose /metrics is read too", false, NULL},
    {"for-seconds", "0", "sample: stop after this long (0: at SIGTERM or SIGINT)", false, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char usage[] =
    "usage: commlab-httpprobe send HOST:PORT < request-bytes\n"
    "       commlab-httpprobe hold HOST:PORT [--count N --mode idle|slow|slow-body|healthz ...]\n"
    "       commlab-httpprobe sample HOST:PORT [--inventory HOST:PORT --every-ms MS ...]\n"
    "Hostile and slow HTTP clients for the tests, loopback addresses only (sample: any).\n"
    "send prints every byte the server answers, then '-- closed by server' if it closed.\n"
    "hold prints key=value figures: connections closed by the server and after how long,\n"
    "/healthz and order latency (p50/p99/max) and failures while they were held.\n"
    "sample writes TSV to stdout, a line every --every-ms: the time (unix_ms, t_ms since the\n"
    "start), a timed GET /healthz (ms, status; 0: no answer within --timeout-ms) and gauges\n"
    "and counters of the order service's /metrics (and --inventory's), NA when absent.\n"
    "Any address: HOST:PORT or http://HOST:PORT.";

static int measure_init(struct measure *m, const char *hostport, const char *req, long interval,
                        int ok_status)
{
    memset(m, 0, sizeof *m);
    if (!hostport)
        return 0;
    m->enabled = true;
    m->req = req;
    m->interval_ms = interval;
    m->ok_status = ok_status;
    return loopback_addr(hostport, &m->to);
}

int main(int argc, char **argv)
{
    char **rest;
    int nrest;
    enum config_result cr = config_parse(opts, argc, argv, usage, &rest, &nrest);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    if (nrest != 2) {
        config_usage(opts, usage);
        return 2;
    }
    long timeout;
    if (config_long(opts, "timeout-ms", 1, 600000, &timeout))
        return 2;
    if (strcmp(rest[0], "send") == 0)
        return cmd_send(rest[1], config_str(opts, "from"), timeout);
    if (strcmp(rest[0], "sample") == 0) {
        long every, secs;
        if (config_long(opts, "every-ms", 10, 60000, &every) ||
            config_long(opts, "for-seconds", 0, 86400, &secs))
            return 2;
        return cmd_sample(rest[1], config_str(opts, "inventory"), every, secs,
                          timeout > 2000 ? 2000 : timeout);
    }
    if (strcmp(rest[0], "hold") != 0) {
        fprintf(stderr, "httpprobe: unknown command '%s' (send, hold or sample)\n", rest[0]);
        return 2;
    }
    struct hold_cfg c = {0};
    long order_interval;
    const char *mode = config_str(opts, "mode");
    c.mode = strcmp(mode, "slow") == 0        ? MODE_SLOW
             : strcmp(mode, "slow-body") == 0 ? MODE_SLOWBODY
             : strcmp(mode, "healthz") == 0   ? MODE_HEALTHZ
                                              : MODE_IDLE;
    if ((c.mode == MODE_IDLE && strcmp(mode, "idle") != 0) || loopback_addr(rest[1], &c.to) ||
        config_long(opts, "count", 1, 15000, &c.count) ||
        config_long(opts, "seconds", 1, 120, &c.seconds) ||
        config_long(opts, "connect-seconds", 1, 120, &c.connect_seconds) ||
        config_long(opts, "interval-ms", 10, 60000, &c.interval_ms) ||
        config_long(opts, "order-interval-ms", 1, 60000, &order_interval) ||
        config_long(opts, "rss-pid", 0, 1L << 30, &c.rss_pid)) {
        fprintf(stderr,
                "httpprobe hold: check --mode (idle, slow, slow-body, healthz) and the numbers\n");
        return 2;
    }
    static const char order_req[] =
        "POST /order HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n"
        "Content-Length: 51\r\n\r\n{\"user_id\":\"u1\",\"items\":[{\"sku\":\"burger\",\"qty\":1}]}";
    struct measure hz, orders;
    if (measure_init(&hz, config_str(opts, "healthz"),
                     "GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n", 10, 200) ||
        measure_init(&orders, config_str(opts, "orders"), order_req, order_interval, 201))
        return 2;
    return cmd_hold(&c, &hz, &orders);
}
