/*
 * imap: a hash map from 64-bit keys to pointers (open addressing, linear
 * probing, backward-shift deletion). Used by the coordinator for hosts and
 * jobs, and by the parser's memo of URL resolutions (parse/url.c). The keys are
 * expected to be well mixed (hash64 values or ids run through imap's own
 * mixer). The map does not own the values.
 */
#ifndef CRAWLER_IMAP_H
#define CRAWLER_IMAP_H

#include <stddef.h>
#include <stdint.h>

struct imap {
    uint64_t *keys;
    void **vals; /* NULL marks an empty slot */
    size_t cap;  /* a power of two */
    size_t len;
};

void imap_init(struct imap *m);
void imap_release(struct imap *m);
void *imap_get(const struct imap *m, uint64_t key);
/* Inserts or replaces; val must not be NULL. */
void imap_put(struct imap *m, uint64_t key, void *val);
/* Removes and returns the value, or NULL. */
void *imap_del(struct imap *m, uint64_t key);
/* Iteration: *i starts at 0; returns NULL at the end. */
void *imap_next(const struct imap *m, size_t *i, uint64_t *key);

#endif
