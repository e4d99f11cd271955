/* What the strict validator promises, checked on every fuzz input: its
 * verdict is one cJSON agrees with, what it accepts prints back to text it
 * accepts again (so no string held a NUL or control character: cJSON would
 * print those as \u00XX escapes, which are refused), and a refusal points
 * inside the input. */
#ifndef COMMLAB_STRICT_INVARIANTS_H
#define COMMLAB_STRICT_INVARIANTS_H

#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json_strict.h"

static void strict_invariants(const uint8_t *data, size_t size)
{
    struct json_strict_error err;
    if (json_strict_check((const char *)data, size, &err) != 0) {
        if (err.offset > size || !err.field[0] || !strstr(err.message, " at byte "))
            abort();
        return;
    }
    if (memchr(data, 0, size))
        abort();
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root)
        abort();
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return;
    /* Numbers beyond a double print as null; that stays strict JSON. */
    if (json_strict_check(text, strlen(text), &err) != 0)
        abort();
    free(text);
    /* A number at the top: its exact whole value is the one strtoll reads from
     * it when it is plain digits, and reads back the same from its decimal. */
    const char *s = (const char *)data;
    if (size && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) && size <= JSON_STRICT_MAX_NUMBER) {
        char tok[JSON_STRICT_MAX_NUMBER + 1], back[24];
        memcpy(tok, s, size);
        tok[size] = '\0';
        long long v, w;
        int rc = json_number_whole(tok, size, &v);
        if (strspn(tok, "-0123456789") == size && rc == 0 && strtoll(tok, NULL, 10) != v)
            abort();
        if (rc == 0 &&
            (json_number_whole(back, (size_t)snprintf(back, sizeof back, "%lld", v), &w) != 0 ||
             w != v))
            abort();
    }
}

#endif
