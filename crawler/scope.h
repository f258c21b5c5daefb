/*
 * scope: which discovered URLs the crawl may fetch: the --scope rule (hosts
 * of the seeds, their registrable domains via libpsl, or any) and the
 * --allow/--deny regular expressions. Runs in the coordinator.
 */
#ifndef CRAWLER_SCOPE_H
#define CRAWLER_SCOPE_H

#include <stddef.h>

#include "crawler/config.h"

struct scope;

/* NULL when a pattern does not compile; err then names the pattern and the
 * problem. */
struct scope *scope_new(const struct config *cfg, char *err, size_t errlen);
void scope_free(struct scope *sc);
/* Adds the host of a normalized seed URL to the scope. */
void scope_add_seed(struct scope *sc, const char *url);
/* NULL when the normalized URL is in scope, else the reason it is not
 * ("scope", "deny", "allow"): a static string. */
const char *scope_check(const struct scope *sc, const char *url);

#endif
