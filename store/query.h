/*
 * query: the read side of the store, for the commands that answer
 * questions about a crawl (stats, query, search, export, links).
 *
 * Use it on a store opened read-only (store_open without STORE_WRITE): it
 * then runs beside a crawl in progress, and each call below reads one
 * consistent snapshot of the database (WAL). Results come back row by row
 * through a callback, so nothing here holds more than one row, however
 * large the table: the caller decides what to keep.
 *
 * Values are typed (struct store_value), so a caller can print numbers as
 * numbers; no SQLite type crosses this header.
 */
#ifndef STORE_QUERY_H
#define STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Errors of this interface, beside STORE_EFAIL (store_errmsg says why in
 * every case). */
#define STORE_EWRITE (-1211)    /* the statement would write */
#define STORE_EMULTI (-1212)    /* more than one statement */
#define STORE_EEMPTY (-1213)    /* no statement at all */
#define STORE_ENOTFOUND (-1214) /* the URL is not in the database */

enum store_type {
    STORE_NULL = 0,
    STORE_INT = 1,
    STORE_FLOAT = 2,
    STORE_TEXT = 3,
    STORE_BLOB = 4,
};

/* One column of one row. p and len hold text (UTF-8 as stored, and also
 * NUL-terminated) and blobs; i integers; f floats. */
struct store_value {
    int type; /* enum store_type */
    int64_t i;
    double f;
    const char *p;
    size_t len;
};

/* The row callback every query below takes:
 *
 *   int row(void *arg, int n_cols, const char *const *names,
 *           const struct store_value *vals);
 *
 * It is called once with vals NULL before the first row (so that a header
 * can be printed even when no row follows), then once per row. names and
 * vals are borrowed for the duration of the call. A non-zero return stops
 * the query, and the query returns that value. */

/* --- SQL ----------------------------------------------------------------- */

/* Runs one statement of SQL text and calls row for its rows. Refuses (with
 * nothing run) a statement that could write (STORE_EWRITE), text holding
 * more than one statement (STORE_EMULTI; comments and whitespace after the
 * one are fine), and text with none (STORE_EEMPTY). The connection is
 * query-only while it runs, whatever the open mode. */
int store_query_run(struct store *s, const char *sql,
                    int (*row)(void *arg, int n_cols, const char *const *names,
                               const struct store_value *vals),
                    void *arg);

/* --- Full-text search ---------------------------------------------------- */

/* Pages whose title or text match query (FTS5 syntax: words, "phrases",
 * AND, OR, NOT, prefix*), best first (bm25, title matches weighing more),
 * at most limit (0: no limit). Columns: url, title, snippet (matches
 * between mark_open and mark_close), score (bm25; lower is better). */
int store_search(struct store *s, const char *query, int64_t limit,
                 const char *mark_open, const char *mark_close,
                 int (*row)(void *arg, int n_cols, const char *const *names,
                            const struct store_value *vals),
                 void *arg);

/* --- Export -------------------------------------------------------------- */

enum store_table {
    STORE_TABLE_PAGES = 0, /* pages, with the URL of each */
    STORE_TABLE_LINKS = 1, /* links, from_id and to_hash as URLs */
    STORE_TABLE_URLS = 2,  /* urls, with the origin of each */
};

/* Every row of a table in storage order, in constant memory. The columns
 * are listed in README.md ("crawler export"). */
int store_export(struct store *s, enum store_table table,
                 int (*row)(void *arg, int n_cols, const char *const *names,
                            const struct store_value *vals),
                 void *arg);

/* The statement store_export runs, for EXPLAIN QUERY PLAN in tests. Static
 * storage; NULL for an unknown table. */
const char *store_export_sql(enum store_table table);

/* --- Links of one URL ---------------------------------------------------- */

/* crawler explain: calls url_row once with the URL's state, reason, depth,
 * attempts and the page it was first found on, then fetch_row for each of
 * its fetches, oldest first. STORE_ENOTFOUND when the URL is not known. */
int store_explain(struct store *s, const char *url,
                  int (*url_row)(void *arg, int n_cols,
                                 const char *const *names,
                                 const struct store_value *vals),
                  int (*fetch_row)(void *arg, int n_cols,
                                   const char *const *names,
                                   const struct store_value *vals),
                  void *arg);

#define STORE_LINKS_IN 0x1u /* pages linking to the URL, not its links */

/* The distinct URLs the page at url links to (or, with STORE_LINKS_IN,
 * the pages linking to url), sorted by URL. url is looked up
 * as stored (normalized for http(s) URLs). Columns: url, kind (a, area,
 * link, frame, iframe, redirect, sitemap), nofollow (0/1), status (of that
 * URL's latest fetch, NULL when never fetched). STORE_ENOTFOUND when the
 * database has no such URL. */
int store_links(struct store *s, const char *url, unsigned flags,
                int (*row)(void *arg, int n_cols, const char *const *names,
                           const struct store_value *vals),
                void *arg);
/* The statement store_links runs (?1 the URL hash, ?2 the URL), for
 * EXPLAIN QUERY PLAN in tests. Static storage. */
const char *store_links_sql(unsigned flags);

/* --- Statistics ---------------------------------------------------------- */

/* A name with counts: a content type, a skip reason, a host. */
struct store_count {
    char *key;      /* owned by the struct store_stats */
    int64_t n;      /* pages of that type or host; URLs for a reason */
    int64_t errors; /* top hosts: fetches that failed (4xx, 5xx, none) */
    int64_t bytes;  /* top hosts: body bytes */
};

/* Status classes, the index into store_stats.n_by_class. */
enum store_status_class {
    STATUS_NONE = 0, /* no response (network error, timeout) */
    /* 1 .. 5: 1xx .. 5xx */
    STATUS_OTHER = 6, /* a number outside 100..599 */
    STATUS_N_CLASSES = 7,
};

#define STORE_STATS_MAX_KEYS 50 /* longest list of types or reasons */

/* What `crawler stats` reports. Pages are fetch results: a URL retried
 * after an error counts once per attempt. */
struct store_stats {
    int64_t n_pages;
    int64_t n_by_class[STATUS_N_CLASSES];
    struct store_count *types; /* content types (lower-case, no
                                * parameters, "" when none), most first */
    size_t n_types;
    int64_t n_hosts;
    int64_t n_urls;
    int64_t n_by_state[URL_N_STATES]; /* enum url_state */
    struct store_count *reasons;      /* skip reasons (up to the first ':',
                                       * so "robots: /x" counts as "robots") */
    size_t n_reasons;
    int64_t n_bytes;
    char *started_at;              /* the first URL's discovery (ISO 8601
                                    * UTC), NULL in an empty database */
    char *last_fetch_at;           /* the last fetch, NULL when none */
    double duration_s;             /* from started_at to last_fetch_at */
    struct store_count *top_hosts; /* by pages, most first */
    size_t n_top_hosts;
};

/* Fills out (release it with store_stats_release) with at most
 * max_top_hosts top hosts. out is written only on success. */
int store_stats(struct store *s, int max_top_hosts, struct store_stats *out);
void store_stats_release(struct store_stats *st);

#endif
