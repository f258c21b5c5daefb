/*
 * children: the coordinator's forked processes, fetchers and parsers.
 * Spawning one (a socketpair, fork, and the child's entry point), picking
 * the one with the most free credit, and stopping them all at the end.
 * Supervision (what a death means for the work) stays in coord.c.
 */
#ifndef CRAWLER_CHILDREN_H
#define CRAWLER_CHILDREN_H

#include <stdint.h>
#include <sys/types.h>

#include "crawler/bodies.h"
#include "crawler/config.h"
#include "crawler/frame.h"

enum child_role { CHILD_FETCH, CHILD_PARSE };

/* pid is 0 when not running, negative (minus the pid) after the
 * coordinator gave it up and before it was reaped. */
struct child {
    enum child_role role;
    pid_t pid;
    struct chan ch;
    int capacity;
    int n_out;
    int n_deaths;
    int64_t respawn_at_ms;
    int64_t busy_since_ms; /* parsers: when the current document began */
    uint64_t n_sent;       /* parsers: documents sent, read in this order */
};

/* Forks the child: it gets the channel as descriptor 3, nothing else but
 * stderr (and the bodies' shared mapping), dies with the coordinator, and
 * runs fetch_main or parse_main. 0, or -errno with nothing started. */
int child_spawn(struct child *ch, const struct config *cfg,
                const struct bodies *bodies);
/* The running child of that role with the most free credit, or NULL. */
struct child *children_pick(struct child *all, int n, enum child_role role);
/* Closes every open channel: the children exit on EOF. */
void children_hang_up(struct child *all, int n);
/* Hangs up, waits up to a second, then kills and reaps whatever is left. */
void children_stop(struct child *all, int n);

#endif
