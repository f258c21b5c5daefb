/*
 * config: the options of one crawl, filled from the command line by
 * cmd_crawl.c and read (never written) by every process. Children get their
 * copy through fork().
 */
#ifndef CRAWLER_CONFIG_H
#define CRAWLER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CRAWLER_VERSION "0.1"
/* The project's home page, in the default User-Agent so that a webmaster
 * can find out who crawls them (and what the product token is). */
#define CRAWLER_URL "https://github.com/crawler-project/crawler"

enum scope_mode { SCOPE_HOST, SCOPE_DOMAIN, SCOPE_ANY };

struct config {
    const char *seeds_path;
    const char *db_path;
    int64_t max_pages;          /* 0: unlimited */
    int max_depth;              /* 0: unlimited */
    int64_t max_pages_per_host; /* 0: unlimited */
    int max_path_segments;      /* 0: unlimited */
    int n_fetchers;
    int n_parsers;
    int connections;      /* concurrent transfers per fetcher */
    int host_connections; /* concurrent requests per host */
    int64_t delay_ms;     /* between two request starts to one host */
    int64_t max_crawl_delay_ms;
    enum scope_mode scope;
    const char *user_agent;
    int64_t timeout_ms; /* per transfer */
    int64_t connect_timeout_ms;
    int64_t parse_timeout_ms; /* per document, then the parser is killed */
    int64_t max_body_bytes;
    int max_redirects;
    int max_links; /* per page */
    int max_url_bytes;
    int64_t max_text_bytes; /* visible text kept per page */
    int max_attempts;       /* fetches of one URL before it fails */
    int robots;             /* 0 with --no-robots */
    int robots_error_allow; /* --robots-error allow */
    int quiet;
    int verbose;
    /* --allow / --deny patterns, compiled by the scope module. */
    const char **allow;
    int n_allow;
    const char **deny;
    int n_deny;
    /* --sitemap URLs, normalized. */
    char **sitemaps;
    int n_sitemaps;
};

#endif
