/*
 * store: the crawl database (SQLite), the only writer being the coordinator.
 *
 * The interface is narrow so that another backend could take SQLite's place:
 * open/close, batched transactions, the frontier (hosts and urls), results
 * (pages, links, text) and the read-only queries of the query commands.
 * Nothing above this layer sees SQL or sqlite3.h.
 *
 * The schema and the reason for each index are in store.c.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crawler/msg.h"

struct store;

/* URL states: see the diagram at the top of store/frontier.c. */
enum url_state {
    URL_QUEUED = 0,
    URL_IN_FLIGHT = 1, /* written by older versions only */
    URL_DONE = 2,
    URL_FAILED = 3,
    URL_SKIPPED = 4,
    URL_N_STATES = 5,
};

enum robots_state {
    ROBOTS_UNKNOWN = 0, /* not fetched yet (or expired) */
    ROBOTS_PARSED = 1,  /* 2xx: robots_txt holds the file */
    ROBOTS_NONE = 2,    /* 4xx: no restrictions */
    ROBOTS_ERROR = 3,   /* 5xx or network error: host fully disallowed */
};

#define STORE_EBUSY (-1201)  /* another crawl holds the database */
#define STORE_ENOTDB (-1202) /* the file is not a crawl database */
#define STORE_EFAIL (-1203)  /* SQLite failed; store_errmsg says why */

/* --- Lifecycle ----------------------------------------------------------- */

#define STORE_WRITE 0x1u /* create if missing, take the crawl lock */

/* Opens (and with STORE_WRITE creates and migrates) the database. On
 * failure returns a STORE_E* code and writes a one-line reason into err. */
int store_open(const char *path, unsigned flags, struct store **out, char *err,
               size_t errlen);
/* The writer, at the end: copies the whole log into the database file
 * and empties it, so that the file alone holds the crawl. 0; STORE_EBUSY
 * when a reader still needs the log (it is copied at the next open);
 * STORE_EFAIL with store_errmsg set when the copy failed (a full disk):
 * the -wal file then holds commits the database file lacks. */
int store_empty_log(struct store *s);
void store_close(struct store *s);
/* The last SQLite error message; borrowed, valid until the next call. */
const char *store_errmsg(struct store *s);

/* Batches: every write between begin and commit is one transaction. */
int store_begin(struct store *s);
int store_commit(struct store *s);
/* 1 when a commit now lets the write-ahead log start over (see
 * store/checkpoint.c); commit soon, but any time is correct. */
int store_commit_due(struct store *s);
/* The crawl's loop has ended: from now on the log is copied in the
 * background only, never inside a commit, and it does not start over. */
void store_wind_down(struct store *s);

/* Crawl metadata: a key/value table (options, start and stop times). */
int store_meta_set(struct store *s, const char *key, const char *value);
/* Caller frees *value; NULL when the key is absent. */
int store_meta_get(struct store *s, const char *key, char **value);

/* --- Hosts --------------------------------------------------------------- */

/* Persistent per-host scheduler and robots state. */
struct host_row {
    int64_t id;
    char *origin;     /* scheme://host[:port] */
    int robots_state; /* enum robots_state */
    char *robots_txt; /* when ROBOTS_PARSED */
    size_t robots_len;
    int64_t robots_fetched_ms;
    int64_t crawl_delay_ms; /* -1 when none */
    int64_t delay_ms;       /* the current delay, back-off included */
    int64_t next_at_ms;
    int64_t error_streak;
    int64_t n_queued; /* urls in URL_QUEUED, at most STORE_QUEUED_COUNT_MAX */
    int64_t n_done;   /* urls in URL_DONE or URL_FAILED */
};

/* A host row counts its queued URLs up to this many: counting them all
 * stepped over every queued URL, 0.25 s of the start of a crawl with 5
 * million. */
#define STORE_QUEUED_COUNT_MAX 10000

void host_row_release(struct host_row *h);

/* The id of the host with this origin, added if new. */
int store_host_id(struct store *s, const char *origin, size_t len, int64_t *id);
/* Calls fn for every host with queued URLs (at start-up). */
int store_hosts_with_work(struct store *s,
                          void (*fn)(void *arg, struct host_row *h), void *arg);
/* Loads one host's row (scheduler state and robots). */
int store_host_load(struct store *s, int64_t id, struct host_row *out);
/* Saves the scheduler and robots fields of h (robots_txt only when
 * with_robots is set). */
int store_host_save(struct store *s, const struct host_row *h, int with_robots);

/* --- URLs (the frontier) ------------------------------------------------- */

enum url_kind {
    URL_KIND_PAGE = 0,
    URL_KIND_SITEMAP = 1,
};

