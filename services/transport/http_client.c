#include "http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers larger than this are cut off: no peer of ours sends one. */
#define MAX_ANSWER (4u << 20)

/* A thread's handle, set up once: only what differs per call is set per call. */
struct thread_client {
    CURL *h;
    struct curl_slist *headers; /* for content_type below */
    char content_type[96];
};

static pthread_key_t handle_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void handle_free(void *p)
{
    struct thread_client *c = p;
    curl_easy_cleanup(c->h);
    curl_slist_free_all(c->headers);
    free(c);
}

static void make_key(void)
{
    pthread_key_create(&handle_key, handle_free);
}

int http_client_init(void)
{
    pthread_once(&key_once, make_key);
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_client_cleanup(void)
{
    struct thread_client *c = pthread_getspecific(handle_key);
    if (c) {
        handle_free(c);
        pthread_setspecific(handle_key, NULL);
    }
    curl_global_cleanup();
}

static struct thread_client *thread_client(void)
{
    struct thread_client *c = pthread_getspecific(handle_key);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c || !(c->h = curl_easy_init()) || pthread_setspecific(handle_key, c) != 0) {
        if (c)
            curl_easy_cleanup(c->h);
        free(c);
        return NULL;
    }
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, http_result_write);
    /* One handle per thread: the 64 KiB default upload buffer, times a thread
     * per connection, would dominate a service's heap for sub-KiB bodies. */
    curl_easy_setopt(c->h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    curl_easy_setopt(c->h, CURLOPT_BUFFERSIZE, 4096L);
    return c;
}

/* The header list for a content type, rebuilt only when it changes. */
static int use_headers(struct thread_client *c, const char *content_type)
{
    const char *ct = content_type ? content_type : "";
    if (c->headers && strcmp(c->content_type, ct) == 0)
        return 0;
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    snprintf(c->content_type, sizeof c->content_type, "%s", ct);
    if (content_type) {
        char line[128];
        snprintf(line, sizeof line, "Content-Type: %s", content_type);
        c->headers = curl_slist_append(c->headers, line);
    }
    /* No "Expect: 100-continue" round trip before larger bodies. */
    struct curl_slist *l = curl_slist_append(c->headers, "Expect:");
    if (!l)
        return -1;
    c->headers = l;
    return curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK ? 0 : -1;
}

size_t http_result_write(char *data, size_t size, size_t n, void *ud)
{
    struct http_result *r = ud;
    size_t len = size * n;
    if (r->body_len + len > MAX_ANSWER)
        return 0;
    char *nb = realloc(r->body, r->body_len + len + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->body_len, data, len);
    r->body = nb;
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return len;
}

int http_call(const char *method, const char *url, const char *content_type, const char *body,
              size_t body_len, long timeout_ms, struct http_result *out)
{
    memset(out, 0, sizeof *out);
    struct thread_client *c = thread_client();
    if (!c || use_headers(c, content_type) != 0)
        return -1;
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    /* GET and POST follow from the body; anything else is named. */
    bool named = strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0;
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, named ? method : NULL);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        out->status = (int)status;
        out->failure = HTTP_ANSWERED;
        return 0;
    }
    free(out->body);
    out->body = NULL;
    out->body_len = 0;
    out->failure = rc == CURLE_OPERATION_TIMEDOUT ? HTTP_TIMEOUT : HTTP_UNREACHABLE;
    snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
    return 0;
}

void http_result_free(struct http_result *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
