/*
 * db: what the store's files share internally (not for other folders).
 * The struct store body, the prepared statements and small helpers.
 */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <sqlite3.h>
#include <time.h>

#include "store/store.h"

enum stmt_id {
    ST_HOST_FIND,
    ST_HOST_ADD,
    ST_HOST_LOAD,
    ST_HOST_SAVE,
    ST_HOST_SAVE_ROBOTS,
    ST_URL_ADD,
    ST_URL_SETTLED,
    ST_URL_REVIVE,
    ST_URL_QUEUED,
    ST_URL_FINISH,
    ST_PAGE_ADD,
    ST_PAGE_BY_BODY,
    ST_LINKS_ADD,
    ST_TEXT_ADD,
    ST_TEXT_NEXT,
    ST_TEXT_INDEX,
    ST_TEXT_PENDING,
    ST_META_SET,
    ST_META_GET,
    ST_COUNT,
};

/* A numeric macro as an SQL literal. */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* STORE_QUEUED_COUNT_MAX as an SQL literal, for the LIMIT of a host's
 * count of queued URLs (one run of urls_host_state). */
#define QUEUED_COUNT_MAX_SQL STRINGIFY(STORE_QUEUED_COUNT_MAX)

/* The page cache of a read-write connection, in KiB (store_open). 16 MiB
 * ran 20,000-page crawls as fast as 60 (8 interleaved pairs: -0.1% +-1.1
 * wall, -0.2% +-1.2 CPU), and crawls resumed on 5 million queued URLs too
 * (two sets of 6 and 8 pairs: -0.9% +-4.9 and -2.7% +-4.2 wall), with the
 * coordinator's peak at 49 MB instead of 93 there. */
#define DB_CACHE_KIB 16384
/* The page cache of a connection that only reads (the query commands). */
#define READ_CACHE_KIB 61440

/* The URL-seen test is two partial unique indexes on urls(hash):
 * urls_hash, the settled rows (id <= settled_id), which a crawl only
 * reads, and urls_hash_recent, the rows added since. New URLs have random
 * hashes: kept in one index of millions, each commit rewrote most of it;
 * the recent part stays small enough for the page cache, and
 * store_urls_settle folds it into the settled part now and then. SQLite
 * uses a partial index only for a query that repeats its WHERE term, so
 * SQL that finds a URL by hash names both parts,
 *   ((u.hash = ?1 AND u.id <= SETTLED_ID)
 *    OR (u.hash = ?1 AND u.id > SETTLED_ID))
 * and db_sql writes the bound in for the word SETTLED_ID. Databases made
 * before keep their one index (urls.hash UNIQUE), and settled_id
 * INT64_MAX. */
#define SETTLED_ID "SETTLED_ID"
/* The two parts for a bound (twice, as long long): made for a new urls
 * table with 0, made again by each fold. url_hash_setup reads the bound
 * back from the "id <= " of the first. */
#define URL_HASH_INDEXES_SQL                                                   \
    "CREATE UNIQUE INDEX IF NOT EXISTS urls_hash ON urls(hash)"                \
    " WHERE id <= %lld;"                                                       \
    "CREATE UNIQUE INDEX IF NOT EXISTS urls_hash_recent ON urls(hash)"         \
    " WHERE id > %lld;"

/* The rows of one ST_LINKS_ADD statement. */
#define LINKS_PER_INSERT 16

struct checkpointer;

struct store {
    sqlite3 *db;
    struct checkpointer *ckpt; /* store/checkpoint.c; NULL when read-only */
    int lock_fd;               /* the crawl lock (take_lock); -1: none */
    int in_tx;
    int64_t settled_id; /* urls_hash holds the rows up to this id */
    uint8_t *filter;    /* store/settled.c; NULL: look every URL up */
    uint64_t filter_blocks;
    int64_t n_settled_lookups; /* URLs looked up in urls_hash */
    sqlite3_stmt *st[ST_COUNT];
    char errmsg[256];
    /* db_bind_now's "YYYY-MM-DDTHH:MM:SS" of second now_sec */
    time_t now_sec;
    char now_prefix[24];
};

