#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/worker.h"
#include "http_conns.h"
#include "http_gate.h"
#include "http_target.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

/* Descriptors kept for everything but client connections: the database, the
 * downstream clients, the brokers, the log. */
#define FD_RESERVE 256
/* A declared body over the limit but under this is answered 413 at once and
 * then read and dropped before the connection is closed: closing a socket
 * with unread data in it resets the connection, and the reset can destroy
 * the answer before the client has read it. A larger one is answered and
 * the connection closed at once. */
#define DISCARD_MAX (8u << 20)

/* The library's own strictness: 1 is its "more strict, within the limits the
 * RFCs set for servers" (1.0 refuses a NUL, a bare CR, obs-fold and a
 * missing Host itself); 0.9.75 has only the older switch, whose 1 refuses
 * HTTP/1.1 without Host and spaces in the target. fields_error checks the
 * rest on either. */
#if MHD_VERSION >= 0x00097701
#define STRICTNESS_OPTION MHD_OPTION_CLIENT_DISCIPLINE_LVL, (int)1
#else
#define STRICTNESS_OPTION MHD_OPTION_STRICT_FOR_CLIENT, (int)1
#endif

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_config cfg;
    uint16_t port;
    unsigned max_connections;
    char notice[256]; /* why max_connections is lower than asked; "" if it is not */
    struct http_conns conns;
    struct http_gate gate; /* accepts, and hands the library what can be HTTP */
    /* The handler pool's queue of suspended exchanges. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct http_exchange *head, *tail;
    bool stopping;
    struct worker *pool;
    unsigned npool;
};

enum exchange_state { EX_READING, EX_RUNNING, EX_READY, EX_ANSWERED };

struct http_exchange {
    struct http_server *s;
    struct MHD_Connection *conn;
    struct http_exchange *next; /* in the pool's queue */
    char *method;
    char *path;
    const char *content_type;
    char *body;
    size_t len, cap;
    uint64_t start_us;
    _Atomic int state;
    bool discard;             /* the body is over the limit: read, dropped, then 413 */
    struct http_response res; /* the answer once EX_READY */
    http_continue_fn cont;    /* set by http_deferred_continue */
    void *cont_arg;
};

void http_respond_text(struct http_response *res, int status, const char *content_type, char *body,
                       size_t len)
{
    free(res->body);
    res->status = status;
    res->content_type = content_type;
    res->body = body;
    res->body_len = len;
}

void http_respond(struct http_response *res, int status, char *body)
{
    http_respond_text(res, status, "application/json", body, body ? strlen(body) : 0);
}

static void observe(struct http_server *s, const char *route, int status, uint64_t start_us)
{
    if (s->cfg.observe)
        s->cfg.observe(s->cfg.observe_ctx, route ? route : "other", status,
                       start_us ? clock_mono_us() - start_us : 0);
}

