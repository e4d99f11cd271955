/* The HTTP server over a real loopback socket, for the unit tests that
 * need one: a server on an ephemeral port, and a GET on a fresh
 * connection. */
#ifndef COMMLAB_LOOPBACK_H
#define COMMLAB_LOOPBACK_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/http_server.h"

/* A small server's configuration: 127.0.0.1, any port, bodies up to 1 KiB. */
static inline struct http_server_config loopback_config(http_handler_fn handler)
{
    return (struct http_server_config){
        .listen = "127.0.0.1:0",
        .max_body = 1024,
        .limits = {.header_timeout_ms = 2000,
                   .body_timeout_ms = 2000,
                   .idle_timeout_s = 5,
                   .max_connections = 64,
                   .max_per_client = 64,
                   .handler_threads = 2,
                   .poll_threads = 1},
        .handler = handler,
    };
}

/* GET TARGET: the whole answer (status line, headers, body) into raw; its
 * status, or -1 when there was none. */
static inline int loopback_get(uint16_t port, const char *target, char *raw, size_t size)
{
    raw[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                     target);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < size && (r = read(fd, raw + got, size - 1 - got)) > 0)
        got += (size_t)r;
    raw[got] = '\0';
    close(fd);
    return got > 12 ? atoi(raw + 9) : -1;
}

#endif