/* 1 when the settled part has rows: not a new database (bound 0), nor one
 * with the older single index (INT64_MAX). */
static inline int db_has_settled(const struct store *s)
{
    return s->settled_id != 0 && s->settled_id != INT64_MAX;
}

/* The statement, prepared on first use and reset for reuse. NULL (and
 * errmsg set) when preparation fails. */
sqlite3_stmt *db_stmt(struct store *s, enum stmt_id id);
/* sql with the store's settled_id for each SETTLED_ID; free() it. */
char *db_sql(const struct store *s, const char *sql);
/* Runs SQL that sorts a table into an index (CREATE INDEX) with the page
 * cache held to a few MiB: the sort takes memory up to the size of the
 * cache before it goes to a temporary file, which took a crawl's
 * coordinator from 95 to 114 MB. 0 or STORE_EFAIL. */
int db_exec_sort(struct store *s, const char *sql);
/* The first column of the first row of sql, in *v; 0 or STORE_EFAIL. */
int db_int(struct store *s, const char *sql, int64_t *v);

/* --- store/settled.c: the filter in front of urls_hash ------------------- */
/* 0 when the hash is surely not in the settled part, 1 when it may be (or
 * there is no filter). */
int settled_filter_maybe(const struct store *s, int64_t hash);
/* Builds the filter of the settled part as it is now and stores it (in the
 * caller's transaction). 0 or STORE_EFAIL. */
int settled_filter_build(struct store *s);
/* Loads the stored filter when it describes the current settled part. */
int settled_filter_load(struct store *s);
void settled_filter_drop(struct store *s);
/* Steps a statement to completion; 0 or STORE_EFAIL (errmsg set). */
int db_done(struct store *s, sqlite3_stmt *st);
/* Records the connection's error and returns STORE_EFAIL. */
int db_fail(struct store *s);
/* Creates (or recreates) the views of store/views.c; inside the schema
 * transaction of store_open. */
int db_create_views(struct store *s);
/* Runs SQL text with no results; 0 or STORE_EFAIL (errmsg set). */
int db_exec(struct store *s, const char *sql);
/* 1 when the database has a table (or view, or index) of that name, 0 when
 * not, or STORE_EFAIL. */
int db_has_table(struct store *s, const char *name);
/* Binds NULL for a NULL or empty string, else the text. */
void db_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Binds the time now as the *_at columns' defaults write it
 * (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), at a fraction of their cost:
 * SQL's date functions take ~5,000 instructions a row. */
void db_bind_now(struct store *s, sqlite3_stmt *st, int i);

/* store/gather.c: the name of the VFS for store_open's read-write
 * connection and the checkpoint thread's, which gathers a commit's log
 * frames and a checkpoint's pages into large writes and reads the log
 * ahead for a checkpoint; NULL when it could not be registered (then
 * SQLite's default VFS serves, only slower). */
const char *db_gather_vfs(void);

/* store/pagemem.c: SQLite's cached pages of page_bytes, up to cache_bytes
 * of them, come from one mapping on huge pages, made resident as they are
 * first used. Once per process, before SQLite initializes; later calls do
 * nothing, and without it SQLite allocates them itself. */
void db_page_memory_setup(size_t page_bytes, size_t cache_bytes);

/* store/checkpoint.c: the thread that copies the log into the database
 * (path) for a read-write store; without it, SQLite's own checkpoint. */
void db_checkpointer_start(struct store *s, const char *path);
/* Stops the thread and closes its connection; before s->db closes. */
void db_checkpointer_stop(struct store *s);
/* For tests, which cannot write 32 MiB: the frames per background
 * checkpoint, the log length past which it restarts and the longest tail
 * copied inside a commit (unless SHRINK_ROUNDS did not bring it there). */
void db_checkpointer_tune(struct store *s, int frames, int restart_frames,
                          int tail_frames);
/* For tests: what the thread has done so far. */
struct ckpt_counts {
    int rounds;       /* checkpoints it completed (-1: no thread) */
    int busy;         /* it is copying now */
    int n_tails;      /* tails copied inside commits */
    int longest_tail; /* ... the longest, in frames */
};
struct ckpt_counts db_checkpointer_counts(struct store *s);

#endif
