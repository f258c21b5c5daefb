/*
 * store: opening the crawl database, its schema, transactions and metadata.
 * Runs in the coordinator (read-write, the only writer) and in the query
 * commands (read-only, alongside a running crawl thanks to WAL).
 *
 * Schema (version 2; version 1 kept the text inside page_text, see
 * migrate_v1). Times are unix milliseconds in integer columns named
 * *_ms, and ISO 8601 UTC text in columns named *_at.
 *
 *   meta(key, value)          crawl metadata: schema version, options, runs
 *   hosts(id, origin, ...)    one per scheme://host:port; robots.txt and the
 *                             scheduler state that must survive a restart
 *   urls(id, hash, url, ...)  the frontier: every URL the crawl has seen;
 *                             kind 0 is a page, 1 a sitemap
 *   pages(id, url_id, ...)    one row per fetch result
 *   links(from_id, to_hash)   edges from a fetched URL to a URL (by hash, so
 *                             recording an edge needs no lookup)
 *   texts(page_id, ...)       title and visible text of each page that
 *                             may be indexed (not noindex)
 *   page_text(title, text)    FTS5 index over texts, rowid = pages.id;
 *                             brought up to date lazily (store/text.c)
 *
 * Indexes and why:
 *   urls_hash, urls_hash_recent
 *                             the URL-seen test (8-byte keys, not URL
 *                             text): unique, in a settled and a recent
 *                             part (db.h)
 *   urls_host_state           lease the oldest queued URLs of a host
 *                             without scanning; counts by host and state
 *                             (start-up, stats, host_summary)
 *   urls_in_flight (partial)  the leased rows, queued again at start-up
 *   urls_skipped (partial)    the skipped rows (the skipped view, stats)
 *   pages_url                 a URL's fetches (views, explain, links)
 *   pages_body_hash           duplicate content
 *   links primary key         out-links of a page, clustered by page (the
 *                             table is WITHOUT ROWID: one b-tree, not two)
 *   links_to                  in-links of a URL; built when a crawl
 *                             ends, not kept while it runs (store.h)
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/xalloc.h"

#define SCHEMA_VERSION 2
#define SCHEMA_VERSION_TEXT STRINGIFY(SCHEMA_VERSION)
static const char schema_version_sql[] =
    "INSERT INTO meta VALUES ('schema_version', " SCHEMA_VERSION_TEXT ")"
    " ON CONFLICT(key) DO UPDATE SET value = excluded.value;";
/* Stamped in the file header so that `file` and we can tell our databases
 * from any other SQLite file. */
#define APPLICATION_ID 0x43524157 /* "CRAW" */

