/*
 * frontier: hosts and URLs in the database. Runs in the coordinator.
 *
 * The life of a URL (urls.state):
 *
 *            add                        finish
 *   (new) --------> QUEUED ----------------------------> DONE
 *     |               ^   |
 *     | add (scope,   |   +----------------------------> FAILED
 *     | robots, ...)  |   |                    (retries used up, quarantine)
 *     v               |   |
 *   SKIPPED ----------+   +----------------------------> SKIPPED
 *    (reason)   revive (a followable path finds       (robots, page limit)
 *               a nofollow or too-deep URL)
 *
 * A URL being fetched or parsed is in flight in the coordinator's memory
 * only: it reads queued rows (store_url_queued) and leaves them as they
 * are until they finish. Writing the lease too cost an UPDATE and two
 * index changes per fetch, and bought nothing a restart needs.
 *
 * Invariants:
 *  1. A URL (by hash) has exactly one row; its state only moves along the
 *     arrows above.
 *  2. A killed run loses no work: what it had in flight is still QUEUED.
 *     (IN_FLIGHT rows come only from older versions, which wrote the
 *     lease; start-up queues them again.)
 *  3. A retry's attempts are counted in its row as they are used, so a
 *     restart retries it once more at most.
 *  4. Every row not QUEUED/DONE has a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/xalloc.h"
#include "store/db.h"

void host_row_release(struct host_row *h)
{
    free(h->origin);
    free(h->robots_txt);
    memset(h, 0, sizeof *h);
}

int store_host_id(struct store *s, const char *origin, size_t len, int64_t *id)
{
    sqlite3_stmt *st = db_stmt(s, ST_HOST_FIND);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_text(st, 1, origin, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_fail(s);
    st = db_stmt(s, ST_HOST_ADD);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_text(st, 1, origin, (int)len, SQLITE_STATIC);
    if (db_done(s, st) < 0)
        return STORE_EFAIL;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static void read_host(sqlite3_stmt *st, int col, struct host_row *h)
{
    h->origin = xstrdup((const char *)sqlite3_column_text(st, col));
    h->robots_state = sqlite3_column_int(st, col + 1);
    h->robots_len = (size_t)sqlite3_column_bytes(st, col + 2);
    const void *txt = sqlite3_column_blob(st, col + 2);
    h->robots_txt = txt ? xmemdup0(txt, h->robots_len) : NULL;
    h->robots_fetched_ms = sqlite3_column_int64(st, col + 3);
    h->crawl_delay_ms = sqlite3_column_int64(st, col + 4);
    h->delay_ms = sqlite3_column_int64(st, col + 5);
    h->next_at_ms = sqlite3_column_int64(st, col + 6);
    h->error_streak = sqlite3_column_int64(st, col + 7);
    h->n_queued = sqlite3_column_int64(st, col + 8);
    h->n_done = sqlite3_column_int64(st, col + 9);
}

int store_host_load(struct store *s, int64_t id, struct host_row *out)
{
    sqlite3_stmt *st = db_stmt(s, ST_HOST_LOAD);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = id;
        read_host(st, 0, out);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? STORE_EFAIL : db_fail(s);
}

int store_hosts_with_work(struct store *s,
                          void (*fn)(void *arg, struct host_row *h), void *arg)
{
    /* Each count reads only its run of urls_host_state. */
    static const char sql[] =
        "SELECT h.id, h.origin, h.robots_state, h.robots_txt,"
        " h.robots_fetched_ms, h.crawl_delay_ms, h.delay_ms, h.next_at_ms,"
        " h.error_streak,"
        " (SELECT count(*) FROM (SELECT 1 FROM urls AS q"
        " WHERE q.host_id = h.id AND q.state = 0"
        " LIMIT " QUEUED_COUNT_MAX_SQL ")),"
        " (SELECT count(*) FROM urls AS d"
        " WHERE d.host_id = h.id AND d.state IN (2, 3))"
        " FROM hosts AS h WHERE EXISTS (SELECT 1 FROM urls AS w"
        " WHERE w.host_id = h.id AND w.state = 0)";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct host_row h = {.id = sqlite3_column_int64(st, 0)};
        read_host(st, 1, &h);
        fn(arg, &h);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s);
}

