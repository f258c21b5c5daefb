"""Failure as an input (issue 4): the coordinator SIGKILLed again and again
at random moments, then resumed to the end; and fetchers and parsers
killed at random moments during one crawl. Either way the crawl must end
with exactly what an uninterrupted crawl of the same site finds: the same
done URLs and the same edges, a sound database after every kill, and no
URL with two successful fetches recorded.

The moments are drawn from random.Random(RANDOM_SEED), so a failure is
repeatable (up to the scheduling of the machine). Each case prints a
one-line summary on stderr.
"""

import os
import random
import signal
import sys
import time

from helpers import (DONE, FAILED, CrawlerTestCase, edges, fetch_counts,
                     integrity_check, open_db, pids_where, request_counts,
                     url_row, urls_in_state, wait_until)
from server import Response
from sitegen import make_site

RANDOM_SEED = 1234
N_HOSTS = 3
N_PAGES = 1000  # per host
#: Server delay per page: a crawl lasts about 7 s, long enough to be
#: killed several times.
PAGE_DELAY_S = 0.005
#: Coordinator kills, and the range of seconds each run lives before one.
KILL_ROUNDS = 5
KILL_AFTER_S = (0.2, 1.5)
#: Seconds the children of a killed coordinator may take to die
#: (PR_SET_PDEATHSIG).
ORPHAN_EXIT_S = 2
#: Child kills during one crawl, and the seconds between two.
CHILD_KILLS = 6
CHILD_KILL_EVERY_S = (0.15, 0.5)
#: Seconds any one crawl here may take.
CRAWL_LIMIT_S = 60


