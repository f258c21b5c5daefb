"""End-to-end tests of the read side: `crawler stats`, `query`, `search`,
`export` and `links`, and the views of the schema, on a crawl of a small
local site whose broken links, redirects, duplicates, slow page, skips and
words are known, so that every view and `stats --json` can be asserted row
for row. Also: the commands beside a running crawl, and their one-line
error on a file that is not a crawl database.
"""

import csv
import io
import json
import os
import re
import sqlite3
import subprocess

from helpers import (CrawlerTestCase, crawler_bin, crawler_env, open_db,
                     wait_until)
from server import Response
from sitegen import make_site

#: Seconds a query command may take.
COMMAND_TIMEOUT_S = 30
#: Server delay of the slow page, in seconds.
SLOW_S = 0.3
#: ISO 8601 UTC, as the database writes times.
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ROBOTS_TXT = "User-agent: *\nDisallow: /private\n"
NOT_FOUND = "<html><body>not found</body></html>"  # server.py's 404 body
DUP_BODY = ("<html><head><title>Dup</title></head><body><p>same body"
            " twice</p><a href=\"/\">home</a></body></html>")


def page(title: str, text: str, links=(), head: str = "",
         nofollow=()) -> str:
    """An HTML page: `title`, a paragraph of `text`, one <a> per link."""
    items = "".join(f'<a href="{h}">link</a>\n' for h in links)
    items += "".join(f'<a rel="nofollow" href="{h}">link</a>\n'
                     for h in nofollow)
    return (f"<html><head><title>{title}</title>{head}</head><body>"
            f"<p>{text}</p>\n{items}</body></html>")


class KnownSite:
    """The scripted site, and what a crawl of it must produce."""

    HOME_LINKS = ["/a", "/b", "/missing", "/r1", "/dup1", "/dup2", "/slow",
                  "/private/x", "mailto:x@example.com", "/err", "/noindex",
                  "/gone"]

    def __init__(self, web):
        self.o = web.origin()
        o = self.o
        self.bodies = {  # path -> (status, body) of each page fetch
            "/": (200, page("Home", "welcome to the test site",
                            self.HOME_LINKS, nofollow=["/hidden"])),
            "/a": (200, page("Alpha", "the quokka lives here",
                             ["/", "/missing", "/b"])),
            "/b": (200, page("Beta", "another quokka page",
                             ["/a", "/missing"])),
            "/missing": (404, NOT_FOUND),
            "/gone": (410, "gone"),
            "/r1": (301, ""),
            "/r2": (302, ""),
            "/final": (200, page("Final", "the end of the chain")),
            "/dup1": (200, DUP_BODY),
            "/dup2": (200, DUP_BODY),
            "/slow": (200, page("Slow", "a slow page")),
            "/err": (500, "oops"),
            "/noindex": (200, page(
                "Hidden", "a quokka that hides",
                head='<meta name="robots" content="noindex">')),
        }
        web.robots(ROBOTS_TXT)
        for path, (status, body) in self.bodies.items():
            web.script(path, Response(status=status, body=body))
        web.script("/r1", Response(status=301, location=o + "/r2"))
        web.script("/r2", Response(status=302, location="/final"))
        web.script("/slow", Response(body=self.bodies["/slow"][1],
                                     delay=SLOW_S))
        web.script("/gone", Response(status=410, body="gone"))

    def url(self, path: str) -> str:
        return self.o + path

    #: Fetches of each path: /err is tried --max-attempts (2) times.
    def fetches(self, path: str) -> int:
        return 2 if path == "/err" else 1

    @property
    def n_pages(self) -> int:
        return sum(self.fetches(p) for p in self.bodies)

    @property
    def n_bytes(self) -> int:
        return sum(self.fetches(p) * len(b.encode())
                   for p, (_, b) in self.bodies.items())