int store_host_save(struct store *s, const struct host_row *h, int with_robots)
{
    sqlite3_stmt *st = db_stmt(s, ST_HOST_SAVE);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, h->id);
    sqlite3_bind_int(st, 2, h->robots_state);
    sqlite3_bind_int64(st, 3, h->robots_fetched_ms);
    sqlite3_bind_int64(st, 4, h->crawl_delay_ms);
    sqlite3_bind_int64(st, 5, h->delay_ms);
    sqlite3_bind_int64(st, 6, h->next_at_ms);
    sqlite3_bind_int64(st, 7, h->error_streak);
    if (db_done(s, st) < 0)
        return STORE_EFAIL;
    if (!with_robots)
        return 0;
    st = db_stmt(s, ST_HOST_SAVE_ROBOTS);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, h->id);
    if (h->robots_txt)
        sqlite3_bind_blob(st, 2, h->robots_txt, (int)h->robots_len,
                          SQLITE_STATIC);
    return db_done(s, st);
}

/* Queues a URL skipped as nofollow or too deep, now that a followable
 * path found it: 2 when it did, 0 when the URL is not such a skip. */
static int url_revive(struct store *s, const struct url_new *u)
{
    sqlite3_stmt *st = db_stmt(s, ST_URL_REVIVE);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, u->hash);
    sqlite3_bind_int(st, 2, u->depth);
    sqlite3_bind_int(st, 3, u->hops);
    if (u->from_id)
        sqlite3_bind_int64(st, 4, u->from_id);
    /* A skip has no host (it was never to be fetched); now it has. */
    if (u->host_id)
        sqlite3_bind_int64(st, 5, u->host_id);
    if (db_done(s, st) < 0)
        return STORE_EFAIL;
    return sqlite3_changes(s->db) > 0 ? 2 : 0;
}

/* 1 when the hash is in the settled part of the URL-seen index (db.h), 0
 * when not or when that part is empty, or STORE_EFAIL. */
static int is_settled(struct store *s, int64_t hash)
{
    if (!db_has_settled(s) || !settled_filter_maybe(s, hash))
        return 0;
    s->n_settled_lookups++;
    sqlite3_stmt *st = db_stmt(s, ST_URL_SETTLED);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, hash);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(s);
    return rc == SQLITE_ROW;
}

int store_url_add(struct store *s, const struct url_new *u)
{
    int known = is_settled(s, u->hash);
    if (known < 0)
        return known;
    if (known)
        return u->state == URL_QUEUED ? url_revive(s, u) : 0;
    sqlite3_stmt *st = db_stmt(s, ST_URL_ADD);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, u->hash);
    sqlite3_bind_text(st, 2, u->url, -1, SQLITE_STATIC);
    if (u->host_id)
        sqlite3_bind_int64(st, 3, u->host_id);
    sqlite3_bind_int(st, 4, u->state);
    db_bind_text(st, 5, u->reason);
    sqlite3_bind_int(st, 6, u->depth);
    sqlite3_bind_int(st, 7, u->hops);
    if (u->from_id)
        sqlite3_bind_int64(st, 8, u->from_id);
    sqlite3_bind_int(st, 9, u->kind);
    db_bind_now(s, st, 10);
    if (db_done(s, st) < 0)
        return STORE_EFAIL;
    if (sqlite3_changes(s->db) > 0)
        return u->state == URL_QUEUED;
    return u->state == URL_QUEUED ? url_revive(s, u) : 0;
}

int64_t store_urls_recent(struct store *s)
{
    if (s->settled_id == INT64_MAX)
        return 0;    /* an older database: one index */
    int64_t top = 0; /* max() of no rows is NULL: 0 */
    if (db_int(s, "SELECT max(id) FROM urls", &top) < 0)
        return STORE_EFAIL;
    return top > s->settled_id ? top - s->settled_id : 0;
}

/* The recent part is folded in once it has SETTLE_MIN_ROWS rows (~18 MB
 * of index) and a quarter as many as the settled part: small enough for
 * the page cache, and each URL is sorted again a bounded number of times
 * as a crawl grows (a fold of 5 million URLs took 4-6 s). */
#define SETTLE_MIN_ROWS ((int64_t)1 << 20)

