/*
 * query: the read side of the store (see query.h). Runs in the query
 * commands, normally on a read-only connection beside a running crawl.
 *
 * Invariants:
 *  1. Rows are handed over one at a time and never kept: memory does not
 *     grow with the size of a result (the statements are checked with
 *     EXPLAIN QUERY PLAN in tests/unit/test_query.c for temp b-trees where
 *     a table is streamed).
 *  2. A user statement runs only if it is exactly one statement and SQLite
 *     says it is read-only, and then with PRAGMA query_only on, on top of
 *     the read-only open: three locks on one door.
 *  3. Each call that runs several statements (stats) runs them in one read
 *     transaction, so its numbers agree with each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/hash.h"
#include "crawler/xalloc.h"
#include "store/db.h"
#include "store/query.h"

/* Page cache of an export, in KiB. */
#define EXPORT_CACHE_KIB 4096

/* The row callback, spelled once. */
typedef int (*row_fn)(void *arg, int n_cols, const char *const *names,
                      const struct store_value *vals);

static int fail_with(struct store *s, int rc, const char *msg)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s", msg);
    return rc;
}

/* Starts a read transaction unless the caller holds one (a writer's batch);
 * returns 1 when it did, so that read_end ends only its own. */
static int read_begin(struct store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        return 0;
    return db_exec(s, "BEGIN;") < 0 ? STORE_EFAIL : 1;
}

static void read_end(struct store *s, int began)
{
    if (began == 1)
        db_exec(s, "COMMIT;");
}

static void read_value(sqlite3_stmt *st, int i, struct store_value *v)
{
    memset(v, 0, sizeof *v);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        v->type = STORE_INT;
        v->i = sqlite3_column_int64(st, i);
        break;
    case SQLITE_FLOAT:
        v->type = STORE_FLOAT;
        v->f = sqlite3_column_double(st, i);
        break;
    case SQLITE_TEXT:
        v->type = STORE_TEXT;
        v->p = (const char *)sqlite3_column_text(st, i);
        v->len = (size_t)sqlite3_column_bytes(st, i);
        if (!v->p)
            v->p = "";
        break;
    case SQLITE_BLOB:
        v->type = STORE_BLOB;
        v->p = sqlite3_column_blob(st, i);
        v->len = (size_t)sqlite3_column_bytes(st, i);
        if (!v->p)
            v->p = "";
        break;
    default:
        v->type = STORE_NULL;
        break;
    }
}

/* Steps a prepared statement to its end, calling row for the header and
 * each row. Does not finalize st. */
static int stream_rows(struct store *s, sqlite3_stmt *st, row_fn row, void *arg)
{
    int n = sqlite3_column_count(st);
    /* Copied: a statement re-prepared on its first step (the schema changed
     * under it, e.g. a crawl started) may free the names SQLite gave. */
    char **names = xcalloc((size_t)n + 1, sizeof *names);
    struct store_value *vals = xcalloc((size_t)n + 1, sizeof *vals);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        names[i] = xstrdup(name ? name : "");
    }
    int rc = row(arg, n, (const char *const *)names, NULL);
    while (rc == 0) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = db_fail(s);
            break;
        }
        for (int i = 0; i < n; i++)
            read_value(st, i, &vals[i]);
        rc = row(arg, n, (const char *const *)names, vals);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(vals);
    return rc;
}

/* --- SQL ----------------------------------------------------------------- */

/* 0 when only whitespace, comments and empty statements follow. */
static int check_tail(struct store *s, const char *tail)
{
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        int rc = sqlite3_prepare_v2(s->db, tail, -1, &st, &next);
        if (st) {
            sqlite3_finalize(st);
            rc = SQLITE_ERROR;
        }
        if (rc != SQLITE_OK || next == tail)
            return fail_with(s, STORE_EMULTI, "only one statement is allowed");
        tail = next;
    }
    return 0;
}

int store_query_run(struct store *s, const char *sql, row_fn row, void *arg)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = 0;
    int query_only = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, &tail) != SQLITE_OK) {
        rc = db_fail(s);
        goto out;
    }
    if (!st) {
        rc = fail_with(s, STORE_EEMPTY, "no SQL statement");
        goto out;
    }
    rc = check_tail(s, tail);
    if (rc < 0)
        goto out;
    if (!sqlite3_stmt_readonly(st)) {
        rc = fail_with(s, STORE_EWRITE,
                       "writes are refused (the database is read-only)");
        goto out;
    }
    rc = db_exec(s, "PRAGMA query_only = 1;");
    if (rc < 0)
        goto out;
    query_only = 1;
    rc = stream_rows(s, st, row, arg);