struct url_new {
    const char *url;
    int kind; /* enum url_kind */
    int64_t hash;
    int64_t host_id;    /* 0 for URLs that are never fetched */
    int state;          /* URL_QUEUED or URL_SKIPPED */
    const char *reason; /* why skipped, else NULL */
    int depth;
    int hops;        /* redirects that led here */
    int64_t from_id; /* discovering URL, 0 for seeds */
};

/* Adds the URL unless its hash is already known. Returns 1 when a new URL
 * is queued, 2 when a known one is queued again (skipped as nofollow or too
 * deep, and now found by a followable path: its id is an old one), 0 when
 * nothing changed, or <0. */
int store_url_add(struct store *s, const struct url_new *u);

/* The URLs added since the URL-seen index last settled (store/db.h), or
 * <0. */
int64_t store_urls_recent(struct store *s);
/* Folds the recent part of the URL-seen index into the settled part (one
 * sort of all URLs, in a transaction of its own; nothing inside another)
 * when it has grown past a threshold, or with always whenever it has
 * rows. 0 or <0. */
int store_urls_settle(struct store *s, int always);
/* 1 when the settled part has rows but no filter stored for it (folded by
 * an older version: store_urls_settle with always builds one), 0 when it
 * has one or needs none, or <0. */
int store_urls_filter_missing(struct store *s);

struct url_lease {
    int64_t id;
    char *url;
    int kind; /* enum url_kind */
    int depth;
    int hops;
    int attempts;
};

/* Up to max queued URLs of a host with ids above after_id and at most
 * upto_id, oldest first, in out (caller releases each with
 * url_lease_release); *n receives the count. The rows stay QUEUED: what is
 * in flight is the caller's to remember. */
int store_url_queued(struct store *s, int64_t host_id, int64_t after_id,
                     int64_t upto_id, int max, struct url_lease *out, int *n);
void url_lease_release(struct url_lease *l);

/* Final or intermediate state of a leased URL. reason may be NULL. */
int store_url_finish(struct store *s, int64_t id, int state, const char *reason,
                     int attempts);
/* Puts back every URL_IN_FLIGHT URL as URL_QUEUED: rows an older version
 * left leased when it was killed. Returns the count. */
int store_url_requeue_all(struct store *s);
/* The number of URLs in each state, indexed by enum url_state. 0 or <0
 * (n untouched). */
int store_url_counts(struct store *s, int64_t n[URL_N_STATES]);
/* The number of URLs done or failed, without reading the queued ones. */
int store_urls_finished(struct store *s, int64_t *n);

/* --- Results ------------------------------------------------------------- */

/* One fetch result and the parse result (NULL when not parsed).
 * duplicate_of is the URL id whose body this one repeats, or 0. Returns
 * the page id in *page_id when page_id is not NULL. */
int store_page_add(struct store *s, int64_t url_id,
                   const struct fetch_result *fr, const struct parse_result *pr,
                   int64_t duplicate_of, int64_t *page_id);
/* 1 and *other set when another URL already has a 2xx page with this body
 * hash, 0 when none, or <0. */
int store_page_by_body(struct store *s, int64_t body_hash, int64_t url_id,
                       int64_t *other);
/* A fetched URL's edges to links[i].hash (kind, LINK_NOFOLLOW of flags);
 * an edge already recorded is kept. */
int store_links_add(struct store *s, int64_t from_url_id,
                    const struct link *links, size_t n);
/* One edge from a fetched URL to a URL hash. */
int store_link_add(struct store *s, int64_t from_url_id, int64_t to_hash,
                   unsigned kind, unsigned flags);
/* links_to, the index of in-links, is not kept while a crawl writes: its
 * keys are random, so every commit rewrote most of its pages, more the
 * bigger the crawl. A crawl drops it when it starts and builds it (one
 * sort) when it ends; `crawler index` builds it after a crawl that did not
 * end. Without it an in-link lookup reads all links. Each returns 0 or
 * STORE_EFAIL; store_inlinks_missing 1 when the index is not there. */
int store_inlinks_drop(struct store *s);
int store_inlinks_build(struct store *s);
int store_inlinks_missing(struct store *s);
/* --- Text and its full-text index (store/text.c) ------------------------ */

/* Stores a page's title and text for search (indexed later). */
int store_text_add(struct store *s, int64_t page_id, const char *title,
                   const char *text);
/* Indexes up to max_pages stored texts that the full-text index does not
 * cover yet, oldest first, in the caller's transaction. Returns how many
 * (0: the index is up to date) or STORE_EFAIL. */
int store_text_index(struct store *s, int max_pages);
/* How many stored texts the index does not cover yet, counted up to cap
 * (a larger backlog reads as cap; cap < 0: all). Counting all reads every
 * waiting row: 20-30 ms for 14,000 texts. */
int store_text_pending(struct store *s, int64_t cap, int64_t *n);

#endif
