/* hash.h — a stable, well-known 64-bit hash of bytes: FNV-1a 64 (Fowler, Noll, Vo; offset
 * basis 14695981039346656037, prime 1099511628211).  The same input gives the same value on
 * every machine and in every version, so what is derived from it (the checksum of an applied
 * schema file, the reproducible draw of recordings in rules/scoring.lua through hl.hash)
 * can be recomputed later.  Not a defence against anyone choosing inputs: not for secrets. */
#ifndef HL_HASH_H
#define HL_HASH_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HL_FNV1A64_BASIS 14695981039346656037ull
#define HL_FNV1A64_PRIME 1099511628211ull

static inline uint64_t hl_fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = HL_FNV1A64_BASIS;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * HL_FNV1A64_PRIME;
    return h;
}

/* The hash as 16 lower-case hex digits (out: 17 bytes). */
static inline void hl_fnv1a64_hex(const void *data, size_t len, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)hl_fnv1a64(data, len));
}

#endif
