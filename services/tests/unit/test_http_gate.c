/* What the HTTP gate lets through to the library: the first bytes of a
 * connection that can begin an HTTP/1.x request line, as far as they go. */
#include <string.h>

#include "transport/http_gate.h"
#include "check.h"

static bool starts(const char *s, size_t n)
{
    return http_gate_request_start((const unsigned char *)s, n);
}

#define STARTS(lit) starts(lit, sizeof lit - 1)

int main(void)
{
    /* Whole request lines, and every prefix of one. */
    static const char line[] = "GET /orders?limit=5 HTTP/1.1\r\n";
    for (size_t n = 0; n <= sizeof line - 1; n++)
        CHECK(starts(line, n));
    CHECK(STARTS("POST /order HTTP/1.0\r\n"));
    CHECK(STARTS("M-SEARCH * HTTP/1.1\r\n"));
    CHECK(STARTS("GET http://h:1/x HTTP/1.1\r\n"));
    CHECK(STARTS("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")); /* a request line: 505 from the library */
    CHECK(STARTS("GET /caf\xc3\xa9 HTTP/1.1\r\n"));    /* the library judges the target */
    /* RFC 9112 2.2: empty lines before it are ignored. */
    CHECK(STARTS("\r\n\r\nGET / HTTP/1.1\r\n"));
    CHECK(STARTS("\nGET / HTTP/1.1\r\n"));
    CHECK(STARTS("\r\n"));
    /* Not a request line. */
    CHECK(!STARTS("\x16\x03\x01\x00\x41\x01")); /* TLS handshake record */
    CHECK(!STARTS("\x80\x2e\x01\x03\x01"));     /* SSLv2-style hello */
    CHECK(!STARTS("\0\0\0\0"));
    CHECK(!STARTS("\xff\xfe / HTTP/1.1\r\n"));
    CHECK(!STARTS("\x1b[A"));
    CHECK(!STARTS("GARBAGE\r\n"));
    CHECK(!STARTS(" GET / HTTP/1.1\r\n"));
    CHECK(!STARTS("GET  / HTTP/1.1\r\n"));
    CHECK(!STARTS("GET /a\x01 HTTP/1.1\r\n"));
    CHECK(!STARTS("GET /a\tb HTTP/1.1\r\n"));
    CHECK(!STARTS("GET / SSH-2.0\r\n"));
    CHECK(!STARTS("GET / http/1.1\r\n")); /* HTTP-name is case-sensitive (RFC 9112 2.3) */
    CHECK(!STARTS("G(T / HTTP/1.1\r\n"));
    return check_summary("test_http_gate");
}
