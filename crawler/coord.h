/*
 * coord: the coordinator of a crawl. Forks the fetchers and parsers, opens
 * the store, and runs the one event loop that schedules fetches, routes
 * bodies to parsers, records results and supervises the children.
 */
#ifndef CRAWLER_COORD_H
#define CRAWLER_COORD_H

#include "crawler/config.h"

/* Seeds are normalized URLs (borrowed for the call). Returns the process
 * exit status: 0 after a complete or an interrupted-and-saved crawl. */
int coord_run(const struct config *cfg, char **seeds, int n_seeds);

#endif
