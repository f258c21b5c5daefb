#!/usr/bin/env python3
"""Pre-fill a crawl database's frontier with N queued URLs (the scale test).

  prefill.py --db DB --n N [--hosts 64] [--port 18080] [--json OUT]

DB must already be a crawl database (made by a tiny `crawler crawl
--max-pages 1`), so the schema is the crawler's own.  Adds the hosts
http://127.0.0.H:PORT (H = 1..hosts) when missing and N rows in `urls`:
http://127.0.0.H:PORT/s/K/ spread round-robin over the hosts, state 0
(queued), depth 1, kind 0 (page).  Every path of the synthetic web returns a
page, and no robots.txt there disallows /s/.

The `hash` column is computed exactly as the crawler computes it
(crawler/hash.c: FNV-1a 64 over the normalized URL, then the murmur3 64-bit
finalizer, stored as a signed 64-bit integer), so a URL inserted here and the
same URL found later by the crawl are one row.  The implementation is checked
against the rows the tiny crawl wrote before anything is inserted.

The rows land in the recent part of the URL-seen index; `crawler index`
settles them afterwards, as a crawl that grew the frontier would have.
"""
import argparse
import json
import os
import sqlite3
import sys
import time

M64 = (1 << 64) - 1
FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3


def fnv_update(h, data):
    for c in data:
        h = ((h ^ c) * FNV_PRIME) & M64
    return h


def fnv_final(h):
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & M64
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & M64
    h ^= h >> 33
    return h - (1 << 64) if h >> 63 else h


def hash64(data):
    return fnv_final(fnv_update(FNV_OFFSET, data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--hosts", type=int, default=64)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    if not os.path.exists(a.db):
        sys.exit("prefill.py: %s: no such database (run a --max-pages 1 crawl first)" % a.db)

    t0 = time.monotonic()
    con = sqlite3.connect(a.db, isolation_level=None)
    # same hash as the crawler? check on the rows it wrote itself
    rows = con.execute("SELECT hash, url FROM urls LIMIT 1000").fetchall()
    bad = sum(1 for h, u in rows if hash64(u.encode()) != h)
    if not rows or bad:
        sys.exit("prefill.py: hash64 differs from the crawler's on %d of %d rows" % (bad, len(rows)))

    # bulk load: rollback journal off WAL for the load, big page cache
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -1048576")   # 1 GiB: the hash index stays in memory
    con.execute("BEGIN")
    host_ids = []
    for h in range(1, a.hosts + 1):
        origin = "http://127.0.0.%d:%d" % (h, a.port)
        con.execute("INSERT OR IGNORE INTO hosts(origin) VALUES (?)", (origin,))
        host_ids.append(con.execute("SELECT id FROM hosts WHERE origin = ?", (origin,)).fetchone()[0])
    prefix = [("http://127.0.0.%d:%d/s/" % (h, a.port)) for h in range(1, a.hosts + 1)]
    prefix_state = [fnv_update(FNV_OFFSET, p.encode()) for p in prefix]

    def rows_gen():
        for i in range(a.n):
            k = i % a.hosts
            tail = "%d/" % (i // a.hosts)
            yield (fnv_final(fnv_update(prefix_state[k], tail.encode())),
                   prefix[k] + tail, host_ids[k])

    before = con.execute("SELECT count(*) FROM urls").fetchone()[0]
    con.executemany("INSERT INTO urls(hash, url, host_id, state, depth, kind)"
                    " VALUES (?, ?, ?, 0, 1, 0) ON CONFLICT DO NOTHING", rows_gen())
    con.execute("COMMIT")
    after = con.execute("SELECT count(*) FROM urls").fetchone()[0]
    con.execute("PRAGMA journal_mode = WAL")
    res = {
        "n": a.n,
        "inserted": after - before,
        "urls": after,
        "queued": con.execute("SELECT count(*) FROM urls WHERE state = 0").fetchone()[0],
        "finished": con.execute("SELECT count(*) FROM urls WHERE state IN (2, 3)").fetchone()[0],
        "pages_rows": con.execute("SELECT count(*) FROM pages").fetchone()[0],
        "html_200_rows": con.execute("SELECT count(*) FROM pages WHERE status = 200"
                                     " AND content_type LIKE 'text/html%'").fetchone()[0],
        "hosts": con.execute("SELECT count(*) FROM hosts").fetchone()[0],
        "hash_checked_rows": len(rows),
    }
    con.close()
    res["db_bytes"] = os.path.getsize(a.db)
    res["build_s"] = round(time.monotonic() - t0, 1)
    print("prefill: %(inserted)d URLs inserted (%(queued)d queued, %(finished)d finished) "
          "in %(build_s).1f s, db %(db_bytes)d bytes" % res, flush=True)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
