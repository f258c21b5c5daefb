/*
 * Unit tests of the read side (store/query.c, store/views.c and the
 * commands of crawler/cmd_query.c): the exact rows of every view on a
 * hand-built crawl, the query plans (indexes, no scans of links, no sorts
 * in exports), refusal of writes and of several statements, the links,
 * search and stats calls, and the CSV/JSON/table output byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/buf.h"
#include "crawler/cli.h"
#include "crawler/hash.h"
#include "store/db.h"
#include "store/query.h"
#include "tests/unit/check.h"

static char db_path[64];

/* --- The fixture: one small crawl, every case the views cover ------------ */

struct fx_url {
    const char *url;
    char host; /* 'h', 'k' or 0 */
    int state;
    const char *reason;
    int from; /* fixture url number (1-based), 0 for a seed */
    int hops;
};

/* Numbered from 1: urls.id is the position here. */
static const struct fx_url fx_urls[] = {
    {"http://h/", 'h', URL_DONE, NULL, 0, 0},                       /* 1 */
    {"http://h/a", 'h', URL_DONE, NULL, 1, 0},                      /* 2 */
    {"http://h/missing", 'h', URL_DONE, NULL, 1, 0},                /* 3 */
    {"http://h/r1", 'h', URL_DONE, NULL, 1, 0},                     /* 4 */
    {"http://h/dup1", 'h', URL_DONE, NULL, 1, 0},                   /* 5 */
    {"http://h/dup2", 'h', URL_DONE, NULL, 1, 0},                   /* 6 */
    {"http://h/x", 'h', URL_SKIPPED, "robots: Disallow: /x", 1, 0}, /* 7 */
    {"mailto:z", 0, URL_SKIPPED, "scheme", 1, 0},                   /* 8 */
    {"http://h/r2", 'h', URL_DONE, NULL, 4, 1},                     /* 9 */
    {"http://h/final", 'h', URL_DONE, NULL, 9, 2},                  /* 10 */
    {"http://h/err", 'h', URL_FAILED, "http 503", 1, 0},            /* 11 */
    {"http://h/down", 'h', URL_FAILED, "Connection refused", 2, 0}, /* 12 */
    {"http://h/n", 'h', URL_DONE, NULL, 1, 0},                      /* 13 */
    {"http://h/l0", 'h', URL_DONE, NULL, 1, 0},                     /* 14 */
    {"http://h/l1", 'h', URL_DONE, NULL, 14, 1},                    /* 15 */
    {"http://h/l2", 'h', URL_DONE, NULL, 15, 2},                    /* 16 */
    {"http://h/out", 'h', URL_DONE, NULL, 1, 0},                    /* 17 */
    {"http://g/", 0, URL_SKIPPED, "scope", 17, 1},                  /* 18 */
    {"http://h/q", 'h', URL_QUEUED, NULL, 2, 0},                    /* 19 */
    {"http://k/", 'k', URL_QUEUED, NULL, 1, 0},                     /* 20 */
};

struct fx_page {
    int url;
    int status;
    const char *error;
    const char *type;
    const char *location;
    size_t bytes;
    int64_t body_hash;
    int ttfb_ms;
    int total_ms;
    const char *title; /* parsed when set */
    int noindex;
    const char *text; /* indexed when set (and not noindex) */
};

#define HTML "text/html; charset=utf-8"

/* pages.id is the position here, from 1. */
static const struct fx_page fx_pages[] = {
    {1, 200, NULL, HTML, NULL, 1000, 11, 10, 100, "Home", 0, "welcome home"},
    {2, 200, NULL, HTML, NULL, 500, 12, 800, 900, "Alpha", 0,
     "the quokka lives here"},
    {3, 404, NULL, "text/html", NULL, 50, 13, 5, 20, NULL, 0, NULL},
    {4, 301, NULL, NULL, "http://h/r2", 0, 5, 5, 10, NULL, 0, NULL},
    {5, 200, NULL, HTML, NULL, 100, 77, 6, 30, "Dup", 0, "same words"},
    {6, 200, NULL, HTML, NULL, 100, 77, 7, 40, "Dup", 0, "same words"},
    {9, 302, NULL, NULL, "http://h/final", 0, 5, 4, 11, NULL, 0, NULL},
    {10, 200, NULL, HTML, NULL, 200, 14, 8, 50, "Quokka end", 0, "the end"},
    {11, 503, NULL, "TEXT/HTML", NULL, 10, 99, 9, 60, NULL, 0, NULL},
    {11, 503, NULL, "TEXT/HTML", NULL, 10, 99, 9, 70, NULL, 0, NULL},
    {12, 0, "Connection refused", NULL, NULL, 0, 0, 0, 3000, NULL, 0, NULL},
    {13, 200, NULL, HTML, NULL, 300, 15, 5, 25, "Hidden", 1,
     "a quokka hides here"},
    {14, 301, NULL, NULL, "http://h/l1", 0, 5, 3, 12, NULL, 0, NULL},
    {15, 301, NULL, NULL, "http://h/l2", 0, 5, 3, 13, NULL, 0, NULL},
    {16, 301, NULL, NULL, "http://h/l1", 0, 5, 3, 14, NULL, 0, NULL},
    {17, 302, NULL, NULL, "http://g/", 0, 5, 3, 15, NULL, 0, NULL},
};

