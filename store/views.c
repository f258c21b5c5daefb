/*
 * views: the SQL views that answer the questions users ask most, part of
 * the schema contract (their columns are documented in README.md, "The
 * database"). Created by store_open, inside its schema transaction, on
 * every read-write open: each view is dropped and created again, so a newer
 * binary brings its newer views to an older database. The read-only query
 * commands never create anything.
 *
 * Conventions shared by the views:
 *  - "the latest fetch" of a URL is its pages row with the largest id (a
 *    URL retried after a 5xx or a network error has several rows); the
 *    test is a lookup in pages_url, which holds the rowid.
 *  - status 0 means no HTTP response (pages.error says why).
 *  - a redirect is a pages row with a 3xx status; its target is the urls
 *    row that the links row of kind 5 (LINK_REDIRECT) from it points to.
 *  - URLs are the normalized text of urls.url; times are the ISO 8601 UTC
 *    text of the *_at columns; kinds are links.kind numbers.
 *
 * The extra indexes below serve these views only; each is partial where it
 * can be, so that the crawl's inserts (mostly 200s) pay for as little of
 * them as possible. The test of their use is `EXPLAIN QUERY PLAN` in
 * tests/unit/test_query.c: no view scans links, and none scans pages or
 * urls without an index.
 */
#include "store/db.h"

#include <stdlib.h>

