/*
 * Unit tests of the store (store/): URL insert-or-ignore, revival of
 * nofollow skips, reading queued URLs, requeueing, counts by state, the
 * times the store writes, identity and the crawl lock, the search index
 * catching up with the stored text, the write-ahead log copied and
 * restarted by the checkpoint thread while a writer commits, and the log's
 * gathered writes (store/gather.c) in the file by the end of each commit,
 * and the URL-seen test across a settle of its index, with the filter in
 * front of its settled part.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crawler/hash.h"
#include "store/db.h" /* db_checkpointer_tune, the statements */
#include "store/query.h"
#include "store/store.h"
#include "tests/unit/check.h"

static char db_path[64];

/* The case's database path: this process's, or its parent's in a child
 * the case forked. */
static void set_db_path(void)
{
    if (!db_path[0])
        snprintf(db_path, sizeof db_path, "/tmp/crawler-unit-%d.db",
                 (int)getpid());
}

static struct store *fresh(void)
{
    set_db_path();
    unlink(db_path);
    struct store *s = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    return s;
}

static void cleanup(struct store *s)
{
    store_close(s);
    char p[96];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
        unlink(p);
    }
}

/* The count of one state, through store_url_counts. */
static int64_t url_count(struct store *s, int state)
{
    int64_t n[URL_N_STATES];
    CHECK_INT(store_url_counts(s, n), 0);
    return n[state];
}

static struct url_new url(const char *u, int64_t host, int state,
                          const char *reason)
{
    return (struct url_new){.url = u,
                            .hash = hash64(u, strlen(u)),
                            .host_id = host,
                            .state = state,
                            .reason = reason};
}

TEST(store_url_insert_or_ignore)
{
    struct store *s = fresh();
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    int64_t h2;
    CHECK_INT(store_host_id(s, "http://a", 8, &h2), 0);
    CHECK_INT(h, h2);
    struct url_new u = url("http://a/1", h, URL_QUEUED, NULL);
    CHECK_INT(store_url_add(s, &u), 1);
    CHECK_INT(store_url_add(s, &u), 0);
    CHECK_INT(url_count(s, URL_QUEUED), 1);
    cleanup(s);
}

TEST(store_nofollow_skip_revived_by_followable_link)
{
    struct store *s = fresh();
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    struct url_new skip = url("http://a/n", 0, URL_SKIPPED, "nofollow");
    CHECK_INT(store_url_add(s, &skip), 0);
    CHECK_INT(url_count(s, URL_SKIPPED), 1);
    struct url_new later = url("http://a/later", h, URL_QUEUED, NULL);
    CHECK_INT(store_url_add(s, &later), 1);
    struct url_new q = url("http://a/n", h, URL_QUEUED, NULL);
    CHECK_INT(store_url_add(s, &q), 2); /* 2: queued again, old id */
    CHECK_INT(url_count(s, URL_QUEUED), 2);
    /* It has its host now, and its old id comes first: a reader of the
     * host's queue must start over to see it. */
    struct url_lease l[2];
    int n = 0;
    CHECK_INT(store_url_queued(s, h, 0, INT64_MAX, 2, l, &n), 0);
    CHECK_INT(n, 2);
    CHECK_STR(l[0].url, "http://a/n");
    CHECK_STR(l[1].url, "http://a/later");
    for (int i = 0; i < n; i++)
        url_lease_release(&l[i]);
    /* A scope skip is not revived. */
    struct url_new out = url("http://b/", 0, URL_SKIPPED, "scope");
    CHECK_INT(store_url_add(s, &out), 0);
    struct url_new again = url("http://b/", h, URL_QUEUED, NULL);
    CHECK_INT(store_url_add(s, &again), 0);
    cleanup(s);
}

/* No step of the URL insert scans urls: the seen test finds the hash in
 * the partial indexes (store/db.h) whatever their bound. */
