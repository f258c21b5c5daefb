/*
 * parse: the parser process. PARSE frames in, PARSE_RESULT frames out, one
 * document at a time, in order.
 */
#ifndef PARSE_PARSE_H
#define PARSE_PARSE_H

#include "crawler/bodies.h"
#include "crawler/config.h"

/* Runs until the channel closes. Returns the process exit status. Bodies
 * the jobs leave in slots are read from bodies (borrowed; NULL: none). */
int parse_main(int chan_fd, const struct config *cfg,
               const struct bodies *bodies);

#endif