struct fx_link {
    int from, to;
    unsigned kind;
    unsigned flags;
};

static const struct fx_link fx_links[] = {
    {1, 2, LINK_A, 0},
    {1, 3, LINK_A, 0},
    {1, 4, LINK_A, 0},
    {1, 5, LINK_A, 0},
    {1, 6, LINK_A, 0},
    {1, 7, LINK_A, 0},
    {1, 8, LINK_A, 0},
    {1, 11, LINK_A, 0},
    {1, 13, LINK_A, 0},
    {1, 14, LINK_A, 0},
    {1, 17, LINK_A, 0},
    {1, 20, LINK_A, 0},
    {2, 1, LINK_A, 0},
    {2, 3, LINK_A, 0},
    {2, 3, LINK_LINK, LINK_NOFOLLOW},
    {2, 12, LINK_A, 0},
    {2, 19, LINK_LINK, 0},
    {4, 9, LINK_REDIRECT, 0},
    {9, 10, LINK_REDIRECT, 0},
    {14, 15, LINK_REDIRECT, 0},
    {15, 16, LINK_REDIRECT, 0},
    {16, 15, LINK_REDIRECT, 0},
    {17, 18, LINK_REDIRECT, 0},
};

#define N_OF(a) (sizeof(a) / sizeof(a)[0])

static int64_t url_hash(int n)
{
    const char *u = fx_urls[n - 1].url;
    return hash64(u, strlen(u));
}

static void set_db_path(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/crawler-query-%d.db",
             (int)getpid());
}

static void remove_db(void)
{
    char p[96];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
        unlink(p);
    }
}

/* Writes the fixture crawl into a new database at db_path. */
static void build_fixture(void)
{
    set_db_path();
    remove_db();
    struct store *s = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK_INT(store_begin(s), 0);
    int64_t h, k;
    CHECK_INT(store_host_id(s, "http://h", 8, &h), 0);
    CHECK_INT(store_host_id(s, "http://k", 8, &k), 0);
    struct host_row row = {.id = h,
                           .robots_state = ROBOTS_PARSED,
                           .crawl_delay_ms = 2000,
                           .delay_ms = 250};
    CHECK_INT(store_host_save(s, &row, 0), 0);
    for (size_t i = 0; i < N_OF(fx_urls); i++) {
        const struct fx_url *f = &fx_urls[i];
        int skipped = f->state == URL_SKIPPED;
        struct url_new u = {
            .url = f->url,
            .hash = url_hash((int)i + 1),
            .host_id = f->host == 'h'   ? h
                       : f->host == 'k' ? k
                                        : 0,
            .state = skipped ? URL_SKIPPED : URL_QUEUED,
            .reason = f->reason,
            .depth = f->from ? 1 : 0,
            .hops = f->hops,
            .from_id = f->from,
        };
        CHECK_INT(store_url_add(s, &u), skipped ? 0 : 1);
        if (!skipped && f->state != URL_QUEUED)
            CHECK_INT(
                store_url_finish(s, (int64_t)i + 1, f->state, f->reason, 1), 0);
    }
    for (size_t i = 0; i < N_OF(fx_pages); i++) {
        const struct fx_page *f = &fx_pages[i];
        struct fetch_result fr = {
            .status = f->status,
            .error = (char *)f->error,
            .content_type = (char *)f->type,
            .location = (char *)f->location,
            .body_hash = f->body_hash,
            .body_len = f->bytes,
            .n_bytes = f->bytes,
            .ttfb_us = (int64_t)f->ttfb_ms * 1000,
            .total_us = (int64_t)f->total_ms * 1000,
        };
        struct parse_result pr = {
            .title = (char *)f->title,
            .meta_robots = f->noindex ? META_NOINDEX : 0,
        };
        int64_t id;
        CHECK_INT(store_page_add(s, f->url, &fr, f->title ? &pr : NULL, 0, &id),
                  0);
        CHECK_INT(id, (int64_t)i + 1);
        if (f->text && !f->noindex)
            CHECK_INT(store_text_add(s, id, f->title, f->text), 0);
    }
    for (size_t i = 0; i < N_OF(fx_links); i++)
        CHECK_INT(store_link_add(s, fx_links[i].from, url_hash(fx_links[i].to),
                                 fx_links[i].kind, fx_links[i].flags),
                  0);
    CHECK(store_text_index(s, 1000) > 0); /* as `crawler search` does */
    CHECK_INT(store_inlinks_build(s), 0); /* as the end of a crawl does */
    CHECK_INT(store_commit(s), 0);
    store_close(s);
}

static struct store *open_ro(void)
{
    struct store *s = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, 0, &s, err, sizeof err), 0);
    return s;
}

