/*
 * hash: FNV-1a, 64-bit, with a final avalanche so that the low bits (used
 * by in-memory hash tables) are as good as the high ones.
 */
#include "crawler/hash.h"

void hash64_init(struct hash64_state *s)
{
    s->h = 0xcbf29ce484222325ULL;
}

void hash64_update(struct hash64_state *s, const void *p, size_t n)
{
    const unsigned char *c = p;
    uint64_t h = s->h;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    s->h = h;
}

int64_t hash64_final(const struct hash64_state *s)
{
    uint64_t h = s->h;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (int64_t)h;
}

int64_t hash64(const void *p, size_t n)
{
    struct hash64_state s;
    hash64_init(&s);
    hash64_update(&s, p, n);
    return hash64_final(&s);
}