static MHD_Result_t send_response(struct MHD_Connection *conn, struct http_response *res,
                                  bool close)
{
    if (!res->body) {
        /* Out of memory while building the answer: a bodiless 500 needs none. */
        res->status = res->status ? res->status : 500;
        res->body_len = 0;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (void *)"",
                                        res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    res->body = NULL;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type : "application/json");
    if (res->retry_after_s) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", res->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (res->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
    if (close)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    MHD_Result_t ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static char *error_json(const char *code, const char *message)
{
    char buf[320];
    snprintf(buf, sizeof buf, "{\"error\":\"%s\",\"message\":\"%s\"}", code, message);
    return strdup(buf);
}

/* An answer the server gives before any handler runs; the connection closes
 * after it, so nothing left unread on it can be taken for a request. */
static MHD_Result_t refuse(struct http_server *s, struct MHD_Connection *conn, int status,
                           const char *code, const char *message, uint64_t start_us)
{
    struct http_response res = {.status = status, .route = "other"};
    res.body = error_json(code, message);
    res.body_len = res.body ? strlen(res.body) : 0;
    observe(s, res.route, res.status, start_us);
    return send_response(conn, &res, true);
}

static int too_large_json(const struct http_server *s, char *buf, size_t size)
{
    return snprintf(buf, size,
                    "{\"error\":\"body_too_large\",\"message\":\"send at most %zu bytes\","
                    "\"limit_bytes\":%zu}",
                    s->cfg.max_body, s->cfg.max_body);
}

/* 413 for a declared body over the limit; the connection is closed after it. */
static MHD_Result_t answer_too_large(struct http_server *s, struct MHD_Connection *conn,
                                     uint64_t start_us)
{
    char body[160];
    too_large_json(s, body, sizeof body);
    struct http_response res = {.status = 413, .body = strdup(body), .route = "other"};
    res.body_len = res.body ? strlen(res.body) : 0;
    observe(s, res.route, res.status, start_us);
    return send_response(conn, &res, true);
}

/* Writes a 413 to the socket itself and shuts its sending side: the client
 * has its answer and the end of the stream at once, whatever the library
 * does with the connection afterwards. libmicrohttpd (0.9.75 and 1.0) queues
 * answers only before or after a body, never in the middle, so a body cut
 * while it arrives is answered this way. */
static void write_too_large(struct http_server *s, struct MHD_Connection *conn)
{
    char body[160], msg[400];
    int bl = too_large_json(s, body, sizeof body);
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     bl, body);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci && n > 0 && (size_t)n < sizeof msg) {
        ssize_t w = send(ci->connect_fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w; /* a client that cannot take 400 bytes is closed all the same */
        shutdown(ci->connect_fd, SHUT_WR);
    }
}

/* A body of undeclared size passed the limit while being read: answered,
 * and the library closes the connection; the rest is never read. */
static MHD_Result_t cut_body(struct http_exchange *ex)
{
    write_too_large(ex->s, ex->conn);
    observe(ex->s, "other", 413, ex->start_us);
    return MHD_NO;
}

struct framing {
    unsigned content_length, transfer_encoding;
    const char *te;
    const char *bad_cl;
};

static MHD_Result_t count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->content_length++;
        if (!value || !*value || strspn(value, "0123456789") != strlen(value))
            f->bad_cl = value ? value : "";
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te = value ? value : "";
    }
    return MHD_YES;
}

/* RFC 9112 section 6: one way to know where the body ends, or 400. A
 * repeated Content-Length is refused even when the values agree: the RFC
 * allows either, and a client that repeats it is broken or probing. */
static const char *framing_error(struct MHD_Connection *conn)
{
    struct framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.content_length > 1)
        return "send one Content-Length header, not several";
    if (f.content_length && f.transfer_encoding)
        return "send Content-Length or Transfer-Encoding, not both";
    if (f.transfer_encoding > 1 || (f.te && strcasecmp(f.te, "chunked") != 0))
        return "the only transfer coding accepted is chunked";
    if (f.bad_cl)
        return "Content-Length must be a decimal number";
    return NULL;
}

/* RFC 9110 5.5: a field value holds visible bytes, obs-text, SP and HTAB;
 * no NUL, CR, LF or other control. */
static bool is_field_vchar(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* RFC 3986 3.2.2-3.2.3: what a Host value (uri-host [":" port]) may hold. */
static bool is_host_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("-._~%!$&'()*+,;=:[]", c) != NULL);
}

struct fields {
    unsigned hosts, content_types;
    const char *why;
};

#if MHD_VERSION < 0x00097600
/* libmicrohttpd 0.9.75 and older parse the header in place: each value
 * ends where its line did, CR and LF both overwritten with NUL, and each
 * name is followed by its colon (also a NUL) and the value's leading
 * whitespace. Anything else means the library cut the line short: a NUL
 * inside the value (`50\0 00` is handed over as "50"), a bare CR or LF as
 * the line's end, or an obs-fold continuation, which it joins by moving
 * and lengthening the name. It reports none of these, and has no option
 * to refuse them (1.0 refuses them itself, see http_server_start). */
