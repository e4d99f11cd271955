/* A request's query string, read strictly against the parameters a route
 * takes: every name known, each at most once, each with a value; names and
 * values percent-decoded (user%5Fid is user_id) with no NUL or control byte;
 * a parameter with no name ("=5", "=") refused; empty sequences ("&&")
 * hold none. */
#ifndef COMMLAB_HTTP_QUERY_H
#define COMMLAB_HTTP_QUERY_H

#include <stdbool.h>

#include "http_server.h"

#define HTTP_QUERY_MAX 8
#define HTTP_QUERY_VALUE_MAX 256

struct http_query {
    const char *const *names; /* NULL-terminated: the parameters the route takes */
    bool present[HTTP_QUERY_MAX];
    char value[HTTP_QUERY_MAX][HTTP_QUERY_VALUE_MAX + 1];
    char bad[48];    /* the parameter refused ("query" when its name is unprintable) */
    const char *why; /* static text */
};

/* 0, or -1 with q->bad and q->why set (the first fault, in the order sent). */
int http_query_read(const struct http_request *req, const char *const *names, struct http_query *q);
/* The decoded value, or NULL when the parameter was not given. */
const char *http_query_get(const struct http_query *q, const char *name);

#endif
