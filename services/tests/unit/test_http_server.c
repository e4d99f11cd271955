/* The HTTP server over a real loopback socket: an answer given later, from
 * another thread (http_defer), by a pooled handler and by an inline one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport/http_server.h"
#include "check.h"
#include "loopback.h"

struct later {
    struct http_deferred *d;
    int status;
};

static void *finish_later(void *arg)
{
    struct later *l = arg;
    usleep(50 * 1000);
    struct http_response res = {.route = "/later"};
    http_respond(&res, l->status, strdup("{\"later\":true}"));
    http_deferred_finish(l->d, &res);
    free(l);
    return NULL;
}

static void handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    (void)ctx;
    if (strcmp(req->path, "/later") == 0 || strcmp(req->path, "/inline-later") == 0) {
        struct later *l = malloc(sizeof *l);
        l->status = strcmp(req->path, "/later") == 0 ? 202 : 203;
        l->d = http_defer(res);
        pthread_t t;
        pthread_create(&t, NULL, finish_later, l);
        pthread_detach(t);
        return;
    }
    http_respond(res, strcmp(req->method, "GET") == 0 ? 200 : 405, strdup("{}"));
}

/* One request on a fresh connection; the status of the answer, -1 if none. */
int main(void)
{
    const char *const inline_paths[] = {"/inline-later", NULL};
    struct http_server_config cfg = loopback_config(handle);
    cfg.inline_paths = inline_paths;
    char err[HTTP_ERR_LEN] = "";
    struct http_server *s = http_server_start(&cfg, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return check_summary("test_http_server");
    uint16_t port = http_server_port(s);
    char buf[2048];
    CHECK(loopback_get(port, "/now", buf, sizeof buf) == 200);
    CHECK(loopback_get(port, "/later", buf, sizeof buf) == 202);
    CHECK(strstr(buf, "{\"later\":true}") != NULL);
    CHECK(loopback_get(port, "/inline-later", buf, sizeof buf) == 203);
    CHECK(strstr(buf, "{\"later\":true}") != NULL);
    CHECK(loopback_get(port, "/now%00", buf, sizeof buf) == 400);
    http_server_stop(s);
    /* Errors come back in err, not in a log. */
    cfg.listen = "no-port";
    err[0] = '\0';
    CHECK(http_server_start(&cfg, err, sizeof err) == NULL);
    CHECK(strstr(err, "is not HOST:PORT") != NULL);
    return check_summary("test_http_server");
}