/* Also what migrate_v1 moves version 1's text into. */
#define TEXTS_SQL                                                              \
    "CREATE TABLE IF NOT EXISTS texts("                                        \
    " page_id INTEGER PRIMARY KEY, title TEXT, text TEXT);"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta("
    " key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS hosts("
    " id INTEGER PRIMARY KEY,"
    " origin TEXT NOT NULL UNIQUE,"
    " robots_state INTEGER NOT NULL DEFAULT 0,"
    " robots_txt BLOB,"
    " robots_fetched_ms INTEGER NOT NULL DEFAULT 0,"
    " crawl_delay_ms INTEGER NOT NULL DEFAULT -1,"
    " delay_ms INTEGER NOT NULL DEFAULT 0,"
    " next_at_ms INTEGER NOT NULL DEFAULT 0,"
    " error_streak INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS urls("
    " id INTEGER PRIMARY KEY,"
    " hash INTEGER NOT NULL,"
    " url TEXT NOT NULL,"
    " kind INTEGER NOT NULL DEFAULT 0,"
    " host_id INTEGER REFERENCES hosts(id),"
    " state INTEGER NOT NULL,"
    " reason TEXT,"
    " depth INTEGER NOT NULL,"
    " hops INTEGER NOT NULL DEFAULT 0,"
    " from_id INTEGER,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " discovered_at TEXT NOT NULL"
    "  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
    /* Each entry ends with the rowid, so a host's queued URLs are one run
     * of entries in id order: the lease reads the oldest without a sort.
     * urls_queued (a partial index of the same run) and urls_state(state)
     * cost an index update per insert, lease and finish; the two partial
     * indexes after it hold only the rows they are read for. */
    "DROP INDEX IF EXISTS urls_host;"
    "DROP INDEX IF EXISTS urls_queued;"
    "DROP INDEX IF EXISTS urls_state;"
    "CREATE INDEX IF NOT EXISTS urls_host_state ON urls(host_id, state);"
    "CREATE INDEX IF NOT EXISTS urls_in_flight ON urls(id) WHERE state = 1;"
    "CREATE INDEX IF NOT EXISTS urls_skipped ON urls(id) WHERE state = 4;"
    "CREATE TABLE IF NOT EXISTS pages("
    " id INTEGER PRIMARY KEY,"
    " url_id INTEGER NOT NULL REFERENCES urls(id),"
    " fetched_at TEXT NOT NULL"
    "  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
    " status INTEGER NOT NULL,"
    " error TEXT,"
    " curl_code INTEGER NOT NULL DEFAULT 0,"
    " final_url TEXT,"
    " content_type TEXT,"
    " location TEXT,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " truncated INTEGER NOT NULL DEFAULT 0,"
    " body_hash INTEGER,"
    " title TEXT,"
    " canonical TEXT,"
    " noindex INTEGER NOT NULL DEFAULT 0,"
    " nofollow INTEGER NOT NULL DEFAULT 0,"
    " n_links INTEGER NOT NULL DEFAULT 0,"
    " etag TEXT,"
    " last_modified TEXT,"
    " remote_ip TEXT,"
    " connect_ms REAL,"
    " ttfb_ms REAL,"
    " total_ms REAL,"
    " duplicate_of INTEGER);"
    "CREATE INDEX IF NOT EXISTS pages_url ON pages(url_id);"
    "CREATE INDEX IF NOT EXISTS pages_body_hash ON pages(body_hash);"
    "CREATE TABLE IF NOT EXISTS links("
    " from_id INTEGER NOT NULL,"
    " to_hash INTEGER NOT NULL,"
    " kind INTEGER NOT NULL,"
    " nofollow INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (from_id, to_hash, kind)) WITHOUT ROWID;" TEXTS_SQL
    "CREATE VIRTUAL TABLE IF NOT EXISTS page_text USING fts5(title, text,"
    " content='texts', content_rowid='page_id');";

#define LINK_ROW "(?1, ?, ?, ?)"
#define LINK_ROWS_4 LINK_ROW "," LINK_ROW "," LINK_ROW "," LINK_ROW
_Static_assert(LINKS_PER_INSERT == 16, "ST_LINKS_ADD has 16 rows");

static const char *const stmt_sql[ST_COUNT] = {
    [ST_HOST_FIND] = "SELECT id FROM hosts WHERE origin = ?1",
    [ST_HOST_ADD] = "INSERT INTO hosts(origin) VALUES (?1)",
    [ST_HOST_LOAD] =
        "SELECT origin, robots_state, robots_txt, robots_fetched_ms,"
        " crawl_delay_ms, delay_ms, next_at_ms, error_streak,"
        " (SELECT count(*) FROM (SELECT 1 FROM urls WHERE host_id = ?1"
        " AND state = 0 LIMIT " QUEUED_COUNT_MAX_SQL ")),"
        " (SELECT count(*) FROM urls WHERE host_id = ?1 AND state IN (2, 3))"
        " FROM hosts WHERE id = ?1",
    [ST_HOST_SAVE] =
        "UPDATE hosts SET robots_state = ?2, robots_fetched_ms = ?3,"
        " crawl_delay_ms = ?4, delay_ms = ?5, next_at_ms = ?6,"
        " error_streak = ?7 WHERE id = ?1",
    [ST_HOST_SAVE_ROBOTS] = "UPDATE hosts SET robots_txt = ?2 WHERE id = ?1",
    [ST_URL_ADD] =
        "INSERT INTO urls(hash, url, host_id, state, reason, depth, hops,"
        " from_id, kind, discovered_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT DO NOTHING",
    /* The seen test in the settled part, before ST_URL_ADD: an insert's
     * conflict test sees only the index its row goes in, the recent part.
     * (One INSERT ... SELECT WHERE NOT EXISTS took twice as long as a
     * plain insert.) */
    [ST_URL_SETTLED] =
        "SELECT 1 FROM urls WHERE hash = ?1 AND id <= SETTLED_ID",
    /* A URL skipped because of how it was found (nofollow, depth) is
     * queued when a followable path reaches it. */
    [ST_URL_REVIVE] =
        "UPDATE urls SET state = 0, reason = NULL, depth = ?2, hops = ?3,"
        " from_id = ?4, host_id = ?5"
        " WHERE ((hash = ?1 AND id <= SETTLED_ID)"
        " OR (hash = ?1 AND id > SETTLED_ID))"
        " AND state = 4 AND reason IN ('nofollow', 'depth')",
    /* "?2 + 0", not "?2": SQLite compiles the statement again after each
     * new binding of a parameter it compared with a partial index's
     * condition (id > ?2 against urls_hash_recent's id > SETTLED_ID); an
     * expression is not compared, and the plan is the same. */
    [ST_URL_QUEUED] = "SELECT id, url, depth, hops, attempts, kind FROM urls"
                      " WHERE host_id = ?1 AND state = 0"
                      " AND id > ?2 + 0 AND id <= ?4 + 0 ORDER BY id LIMIT ?3",
    [ST_URL_FINISH] = "UPDATE urls SET state = ?2, reason = ?3, attempts = ?4"
                      " WHERE id = ?1",
    [ST_PAGE_ADD] =
        "INSERT INTO pages(url_id, status, error, curl_code, final_url,"
        " content_type, location, bytes, truncated, body_hash, title,"
        " canonical, noindex, nofollow, n_links, etag, last_modified,"
        " remote_ip, connect_ms, ttfb_ms, total_ms, duplicate_of, fetched_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
        " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
    [ST_PAGE_BY_BODY] = "SELECT url_id FROM pages WHERE body_hash = ?1"
                        " AND status BETWEEN 200 AND 299 AND url_id <> ?2"
                        " AND duplicate_of IS NULL ORDER BY id LIMIT 1",
    /* LINKS_PER_INSERT rows; each "?" numbers itself one past the
     * highest so far, so row k binds 3k+2 to 3k+4. Rows left unbound are
     * NULL and NOT NULL makes OR IGNORE skip them. */
    [ST_LINKS_ADD] =
        "INSERT OR IGNORE INTO links(from_id, to_hash, kind, nofollow)"
        " VALUES " LINK_ROWS_4 "," LINK_ROWS_4 "," LINK_ROWS_4 "," LINK_ROWS_4,
    [ST_TEXT_ADD] =
        "INSERT INTO texts(page_id, title, text) VALUES (?1, ?2, ?3)",
    [ST_TEXT_NEXT] = "SELECT page_id, title, text FROM texts"
                     " WHERE page_id > ?1 ORDER BY page_id LIMIT ?2",
    [ST_TEXT_INDEX] =
        "INSERT INTO page_text(rowid, title, text) VALUES (?1, ?2, ?3)",
    [ST_TEXT_PENDING] = "SELECT count(*) FROM"
                        " (SELECT 1 FROM texts WHERE page_id > ?1 LIMIT ?2)",
    [ST_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
};

int db_fail(struct store *s)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(s->db));
    return STORE_EFAIL;
}

