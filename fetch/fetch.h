/*
 * fetch: the fetcher process. One libcurl multi handle runs up to
 * cfg->connections transfers at once; jobs arrive as FETCH frames on the
 * channel and leave as FETCH_RESULT frames, in completion order.
 */
#ifndef FETCH_FETCH_H
#define FETCH_FETCH_H

#include "crawler/bodies.h"
#include "crawler/config.h"

/* Runs until the channel closes. Returns the process exit status. Bodies
 * go into the slots the jobs name, in bodies (borrowed; NULL: none). */
int fetch_main(int chan_fd, const struct config *cfg,
               const struct bodies *bodies);

#endif
