#include "media_type.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http_gate.h"

/* The longest parameter value compared; a longer charset names no charset. */
#define VALUE_MAX 64

struct reader {
    const unsigned char *p, *end;
};

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static void skip_ows(struct reader *r)
{
    while (r->p < r->end && is_ows(*r->p))
        r->p++;
}

/* A token (1*tchar): its length, 0 when there is none. */
static size_t token(struct reader *r)
{
    const unsigned char *from = r->p;
    while (r->p < r->end && http_is_tchar(*r->p))
        r->p++;
    return (size_t)(r->p - from);
}

static bool token_is(const unsigned char *t, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp((const char *)t, want, n) == 0;
}

/* qdtext and the byte of a quoted-pair: HTAB, SP, visible ASCII, obs-text. */
static bool is_quoted_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* A parameter value (token or quoted-string) into out, unquoted; its
 * length (VALUE_MAX + 1 when longer), or -1 when malformed. */
static long value(struct reader *r, char out[VALUE_MAX + 1])
{
    size_t n = 0;
    if (r->p < r->end && *r->p != '"') {
        const unsigned char *t = r->p;
        n = token(r);
        memcpy(out, t, n < VALUE_MAX ? n : VALUE_MAX);
        out[n < VALUE_MAX ? n : VALUE_MAX] = '\0';
        return n == 0 ? -1 : (long)(n <= VALUE_MAX ? n : VALUE_MAX + 1);
    }
    for (r->p++; r->p < r->end && *r->p != '"'; r->p++) {
        if (*r->p == '\\' && ++r->p == r->end)
            return -1;
        if (!is_quoted_char(*r->p))
            return -1;
        if (n < VALUE_MAX)
            out[n] = (char)*r->p;
        n++;
    }
    if (r->p == r->end)
        return -1; /* no closing quote */
    r->p++;
    out[n < VALUE_MAX ? n : VALUE_MAX] = '\0';
    return (long)(n <= VALUE_MAX ? n : VALUE_MAX + 1);
}

const char *media_type_json_error(const char *s, size_t len)
{
    struct reader r = {(const unsigned char *)s, (const unsigned char *)s + len};
    skip_ows(&r);
    while (r.end > r.p && is_ows(r.end[-1]))
        r.end--;
    const unsigned char *type = r.p;
    size_t tn = token(&r);
    if (tn == 0 || r.p == r.end || *r.p != '/')
        return "not a media type (type/subtype)";
    r.p++;
    const unsigned char *sub = r.p;
    size_t sn = token(&r);
    if (sn == 0)
        return "not a media type (type/subtype)";
    if (!token_is(type, tn, "application") || !token_is(sub, sn, "json"))
        return "not application/json";
    bool charset = false;
    for (;;) {
        skip_ows(&r);
        if (r.p == r.end)
            break;
        if (*r.p != ';')
            return "malformed media type parameters";
        r.p++;
        skip_ows(&r);
        if (r.p == r.end || *r.p == ';')
            continue; /* an empty parameter: the grammar allows it */
        const unsigned char *name = r.p;
        size_t nn = token(&r);
        if (nn == 0 || r.p == r.end || *r.p != '=')
            return "malformed media type parameter (want name=value)";
        r.p++;
        char v[VALUE_MAX + 1];
        long vn = value(&r, v);
        if (vn < 0)
            return "malformed media type parameter value (a token or a quoted string)";
        if (!token_is(name, nn, "charset"))
            continue;
        if (charset)
            return "charset given more than once";
        charset = true;
        if (vn > VALUE_MAX || strcasecmp(v, "utf-8") != 0)
            return "a charset other than utf-8 (JSON is UTF-8)";
    }
    return NULL;
}
