#include "http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers larger than this are cut off: no peer of ours sends one. */
#define MAX_ANSWER (4u << 20)

static pthread_key_t handle_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
    curl_easy_cleanup(h);
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
    CURL *h = pthread_getspecific(handle_key);
    if (h) {
        curl_easy_cleanup(h);
        pthread_setspecific(handle_key, NULL);
    }
    curl_global_cleanup();
}

static CURL *thread_handle(void)
{
    CURL *h = pthread_getspecific(handle_key);
    if (!h) {
        h = curl_easy_init();
        if (!h || pthread_setspecific(handle_key, h) != 0) {
            curl_easy_cleanup(h);
            return NULL;
        }
    }
    return h;
}

static size_t on_data(char *data, size_t size, size_t n, void *ud)
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
    CURL *h = thread_handle();
    if (!h)
        return -1;
    curl_easy_reset(h);
    struct curl_slist *headers = NULL;
    char ct[128];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, ct);
    }
    /* No "Expect: 100-continue" round trip before larger bodies. */
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    /* One handle per thread: the 64 KiB default upload buffer, times a thread
     * per connection, would dominate a service's heap for sub-KiB bodies. */
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 4096L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
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