static void check_add_uses_indexes(struct store *s)
{
    sqlite3_stmt *sts[] = {s->st[ST_URL_ADD], s->st[ST_URL_SETTLED]};
    for (int i = 0; i < 2; i++) {
        if (!sts[i])
            continue; /* not used: nothing settled */
        CHECK_INT(
            sqlite3_stmt_status(sts[i], SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0);
        CHECK_INT(sqlite3_stmt_status(sts[i], SQLITE_STMTSTATUS_AUTOINDEX, 0),
                  0);
    }
}

TEST(store_url_seen_across_a_settle)
{
    struct store *s = fresh();
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    struct url_new one = url("http://a/1", h, URL_QUEUED, NULL);
    struct url_new skip = url("http://a/n", 0, URL_SKIPPED, "nofollow");
    CHECK_INT(store_url_add(s, &one), 1);
    CHECK_INT(store_url_add(s, &skip), 0);
    CHECK_INT((int)store_urls_recent(s), 2);
    CHECK_INT(store_urls_settle(s, 0), 0); /* far below the threshold */
    CHECK_INT((int)store_urls_recent(s), 2);
    CHECK_INT(store_urls_settle(s, 1), 0);
    CHECK_INT((int)store_urls_recent(s), 0);
    /* Settled rows are still seen, and a settled skip is revived. */
    CHECK_INT(store_url_add(s, &one), 0);
    struct url_new revive = url("http://a/n", h, URL_QUEUED, NULL);
    CHECK_INT(store_url_add(s, &revive), 2);
    struct url_new two = url("http://a/2", h, URL_QUEUED, NULL);
    CHECK_INT(store_url_add(s, &two), 1);
    CHECK_INT(store_url_add(s, &two), 0); /* seen in the recent part */
    check_add_uses_indexes(s);
    CHECK(s->st[ST_URL_SETTLED] != NULL);
    CHECK_INT(url_count(s, URL_QUEUED), 3);
    /* The bound is read back from the index on the next open. */
    store_close(s);
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK_INT((int)store_urls_recent(s), 1);
    CHECK_INT(store_url_add(s, &one), 0);
    CHECK_INT(store_url_add(s, &two), 0);
    /* A second settle: the statements take the new bound. */
    CHECK_INT(store_urls_settle(s, 1), 0);
    CHECK_INT((int)store_urls_recent(s), 0);
    CHECK_INT(store_url_add(s, &two), 0);
    check_add_uses_indexes(s);
    CHECK_INT(url_count(s, URL_QUEUED), 3);
    cleanup(s);
}

/* A database made before the index had two parts keeps its one unique
 * index on urls.hash, which serves the same statements; there is nothing
 * to settle. */
TEST(store_url_seen_with_the_older_index)
{
    set_db_path();
    unlink(db_path);
    sqlite3 *db;
    CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "PRAGMA application_id = 1129464151;"
                           "CREATE TABLE urls(id INTEGER PRIMARY KEY,"
                           " hash INTEGER NOT NULL UNIQUE, url TEXT NOT NULL,"
                           " kind INTEGER NOT NULL DEFAULT 0,"
                           " host_id INTEGER REFERENCES hosts(id),"
                           " state INTEGER NOT NULL, reason TEXT,"
                           " depth INTEGER NOT NULL,"
                           " hops INTEGER NOT NULL DEFAULT 0, from_id INTEGER,"
                           " attempts INTEGER NOT NULL DEFAULT 0,"
                           " discovered_at TEXT NOT NULL DEFAULT '');",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    struct store *s = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK_INT(db_has_table(s, "urls_hash"), 0);
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    struct url_new one = url("http://a/1", h, URL_QUEUED, NULL);
    struct url_new skip = url("http://a/n", 0, URL_SKIPPED, "nofollow");
    CHECK_INT(store_url_add(s, &one), 1);
    CHECK_INT(store_url_add(s, &one), 0);
    CHECK_INT(store_url_add(s, &skip), 0);
    struct url_new revive = url("http://a/n", h, URL_QUEUED, NULL);
    CHECK_INT(store_url_add(s, &revive), 2);
    check_add_uses_indexes(s);
    CHECK_INT((int)store_urls_recent(s), 0);
    CHECK_INT(store_urls_settle(s, 1), 0);
    CHECK_INT(db_has_table(s, "urls_hash"), 0);
    CHECK_INT(url_count(s, URL_QUEUED), 2);
    cleanup(s);
}

TEST(store_queued_read_in_order_and_left_queued)
{
    struct store *s = fresh();
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    char u[10][32];
    for (int i = 0; i < 10; i++) {
        snprintf(u[i], sizeof u[i], "http://a/%d", i);
        struct url_new n = url(u[i], h, URL_QUEUED, NULL);
        CHECK_INT(store_url_add(s, &n), 1);
    }
    struct url_lease l[8];
    int n = 0;
    CHECK_INT(store_url_queued(s, h, 0, INT64_MAX, 8, l, &n), 0);
    CHECK_INT(n, 8);
    CHECK_STR(l[0].url, "http://a/0");
    CHECK_STR(l[7].url, "http://a/7");
    /* a lease is the reader's: the rows stay queued */
    CHECK_INT(url_count(s, URL_QUEUED), 10);
    CHECK_INT(url_count(s, URL_IN_FLIGHT), 0);
    CHECK_INT(store_url_finish(s, l[0].id, URL_DONE, NULL, 1), 0);
    int64_t first = l[1].id, last = l[7].id;
    for (int i = 0; i < n; i++)
        url_lease_release(&l[i]);
    CHECK_INT(store_url_queued(s, h, last, INT64_MAX, 8, l, &n), 0);
    CHECK_INT(n, 2);
    CHECK_STR(l[0].url, "http://a/8");
    for (int i = 0; i < n; i++)
        url_lease_release(&l[i]);
    /* from the start again: the finished row is not among them */
    CHECK_INT(store_url_queued(s, h, 0, INT64_MAX, 1, l, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(l[0].id, first);
    url_lease_release(&l[0]);
    /* New bounds every call (the frontier's refills) use the statement as
     * compiled: no compiling again per call. */
    CHECK_INT(sqlite3_stmt_status(s->st[ST_URL_QUEUED],
                                  SQLITE_STMTSTATUS_REPREPARE, 0),
              0);
    cleanup(s);
}

TEST(store_requeue_rows_an_older_version_left_in_flight)
{
    struct store *s = fresh();
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    for (int i = 0; i < 3; i++) {
        char u[32];
        snprintf(u, sizeof u, "http://a/%d", i);
        struct url_new n = url(u, h, URL_QUEUED, NULL);
        CHECK_INT(store_url_add(s, &n), 1);
    }
    CHECK_INT(db_exec(s, "UPDATE urls SET state = 1 WHERE url != 'http://a/0'"),
              0);
    CHECK_INT(url_count(s, URL_IN_FLIGHT), 2);
    CHECK_INT(store_url_requeue_all(s), 2);
    CHECK_INT(url_count(s, URL_QUEUED), 3);
    cleanup(s);
}

/* Callback of store_query_run: the first column of the last row, as an
 * integer (the call before the rows has no values). */
static int first_int(void *arg, int n_cols, const char *const *names,
                     const struct store_value *vals)
{
    (void)n_cols;
    (void)names;
    if (vals)
        *(int64_t *)arg = vals[0].i;
    return 0;
}

static int64_t query_int(struct store *s, const char *sql)
{
    int64_t v = -1;
    if (store_query_run(s, sql, first_int, &v) != 0)
        check_fail(__FILE__, __LINE__, "%s: %s", sql, store_errmsg(s));
    return v;
}

TEST(store_counts_across_hosts_and_times_written)
{
    struct store *s = fresh();
    int64_t a, b;
    CHECK_INT(store_host_id(s, "http://a", 8, &a), 0);
    CHECK_INT(store_host_id(s, "http://b", 8, &b), 0);
    struct url_new u[] = {
        url("http://a/1", a, URL_QUEUED, NULL),
        url("http://b/1", b, URL_QUEUED, NULL),
        url("http://b/2", b, URL_QUEUED, NULL),
        url("http://c/", 0, URL_SKIPPED, "scope"), /* no host */
        url("http://d:x/", 0, URL_FAILED, "bad port"),
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        store_url_add(s, &u[i]);
    struct url_lease l[2];
    int n = 0;
    CHECK_INT(store_url_queued(s, b, 0, INT64_MAX, 1, l, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(store_url_finish(s, l[0].id, URL_DONE, NULL, 1), 0);
    url_lease_release(&l[0]);
    /* summed over hosts, the host-less row included */
    CHECK_INT(url_count(s, URL_QUEUED), 2);
    CHECK_INT(url_count(s, URL_DONE), 1);
    CHECK_INT(url_count(s, URL_SKIPPED), 1);
    CHECK_INT(url_count(s, URL_FAILED), 1);
    CHECK_INT(store_url_queued(s, a, 0, INT64_MAX, 1, l, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(store_url_finish(s, l[0].id, URL_FAILED, "timeout", 1), 0);
    url_lease_release(&l[0]);
    int64_t finished = -1;
    CHECK_INT(store_urls_finished(s, &finished), 0);
    CHECK_INT(finished, 3); /* done on b, failed on a, failed host-less */
    /* The times are written by the store, not by the column default: they
     * must still read as what the default writes, and be now. */
    CHECK_INT(query_int(s, "SELECT count(*) FROM urls WHERE discovered_at ="
                           " strftime('%Y-%m-%dT%H:%M:%fZ', discovered_at)"
                           " AND abs(julianday('now') - julianday("
                           "discovered_at)) * 86400 < 60"),
              5);
    cleanup(s);
}

/* Adds n URLs http://a/PREFIX/i; returns how many were new. */
static int add_named_urls(struct store *s, int64_t host, const char *prefix,
                          int n)
{
    int added = 0;
    CHECK_INT(store_begin(s), 0);
    for (int i = 0; i < n; i++) {
        char u[64];
        snprintf(u, sizeof u, "http://a/%s/%d", prefix, i);
        struct url_new nu = url(u, host, URL_QUEUED, NULL);
        int rc = store_url_add(s, &nu);
        CHECK(rc >= 0);
        added += rc;
    }
    CHECK_INT(store_commit(s), 0);
    return added;
}

static void keep_host_row(void *arg, struct host_row *h)
{
    struct host_row *out = arg;
    *out = *h;
    out->origin = NULL; /* released here: out keeps the numbers */
    out->robots_txt = NULL;
    host_row_release(h);
}

/* At start-up a host's queued URLs are counted up to a cap: counting
 * millions took a quarter of a second. Loading one host counts the same. */
TEST(store_host_queued_count_capped)
{
    struct store *s = fresh();
    int64_t a, b;
    CHECK_INT(store_host_id(s, "http://a", 8, &a), 0);
    CHECK_INT(add_named_urls(s, a, "q", STORE_QUEUED_COUNT_MAX + 5),
              STORE_QUEUED_COUNT_MAX + 5);
    struct host_row row = {.n_queued = -1};
    CHECK_INT(store_hosts_with_work(s, keep_host_row, &row), 0);
    CHECK_INT(row.id, a);
    CHECK_INT(row.n_queued, STORE_QUEUED_COUNT_MAX);
    CHECK_INT(store_host_id(s, "http://b", 8, &b), 0);
    CHECK_INT(add_named_urls(s, b, "b", 3), 3);
    struct host_row one;
    CHECK_INT(store_host_load(s, b, &one), 0);
    CHECK_INT(one.n_queued, 3);
    host_row_release(&one);
    CHECK_INT(store_host_load(s, a, &one), 0);
    CHECK_INT(one.n_queued, STORE_QUEUED_COUNT_MAX);
    host_row_release(&one);
    cleanup(s);
}

/* The settled part's filter (store/settled.c) spares the index lookup of
 * almost every new URL, never one of a settled URL; it is stored by the
 * fold, loaded on open, and not used once it describes another bound. */
TEST(store_settled_filter_spares_lookups)
{
    struct store *s = fresh();
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    CHECK_INT(add_named_urls(s, h, "old", 2000), 2000);
    CHECK_INT(store_urls_settle(s, 1), 0);
    CHECK(s->filter != NULL);
    s->n_settled_lookups = 0;
    CHECK_INT(add_named_urls(s, h, "new", 2000), 2000);
    CHECK(s->n_settled_lookups < 120); /* ~2.5% false "maybe"s */
    int64_t before = s->n_settled_lookups;
    CHECK_INT(add_named_urls(s, h, "old", 2000), 0); /* each one looked up */
    CHECK_INT(s->n_settled_lookups - before, 2000);
    /* loaded again on open */
    store_close(s);
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK(s->filter != NULL);
    CHECK_INT(add_named_urls(s, h, "newer", 1000), 1000);
    CHECK(s->n_settled_lookups < 60);
    CHECK_INT(add_named_urls(s, h, "old", 2000), 0);
    /* made for another bound: not used */
    CHECK_INT(sqlite3_exec(s->db, "UPDATE url_filter SET settled_id = 1", NULL,
                           NULL, NULL),
              SQLITE_OK);
    store_close(s);
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK(s->filter == NULL);
    CHECK_INT(add_named_urls(s, h, "newest", 500), 500);
    CHECK_INT(s->n_settled_lookups, 500);
    CHECK_INT(add_named_urls(s, h, "old", 2000), 0);
    CHECK_INT(url_count(s, URL_QUEUED), 5500);
    cleanup(s);
}

TEST(store_rejects_foreign_file_and_second_writer)
{
    struct store *s = fresh();
    struct store *t = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &t, err, sizeof err),
              STORE_EBUSY);
    CHECK(strstr(err, "another crawl") != NULL);
    CHECK_INT(store_open(db_path, 0, &t, err, sizeof err), 0);
    store_close(t);
    cleanup(s);
    const char *junk = "/tmp/crawler-unit-junk.db";
    FILE *f = fopen(junk, "w");
    fputs("this is not a database, just text\n", f);
    fclose(f);
    CHECK_INT(store_open(junk, STORE_WRITE, &t, err, sizeof err), STORE_ENOTDB);
    CHECK(strstr(err, "not a crawl database") != NULL);
    unlink(junk);
}

/* A copy of the log into the database file that fails (here the file may
 * not grow: RLIMIT_FSIZE, as on a full disk) is told, and the log keeps
 * what it held: the next open reads it, and its copy works. */
TEST(store_empty_log_tells_a_failed_copy)
{
    struct store *s = fresh();
    size_t n = 600 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    CHECK_INT(store_meta_set(s, "filler", big), 0);
    struct stat st;
    CHECK(stat(db_path, &st) == 0);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_act;
    sigaction(SIGXFSZ, &ign, &old_act);
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = (rlim_t)st.st_size;
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    int rc = store_empty_log(s);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    sigaction(SIGXFSZ, &old_act, NULL);
    CHECK_INT(rc, STORE_EFAIL);
    CHECK(strstr(store_errmsg(s), "I/O") != NULL); /* EFBIG */
    store_close(s);
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    char *got = NULL;
    CHECK_INT(store_meta_get(s, "filler", &got), 0);
    CHECK(got && strcmp(got, big) == 0);
    CHECK_INT(store_empty_log(s), 0);
    free(got);
    free(big);
    cleanup(s);
}

/* Names SQLite would not take as the file named (a temporary or in-memory
 * database would keep nothing; "file:" starts a URI), and a database of a
 * newer schema, which is left as it is. */
TEST(store_refuses_what_is_not_a_crawl_file)
{
    struct store *s = NULL;
    char err[256];
    CHECK_INT(store_open("", STORE_WRITE, &s, err, sizeof err), STORE_EFAIL);
    CHECK(strstr(err, "is a file") != NULL);
    CHECK_INT(store_open(":memory:", 0, &s, err, sizeof err), STORE_EFAIL);
    CHECK(strstr(err, "':memory:'") != NULL);

    /* relative, so in /tmp for the while */
    int here = open(".", O_RDONLY | O_CLOEXEC);
    CHECK(here >= 0 && chdir("/tmp") == 0);
    char uri[96];
    snprintf(uri, sizeof uri, "file:crawler-unit-%d.db?mode=memory",
             (int)getpid());
    CHECK_INT(store_open(uri, STORE_WRITE, &s, err, sizeof err), 0);
    store_close(s);
    CHECK(access(uri, F_OK) == 0);
    unlink(uri);
    CHECK(fchdir(here) == 0);
    close(here);

    s = fresh();
    CHECK_INT(store_meta_set(s, "schema_version", "99"), 0);
    store_close(s);
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err),
              STORE_ENOTDB);
    CHECK(strstr(err, "newer crawler (schema version 99") != NULL);
    CHECK_INT(store_open(db_path, 0, &s, err, sizeof err), STORE_ENOTDB);
    sqlite3 *db;
    CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    CHECK_INT(sqlite3_prepare_v2(db,
                                 "SELECT value FROM meta"
                                 " WHERE key = 'schema_version'",
                                 -1, &st, NULL),
              SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "99");
    sqlite3_finalize(st);
    sqlite3_close(db);
    cleanup(NULL);
}

/* The search index catches up in batches, oldest first, and knows where it
 * stopped: across batches, transactions and a reopen. */
TEST(store_text_index_catches_up)
{
    struct store *s = fresh();
    int64_t n = -1;
    CHECK_INT(store_text_pending(s, -1, &n), 0);
    CHECK_INT(n, 0);
    CHECK_INT(store_text_index(s, 10), 0);
    CHECK_INT(store_begin(s), 0);
    CHECK_INT(store_text_add(s, 3, "Three", "alpha beta"), 0);
    CHECK_INT(store_text_add(s, 5, NULL, "gamma"), 0);
    CHECK_INT(store_text_add(s, 9, "Nine", NULL), 0);
    CHECK_INT(store_text_pending(s, -1, &n), 0);
    CHECK_INT(n, 3);
    CHECK_INT(store_text_pending(s, 2, &n), 0); /* counted up to the cap */
    CHECK_INT(n, 2);
    CHECK_INT(store_text_pending(s, 3, &n), 0);
    CHECK_INT(n, 3);
    CHECK_INT(store_text_index(s, 2), 2);
    CHECK_INT(store_text_pending(s, -1, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(store_commit(s), 0);
    store_close(s);
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK_INT(store_text_pending(s, -1, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(store_begin(s), 0);
    CHECK_INT(store_text_index(s, 2), 1);
    CHECK_INT(store_text_index(s, 2), 0);
    CHECK_INT(store_text_add(s, 12, "Twelve", "delta"), 0);
    CHECK_INT(store_text_pending(s, -1, &n), 0);
    CHECK_INT(n, 1);
    CHECK_INT(store_text_index(s, 100), 1);
    CHECK_INT(store_text_pending(s, -1, &n), 0);
    CHECK_INT(n, 0);
    CHECK_INT(store_commit(s), 0);
    cleanup(s);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

#define URL_BYTES 1100 /* each URL add_urls makes, with its NUL */

/* Adds n queued URLs of host, "http://a/K/xxx...", K from first. */
static void add_urls(struct store *s, int64_t host, int first, int n)
{
    char u[URL_BYTES];
    memset(u, 'x', sizeof u - 1);
    u[sizeof u - 1] = 0;
    for (int i = first; i < first + n; i++) {
        int k = snprintf(u, sizeof u, "http://a/%d/", i);
        u[k] = 'x'; /* the rest of the 1 KiB stays */
        struct url_new row = url(u, host, URL_QUEUED, NULL);
        CHECK_INT(store_url_add(s, &row), 1);
    }
}

/* How many frames of s's log hold kib KiB of pages. */
static int log_frames(struct store *s, int kib)
{
    int64_t page = 0;
    CHECK_INT(db_int(s, "PRAGMA page_size;", &page), 0);
    return page > 0 ? (int)(kib * 1024 / page) : kib / 4;
}

/* A new store whose log is copied past 256 KiB and restarts past 1 MiB
 * (a tail of up to 512 KiB copied inside the commit), its log's path in
 * wal (96 bytes) and one host in *h. */
static struct store *fresh_small_log(char *wal, int64_t *h)
{
    struct store *s = fresh();
    db_checkpointer_tune(s, log_frames(s, 256), log_frames(s, 1024),
                         log_frames(s, 512));
    snprintf(wal, 96, "%s-wal", db_path);
    CHECK_INT(store_host_id(s, "http://a", 8, h), 0);
    return s;
}

/* Waits (at most 2 s) while the checkpoint thread copies, unless a
 * commit is due. */
static void wait_for_copy(struct store *s)
{
    for (int t = 0; t < 2000 && !store_commit_due(s); t++) {
        if (!db_checkpointer_counts(s).busy)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

/* With thresholds of a few hundred KiB, 8 MiB of rows go through a log
 * that the thread copies and that starts over: it stays a fraction of
 * what was written, and every row is there. As in a crawl, the writer
 * begins its next transaction at once after a commit, so the log can
 * restart only through the short commit that store_commit_due asks for.
 * Commits are a second apart in a crawl and a checkpoint takes a fraction
 * of that, so here the writer waits while the thread copies (bounded). */
TEST(store_log_copied_and_restarted_while_writing)
{
    char wal[96];
    int64_t h;
    struct store *s = fresh_small_log(wal, &h);
    const int per_commit = 16, url_bytes = URL_BYTES;
    int n = 0;
    off_t wal_max = 0;
    CHECK_INT(store_begin(s), 0);
    for (int c = 0; c < 1000 && (int64_t)n * url_bytes < 8 << 20; c++) {
        add_urls(s, h, n, per_commit);
        n += per_commit;
        CHECK_INT(store_commit(s), 0);
        CHECK_INT(store_begin(s), 0);
        off_t w = file_size(wal);
        if (w > wal_max)
            wal_max = w;
        wait_for_copy(s);
    }
    CHECK_INT(store_commit(s), 0);
    CHECK((int64_t)n * url_bytes >= 8 << 20);
    CHECK(db_checkpointer_counts(s).rounds > 0);
    CHECK(wal_max > 0);
    CHECK(wal_max < (off_t)(n * url_bytes) / 4);
    CHECK_INT(url_count(s, URL_QUEUED), n);
    cleanup(s);
}

/* A log past its restart length copies long tails in the background: the
 * commit hook copies a short one (the crawl waits only for that), here the
 * tail of every second commit asked for; when every commit is long, it
 * copies what it has after SHRINK_ROUNDS more copies, and the log still
 * starts over. */
TEST(store_log_restart_copies_short_tails_inline)
{
    struct store *s = fresh();
    db_checkpointer_tune(s, 64, 256, 32);
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    int n = 0, is_long = 1;
    CHECK_INT(store_begin(s), 0);
    for (int c = 0; c < 1000 && db_checkpointer_counts(s).n_tails < 3; c++) {
        int k = 100;
        if (store_commit_due(s)) {
            k = is_long ? 200 : 1; /* ~60 frames, or 2 */
            is_long = !is_long;
        }
        add_urls(s, h, n, k);
        n += k;
        CHECK_INT(store_commit(s), 0);
        CHECK_INT(store_begin(s), 0);
        wait_for_copy(s);
    }
    struct ckpt_counts k = db_checkpointer_counts(s);
    CHECK_INT(k.n_tails, 3);
    CHECK(k.longest_tail > 0 && k.longest_tail <= 32);
    for (int c = 0; c < 1000 && db_checkpointer_counts(s).n_tails < 6; c++) {
        add_urls(s, h, n, 200);
        n += 200;
        CHECK_INT(store_commit(s), 0);
        CHECK_INT(store_begin(s), 0);
        wait_for_copy(s);
    }
    CHECK_INT(store_commit(s), 0);
    k = db_checkpointer_counts(s);
    CHECK_INT(k.n_tails, 6);
    CHECK(k.longest_tail > 32);
    CHECK_INT(url_count(s, URL_QUEUED), n);
    cleanup(s);
}

/* Winding down, the same thresholds: the thread copies every commit, no
 * commit asks for a restart or copies a tail, so the log keeps every
 * frame; the close copies the rest and removes it. */
TEST(store_log_copied_in_background_only_when_winding_down)
{
    char wal[96];
    int64_t h;
    struct store *s = fresh_small_log(wal, &h);
    CHECK_INT(store_commit(s), 0);
    int rounds = db_checkpointer_counts(s).rounds;
    store_wind_down(s);
    const int per_commit = 16, url_bytes = URL_BYTES;
    int n = 0, n_due = 0;
    CHECK_INT(store_begin(s), 0);
    for (int c = 0; c < 1000 && (int64_t)n * url_bytes < 2 << 20; c++) {
        add_urls(s, h, n, per_commit);
        n += per_commit;
        CHECK_INT(store_commit(s), 0);
        n_due += store_commit_due(s);
        CHECK_INT(store_begin(s), 0);
        wait_for_copy(s);
    }
    CHECK_INT(store_commit(s), 0);
    CHECK_INT(n_due, 0);
    CHECK(db_checkpointer_counts(s).rounds > rounds + 1);
    CHECK(file_size(wal) >= (off_t)n * url_bytes);
    store_close(s);
    CHECK_INT(file_size(wal), 0);
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK_INT(url_count(s, URL_QUEUED), n);
    cleanup(s);
}

/* A reader that starts after a commit sees all of it, whether the commit
 * wrote less than one gathered write or many: what the log's writes
 * gather is in the file before SQLite publishes the transaction. */
TEST(store_commit_seen_by_reader_at_once)
{
    struct store *s = fresh();
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    const int sizes[] = {1, 3, 200, 2, 700, 1};
    int n = 0;
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        CHECK_INT(store_begin(s), 0);
        add_urls(s, h, n, sizes[c]);
        n += sizes[c];
        CHECK_INT(store_commit(s), 0);
        struct store *r = NULL;
        char err[256];
        CHECK_INT(store_open(db_path, 0, &r, err, sizeof err), 0);
        CHECK_INT(url_count(r, URL_QUEUED), n);
        store_close(r);
    }
    cleanup(s);
}

/* Waits for the case's child, which must exit 0, and opens the database
 * it wrote, recovering its log. */
static struct store *reopen_after(pid_t child)
{
    int status;
    CHECK_INT(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    struct store *r = NULL;
    char err[256];
    CHECK_INT(store_open(db_path, STORE_WRITE, &r, err, sizeof err), 0);
    return r;
}

/* A writer that dies right after a commit, without closing anything,
 * loses none of it; what it had not committed is not there. */
TEST(store_commit_kept_when_writer_dies)
{
    struct store *s = fresh();
    store_close(s);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct store *w = NULL;
        char err[256];
        int64_t h;
        if (store_open(db_path, STORE_WRITE, &w, err, sizeof err) < 0 ||
            store_host_id(w, "http://a", 8, &h) < 0 || store_begin(w) < 0)
            _exit(2);
        add_urls(w, h, 0, 300);
        if (store_commit(w) < 0 || store_begin(w) < 0)
            _exit(3);
        add_urls(w, h, 300, 300); /* never committed */
        _exit(0);
    }
    struct store *r = reopen_after(pid);
    CHECK_INT(url_count(r, URL_QUEUED), 300);
    cleanup(r);
}

/* ---- the log's gathered writes on a full disk ---- */

/* The platform's VFS, except that once log_writes_left writes to a
 * write-ahead log have gone through, the next ones fail with SQLITE_FULL
 * (-1: none fails), or only the next one with is_one_failure. It becomes
 * the default before the case's first store_open, so store/gather.c wraps
 * it. */
static int log_writes_left = -1;
static int is_one_failure;
static sqlite3_vfs *real_vfs;
static sqlite3_vfs full_vfs;
static sqlite3_io_methods full_log_methods;
static int (*real_log_write)(sqlite3_file *, const void *, int, sqlite3_int64);

static int full_log_write(sqlite3_file *f, const void *p, int n,
                          sqlite3_int64 off)
{
    if (log_writes_left == 0) {
        if (is_one_failure)
            log_writes_left = -1;
        return SQLITE_FULL;
    }
    if (log_writes_left > 0)
        log_writes_left--;
    return real_log_write(f, p, n, off);
}

static int full_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
                     int flags, int *out_flags)
{
    (void)vfs;
    int rc = real_vfs->xOpen(real_vfs, name, f, flags, out_flags);
    if (rc == SQLITE_OK && f->pMethods && (flags & SQLITE_OPEN_WAL)) {
        full_log_methods = *f->pMethods;
        real_log_write = full_log_methods.xWrite;
        full_log_methods.xWrite = full_log_write;
        f->pMethods = &full_log_methods;
    }
    return rc;
}

/* A store on the full-disk VFS whose transactions spill: with a cache of
 * 20 pages, SQLite writes frames to the log long before the commit. */
static struct store *fresh_spilling(int64_t *host)
{
    real_vfs = sqlite3_vfs_find(NULL);
    full_vfs = *real_vfs;
    full_vfs.zName = "unit-full-disk";
    full_vfs.xOpen = full_open;
    CHECK_INT(sqlite3_vfs_register(&full_vfs, 1), SQLITE_OK);
    struct store *s = fresh();
    CHECK_INT(db_exec(s, "PRAGMA cache_size = 20;"), 0);
    CHECK_INT(store_host_id(s, "http://a", 8, host), 0);
    return s;
}

/* urls.attempts of the row with that id. */
static int attempts_of(struct store *s, int64_t id)
{
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(s->db,
                                 "SELECT attempts FROM urls WHERE id = ?1", -1,
                                 &st, NULL),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void check_integrity(struct store *s)
{
    sqlite3_stmt *st = NULL;
    CHECK_INT(
        sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL),
        SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

/* The read and write system calls this process has made. */
static void io_calls(int64_t *reads, int64_t *writes)
{
    FILE *f = fopen("/proc/self/io", "r");
    CHECK(f != NULL);
    char key[32];
    long long v;
    *reads = *writes = 0;
    while (f && fscanf(f, "%31[^:]: %lld\n", key, &v) == 2) {
        if (strcmp(key, "syscr") == 0)
            *reads = v;
        else if (strcmp(key, "syscw") == 0)
            *writes = v;
    }
    if (f)
        fclose(f);
}

/* A new database gets pages of 8 KiB; one made with another page size
 * (older crawls had SQLite's 4 KiB) keeps it, and works as before. */
TEST(store_page_size_new_and_kept)
{
    struct store *s = fresh();
    int64_t page = 0, h;
    CHECK_INT(db_int(s, "PRAGMA page_size;", &page), 0);
    CHECK_INT(page, 8192);
    cleanup(s);
    set_db_path();
    unlink(db_path);
    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(db_path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "PRAGMA page_size = 4096;"
                           "PRAGMA journal_mode = WAL;",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    s = NULL;
    CHECK_INT(store_open(db_path, STORE_WRITE, &s, err, sizeof err), 0);
    CHECK_INT(db_int(s, "PRAGMA page_size;", &page), 0);
    CHECK_INT(page, 4096);
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    CHECK_INT(store_begin(s), 0);
    add_urls(s, h, 0, 3000);
    CHECK_INT(store_commit(s), 0);
    check_integrity(s);
    CHECK_INT(url_count(s, URL_QUEUED), 3000);
    cleanup(s);
}

/* Bytes resident in this process (/proc/self/statm), or -1. */
static int64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = -1;
    if (f) {
        if (fscanf(f, "%lld %lld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* The crawl's page cache (16 MiB) becomes memory as SQLite uses it, not
 * all when the store opens (a crawl of a few pages paid for all of it);
 * the pages come from it and go back to it intact. */
TEST(store_page_memory_grows_with_use)
{
    int64_t before = resident_bytes();
    CHECK(before > 0);
    struct store *s = fresh();
    /* ~5 MiB here, ~9 under AddressSanitizer; a resident cache adds 18 */
    CHECK(resident_bytes() - before < (int64_t)12 << 20);
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    for (int round = 0; round < 2; round++) {
        CHECK_INT(store_begin(s), 0);
        add_urls(s, h, round * 20000, 20000);
        CHECK_INT(store_commit(s), 0);
        /* a small cache gives the slots back; the next round takes them */
        CHECK_INT(db_exec(s, "PRAGMA cache_size = 20;"), 0);
        CHECK_INT(
            db_exec(s, "PRAGMA cache_size = -" STRINGIFY(DB_CACHE_KIB) ";"), 0);
    }
    check_integrity(s);
    CHECK_INT(url_count(s, URL_QUEUED), 40000);
    cleanup(s);
}

/* A checkpoint reads the log ahead and writes consecutive pages in one
 * call: copying a new database's ~1,500 pages (of 8 KiB) takes about a
 * hundred calls each way, not one a page, and the file it writes is the
 * database. */
TEST(store_checkpoint_copies_in_large_calls)
{
    struct store *s = fresh();
    db_checkpointer_tune(s, 1 << 30, 1 << 30, 1 << 30); /* the thread idles */
    int64_t h;
    CHECK_INT(store_host_id(s, "http://a", 8, &h), 0);
    CHECK_INT(store_begin(s), 0);
    add_urls(s, h, 0, 8000);
    CHECK_INT(store_commit(s), 0);
    int64_t r0, w0, r1, w1;
    int n_log = 0, n_copied = 0;
    io_calls(&r0, &w0);
    CHECK_INT(sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                        &n_log, &n_copied),
              SQLITE_OK);
    io_calls(&r1, &w1);
    CHECK(n_copied > 1000);
    CHECK_INT(n_copied, n_log);
    CHECK(r1 - r0 < n_copied / 10);
    CHECK(w1 - w0 < n_copied / 10);
    check_integrity(s);
    store_close(s);
    sqlite3 *db = NULL; /* the platform's VFS, the file alone */
    CHECK_INT(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL),
              SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CHECK_INT(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM urls", -1, &st, NULL),
        SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(st, 0), 8000);
    sqlite3_finalize(st);
    sqlite3_close(db);
    cleanup(NULL);
}

/* A statement that fails on the full disk is undone alone (SQLite rolls
 * back to its statement journal) and the transaction goes on: the frames
 * it spilled before must still reach the log, or its commit publishes
 * pages that are not there. */
TEST(store_log_full_disk_fails_a_statement_not_the_transaction)
{
    int64_t h;
    struct store *s = fresh_spilling(&h);
    CHECK_INT(store_begin(s), 0);
    add_urls(s, h, 0, 600);
    log_writes_left = 0;
    CHECK_INT(sqlite3_exec(s->db, "UPDATE urls SET attempts = attempts + 1",
                           NULL, NULL, NULL),
              SQLITE_FULL);
    log_writes_left = -1;
    CHECK(!sqlite3_get_autocommit(s->db)); /* the transaction is still on */
    add_urls(s, h, 600, 10);
    CHECK_INT(store_commit(s), 0);
    CHECK_INT(url_count(s, URL_QUEUED), 610);
    check_integrity(s);
    cleanup(s);
}

/* Pages spilled and then changed again are rewritten in place, and so are
 * their frame headers at the commit (the last one a commit frame's). A
 * one-page commit after that, whose header gets written and whose page
 * does not, fails with an error, not a crash, and leaves no trace. */
TEST(store_log_full_disk_fails_a_commit_after_rewrites)
{
    int64_t h;
    struct store *s = fresh_spilling(&h);
    CHECK_INT(store_begin(s), 0);
    add_urls(s, h, 0, 400);
    CHECK_INT(db_exec(s, "UPDATE urls SET attempts = 1 WHERE id % 7 = 0;"), 0);
    CHECK_INT(store_commit(s), 0);
    CHECK_INT(store_begin(s), 0);
    CHECK_INT(db_exec(s, "UPDATE urls SET attempts = 2 WHERE id = 7;"), 0);
    log_writes_left = 1;
    CHECK(store_commit(s) < 0);
    log_writes_left = -1;
    if (!sqlite3_get_autocommit(s->db))
        CHECK_INT(db_exec(s, "ROLLBACK;"), 0);
    s->in_tx = 0;
    CHECK_INT(attempts_of(s, 7), 1);
    check_integrity(s);
    cleanup(s);
}

/* A transaction that spilled and is rolled back on the full disk ends
 * without a crash, and the next one commits. The log is copied and
 * emptied first, so that the rollback reads nothing from it. */
TEST(store_log_full_disk_rollback_after_spill)
{
    int64_t h;
    struct store *s = fresh_spilling(&h);
    CHECK_INT(db_exec(s, "PRAGMA wal_checkpoint(TRUNCATE);"), 0);
    CHECK_INT(store_begin(s), 0);
    add_urls(s, h, 0, 600);
    log_writes_left = 0;
    CHECK_INT(db_exec(s, "ROLLBACK;"), 0);
    log_writes_left = -1;
    s->in_tx = 0;
    CHECK_INT(url_count(s, URL_QUEUED), 0);
    CHECK_INT(store_begin(s), 0);
    add_urls(s, h, 0, 300);
    CHECK_INT(store_commit(s), 0);
    CHECK_INT(url_count(s, URL_QUEUED), 300);
    check_integrity(s);
    cleanup(s);
}

/* A commit whose last write failed, on a disk that has room again right
 * after, stays failed when the writer dies then: its frames must not reach
 * the log late, complete, where the recovery would take them for a
 * commit. It adds rows, so the database grows and the rollback reads
 * page 1 back from the log. */
TEST(store_log_failed_commit_stays_failed_after_a_crash)
{
    set_db_path();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int64_t h;
        struct store *s = fresh_spilling(&h);
        CHECK_INT(store_begin(s), 0);
        add_urls(s, h, 0, 300);
        CHECK_INT(store_commit(s), 0);
        CHECK_INT(store_begin(s), 0);
        CHECK_INT(db_exec(s, "UPDATE urls SET attempts = 2 WHERE id = 7;"), 0);
        add_urls(s, h, 300, 5);
        log_writes_left = 0;
        is_one_failure = 1;
        CHECK(store_commit(s) < 0);
        _exit(0);
    }
    struct store *r = reopen_after(pid);
    CHECK_INT(url_count(r, URL_QUEUED), 300);
    CHECK_INT(attempts_of(r, 7), 0);
    check_integrity(r);
    cleanup(r);
}
