#include "http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/util/clock.h"
#include "../core/util/log.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_config cfg;
    uint16_t port;
};

struct pending {
    char *body;
    size_t len;
    size_t cap;
    int too_large;
    uint64_t start_us;
};

void http_respond_text(struct http_response *res, int status, const char *content_type,
                       char *body, size_t len)
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

static MHD_Result_t send_response(struct http_server *s, struct MHD_Connection *conn,
                                  struct http_response *res, uint64_t start_us)
{
    if (!res->body) {
        /* Out of memory while building the answer: a bodiless 500 needs none. */
        res->status = res->status ? res->status : 500;
        res->body_len = 0;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        res->body_len, res->body ? res->body : (void *)"", res->body ? MHD_RESPMEM_MUST_FREE
                                                                     : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(res->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type : "application/json");
    MHD_Result_t ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    if (s->cfg.observe)
        s->cfg.observe(s->cfg.observe_ctx, res->route ? res->route : "other", res->status,
                       clock_mono_us() - start_us);
    return ok;
}

static MHD_Result_t too_large(struct http_server *s, struct MHD_Connection *conn, uint64_t start)
{
    char msg[96];
    snprintf(msg, sizeof msg, "{\"error\":\"body_too_large\",\"limit_bytes\":%zu}",
             s->cfg.max_body);
    struct http_response res = {.status = 413, .body = strdup(msg), .route = "other"};
    res.body_len = res.body ? strlen(res.body) : 0;
    return send_response(s, conn, &res, start);
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct pending *p = *con_cls;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        p->start_us = clock_mono_us();
        *con_cls = p;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body) {
            p->too_large = 1; /* answer now: no need to read a body we refuse */
            return too_large(s, conn, p->start_us);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!p->too_large && p->len + *upload_size <= s->cfg.max_body) {
            if (p->len + *upload_size + 1 > p->cap) {
                size_t cap = p->cap ? p->cap : 1024;
                while (cap < p->len + *upload_size + 1)
                    cap *= 2;
                char *nb = realloc(p->body, cap);
                if (!nb)
                    return MHD_NO;
                p->body = nb;
                p->cap = cap;
            }
            memcpy(p->body + p->len, upload, *upload_size);
            p->len += *upload_size;
        } else {
            p->too_large = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (p->too_large)
        return too_large(s, conn, p->start_us);
    struct http_request req = {
        .method = method,
        .path = url,
        .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
        .body = p->body ? p->body : "",
        .body_len = p->len,
    };
    if (p->body)
        p->body[p->len] = '\0';
    struct http_response res = {.status = 500};
    s->cfg.handler(s->cfg.ctx, &req, &res);
    return send_response(s, conn, &res, p->start_us);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    struct pending *p = *con_cls;
    if (p) {
        free(p->body);
        free(p);
        *con_cls = NULL;
    }
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

struct http_server *http_server_start(const struct http_server_config *cfg)
{
    struct sockaddr_in sa;
    if (parse_listen(cfg->listen, &sa) != 0) {
        log_error("listen address '%s' is not HOST:PORT (for example 127.0.0.1:8080)",
                  cfg->listen);
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    s->daemon = MHD_start_daemon(
        flags, ntohs(sa.sin_port), NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1000, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
        /* Per-connection pool for headers and buffers; bodies are copied out. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024), MHD_OPTION_END);
    if (!s->daemon) {
        log_error("cannot listen on %s (in use, or not an address of this host?)", cfg->listen);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : ntohs(sa.sin_port);
    return s;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
