/* The one media-type reader of HTTP's Content-Type and AMQP's content_type
 * (transport/media_type.h): every form RFC 9110 8.3.1 allows for JSON is
 * accepted, and what it does not allow, or what names another type or
 * charset, is refused. No network. */
#include <stdio.h>
#include <string.h>

#include "transport/media_type.h"
#include "check.h"

static const char *const json[] = {
    "application/json",
    "APPLICATION/JSON",
    "Application/Json",
    "application/json ",
    "application/json\t",
    " application/json",
    "application/json;charset=utf-8",
    "application/json; charset=utf-8",
    "application/json ; charset=utf-8",
    "application/json\t;\tcharset=utf-8",
    "application/json; charset=utf-8 ",
    "application/json;charset=UTF-8",
    "application/json; CHARSET=Utf-8",
    "application/json; charset=\"utf-8\"",
    "application/json; charset=\"UTF-8\"",
    "application/json; charset=\"utf\\-8\"",
    "application/json;",
    "application/json; ",
    "application/json;;charset=utf-8",
    "application/json; ; charset=utf-8 ;",
    "application/json; foo=bar",
    "application/json; foo=\"a b;c=d\"",
    "application/json; foo=\"\"",
    "application/json; foo=\"q\\\"x\"",
    "application/json; foo=bar; charset=utf-8",
    "application/json; boundary=x; charset=utf-8; q=1",
};

static const char *const not_json[] = {
    "",
    " ",
    "application",
    "application/",
    "/json",
    "application/jsonx",
    "application/json5",
    "application/x-json",
    "application/problem+json",
    "text/json",
    "text/plain",
    "application /json",
    "application/ json",
    "application/json x",
    "application/json charset=utf-8",
    "application/json, application/json",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "application/json; charset=utf8",
    "application/json; charset=\"utf-8 \"",
    "application/json; charset=\"\"",
    "application/json; charset=",
    "application/json; charset",
    "application/json; charset = utf-8",
    "application/json; charset =utf-8",
    "application/json; charset= utf-8",
    "application/json; charset=utf-8; charset=utf-8",
    "application/json; charset=utf-8; charset=latin1",
    "application/json; charset=\"utf-8",
    "application/json; charset=\"utf-8\\",
    "application/json; charset=\"utf-8\"x",
    "application/json; =utf-8",
    "application/json; foo",
    "application/json; f(o)=1",
    "application/json; foo=a b",
    "application/json; foo=\"a\001b\"",
    "application/json; foo=\"a\177b\"",
    "application/json\001",
    "application/json\r\n",
    "application/json\n",
    "appli\x80tion/json",
};

int main(void)
{
    for (size_t i = 0; i < sizeof json / sizeof json[0]; i++) {
        const char *why = media_type_json_error(json[i], strlen(json[i]));
        CHECK(why == NULL);
        if (why)
            fprintf(stderr, "  '%s' refused: %s\n", json[i], why);
    }
    for (size_t i = 0; i < sizeof not_json / sizeof not_json[0]; i++) {
        CHECK(media_type_json_error(not_json[i], strlen(not_json[i])) != NULL);
        if (!media_type_json_error(not_json[i], strlen(not_json[i])))
            fprintf(stderr, "  '%s' accepted\n", not_json[i]);
    }
    /* The length is the value's: a NUL inside (an AMQP shortstr may hold
     * one) is no end, and bytes past the length are not read. */
    CHECK(media_type_json_error("application/json\0; charset=latin1", 34) != NULL);
    CHECK(media_type_json_error("application/json; charset=latin1", 16) == NULL);
    CHECK_STR(media_type_json_error("application/json; charset=latin1", 33),
              "a charset other than utf-8 (JSON is UTF-8)");
    CHECK_STR(media_type_json_error("text/plain", 10), "not application/json");
    return check_summary("test_media_type");
}
