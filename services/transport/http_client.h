/* HTTP client over libcurl. Each thread keeps one handle, so connections to
 * a downstream service are reused (keep-alive) and a dead one (the peer
 * restarted) is replaced on the next call. */
#ifndef COMMLAB_HTTP_CLIENT_H
#define COMMLAB_HTTP_CLIENT_H

#include <stddef.h>

enum http_failure {
    HTTP_ANSWERED,    /* status holds the peer's answer */
    HTTP_TIMEOUT,     /* no complete answer within the timeout */
    HTTP_UNREACHABLE, /* connection refused or peer gone mid-request */
};

struct http_result {
    enum http_failure failure;
    int status;
    char *body; /* NUL-terminated, malloc'd; free with http_result_free */
    size_t body_len;
    char error[128];
};

int http_client_init(void);
void http_client_cleanup(void);
/* `content_type` may be NULL for no body. Returns 0 when the exchange took
 * place as described by `out` (any status or failure), -1 on local errors. */
int http_call(const char *method, const char *url, const char *content_type, const char *body,
              size_t body_len, long timeout_ms, struct http_result *out);
void http_result_free(struct http_result *r);
/* libcurl write callback appending to the http_result at `ud` (capped). */
size_t http_result_write(char *data, size_t size, size_t n, void *ud);

#endif