sqlite3_stmt *db_stmt(struct store *s, enum stmt_id id)
{
    if (!s->st[id]) {
        char *sql = db_sql(s, stmt_sql[id]);
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->st[id], NULL);
        free(sql);
        if (rc != SQLITE_OK) {
            db_fail(s);
            return NULL;
        }
    }
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
    return s->st[id];
}

int db_done(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        db_fail(s);
        sqlite3_reset(st);
        return STORE_EFAIL;
    }
    sqlite3_reset(st);
    return 0;
}

void db_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void db_bind_now(struct store *s, sqlite3_stmt *st, int i)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != s->now_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(s->now_prefix, sizeof s->now_prefix, "%Y-%m-%dT%H:%M:%S", &tm);
        s->now_sec = ts.tv_sec;
    }
    char at[sizeof s->now_prefix + 8];
    size_t n = strlen(s->now_prefix);
    int ms = (int)(ts.tv_nsec / 1000000);
    memcpy(at, s->now_prefix, n);
    at[n++] = '.';
    at[n++] = (char)('0' + ms / 100);
    at[n++] = (char)('0' + ms / 10 % 10);
    at[n++] = (char)('0' + ms % 10);
    at[n++] = 'Z';
    sqlite3_bind_text(st, i, at, (int)n, SQLITE_TRANSIENT);
}

