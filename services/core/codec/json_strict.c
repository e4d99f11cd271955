#include "json_strict.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One open array or object, for naming the field an error is in. */
struct frame {
    bool array;
    bool active; /* a member or element of it is being read */
    size_t index;
    const unsigned char *key;
    size_t key_len;
    size_t first_key; /* its members' entries in parser.keys */
};

struct key {
    const unsigned char *text; /* between the quotes, as sent */
    size_t len;
    bool escaped;
};

struct parser {
    const unsigned char *start, *end, *p;
    int depth;
    struct frame frames[JSON_STRICT_MAX_DEPTH];
    size_t n_keys;
    struct key keys[JSON_STRICT_MAX_KEYS];
    struct json_strict_error *err;
};

/* Bytes a string's fast loop stops at: controls, '"', '\\', DEL and above. */
static bool special(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x7f;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static bool is_ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_digit(const struct parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static void skip_ws(struct parser *ps)
{
    const unsigned char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    ps->p = p;
}

/* Cuts `s` before a UTF-8 sequence that snprintf left incomplete. */
static void trim_utf8(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (i - 1 + need > n)
        s[i - 1] = '\0';
}

static void name_field(const struct parser *ps, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int d = 0; d < ps->depth && n < cap; d++) {
        const struct frame *f = &ps->frames[d];
        if (!f->active)
            break;
        int w = f->array ? snprintf(out + n, cap - n, "[%zu]", f->index)
                         : snprintf(out + n, cap - n, "%s%.*s", n ? "." : "", (int)f->key_len,
                                    (const char *)f->key);
        n += w > 0 ? (size_t)w : 0;
    }
    trim_utf8(out);
    if (!out[0])
        snprintf(out, cap, "body");
}

__attribute__((format(printf, 3, 4))) static int fail(struct parser *ps, const unsigned char *at,
                                                      const char *fmt, ...)
{
    struct json_strict_error *e = ps->err;
    e->offset = (size_t)(at - ps->start);
    name_field(ps, e->field, sizeof e->field);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof e->message)
        snprintf(e->message + n, sizeof e->message - (size_t)n, " at byte %zu", e->offset);
    return -1;
}

static int hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static int escape(struct parser *ps)
{
    const unsigned char *at = ps->p;
    if (ps->end - at < 2)
        return fail(ps, at, "string is not closed");
    unsigned char c = at[1];
    switch (c) {
    case '"':
    case '\\':
    case '/':
        ps->p += 2;
        return 0;
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return fail(ps, at, "string holds the control character \\%c; strings must hold none", c);
    case 'u':
        break;
    default:
        return c >= 0x20 && c < 0x7f ? fail(ps, at, "\\%c is not a JSON escape", c)
                                     : fail(ps, at, "a backslash must start a JSON escape");
    }
    int cp = hex4(at + 2, ps->end);
    if (cp < 0)
        return fail(ps, at, "\\u needs 4 hex digits");
    ps->p += 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        int lo = ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u'
                     ? hex4(ps->p + 2, ps->end)
                     : -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(ps, at, "\\u%04X is a high surrogate without its low half", (unsigned)cp);
        ps->p += 6;
        return 0;
    }
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(ps, at, "\\u%04X is a low surrogate without a high one before it",
                    (unsigned)cp);
    if (cp == 0)
        return fail(ps, at, "string holds \\u0000 (NUL); strings must hold no NUL");
    if (is_control((uint32_t)cp))
        return fail(ps, at, "string holds the control character \\u%04X; strings must hold none",
                    (unsigned)cp);
    return 0;
}

/* One multi-byte UTF-8 character (lead byte >= 0x80). */
static int utf8(struct parser *ps)
{
    const unsigned char *p = ps->p;
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t need;
    const char *outside = NULL; /* what a second byte outside lo..hi means */
    if (c < 0xc2)
        return fail(ps, p,
                    c < 0xc0 ? "invalid UTF-8: stray continuation byte 0x%02X"
                             : "invalid UTF-8: overlong encoding (lead byte 0x%02X)",
                    c);
    if (c <= 0xdf) {
        need = 1;
    } else if (c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0, outside = "invalid UTF-8: overlong encoding";
        if (c == 0xed)
            hi = 0x9f, outside = "invalid UTF-8: a surrogate (U+D800-U+DFFF) encoded";
    } else if (c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90, outside = "invalid UTF-8: overlong encoding";
        if (c == 0xf4)
            hi = 0x8f, outside = "invalid UTF-8: above U+10FFFF";
    } else {
        return fail(ps, p, "invalid UTF-8: byte 0x%02X never occurs in UTF-8", c);
    }
    if ((size_t)(ps->end - p) <= need)
        return fail(ps, p, "invalid UTF-8: truncated sequence");
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return fail(ps, p, "invalid UTF-8: truncated sequence");
    }
    if (p[1] < lo || p[1] > hi)
        return fail(ps, p, "%s", outside);
    if (c == 0xc2 && p[1] <= 0x9f)
        return fail(ps, p, "string holds the control character U+%04X; strings must hold none",
                    (unsigned)(p[1]));
    ps->p += need + 1;
    return 0;
}

