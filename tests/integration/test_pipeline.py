"""End-to-end tests of `crawler crawl`: the real binary (coordinator,
fetchers, parsers, store) against generated sites on the loopback test
server, checked against the server's request log and the crawl database.
"""

import os
import re
import signal
import time

from helpers import (DONE, QUEUED, SKIPPED, CrawlerTestCase, edges,
                     fetch_counts, html_page, integrity_check, n_pages_rows,
                     open_db, pids_where, request_counts, statuses, url_rows,
                     urls_in_state, wait_until)
from server import Response
from sitegen import make_site

#: Pages per host of the large site.
FULL_SITE_PAGES = 1000
#: --allow pattern admitting the test hosts and nothing else.
ALLOW_TEST_HOSTS = r"^http://127\.0\.0\.[2-4]:"
#: Server delay per page in the tests that interrupt a crawl: long enough
#: to interrupt it, short enough to finish it in seconds.
SLOW_PAGE_S = 0.03
#: Seconds a stopped crawler may take to exit.
STOP_TIMEOUT_S = 10


class CrawlTestCase(CrawlerTestCase):
    """Adds: serve a generated site."""

    def serve_site(self, n_hosts: int, delay: float = 0.0, **site_args):
        """Starts `n_hosts` hosts serving make_site(**site_args) with
        `delay` seconds per page, and writes its seeds (/p/0 of every host)
        to seeds.txt. Returns (web, site)."""
        web = self.start_web(n_hosts)
        site = make_site(web.origins, **site_args)
        web.mount(site.handler(delay=delay))
        self.write_seeds(site.seeds)
        return web, site

    def assertFetchedOnce(self, web, expected, since: int = 0):
        """Asserts the server got exactly one request for each URL of
        `expected` and none for anything else (robots.txt aside)."""
        counts = request_counts(web, since=since)
        self.assertSameSet(expected, counts, "URLs requested")
        repeated = {u: n for u, n in counts.items() if n > 1}
        self.assertEqual(repeated, {}, "URLs requested more than once")

    def assertOnePageRowEach(self, db, status=None):
        """Asserts no URL has more than one pages row (with `status`)."""
        repeated = {u: n for u, n in fetch_counts(db, status).items()
                    if n > 1}
        self.assertEqual(repeated, {}, "URLs with several pages rows"
                         + (f" of status {status}" if status else ""))


