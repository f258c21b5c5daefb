/*
 * progress: the live progress line of a crawl on a terminal and the summary
 * at its end. Runs in the coordinator; writes to stderr only.
 */
#ifndef CRAWLER_PROGRESS_H
#define CRAWLER_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "crawler/config.h"

struct store;

struct progress {
    int quiet;
    int is_tty;
    int64_t started_ms;
    int64_t last_ms; /* last line drawn */
    int64_t ended_ms;
    int64_t n_pages;  /* fetch results recorded this run */
    int64_t n_errors; /* URLs failed this run */
    int64_t n_bytes;
    int64_t n_hosts_parked;
    int64_t n_queued;    /* URLs waiting, approximately */
    int is_queued_floor; /* ... at least: a host's count was capped */
};

void progress_init(struct progress *p, int quiet, int64_t now_ms);
/* Redraws the line at most a few times a second. */
void progress_tick(struct progress *p, int64_t now_ms, size_t in_flight);
/* Clears the line. */
void progress_end(struct progress *p, int64_t now_ms);
/* Prints the end-of-crawl summary from the counters and the store. After
 * a failure of the store (failed), the fetch count is not what the
 * database holds: the summary says so, and the store's counts follow. */
void progress_summary(const struct progress *p, struct store *s,
                      const struct config *cfg, int failed);

#endif