class CrashTest(CrawlerTestCase):

    def serve_site(self):
        """Serves the generated site (404s, cycles and links across hosts
        included) and writes its seeds; returns (web, site)."""
        web = self.start_web(N_HOSTS)
        site = make_site(web.origins, pages=N_PAGES, cross_links=1,
                         missing_every=50, specials=True)
        web.mount(site.handler(delay=PAGE_DELAY_S))
        self.write_seeds(site.seeds)
        return web, site

    def reference(self, site):
        """Crawls the site uninterrupted into ref.db; returns its (done
        URLs, edges)."""
        t0 = time.monotonic()
        self.crawl_ok(db="ref.db", timeout=CRAWL_LIMIT_S)
        wall = time.monotonic() - t0
        db = self.db("ref.db")
        done, found = urls_in_state(db, DONE), edges(db)
        self.assertSubset(site.pages, done, "done URLs of ref.db")
        print(f"reference crawl: {len(done)} done URLs, {len(found)} edges"
              f" in {wall:.2f} s", file=sys.stderr)
        return done, found

    def assertMatches(self, db, ref_done, ref_edges, what: str) -> int:
        """Asserts the done URLs and edges of `db` are those of the
        reference and no URL has two 200 rows; returns the number of
        differences (0)."""
        done, found = urls_in_state(db, DONE), edges(db)
        diffs = len(done ^ ref_done) + len(found ^ ref_edges)
        self.assertSameSet(ref_done, done, f"done URLs {what}")
        self.assertSameSet(ref_edges, found, f"edges {what}")
        repeated = {u: n for u, n in fetch_counts(db, 200).items() if n > 1}
        self.assertEqual(repeated, {}, f"URLs with several 200 rows {what}")
        return diffs

    def test_repeated_sigkill(self):
        """Five runs SIGKILLed 0.2-1.5 s after they start, then one run to
        the end: the database passes integrity_check after every kill, the
        children die with the coordinator, and the end result equals an
        uninterrupted crawl."""
        rng = random.Random(RANDOM_SEED)
        web, site = self.serve_site()
        ref_done, ref_edges = self.reference(site)

        progress = []  # done URLs after each kill
        for rnd in range(KILL_ROUNDS):
            crawler = self.spawn(self.crawl_args())
            after = rng.uniform(*KILL_AFTER_S)
            time.sleep(after)
            self.assertIsNone(crawler.proc.poll(),
                              f"round {rnd + 1}: the crawl ended before the"
                              f" kill at {after:.2f} s; stderr ends with:\n"
                              f"{crawler.stderr_tail()}")
            children = [p for p in pids_where("pgrp", crawler.pid)
                        if p != crawler.pid]
            os.kill(crawler.pid, signal.SIGKILL)
            crawler.proc.wait(10)
            try:
                wait_until(lambda: not pids_where("pgrp", crawler.pid),
                           ORPHAN_EXIT_S, f"round {rnd + 1}: the children"
                           f" {children} of the killed coordinator to die")
            finally:
                crawler.kill()  # any survivor, so the next round is clean
            self.assertEqual(integrity_check(self.db_path), "ok",
                             f"integrity_check after kill {rnd + 1}")
            db = open_db(self.db_path)
            try:
                n_done = len(urls_in_state(db, DONE))
                repeated = {u: n for u, n in fetch_counts(db, 200).items()
                            if n > 1}
            finally:
                db.close()
            self.assertEqual(repeated, {}, f"URLs with several 200 rows"
                             f" after kill {rnd + 1}")
            progress.append((round(after, 2), n_done))

        t0 = time.monotonic()
        self.crawl_ok(timeout=CRAWL_LIMIT_S)
        wall = time.monotonic() - t0
        self.assertEqual(integrity_check(self.db_path), "ok",
                         "integrity_check after the final run")
        diffs = self.assertMatches(self.db(), ref_done, ref_edges,
                                   "after the kills and the final run")
        print(f"repeated SIGKILL: {KILL_ROUNDS} rounds (seconds before the"
              f" kill, done URLs after it: {progress}), final run"
              f" {wall:.2f} s; compared {len(ref_done)} done URLs and"
              f" {len(ref_edges)} edges with an uninterrupted crawl:"
              f" {diffs} differences", file=sys.stderr)

    def test_children_killed(self):
        """Fetchers and parsers SIGKILLed at random moments during one
        crawl: each is replaced, the crawl completes (exit 0), and its
        result equals an uninterrupted crawl."""
        rng = random.Random(RANDOM_SEED)
        web, site = self.serve_site()
        ref_done, ref_edges = self.reference(site)

        t0 = time.monotonic()
        crawler = self.spawn(self.crawl_args("--fetchers", 2, "--parsers", 2))
        killed = []
        for _ in range(CHILD_KILLS):
            time.sleep(rng.uniform(*CHILD_KILL_EVERY_S))
            if crawler.proc.poll() is not None:
                break
            children = sorted(crawler.children("crawler-fetch")
                              + crawler.children("crawler-parse"))
            if not children:
                continue  # all being respawned: try at the next moment
            victim = rng.choice(children)
            role = "fetcher" if victim in crawler.children(
                "crawler-fetch") else "parser"
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append((role, victim))
        rc = crawler.wait(CRAWL_LIMIT_S)
        wall = time.monotonic() - t0
        self.assertEqual(rc, 0, f"exit code; stderr ends with:\n"
                         f"{crawler.stderr_tail()}")
        self.assertGreaterEqual(len(killed), CHILD_KILLS // 2,
                                f"children killed before the crawl ended:"
                                f" {killed}")
        self.assertEqual(integrity_check(self.db_path), "ok",
                         "integrity_check")
        diffs = self.assertMatches(self.db(), ref_done, ref_edges,
                                   "after killing children")
        roles = [r for r, _ in killed]
        print(f"children killed: {len(killed)} ({roles.count('fetcher')}"
              f" fetchers, {roles.count('parser')} parsers) during a"
              f" {wall:.2f} s crawl; compared {len(ref_done)} done URLs and"
              f" {len(ref_edges)} edges with an uninterrupted crawl:"
              f" {diffs} differences", file=sys.stderr)

    def kill_fetcher_three_times(self, sig: int):
        """Crawls one slow URL and sends its fetcher `sig` three times
        while it fetches it; returns (the URL, its urls row)."""
        web = self.start_web(1)
        url = web.url("/")
        web.script("/", Response(body="<html><body>slow</body></html>",
                                 delay=1.5))
        self.write_seeds([url])
        crawler = self.spawn(self.crawl_args("--max-pages", 1))
        for k in range(1, 4):
            wait_until(lambda: request_counts(web).get(url, 0) >= k
                       or crawler.proc.poll() is not None, 30,
                       f"request {k} for {url}")
            fetchers = crawler.children("crawler-fetch")
            self.assertTrue(fetchers, "no fetcher to kill")
            os.kill(fetchers[0], sig)
        self.assertEqual(crawler.wait(CRAWL_LIMIT_S), 0, crawler.stderr_tail())
        return url, url_row(self.db(), url)

    def test_fetcher_killed_from_outside(self):
        """A fetcher SIGKILLed (the OOM killer, an operator) while it
        fetches a URL, three times over: the URL counts no attempt for it,
        so it is fetched in the end like any other."""
        url, row = self.kill_fetcher_three_times(signal.SIGKILL)
        self.assertEqual(row["state"], DONE, row)

    def test_fetcher_crashing_on_a_url(self):
        """A fetcher that crashes (SIGSEGV) while it fetches a URL, three
        times over: the URL counts an attempt each time and is failed, so
        that a URL that crashes fetchers cannot stall the crawl."""
        url, row = self.kill_fetcher_three_times(signal.SIGSEGV)
        self.assertEqual((row["state"], row["reason"]),
                         (FAILED, "fetcher crashed"), row)