static bool cut_short(const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    uintptr_t after_name = (uintptr_t)name + nl + 1, at = (uintptr_t)value;
    if (value[vl + 1] != '\0' || at < after_name || at - after_name > 4096)
        return true;
    for (const char *p = name + nl + 1; p < value; p++)
        if (*p != ' ' && *p != '\t')
            return true;
    return false;
}
#endif

static MHD_Result_t check_field(void *cls, enum MHD_ValueKind kind, const char *name,
                                const char *value)
{
    (void)kind;
    struct fields *f = cls;
    if (!*name)
        f->why = "a header field with no name";
    for (const unsigned char *p = (const unsigned char *)name; *p && !f->why; p++)
        if (!http_is_tchar(*p))
            f->why = *p == ' ' || *p == '\t' ? "whitespace between a field name and its colon"
                                             : "a field name that is not a token";
    bool in_place = value != NULL; /* a NULL value is no line of the header */
    if (!value)
        value = "";
    for (const unsigned char *p = (const unsigned char *)value; *p && !f->why; p++)
        if (!is_field_vchar(*p))
            f->why = "a control character in a field value";
#if MHD_VERSION < 0x00097600
    if (!f->why && in_place && cut_short(name, value))
        f->why = "a NUL, a bare CR or LF, or a folded line (obs-fold) in the header";
#else
    (void)in_place;
#endif
    if (strcasecmp(name, MHD_HTTP_HEADER_CONTENT_TYPE) == 0)
        f->content_types++;
    if (strcasecmp(name, MHD_HTTP_HEADER_HOST) == 0) {
        f->hosts++;
        /* 0.9.75 keeps the whitespace after a value, which is not part of it. */
        size_t n = strlen(value);
        while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
            n--;
        for (size_t i = 0; i < n && !f->why; i++)
            if (!is_host_char((unsigned char)value[i]))
                f->why = "a Host that is not host[:port]";
    }
    return f->why ? MHD_NO : MHD_YES;
}

/* RFC 9112 5 and 3.2: field lines the library let through that the RFC
 * says a server must refuse with 400, and exactly one Host in HTTP/1.1
 * (at most one in 1.0). NULL when the header is sound. */
static const char *fields_error(struct MHD_Connection *conn, const char *version)
{
    struct fields f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, check_field, &f);
    if (f.why)
        return f.why;
    if (f.hosts > 1)
        return "send one Host header, not several";
    /* Which of two would be read is up to each reader: an intermediary and
     * this server could disagree on the body's type. */
    if (f.content_types > 1)
        return "send one Content-Type header, not several";
    if (f.hosts == 0 && version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
        return "an HTTP/1.1 request needs a Host header";
    return NULL;
}

static bool is_inline(const struct http_server *s, const char *path)
{
    for (const char *const *p = s->cfg.inline_paths; p && *p; p++)
        if (strcmp(*p, path) == 0)
            return true;
    return false;
}

/* True when the answer is ready; false when the handler deferred it (and ex
 * may be gone already). */
static bool run_handler(struct http_exchange *ex)
{
    struct http_request req = {
        .method = ex->method,
        .path = ex->path,
        .content_type = ex->content_type,
        .body = ex->body ? ex->body : "",
        .body_len = ex->len,
        .received_us = ex->start_us,
        .exchange = ex,
    };
    if (ex->body)
        ex->body[ex->len] = '\0';
    struct http_response res = {.status = 500, .exchange = ex};
    ex->s->cfg.handler(ex->s->cfg.ctx, &req, &res);
    if (res.deferred) {
        free(res.body);
        return false;
    }
    /* Counted when the handler is done, even if the client has gone by then. */
    observe(ex->s, res.route, res.status, ex->start_us);
    ex->res = res;
    atomic_store(&ex->state, EX_READY);
    return true;
}

