/*
 * robots: robots.txt parsing and matching as RFC 9309 says.
 *
 * Runs in the coordinator (which decides what may be fetched) and in
 * `crawler robots`. One struct robots holds the rules that apply to one
 * product token: every group whose user-agent lines name that token
 * (case-insensitive, merged), or else the `*` groups. Matching is
 * longest-match between Allow and Disallow, Allow winning a tie, with `*`
 * and `$` patterns and percent-encoding compared as RFC 9309 section 2.2.2
 * says. At most ROBOTS_MAX_BYTES of the file are parsed.
 */
#ifndef PARSE_ROBOTS_H
#define PARSE_ROBOTS_H

#include <stddef.h>
#include <stdint.h>

#define ROBOTS_MAX_BYTES (500 * 1024)

struct robots;

/* Parses text for the product token agent (e.g. "crawler"). Never fails:
 * an empty or garbage file gives a robots that allows everything. Caller
 * frees with robots_free. */
struct robots *robots_parse(const char *text, size_t len, const char *agent);
/* A robots that allows everything (robots.txt absent, 4xx). */
struct robots *robots_allow_all(void);
/* A robots that disallows everything (robots.txt unreachable, 5xx). */
struct robots *robots_disallow_all(void);
void robots_free(struct robots *r);

/* 1 if the path (path and query of a normalized URL, starting with '/')
 * may be fetched, 0 if not. *rule, when rule is not NULL, receives the
 * deciding rule as text ("Disallow: /x/", "Allow: /x/y"), or NULL when no
 * rule matched; it is borrowed from r. */
int robots_allows(const struct robots *r, const char *path, const char **rule);
/* The Crawl-delay of the applicable groups in milliseconds, -1 if none. */
int64_t robots_crawl_delay_ms(const struct robots *r);
/* Sitemap: lines (they apply to every agent). Borrowed from r. */
size_t robots_n_sitemaps(const struct robots *r);
const char *robots_sitemap(const struct robots *r, size_t i);

/* Writes the product token of a User-Agent string (its first word up to
 * '/' or a space, e.g. "crawler" for "crawler/0.1 (+https://...)") into
 * out, at most n bytes with the NUL. */
void robots_agent_token(const char *user_agent, char *out, size_t n);

#endif