/* --- Collecting rows as text --------------------------------------------- */

/* Rows as "a|b|c" lines, NULL as "NULL", floats as %g. */
struct rows {
    struct buf text;
    int n;
    char header[512];
};

static int collect(void *arg, int n_cols, const char *const *names,
                   const struct store_value *vals)
{
    struct rows *r = arg;
    if (!vals) {
        r->header[0] = '\0';
        for (int i = 0; i < n_cols; i++) {
            size_t len = strlen(r->header);
            snprintf(r->header + len, sizeof r->header - len, "%s%s",
                     i ? "|" : "", names[i]);
        }
        return 0;
    }
    for (int i = 0; i < n_cols; i++) {
        char num[64];
        const struct store_value *v = &vals[i];
        if (i)
            buf_append_str(&r->text, "|");
        switch (v->type) {
        case STORE_INT:
            snprintf(num, sizeof num, "%lld", (long long)v->i);
            buf_append_str(&r->text, num);
            break;
        case STORE_FLOAT:
            snprintf(num, sizeof num, "%g", v->f);
            buf_append_str(&r->text, num);
            break;
        case STORE_TEXT:
        case STORE_BLOB:
            buf_append(&r->text, v->p, v->len);
            break;
        default:
            buf_append_str(&r->text, "NULL");
            break;
        }
    }
    buf_append_str(&r->text, "\n");
    r->n++;
    return 0;
}

