/*
 * xalloc: allocation that aborts on failure (see xalloc.h).
 */
#include "crawler/xalloc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* A mapping of whole huge pages (x86-64's 2 MiB) starts on one, so that
 * the kernel can back all of it with them. */
#define HUGE_PAGE_BYTES ((size_t)2 << 20)

static size_t huge_pages_bytes(size_t n)
{
    return (n + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
}

void *xmap_huge(size_t n)
{
    n = huge_pages_bytes(n);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        die_oom(n);
    /* Not made resident here: a crawl of a few pages would pay for all of
     * it. Made resident up front (MADV_POPULATE_WRITE), SQLite's 64 MiB
     * took 2-70 ms of the start on this VM, the most right after another
     * process had freed a lot of memory. */
    (void)madvise(p, n, MADV_HUGEPAGE); /* a hint: may be refused */
    return p;
}

void xunmap(void *p, size_t n)
{
    if (p)
        munmap(p, huge_pages_bytes(n));
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
