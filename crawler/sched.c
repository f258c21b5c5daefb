/*
 * sched: hosts and the politeness heap (see sched.h).
 *
 * Invariants:
 *  1. h->heap_idx != SIZE_MAX  <=>  h is in the heap  <=>  eligible.
 *  2. The heap is ordered by next_at_ms (earliest first).
 *  3. At most host_connections requests run to one host at once, and two
 *     request starts to one host are at least host_gap_ms apart: next_at_ms
 *     is pushed forward by the gap at every start (coord.c).
 */
#include "crawler/sched.h"

#include <stdlib.h>
#include <string.h>

#include "crawler/hash.h"
#include "crawler/xalloc.h"
#include "parse/robots.h"

void sched_init(struct sched *s, int host_connections, int robots,
                int64_t delay_ms)
{
    memset(s, 0, sizeof *s);
    imap_init(&s->by_id);
    imap_init(&s->by_origin);
    s->host_connections = host_connections;
    s->robots = robots;
    s->delay_ms = delay_ms;
}

static void host_free(struct host *h)
{
    for (int i = 0; i < h->n_ready; i++)
        url_lease_release(&h->ready[i]);
    free(h->ready);
    robots_free(h->robots);
    free(h->origin);
    free(h);
}

void sched_release(struct sched *s)
{
    size_t i = 0;
    struct host *h;
    while ((h = imap_next(&s->by_id, &i, NULL)))
        host_free(h);
    imap_release(&s->by_id);
    imap_release(&s->by_origin);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

struct host *sched_host(const struct sched *s, int64_t id)
{
    return imap_get(&s->by_id, (uint64_t)id);
}

struct host *sched_find(const struct sched *s, const char *origin, size_t len)
{
    struct host *h = imap_get(&s->by_origin, (uint64_t)hash64(origin, len));
    /* A 64-bit collision between two origins is treated as a miss. */
    if (h && (strlen(h->origin) != len || memcmp(h->origin, origin, len)))
        return NULL;
    return h;
}

struct host *sched_add(struct sched *s, int64_t id, const char *origin,
                       size_t len)
{
    struct host *h = xcalloc(1, sizeof *h);
    h->id = id;
    h->origin = xmemdup0(origin, len);
    h->crawl_delay_ms = -1;
    h->heap_idx = SIZE_MAX;
    imap_put(&s->by_id, (uint64_t)id, h);
    imap_put(&s->by_origin, (uint64_t)hash64(origin, len), h);
    return h;
}

int host_needs_robots(const struct sched *s, const struct host *h)
{
    return s->robots && h->robots_state == ROBOTS_UNKNOWN;
}

int host_is_eligible(const struct sched *s, const struct host *h)
{
    if (h->parked || h->robots_in_flight)
        return 0;
    if (h->in_flight >= s->host_connections)
        return 0;
    return host_needs_robots(s, h) || h->n_ready > 0 || h->n_queued > 0;
}

int64_t host_gap_ms(const struct sched *s, const struct host *h)
{
    int64_t gap = s->delay_ms;
    if (h->crawl_delay_ms > gap)
        gap = h->crawl_delay_ms;
    return gap + h->backoff_ms;
}

static int before(const struct host *a, const struct host *b)
{
    return a->next_at_ms < b->next_at_ms;
}

static void heap_set(struct sched *s, size_t i, struct host *h)
{
    s->heap[i] = h;
    h->heap_idx = i;
}

static void sift_up(struct sched *s, size_t i)
{
    struct host *h = s->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(h, s->heap[p]))
            break;
        heap_set(s, i, s->heap[p]);
        i = p;
    }
    heap_set(s, i, h);
}

static void sift_down(struct sched *s, size_t i)
{
    struct host *h = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n_heap)
            break;
        if (c + 1 < s->n_heap && before(s->heap[c + 1], s->heap[c]))
            c++;
        if (!before(s->heap[c], h))
            break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, h);
}

static void heap_remove(struct sched *s, struct host *h)
{
    size_t i = h->heap_idx;
    h->heap_idx = SIZE_MAX;
    struct host *last = s->heap[--s->n_heap];
    if (last == h)
        return;
    heap_set(s, i, last);
    sift_down(s, i);
    sift_up(s, last->heap_idx);
}

void sched_update(struct sched *s, struct host *h)
{
    int in = h->heap_idx != SIZE_MAX;
    int want = host_is_eligible(s, h);
    if (in && !want) {
        heap_remove(s, h);
    } else if (!in && want) {
        if (s->n_heap == s->cap_heap) {
            s->cap_heap = s->cap_heap ? s->cap_heap * 2 : 64;
            s->heap = xrealloc(s->heap, s->cap_heap * sizeof *s->heap);
        }
        heap_set(s, s->n_heap++, h);
        sift_up(s, h->heap_idx);
    } else if (in) {
        sift_down(s, h->heap_idx);
        sift_up(s, h->heap_idx);
    }
}

struct host *sched_next(struct sched *s, int64_t now_ms, int64_t *wait_ms)
{
    if (s->n_heap == 0) {
        *wait_ms = -1;
        return NULL;
    }
    struct host *h = s->heap[0];
    if (h->next_at_ms > now_ms) {
        *wait_ms = h->next_at_ms - now_ms;
        return NULL;
    }
    heap_remove(s, h);
    *wait_ms = 0;
    return h;
}

void host_push_ready(struct host *h, struct url_lease *l, int front)
{
    if (h->n_ready == h->cap_ready) {
        h->cap_ready = h->cap_ready ? h->cap_ready * 2 : 8;
        h->ready = xrealloc(h->ready, (size_t)h->cap_ready * sizeof *h->ready);
    }
    if (front) {
        memmove(h->ready + 1, h->ready, (size_t)h->n_ready * sizeof *h->ready);
        h->ready[0] = *l;
    } else {
        h->ready[h->n_ready] = *l;
    }
    h->n_ready++;
}

int host_pop_ready(struct host *h, struct url_lease *out)
{
    if (h->n_ready == 0)
        return 0;
    *out = h->ready[0];
    h->n_ready--;
    memmove(h->ready, h->ready + 1, (size_t)h->n_ready * sizeof *h->ready);
    return 1;
}