class QueryTestCase(CrawlerTestCase):
    """Adds: crawl the known site; run a query command."""

    def crawl_known_site(self) -> KnownSite:
        web = self.start_web(1)
        site = KnownSite(web)
        self.write_seeds([site.url("/")])
        self.crawl_ok("--quiet", "--max-attempts", 2)
        return site

    def run_cmd(self, *args, db: str = "crawl.db"):
        """Runs `crawler ARGS --db DB` in the temp dir; returns the
        CompletedProcess (text stdout and stderr)."""
        return subprocess.run(
            [crawler_bin(), *map(str, args), "--db", db], cwd=self.tmp,
            env=crawler_env(), stdin=subprocess.DEVNULL,
            capture_output=True, timeout=COMMAND_TIMEOUT_S)

    def ok(self, *args, db: str = "crawl.db") -> str:
        """Runs a command that must succeed, silently; returns stdout."""
        r = self.run_cmd(*args, db=db)
        self.assertEqual((r.returncode, r.stderr.decode()), (0, ""),
                         f"crawler {args}")
        return r.stdout.decode("utf-8")

    def json_rows(self, sql: str) -> list:
        """`crawler query --json SQL`, parsed."""
        return json.loads(self.ok("query", "--json", sql))

    def tuples(self, sql: str) -> list:
        """The rows of `crawler query --json SQL` as tuples, in order."""
        return [tuple(r.values()) for r in self.json_rows(sql)]


class ViewsTest(QueryTestCase):

    def test_views_exact_rows(self):
        """Each view returns exactly the rows the site implies."""
        site = self.crawl_known_site()
        u = site.url

        self.assertEqual(self.tuples("SELECT * FROM broken_links"), [
            (u("/"), u("/err"), 0, 500, None),
            (u("/"), u("/gone"), 0, 410, None),
            (u("/"), u("/missing"), 0, 404, None),
            (u("/a"), u("/missing"), 0, 404, None),
            (u("/b"), u("/missing"), 0, 404, None),
        ], "broken_links")

        self.assertEqual(self.tuples("SELECT * FROM redirect_chains"), [
            (u("/r1"), 1, u("/r1"), 301, u("/r2"), u("/r2"), u("/final"),
             200, 2),
            (u("/r1"), 2, u("/r2"), 302, u("/final"), u("/final"),
             u("/final"), 200, 2),
        ], "redirect_chains")

        dups = self.tuples("SELECT * FROM duplicate_pages")
        size = len(DUP_BODY.encode())
        # The second copy is recorded as a duplicate and not parsed: no
        # title, and its links are not followed.
        self.assertEqual([d[1:] for d in dups], [
            (2, u("/dup1"), 200, size, "Dup"),
            (2, u("/dup2"), 200, size, None),
        ], "duplicate_pages")
        dup_of = self.tuples(
            "SELECT d.url FROM pages p JOIN urls u ON u.id = p.url_id"
            " JOIN urls d ON d.id = p.duplicate_of"
            f" WHERE u.url = '{u('/dup2')}'")
        self.assertEqual(dup_of, [(u("/dup1"),)], "duplicate_of")
        self.assertEqual(dups[0][0], dups[1][0], "one body hash")
        self.assertIsInstance(dups[0][0], int)

        slow = self.json_rows("SELECT * FROM slow_pages")
        self.assertEqual(len(slow), site.n_pages, "slow_pages rows")
        self.assertEqual(slow[0]["url"], u("/slow"), "slowest page")
        self.assertGreaterEqual(slow[0]["ttfb_ms"], SLOW_S * 1000 * 0.9)
        self.assertGreaterEqual(slow[0]["total_ms"], slow[0]["ttfb_ms"])
        totals = [r["total_ms"] for r in slow]
        self.assertEqual(totals, sorted(totals, reverse=True),
                         "slow_pages order")
        self.assertTrue(all(ISO_UTC.match(r["fetched_at"]) for r in slow))

        hosts = self.json_rows("SELECT * FROM host_summary")
        self.assertEqual(len(hosts), 1, hosts)
        h = hosts[0]
        self.assertEqual(
            (h["host"], h["pages"], h["errors"], h["bytes"], h["robots"],
             h["crawl_delay_ms"]),
            (site.o, site.n_pages, 4, site.n_bytes, "parsed", None),
            "host_summary")
        self.assertGreater(h["avg_ms"], 0)
        self.assertGreater(h["avg_ttfb_ms"], 0)
        self.assertIsInstance(h["delay_ms"], int)

        self.assertEqual(
            self.tuples("SELECT url, reason, depth, found_on FROM skipped"),
            [(u("/private/x"), "robots: Disallow: /private", 1, u("/")),
             ("mailto:x@example.com", "scheme", 1, u("/")),
             (u("/hidden"), "nofollow", 1, u("/"))], "skipped")

    def test_stats_json(self):
        """stats --json: every count, and times as ISO 8601 UTC."""
        site = self.crawl_known_site()
        stats = json.loads(self.ok("stats", "--json"))
        started, last = stats.pop("started_at"), stats.pop("last_fetch_at")
        duration, rate = stats.pop("duration_s"), stats.pop("pages_per_s")
        self.assertRegex(started, ISO_UTC)
        self.assertRegex(last, ISO_UTC)
        self.assertLessEqual(started, last)
        self.assertGreater(duration, SLOW_S)
        self.assertAlmostEqual(rate, site.n_pages / duration, delta=0.01)
        self.assertEqual(stats, {
            "pages": site.n_pages,
            "pages_by_status": {"1xx": 0, "2xx": 8, "3xx": 2, "4xx": 2,
                                "5xx": 2, "other": 0, "no_response": 0},
            "pages_by_content_type": {"text/html": site.n_pages},
            "hosts": 1,
            "urls": {"total": 16, "queued": 0, "in_flight": 0, "done": 12,
                     "failed": 1, "skipped": 3},
            "skipped_by_reason": {"nofollow": 1, "robots": 1, "scheme": 1},
            "bytes": site.n_bytes,
            "top_hosts": [{"host": site.o, "pages": site.n_pages,
                           "errors": 4, "bytes": site.n_bytes}],
        })
        # The same numbers in the table.
        text = self.ok("stats")
        self.assertRegex(text, rf"(?m)^pages +{site.n_pages}$")
        self.assertRegex(text, rf"(?m)^bytes +{site.n_bytes}$")
        self.assertIn(site.o, text)


