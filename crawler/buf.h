/*
 * buf: a growable byte buffer with a hard cap fixed at creation.
 *
 * Every input-driven byte count (a body, a frame, a text excerpt) lives in a
 * buf whose cap says how much of it we accept. An append that would go over
 * the cap fails with -E2BIG and leaves the buffer as it was. The data is
 * always NUL-terminated (not counted in len) so text can be used directly.
 */
#ifndef CRAWLER_BUF_H
#define CRAWLER_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t max; /* the cap on len */
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Empties the buffer, keeping its allocation. */
void buf_reset(struct buf *b);
/* Allocates room for n bytes (at most the cap) ahead of the appends. */
void buf_reserve(struct buf *b, size_t n);
/* 0, or -E2BIG when len + n would exceed the cap (nothing appended). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
/* Appends as much of p as fits under the cap; returns the bytes taken. */
size_t buf_append_some(struct buf *b, const void *p, size_t n);
/* Drops the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Hands the data out (caller frees); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