const char *store_errmsg(struct store *s)
{
    return s->errmsg;
}

int db_exec(struct store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s",
                 msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return STORE_EFAIL;
    }
    return 0;
}

char *db_sql(const struct store *s, const char *sql)
{
    char bound[24];
    size_t bound_len =
        (size_t)snprintf(bound, sizeof bound, "%lld", (long long)s->settled_id);
    size_t token_len = strlen(SETTLED_ID), n = 0;
    for (const char *p = sql; (p = strstr(p, SETTLED_ID)); p += token_len)
        n++;
    char *out = xmalloc(strlen(sql) + n * bound_len + 1), *o = out;
    for (const char *p = sql, *t;; p = t + token_len) {
        t = strstr(p, SETTLED_ID);
        size_t len = t ? (size_t)(t - p) : strlen(p);
        memcpy(o, p, len);
        o += len;
        if (!t)
            break;
        memcpy(o, bound, bound_len);
        o += bound_len;
    }
    *o = '\0';
    return out;
}

#define SORT_KIB 2048

int db_exec_sort(struct store *s, const char *sql)
{
    if (db_exec(s, "PRAGMA cache_size = -" STRINGIFY(SORT_KIB) ";") < 0)
        return STORE_EFAIL;
    int rc = db_exec(s, sql);
    if (db_exec(s, "PRAGMA cache_size = -" STRINGIFY(DB_CACHE_KIB) ";") < 0)
        rc = STORE_EFAIL;
    return rc;
}

int db_int(struct store *s, const char *sql, int64_t *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(s);
}

int db_has_table(struct store *s, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_schema WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : db_fail(s);
}

/* err for a database that could not be read at open, by SQLite's code. */
static int unreadable(struct store *s, char *err, size_t errlen,
                      const char *path)
{
    int code = sqlite3_errcode(s->db) & 0xff;
    if (code == SQLITE_NOTADB) {
        snprintf(err, errlen, "%s: not a crawl database (%s)", path, s->errmsg);
        return STORE_ENOTDB;
    }
    snprintf(err, errlen, "%s: %s: %s", path,
             code == SQLITE_CORRUPT ? "the database is damaged"
             : code == SQLITE_READONLY
                 ? "cannot read the database without write access to its "
                   "directory (its -shm file)"
                 : "cannot read the database",
             s->errmsg);
    return STORE_EFAIL;
}