struct http_deferred *http_defer(struct http_response *res)
{
    struct http_exchange *ex = res->exchange;
    res->deferred = true;
    /* On the polling thread (an inline handler) the connection is not
     * suspended yet; a pool handler's already is. */
    if (atomic_load(&ex->state) == EX_READING) {
        atomic_store(&ex->state, EX_RUNNING);
        MHD_suspend_connection(ex->conn);
    }
    return (struct http_deferred *)ex;
}

void http_deferred_finish(struct http_deferred *d, struct http_response *res)
{
    struct http_exchange *ex = (struct http_exchange *)d;
    ex->res = *res;
    ex->res.deferred = false;
    res->body = NULL;
    observe(ex->s, ex->res.route, ex->res.status, ex->start_us);
    atomic_store(&ex->state, EX_READY);
    MHD_resume_connection(ex->conn);
}

/* A continuation runs where a handler would and answers like one. */
static void run_continuation(struct http_exchange *ex)
{
    http_continue_fn fn = ex->cont;
    ex->cont = NULL;
    struct http_response res = {.status = 500, .exchange = ex};
    fn(ex->cont_arg, &res);
    if (res.deferred) {
        free(res.body);
        return;
    }
    http_deferred_finish((struct http_deferred *)ex, &res);
}

static void pool_loop(struct worker *w, void *arg)
{
    (void)w;
    struct http_server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        struct http_exchange *ex = s->head;
        if (!ex)
            break; /* stopping with nothing queued */
        s->head = ex->next;
        if (!s->head)
            s->tail = NULL;
        pthread_mutex_unlock(&s->mu);
        if (ex->cont)
            run_continuation(ex);
        else if (run_handler(ex))
            MHD_resume_connection(ex->conn);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

/* False once the pool is stopping: the caller then runs the work itself,
 * since a connection suspended with no thread left to resume it would make
 * stopping the daemon abort. Decided under the pool's lock, so an exchange
 * is either queued before the pool drains or not queued at all. `suspend`:
 * the connection is still the polling thread's, and is suspended here. */
static bool queue_exchange(struct http_server *s, struct http_exchange *ex, bool suspend)
{
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    if (suspend) {
        atomic_store(&ex->state, EX_RUNNING);
        MHD_suspend_connection(ex->conn);
    }
    ex->next = NULL;
    if (s->tail)
        s->tail->next = ex;
    else
        s->head = ex;
    s->tail = ex;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return true;
}

void http_deferred_continue(struct http_deferred *d, http_continue_fn fn, void *arg)
{
    struct http_exchange *ex = (struct http_exchange *)d;
    ex->cont = fn;
    ex->cont_arg = arg;
    if (!queue_exchange(ex->s, ex, false))
        run_continuation(ex); /* the pool is stopping: no thread is left to wait for */
}

const char *http_request_header(const struct http_request *req, const char *name, size_t *len)
{
    const char *v = req->exchange
                        ? MHD_lookup_connection_value(req->exchange->conn, MHD_HEADER_KIND, name)
                        : NULL;
    size_t n = v ? strlen(v) : 0;
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *len = n;
    return v;
}

struct header_count {
    const char *name;
    unsigned n;
};

static MHD_Result_t count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    (void)value;
    struct header_count *c = cls;
    c->n += strcasecmp(key, c->name) == 0;
    return MHD_YES;
}

unsigned http_request_header_count(const struct http_request *req, const char *name)
{
    struct header_count c = {name, 0};
    if (req->exchange)
        MHD_get_connection_values(req->exchange->conn, MHD_HEADER_KIND, count_header, &c);
    return c.n;
}

struct arg_walk {
    http_arg_fn fn;
    void *ctx;
};

static MHD_Result_t walk_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct arg_walk *w = cls;
    w->fn(w->ctx, key, value);
    return MHD_YES;
}

