/* The identity of a dead-letter copy (transport/dead_letter_id.h): the same
 * source and bytes give the same id, in a fixed format, on every run; any
 * other source or bytes give another, including where the two meet. */
#include <stdio.h>
#include <string.h>

#include "transport/dead_letter_id.h"
#include "check.h"

static void id(const char *source, const char *what, size_t len, char out[DEAD_LETTER_ID_LEN + 1])
{
    dead_letter_id(source, what, len, out);
}

static int is_hex_id(const char *s)
{
    if (strlen(s) != DEAD_LETTER_ID_LEN)
        return 0;
    return strspn(s, "0123456789abcdef") == DEAD_LETTER_ID_LEN;
}

int main(void)
{
    char a[DEAD_LETTER_ID_LEN + 1], b[DEAD_LETTER_ID_LEN + 1];
    const char *body = "{\"event_id\":\"e1\"}";

    /* Deterministic: twice the same, and the same as on any other build. */
    id("inventory.order-placed", body, strlen(body), a);
    id("inventory.order-placed", body, strlen(body), b);
    CHECK(is_hex_id(a));
    CHECK_STR(a, b);
    id("q", "", 0, a);
    CHECK_STR(a, "2e11a27dbc2d694034df265e7c0d67f3");

    /* Every case below differs from every other: source, bytes, where the
     * source ends and the bytes start, a byte of zero, length. */
    static const struct {
        const char *source, *what;
        size_t len;
    } cases[] = {
        {"inventory.order-placed", "{\"event_id\":\"e1\"}", 17},
        {"inventory.order-placed", "{\"event_id\":\"e2\"}", 17},
        {"notification.inventory-outcome", "{\"event_id\":\"e1\"}", 17},
        {"order.inventory-outcome", "{\"event_id\":\"e1\"}", 17},
        {"ab", "c", 1},
        {"a", "bc", 2},
        {"abc", "", 0},
        {"", "abc", 3},
        {"a", "b\0", 2},
        {"a", "b", 1},
        {"order-events", "0/41", 4},
        {"order-events", "0/42", 4},
        {"order-events", "1/41", 4},
        {"analytics-events", "0/41", 4},
    };
    size_t n = sizeof cases / sizeof cases[0];
    char ids[sizeof cases / sizeof cases[0]][DEAD_LETTER_ID_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        id(cases[i].source, cases[i].what, cases[i].len, ids[i]);
        CHECK(is_hex_id(ids[i]));
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(ids[i], ids[j]) == 0) {
                check_count++;
                check_failures++;
                fprintf(stderr, "cases %zu and %zu share id %s\n", i, j, ids[i]);
            }
    return check_summary("test_dead_letter_id");
}