/* Tells an empty new file, one of ours, and anything else apart. */
static int check_identity(struct store *s, int writable, char *err,
                          size_t errlen, const char *path)
{
    int64_t app_id = 0, n_tables = 0;
    if (db_int(s, "PRAGMA application_id", &app_id) < 0 ||
        db_int(s, "SELECT count(*) FROM sqlite_schema", &n_tables) < 0)
        return unreadable(s, err, errlen, path);
    if (app_id == APPLICATION_ID) {
        /* one a newer crawler made may not be read, let alone written */
        int64_t version = 0;
        int has_meta = db_has_table(s, "meta");
        if (has_meta < 0 ||
            (has_meta &&
             db_int(s,
                    "SELECT coalesce(max(CAST(value AS INTEGER)), 0)"
                    " FROM meta WHERE key = 'schema_version'",
                    &version) < 0))
            return unreadable(s, err, errlen, path);
        if (version > SCHEMA_VERSION) {
            snprintf(err, errlen,
                     "%s: made by a newer crawler (schema version %lld; this "
                     "one knows up to %d)",
                     path, (long long)version, SCHEMA_VERSION);
            return STORE_ENOTDB;
        }
        return 0;
    }
    if (app_id == 0 && n_tables == 0 && writable)
        return 1; /* new */
    snprintf(err, errlen, "%s: not a crawl database", path);
    return STORE_ENOTDB;
}

/* Version 1 kept the text inside page_text (FTS5 with its own content, and
 * indexed as the crawl went). Version 2 keeps it in texts, which page_text
 * indexes later: the text moves over and the index is rebuilt on demand
 * (store_text_index). Inside the schema transaction. */
static int migrate_v1(struct store *s)
{
    int has_texts = db_has_table(s, "texts");
    int has_fts = has_texts == 0 ? db_has_table(s, "page_text") : 0;
    if (has_texts < 0 || has_fts < 0)
        return STORE_EFAIL;
    if (!has_fts)
        return 0; /* version 2, or a new file */
    return db_exec(s, TEXTS_SQL "INSERT INTO texts(page_id, title, text)"
                                " SELECT rowid, title, text FROM page_text;"
                                "DROP TABLE page_text;");
}

/* Reads the bound of the settled part of the URL-seen index (db.h) from
 * urls_hash's WHERE term, which changes with the index in one transaction.
 * With writable, first makes the two parts for a new urls table. */
static int url_hash_setup(struct store *s, int writable)
{
    s->settled_id = INT64_MAX; /* the one index of older databases */
    int is_old = db_has_table(s, "sqlite_autoindex_urls_1");
    if (is_old != 0)
        return is_old < 0 ? is_old : 0;
    char create[256];
    snprintf(create, sizeof create, URL_HASH_INDEXES_SQL, 0LL, 0LL);
    if (writable && db_exec(s, create) < 0)
        return STORE_EFAIL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT sql FROM sqlite_schema"
                           " WHERE name = 'urls_hash'",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s);
    int rc = sqlite3_step(st);
    const char *sql =
        rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    const char *bound = sql ? strstr(sql, "id <= ") : NULL;
    if (bound)
        s->settled_id = strtoll(bound + strlen("id <= "), NULL, 10);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(s);
}

/* The crawl lock: one writer per database file, held for the life of the
 * process. It is an open file description lock on the database file
 * itself, so it holds whatever name the file is opened by (a symbolic or
 * a hard link: SQLite keys its log by name, and two writers through two
 * names would each keep a log of their own, one of them lost). It covers
 * one byte far past SQLite's own lock bytes, and unlike a POSIX lock it
 * stays when SQLite closes a descriptor of the same file. */
#define CRAWL_LOCK_OFFSET ((off_t)1 << 62)

