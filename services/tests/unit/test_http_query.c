/* Query parameters as a route reads them (http_query), over a real loopback
 * socket: what libmicrohttpd hands over, decoded and checked. Each answer
 * is "ok" and the values read, or the parameter refused and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/http_query.h"
#include "check.h"
#include "loopback.h"

static void handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    (void)ctx;
    static const char *const names[] = {"limit", "after", "user_id", NULL};
    struct http_query q;
    char out[1024];
    if (http_query_read(req, names, &q) != 0) {
        snprintf(out, sizeof out, "bad %s: %s", q.bad, q.why);
    } else {
        const char *l = http_query_get(&q, "limit"), *a = http_query_get(&q, "after"),
                   *u = http_query_get(&q, "user_id");
        snprintf(out, sizeof out, "ok limit=%s after=%s user_id=%s", l ? l : "-", a ? a : "-",
                 u ? u : "-");
    }
    http_respond_text(res, 200, "text/plain", strdup(out), strlen(out));
}

/* The answer's body to GET TARGET on a fresh connection, into body. */
static void get(uint16_t port, const char *target, char *body, size_t size)
{
    char raw[4096];
    loopback_get(port, target, raw, sizeof raw);
    const char *b = strstr(raw, "\r\n\r\n");
    snprintf(body, size, "%s", b ? b + 4 : "");
}

static const struct {
    const char *target, *want;
} cases[] = {
    {"/l", "ok limit=- after=- user_id=-"},
    {"/l?", "ok limit=- after=- user_id=-"},
    {"/l?limit=5", "ok limit=5 after=- user_id=-"},
    {"/l?limit=5&after=c61&user_id=u1", "ok limit=5 after=c61 user_id=u1"},
    {"/l?user_id=u%31", "ok limit=- after=- user_id=u1"},
    {"/l?user_id=%41%62", "ok limit=- after=- user_id=Ab"},
    {"/l?user_id=a+b", "ok limit=- after=- user_id=a b"},
    {"/l?user_id=%C3%A9", "ok limit=- after=- user_id=\xc3\xa9"},
    {"/l?limit=5&", "ok limit=5 after=- user_id=-"},
    {"/l?&&limit=5&&", "ok limit=5 after=- user_id=-"},
    {"/l?limit=1&limit=2", "bad limit: given more than once"},
    {"/l?limit=1&limit=1", "bad limit: given more than once"},
    {"/l?limit", "bad limit: needs a value (name=value)"},
    {"/l?limit=", "bad limit: needs a value (name=value)"},
    {"/l?foo=1", "bad foo: unknown parameter"},
    {"/l?Limit=1", "bad Limit: unknown parameter"},
    /* Names are percent-decoded as values are. */
    {"/l?user%5Fid=u1", "ok limit=- after=- user_id=u1"},
    {"/l?%6C%69%6D%69%74=7", "ok limit=7 after=- user_id=-"},
    {"/l?li%6Dit=5&limit=5", "bad limit: given more than once"},
    {"/l?lim%00it=1", "bad lim%00it: holds a NUL or control character (raw or percent-encoded)"},
    {"/l?%zz=1", "bad %zz: malformed percent escape"},
    {"/l?user%5Fid%3D=u1", "bad user%5Fid%3D: unknown parameter"},
    /* A parameter with no name is refused, with or without a value. */
    {"/l?=1", "bad query: a parameter with no name"},
    {"/l?=", "bad query: a parameter with no name"},
    {"/l?=&limit=5", "bad query: a parameter with no name"},
    {"/l?limit=5&=", "bad query: a parameter with no name"},
    {"/l?&", "ok limit=- after=- user_id=-"},
    {"/l?limit=5%00", "bad limit: holds a NUL or control character (raw or percent-encoded)"},
    {"/l?user_id=%00", "bad user_id: holds a NUL or control character (raw or percent-encoded)"},
    {"/l?user_id=a%0Ab", "bad user_id: holds a NUL or control character (raw or percent-encoded)"},
    {"/l?user_id=a%7F", "bad user_id: holds a NUL or control character (raw or percent-encoded)"},
    {"/l?user_id=%ZZ", "bad user_id: malformed percent escape"},
    {"/l?user_id=%4", "bad user_id: malformed percent escape"},
    {"/l?user_id=%", "bad user_id: malformed percent escape"},
    {"/l?foo=1&limit=1&limit=2", "bad foo: unknown parameter"},
};

int main(void)
{
    struct http_server_config cfg = loopback_config(handle);
    char err[HTTP_ERR_LEN] = "";
    struct http_server *s = http_server_start(&cfg, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return check_summary("test_http_query");
    uint16_t port = http_server_port(s);
    char body[2048];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        get(port, cases[i].target, body, sizeof body);
        CHECK_STR(body, cases[i].want);
    }
    /* Values are bounded: 256 bytes decoded, not one more. */
    char target[700] = "/l?user_id=";
    memset(target + strlen(target), 'a', 256);
    get(port, target, body, sizeof body);
    CHECK(strncmp(body, "ok limit=- after=- user_id=aaaa", 31) == 0);
    strcat(target, "a");
    get(port, target, body, sizeof body);
    CHECK_STR(body, "bad user_id: longer than 256 bytes");
    /* So are names: one too long to print is named "query". */
    char name[700] = "/l?";
    memset(name + strlen(name), 'n', 300);
    strcat(name, "=1");
    get(port, name, body, sizeof body);
    CHECK_STR(body, "bad query: longer than 256 bytes");
    http_server_stop(s);
    return check_summary("test_http_query");
}
