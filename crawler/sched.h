/*
 * sched: per-host politeness state and the order in which hosts are served.
 * Runs in the coordinator.
 *
 * Memory holds one struct host per host the crawl has work for, each with a
 * few ready URLs leased from the store, and a min-heap of the hosts that may
 * be given a request, keyed by the time each may next be contacted. A host
 * is in the heap exactly when host_is_eligible() holds.
 */
#ifndef CRAWLER_SCHED_H
#define CRAWLER_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "crawler/imap.h"
#include "store/store.h"

struct robots;

struct host {
    int64_t id;
    char *origin; /* scheme://host[:port], owned */
    /* robots.txt */
    int robots_state;      /* enum robots_state */
    struct robots *robots; /* owned; NULL until known */
    int64_t robots_fetched_ms;
    int robots_in_flight;
    int robots_attempts; /* failed fetches in a row */
    /* rate control */
    int64_t crawl_delay_ms; /* from robots.txt, clamped; -1 if none */
    int64_t backoff_ms;     /* extra delay after errors, 0 when healthy */
    int64_t next_at_ms;     /* earliest start of the next request */
    int error_streak;
    int in_flight;
    int parked; /* nothing more this run (robots unavailable) */
    /* work */
    int64_t n_queued; /* URL_QUEUED rows in the store */
    int64_t n_done;   /* URLs fetched (done or failed), all runs */
    int n_page_jobs;  /* pages being fetched or parsed */
    int64_t read_to;  /* queued rows read for pages up to this id, this run */
    int64_t files_to; /* and for files (lease_is_file), up to this one */
    struct url_lease *ready; /* leased, not yet dispatched; owned */
    int n_ready;
    int cap_ready;
    size_t heap_idx; /* SIZE_MAX when not in the heap */
};

struct sched {
    struct imap by_id;     /* host id -> struct host */
    struct imap by_origin; /* hash64(origin) -> struct host */
    struct host **heap;
    size_t n_heap;
    size_t cap_heap;
    int host_connections;
    int robots;       /* fetch robots.txt before pages */
    int64_t delay_ms; /* configured minimum gap */
};

void sched_init(struct sched *s, int host_connections, int robots,
                int64_t delay_ms);
void sched_release(struct sched *s);

struct host *sched_host(const struct sched *s, int64_t id);
struct host *sched_find(const struct sched *s, const char *origin, size_t len);
/* Adds a host (id from the store); the caller fills its fields. */
struct host *sched_add(struct sched *s, int64_t id, const char *origin,
                       size_t len);

/* Whether the host needs its robots.txt fetched before any page. */
int host_needs_robots(const struct sched *s, const struct host *h);
/* Whether the host should be in the heap. */
int host_is_eligible(const struct sched *s, const struct host *h);
/* The gap to keep after starting a request to h. */
int64_t host_gap_ms(const struct sched *s, const struct host *h);

/* Re-evaluates h's heap membership and position after any change. */
void sched_update(struct sched *s, struct host *h);
/* The eligible host due first, if due by now (removed from the heap; call
 * sched_update after serving it). Otherwise NULL, and *wait_ms receives the
 * time until the first one is due (-1 when the heap is empty). */
struct host *sched_next(struct sched *s, int64_t now_ms, int64_t *wait_ms);

/* The ready queue: push at the back (leases) or the front (retries). */
void host_push_ready(struct host *h, struct url_lease *l, int front);
/* Takes the first ready URL into *out. 0 when empty. */
int host_pop_ready(struct host *h, struct url_lease *out);

#endif