class CommandsTest(QueryTestCase):

    def matches(self, word: str) -> int:
        db = open_db(os.path.join(self.tmp, "crawl.db"))
        try:
            return db.execute("SELECT count(*) FROM page_text WHERE"
                              " page_text MATCH ?", (word,)).fetchone()[0]
        finally:
            db.close()

    def forget_index(self):
        """Empties the search index and its mark, as a crawl at full speed
        leaves it: texts stored, none indexed."""
        db = sqlite3.connect(os.path.join(self.tmp, "crawl.db"))
        db.executescript(
            "INSERT INTO page_text(page_text) VALUES ('delete-all');"
            "DELETE FROM meta WHERE key = 'text_indexed_to';")
        db.close()

    def test_search_index_catches_up(self):
        """A crawl that ends with few texts waiting indexes them; a backlog
        is indexed by `crawler search` before it searches, or by `crawler
        index`, which then says the index is up to date."""
        self.crawl_known_site()
        self.assertEqual(self.matches("quokka"), 2, "indexed at the end")
        r = self.run_cmd("index")
        self.assertEqual(r.returncode, 0)
        self.assertIn("the search index is up to date", r.stderr.decode())

        self.forget_index()
        self.assertEqual(self.matches("quokka"), 0)
        self.assertEqual(len(json.loads(self.ok("search", "--json",
                                                "quokka"))), 2)
        self.assertEqual(self.matches("quokka"), 2, "indexed by search")

        self.forget_index()
        r = self.run_cmd("index")
        self.assertEqual((r.returncode, r.stderr.decode()), (0, ""))
        self.assertEqual(self.matches("quokka"), 2, "indexed by index")
        # A new crawl of the same site adds nothing to index.
        self.crawl_ok("--quiet")
        self.assertIn("up to date", self.run_cmd("index").stderr.decode())

    def has_inlink_index(self) -> bool:
        db = open_db(os.path.join(self.tmp, "crawl.db"))
        try:
            return db.execute("SELECT count(*) FROM sqlite_schema WHERE"
                              " name = 'links_to'").fetchone()[0] == 1
        finally:
            db.close()

    def drop_inlink_index(self):
        """As a crawl that did not end leaves the file."""
        db = sqlite3.connect(os.path.join(self.tmp, "crawl.db"))
        db.execute("DROP INDEX links_to")
        db.close()

    def test_inlink_index_built_at_the_end(self):
        """A crawl builds the index of in-links when it ends, not while it
        writes. Without it, as a crawl that did not end leaves the file,
        `links --in` gives the same rows; `crawler index` builds it, and so
        does the end of the next crawl."""
        site = self.crawl_known_site()
        self.assertTrue(self.has_inlink_index(), "built at the end")
        inlinks = self.ok("links", site.url("/r2"), "--in", "--json")
        self.drop_inlink_index()
        self.assertEqual(self.ok("links", site.url("/r2"), "--in", "--json"),
                         inlinks, "the same in-links without the index")
        r = self.run_cmd("index")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.has_inlink_index(), "built by crawler index")
        self.drop_inlink_index()
        self.crawl_ok("--quiet")
        self.assertTrue(self.has_inlink_index(), "built by the next crawl")
        self.assertEqual(self.ok("links", site.url("/r2"), "--in", "--json"),
                         inlinks)

    def settled_bound(self) -> int:
        """The id up to which urls_hash, the settled part of the URL-seen
        index, holds the rows (its WHERE term)."""
        db = open_db(os.path.join(self.tmp, "crawl.db"))
        try:
            sql = db.execute("SELECT sql FROM sqlite_schema"
                             " WHERE name = 'urls_hash'").fetchone()[0]
        finally:
            db.close()
        return int(sql.rsplit("id <= ", 1)[1])

    def test_url_index_settled(self):
        """`crawler index` folds the URLs a crawl added into the settled
        part of the URL-seen index, with its filter. The lookups by URL
        hash (links, explain, redirect_chains, export) give the same rows
        after it, and the next crawl finds no URL twice."""
        site = self.crawl_known_site()
        self.assertEqual(self.settled_bound(), 0, "all in the recent part")
        lookups = [("links", site.url("/"), "--json"),
                   ("explain", site.url("/r2")),
                   ("query", "--json", "SELECT * FROM redirect_chains"),
                   ("export", "--table", "links", "--format", "csv")]
        before = [self.ok(*args) for args in lookups]
        n_urls = self.tuples("SELECT count(*) FROM urls")
        r = self.run_cmd("index")
        self.assertEqual(r.returncode, 0, r.stderr)
        # all of it in the database file (looked at before anything else
        # opens it): a copy of that file alone is whole
        wal = os.path.join(self.tmp, "crawl.db-wal")
        self.assertEqual(os.path.getsize(wal) if os.path.exists(wal) else 0, 0)
        self.assertEqual(self.settled_bound(),
                         self.tuples("SELECT max(id) FROM urls")[0][0])
        self.assertEqual([self.ok(*args) for args in lookups], before)
        self.crawl_ok("--quiet", "--max-attempts", 2)
        self.assertEqual(self.tuples("SELECT count(*) FROM urls"), n_urls)
        self.assertEqual(
            self.tuples("SELECT count(DISTINCT hash) FROM urls"), n_urls)
        # the fold stored the settled part's filter; a database folded
        # without one (an older version) gets it from `crawler index`
        bound = self.settled_bound()
        filter_row = "SELECT settled_id, length(bits) > 0 FROM url_filter"
        self.assertEqual(self.tuples(filter_row), [(bound, 1)])
        db = sqlite3.connect(os.path.join(self.tmp, "crawl.db"))
        db.execute("DELETE FROM url_filter")
        db.commit()
        db.close()
        r = self.run_cmd("index")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.tuples(filter_row), [(bound, 1)])

    def test_schema_1_database(self):
        """A database of schema version 1 (text inside page_text, indexed
        as it was crawled) is searched as it is, and moved to version 2
        by the next crawl, its text kept and indexed again."""
        self.crawl_known_site()
        path = os.path.join(self.tmp, "crawl.db")
        self.assertEqual(self.run_cmd("index").returncode, 0)
        db = sqlite3.connect(path)
        db.executescript(
            "DROP TABLE page_text;"
            "CREATE VIRTUAL TABLE page_text USING fts5(title, text);"
            "INSERT INTO page_text(rowid, title, text)"
            " SELECT page_id, title, text FROM texts;"
            "DROP TABLE texts;"
            "DELETE FROM meta WHERE key = 'text_indexed_to';"
            "UPDATE meta SET value = '1' WHERE key = 'schema_version';")
        db.close()
        hits = json.loads(self.ok("search", "--json", "quokka"))
        self.assertEqual(len(hits), 2, "search of a version 1 database")
        self.crawl_ok("--quiet")
        db = open_db(path)
        version = db.execute("SELECT value FROM meta WHERE key ="
                             " 'schema_version'").fetchone()[0]
        n_texts = db.execute("SELECT count(*) FROM texts").fetchone()[0]
        db.close()
        self.assertEqual(int(version), 2)
        self.assertGreater(n_texts, 0, "texts moved over")
        hits = json.loads(self.ok("search", "--json", "quokka"))
        self.assertEqual(len(hits), 2, "search after the move")
        self.assertEqual(self.matches("quokka"), 2)

    def test_search_query_export_links(self):
        """search finds exactly the indexed pages with a word; query
        prints CSV and JSON; export streams whole tables; links lists both
        directions."""
        site = self.crawl_known_site()
        u = site.url

        # search: /noindex has the word too, but is not indexed.
        hits = json.loads(self.ok("search", "--json", "quokka"))
        self.assertEqual(sorted(h["url"] for h in hits),
                         [u("/a"), u("/b")], "search quokka")
        self.assertTrue(all("[quokka]" in h["snippet"] for h in hits), hits)
        self.assertEqual([h["title"] for h in
                          json.loads(self.ok("search", "--json", "chain"))],
                         ["Final"], "search chain")
        self.assertEqual(json.loads(self.ok("search", "--json", "zebra")),
                         [])
        text = self.ok("search", "--limit", 1, "quokka")
        self.assertEqual(len([ln for ln in text.splitlines()
                              if ln.startswith("http")]), 1, text)
        r = self.run_cmd("search", "quokka AND")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode().count("\n"), 1, r.stderr)

        # query: CSV by RFC 4180 (CRLF, quoting), numbers unformatted.
        out = self.ok("query", "--csv",
                      "SELECT url, status, title FROM pages JOIN urls"
                      " ON urls.id = url_id ORDER BY pages.id")
        rows = list(csv.reader(io.StringIO(out, newline="")))
        self.assertEqual(rows[0], ["url", "status", "title"])
        self.assertEqual(len(rows), 1 + site.n_pages)
        self.assertEqual(rows[1], [u("/"), "200", "Home"])
        self.assertTrue(out.endswith("\r\n"))
        # query refuses writes, with one line and exit 1.
        r = self.run_cmd("query", "DELETE FROM urls")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        self.assertRegex(r.stderr.decode(),
                         r"^crawler: 'DELETE FROM urls': writes are "
                         r"refused[^\n]*\n$")
        self.assertEqual(self.tuples("SELECT count(*) FROM urls"), [(16,)])

        # export: every row, valid JSON lines and CSV.
        n_links = self.tuples("SELECT count(*) FROM links")[0][0]
        n_urls = self.tuples("SELECT count(*) FROM urls")[0][0]
        for table, n in (("pages", site.n_pages), ("links", n_links),
                         ("urls", n_urls)):
            lines = self.ok("export", "--format", "jsonl", "--table",
                            table).splitlines()
            objs = [json.loads(ln) for ln in lines]
            self.assertEqual(len(objs), n, f"jsonl rows of {table}")
            out = self.ok("export", "--format", "csv", "--table", table)
            rows = list(csv.reader(io.StringIO(out, newline="")))
            self.assertEqual(len(rows), 1 + n, f"csv rows of {table}")
            self.assertEqual(rows[0], list(objs[0].keys()),
                             f"csv header of {table}")
        links = [json.loads(ln) for ln in self.ok(
            "export", "--format", "jsonl", "--table", "links").splitlines()]
        self.assertIn({"from_url": u("/r1"), "to_url": u("/r2"), "kind": 5,
                       "nofollow": 0}, links)
        self.assertIn({"from_url": u("/"), "to_url": u("/hidden"),
                       "kind": 0, "nofollow": 1}, links)
        pages = [json.loads(ln) for ln in self.ok(
            "export", "--format", "jsonl").splitlines()]
        self.assertEqual(pages[0]["url"], u("/"))
        self.assertIsInstance(pages[0]["total_ms"], float)

        # links --out: each target once, by URL, with its latest status.
        out = json.loads(self.ok("links", u("/a"), "--json"))
        self.assertEqual([(r["url"], r["kind"], r["status"]) for r in out],
                         [(u("/"), "a", 200), (u("/b"), "a", 200),
                          (u("/missing"), "a", 404)])
        out = json.loads(self.ok("links", u("/"), "--out", "--json"))
        self.assertEqual([r["url"] for r in out],
                         sorted([u(p) if p.startswith("/") else p
                                 for p in site.HOME_LINKS] + [u("/hidden")]))
        self.assertEqual([r["nofollow"] for r in out if r["url"].endswith(
            "/hidden")], [1])
        # links --in of an unnormalized spelling.
        spelled = "HTTP" + site.o[4:] + "/x/../missing#f"
        out = self.ok("links", spelled, "--in", "--csv")
        rows = list(csv.reader(io.StringIO(out, newline="")))
        self.assertEqual([r[0] for r in rows[1:]],
                         [u("/"), u("/a"), u("/b")])
        out = json.loads(self.ok("links", u("/r2"), "--in", "--json"))
        self.assertEqual([(r["url"], r["kind"]) for r in out],
                         [(u("/r1"), "redirect")])
        r = self.run_cmd("links", u("/nowhere"))
        self.assertEqual((r.returncode, r.stderr.decode()),
                         (1, f"crawler: {u('/nowhere')}: not in the"
                             " database\n"))

    def test_not_a_crawl_database(self):
        """Every command fails on a text file (and on a missing file) with
        one line on stderr, nothing on stdout, exit 1."""
        with open(os.path.join(self.tmp, "notes.txt"), "w") as f:
            f.write("just some text, not a database\n" * 10)
        commands = [["stats"], ["stats", "--json"], ["query", "SELECT 1"],
                    ["search", "word"], ["export", "--format", "csv"],
                    ["links", "http://example.com/"]]
        for args in commands:
            for db, problem in (("notes.txt", "not a crawl database"),
                                ("absent.db", "cannot open")):
                r = self.run_cmd(*args, db=db)
                err = r.stderr.decode()
                self.assertEqual(r.returncode, 1, f"{args} on {db}")
                self.assertEqual(r.stdout, b"", f"{args} on {db}")
                self.assertRegex(err, rf"^crawler: {db}: {problem}[^\n]*\n$",
                                 f"{args} on {db}")
        # A crawl database cut short: damaged, not foreign.
        damaged = os.path.join(self.tmp, "damaged.db")
        conn = sqlite3.connect(damaged)
        conn.execute("PRAGMA application_id = 1129464151")
        conn.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value)")
        conn.execute("CREATE TABLE filler(x)")
        conn.executemany("INSERT INTO filler VALUES (?)",
                         [("x" * 500,)] * 2000)
        conn.execute("INSERT INTO meta VALUES ('schema_version', 2)")
        conn.commit()
        conn.close()
        os.truncate(damaged, 8192)
        r = self.run_cmd("stats", db="damaged.db")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(),
                         r"^crawler: damaged.db: the database is damaged"
                         r"[^\n]*\n$")
        # Usage errors exit 2.
        for args in (["export"], ["export", "--format", "xml"],
                     ["query"], ["stats", "--bogus"]):
            r = self.run_cmd(*args, db="notes.txt")
            self.assertEqual(r.returncode, 2, args)

    def test_while_crawling(self):
        """The commands read a crawl in progress (WAL) without disturbing
        it, and see it grow."""
        web = self.start_web(1)
        site = make_site(web.origins, pages=60, cross_links=0,
                         specials=False)
        web.mount(site.handler(delay=0.05))
        self.write_seeds(site.seeds)
        crawler = self.spawn(self.crawl_args("--quiet"))
        db_path = os.path.join(self.tmp, "crawl.db")

        def n_pages():
            if not os.path.exists(db_path):
                return 0
            db = open_db(db_path)
            try:
                return db.execute("SELECT count(*) FROM pages").fetchone()[0]
            except Exception:
                return 0
            finally:
                db.close()

        wait_until(lambda: n_pages() >= 5 or crawler.proc.poll() is not None,
                   60, "5 pages in the database")
        self.assertIsNone(crawler.proc.poll(), "crawl ended too early")
        seen = []
        for _ in range(3):
            stats = json.loads(self.ok("stats", "--json"))
            seen.append(stats["pages"])
            self.assertGreaterEqual(stats["pages"], 5)
            lines = self.ok("export", "--format", "jsonl").splitlines()
            self.assertGreaterEqual(len(lines), stats["pages"])
            self.ok("query", "SELECT * FROM host_summary")
            # The crawl indexes text when idle: a search may be told that
            # some pages are not searched yet.
            r = self.run_cmd("search", "page")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stderr.decode(),
                             r"^(crawler: note: \d+ pages are not searched "
                             r"yet: the crawl writing \S+ indexes them when "
                             r"idle\n)?$")
        self.assertEqual(crawler.wait(), 0, crawler.stderr_tail())
        final = json.loads(self.ok("stats", "--json"))
        self.assertEqual(final["pages"], len(site.pages))
        self.assertEqual(final["urls"]["done"], len(site.pages))
        self.assertLessEqual(max(seen), final["pages"])
