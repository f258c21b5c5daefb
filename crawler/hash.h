/*
 * hash: the 64-bit hashes stored in the database.
 *
 * Stable across runs and machines: both are stored. Values are folded into
 * SQLite's signed 64-bit INTEGER range as they are.
 *
 * hash64 is URL identity (urls.hash, the URL-seen test, in-memory tables).
 * It must never change: databases hold it, and bench/prefill.py computes it
 * too.
 *
 * body_hash is page content identity (pages.body_hash, duplicate content).
 * It reads 8-byte words, several times faster than hash64 on a body, and
 * is the same however the body is split into pieces. It must not change
 * either (tests/unit/test_hash.c pins both).
 */
#ifndef CRAWLER_HASH_H
#define CRAWLER_HASH_H

#include <stddef.h>
#include <stdint.h>

int64_t hash64(const void *p, size_t n);

/* Incremental form, for bodies that arrive in pieces. */
struct hash64_state {
    uint64_t h;
};
void hash64_init(struct hash64_state *s);
void hash64_update(struct hash64_state *s, const void *p, size_t n);
int64_t hash64_final(const struct hash64_state *s);

/* The final mix of both (murmur3's fmix64): every input bit reaches every
 * output bit. Also for in-memory tables keyed by combined hashes. */
uint64_t hash_mix64(uint64_t h);

/* The body hash, fed in pieces of any size. */
struct body_hash {
    uint64_t h;
    uint64_t n_bytes;
    unsigned char tail[8]; /* the bytes of an unfinished word */
};
void body_hash_init(struct body_hash *s);
void body_hash_update(struct body_hash *s, const void *p, size_t n);
int64_t body_hash_final(const struct body_hash *s);
/* The same for a body in one piece. */
int64_t body_hash(const void *p, size_t n);

#endif