static int take_lock(struct store *s, const char *path, char *err,
                     size_t errlen)
{
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "%s: cannot open database: %s", path,
                 strerror(errno));
        return STORE_EFAIL;
    }
    struct flock lk = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = CRAWL_LOCK_OFFSET,
        .l_len = 1,
    };
    if (fcntl(s->lock_fd, F_OFD_SETLK, &lk) < 0) {
        if (errno == EAGAIN || errno == EACCES) {
            snprintf(err, errlen,
                     "%s: another crawl is already writing this database",
                     path);
            return STORE_EBUSY;
        }
        snprintf(err, errlen, "%s: cannot lock the database: %s", path,
                 strerror(errno));
        return STORE_EFAIL;
    }
    return 0;
}

/* New databases get pages of 8 KiB instead of SQLite's 4 KiB. A crawl
 * writes mostly page texts (~14 KB each, in overflow pages) and rows that
 * land on random index leaves; with 8 KiB pages a commit writes half as
 * many log frames, and the cache has half as many pages to track for the
 * same memory. 20,000-page crawls were 2.7% (+-1.4) and 3.0% (+-1.4)
 * faster in two sets of 12 interleaved pairs, with 5 million frontier URLs
 * 8.9% (+-5.0) in 8, and the coordinator's peak fell by 3 MB there (94.8
 * MB). The database grows by 2.5%. With 16 KiB pages the database grew 7%
 * and the coordinator's peak rose by 2 MB, for a gain within the noise. */
#define PAGE_BYTES 8192

/* The page size of the database at path, PAGE_BYTES when there is none
 * yet (or its header cannot be read: SQLite will say why). */
static size_t file_page_bytes(const char *path)
{
    unsigned char h[18];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return PAGE_BYTES;
    ssize_t n = pread(fd, h, sizeof h, 0);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0)
        return PAGE_BYTES;
    size_t v = (size_t)h[16] << 8 | h[17];
    if (v == 1)
        return 65536;
    return v >= 512 && (v & (v - 1)) == 0 ? v : PAGE_BYTES;
}

/* The page cache of a read-write connection is DB_CACHE_KIB; the
 * checkpoint thread's takes a few hundred pages more from the same memory
 * (store/pagemem.c). Its slots fit the pages of the database about to be
 * opened, which may be older than PAGE_BYTES. Only a crawl asks for it
 * (the query commands open read-only first). */
#define SPARE_BYTES (2 << 20)

