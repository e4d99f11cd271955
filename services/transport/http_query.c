#include "http_query.h"

#include <stdio.h>
#include <string.h>

#include "http_target.h"

static void refuse(struct http_query *q, const char *name, const char *why)
{
    if (q->why)
        return; /* the first fault is the one reported */
    bool printable = name[0] != '\0' && strlen(name) < sizeof q->bad;
    for (const char *p = name; printable && *p; p++)
        printable = *p > 0x20 && *p < 0x7f;
    snprintf(q->bad, sizeof q->bad, "%s", printable ? name : "query");
    q->why = why;
}

/* Decodes percent escapes into out; NULL, or why the value is refused. */
static const char *decode(const char *in, char out[HTTP_QUERY_VALUE_MAX + 1])
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = http_hex_digit(p[1]), lo = hi < 0 ? -1 : http_hex_digit(p[2]);
            if (lo < 0)
                return "malformed percent escape";
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return "holds a NUL or control character (raw or percent-encoded)";
        if (n == HTTP_QUERY_VALUE_MAX)
            return "longer than 256 bytes";
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return NULL;
}

static void one_arg(void *ctx, const char *name, const char *value)
{
    struct http_query *q = ctx;
    /* An empty sequence ("a=1&&b=2", a trailing "&") holds no parameter, as
     * URL parsers read it; "=" or "=5" is a parameter with no name. */
    if (!name[0] && !value)
        return;
    if (!name[0]) {
        refuse(q, "query", "a parameter with no name");
        return;
    }
    /* Names are percent-decoded like values: "user%5Fid" is user_id (RFC
     * 3986 2.3, 6.2.2.2). */
    char decoded[HTTP_QUERY_VALUE_MAX + 1];
    const char *why = decode(name, decoded);
    if (why) {
        refuse(q, name, why);
        return;
    }
    size_t i = 0;
    while (q->names[i] && strcmp(q->names[i], decoded) != 0)
        i++;
    if (!q->names[i]) {
        refuse(q, name, "unknown parameter");
        return;
    }
    if (q->present[i]) {
        refuse(q, q->names[i], "given more than once");
        return;
    }
    q->present[i] = true;
    if (!value || !value[0]) {
        refuse(q, q->names[i], "needs a value (name=value)");
        return;
    }
    why = decode(value, q->value[i]);
    if (why)
        refuse(q, q->names[i], why);
}

int http_query_read(const struct http_request *req, const char *const *names, struct http_query *q)
{
    memset(q, 0, sizeof *q);
    q->names = names;
    http_request_args(req, one_arg, q);
    return q->why ? -1 : 0;
}

const char *http_query_get(const struct http_query *q, const char *name)
{
    for (size_t i = 0; q->names[i]; i++)
        if (strcmp(q->names[i], name) == 0)
            return q->present[i] ? q->value[i] : NULL;
    return NULL;
}
