/*
 * settled: a Bloom filter of the hashes in the settled part of the
 * URL-seen index (db.h), so that a new URL is not looked up there.
 *
 * With millions of URLs that part is larger than the page cache, and most
 * URLs a crawl finds are new: each one's test read a random leaf of the
 * index from the file. The filter answers "surely not there" for all but a
 * few percent of them from memory. A "maybe" is looked up as before, so
 * the filter only saves work; it never decides that a URL is new.
 *
 * The settled part changes only when a fold rewrites it, so the fold
 * builds the filter in the same transaction and stores it in the table
 * url_filter with the bound it describes; a writer loads it when it opens
 * the database (a read of a few MB instead of a scan of the index). A
 * filter whose bound is not the index's, or none (a database folded by an
 * older version), is not used.
 *
 * Layout: blocks of 512 bits (one cache line); a hash picks one block and
 * FILTER_PROBES bits in it. FILTER_BITS_PER_URL bits a URL give about 2.5%
 * false "maybe"s (5 MB at 5 million URLs). The size stops at
 * FILTER_MAX_BYTES, so the coordinator's memory stays bounded: past 8
 * million URLs there are fewer bits a URL, and more "maybe"s.
 */
#include <stdlib.h>

#include "crawler/xalloc.h"
#include "store/db.h"

#define BLOCK_BYTES 64 /* 512 bits */
#define FILTER_BITS_PER_URL 8
#define FILTER_PROBES 6
#define FILTER_MAX_BYTES ((uint64_t)8 << 20)

/* Bytes, not words: the stored filter reads the same on any machine. */
static const uint8_t *block_of(const uint8_t *bits, uint64_t n_blocks,
                               uint64_t h)
{
    /* the hash's high half picks the block, a remix of it the bits */
    return bits + ((h >> 32) * n_blocks >> 32) * BLOCK_BYTES;
}

static uint64_t remix(uint64_t h)
{
    return h * 0x9e3779b97f4a7c15ULL;
}

static void filter_add(uint8_t *bits, uint64_t n_blocks, uint64_t h)
{
    uint8_t *b = (uint8_t *)block_of(bits, n_blocks, h);
    uint64_t r = remix(h);
    for (int i = 0; i < FILTER_PROBES; i++, r >>= 9)
        b[(r & 511) >> 3] |= (uint8_t)(1u << (r & 7));
}

int settled_filter_maybe(const struct store *s, int64_t hash)
{
    if (!s->filter)
        return 1;
    const uint8_t *b = block_of(s->filter, s->filter_blocks, (uint64_t)hash);
    uint64_t r = remix((uint64_t)hash);
    for (int i = 0; i < FILTER_PROBES; i++, r >>= 9)
        if (!(b[(r & 511) >> 3] & 1u << (r & 7)))
            return 0;
    return 1;
}

void settled_filter_drop(struct store *s)
{
    free(s->filter);
    s->filter = NULL;
    s->filter_blocks = 0;
}

static const char table_sql[] =
    "CREATE TABLE IF NOT EXISTS url_filter("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " settled_id INTEGER NOT NULL," /* the bound the bits describe */
    " bits BLOB NOT NULL);";

int settled_filter_build(struct store *s)
{
    settled_filter_drop(s);
    uint64_t n_blocks =
        (uint64_t)s->settled_id * FILTER_BITS_PER_URL / (BLOCK_BYTES * 8) + 1;
    if (n_blocks > FILTER_MAX_BYTES / BLOCK_BYTES)
        n_blocks = FILTER_MAX_BYTES / BLOCK_BYTES;
    uint8_t *bits = xcalloc(n_blocks, BLOCK_BYTES);
    char *sql = db_sql(s, "SELECT hash FROM urls INDEXED BY urls_hash"
                          " WHERE id <= SETTLED_ID");
    sqlite3_stmt *st = NULL;
    int step = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    free(sql);
    if (step == SQLITE_OK)
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            filter_add(bits, n_blocks, (uint64_t)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    st = NULL;
    int rc;
    if (step != SQLITE_DONE || db_exec(s, table_sql) < 0 ||
        sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO url_filter"
                           " VALUES (1, ?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(s);
    } else {
        sqlite3_bind_int64(st, 1, s->settled_id);
        sqlite3_bind_blob64(st, 2, bits, n_blocks * BLOCK_BYTES, SQLITE_STATIC);
        rc = db_done(s, st);
    }
    sqlite3_finalize(st);
    if (rc < 0) {
        free(bits);
        return rc;
    }
    s->filter = bits;
    s->filter_blocks = n_blocks;
    return 0;
}

/* 1 when a filter is stored for the current settled part, 0 when none
 * is, or STORE_EFAIL. */
static int is_stored(struct store *s)
{
    int has = db_has_table(s, "url_filter");
    if (has <= 0)
        return has;
    int64_t bound = -1;
    if (db_int(s, "SELECT coalesce(max(settled_id), -1) FROM url_filter",
               &bound) < 0)
        return STORE_EFAIL;
    return bound == s->settled_id; /* else stale: made for another bound */
}

int store_urls_filter_missing(struct store *s)
{
    if (!db_has_settled(s))
        return 0;
    int stored = is_stored(s);
    return stored < 0 ? stored : !stored;
}

int settled_filter_load(struct store *s)
{
    settled_filter_drop(s);
    if (!db_has_settled(s))
        return 0;
    int stored = is_stored(s);
    if (stored <= 0)
        return stored;
    sqlite3_blob *blob;
    if (sqlite3_blob_open(s->db, "main", "url_filter", "bits", 1, 0, &blob) !=
        SQLITE_OK)
        return db_fail(s);
    int bytes = sqlite3_blob_bytes(blob);
    if (bytes <= 0 || bytes % BLOCK_BYTES) {
        sqlite3_blob_close(blob);
        return 0; /* not one of ours: probe the index instead */
    }
    uint8_t *bits = xmalloc((size_t)bytes);
    if (sqlite3_blob_read(blob, bits, bytes, 0) != SQLITE_OK) {
        free(bits);
        sqlite3_blob_close(blob);
        return db_fail(s);
    }
    sqlite3_blob_close(blob);
    s->filter = bits;
    s->filter_blocks = (uint64_t)bytes / BLOCK_BYTES;
    return 0;
}
