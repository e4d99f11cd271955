/* Strict JSON, checked before cJSON sees a byte: cJSON is lenient (it takes
 * leading zeros, "1.", invalid UTF-8, raw control characters, duplicate keys,
 * and cuts strings at \u0000), and whatever it lets through reaches the
 * domain. One pass, no allocation; the error names where it stopped.
 *
 * Accepted: RFC 8259 JSON text (any value at the top, whitespace only
 * space, tab, CR, LF), with these further rules:
 *  - strings (keys too) are UTF-8 without overlongs, surrogates or code
 *    points above U+10FFFF, and hold no control character (Unicode
 *    category Cc: U+0000-U+001F, U+007F DEL, U+0080-U+009F), neither raw
 *    nor escaped (so no \b \f \n \r \t, no \u0000); \uD800-\uDFFF only as a
 *    high-low pair;
 *  - no two members of one object have the same (decoded) key;
 *  - at most JSON_STRICT_MAX_DEPTH nested arrays/objects, at most
 *    JSON_STRICT_MAX_KEYS members in the objects open at once, numbers of
 *    at most JSON_STRICT_MAX_NUMBER characters;
 *  - no byte order mark, comments, NaN/Infinity, trailing commas. */
#ifndef COMMLAB_JSON_STRICT_H
#define COMMLAB_JSON_STRICT_H

#include <stddef.h>

#define JSON_STRICT_MAX_DEPTH 32
#define JSON_STRICT_MAX_KEYS 256
/* cJSON reads a number through a 64-byte buffer; longer ones it misparses. */
#define JSON_STRICT_MAX_NUMBER 63

struct json_strict_error {
    size_t offset; /* of the first byte that is wrong */
    /* Where the parser was, the way a client writes it: "user_id",
     * "items[1].sku", "body" at the top level. Keys are shown as sent
     * (escapes included), cut to fit. */
    char field[48];
    char message[112]; /* what is wrong, ending with "at byte N" */
};

/* 0 when `text` is strict JSON; -1 with `err` filled in otherwise. */
int json_strict_check(const char *text, size_t len, struct json_strict_error *err);

/* The exact value of a JSON number token (as the strict check accepts it),
 * when it is whole: 0 with *out for 100, 1e2, 100.0, 1.00e2, -0; -1 when a
 * non-zero digit is left after the point (3.0000000000000001,
 * 99.99999999999999999, which a double rounds to 3 and 100); -2 when it is
 * whole but outside long long. Decimal arithmetic on the text, no double. */
int json_number_whole(const char *tok, size_t len, long long *out);

#endif
