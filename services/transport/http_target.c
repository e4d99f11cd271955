#include "http_target.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int http_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Skips "scheme://authority" of an absolute-form target; the authority is
 * not checked against our own name, as a proxy would need: this server has
 * one set of routes whatever host the client names. */
static const char *origin_form(const char *t)
{
    size_t n = 0;
    if (strncasecmp(t, "http://", 7) == 0)
        n = 7;
    else if (strncasecmp(t, "https://", 8) == 0)
        n = 8;
    else
        return t;
    const char *slash = strchr(t + n, '/');
    return slash ? slash : "/";
}

int http_target_decode(const char *target, char **out, const char **why)
{
    *out = NULL;
    const char *t = origin_form(target);
    if (t[0] != '/') {
        *why = "the request target must be a path starting with '/' or an absolute URL";
        return -1;
    }
    char *path = malloc(strlen(t) + 1);
    if (!path)
        return -2;
    size_t n = 0;
    for (const char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = http_hex_digit(p[1]), lo = hi < 0 ? -1 : http_hex_digit(p[2]);
            if (lo < 0) {
                free(path);
                *why = "malformed percent escape in the path";
                return -1;
            }
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
        }
        if (c < 0x20 || c == 0x7f) {
            free(path);
            *why = "the path holds a NUL or control character (raw or percent-encoded)";
            return -1;
        }
        path[n++] = (char)c;
    }
    path[n] = '\0';
    *out = path;
    return 0;
}