static int string(struct parser *ps, bool *escaped)
{
    const unsigned char *open = ps->p++;
    *escaped = false;
    for (;;) {
        /* Local copies: a store through ps->p could alias the bytes read. */
        const unsigned char *p = ps->p, *end = ps->end;
        while (p < end && !special(*p))
            p++;
        ps->p = p;
        if (ps->p == ps->end)
            return fail(ps, open, "string is not closed");
        unsigned char c = *ps->p;
        if (c == '"') {
            ps->p++;
            return 0;
        }
        int rc;
        if (c == '\\') {
            *escaped = true;
            rc = escape(ps);
        } else if (c == 0) {
            rc = fail(ps, ps->p, "string holds a NUL byte; strings must hold no NUL");
        } else if (c < 0x20 || c == 0x7f) {
            rc = fail(ps, ps->p,
                      "string holds the control character 0x%02X; strings must hold none", c);
        } else {
            rc = utf8(ps);
        }
        if (rc != 0)
            return rc;
    }
}

/* The code point at *p in a string already checked, advancing *p. */
static uint32_t next_char(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t cp;
    if (p[0] == '\\') {
        if (p[1] != 'u') {
            *pp = p + 2;
            return p[1];
        }
        cp = (uint32_t)hex4(p + 2, p + 6);
        p += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)hex4(p + 2, p + 6) - 0xdc00);
            p += 6;
        }
        *pp = p;
        return cp;
    }
    size_t n = p[0] < 0x80 ? 1 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
    cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0x7f >> n));
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3f);
    *pp = p + n;
    return cp;
}

static bool same_key(const struct key *a, const struct key *b)
{
    if (!a->escaped && !b->escaped)
        return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
    const unsigned char *x = a->text, *xe = x + a->len, *y = b->text, *ye = y + b->len;
    while (x < xe && y < ye)
        if (next_char(&x) != next_char(&y))
            return false;
    return x == xe && y == ye;
}

static int value(struct parser *ps);

static struct frame *open_container(struct parser *ps, bool array)
{
    if (ps->depth == JSON_STRICT_MAX_DEPTH) {
        fail(ps, ps->p, "nested deeper than %d arrays and objects", JSON_STRICT_MAX_DEPTH);
        return NULL;
    }
    struct frame *f = &ps->frames[ps->depth++];
    f->array = array;
    f->active = false;
    f->index = 0;
    f->first_key = ps->n_keys;
    ps->p++;
    skip_ws(ps);
    return f;
}

static int member_key(struct parser *ps, struct frame *f)
{
    const unsigned char *at = ps->p;
    if (at == ps->end)
        return fail(ps, at, "object is not closed");
    if (*at != '"')
        return fail(ps, at, "expected a key in double quotes (no trailing comma)");
    struct key k;
    if (string(ps, &k.escaped) != 0)
        return -1;
    k.text = at + 1;
    k.len = (size_t)(ps->p - at) - 2;
    f->key = k.text;
    f->key_len = k.len;
    for (size_t i = f->first_key; i < ps->n_keys; i++) {
        if (same_key(&ps->keys[i], &k)) {
            f->active = true;
            return fail(ps, at, "duplicate key; each key may appear once in an object");
        }
    }
    if (ps->n_keys == JSON_STRICT_MAX_KEYS)
        return fail(ps, at, "more than %d members in the open objects", JSON_STRICT_MAX_KEYS);
    ps->keys[ps->n_keys++] = k;
    skip_ws(ps);
    if (ps->p == ps->end || *ps->p != ':')
        return fail(ps, ps->p, "expected ':' after the key");
    ps->p++;
    skip_ws(ps);
    f->active = true;
    return 0;
}

/* Arrays and objects share this loop; a member is a key then a value. */
static int container(struct parser *ps, bool array)
{
    struct frame *f = open_container(ps, array);
    if (!f)
        return -1;
    const unsigned char close = array ? ']' : '}';
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            if (array)
                f->active = true;
            else if (member_key(ps, f) != 0)
                return -1;
            if (value(ps) != 0)
                return -1;
            f->active = false;
            skip_ws(ps);
            if (ps->p == ps->end)
                return fail(ps, ps->p, array ? "array is not closed" : "object is not closed");
            if (*ps->p == close) {
                ps->p++;
                break;
            }
            if (*ps->p != ',')
                return fail(ps, ps->p, array ? "expected ',' or ']'" : "expected ',' or '}'");
            ps->p++;
            skip_ws(ps);
            f->index++;
        }
    }
    ps->n_keys = f->first_key;
    ps->depth--;
    return 0;
}