/* Runs sql and returns its rows as text; the caller frees. */
static char *rows_of(struct store *s, const char *sql, int *n)
{
    struct rows r = {.n = 0};
    buf_init(&r.text, 1 << 20);
    buf_append_str(&r.text, "");
    int rc = store_query_run(s, sql, collect, &r);
    if (rc != 0)
        check_fail(__FILE__, __LINE__, "%s: %s", sql, store_errmsg(s));
    if (n)
        *n = r.n;
    size_t len;
    return buf_detach(&r.text, &len);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_rows(struct store *s, const char *sql, const char *want)
{
    char *got = rows_of(s, sql, NULL);
    if (strcmp(got, want) != 0)
        check_fail(__FILE__, __LINE__, "%s:\n--- got\n%s--- want\n%s", sql, got,
                   want);
    free(got);
}

/* --- Views --------------------------------------------------------------- */

TEST(query_view_broken_links)
{
    build_fixture();
    struct store *s = open_ro();
    check_rows(s, "SELECT * FROM broken_links",
               "http://h/|http://h/err|0|503|NULL\n"
               "http://h/|http://h/missing|0|404|NULL\n"
               "http://h/a|http://h/down|0|0|Connection refused\n"
               "http://h/a|http://h/missing|0|404|NULL\n"
               "http://h/a|http://h/missing|2|404|NULL\n");
    store_close(s);
    remove_db();
}

TEST(query_view_redirect_chains)
{
    build_fixture();
    struct store *s = open_ro();
    check_rows(s, "SELECT * FROM redirect_chains",
               /* a loop: ends where it would come back */
               "http://h/l0|1|http://h/l0|301|http://h/l1|http://h/l1"
               "|http://h/l1|301|3\n"
               "http://h/l0|2|http://h/l1|301|http://h/l2|http://h/l2"
               "|http://h/l1|301|3\n"
               "http://h/l0|3|http://h/l2|301|http://h/l1|http://h/l1"
               "|http://h/l1|301|3\n"
               /* to a URL never fetched (out of scope) */
               "http://h/out|1|http://h/out|302|http://g/|http://g/"
               "|http://g/|NULL|1\n"
               "http://h/r1|1|http://h/r1|301|http://h/r2|http://h/r2"
               "|http://h/final|200|2\n"
               "http://h/r1|2|http://h/r2|302|http://h/final|http://h/final"
               "|http://h/final|200|2\n");
    store_close(s);
    remove_db();
}

TEST(query_view_duplicate_pages)
{
    build_fixture();
    struct store *s = open_ro();
    /* Not the redirects (empty bodies) nor the retried 503 (same URL). */
    check_rows(s, "SELECT * FROM duplicate_pages",
               "77|2|http://h/dup1|200|100|Dup\n"
               "77|2|http://h/dup2|200|100|Dup\n");
    store_close(s);
    remove_db();
}

TEST(query_view_slow_pages)
{
    build_fixture();
    struct store *s = open_ro();
    /* Every fetch with a response (both 503s), not the refused one. */
    check_rows(s, "SELECT url, total_ms, ttfb_ms, status FROM slow_pages",
               "http://h/a|900|800|200\n"
               "http://h/|100|10|200\n"
               "http://h/err|70|9|503\n"
               "http://h/err|60|9|503\n"
               "http://h/final|50|8|200\n"
               "http://h/dup2|40|7|200\n"
               "http://h/dup1|30|6|200\n"
               "http://h/n|25|5|200\n"
               "http://h/missing|20|5|404\n"
               "http://h/out|15|3|302\n"
               "http://h/l2|14|3|301\n"
               "http://h/l1|13|3|301\n"
               "http://h/l0|12|3|301\n"
               "http://h/r2|11|4|302\n"
               "http://h/r1|10|5|301\n");
    store_close(s);
    remove_db();
}

TEST(query_view_host_summary)
{
    build_fixture();
    struct store *s = open_ro();
    /* h: 16 fetches; errors 404, 503 twice and the refused connection;
     * mean total 4370/16 ms, mean ttfb 880/15 ms (none without a
     * response). k: known, never fetched. */
    check_rows(s, "SELECT * FROM host_summary",
               "http://h|16|4|2270|273.125|58.667|parsed|250|2000\n"
               "http://k|0|0|0|NULL|NULL|unknown|0|NULL\n");
    store_close(s);
    remove_db();
}

TEST(query_view_skipped)
{
    build_fixture();
    struct store *s = open_ro();
    check_rows(s, "SELECT url, reason, depth, found_on FROM skipped",
               "http://h/x|robots: Disallow: /x|1|http://h/\n"
               "mailto:z|scheme|1|http://h/\n"
               "http://g/|scope|1|http://h/out\n");
    /* ISO 8601 UTC with milliseconds. */
    check_rows(s,
               "SELECT count(*) FROM skipped WHERE discovered_at GLOB"
               " '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:"
               "[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'",
               "3\n");
    store_close(s);
    remove_db();
}

TEST(query_views_recreated_on_open)
{
    build_fixture();
    struct store *s = NULL;
    char err[256];
    /* A second read-write open drops and creates the views again. */
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    store_close(s);
    s = open_ro();
    check_rows(s,
               "SELECT name FROM sqlite_schema WHERE type = 'view'"
               " ORDER BY name",
               "broken_links\nduplicate_pages\nhost_summary\n"
               "redirect_chains\nskipped\nslow_pages\n");
    store_close(s);
    remove_db();
}

/* --- Query plans --------------------------------------------------------- */

/* The query plan of sql, one detail line each. */
static char *plan_of(struct store *s, const char *sql)
{
    struct buf q;
    buf_init(&q, 1 << 20);
    buf_append_str(&q, "EXPLAIN QUERY PLAN ");
    char *text = db_sql(s, sql); /* the bound of urls_hash written in */
    buf_append_str(&q, text);
    free(text);
    char *plan = rows_of(s, q.data, NULL);
    buf_release(&q);
    return plan;
}

/* Aliases of pages, urls and links in the views and statements. */
static const char *const table_aliases[] = {
    "bp", "dst", "src", "lp", "rp", "ru", "nu",    "np",
    "tu", "su",  "hu",  "fu", "fp", "dp", "du",    "sp",
    "hp", "ku",  "ip",  "q",  "d",  "f",  "pages", "urls",
};
static const char *const links_aliases[] = {"lk", "nl", "il", "l", "links"};

static int is_alias(const char *name, size_t len, const char *const *list,
                    size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
            return 1;
    return 0;
}

/* Fails when a plan scans links at all, or pages or urls without an
 * index. */
static void check_no_full_scan(const char *what, const char *plan)
{
    for (const char *line = plan; *line;) {
        const char *end = strchr(line, '\n');
        const char *detail = strrchr(line, '|'); /* id|parent|0|detail */
        detail = detail && detail < end ? detail + 1 : line;
        if (starts_with(detail, "SCAN ")) {
            const char *name = detail + 5;
            size_t len = strcspn(name, " \n");
            int using_index = strstr(name, " USING ") != NULL &&
                              strstr(name, " USING ") < end;
            if (is_alias(name, len, links_aliases, N_OF(links_aliases)) ||
                (!using_index &&
                 is_alias(name, len, table_aliases, N_OF(table_aliases))))
                check_fail(__FILE__, __LINE__, "%s scans: %.*s\n%s", what,
                           (int)(end - detail), detail, plan);
        }
        line = end + 1;
    }
}

TEST(query_views_use_indexes)
{
    build_fixture();
    struct store *s = open_ro();
    static const char *const views[] = {
        "broken_links", "redirect_chains", "duplicate_pages",
        "slow_pages",   "host_summary",    "skipped",
    };
    static const char *const index_of[] = {
        "pages_failed", "pages_redirect",  "pages_body_hash",
        "pages_slow",   "urls_host_state", "urls_skipped",
    };
    for (size_t i = 0; i < N_OF(views); i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", views[i]);
        char *plan = plan_of(s, sql);
        check_no_full_scan(views[i], plan);
        if (!strstr(plan, index_of[i]))
            check_fail(__FILE__, __LINE__, "%s does not use %s:\n%s", views[i],
                       index_of[i], plan);
        free(plan);
    }
    /* slow_pages is read in index order: a LIMIT reads only that many. */
    char *plan = plan_of(s, "SELECT * FROM slow_pages LIMIT 10");
    CHECK(strstr(plan, "TEMP B-TREE") == NULL);
    free(plan);
    store_close(s);
    remove_db();
}

TEST(query_link_lookups_use_indexes)
{
    build_fixture();
    struct store *s = open_ro();
    char *out = plan_of(s, store_links_sql(0));
    char *in = plan_of(s, store_links_sql(STORE_LINKS_IN));
    check_no_full_scan("links --out", out);
    check_no_full_scan("links --in", in);
    CHECK(strstr(out, "(from_id=?)") != NULL); /* an index or the key */
    if (!strstr(out, "urls_hash (hash=?") ||
        !strstr(out, "urls_hash_recent (hash=?"))
        check_fail(__FILE__, __LINE__, "links --out:\n%s", out);
    CHECK(strstr(in, "links_to (to_hash=?)") != NULL);
    free(out);
    free(in);
    store_close(s);
    remove_db();
}

TEST(query_exports_stream_without_sorting)
{
    build_fixture();
    struct store *s = open_ro();
    for (int t = STORE_TABLE_PAGES; t <= STORE_TABLE_URLS; t++) {
        char *plan = plan_of(s, store_export_sql((enum store_table)t));
        if (strstr(plan, "TEMP B-TREE"))
            check_fail(__FILE__, __LINE__, "export %d sorts:\n%s", t, plan);
        free(plan);
    }
    CHECK(store_export_sql((enum store_table)7) == NULL);
    store_close(s);
    remove_db();
}

/* --- Read-only, one statement -------------------------------------------- */

static int count_rows(void *arg, int n_cols, const char *const *names,
                      const struct store_value *vals)
{
    (void)n_cols;
    (void)names;
    if (vals)
        ++*(int *)arg;
    return 0;
}

TEST(query_refuses_writes_and_several_statements)
{
    build_fixture();
    struct store *s = open_ro();
    int n = 0;
    static const char *const writes[] = {
        "DELETE FROM urls",
        "UPDATE urls SET state = 0",
        "INSERT INTO meta VALUES ('x', 'y')",
        "DROP VIEW skipped",
        "CREATE TABLE t(x)",
        "CREATE TEMP TABLE t(x)",
        "PRAGMA journal_mode = DELETE",
        "VACUUM",
        "WITH x AS (SELECT 1) DELETE FROM links",
    };
    for (size_t i = 0; i < N_OF(writes); i++)
        if (store_query_run(s, writes[i], count_rows, &n) != STORE_EWRITE)
            check_fail(__FILE__, __LINE__, "not refused: %s", writes[i]);
    CHECK_INT(store_query_run(s, "SELECT 1; DELETE FROM urls", count_rows, &n),
              STORE_EMULTI);
    CHECK_INT(store_query_run(s, "SELECT 1; SELECT 2", count_rows, &n),
              STORE_EMULTI);
    CHECK_INT(store_query_run(s, "SELECT 1; garbage", count_rows, &n),
              STORE_EMULTI);
    CHECK(strstr(store_errmsg(s), "one statement") != NULL);
    CHECK_INT(store_query_run(s, "  -- nothing\n", count_rows, &n),
              STORE_EEMPTY);
    CHECK_INT(store_query_run(s, "SELEC 1", count_rows, &n), STORE_EFAIL);
    CHECK(strstr(store_errmsg(s), "syntax error") != NULL);
    CHECK_INT(n, 0); /* nothing ran */
    /* Trailing semicolons, whitespace and comments are fine. */
    CHECK_INT(
        store_query_run(s, "SELECT 1;; -- done\n /* c */ ", count_rows, &n), 0);
    CHECK_INT(n, 1);
    check_rows(s, "SELECT count(*) FROM urls", "20\n");
    store_close(s);

    /* Even on a writable connection, the query commands cannot write. */
    struct store *w = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &w, err, sizeof err), 0);
    CHECK_INT(store_query_run(w, "DELETE FROM urls", count_rows, &n),
              STORE_EWRITE);
    check_rows(w, "SELECT count(*) FROM urls", "20\n");
    /* ... and the connection is writable again afterwards. */
    CHECK_INT(store_meta_set(w, "k", "v"), 0);
    store_close(w);
    remove_db();
}