void http_request_args(const struct http_request *req, http_arg_fn fn, void *ctx)
{
    struct arg_walk w = {fn, ctx};
    if (req->exchange)
        MHD_get_connection_values(req->exchange->conn, MHD_GET_ARGUMENT_KIND, walk_arg, &w);
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static MHD_Result_t answer(struct http_exchange *ex)
{
    atomic_store(&ex->state, EX_ANSWERED);
    http_conns_phase(conn_of(ex->conn), CONN_SENDING);
    return send_response(ex->conn, &ex->res, false);
}

static MHD_Result_t first_call(struct http_server *s, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, void **con_cls)
{
    uint64_t start = clock_mono_us();
    http_conns_phase(conn_of(conn), CONN_BODY);
    const char *why = fields_error(conn, version);
    if (why)
        return refuse(s, conn, 400, "bad_header", why, start);
    why = framing_error(conn);
    if (why)
        return refuse(s, conn, 400, "bad_framing", why, start);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    bool discard = declared > s->cfg.max_body && declared <= DISCARD_MAX;
    if (declared > s->cfg.max_body && !discard)
        return answer_too_large(s, conn, start);
    struct http_exchange *ex = calloc(1, sizeof *ex);
    if (!ex)
        return MHD_NO;
    *con_cls = ex;
    ex->s = s;
    ex->conn = conn;
    ex->start_us = start;
    if (discard) {
        /* Answered now; its body is still read, and dropped (DISCARD_MAX). */
        write_too_large(s, conn);
        observe(s, "other", 413, start);
        ex->discard = true;
        atomic_store(&ex->state, EX_ANSWERED);
        return MHD_YES;
    }
    int rc = http_target_decode(url, &ex->path, &why);
    if (rc == -2)
        return MHD_NO;
    if (rc != 0) {
        atomic_store(&ex->state, EX_ANSWERED);
        return refuse(s, conn, 400, "bad_target", why, start);
    }
    /* HEAD is GET without the body (RFC 9110 9.3.2); the library drops the body. */
    ex->method = strdup(strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method);
    if (!ex->method)
        return MHD_NO;
    ex->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    return MHD_YES;
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct http_exchange *ex = *con_cls;
    if (!ex)
        return first_call(s, conn, url, method, version, con_cls);
    if (ex->discard) {
        if (*upload_size) {
            *upload_size = 0;
            return MHD_YES;
        }
        return MHD_NO; /* all of it read: closed with nothing left unread */
    }
    int state = atomic_load(&ex->state);
    if (state == EX_READY)
        return answer(ex);
    if (state != EX_READING)
        return MHD_YES; /* already answered (an early refusal) */
    if (*upload_size) {
        if (ex->len + *upload_size > s->cfg.max_body)
            return cut_body(ex);
        if (ex->len + *upload_size + 1 > ex->cap) {
            size_t cap = ex->cap ? ex->cap : 1024;
            while (cap < ex->len + *upload_size + 1)
                cap *= 2;
            char *nb = realloc(ex->body, cap);
            if (!nb)
                return MHD_NO;
            ex->body = nb;
            ex->cap = cap;
        }
        memcpy(ex->body + ex->len, upload, *upload_size);
        ex->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    http_conns_phase(conn_of(conn), CONN_BUSY);
    if (!is_inline(s, ex->path) && queue_exchange(s, ex, true))
        return MHD_YES;
    return run_handler(ex) ? answer(ex) : MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)code;
    http_conns_phase(conn_of(conn), CONN_IDLE);
    struct http_exchange *ex = *con_cls;
    if (ex) {
        free(ex->res.body);
        free(ex->method);
        free(ex->path);
        free(ex->body);
        free(ex);
        *con_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? http_conns_add(&s->conns, ci->connect_fd) : NULL;
    } else {
        http_conns_remove(&s->conns, *socket_context);
        *socket_context = NULL;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        http_gate_closed(&s->gate, ci ? ci->client_addr : NULL);
    }
}

/* The library's own error answers (framing it refuses before any handler
 * runs) reach the application only as this log line: count them by status. */
static void on_library_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    static const char prefix[] = "Error processing request (HTTP response code is %u";
    if (strncmp(fmt, prefix, sizeof prefix - 1) == 0) {
        va_list copy;
        va_copy(copy, ap);
        unsigned status = va_arg(copy, unsigned);
        va_end(copy);
        observe(s, "library", (int)status, 0);
        return;
    }
    /* A flood of hostile clients means a flood of these: a few a second. */
    static _Atomic uint64_t window, lines, dropped;
    uint64_t sec = clock_mono_us() / 1000000;
    if (atomic_exchange(&window, sec) != sec)
        atomic_store(&lines, 0);
    if (atomic_fetch_add(&lines, 1) >= 5) {
        atomic_fetch_add(&dropped, 1);
        return;
    }
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    uint64_t more = atomic_exchange(&dropped, 0);
    if (!s->cfg.log)
        return;
    char msg[600];
    if (more)
        snprintf(msg, sizeof msg, "libmicrohttpd: %s (and %llu similar messages not shown)", line,
                 (unsigned long long)more);
    else
        snprintf(msg, sizeof msg, "libmicrohttpd: %s", line);
    s->cfg.log(msg);
}

