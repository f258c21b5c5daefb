/*
 * xalloc: allocation that aborts on failure (see xalloc.h).
 */
#include "crawler/xalloc.h"

#include <malloc.h>
#include <pthread.h>
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

struct range {
    char *p;
    size_t n;
};

/* In one call (Linux 5.14 on); an older kernel refuses, and writing the
 * range does the same a fault at a time. */
static void *make_resident(void *arg)
{
    struct range *r = arg;
    if (r->n && madvise(r->p, r->n, MADV_POPULATE_WRITE) != 0)
        memset(r->p, 0, r->n);
    return NULL;
}

/* Makes p..p+n resident, a big mapping in two halves at once. On this VM
 * making 66 MiB resident usually takes 4-7 ms, but now and then (after
 * other processes freed memory, not predictably) 75-120 ms, on the way to
 * a crawl's first request; halves on two cores were slow less often and
 * less long. Crawls of the real site (1,169 pages, each after 400 MB of
 * tmpfs files were freed, as the benchmark's wget2 runs do) took 0.380 s
 * instead of 0.406 and 0.340 instead of 0.391 (medians of 12 and 14
 * interleaved pairs). */
static void populate(char *p, size_t n)
{
    size_t first =
        n >= 4 * HUGE_PAGE_BYTES ? (n / 2) & ~(HUGE_PAGE_BYTES - 1) : n;
    struct range head = {p, first}, tail = {p + first, n - first};
    pthread_t thread;
    int is_split =
        tail.n && pthread_create(&thread, NULL, make_resident, &tail) == 0;
    make_resident(&head);
    if (is_split)
        pthread_join(thread, NULL);
    else
        make_resident(&tail); /* no thread: here, after the head */
}

void *xmap_resident(size_t n)
{
    n = huge_pages_bytes(n);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        die_oom(n);
    /* Huge pages from the start: with 5 M URLs in the frontier, crawls
     * this way were faster in 6 of 8 interleaved pairs (median 6.7 s)
     * than populated in 4 KiB pages and collapsed in a thread (7.1 s) or
     * left to khugepaged (7.3 s). The price, on this VM: right after
     * another process freed a lot of memory (a crawl that wrote 20,000
     * files to tmpfs), getting SQLite's 66 MiB in huge pages took 48-151
     * ms instead of 4 (no compaction counted in /proc/vmstat). In 4 KiB
     * pages it is no cheaper: populating takes 10-17 ms, but the first
     * write to each page still costs ~5 us, 76-98 ms for one write per
     * SQLite slot. */
    (void)madvise(p, n, MADV_HUGEPAGE); /* a hint: may be refused */
    populate(p, n);
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
