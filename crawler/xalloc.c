/*
 * xalloc: allocation that aborts on failure (see xalloc.h).
 */
#include "crawler/xalloc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t n)
{
    fprintf(stderr, "out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        die_oom(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_oom(n);
    return q;
}

char *xmemdup0(const void *p, size_t n)
{
    char *s = xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *xstrndup(const char *s, size_t n)
{
    return xmemdup0(s, strnlen(s, n));
}

char *xstrdup(const char *s)
{
    return xmemdup0(s, strlen(s));
}

/* Every process of a crawl frees and allocates bodies, frames and SQLite
 * pages of tens of KiB at a high rate. With glibc's defaults each burst
 * of frees at the top of the heap shrinks it (brk), and blocks over the
 * mmap threshold get their own mapping: the next allocation faults the
 * same pages in again, and on a virtual machine a page fault or TLB flush
 * costs microseconds (14% of a crawl's CPU went to that here). The
 * thresholds below keep up to TRIM_KEEP_BYTES free at the heap top and
 * serve blocks up to MMAP_MIN_BYTES from the heap; a process's peak
 * memory is unchanged, it is only not given back between bursts. */
#define TRIM_KEEP_BYTES (64 * 1024 * 1024)
#define MMAP_MIN_BYTES (16 * 1024 * 1024)

void xalloc_keep_freed(void)
{
    mallopt(M_TRIM_THRESHOLD, TRIM_KEEP_BYTES);
    mallopt(M_MMAP_THRESHOLD, MMAP_MIN_BYTES);
}