/* The library hands us the target as sent; http_target_decode does the
 * decoding, so that a percent-encoded NUL cannot cut the path short. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    return strlen(uri);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return -1;
    char host[256];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon[1] == '\0')
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (hl == 0 || strcmp(host, "*") == 0) {
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    if (inet_pton(AF_INET, host, &sa->sin_addr) == 1)
        return 0;
    struct addrinfo hints = {.ai_family = AF_INET}, *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
        return -1;
    sa->sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
    freeaddrinfo(ai);
    return 0;
}

/* Raises the open-files limit as far as the hard limit allows and returns
 * the connection limit that fits under it (saying why in `notice` when that
 * is less than `wanted`). */
static unsigned fit_connections(unsigned wanted, char *notice, size_t len)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return wanted;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)wanted + FD_RESERVE)
        return wanted;
    unsigned fit = rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE)
                                                : (unsigned)(rl.rlim_cur / 2);
    snprintf(notice, len,
             "open-files limit is %llu: serving at most %u connections instead of %u "
             "(raise it with ulimit -n or LimitNOFILE=)",
             (unsigned long long)rl.rlim_cur, fit, wanted);
    return fit;
}

static void stop_pool(struct http_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < s->npool; i++)
        worker_stop(&s->pool[i]);
    free(s->pool);
    s->pool = NULL;
    s->npool = 0;
}

static int start_pool(struct http_server *s, unsigned n)
{
    s->pool = calloc(n, sizeof *s->pool);
    if (!s->pool)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        if (worker_start(&s->pool[i], "http-handler", pool_loop, s) != 0)
            return -1;
        s->npool++;
    }
    return 0;
}

static bool pass_to_library(void *ctx, int fd, const struct sockaddr_in *from)
{
    struct http_server *s = ctx;
    return MHD_add_connection(s->daemon, fd, (const struct sockaddr *)from, sizeof *from) ==
           MHD_YES;
}

static void observe_gate(void *ctx, int status)
{
    observe(ctx, "other", status, 0);
}

static void count_gate(void *ctx, const char *name, const char *help)
{
    struct http_server *s = ctx;
    if (s->cfg.count)
        s->cfg.count(s->cfg.observe_ctx, name, help);
}