static int number(struct parser *ps)
{
    const unsigned char *at = ps->p;
    if (*ps->p == '-')
        ps->p++;
    if (!is_digit(ps))
        return fail(ps, at, "a number needs a digit after '-'");
    if (*ps->p == '0') {
        ps->p++;
        if (is_digit(ps))
            return fail(ps, at, "number with a leading zero");
    } else {
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!is_digit(ps))
            return fail(ps, at, "number needs digits after '.'");
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!is_digit(ps))
            return fail(ps, at, "number needs digits in its exponent");
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p - at > JSON_STRICT_MAX_NUMBER)
        return fail(ps, at, "number longer than %d characters", JSON_STRICT_MAX_NUMBER);
    return 0;
}

static int literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, ps->p, "not a JSON value (the bare words are true, false and null)");
    ps->p += n;
    return 0;
}

static int value(struct parser *ps)
{
    if (ps->p == ps->end)
        return fail(ps, ps->p, "a value is missing (the body ends)");
    unsigned char c = *ps->p;
    bool escaped;
    switch (c) {
    case '{':
        return container(ps, false);
    case '[':
        return container(ps, true);
    case '"':
        return string(ps, &escaped);
    case 't':
        return literal(ps, "true");
    case 'f':
        return literal(ps, "false");
    case 'n':
        return literal(ps, "null");
    default:
        break;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return number(ps);
    if (c == '+' || c == '.')
        return fail(ps, ps->p, "a number starts with a digit or '-'");
    if (c == '/')
        return fail(ps, ps->p, "comments are not JSON");
    if (c == '\'')
        return fail(ps, ps->p, "strings take double quotes");
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return fail(ps, ps->p,
                    "not a JSON value (NaN, Infinity and other bare words are not JSON)");
    if (c == 0xef && ps->end - ps->p >= 3 && ps->p[1] == 0xbb && ps->p[2] == 0xbf)
        return fail(ps, ps->p, "byte order mark; send UTF-8 without one");
    return c >= 0x20 && c < 0x7f ? fail(ps, ps->p, "'%c' cannot start a value", c)
                                 : fail(ps, ps->p, "byte 0x%02X cannot start a value", c);
}

int json_strict_check(const char *text, size_t len, struct json_strict_error *err)
{
    struct parser ps;
    ps.start = ps.p = (const unsigned char *)text;
    ps.end = ps.start + len;
    ps.depth = 0;
    ps.n_keys = 0;
    ps.err = err;
    skip_ws(&ps);
    if (ps.p == ps.end)
        return fail(&ps, ps.p, "empty; send a JSON object");
    if (value(&ps) != 0)
        return -1;
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, ps.p, "more after the JSON value");
    return 0;
}

int json_number_whole(const char *tok, size_t len, long long *out)
{
    if (len > JSON_STRICT_MAX_NUMBER)
        return -2; /* the strict check refuses it before it gets here */
    const char *p = tok, *end = tok + len;
    bool neg = p < end && *p == '-';
    p += neg;
    /* The significant digits, integer and fraction part together, without
     * leading zeros; `scale` is the power of ten of the last one. */
    char digits[JSON_STRICT_MAX_NUMBER + 1];
    size_t n = 0;
    long scale = 0;
    bool fraction = false;
    for (; p < end && (is_ascii_digit(*p) || *p == '.'); p++) {
        if (*p == '.') {
            fraction = true;
            continue;
        }
        if (n > 0 || *p != '0')
            digits[n++] = *p;
        scale -= fraction;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = p < end && *p == '-';
        p += p < end && (*p == '-' || *p == '+');
        long e = 0;
        for (; p < end && is_ascii_digit(*p); p++)
            if (e < 1000000) /* saturated: far past any whole number of 19 digits */
                e = e * 10 + (*p - '0');
        scale += eneg ? -e : e;
    }
    while (n > 0 && digits[n - 1] == '0') {
        n--;
        scale++;
    }
    if (n == 0) {
        *out = 0; /* 0, -0, 0.000, 0e7 */
        return 0;
    }
    if (scale < 0)
        return -1; /* a non-zero digit after the point */
    if ((long)n + scale > 19)
        return -2;
    unsigned long long u = 0;
    for (size_t i = 0; i < n; i++)
        u = u * 10 + (unsigned long long)(digits[i] - '0');
    for (long i = 0; i < scale; i++) {
        if (u > ULLONG_MAX / 10)
            return -2;
        u *= 10;
    }
    if (u > (neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX))
        return -2;
    *out = neg ? (long long)(0ULL - u) : (long long)u;
    return 0;
}
