/* The request target of RFC 9112 section 3.2, turned into the path a router
 * compares: absolute form (`http://host:port/p`) reduced to its path, percent
 * escapes decoded. A target whose decoding would hold a NUL or another
 * control byte is refused, so no router ever sees a truncated path. */
#ifndef COMMLAB_HTTP_TARGET_H
#define COMMLAB_HTTP_TARGET_H

/* Decodes `target` (no query part) into a malloc'd path in *out. Returns 0,
 * or -1 with *why set (static text) for a malformed target, or -2 when out
 * of memory. */
int http_target_decode(const char *target, char **out, const char **why);
/* The value of one hex digit, or -1. */
int http_hex_digit(char c);

#endif
