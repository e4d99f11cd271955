#include "rng.h"

uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

uint64_t hash64(const void *data, size_t len, uint64_t salt)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325u ^ mix64(salt);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    return mix64(h);
}

void hex64(uint64_t v, char out[17])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 15u];
        v >>= 4;
    }
    out[16] = '\0';
}
