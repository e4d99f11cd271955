/* The request-target rules of the HTTP server: what a router may see. */
#include <stdio.h>
#include <stdlib.h>

#include "transport/http_target.h"
#include "check.h"

static void accepted(const char *target, const char *want)
{
    char *path = NULL;
    const char *why = NULL;
    CHECK(http_target_decode(target, &path, &why) == 0);
    CHECK_STR(path, want);
    free(path);
}

static void refused(const char *target)
{
    char *path = NULL;
    const char *why = NULL;
    CHECK(http_target_decode(target, &path, &why) == -1);
    CHECK(path == NULL);
    CHECK(why != NULL);
}

int main(void)
{
    accepted("/healthz", "/healthz");
    accepted("/orders/abc%2Dd", "/orders/abc-d");
    accepted("http://127.0.0.1:8080/healthz", "/healthz");
    accepted("HTTP://Host/orders/x", "/orders/x");
    accepted("https://host:1/a%20b", "/a b");
    accepted("http://host", "/");
    /* Every byte a percent escape can carry below 0x20, and DEL. */
    for (int c = 0; c < 0x20; c++) {
        char t[32];
        snprintf(t, sizeof t, "/healthz%%%02X", c);
        refused(t);
        snprintf(t, sizeof t, "/orders/ID%%%02xxyz", c);
        refused(t);
    }
    refused("/healthz%7f");
    refused("/healthz\x01");
    refused("/healthz%");
    refused("/healthz%0");
    refused("/healthz%zz");
    refused("healthz");
    refused("*");
    refused("");
    return check_summary("test_http");
}