/* --- Links, search, stats ------------------------------------------------ */

TEST(query_links_out_and_in)
{
    build_fixture();
    struct store *s = open_ro();
    struct rows r = {.n = 0};
    buf_init(&r.text, 1 << 20);
    CHECK_INT(store_links(s, "http://h/a", 0, collect, &r), 0);
    CHECK_STR(r.header, "url|kind|nofollow|status");
    /* Each target once (linked twice, by <a> and <link rel=nofollow>: the
     * <a> counts), by URL, with its latest status. */
    CHECK_STR(r.text.data, "http://h/|a|0|200\n"
                           "http://h/down|a|0|0\n"
                           "http://h/missing|a|0|404\n"
                           "http://h/q|link|0|NULL\n");
    buf_reset(&r.text);
    CHECK_INT(store_links(s, "http://h/missing", STORE_LINKS_IN, collect, &r),
              0);
    CHECK_STR(r.text.data, "http://h/|a|0|200\n"
                           "http://h/a|a|0|200\n");
    buf_reset(&r.text);
    CHECK_INT(store_links(s, "http://h/r1", 0, collect, &r), 0);
    CHECK_STR(r.text.data, "http://h/r2|redirect|0|302\n");
    buf_reset(&r.text);
    CHECK_INT(store_links(s, "mailto:z", STORE_LINKS_IN, collect, &r), 0);
    CHECK_STR(r.text.data, "http://h/|a|0|200\n");
    CHECK_INT(store_links(s, "http://h/nowhere", 0, collect, &r),
              STORE_ENOTFOUND);
    buf_release(&r.text);
    store_close(s);
    remove_db();
}

