/* The media type of a message, read one way for HTTP's Content-Type and
 * AMQP's content_type property: RFC 9110 8.3.1,
 *
 *   media-type = type "/" subtype *( OWS ";" OWS [ parameter ] )
 *   parameter  = token "=" ( token / quoted-string )
 *
 * with the whitespace around the whole value dropped (5.5: it is not part
 * of a field value), type, subtype and parameter names compared without
 * case, and a quoted-string value read with its quoted pairs undone. */
#ifndef COMMLAB_MEDIA_TYPE_H
#define COMMLAB_MEDIA_TYPE_H

#include <stddef.h>

/* NULL when the `len` bytes at `s` name JSON; else why not (static text).
 * JSON is application/json; RFC 8259 11 defines no parameter for it and says
 * one has no effect, so others are ignored, but a charset must say utf-8
 * (JSON is UTF-8), once. */
const char *media_type_json_error(const char *s, size_t len);

#endif