class SiteCrawlTest(CrawlTestCase):

    def test_full_site(self):
        """Three hosts of generated pages: every page fetched once, every
        edge recorded, non-http and nofollow links skipped, 404s kept."""
        web, site = self.serve_site(3, pages=FULL_SITE_PAGES, fanout=3,
                                    random_links=2, cross_links=1,
                                    missing_every=100)
        self.crawl_ok("--scope", "any", "--allow", ALLOW_TEST_HOSTS,
                      "--host-connections", 4, timeout=150)
        db = self.db()

        # The server saw each page and each 404 exactly once, and nothing
        # else: not the nofollow-only page either.
        self.assertEqual(len(site.missing), 3 * FULL_SITE_PAGES // 100)
        self.assertFetchedOnce(web, site.pages | site.missing)
        self.assertNotIn(site.hidden, request_counts(web))

        # One pages row per fetch, with the right status, type and title.
        self.assertOnePageRowEach(db)
        got = statuses(db)
        self.assertSameSet(site.pages | site.missing, got, "URLs in pages")
        wrong = {u: s for u, s in got.items()
                 if s != [404 if u in site.missing else 200]}
        self.assertEqual(wrong, {}, "URLs with unexpected statuses")
        bad_type = db.execute(
            "SELECT count(*) FROM pages WHERE status = 200 AND"
            " content_type NOT LIKE 'text/html%'").fetchone()[0]
        self.assertEqual(bad_type, 0, "200 pages not recorded as text/html")
        titles = dict(db.execute(
            "SELECT u.url, p.title FROM pages p JOIN urls u"
            " ON u.id = p.url_id WHERE p.status = 200"))
        wrong_titles = {u: t for u, t in titles.items()
                        if t != _expected_title(site, u)}
        self.assertEqual(list(wrong_titles.items())[:10], [],
                         "pages with a wrong title")

        # Every page is done; the 404s are fetched (done or failed).
        done = urls_in_state(db, DONE)
        self.assertSubset(site.pages, done, "pages in state done")
        self.assertSameSet(site.pages, done - site.missing, "done URLs")

        # Every followable link is an edge of the db.
        self.assertSubset(site.edges, edges(db), "edges in links")

        # The nofollow-only page is known, skipped, never fetched.
        rows = url_rows(db)
        self.assertEqual(rows.get(site.hidden, (None, None))[:2],
                         (SKIPPED, "nofollow"), f"urls row of {site.hidden}")

        # mailto: and javascript: links are skipped URLs with a reason.
        for href in site.other_hrefs:
            scheme = href.split(":", 1)[0] + ":"
            found = {u: r for u, r in rows.items() if u.startswith(scheme)}
            self.assertTrue(found, f"no urls row for the {href} link")
            for url, (state, reason, _) in found.items():
                self.assertEqual(state, SKIPPED, f"state of {url}")
                self.assertTrue(reason, f"no reason for skipping {url}")


class LimitTest(CrawlTestCase):

    def test_max_pages(self):
        """--max-pages 25 fetches exactly 25 pages, even with many
        transfers running at once."""
        web, site = self.serve_site(3, pages=100)
        self.crawl_ok("--max-pages", 25, "--fetchers", 2, "--connections", 8,
                      "--host-connections", 4)
        db = self.db()
        requested = request_counts(web)
        self.assertEqual(sum(requested.values()), 25,
                         "page requests (robots.txt aside)")
        self.assertEqual(n_pages_rows(db), 25, "rows in pages")
        self.assertSubset(requested, site.pages, "requested URLs are pages")
        self.assertSameSet(requested, urls_in_state(db, DONE), "done URLs")

    def test_max_depth(self):
        """--max-depth 2 fetches depths 0..2 and only those, and records
        depth 3 as skipped for 'depth'."""
        web, site = self.serve_site(1, pages=200, fanout=3, random_links=0,
                                    cross_links=0, specials=False)
        within = site.reachable(max_depth=2)
        too_deep = site.too_deep(2)
        self.assertEqual((len(within), len(too_deep)), (13, 27))
        self.crawl_ok("--max-depth", 2, "--host-connections", 4)
        db = self.db()

        self.assertFetchedOnce(web, within)
        self.assertSameSet(within, urls_in_state(db, DONE), "done URLs")
        rows = url_rows(db)
        self.assertSameSet(set(within) | too_deep, rows, "URLs in urls")
        wrong = {u: (rows[u][2], d) for u, d in within.items()
                 if rows[u][2] != d}
        self.assertEqual(wrong, {}, "url: (depth in db, expected depth)")
        skipped = {u: rows[u] for u in too_deep}
        wrong = {u: r for u, r in skipped.items()
                 if r != (SKIPPED, "depth", 3)}
        self.assertEqual(wrong, {}, "too deep URLs not (skipped, 'depth', 3)")

    def test_nofollow_url_found_again_is_fetched(self):
        """A URL first seen through a nofollow link, then through a
        followable one, is queued again under its old id and fetched once:
        the host's queue is read again from its start, and what is in
        flight meanwhile is not fetched twice."""
        web = self.start_web(1)
        u = web.url
        # / is read first: /n (nofollow) gets an id before /a, /b and /c.
        web.script("/", Response(body=(
            '<html><body><a rel="nofollow" href="/n">n</a>'
            '<a href="/a">a</a><a href="/b">b</a></body></html>')))
        web.script("/a", Response(body='<html><body><a href="/c">c</a>'
                                  '</body></html>'))
        # /b revives /n while /c (queued after /b) is still being fetched
        web.script("/b", Response(body='<html><body><a href="/n">n</a>'
                                  '</body></html>', delay=0.3))
        web.script("/c", Response(body="<html><body>c</body></html>",
                                  delay=0.8))
        web.script("/n", Response(body="<html><body>n</body></html>"))
        self.write_seeds([u("/")])
        self.crawl_ok("--host-connections", 2)
        db = self.db()
        self.assertFetchedOnce(web, {u(p) for p in ("/", "/a", "/b", "/c",
                                                     "/n")})
        rows = url_rows(db)
        self.assertEqual(rows[u("/n")][:2], (DONE, None))
        self.assertEqual(rows[u("/c")][:2], (DONE, None))

    def test_pages_before_files(self):
        """A host's pages are fetched before its files (PDF, images, style
        sheets, archives: by the path's extension), whatever the order they
        were found in; a page budget goes to the pages, the files stay
        queued, and the next run, with no budget, fetches each of them
        once."""
        web = self.start_web(1)
        u = web.url
        files = ["/f/a.pdf", "/img/b.PNG", "/s/c.css?v=1", "/d.tar.gz",
                 "/p1/e.pdf"]
        pages = ["/", "/p1", "/p2", "/p3"]
        # / links to its files first; once it is read, every page is known
        web.script("/", Response(body=html_page(
            "root", files[:4] + pages[1:])))
        web.script("/p1", Response(body=html_page("p1", [files[4]])))
        for p in pages[2:]:
            web.script(p, Response(body=html_page(p)))
        for f in files:
            web.script(f, Response(body="not a page",
                                   content_type="application/octet-stream"))
        self.write_seeds([u("/")])

        self.crawl_ok("--max-pages", len(pages), "--host-connections", 2)
        self.assertFetchedOnce(web, {u(p) for p in pages})
        db = self.db()
        self.assertSameSet({u(f) for f in files}, urls_in_state(db, QUEUED),
                           "queued URLs after the budget")

        since = len(web.log.entries())
        self.crawl_ok()
        self.assertFetchedOnce(web, {u(f) for f in files}, since=since)
        self.assertSameSet({u(p) for p in pages + files},
                           urls_in_state(self.db(), DONE), "done URLs")

    def test_pages_behind_many_files(self):
        """A page behind more files than the frontier looks ahead for at
        once (120) is still among the first fetches: the look that finds
        none takes a batch of files and the next one reads on."""
        web = self.start_web(1)
        u = web.url
        files = [f"/f/{i}.pdf" for i in range(130)]
        web.script("/", Response(body=html_page("root", files + ["/p"])))
        web.script("/p", Response(body=html_page("p")))
        for f in files:
            web.script(f, Response(body="not a page",
                                   content_type="application/pdf"))
        self.write_seeds([u("/")])
        self.crawl_ok("--max-pages", 10)
        requested = request_counts(web)
        self.assertIn(u("/p"), requested, "the page behind the files")
        self.assertEqual(len(requested), 10, "URLs requested")


class ScopeTest(CrawlTestCase):

    def test_scope_host(self):
        """--scope host with one seed host never contacts the others."""
        web, site = self.serve_site(3, pages=100, cross_links=2)
        seed_origin = web.origin(0)
        self.write_seeds([site.page_url(0, 0)])
        self.crawl_ok("--scope", "host")
        db = self.db()

        other = [r.url for r in web.log.entries() if r.host != 0]
        self.assertEqual(other[:10], [], "requests to other hosts")
        in_scope = site.reachable(
            seeds=[site.page_url(0, 0)],
            allowed=lambda u: u.startswith(seed_origin + "/"))
        self.assertEqual(len(in_scope), 100)
        self.assertFetchedOnce(web, in_scope)
        self.assertSameSet(in_scope, urls_in_state(db, DONE), "done URLs")
        out_of_scope = {u: (state, reason)
                        for u, (state, reason, _) in url_rows(db).items()
                        if not u.startswith(seed_origin + "/")
                        and (state != SKIPPED or not reason)}
        self.assertEqual(list(out_of_scope.items())[:10], [],
                         "out-of-scope URLs not skipped with a reason")

    def test_scope_any_deny(self):
        """--scope any with --deny follows links to every host but never
        fetches a URL the pattern matches."""
        web, site = self.serve_site(3, pages=100, cross_links=1,
                                    specials=False)
        deny = r"/p/[0-9]*7$"
        self.write_seeds([site.page_url(0, 0)])
        self.crawl_ok("--scope", "any", "--allow", ALLOW_TEST_HOSTS,
                      "--deny", deny, "--host-connections", 2)
        db = self.db()

        allowed = site.reachable(seeds=[site.page_url(0, 0)],
                                 allowed=lambda u: not re.search(deny, u))
        self.assertGreater(len({u.split("/p/")[0] for u in allowed}), 1,
                           "the expected crawl spans several hosts")
        denied = [r.url for r in web.log.entries() if re.search(deny, r.path)]
        self.assertEqual(denied[:10], [], "requests for denied URLs")
        self.assertFetchedOnce(web, allowed)
        self.assertSameSet(allowed, urls_in_state(db, DONE), "done URLs")
        not_skipped = {u: r for u, r in url_rows(db).items()
                       if re.search(deny, u) and r[0] != SKIPPED}
        self.assertEqual(not_skipped, {}, "denied URLs not skipped")


class InterruptTest(CrawlTestCase):
    """Stopping a crawl, gracefully or not, and resuming it."""

    N_PAGES = 100  # per host; about 3 s per host at SLOW_PAGE_S

    def slow_site(self):
        """A three-host site served at SLOW_PAGE_S per page, and the done
        set of an uninterrupted crawl of it (ref.db)."""
        web, site = self.serve_site(3, delay=SLOW_PAGE_S, pages=self.N_PAGES,
                                    cross_links=1, specials=False)
        self.crawl_ok("--scope", "host", "--host-connections", 4,
                      db="ref.db")
        reference = urls_in_state(self.db("ref.db"), DONE)
        self.assertSameSet(site.pages, reference, "done URLs of ref.db")
        return web, site, reference

    def start_and_wait(self, web, n_served: int = 30):
        """Starts the crawl into crawl.db and returns it once the server
        has answered `n_served` of its page requests."""
        since = len(web.log.entries())
        crawler = self.spawn(self.crawl_args("--scope", "host"))
        wait_until(lambda: sum(1 for r in web.log.pages(since)
                               if r.end is not None) >= n_served
                   or crawler.proc.poll() is not None,
                   60, f"{n_served} pages served")
        self.assertIsNone(crawler.proc.poll(), "crawl ended too early")
        return crawler, since

    def test_sigint_resume(self):
        """SIGINT stops the crawl in seconds with exit 0; a second run
        completes it without fetching anything twice."""
        web, site, reference = self.slow_site()
        crawler, since = self.start_and_wait(web)
        t_signal = time.monotonic()
        crawler.signal(signal.SIGINT)
        rc = crawler.wait(STOP_TIMEOUT_S)
        self.assertEqual(rc, 0, f"exit code after SIGINT; stderr ends"
                         f" with:\n{crawler.stderr_tail()}")
        wait_until(lambda: not pids_where("pgrp", crawler.pid), 5,
                   "the crawler's children to exit")
        db = open_db(self.db_path)
        try:
            done_first = urls_in_state(db, DONE)
            self.assertOnePageRowEach(db)
        finally:
            db.close()
        self.assertLess(len(done_first), len(reference),
                        "the first run finished before SIGINT")

        self.crawl_ok("--scope", "host")
        db = self.db()
        self.assertSameSet(reference, urls_in_state(db, DONE),
                           "done URLs after resuming")
        self.assertOnePageRowEach(db)
        # Only a request in flight at the signal may have been repeated.
        in_flight = {r.url for r in web.log.pages(since)
                     if r.start <= t_signal
                     and (r.end is None or r.end >= t_signal)}
        repeated = {u for u, n in request_counts(web, since=since).items()
                    if n > 1}
        self.assertEqual(sorted(repeated - in_flight), [],
                         "URLs requested again after a graceful stop")

    def test_sigkill_resume(self):
        """SIGKILL of the coordinator leaves a sound database, and a
        second run completes the crawl without duplicate 200 rows."""
        web, site, reference = self.slow_site()
        crawler, _ = self.start_and_wait(web)
        os.kill(crawler.pid, signal.SIGKILL)
        crawler.kill()  # and any child it left behind
        self.assertEqual(integrity_check(self.db_path), "ok",
                         "integrity_check after SIGKILL")

        self.crawl_ok("--scope", "host")
        self.assertEqual(integrity_check(self.db_path), "ok",
                         "integrity_check after resuming")
        db = self.db()
        self.assertSameSet(reference, urls_in_state(db, DONE),
                           "done URLs after resuming")
        self.assertOnePageRowEach(db, status=200)

    def test_resume_host_queue_longer_than_counted(self):
        """A resumed crawl counts a host's queued URLs only up to 10,000
        (STORE_QUEUED_COUNT_MAX): the count is a hint, and the crawl
        fetches every URL queued, not just that many."""
        n_urls = 10_050  # past the cap
        web = self.start_web(1)
        web.mount(lambda host, path: Response(body="<title>t</title>")
                  if path.startswith("/q/") else None)
        urls = [web.url(f"/q/{i}") for i in range(n_urls)]
        self.write_seeds(urls)
        self.crawl_ok("--max-pages", 1)
        db = open_db(self.db_path)
        try:
            self.assertEqual(len(urls_in_state(db, QUEUED)), n_urls - 1,
                             "URLs queued after the first run")
        finally:
            db.close()

        self.crawl_ok("--connections", 32, "--host-connections", 8)
        db = self.db()
        self.assertSameSet(urls, urls_in_state(db, DONE),
                           "done URLs after resuming")
        self.assertEqual(urls_in_state(db, QUEUED), set(), "queued URLs")


class ChildDeathTest(CrawlTestCase):
    """A child killed mid-crawl is replaced and its work done anyway."""

    def kill_child_during_crawl(self, name: str):
        web, site = self.serve_site(3, delay=SLOW_PAGE_S, pages=150,
                                    cross_links=1, specials=False)
        crawler = self.spawn(self.crawl_args(
            "--scope", "host", "--fetchers", 2, "--parsers", 2))
        children = wait_until(
            lambda: web.log.n_pages(finished_only=True) >= 20
            and web.log.n_in_flight() > 0 and crawler.children(name),
            30, f"a {name} child while requests are in flight")
        self.assertEqual(len(children), 2, f"{name} children")
        victim = children[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(crawler.children(name)) == 2
                   and victim not in crawler.children(name),
                   15, f"a new {name} to replace pid {victim}")

        rc = crawler.wait()
        self.assertEqual(rc, 0, f"exit code; stderr ends with:\n"
                         f"{crawler.stderr_tail()}")
        db = self.db()
        self.assertSameSet(site.pages, urls_in_state(db, DONE), "done URLs")
        self.assertSubset(site.edges, edges(db), "edges in links")
        death = [line for line in crawler.stderr().splitlines()
                 if re.search(rf"\b{victim}\b", line)]
        self.assertTrue(death, f"no stderr line about pid {victim}; stderr"
                        f" ends with:\n{crawler.stderr_tail()}")

    def test_fetcher_killed(self):
        self.kill_child_during_crawl("crawler-fetch")

    def test_parser_killed(self):
        self.kill_child_during_crawl("crawler-parse")


class BadInputTest(CrawlTestCase):

    def assertOneLineError(self, crawler, mentions: str):
        """Asserts a non-zero exit and a single stderr line naming
        `mentions`."""
        out = crawler.stderr()
        self.assertNotEqual(crawler.proc.returncode, 0,
                            f"exit code of {crawler.args}")
        lines = [line for line in out.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"stderr of {crawler.args}:\n{out}")
        self.assertIn(mentions, lines[0], f"error of {crawler.args}")

    def test_missing_seeds_file(self):
        """A seeds file that does not exist: an error naming it."""
        self.assertOneLineError(self.run_crawler(
            ["crawl", "no-such-seeds.txt", "--db", "crawl.db"], 30),
            "no-such-seeds.txt")
        self.assertOneLineError(self.run_crawler(
            ["crawl", "--seeds", "other-seeds.txt", "--db", "crawl.db"], 30),
            "other-seeds.txt")
        self.assertOneLineError(self.run_crawler(
            ["crawl", "--db", "crawl.db"], 30), "seeds.txt")

    def test_unknown_option(self):
        """An unknown option: exit 2, and the option named."""
        self.write_seeds(["http://127.0.0.2:9/"])
        crawler = self.run_crawler(
            ["crawl", "seeds.txt", "--db", "crawl.db", "--no-such-option"],
            30)
        self.assertEqual(crawler.proc.returncode, 2,
                         f"exit code; stderr:\n{crawler.stderr()}")
        self.assertIn("--no-such-option", crawler.stderr())


def _expected_title(site, url):
    """The <title> sitegen gives page URL: "page H-I"."""
    origin, i = url.split("/p/")
    return f"page {site.origins.index(origin)}-{i}"