/* A crawl drops the in-link index when it starts and builds it when it
 * ends; after one that did not end, in-links are still answered (from all
 * links, the same rows) and `crawler index` builds the index again. */
TEST(query_links_in_without_the_index)
{
    build_fixture();
    struct store *w = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &w, err, sizeof err), 0);
    CHECK_INT(store_inlinks_missing(w), 0);
    CHECK_INT(store_inlinks_drop(w), 0);
    CHECK_INT(store_inlinks_missing(w), 1);
    store_close(w);
    struct store *s = open_ro();
    char *plan = plan_of(s, store_links_sql(STORE_LINKS_IN));
    CHECK(strstr(plan, "links_to") == NULL);
    free(plan);
    struct rows r = {.n = 0};
    buf_init(&r.text, 1 << 20);
    CHECK_INT(store_links(s, "http://h/missing", STORE_LINKS_IN, collect, &r),
              0);
    CHECK_STR(r.text.data, "http://h/|a|0|200\n"
                           "http://h/a|a|0|200\n");
    buf_release(&r.text);
    store_close(s);
    CHECK_INT(store_open(db_path, STORE_WRITE, &w, err, sizeof err), 0);
    CHECK_INT(store_inlinks_build(w), 0);
    CHECK_INT(store_inlinks_missing(w), 0);
    CHECK_INT(store_inlinks_build(w), 0); /* there already: nothing to do */
    store_close(w);
    s = open_ro();
    plan = plan_of(s, store_links_sql(STORE_LINKS_IN));
    CHECK(strstr(plan, "links_to (to_hash=?)") != NULL);
    free(plan);
    store_close(s);
    remove_db();
}

TEST(query_search_ranks_and_skips_noindex)
{
    build_fixture();
    struct store *s = open_ro();
    struct rows r = {.n = 0};
    buf_init(&r.text, 1 << 20);
    CHECK_INT(store_search(s, "quokka", 0, "[", "]", count_rows, &r.n), 0);
    CHECK_INT(r.n, 2); /* not the noindex page */
    CHECK_INT(store_search(s, "quokka", 10, "[", "]", collect, &r), 0);
    CHECK_STR(r.header, "url|title|snippet|score");
    /* The title match ranks first; the snippet marks the match. */
    CHECK(starts_with(r.text.data, "http://h/final|Quokka end|[Quokka] end|"));
    CHECK(strstr(r.text.data, "\nhttp://h/a|Alpha|the [quokka] lives here|"));
    buf_reset(&r.text);
    CHECK_INT(store_search(s, "quokka", 1, "<", ">", collect, &r), 0);
    CHECK(starts_with(r.text.data, "http://h/final|"));
    CHECK(strchr(r.text.data, '\n') == r.text.data + r.text.len - 1);
    r.n = 0;
    CHECK_INT(store_search(s, "nosuchword", 0, "[", "]", count_rows, &r.n), 0);
    CHECK_INT(r.n, 0);
    CHECK_INT(store_search(s, "quokka AND", 0, "[", "]", count_rows, &r.n),
              STORE_EFAIL);
    CHECK(strstr(store_errmsg(s), "syntax error") != NULL);
    buf_release(&r.text);
    store_close(s);
    remove_db();
}