static const char views_sql[] =
    /* broken_links starts from the failed fetches, few in a healthy crawl,
     * instead of from every page: the partial index holds just them. The
     * view repeats this WHERE term word for word so SQLite can use it. */
    "CREATE INDEX IF NOT EXISTS pages_failed ON pages(url_id)"
    " WHERE status >= 400 OR status = 0;"
    /* redirect_chains starts from the redirects, the same way. */
    "CREATE INDEX IF NOT EXISTS pages_redirect ON pages(url_id)"
    " WHERE status BETWEEN 300 AND 399;"
    /* slow_pages is read slowest first, usually with a LIMIT: walking this
     * index backwards yields rows in order without sorting all pages. */
    "CREATE INDEX IF NOT EXISTS pages_slow ON pages(total_ms, ttfb_ms)"
    " WHERE status > 0;"

    /* Pages linking to a URL whose latest fetch failed (4xx, 5xx, or no
     * response), one row per (page, link, kind). */
    "DROP VIEW IF EXISTS broken_links;"
    "CREATE VIEW broken_links(source, link, kind, status, error) AS"
    " SELECT DISTINCT src.url, dst.url, lk.kind, bp.status, bp.error"
    " FROM pages AS bp"
    " JOIN urls AS dst ON dst.id = bp.url_id"
    " JOIN links AS lk ON lk.to_hash = dst.hash"
    " JOIN urls AS src ON src.id = lk.from_id"
    " WHERE (bp.status >= 400 OR bp.status = 0)"
    " AND bp.id = (SELECT max(lp.id) FROM pages AS lp"
    "  WHERE lp.url_id = bp.url_id)"
    " ORDER BY 1, 2, 3;"

    /* One row per hop of every chain of HTTP redirects, from a URL that no
     * redirect leads to or that was first found otherwise (hops = 0: a
     * seed or a link, so a loop entered from a seed is a chain too). A
     * chain ends at the first URL that is not a redirect (fetched or not)
     * or where it would loop. */
    "DROP VIEW IF EXISTS redirect_chains;"
    "CREATE VIEW redirect_chains(start_url, hop, url, status, location,"
    " target, final_url, final_status, hops) AS"
    " WITH RECURSIVE chain(start_id, hop, url_id, status, location,"
    "  next_hash, path) AS ("
    "  SELECT ru.id, 1, ru.id, rp.status, rp.location,"
    "   (SELECT nl.to_hash FROM links AS nl WHERE nl.from_id = ru.id"
    "    AND nl.kind = 5 LIMIT 1),"
    "   '/' || ru.id || '/'"
    "  FROM pages AS rp JOIN urls AS ru ON ru.id = rp.url_id"
    "  WHERE rp.status BETWEEN 300 AND 399"
    "  AND rp.id = (SELECT max(lp.id) FROM pages AS lp"
    "   WHERE lp.url_id = rp.url_id)"
    "  AND (ru.hops = 0 OR NOT EXISTS (SELECT 1 FROM links AS il"
    "   JOIN pages AS ip ON ip.url_id = il.from_id"
    "   WHERE il.to_hash = ru.hash AND il.kind = 5"
    "   AND ip.status BETWEEN 300 AND 399))"
    "  UNION ALL"
    "  SELECT c.start_id, c.hop + 1, nu.id, np.status, np.location,"
    "   (SELECT nl.to_hash FROM links AS nl WHERE nl.from_id = nu.id"
    "    AND nl.kind = 5 LIMIT 1),"
    "   c.path || nu.id || '/'"
    "  FROM chain AS c JOIN urls AS nu"
    "  ON (nu.hash = c.next_hash AND nu.id <= SETTLED_ID)"
    "  OR (nu.hash = c.next_hash AND nu.id > SETTLED_ID)"
    "  JOIN pages AS np ON np.url_id = nu.id"
    "  WHERE np.status BETWEEN 300 AND 399"
    "  AND np.id = (SELECT max(lp.id) FROM pages AS lp"
    "   WHERE lp.url_id = np.url_id)"
    "  AND instr(c.path, '/' || nu.id || '/') = 0),"
    " hop_rows AS ("
    "  SELECT c.start_id, c.hop, c.url_id, c.status, c.location,"
    "   tu.id AS target_id, tu.url AS target,"
    "   count(*) OVER whole AS hops,"
    "   last_value(tu.id) OVER whole AS final_id"
    "  FROM chain AS c LEFT JOIN urls AS tu"
    "  ON (tu.hash = c.next_hash AND tu.id <= SETTLED_ID)"
    "  OR (tu.hash = c.next_hash AND tu.id > SETTLED_ID)"
    "  WINDOW whole AS (PARTITION BY c.start_id ORDER BY c.hop"
    "   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))"
    " SELECT su.url, hr.hop, hu.url, hr.status, hr.location, hr.target,"
    "  fu.url,"
    "  (SELECT fp.status FROM pages AS fp WHERE fp.url_id = hr.final_id"
    "   ORDER BY fp.id DESC LIMIT 1),"
    "  hr.hops"
    " FROM hop_rows AS hr"
    " JOIN urls AS su ON su.id = hr.start_id"
    " JOIN urls AS hu ON hu.id = hr.url_id"
    " LEFT JOIN urls AS fu ON fu.id = hr.final_id"
    " ORDER BY 1, 2;"

    /* Successful, non-empty pages whose bodies are byte for byte the same
     * as another URL's (by body hash), grouped by that hash. */
    "DROP VIEW IF EXISTS duplicate_pages;"
    "CREATE VIEW duplicate_pages(body_hash, copies, url, status, bytes,"
    " title) AS"
    " SELECT dp.body_hash, g.copies, du.url, dp.status, dp.bytes, dp.title"
    " FROM (SELECT body_hash, count(DISTINCT url_id) AS copies FROM pages"
    "  WHERE body_hash IS NOT NULL AND status BETWEEN 200 AND 299"
    "  AND bytes > 0"
    "  GROUP BY body_hash HAVING count(DISTINCT url_id) > 1) AS g"
    " JOIN pages AS dp ON dp.body_hash = g.body_hash"
    " JOIN urls AS du ON du.id = dp.url_id"
    " WHERE dp.status BETWEEN 200 AND 299 AND dp.bytes > 0"
    " AND dp.id = (SELECT max(lp.id) FROM pages AS lp"
    "  WHERE lp.url_id = dp.url_id)"
    " ORDER BY 1, 3;"

    /* Every fetch that got a response, slowest first (total time, then
     * time to first byte). */
    "DROP VIEW IF EXISTS slow_pages;"
    "CREATE VIEW slow_pages(url, total_ms, ttfb_ms, connect_ms, status,"
    " bytes, fetched_at) AS"
    " SELECT su.url, sp.total_ms, sp.ttfb_ms, sp.connect_ms, sp.status,"
    "  sp.bytes, sp.fetched_at"
    " FROM pages AS sp JOIN urls AS su ON su.id = sp.url_id"
    " WHERE sp.status > 0"
    " ORDER BY sp.total_ms DESC, sp.ttfb_ms DESC, sp.id DESC;"

    /* One row per host: its fetches (every attempt), the failed ones,
     * bytes, mean latencies, robots.txt state and politeness delays. */
    "DROP VIEW IF EXISTS host_summary;"
    "CREATE VIEW host_summary(host, pages, errors, bytes, avg_ms,"
    " avg_ttfb_ms, robots, delay_ms, crawl_delay_ms) AS"
    " SELECT h.origin, count(hp.id),"
    "  count(CASE WHEN hp.status >= 400 OR hp.status = 0 THEN 1 END),"
    "  coalesce(sum(hp.bytes), 0),"
    "  round(avg(hp.total_ms), 3), round(avg(hp.ttfb_ms), 3),"
    "  CASE h.robots_state WHEN 1 THEN 'parsed' WHEN 2 THEN 'none'"
    "   WHEN 3 THEN 'error' ELSE 'unknown' END,"
    "  h.delay_ms, nullif(h.crawl_delay_ms, -1)"
    " FROM hosts AS h"
    " LEFT JOIN urls AS hu ON hu.host_id = h.id"
    " LEFT JOIN pages AS hp ON hp.url_id = hu.id"
    " GROUP BY h.id"
    " ORDER BY 1;"

    /* URLs found but never to be fetched, and why. */
    "DROP VIEW IF EXISTS skipped;"
    "CREATE VIEW skipped(url, reason, depth, found_on, discovered_at) AS"
    " SELECT ku.url, ku.reason, ku.depth, fu.url, ku.discovered_at"
    " FROM urls AS ku LEFT JOIN urls AS fu ON fu.id = ku.from_id"
    " WHERE ku.state = 4"
    " ORDER BY ku.id;";

int db_create_views(struct store *s)
{
    char *sql = db_sql(s, views_sql);
    int rc = db_exec(s, sql);
    free(sql);
    return rc;
}
