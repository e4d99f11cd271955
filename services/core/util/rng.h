/* Seeded, platform-independent pseudo-randomness and hashing for the workload
 * and for deterministic ids. Never used for anything secret. */
#ifndef COMMLAB_RNG_H
#define COMMLAB_RNG_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64's finalizer: a bijection on 64-bit values. */
uint64_t mix64(uint64_t x);
/* FNV-1a folded through mix64; stable across runs, machines and builds. */
uint64_t hash64(const void *data, size_t len, uint64_t salt);
/* Writes 2*sizeof(uint64_t) lowercase hex digits and a NUL. */
void hex64(uint64_t v, char out[17]);

#endif