TEST(query_stats_counts)
{
    build_fixture();
    struct store *s = open_ro();
    struct store_stats st;
    CHECK_INT(store_stats(s, 10, &st), 0);
    CHECK_INT(st.n_pages, 16);
    CHECK_INT(st.n_by_class[STATUS_NONE], 1);
    CHECK_INT(st.n_by_class[2], 6);
    CHECK_INT(st.n_by_class[3], 6);
    CHECK_INT(st.n_by_class[4], 1);
    CHECK_INT(st.n_by_class[5], 2);
    CHECK_INT(st.n_by_class[STATUS_OTHER], 0);
    CHECK_INT(st.n_types, 2);
    CHECK_STR(st.types[0].key, "text/html"); /* parameters, case folded */
    CHECK_INT(st.types[0].n, 9);
    CHECK_STR(st.types[1].key, "");
    CHECK_INT(st.types[1].n, 7);
    CHECK_INT(st.n_hosts, 2);
    CHECK_INT(st.n_urls, 20);
    CHECK_INT(st.n_by_state[URL_QUEUED], 2);
    CHECK_INT(st.n_by_state[URL_IN_FLIGHT], 0);
    CHECK_INT(st.n_by_state[URL_DONE], 13);
    CHECK_INT(st.n_by_state[URL_FAILED], 2);
    CHECK_INT(st.n_by_state[URL_SKIPPED], 3);
    CHECK_INT(st.n_reasons, 3);
    CHECK_STR(st.reasons[0].key, "robots");
    CHECK_STR(st.reasons[1].key, "scheme");
    CHECK_STR(st.reasons[2].key, "scope");
    CHECK_INT(st.reasons[2].n, 1);
    CHECK_INT(st.n_bytes, 2270);
    CHECK(st.started_at != NULL && strlen(st.started_at) == 24);
    CHECK(st.last_fetch_at != NULL && strlen(st.last_fetch_at) == 24);
    CHECK(st.duration_s >= 0 && st.duration_s < 60);
    CHECK_INT(st.n_top_hosts, 1); /* k has no pages */
    CHECK_STR(st.top_hosts[0].key, "http://h");
    CHECK_INT(st.top_hosts[0].n, 16);
    CHECK_INT(st.top_hosts[0].errors, 4);
    CHECK_INT(st.top_hosts[0].bytes, 2270);
    store_stats_release(&st);
    store_close(s);
    remove_db();
}

TEST(query_stats_of_empty_database)
{
    set_db_path();
    remove_db();
    struct store *s = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    store_close(s);
    s = open_ro();
    struct store_stats st;
    CHECK_INT(store_stats(s, 10, &st), 0);
    CHECK_INT(st.n_pages, 0);
    CHECK_INT(st.n_urls, 0);
    CHECK(st.started_at == NULL && st.last_fetch_at == NULL);
    CHECK(st.duration_s == 0);
    store_stats_release(&st);
    store_close(s);
    remove_db();
}

/* --- The commands' output, byte for byte --------------------------------- */

struct captured {
    int status;
    char *out;
    char *err;
};

static char *slurp(FILE *f)
{
    struct buf b;
    buf_init(&b, 1 << 24);
    buf_append_str(&b, "");
    rewind(f);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    size_t len;
    return buf_detach(&b, &len);
}

/* Runs a cmd_* with stdout and stderr going to files. */
static struct captured run_cmd(int (*cmd)(int, char **), char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *out = tmpfile(), *err = tmpfile();
    CHECK(out && err && saved_out >= 0 && saved_err >= 0);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    struct captured c = {.status = cmd(argc, argv)};
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    c.out = slurp(out);
    c.err = slurp(err);
    return c;
}

static void captured_release(struct captured *c)
{
    free(c->out);
    free(c->err);
}

/* Every kind of value that needs care: separators, quotes, newlines,
 * control characters, UTF-8 (valid, 4-byte, invalid), NULL and '',
 * integers, floats. */
static const char escape_sql[] =
    "SELECT 'a,b' AS \"x,y\", 'say \"hi\"' AS q,"
    " 'l1' || char(13, 10) || 'l2' AS nl,"
    " char(1) || char(9) || char(127) AS ctl,"
    " 'h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x90\xa8 ' || char(8232) AS utf8,"
    " CAST(X'ff41' AS TEXT) AS bad, NULL AS n, '' AS e,"
    " -9223372036854775808 AS i, 0.1 AS f, 1.0 AS g, 1e308 * 10 AS big";

TEST(query_csv_escaping)
{
    build_fixture();
    char *argv[] = {"query", "--db", db_path, "--csv", (char *)escape_sql,
                    NULL};
    struct captured c = run_cmd(cmd_query, argv);
    CHECK_INT(c.status, 0);
    CHECK_STR(c.err, "");
    CHECK_STR(c.out, "\"x,y\",q,nl,ctl,utf8,bad,n,e,i,f,g,big\r\n"
                     "\"a,b\",\"say \"\"hi\"\"\",\"l1\r\nl2\",\x01\t\x7f,"
                     "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x90\xa8 \xe2\x80\xa8,"
                     "\xff"
                     "A,,\"\",-9223372036854775808,0.1,1.0,Inf\r\n");
    captured_release(&c);
    remove_db();
}

TEST(query_json_escaping)
{
    build_fixture();
    char *argv[] = {"query", "--db", db_path, "--json", (char *)escape_sql,
                    NULL};
    struct captured c = run_cmd(cmd_query, argv);
    CHECK_INT(c.status, 0);
    CHECK_STR(c.err, "");
    CHECK_STR(c.out,
              "[\n{\"x,y\":\"a,b\",\"q\":\"say \\\"hi\\\"\","
              "\"nl\":\"l1\\r\\nl2\",\"ctl\":\"\\u0001\\t\x7f\","
              "\"utf8\":\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x90\xa8 "
              "\xe2\x80\xa8\",\"bad\":\"\\ufffdA\",\"n\":null,\"e\":\"\","
              "\"i\":-9223372036854775808,\"f\":0.1,\"g\":1.0,"
              "\"big\":null}\n]\n");
    captured_release(&c);
    /* No rows: still one valid JSON document. */
    char *none[] = {"query", "--db", db_path, "--json", "SELECT 1 AS x WHERE 0",
                    NULL};
    c = run_cmd(cmd_query, none);
    CHECK_INT(c.status, 0);
    CHECK_STR(c.out, "[]\n");
    captured_release(&c);
    remove_db();
}

