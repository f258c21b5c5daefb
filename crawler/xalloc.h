/*
 * xalloc: allocation wrappers shared by every process.
 *
 * Allocation failure aborts the process: a crashed child is respawned by the
 * coordinator and the frontier is durable, so there is nothing to recover
 * locally. Input-driven sizes are capped by their callers, never here.
 */
#ifndef CRAWLER_XALLOC_H
#define CRAWLER_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a copy of the n bytes at p plus a terminating NUL. */
char *xmemdup0(const void *p, size_t n);

/* Returns n zeroed bytes on huge pages where the kernel gives them, made
 * resident 2 MiB at a time as they are first touched: for a big table
 * read and written at random (on 4 KiB pages, one fault and one TLB entry
 * each). Lives as long as the process, or until xunmap(p, n). */
void *xmap_huge(size_t n);
void xunmap(void *p, size_t n);

/* Makes malloc keep freed memory for reuse instead of handing it back to
 * the kernel at each free (trimming the heap top, unmapping large blocks).
 * Call once at start-up, before forking: the children inherit it. */
void xalloc_keep_freed(void);

#endif
