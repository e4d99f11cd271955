#include "transport/http_async.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/worker.h"

/* Keep-alive connections kept for reuse: above any bulkhead we run with. */
#define MAX_IDLE_CONNECTIONS 512L
/* Easy handles kept for the next calls rather than freed. */
#define MAX_SPARE_HANDLES 64

struct call {
    CURL *h;
    struct curl_slist *headers;
    char *body;
    struct http_result res;
    http_async_done_fn done;
    void *arg;
    struct call *next;
};

struct http_async {
    struct worker w;
    CURLM *multi;
    pthread_mutex_t mu;
    struct call *queued; /* submitted, not yet added to the multi handle */
    bool refusing;
    CURL *spare[MAX_SPARE_HANDLES];
    unsigned nspare;
};

static CURL *take_handle(struct http_async *a)
{
    pthread_mutex_lock(&a->mu);
    CURL *h = a->nspare ? a->spare[--a->nspare] : NULL;
    pthread_mutex_unlock(&a->mu);
    if (!h)
        return curl_easy_init();
    curl_easy_reset(h);
    return h;
}

static void give_back(struct http_async *a, CURL *h)
{
    pthread_mutex_lock(&a->mu);
    bool kept = a->nspare < MAX_SPARE_HANDLES;
    if (kept)
        a->spare[a->nspare++] = h;
    pthread_mutex_unlock(&a->mu);
    if (!kept)
        curl_easy_cleanup(h);
}

static int add_header(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);
    if (!n)
        return -1;
    *l = n;
    return 0;
}

/* Sets a call's handle up on the caller's thread: the handle is no other
 * thread's until it is queued. */
static int prepare(struct http_async *a, struct call *c, const struct http_async_request *req)
{
    if (!(c->h = take_handle(a)))
        return -1;
    char line[160];
    snprintf(line, sizeof line, "Content-Type: %s",
             req->content_type ? req->content_type : "application/json");
    /* No "Expect: 100-continue" round trip before larger bodies. */
    if (add_header(&c->headers, line) || add_header(&c->headers, "Expect:") ||
        (req->header && add_header(&c->headers, req->header)))
        return -1;
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_result_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->res);
    curl_easy_setopt(h, CURLOPT_PRIVATE, c);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 4096L);
    return 0;
}

static void call_free(struct http_async *a, struct call *c)
{
    if (c->h)
        give_back(a, c->h);
    curl_slist_free_all(c->headers);
    free(c->body);
    free(c);
}

int http_async_call(struct http_async *a, const struct http_async_request *req,
                    http_async_done_fn done, void *arg)
{
    if (!a)
        return -1;
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->done = done;
    c->arg = arg;
    c->body = malloc(req->body_len + 1);
    if (!c->body || prepare(a, c, req) != 0) {
        call_free(a, c);
        return -1;
    }
    memcpy(c->body, req->body, req->body_len);
    c->body[req->body_len] = '\0';
    pthread_mutex_lock(&a->mu);
    bool refused = a->refusing;
    if (!refused) {
        c->next = a->queued;
        a->queued = c;
    }
    pthread_mutex_unlock(&a->mu);
    if (refused) {
        call_free(a, c);
        return -1;
    }
    curl_multi_wakeup(a->multi);
    return 0;
}

static void finish(struct http_async *a, CURL *h, CURLcode rc)
{
    struct call *c = NULL;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
    curl_multi_remove_handle(a->multi, h);
    struct http_result *r = &c->res;
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        r->status = (int)status;
        r->failure = HTTP_ANSWERED;
    } else {
        http_result_free(r);
        r->failure = rc == CURLE_OPERATION_TIMEDOUT ? HTTP_TIMEOUT : HTTP_UNREACHABLE;
        snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(rc));
    }
    struct http_result out = *r;
    r->body = NULL;
    http_async_done_fn done = c->done;
    void *arg = c->arg;
    call_free(a, c);
    done(arg, &out);
}

static void client_loop(struct worker *w, void *arg)
{
    (void)w;
    struct http_async *a = arg;
    int running = 0;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        struct call *fresh = a->queued;
        a->queued = NULL;
        bool done = a->refusing && !fresh && running == 0;
        pthread_mutex_unlock(&a->mu);
        if (done)
            break;
        while (fresh) {
            struct call *next = fresh->next;
            if (curl_multi_add_handle(a->multi, fresh->h) != CURLM_OK) {
                fresh->res.failure = HTTP_UNREACHABLE;
                snprintf(fresh->res.error, sizeof fresh->res.error, "cannot start the call");
                http_async_done_fn cb = fresh->done;
                void *cb_arg = fresh->arg;
                struct http_result out = fresh->res;
                call_free(a, fresh);
                cb(cb_arg, &out);
            }
            fresh = next;
        }
        curl_multi_perform(a->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(a->multi, &left)))
            if (msg->msg == CURLMSG_DONE)
                finish(a, msg->easy_handle, msg->data.result);
        curl_multi_poll(a->multi, NULL, 0, 1000, NULL);
    }
}

struct http_async *http_async_start(const char *name)
{
    struct http_async *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    a->multi = curl_multi_init();
    if (!a->multi)
        goto fail;
    curl_multi_setopt(a->multi, CURLMOPT_MAXCONNECTS, MAX_IDLE_CONNECTIONS);
    if (worker_start(&a->w, name, client_loop, a) == 0)
        return a;
    curl_multi_cleanup(a->multi);
fail:
    pthread_mutex_destroy(&a->mu);
    free(a);
    return NULL;
}

void http_async_stop(struct http_async *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->refusing = true;
    pthread_mutex_unlock(&a->mu);
    curl_multi_wakeup(a->multi);
    worker_stop(&a->w);
}

void http_async_free(struct http_async *a)
{
    if (!a)
        return;
    http_async_stop(a);
    curl_multi_cleanup(a->multi);
    for (unsigned i = 0; i < a->nspare; i++)
        curl_easy_cleanup(a->spare[i]);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
