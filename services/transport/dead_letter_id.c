#include "dead_letter_id.h"

#include <stdint.h>
#include <string.h>

#include "util/rng.h"

void dead_letter_id(const char *source, const void *what, size_t len,
                    char out[DEAD_LETTER_ID_LEN + 1])
{
    /* The source, with its terminator, seeds the digest of the bytes, so
     * "ab"+"c" and "a"+"bc" differ. Two lanes of different salts make 128
     * bits: repeats must never merge two different dead letters. */
    size_t n = strlen(source) + 1;
    uint64_t a = hash64(what, len, hash64(source, n, 1));
    uint64_t b = hash64(what, len, hash64(source, n, 2));
    hex64(a, out);
    hex64(b, out + 16);
}
