/*
 * buf: capped growable byte buffer (see buf.h).
 */
#include "crawler/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/xalloc.h"

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
}

void buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void reserve(struct buf *b, size_t need)
{
    if (need + 1 <= b->alloc)
        return;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need + 1)
        n *= 2;
    b->data = xrealloc(b->data, n);
    b->alloc = n;
}

void buf_reserve(struct buf *b, size_t n)
{
    if (n > b->max)
        n = b->max;
    if (n + 1 > b->alloc) { /* exactly: the caller knows the size */
        b->data = xrealloc(b->data, n + 1);
        b->alloc = n + 1;
    }
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return -E2BIG;
    reserve(b, b->len + n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

size_t buf_append_some(struct buf *b, const void *p, size_t n)
{
    size_t room = b->max - b->len;
    if (n > room)
        n = room;
    buf_append(b, p, n);
    return n;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->data ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    buf_init(b, b->max);
    return p;
}