static int listen_on(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)sa, sizeof *sa) != 0 || listen(fd, 4096) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The library's daemon, polling the connections the gate passes it. */
static struct MHD_Daemon *start_library(struct http_server *s)
{
    const struct http_limits *lim = &s->cfg.limits;
    /* Connections come from the gate (http_gate.h), which also keeps the
     * per-client cap; the library's limit is only a backstop. */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     MHD_USE_NO_LISTEN_SOCKET;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_library_log, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, s, MHD_OPTION_CONNECTION_TIMEOUT,
        lim->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT, s->max_connections,
        /* Per-connection pool for headers and buffers; bodies are copied out. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024), STRICTNESS_OPTION,
        /* A pool only for 2 or more threads: a size of 0 or 1 makes the
         * library log a warning at every start. With one thread the list
         * ends here (MHD_OPTION_END), and the size after it is not read. */
        lim->poll_threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, lim->poll_threads,
        MHD_OPTION_END);
}

/* The gate accepting on `lfd` and passing connections to the library. */
static int start_gate(struct http_server *s, int lfd)
{
    const struct http_limits *lim = &s->cfg.limits;
    struct http_gate_config gc = {
        .listen_fd = lfd,
        .max_connections = s->max_connections,
        .max_per_client = lim->max_per_client,
        .first_byte_ms = lim->header_timeout_ms,
        .pass = pass_to_library,
        .observe = observe_gate,
        .count = count_gate,
        .ctx = s,
    };
    return http_gate_start(&s->gate, &gc);
}

struct http_server *http_server_start(const struct http_server_config *cfg, char *err,
                                      size_t errlen)
{
    struct sockaddr_in sa;
    if (parse_listen(cfg->listen, &sa) != 0) {
        snprintf(err, errlen, "listen address '%s' is not HOST:PORT (for example 127.0.0.1:8080)",
                 cfg->listen);
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    const struct http_limits *lim = &cfg->limits;
    s->max_connections = fit_connections(lim->max_connections, s->notice, sizeof s->notice);
    if (http_conns_start(&s->conns, lim->header_timeout_ms, lim->body_timeout_ms,
                         s->cfg.count ? (http_conns_count_fn)s->cfg.count : NULL,
                         s->cfg.observe_ctx) != 0 ||
        start_pool(s, lim->handler_threads ? lim->handler_threads : 1) != 0) {
        snprintf(err, errlen, "cannot start the HTTP server's threads");
        goto fail;
    }
    int lfd = listen_on(&sa);
    if (lfd < 0) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host?)",
                 cfg->listen);
        goto fail;
    }
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    s->port = getsockname(lfd, (struct sockaddr *)&bound, &blen) == 0 ? ntohs(bound.sin_port)
                                                                      : ntohs(sa.sin_port);
    s->daemon = start_library(s);
    if (!s->daemon || start_gate(s, lfd) != 0) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", cfg->listen);
        close(lfd);
        if (s->daemon)
            MHD_stop_daemon(s->daemon);
        goto fail;
    }
    return s;
fail:
    stop_pool(s);
    http_conns_stop(&s->conns);
    http_conns_free(&s->conns);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

unsigned http_server_max_connections(const struct http_server *s)
{
    return s->max_connections;
}

void http_server_describe(const struct http_server *s, char *buf, size_t len)
{
    const struct http_limits *lim = &s->cfg.limits;
    snprintf(buf, len,
             "libmicrohttpd %s, up to %u connections (%u per client address), "
             "%u handler threads, header/body deadlines %u/%u ms, idle timeout %u s",
             MHD_get_version(), s->max_connections, lim->max_per_client, s->npool,
             lim->header_timeout_ms, lim->body_timeout_ms, lim->idle_timeout_s);
}

const char *http_server_notice(const struct http_server *s)
{
    return s->notice[0] ? s->notice : NULL;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    /* Handlers finish what is queued (each resumes its connection), then the
     * library closes every connection. */
    http_gate_stop(&s->gate);
    stop_pool(s);
    /* The answers resumed last may still be being written: stopping the
     * library now would cut them off. */
    for (int i = 0; i < 200 && http_conns_answering(&s->conns) > 0; i++)
        clock_sleep_us(10000);
    http_conns_stop(&s->conns);
    MHD_stop_daemon(s->daemon);
    http_gate_free(&s->gate);
    http_conns_free(&s->conns);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
