/*
 * hash: FNV-1a, 64-bit, for URLs; a multiply-rotate hash of 8-byte words
 * for bodies. Both end with the same avalanche (murmur3's fmix64), so that
 * the low bits (used by in-memory hash tables) are as good as the high ones.
 */
#include "crawler/hash.h"

#include <string.h>

uint64_t hash_mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

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
    return (int64_t)hash_mix64(s->h);
}

int64_t hash64(const void *p, size_t n)
{
    struct hash64_state s;
    hash64_init(&s);
    hash64_update(&s, p, n);
    return hash64_final(&s);
}

/* ---- body hash ---- */

/* The word at p, read as little-endian on every machine. */
static uint64_t word_at(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* One word into the state: the body step of murmur3 (x64), one lane. Each
 * step is a bijection of h, and each bit of w reaches every bit of h. */
static uint64_t absorb(uint64_t h, uint64_t w)
{
    w *= 0x87c37b91114253d5ULL;
    w = rotl(w, 31);
    w *= 0x4cf5ad432745937fULL;
    h ^= w;
    h = rotl(h, 27);
    return h * 5 + 0x52dce729;
}

void body_hash_init(struct body_hash *s)
{
    s->h = 0x9e3779b97f4a7c15ULL;
    s->n_bytes = 0;
}

void body_hash_update(struct body_hash *s, const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t held = (size_t)(s->n_bytes & 7);
    uint64_t h = s->h;
    s->n_bytes += n;
    if (held) {
        size_t k = 8 - held < n ? 8 - held : n;
        memcpy(s->tail + held, c, k);
        c += k;
        n -= k;
        if (held + k < 8)
            return;
        h = absorb(h, word_at(s->tail));
    }
    for (; n >= 8; c += 8, n -= 8)
        h = absorb(h, word_at(c));
    memcpy(s->tail, c, n);
    s->h = h;
}

/* The last, partial word is zero-padded; the length tells "ab" from
 * "ab\0". */
int64_t body_hash_final(const struct body_hash *s)
{
    uint64_t h = s->h;
    size_t held = (size_t)(s->n_bytes & 7);
    if (held) {
        unsigned char last[8] = {0};
        memcpy(last, s->tail, held);
        h = absorb(h, word_at(last));
    }
    return (int64_t)hash_mix64(h ^ s->n_bytes);
}

int64_t body_hash(const void *p, size_t n)
{
    struct body_hash s;
    body_hash_init(&s);
    body_hash_update(&s, p, n);
    return body_hash_final(&s);
}
