/*
 * pagemem: where SQLite's cached pages live in a crawl's coordinator.
 *
 * SQLite allocates a cached page at a time as its cache fills. From malloc
 * each comes one 4 KiB fault at a time (16,000 faults for 64 MiB, ~10 us
 * each on this VM) and takes as many TLB entries for a cache read at
 * random: a 20,000-fetch crawl's coordinator took 24,156 faults that way,
 * 5,662 with the pages in one mapping that the kernel backs with 2 MiB
 * pages, and the crawl's median wall time fell 13%.
 *
 * SQLite's own answer, SQLITE_CONFIG_PAGECACHE, writes to every slot of
 * the memory it is given when it starts, so all of it was made resident
 * before the first request: 64 MiB for a crawl of ten pages as for one of
 * millions, 2-70 ms of the start and up to 0.15 s of CPU on this VM (the
 * most right after another process freed a lot of memory), a quarter of
 * the CPU of a 1,169-page crawl. Here the same mapping is handed out a
 * slot at a time through SQLite's allocator hook: a 2 MiB page of it
 * becomes resident with the first slot SQLite takes on it. Everything
 * that is not a cached page goes to SQLite's own allocator. The real site
 * (1,169 pages) took 7.0% (+-2.5) less wall time and 11% less CPU in 12
 * interleaved pairs, the coordinator's peak fell from 91 to 36 MB there,
 * and 20,000-page crawls of the synthetic web took 4.4% (+-2.9) less wall
 * time in 10.
 *
 * Set up once per process, before SQLite initializes; the mapping lives as
 * long as the process. The crawl thread and the checkpointer allocate
 * concurrently (SQLite runs without its memory mutex: store_open), hence
 * the lock.
 */
#include <pthread.h>
#include <string.h>

#include "crawler/xalloc.h"
#include "store/db.h"

static struct {
    sqlite3_mem_methods sys; /* SQLite's own allocator: all the rest */
    char *base;
    size_t min_bytes;  /* requests above this, up to slot_bytes, are pages */
    size_t slot_bytes; /* a page plus SQLite's header for it */
    size_t n_slots;
    size_t n_touched; /* slots below this were handed out at least once */
    void *free_slots; /* a list through the first bytes of freed slots */
    pthread_mutex_t mu;
} pm = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int is_slot(const void *p)
{
    return pm.base && (const char *)p >= pm.base &&
           (const char *)p < pm.base + pm.n_slots * pm.slot_bytes;
}

static int is_page_size(int n)
{
    return (size_t)n > pm.min_bytes && (size_t)n <= pm.slot_bytes;
}

/* A slot, or NULL when all are in use. */
static void *slot_take(void)
{
    pthread_mutex_lock(&pm.mu);
    void *p = pm.free_slots;
    if (p)
        memcpy(&pm.free_slots, p, sizeof pm.free_slots);
    else if (pm.n_touched < pm.n_slots)
        p = pm.base + pm.n_touched++ * pm.slot_bytes;
    pthread_mutex_unlock(&pm.mu);
    return p;
}

static void slot_give(void *p)
{
    pthread_mutex_lock(&pm.mu);
    memcpy(p, &pm.free_slots, sizeof pm.free_slots);
    pm.free_slots = p;
    pthread_mutex_unlock(&pm.mu);
}

static void *pm_malloc(int n)
{
    void *p = is_page_size(n) ? slot_take() : NULL;
    return p ? p : pm.sys.xMalloc(n);
}

static void pm_free(void *p)
{
    if (is_slot(p))
        slot_give(p);
    else
        pm.sys.xFree(p);
}

/* SQLite never resizes a page; anything else leaves the slots. */
static void *pm_realloc(void *p, int n)
{
    if (!is_slot(p))
        return pm.sys.xRealloc(p, n);
    if (is_page_size(n))
        return p;
    void *q = pm.sys.xMalloc(n);
    if (q) {
        memcpy(q, p, (size_t)n < pm.slot_bytes ? (size_t)n : pm.slot_bytes);
        slot_give(p);
    }
    return q;
}

static int pm_size(void *p)
{
    return is_slot(p) ? (int)pm.slot_bytes : pm.sys.xSize(p);
}

static int pm_roundup(int n)
{
    return is_page_size(n) ? (int)pm.slot_bytes : pm.sys.xRoundup(n);
}

static int pm_init(void *app)
{
    (void)app;
    return pm.sys.xInit(pm.sys.pAppData);
}

static void pm_shutdown(void *app)
{
    (void)app;
    pm.sys.xShutdown(pm.sys.pAppData);
}

void db_page_memory_setup(size_t page_bytes, size_t cache_bytes)
{
    static const sqlite3_mem_methods methods = {
        pm_malloc,  pm_free, pm_realloc,  pm_size,
        pm_roundup, pm_init, pm_shutdown, NULL,
    };
    int hdr_bytes = 0;
    if (pm.base ||
        sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr_bytes) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_GETMALLOC, &pm.sys) != SQLITE_OK)
        return;
    size_t slot = (page_bytes + (size_t)hdr_bytes + 7) & ~(size_t)7;
    size_t n = cache_bytes / page_bytes;
    char *base = xmap_huge(slot * n);
    pm.min_bytes = page_bytes;
    pm.slot_bytes = slot;
    pm.n_slots = n;
    pm.base = base;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) {
        pm.base = NULL;
        xunmap(base, slot * n);
    }
}