out:
    sqlite3_finalize(st);
    if (query_only)
        db_exec(s, "PRAGMA query_only = 0;");
    return rc;
}

/* --- Fixed statements ---------------------------------------------------- */

/* Prepares one of this file's own statements. */
static sqlite3_stmt *prepare(struct store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *text = db_sql(s, sql);
    int rc = sqlite3_prepare_v2(s->db, text, -1, &st, NULL);
    free(text);
    if (rc != SQLITE_OK) {
        db_fail(s);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static const char search_sql[] =
    "SELECT u.url AS url, p.title AS title,"
    " snippet(page_text, -1, ?2, ?3, '\xe2\x80\xa6', 16) AS snippet,"
    " bm25(page_text, 10.0, 1.0) AS score"
    " FROM page_text"
    " JOIN pages AS p ON p.id = page_text.rowid"
    " JOIN urls AS u ON u.id = p.url_id"
    " WHERE page_text MATCH ?1"
    " ORDER BY score, p.id LIMIT ?4";

int store_search(struct store *s, const char *query, int64_t limit,
                 const char *mark_open, const char *mark_close, row_fn row,
                 void *arg)
{
    sqlite3_stmt *st = prepare(s, search_sql);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, mark_open, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mark_close, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, limit > 0 ? limit : -1);
    int rc = stream_rows(s, st, row, arg);
    sqlite3_finalize(st);
    return rc;
}

/* CROSS JOIN keeps the exported table in the outer loop, read in storage
 * order (rowid; links has no rowid and is read in primary key order): no
 * sort, so constant memory for any number of rows. */
static const char *const export_sql[] = {
    [STORE_TABLE_PAGES] =
        "SELECT p.id AS id, u.url AS url, p.fetched_at AS fetched_at,"
        " p.status AS status, p.error AS error, p.curl_code AS curl_code,"
        " p.final_url AS final_url, p.content_type AS content_type,"
        " p.location AS location, p.bytes AS bytes,"
        " p.truncated AS truncated, p.body_hash AS body_hash,"
        " p.title AS title, p.canonical AS canonical,"
        " p.noindex AS noindex, p.nofollow AS nofollow,"
        " p.n_links AS n_links, p.etag AS etag,"
        " p.last_modified AS last_modified, p.remote_ip AS remote_ip,"
        " p.connect_ms AS connect_ms, p.ttfb_ms AS ttfb_ms,"
        " p.total_ms AS total_ms"
        " FROM pages AS p CROSS JOIN urls AS u ON u.id = p.url_id"
        " ORDER BY p.id",
    [STORE_TABLE_LINKS] =
        "SELECT f.url AS from_url, t.url AS to_url, l.kind AS kind,"
        " l.nofollow AS nofollow"
        " FROM links AS l CROSS JOIN urls AS f ON f.id = l.from_id"
        " LEFT JOIN urls AS t"
        " ON (t.hash = l.to_hash AND t.id <= SETTLED_ID)"
        " OR (t.hash = l.to_hash AND t.id > SETTLED_ID)",
    [STORE_TABLE_URLS] =
        "SELECT u.id AS id, u.url AS url, h.origin AS host,"
        " u.state AS state, u.reason AS reason, u.depth AS depth,"
        " u.hops AS hops, u.from_id AS from_id, u.attempts AS attempts,"
        " u.discovered_at AS discovered_at"
        " FROM urls AS u LEFT JOIN hosts AS h ON h.id = u.host_id"
        " ORDER BY u.id",
};

const char *store_export_sql(enum store_table table)
{
    if ((unsigned)table >= sizeof export_sql / sizeof export_sql[0])
        return NULL;
    return export_sql[table];
}

int store_export(struct store *s, enum store_table table, row_fn row, void *arg)
{
    const char *sql = store_export_sql(table);
    if (!sql)
        return fail_with(s, STORE_EFAIL, "no such table");
    /* A stream reads each page once: a large cache would only fill up
     * (to DB_CACHE_KIB, store_open's setting) and stay full. */
    db_exec(s, "PRAGMA cache_size = -" STRINGIFY(EXPORT_CACHE_KIB) ";");
    sqlite3_stmt *st = prepare(s, sql);
    if (!st)
        return STORE_EFAIL;
    int rc = stream_rows(s, st, row, arg);
    sqlite3_finalize(st);
    return rc;
}

/* --- Links of one URL ---------------------------------------------------- */

static const char url_find_sql[] =
    "SELECT id FROM urls WHERE ((hash = ?1 AND id <= SETTLED_ID)"
    " OR (hash = ?1 AND id > SETTLED_ID)) AND url = ?2";

/* One row per linked URL, sorted by URL (the order links were found in is
 * not kept). A URL linked with several kinds gets the smallest; with
 * min(), SQLite takes the bare column nofollow from that row. The status
 * is that of the URL's latest fetch. */
static const char links_out_sql[] =
    "SELECT d.url AS url,"
    " CASE g.kind WHEN 0 THEN 'a' WHEN 1 THEN 'area' WHEN 2 THEN 'link'"
    "  WHEN 3 THEN 'frame' WHEN 4 THEN 'iframe' WHEN 5 THEN 'redirect'"
    "  WHEN 6 THEN 'sitemap' ELSE 'other' END AS kind,"
    " g.nofollow AS nofollow,"
    " (SELECT q.status FROM pages AS q WHERE q.url_id = d.id"
    "  ORDER BY q.id DESC LIMIT 1) AS status"
    " FROM (SELECT l.to_hash, min(l.kind) AS kind, l.nofollow"
    "  FROM links AS l"
    "  WHERE l.from_id = (SELECT id FROM urls"
    "   WHERE ((hash = ?1 AND id <= SETTLED_ID)"
    "   OR (hash = ?1 AND id > SETTLED_ID)) AND url = ?2)"
    "  GROUP BY l.to_hash) AS g"
    " JOIN urls AS d ON (d.hash = g.to_hash AND d.id <= SETTLED_ID)"
    " OR (d.hash = g.to_hash AND d.id > SETTLED_ID)"
    " ORDER BY d.url";

static const char links_in_sql[] =
    "SELECT f.url AS url,"
    " CASE g.kind WHEN 0 THEN 'a' WHEN 1 THEN 'area' WHEN 2 THEN 'link'"
    "  WHEN 3 THEN 'frame' WHEN 4 THEN 'iframe' WHEN 5 THEN 'redirect'"
    "  WHEN 6 THEN 'sitemap' ELSE 'other' END AS kind,"
    " g.nofollow AS nofollow,"
    " (SELECT q.status FROM pages AS q WHERE q.url_id = f.id"
    "  ORDER BY q.id DESC LIMIT 1) AS status"
    " FROM (SELECT l.from_id, min(l.kind) AS kind, l.nofollow"
    "  FROM links AS l WHERE l.to_hash = ?1"
    "  GROUP BY l.from_id) AS g"
    " JOIN urls AS f ON f.id = g.from_id"
    " ORDER BY f.url";

const char *store_links_sql(unsigned flags)
{
    return (flags & STORE_LINKS_IN) ? links_in_sql : links_out_sql;
}

/* Counts the rows it passes on (to tell "no such URL" from no fetches). */
struct row_count {
    row_fn fn;
    void *arg;
    int64_t n;
};

static int count_row(void *arg, int n_cols, const char *const *names,
                     const struct store_value *vals)
{
    struct row_count *c = arg;
    if (vals)
        c->n++; /* not the header call */
    return c->fn(c->arg, n_cols, names, vals);
}

/* What `crawler explain` shows: the URL's row with where it was first
 * found, then each of its fetches, oldest first. */
static const char explain_url_sql[] =
    "SELECT u.url, CASE u.state WHEN 0 THEN 'queued' WHEN 1 THEN"
    " 'in flight' WHEN 2 THEN 'done' WHEN 3 THEN 'failed' ELSE 'skipped'"
    " END AS state, u.reason, u.depth, u.hops AS redirects, u.attempts,"
    " u.discovered_at, f.url AS found_on,"
    " CASE u.kind WHEN 1 THEN 'sitemap' ELSE 'page' END AS kind"
    " FROM urls AS u LEFT JOIN urls AS f ON f.id = u.from_id"
    " WHERE ((u.hash = ?1 AND u.id <= SETTLED_ID)"
    " OR (u.hash = ?1 AND u.id > SETTLED_ID)) AND u.url = ?2";
static const char explain_fetches_sql[] =
    "SELECT p.fetched_at, p.status, p.error, p.content_type, p.bytes,"
    " p.location, p.total_ms, d.url AS duplicate_of"
    " FROM pages AS p JOIN urls AS u ON u.id = p.url_id"
    " LEFT JOIN urls AS d ON d.id = p.duplicate_of"
    " WHERE ((u.hash = ?1 AND u.id <= SETTLED_ID)"
    " OR (u.hash = ?1 AND u.id > SETTLED_ID)) AND u.url = ?2"
    " ORDER BY p.id";

int store_explain(struct store *s, const char *url, row_fn url_row,
                  row_fn fetch_row, void *arg)
{
    int64_t hash = hash64(url, strlen(url));
    int began = read_begin(s);
    if (began < 0)
        return began;
    int rc = 0;
    const char *sqls[2] = {explain_url_sql, explain_fetches_sql};
    row_fn fns[2] = {url_row, fetch_row};
    for (int i = 0; i < 2 && rc == 0; i++) {
        sqlite3_stmt *st = prepare(s, sqls[i]);
        if (!st) {
            rc = STORE_EFAIL;
            break;
        }
        sqlite3_bind_int64(st, 1, hash);
        sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
        struct row_count counted = {.fn = fns[i], .arg = arg};
        rc = stream_rows(s, st, count_row, &counted);
        sqlite3_finalize(st);
        if (rc == 0 && i == 0 && counted.n == 0)
            rc = fail_with(s, STORE_ENOTFOUND, "not in the database");
    }
    read_end(s, began);
    return rc;
}

int store_links(struct store *s, const char *url, unsigned flags, row_fn row,
                void *arg)
{
    int64_t hash = hash64(url, strlen(url));
    sqlite3_stmt *st = NULL;
    int began = read_begin(s);
    if (began < 0)
        return began;
    int rc = 0;
    st = prepare(s, url_find_sql);
    if (!st) {
        rc = STORE_EFAIL;
        goto out;
    }
    sqlite3_bind_int64(st, 1, hash);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (step == SQLITE_DONE) {
        rc = fail_with(s, STORE_ENOTFOUND, "not in the database");
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = db_fail(s);
        goto out;
    }
    st = prepare(s, store_links_sql(flags));
    if (!st) {
        rc = STORE_EFAIL;
        goto out;
    }
    sqlite3_bind_int64(st, 1, hash);
    if (!(flags & STORE_LINKS_IN))
        sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    rc = stream_rows(s, st, row, arg);
out:
    sqlite3_finalize(st);
    read_end(s, began);
    return rc;
}

/* --- Statistics ---------------------------------------------------------- */

/* Runs sql (no parameters) and calls fn for each row. */
static int each_row(struct store *s, const char *sql,
                    void (*fn)(sqlite3_stmt *st, struct store_stats *out),
                    struct store_stats *out)
{
    sqlite3_stmt *st = prepare(s, sql);
    if (!st)
        return STORE_EFAIL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(st, out);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static void add_count(struct store_count **list, size_t *n, sqlite3_stmt *st)
{
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    struct store_count *c = &(*list)[(*n)++];
    memset(c, 0, sizeof *c);
    c->key = column_dup(st, 0);
    if (!c->key)
        c->key = xstrdup("");
    c->n = sqlite3_column_int64(st, 1);
    if (sqlite3_column_count(st) > 3) {
        c->errors = sqlite3_column_int64(st, 2);
        c->bytes = sqlite3_column_int64(st, 3);
    }
}

static void on_class(sqlite3_stmt *st, struct store_stats *out)
{
    int64_t status = sqlite3_column_int64(st, 0);
    int cls = status == 0                     ? STATUS_NONE
              : status >= 100 && status < 600 ? (int)(status / 100)
                                              : STATUS_OTHER;
    out->n_by_class[cls] += sqlite3_column_int64(st, 1);
    out->n_pages += sqlite3_column_int64(st, 1);
    out->n_bytes += sqlite3_column_int64(st, 2);
}

static void on_type(sqlite3_stmt *st, struct store_stats *out)
{
    add_count(&out->types, &out->n_types, st);
}

static void on_reason(sqlite3_stmt *st, struct store_stats *out)
{
    add_count(&out->reasons, &out->n_reasons, st);
}

static void on_host(sqlite3_stmt *st, struct store_stats *out)
{
    add_count(&out->top_hosts, &out->n_top_hosts, st);
}

static void on_totals(sqlite3_stmt *st, struct store_stats *out)
{
    out->n_hosts = sqlite3_column_int64(st, 0);
    out->started_at = column_dup(st, 1);
    out->last_fetch_at = column_dup(st, 2);
    out->duration_s = sqlite3_column_double(st, 3);
}

/* The content type without parameters, lower-case: "text/html". */
#define BARE_TYPE                                                              \
    "lower(trim(CASE WHEN instr(content_type, ';') > 0"                        \
    " THEN substr(content_type, 1, instr(content_type, ';') - 1)"              \
    " ELSE content_type END))"

static const char stats_class_sql[] =
    "SELECT status, count(*), coalesce(sum(bytes), 0) FROM pages"
    " GROUP BY status";
static const char stats_type_sql[] =
    "SELECT coalesce(" BARE_TYPE ", '') AS t, count(*) AS n FROM pages"
    " GROUP BY t ORDER BY n DESC, t LIMIT " STRINGIFY(STORE_STATS_MAX_KEYS);
static const char stats_reason_sql[] =
    "SELECT coalesce(CASE WHEN instr(reason, ':') > 0"
    " THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END, '')"
    " AS r, count(*) AS n FROM urls WHERE state = 4"
    " GROUP BY r ORDER BY n DESC, r LIMIT " STRINGIFY(STORE_STATS_MAX_KEYS);
/* The first URL is a seed, added as the crawl started; rowid order is
 * time order, and reading by rowid needs no index on the times. */
static const char stats_totals_sql[] =
    "SELECT n, a, b, coalesce((julianday(b) - julianday(a)) * 86400.0, 0)"
    " FROM (SELECT (SELECT count(*) FROM hosts) AS n,"
    "  (SELECT discovered_at FROM urls ORDER BY id LIMIT 1) AS a,"
    "  (SELECT fetched_at FROM pages ORDER BY id DESC LIMIT 1) AS b)";
static const char stats_hosts_sql[] =
    "SELECT h.origin, g.n, g.errors, g.bytes"
    " FROM (SELECT u.host_id, count(*) AS n,"
    "  count(CASE WHEN p.status >= 400 OR p.status = 0 THEN 1 END)"
    "  AS errors, coalesce(sum(p.bytes), 0) AS bytes"
    "  FROM pages AS p JOIN urls AS u ON u.id = p.url_id"
    "  GROUP BY u.host_id) AS g"
    " JOIN hosts AS h ON h.id = g.host_id"
    " ORDER BY g.n DESC, h.origin LIMIT ?1";

int store_stats(struct store *s, int max_top_hosts, struct store_stats *out)
{
    struct store_stats st = {0};
    sqlite3_stmt *hosts = NULL;
    int began = read_begin(s);
    if (began < 0)
        return began;
    int rc = each_row(s, stats_class_sql, on_class, &st);
    if (rc == 0)
        rc = each_row(s, stats_type_sql, on_type, &st);
    if (rc == 0)
        rc = store_url_counts(s, st.n_by_state);
    for (int i = 0; i < URL_N_STATES; i++)
        st.n_urls += st.n_by_state[i];
    if (rc == 0)
        rc = each_row(s, stats_reason_sql, on_reason, &st);
    if (rc == 0)
        rc = each_row(s, stats_totals_sql, on_totals, &st);
    if (rc < 0)
        goto out;
    hosts = prepare(s, stats_hosts_sql);
    if (!hosts) {
        rc = STORE_EFAIL;
        goto out;
    }
    sqlite3_bind_int(hosts, 1, max_top_hosts);
    int step;
    while ((step = sqlite3_step(hosts)) == SQLITE_ROW)
        on_host(hosts, &st);
    if (step != SQLITE_DONE)
        rc = db_fail(s);
out:
    sqlite3_finalize(hosts);
    read_end(s, began);
    if (rc < 0) {
        store_stats_release(&st);
        return rc;
    }
    *out = st;
    return 0;
}

static void free_counts(struct store_count *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].key);
    free(list);
}

void store_stats_release(struct store_stats *st)
{
    free_counts(st->types, st->n_types);
    free_counts(st->reasons, st->n_reasons);
    free_counts(st->top_hosts, st->n_top_hosts);
    free(st->started_at);
    free(st->last_fetch_at);
    memset(st, 0, sizeof *st);
}
