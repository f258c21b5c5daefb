/*
 * hash: the 64-bit hash used for URL identity and body duplicates.
 *
 * Stable across runs and machines: it is stored in the database. The value
 * is folded into SQLite's signed 64-bit INTEGER range as is.
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

#endif