/* Ends a failed fold or filter build: nothing of it stays. */
static int settle_failed(struct store *s, int64_t was)
{
    sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
    s->in_tx = 0;
    s->settled_id = was;
    settled_filter_drop(s); /* the old one is gone: look URLs up */
    return STORE_EFAIL;
}

/* A settled part folded by an older version has no filter (store_open
 * loads the one stored for it): one is built. */
static int filter_catch_up(struct store *s)
{
    if (!db_has_settled(s) || s->filter)
        return 0;
    if (store_begin(s) < 0 || settled_filter_build(s) < 0 ||
        store_commit(s) < 0)
        return settle_failed(s, s->settled_id);
    return 0;
}

int store_urls_settle(struct store *s, int always)
{
    int64_t recent = store_urls_recent(s);
    if (recent < 0)
        return STORE_EFAIL;
    if (s->in_tx)
        return 0;
    if (recent == 0)
        return always ? filter_catch_up(s) : 0;
    if (!always && (recent < SETTLE_MIN_ROWS || recent < s->settled_id / 4))
        return 0;
    int64_t was = s->settled_id, top = was + recent;
    char sql[320];
    snprintf(sql, sizeof sql,
             "DROP INDEX urls_hash; DROP INDEX "
             "urls_hash_recent;" URL_HASH_INDEXES_SQL,
             (long long)top, (long long)top);
    /* The statements that name the bound are prepared again with it. */
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
    s->settled_id = top;
    int rc = store_begin(s);
    if (rc == 0)
        rc = db_exec_sort(s, sql);
    if (rc == 0)
        rc = db_create_views(s);
    if (rc == 0)
        rc = settled_filter_build(s);
    if (rc == 0)
        rc = store_commit(s);
    return rc < 0 ? settle_failed(s, was) : 0;
}

void url_lease_release(struct url_lease *l)
{
    free(l->url);
    l->url = NULL;
}

int store_url_queued(struct store *s, int64_t host_id, int64_t after_id,
                     int64_t upto_id, int max, struct url_lease *out, int *n)
{
    sqlite3_stmt *st = db_stmt(s, ST_URL_QUEUED);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, host_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, max);
    sqlite3_bind_int64(st, 4, upto_id);
    int got = 0, rc = SQLITE_DONE;
    while (got < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct url_lease *l = &out[got++];
        l->id = sqlite3_column_int64(st, 0);
        l->url = xstrdup((const char *)sqlite3_column_text(st, 1));
        l->depth = sqlite3_column_int(st, 2);
        l->hops = sqlite3_column_int(st, 3);
        l->attempts = sqlite3_column_int(st, 4);
        l->kind = sqlite3_column_int(st, 5);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (int i = 0; i < got; i++)
            url_lease_release(&out[i]);
        return db_fail(s);
    }
    *n = got;
    return 0;
}

int store_url_finish(struct store *s, int64_t id, int state, const char *reason,
                     int attempts)
{
    sqlite3_stmt *st = db_stmt(s, ST_URL_FINISH);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    db_bind_text(st, 3, reason);
    sqlite3_bind_int(st, 4, attempts);
    return db_done(s, st);
}

int store_url_requeue_all(struct store *s)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, "UPDATE urls SET state = 0 WHERE state = 1", NULL,
                     NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        return db_fail(s);
    }
    return sqlite3_changes(s->db);
}

int store_urls_finished(struct store *s, int64_t *n)
{
    /* Two seeks into urls_host_state per host: the finished URLs only,
     * where counting by state would step over every queued one. */
    return db_int(s,
                  "SELECT (SELECT count(*) FROM hosts AS h CROSS JOIN urls AS u"
                  " ON u.host_id = h.id AND u.state IN (2, 3))"
                  " + (SELECT count(*) FROM urls"
                  " WHERE host_id IS NULL AND state IN (2, 3))",
                  n);
}

int store_url_counts(struct store *s, int64_t n[URL_N_STATES])
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           /* in urls_host_state's order: no sort */
                           "SELECT state, count(*) FROM urls"
                           " GROUP BY host_id, state",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s);
    int64_t got[URL_N_STATES] = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int state = sqlite3_column_int(st, 0);
        if (state >= 0 && state < URL_N_STATES)
            got[state] += sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(s);
    memcpy(n, got, sizeof got);
    return 0;
}