TEST(query_table_output)
{
    build_fixture();
    char *argv[] = {"query", "--db", db_path,
                    "SELECT 1 AS n, 'x' AS s, 'a' || char(10) || 'b' AS t"
                    " UNION ALL SELECT 100, 'long text', NULL",
                    NULL};
    struct captured c = run_cmd(cmd_query, argv);
    CHECK_INT(c.status, 0);
    /* Numbers right-aligned, newlines shown escaped, NULL empty. */
    CHECK_STR(c.out, "  n  s          t\n"
                     "---  ---------  ----\n"
                     "  1  x          a\\nb\n"
                     "100  long text  \n");
    captured_release(&c);
    remove_db();
}

TEST(query_export_jsonl_and_csv)
{
    build_fixture();
    char *jsonl[] = {"export", "--db",    db_path, "--format",
                     "jsonl",  "--table", "links", NULL};
    struct captured c = run_cmd(cmd_export, jsonl);
    CHECK_INT(c.status, 0);
    int lines = 0;
    for (const char *p = c.out; *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, (int)N_OF(fx_links));
    CHECK(strstr(c.out, "{\"from_url\":\"http://h/a\",\"to_url\":"
                        "\"http://h/missing\",\"kind\":2,\"nofollow\":1}\n"));
    CHECK(strstr(c.out, "{\"from_url\":\"http://h/out\",\"to_url\":"
                        "\"http://g/\",\"kind\":5,\"nofollow\":0}\n"));
    captured_release(&c);
    char *csv[] = {"export", "--db", db_path, "--format", "csv", NULL};
    c = run_cmd(cmd_export, csv);
    CHECK_INT(c.status, 0);
    CHECK(starts_with(c.out, "id,url,fetched_at,status,"));
    lines = 0;
    for (const char *p = c.out; *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, 1 + (int)N_OF(fx_pages));
    captured_release(&c);
    remove_db();
}

TEST(query_commands_fail_on_a_text_file)
{
    set_db_path();
    remove_db();
    FILE *f = fopen(db_path, "w");
    CHECK(f != NULL);
    fputs("this is not a database, just text\n", f);
    fclose(f);
    int (*cmds[])(int, char **) = {cmd_stats, cmd_query, cmd_search, cmd_export,
                                   cmd_links};
    char *argvs[][8] = {
        {"stats", "--db", db_path, NULL},
        {"query", "--db", db_path, "SELECT 1", NULL},
        {"search", "--db", db_path, "word", NULL},
        {"export", "--db", db_path, "--format", "csv", NULL},
        {"links", "--db", db_path, "http://h/", NULL},
    };
    char want[128];
    snprintf(want, sizeof want, "crawler: %s: not a crawl database", db_path);
    for (size_t i = 0; i < N_OF(cmds); i++) {
        struct captured c = run_cmd(cmds[i], argvs[i]);
        CHECK_INT(c.status, 1);
        CHECK_STR(c.out, "");
        CHECK(starts_with(c.err, want));
        CHECK(strchr(c.err, '\n') == c.err + strlen(c.err) - 1);
        captured_release(&c);
    }
    remove_db();
}

TEST(query_command_errors_are_one_line)
{
    build_fixture();
    char *del[] = {"query", "--db", db_path, "DELETE FROM urls", NULL};
    struct captured c = run_cmd(cmd_query, del);
    CHECK_INT(c.status, 1);
    CHECK_STR(c.err, "crawler: 'DELETE FROM urls': writes are refused (the "
                     "database is read-only)\n");
    captured_release(&c);
    char *two[] = {"query", "--db", db_path, "SELECT 1;\n  SELECT 2", NULL};
    c = run_cmd(cmd_query, two);
    CHECK_INT(c.status, 1);
    CHECK_STR(c.err, "crawler: 'SELECT 1; SELECT 2': only one statement is "
                     "allowed\n");
    captured_release(&c);
    char *missing[] = {"links", "--db", db_path, "http://h/nowhere", NULL};
    c = run_cmd(cmd_links, missing);
    CHECK_INT(c.status, 1);
    CHECK_STR(c.err, "crawler: http://h/nowhere: not in the database\n");
    captured_release(&c);
    char *usage[] = {"export", "--db", db_path, NULL};
    c = run_cmd(cmd_export, usage);
    CHECK_INT(c.status, 2);
    captured_release(&c);
    char *bad[] = {"search", "--db", db_path, "--limit", "x", "w", NULL};
    c = run_cmd(cmd_search, bad);
    CHECK_INT(c.status, 2);
    captured_release(&c);
    remove_db();
}