int store_open(const char *path, unsigned flags, struct store **out, char *err,
               size_t errlen)
{
    int writable = (flags & STORE_WRITE) != 0;
    /* SQLite reads "" as a temporary database, ":memory:" as one in
     * memory, and a name that starts with "file:" as a URI: the first two
     * would keep nothing, the last may not be the file named. */
    if (!*path || strcmp(path, ":memory:") == 0) {
        snprintf(err, errlen, "'%s': a crawl database is a file; give its path",
                 path);
        return STORE_EFAIL;
    }
    char dotted[4096];
    const char *name = path; /* as SQLite gets it */
    if (strncmp(path, "file:", 5) == 0) {
        if (snprintf(dotted, sizeof dotted, "./%s", path) >=
            (int)sizeof dotted) {
            snprintf(err, errlen, "%s: path too long", path);
            return STORE_EFAIL;
        }
        name = dotted;
    }
    struct store *s = xcalloc(1, sizeof *s);
    s->lock_fd = -1;
    int rc = 0;
    if (writable) {
        rc = take_lock(s, path, err, errlen);
        if (rc < 0)
            goto fail;
    }
    /* Each connection is used by one thread only (the crawl's, or the
     * checkpointer's), so connections need no mutexes, and nothing reads
     * SQLite's memory statistics, which took a lock per allocation (-12%
     * of the instructions of a URL insert). They can be set only before
     * SQLite initializes; later calls fail harmlessly. */
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (writable)
        db_page_memory_setup(file_page_bytes(path),
                             DB_CACHE_KIB * (size_t)1024 + SPARE_BYTES);
    int oflags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                          : SQLITE_OPEN_READONLY;
    const char *vfs = writable ? db_gather_vfs() : NULL;
    if (sqlite3_open_v2(name, &s->db, oflags | SQLITE_OPEN_NOMUTEX, vfs) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open database: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        rc = STORE_EFAIL;
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    rc = check_identity(s, writable, err, errlen, path);
    if (rc < 0)
        goto fail;
    if (writable) {
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d;",
                 APPLICATION_ID);
        /* page_size: takes for a new database only (it is fixed once
         * there is a log). secure_delete: Debian's SQLite zeroes every
         * freed cell and page and each new page by default; a crawl's
         * pages are public, and the zeroes cost CPU and log writes (a
         * settle frees whole indexes). */
        if (db_exec(s, "PRAGMA page_size = " STRINGIFY(PAGE_BYTES) ";") < 0 ||
            db_exec(s, "PRAGMA journal_mode = WAL;") < 0 ||
            db_exec(s, "PRAGMA synchronous = NORMAL;") < 0 ||
            db_exec(s, "PRAGMA secure_delete = OFF;") < 0 ||
            db_exec(s, "BEGIN;") < 0 || migrate_v1(s) < 0 ||
            db_exec(s, schema_sql) < 0 || url_hash_setup(s, 1) < 0 ||
            db_create_views(s) < 0 || db_exec(s, sql) < 0 ||
            db_exec(s, schema_version_sql) < 0 || db_exec(s, "COMMIT;") < 0) {
            snprintf(err, errlen, "%s: cannot create the schema: %s", path,
                     s->errmsg);
            rc = STORE_EFAIL;
            goto fail;
        }
    }
    if (!writable && url_hash_setup(s, 0) < 0) {
        snprintf(err, errlen, "%s: cannot read the schema: %s", path,
                 s->errmsg);
        rc = STORE_EFAIL;
        goto fail;
    }
    if (writable && settled_filter_load(s) < 0) {
        snprintf(err, errlen, "%s: cannot read the URL filter: %s", path,
                 s->errmsg);
        rc = STORE_EFAIL;
        goto fail;
    }
    db_exec(s, writable
                   ? "PRAGMA cache_size = -" STRINGIFY(DB_CACHE_KIB) ";"
                   : "PRAGMA cache_size = -" STRINGIFY(READ_CACHE_KIB) ";");
    if (writable)
        db_checkpointer_start(s, name);
    *out = s;
    return 0;
fail:
    store_close(s);
    return rc < 0 ? rc : STORE_EFAIL;
}

int store_empty_log(struct store *s)
{
    db_checkpointer_stop(s);
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                       NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return STORE_EBUSY;
    return db_fail(s);
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->in_tx)
        store_commit(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    db_checkpointer_stop(s);
    /* The writer empties the log itself: closing does so only for the last
     * connection, and a reader still open (`crawler index` keeps one) would
     * leave the writer's work in the -wal file, lost to anyone who copies
     * the database file alone. A writer that must know whether it could
     * calls store_empty_log first; after that this copy finds nothing. */
    if (s->db && s->lock_fd >= 0)
        (void)store_empty_log(s);
    if (s->db)
        sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    settled_filter_drop(s);
    free(s);
}

int store_begin(struct store *s)
{
    if (s->in_tx)
        return 0;
    int rc = db_exec(s, "BEGIN IMMEDIATE;");
    if (rc == 0)
        s->in_tx = 1;
    return rc;
}

int store_commit(struct store *s)
{
    if (!s->in_tx)
        return 0;
    int rc = db_exec(s, "COMMIT;");
    if (rc == 0)
        s->in_tx = 0;
    return rc;
}

int store_meta_set(struct store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = db_stmt(s, ST_META_SET);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return db_done(s, st);
}

int store_meta_get(struct store *s, const char *key, char **value)
{
    sqlite3_stmt *st = db_stmt(s, ST_META_GET);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        *value = v ? xstrdup((const char *)v) : NULL;
    } else if (rc == SQLITE_DONE) {
        *value = NULL;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(s);
}
