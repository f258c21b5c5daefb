"""Politeness and web etiquette (issue 3), end to end: the per-host delay
and connection limit, robots.txt (fetching, errors, rules, agent groups,
Crawl-delay), 429/503 back-off with Retry-After, meta robots, X-Robots-Tag,
rel=nofollow, meta refresh, the `crawler robots` command and --no-robots.

Timing is checked on the test server's request log (time.monotonic() when
a request's headers were read, and when its answer was handed to the
socket), never on what the crawler says about itself.
"""

import os
import socket
import subprocess
import sys
import time

from helpers import (DONE, FAILED, QUEUED, SKIPPED, CrawlerTestCase,
                     crawler_bin, crawler_env, edges, html_page,
                     request_counts,
                     url_rows, urls_in_state)
from server import Response
from sitegen import make_site

#: Scheduling slack allowed on a measured gap between two request starts:
#: the server stamps a request when it has read its headers, the crawler
#: when it hands it to a fetcher.
CLOCK_SLACK_S = 0.005
#: Seconds any single crawl here may take.
CRAWL_LIMIT_S = 60
#: The product token of the default --user-agent.
DEFAULT_TOKEN = "crawler"
#: What `crawler robots` prints as the rule when none matched.
NO_RULE = "(no rule matched)"

ROBOTS_PATH = "/robots.txt"


# -- building pages ----------------------------------------------------------

def page(title: str, hrefs=(), head: str = "", body: str = "",
         headers: tuple = (), delay: float = 0.0) -> Response:
    """A 200 text/html Response holding html_page(...)."""
    return Response(body=html_page(title, hrefs, head, body),
                    headers=headers, delay=delay)


# -- reading the request log -------------------------------------------------

def requests_by_host(web, since: int = 0, robots: bool = True) -> dict:
    """Host index -> that host's requests from number `since` on, by start
    time (robots.txt requests included unless `robots` is false)."""
    by_host = {}
    for r in web.log.entries()[since:]:
        if robots or r.path != ROBOTS_PATH:
            by_host.setdefault(r.host, []).append(r)
    for reqs in by_host.values():
        reqs.sort(key=lambda r: r.start)
    return by_host


def start_gaps(reqs) -> list:
    """(gap in seconds, earlier path, later path) between each two
    consecutive request starts of `reqs` (sorted by start)."""
    return [(b.start - a.start, a.path, b.path)
            for a, b in zip(reqs, reqs[1:])]


def fmt_gaps(gaps) -> str:
    return ", ".join(f"{g * 1000:.1f} ms ({a} -> {b})" for g, a, b in gaps)


def closed_port_origin(sock_host: str = "127.0.0.250"):
    """(origin, socket): an origin on loopback that refuses connections.
    The socket is bound but never listens, which keeps the port ours (so
    nothing else can take it) and makes every connect get a reset. Close
    the socket when done."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((sock_host, 0))
    return f"http://{sock_host}:{s.getsockname()[1]}", s


class PolitenessTestCase(CrawlerTestCase):
    """Adds: serve a generated site, run a timed crawl, and timing
    asserts."""

    def serve_site(self, n_hosts: int, delay: float = 0.0, **site_args):
        """Starts `n_hosts` hosts serving make_site(**site_args) (no links
        across hosts, no specials unless asked) with `delay` seconds per
        page, and writes its seeds (/p/0 of every host) to seeds.txt.
        Returns (web, site)."""
        site_args.setdefault("cross_links", 0)
        site_args.setdefault("specials", False)
        web = self.start_web(n_hosts)
        site = make_site(web.origins, **site_args)
        web.mount(site.handler(delay=delay))
        self.write_seeds(site.seeds)
        return web, site

    def timed_crawl(self, *extra, db: str = "crawl.db"):
        """crawl_ok(*extra, db=db); returns (crawler, wall seconds)."""
        t0 = time.monotonic()
        crawler = self.crawl_ok(*extra, db=db, timeout=CRAWL_LIMIT_S)
        return crawler, time.monotonic() - t0

    def assertMinGap(self, reqs, min_s: float, what: str):
        """Asserts every two consecutive starts of `reqs` (one connection
        per host) are at least `min_s` (less CLOCK_SLACK_S) apart. A gap
        short by d right after one long by at least d is let pass: that is
        the server stamping the request between them late (its thread
        woke late on a busy machine, seen as 321 ms then 286 for 300),
        which moves time from one gap to the next. The crawler cannot do
        that: it times a host's next request from the fetcher's own send
        time of the last one (host_gap_from)."""
        gaps = start_gaps(reqs)
        self.assertTrue(gaps, f"{what}: fewer than two requests")
        limit = min_s - CLOCK_SLACK_S
        short = [g for i, g in enumerate(gaps) if g[0] < limit and not (
            i > 0 and gaps[i - 1][0] + g[0] >= 2 * min_s - CLOCK_SLACK_S)]
        self.assertEqual(
            short, [], f"{what}: gaps shorter than {min_s * 1000:.0f} ms;"
            f" all gaps: {fmt_gaps(gaps)}")

    def assertNotRequested(self, web, paths, what: str, since: int = 0):
        """Asserts no request's path (query included) is in `paths`."""
        got = sorted(r.url for r in web.log.entries()[since:]
                     if r.path in set(paths))
        self.assertEqual(got, [], f"{what}: requested anyway")

    def assertStates(self, db, expected: dict, what: str):
        """Asserts urls (state, reason) for each URL of `expected` (URL ->
        (state, reason)); a reason of ... is not checked."""
        rows = url_rows(db)
        got = {}
        for url, (state, reason) in expected.items():
            row = rows.get(url)
            got[url] = (None if row is None
                        else (row[0], ... if reason is ... else row[1]))
        self.assertEqual(got, expected, f"{what}: url -> (state, reason)")


# -- 1, 2, 3: delay, connections per host, Crawl-delay -----------------------

class DelayTest(PolitenessTestCase):

    def test_delay_between_starts(self):
        """--delay 300 over 3 hosts of 8 pages: every two request starts to
        one host (robots.txt included) are >= 300 ms apart, and the hosts
        are crawled in parallel."""
        delay_ms, n_hosts, n_pages = 300, 3, 8
        web, site = self.serve_site(n_hosts, pages=n_pages, random_links=1)
        crawler = self.spawn(["crawl", "seeds.txt", "--db", "crawl.db",
                              "--delay", str(delay_ms)])
        t0 = time.monotonic()
        rc = crawler.wait(CRAWL_LIMIT_S)
        wall = time.monotonic() - t0
        self.assertEqual(rc, 0, f"exit code; stderr ends with:\n"
                         f"{crawler.stderr_tail()}")
        self.assertSameSet(site.pages, urls_in_state(self.db(), DONE),
                           "done URLs")

        by_host = requests_by_host(web)
        table = [f"delay {delay_ms} ms; wall {wall:.2f} s"]
        for h in range(n_hosts):
            reqs = by_host.get(h, [])
            self.assertEqual(len(reqs), n_pages + 1,
                             f"requests to host {h} (pages and robots.txt):"
                             f" {[r.path for r in reqs]}")
            self.assertEqual(reqs[0].path, ROBOTS_PATH,
                             f"first request to host {h}")
            gaps = [g for g, _, _ in start_gaps(reqs)]
            table.append(f"host {h}: {len(gaps)} gaps, smallest"
                         f" {min(gaps) * 1000:.1f} ms, largest"
                         f" {max(gaps) * 1000:.1f} ms")
        print("\n".join(table), file=sys.stderr)
        for h in range(n_hosts):
            self.assertMinGap(by_host[h], delay_ms / 1000, f"host {h}")

        # Serial would take 3 hosts x 8 gaps x 0.3 s = 7.2 s of gaps alone;
        # in parallel the request span is about one host's 8 x 0.3 s.
        serial_s = n_hosts * n_pages * delay_ms / 1000
        one_host_s = n_pages * delay_ms / 1000
        starts = [r.start for r in web.log.entries()]
        span = max(starts) - min(starts)
        self.assertLess(span, one_host_s * 1.5,
                        f"span of request starts, all hosts (serial would"
                        f" be {serial_s:.1f} s)")
        self.assertLess(wall, serial_s * 0.75, "crawl wall time")
        # Every host's requests overlap in time with every other host's.
        windows = [(by_host[h][0].start, by_host[h][-1].start)
                   for h in range(n_hosts)]
        self.assertLess(max(w[0] for w in windows),
                        min(w[1] for w in windows),
                        f"hosts' (first, last) request starts {windows}"
                        " do not overlap")

    def test_host_connections(self):
        """Pages served in 200 ms with --delay 0: --host-connections 2
        puts exactly 2 requests in flight per host at peak; the default 1
        never more than 1."""
        web, site = self.serve_site(2, delay=0.2, pages=16, fanout=3,
                                    random_links=0)

        self.crawl_ok("--host-connections", 2, "--connections", 16,
                      db="two.db", timeout=CRAWL_LIMIT_S)
        self.assertSameSet(site.pages, urls_in_state(self.db("two.db"), DONE),
                           "done URLs with --host-connections 2")
        two = {h: max(r.concurrent for r in reqs)
               for h, reqs in requests_by_host(web).items()}
        self.assertEqual(two, {0: 2, 1: 2},
                         "host -> most requests in flight at once, with"
                         " --host-connections 2")

        since = len(web.log.entries())
        self.crawl_ok("--connections", 16, db="one.db", timeout=CRAWL_LIMIT_S)
        self.assertSameSet(site.pages, urls_in_state(self.db("one.db"), DONE),
                           "done URLs with the default --host-connections")
        one = {h: max(r.concurrent for r in reqs)
               for h, reqs in requests_by_host(web, since).items()}
        self.assertEqual(one, {0: 1, 1: 1},
                         "host -> most requests in flight at once, with"
                         " the default --host-connections (1)")

    def test_crawl_delay(self):
        """robots.txt Crawl-delay: 0.5 spaces request starts >= 500 ms even
        with --delay 0; --max-crawl-delay 200 caps it to 200 ms, which is
        faster."""
        web, site = self.serve_site(1, pages=6, random_links=0)
        web.robots("User-agent: *\nCrawl-delay: 0.5\n")

        _, wall_full = self.timed_crawl(db="full.db")
        self.assertSameSet(site.pages, urls_in_state(self.db("full.db"),
                                                     DONE), "done URLs")
        full = requests_by_host(web)[0]
        self.assertEqual(full[0].path, ROBOTS_PATH, "first request")
        self.assertMinGap(full[1:], 0.5, "Crawl-delay 0.5, page requests")

        since = len(web.log.entries())
        _, wall_capped = self.timed_crawl("--max-crawl-delay", 200,
                                          db="capped.db")
        self.assertSameSet(site.pages, urls_in_state(self.db("capped.db"),
                                                     DONE), "done URLs")
        capped = requests_by_host(web, since)[0]
        self.assertMinGap(capped[1:], 0.2,
                          "Crawl-delay 0.5 capped to 200 ms, page requests")
        span_full = full[-1].start - full[1].start
        span_capped = capped[-1].start - capped[1].start
        print(f"Crawl-delay 0.5: gaps {fmt_gaps(start_gaps(full))}\n"
              f"capped to 200 ms: gaps {fmt_gaps(start_gaps(capped))}",
              file=sys.stderr)
        self.assertLess(span_capped, span_full * 0.75,
                        f"span of page requests capped ({span_capped:.2f} s)"
                        f" vs uncapped ({span_full:.2f} s); wall"
                        f" {wall_capped:.2f} s vs {wall_full:.2f} s")

        # robots.txt is a request to the host too: the first page waits
        # the Crawl-delay after it as well.
        self.assertMinGap(full, 0.5, "Crawl-delay 0.5, robots.txt included")
        self.assertMinGap(capped, 0.2,
                          "Crawl-delay capped to 200 ms, robots.txt included")


# -- 4: 429, 503 and Retry-After ----------------------------------------------

class RetryTest(PolitenessTestCase):

    def test_retry_after_503(self):
        """A page answering 503 with Retry-After: 1 once: its host's next
        request starts >= 1 s after the 503; then it is fetched (200) and
        done, with both results recorded."""
        web = self.start_web(1)
        answers = []

        def flaky(req):
            answers.append(req.seq)
            if len(answers) == 1:
                return Response(status=503, body="busy",
                                headers=(("Retry-After", "1"),))
            return page("flaky")

        web.script("/flaky", flaky)
        web.script("/", page("root", ["/flaky", "/a", "/b"]))
        for p in ("/a", "/b", "/c"):
            web.script(p, page(p, ["/c"]))
        self.write_seeds([web.url("/")])
        self.crawl_ok(timeout=CRAWL_LIMIT_S)
        db = self.db()

        reqs = requests_by_host(web)[0]
        first = [i for i, r in enumerate(reqs) if r.path == "/flaky"][0]
        busy = reqs[first]
        self.assertEqual(busy.status, 503, "first answer of /flaky")
        self.assertGreater(len(reqs), first + 1,
                           "no request after the 503:"
                           f" {[r.path for r in reqs]}")
        after = reqs[first + 1]
        self.assertGreaterEqual(
            after.start - busy.end, 1.0 - CLOCK_SLACK_S,
            f"seconds from the end of the 503 to the next request to the"
            f" host ({after.path})")
        self.assertEqual(len(answers), 2, "requests for /flaky")

        url = web.url("/flaky")
        got = [s for (s,) in db.execute(
            "SELECT p.status FROM pages p JOIN urls u ON u.id = p.url_id"
            " WHERE u.url = ? ORDER BY p.id", (url,))]
        self.assertEqual(got, [503, 200], f"pages rows of {url}, in order")
        self.assertStates(db, {url: (DONE, None)}, "the retried page")
        self.assertSameSet({web.url(p) for p in ("/", "/a", "/b", "/c",
                                                  "/flaky")},
                           urls_in_state(db, DONE), "done URLs")

    def test_429_fails_others_continue(self):
        """A page that always answers 429 is tried 3 times, backing off
        longer each time, then failed with reason 'http 429'; two other
        hosts are crawled during the waits."""
        web, site = self.serve_site(3, pages=40, random_links=0)
        web.script("/limited", Response(status=429, body="slow down"),
                   host=0)
        limited = web.url("/limited", 0)
        self.write_seeds([limited, site.page_url(1, 0), site.page_url(2, 0)])
        self.crawl_ok("--delay", 100, timeout=CRAWL_LIMIT_S)
        db = self.db()

        tries = [r for r in web.log.entries() if r.url == limited]
        self.assertEqual([r.status for r in tries], [429, 429, 429],
                         f"answers to {limited}")
        self.assertStates(db, {limited: (FAILED, ...)}, "the throttled page")
        reason = url_rows(db)[limited][1] or ""
        self.assertIn("429", reason, f"reason {limited} failed")
        n_rows = db.execute(
            "SELECT count(*) FROM pages p JOIN urls u ON u.id = p.url_id"
            " WHERE u.url = ? AND p.status = 429", (limited,)).fetchone()[0]
        self.assertEqual(n_rows, 3, f"429 pages rows of {limited}")

        others = {u for u in site.reachable(
            seeds=[site.page_url(1, 0), site.page_url(2, 0)])}
        self.assertSameSet(others, urls_in_state(db, DONE),
                           "done URLs of the other hosts")
        waits = []
        for a, b in zip(tries, tries[1:]):
            waits.append(b.start - a.end)
            during = [r.url for r in web.log.entries()
                      if r.host != 0 and a.end < r.start < b.start]
            self.assertTrue(during, f"no request to another host while"
                            f" {limited} waited {b.start - a.end:.3f} s")
        print(f"429 waits: {[round(w * 1000) for w in waits]} ms",
              file=sys.stderr)
        self.assertGreater(waits[1], waits[0],
                           "exponential back-off: seconds waited before the"
                           " 2nd and the 3rd attempt")


# -- 5: fetching robots.txt --------------------------------------------------

class RobotsFetchTest(PolitenessTestCase):

    def test_robots_404_allows_all(self):
        """robots.txt 404: every page is crawled."""
        web, site = self.serve_site(1, pages=10)
        web.robots("not here", status=404)
        self.crawl_ok(timeout=CRAWL_LIMIT_S)
        self.assertSameSet(site.pages, urls_in_state(self.db(), DONE),
                           "done URLs")
        self.assertEqual(request_counts(web, include_robots=True).get(
            web.url(ROBOTS_PATH)), 1, "robots.txt requests")

    def test_robots_403_allows_all(self):
        """robots.txt 403 (4xx, unlike 5xx): no restrictions."""
        web, site = self.serve_site(1, pages=10)
        web.robots("forbidden", status=403)
        self.crawl_ok(timeout=CRAWL_LIMIT_S)
        self.assertSameSet(site.pages, urls_in_state(self.db(), DONE),
                           "done URLs")

    def test_robots_500_parks_host(self):
        """robots.txt 500: no page of that host is requested, robots.txt is
        tried 3 times with growing waits, and its URLs stay queued; another
        host is crawled in full."""
        web, site = self.serve_site(2, pages=10)
        web.robots("oops", status=500, host=0)
        seeds = [site.page_url(0, 0), site.page_url(0, 1),
                 site.page_url(0, 2), site.page_url(1, 0)]
        self.write_seeds(seeds)
        self.crawl_ok(timeout=CRAWL_LIMIT_S)
        db = self.db()

        host0 = requests_by_host(web).get(0, [])
        self.assertEqual([r.path for r in host0], [ROBOTS_PATH] * 3,
                         "requests to the host whose robots.txt fails")
        gaps = [g for g, _, _ in start_gaps(host0)]
        self.assertGreater(gaps[0], 0.05, "wait before the 2nd robots.txt")
        self.assertGreater(gaps[1], gaps[0],
                           "back-off: wait before the 3rd robots.txt")
        self.assertStates(db, {u: (QUEUED, ...) for u in seeds[:3]},
                          "URLs of the host whose robots.txt fails")
        reached = site.reachable(seeds=[site.page_url(1, 0)])
        self.assertSameSet(reached, urls_in_state(db, DONE),
                           "done URLs (the healthy host's)")

    def test_robots_500_error_allow(self):
        """robots.txt 500 with --robots-error allow: crawled as if there
        were no robots.txt."""
        web, site = self.serve_site(1, pages=10)
        web.robots("oops", status=500)
        self.crawl_ok("--robots-error", "allow", timeout=CRAWL_LIMIT_S)
        self.assertSameSet(site.pages, urls_in_state(self.db(), DONE),
                           "done URLs")

    def test_robots_redirect(self):
        """robots.txt 301 -> /real-robots.txt disallowing /private/: the
        redirect is followed and /private/ is never requested."""
        web = self.start_web(1)
        web.script(ROBOTS_PATH,
                   Response(status=301, location="/real-robots.txt"))
        web.script("/real-robots.txt", Response(
            body="User-agent: *\nDisallow: /private/\n",
            content_type="text/plain"))
        private = ["/private/a", "/private/b/c"]
        web.script("/", page("root", ["/pub", *private]))
        web.script("/pub", page("pub"))
        for p in private:
            web.script(p, page(p))
        self.write_seeds([web.url("/")])
        self.crawl_ok(timeout=CRAWL_LIMIT_S)
        db = self.db()

        self.assertNotRequested(web, private, "disallowed by the redirected"
                                " robots.txt")
        counts = request_counts(web, include_robots=True)
        self.assertEqual(counts.get(web.url("/real-robots.txt")), 1,
                         "requests for the redirect target")
        rows = url_rows(db)
        for p in private:
            state, reason, _ = rows.get(web.url(p), (None, None, None))
            self.assertEqual(state, SKIPPED, f"state of {p}")
            self.assertTrue((reason or "").startswith(
                "robots: Disallow: /private"), f"reason of {p}: {reason!r}")
        self.assertSameSet({web.url("/"), web.url("/pub")},
                           urls_in_state(db, DONE), "done URLs")

    def test_robots_unreachable(self):
        """A seed host that refuses connections: no crash, exit 0, its URLs
        stay queued; another host is crawled in full."""
        web, site = self.serve_site(1, pages=5)
        origin, sock = closed_port_origin()
        self.addCleanup(sock.close)
        dead = [origin + "/", origin + "/x"]
        self.write_seeds(dead + [site.page_url(0, 0)])
        crawler, _ = self.timed_crawl()
        db = self.db()
        self.assertStates(db, {u: (QUEUED, ...) for u in dead},
                          "URLs of the unreachable host")
        self.assertSameSet(site.pages, urls_in_state(db, DONE), "done URLs")
        self.assertNotIn("signal", crawler.stderr().lower(),
                         "a child died of a signal")
        # The server cannot see these attempts; the crawler reports each.
        attempts = [line for line in crawler.stderr().splitlines()
                    if "robots.txt" in line and origin in line]
        self.assertEqual(len(attempts), 3, "stderr lines about robots.txt"
                         f" of {origin} (one per attempt):\n"
                         + "\n".join(attempts))


# -- 6, 7, 9, 10: robots.txt rules -------------------------------------------

PRIVATE_ROBOTS = ("User-agent: *\n"
                  "Disallow: /private/\n"
                  "Disallow: /*.pdf$\n"
                  "Allow: /private/ok\n")


class RobotsRulesTest(PolitenessTestCase):

    def serve_paths(self, web, root_links, paths, host: int = 0):
        """Serves / linking to `root_links`, and each of `paths` as a page
        (a .pdf as application/pdf)."""
        web.script("/", page("root", root_links), host=host)
        for p in paths:
            if p.split("?")[0].endswith(".pdf"):
                web.script(p, Response(body=b"%PDF-1.4\n",
                                       content_type="application/pdf"),
                           host=host)
            else:
                web.script(p, page(p), host=host)

    def test_disallowed_never_requested(self):
        """Disallow /private/ and /*.pdf$, Allow /private/ok: no
        disallowed path is requested, the allowed ones are, and the
        disallowed URLs are skipped with the rule as reason."""
        web = self.start_web(1)
        web.robots(PRIVATE_ROBOTS)
        disallowed = {"/private/": "Disallow: /private/",
                      "/private/x": "Disallow: /private/",
                      "/private/no": "Disallow: /private/",
                      "/doc.pdf": "Disallow: /*.pdf$",
                      "/files/a/b.pdf": "Disallow: /*.pdf$"}
        allowed = ["/private/ok", "/private/ok/deeper", "/doc.pdf?v=2",
                   "/doc.pdfx", "/public", "/privatefile"]
        self.serve_paths(web, [*disallowed, *allowed],
                         [*disallowed, *allowed])
        self.write_seeds([web.url("/")])
        crawler = self.crawl_ok(timeout=CRAWL_LIMIT_S)
        db = self.db()

        self.assertNotRequested(web, disallowed, "disallowed paths")
        requested = {r.path for r in web.log.entries()}
        self.assertSubset(allowed, requested, "allowed paths requested")
        self.assertStates(
            db, {web.url(p): (SKIPPED, f"robots: {rule}")
                 for p, rule in disallowed.items()},
            "disallowed URLs")
        self.assertSameSet({web.url(p) for p in ["/", *allowed]},
                           urls_in_state(db, DONE), "done URLs")
        self.assertNotIn("IGNORED", crawler.stderr(),
                         "robots.txt obeyed, yet the summary warns")

    def test_agent_groups(self):
        """A group for 'crawler' disallowing /a/ and one for '*'
        disallowing /b/: the default user agent keeps out of /a/ only;
        --user-agent 'otherbot/1.0' keeps out of /b/ only."""
        web = self.start_web(1)
        web.robots("User-agent: *\nDisallow: /b/\n\n"
                   "User-agent: crawler\nDisallow: /a/\n")
        paths = ["/a/1", "/a/2", "/b/1", "/b/2", "/c"]
        self.serve_paths(web, paths, paths)
        self.write_seeds([web.url("/")])

        self.crawl_ok(db="default.db", timeout=CRAWL_LIMIT_S)
        got = {r.path for r in web.log.entries()}
        agents = {r.user_agent for r in web.log.entries()}
        self.assertEqual([a.split("/")[0] for a in agents], [DEFAULT_TOKEN],
                         f"User-Agent headers sent: {agents}")
        self.assertNotRequested(web, ["/a/1", "/a/2"], "default agent, /a/")
        self.assertSubset(["/b/1", "/b/2", "/c"], got,
                          "default agent, paths requested")
        self.assertStates(self.db("default.db"),
                          {web.url("/a/1"): (SKIPPED, "robots: Disallow: /a/"),
                           web.url("/b/1"): (DONE, None)},
                          "default agent")

        since = len(web.log.entries())
        self.crawl_ok("--user-agent", "otherbot/1.0", db="other.db",
                      timeout=CRAWL_LIMIT_S)
        got = {r.path for r in web.log.entries()[since:]}
        agents = {r.user_agent for r in web.log.entries()[since:]}
        self.assertEqual(agents, {"otherbot/1.0"}, "User-Agent headers sent")
        self.assertNotRequested(web, ["/b/1", "/b/2"], "otherbot, /b/",
                                since=since)
        self.assertSubset(["/a/1", "/a/2", "/c"], got,
                          "otherbot, paths requested")
        self.assertStates(self.db("other.db"),
                          {web.url("/b/1"): (SKIPPED, "robots: Disallow: /b/"),
                           web.url("/a/1"): (DONE, None)},
                          "otherbot")

    def test_robots_command(self):
        """`crawler robots FILE AGENT URL...` prints one
        verdict<TAB>URL<TAB>rule line per URL, in order."""
        path = os.path.join(self.tmp, "robots.txt")
        with open(path, "w") as f:
            f.write("# a comment\n"
                    "User-agent: *\n"
                    "Disallow: /private/\n"
                    "Disallow: /*.pdf$\n"
                    "Allow: /private/ok\n"
                    "Crawl-delay: 2\n"
                    "\n"
                    "User-agent: MyBot\n"
                    "User-agent: otherbot\n"
                    "Disallow: /a/\n"
                    "Disallow: /b\n"
                    "Allow: /b/open\n"
                    "Disallow: /tie\n"
                    "Allow: /tie\n")
        base = "http://example.com"
        cases = [
            # (agent, URL given, URL printed, verdict, rule)
            ("crawler/0.1", base + "/", base + "/", "allowed", NO_RULE),
            ("crawler/0.1", base + "/private/x", base + "/private/x",
             "disallowed", "Disallow: /private/"),
            ("crawler/0.1", base + "/private/ok", base + "/private/ok",
             "allowed", "Allow: /private/ok"),
            ("crawler/0.1", base + "/private/ok/more",
             base + "/private/ok/more", "allowed", "Allow: /private/ok"),
            ("crawler/0.1", base + "/x/y.pdf", base + "/x/y.pdf",
             "disallowed", "Disallow: /*.pdf$"),
            ("crawler/0.1", base + "/y.pdf?z=1", base + "/y.pdf?z=1",
             "allowed", NO_RULE),
            ("crawler/0.1", "HTTP://Example.COM:80/private/./x#frag",
             base + "/private/x", "disallowed", "Disallow: /private/"),
            ("crawler/0.1", base + "/a/1", base + "/a/1", "allowed", NO_RULE),
            # Agent matching is by product token, case-insensitive; the
            # group for two agents applies to both, and only its rules.
            ("mybot/2.0 (+http://x)", base + "/a/1", base + "/a/1",
             "disallowed", "Disallow: /a/"),
            ("mybot/2.0 (+http://x)", base + "/private/x", base + "/private/x",
             "allowed", NO_RULE),
            ("OtherBot", base + "/bcd", base + "/bcd", "disallowed",
             "Disallow: /b"),
            ("OtherBot", base + "/b/open/1", base + "/b/open/1", "allowed",
             "Allow: /b/open"),
            # Equivalent allow and disallow rules: allow wins (RFC 9309).
            ("OtherBot", base + "/tie", base + "/tie", "allowed",
             "Allow: /tie"),
        ]
        for agent in sorted({c[0] for c in cases}):
            mine = [c for c in cases if c[0] == agent]
            proc = subprocess.run(
                [crawler_bin(), "robots", path, agent, *[c[1] for c in mine]],
                env=crawler_env(), stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 0,
                             f"exit code for {agent!r}; stderr:"
                             f" {proc.stderr}")
            expected = [f"{verdict}\t{printed}\t{rule}"
                        for _, _, printed, verdict, rule in mine]
            self.assertEqual(proc.stdout.splitlines(), expected,
                             f"output for agent {agent!r}")

    def test_no_robots(self):
        """--no-robots requests disallowed URLs and warns loudly in the
        summary; without it they are not requested and nothing warns."""
        web = self.start_web(1)
        web.robots("User-agent: *\nDisallow: /\n")
        paths = ["/private/x", "/p"]
        self.serve_paths(web, paths, paths)
        self.write_seeds([web.url("/")])

        obeying = self.crawl_ok(db="obey.db", timeout=CRAWL_LIMIT_S)
        self.assertEqual([r.path for r in web.log.entries()], [ROBOTS_PATH],
                         "requests when robots.txt disallows everything")
        self.assertNotIn("IGNORED", obeying.stderr(), "warning without"
                         " --no-robots")

        since = len(web.log.entries())
        ignoring = self.crawl_ok("--no-robots", db="ignore.db",
                                 timeout=CRAWL_LIMIT_S)
        got = {r.path for r in web.log.entries()[since:]}
        self.assertSubset(["/", *paths], got, "paths requested with"
                          " --no-robots")
        self.assertSameSet({web.url(p) for p in ["/", *paths]},
                           urls_in_state(self.db("ignore.db"), DONE),
                           "done URLs with --no-robots")
        warnings = [line for line in ignoring.stderr().splitlines()
                    if "robots.txt was IGNORED" in line]
        self.assertTrue(warnings, f"no 'robots.txt was IGNORED' line; stderr"
                        f" ends with:\n{ignoring.stderr_tail()}")


# -- 8: meta robots, X-Robots-Tag, rel=nofollow, meta refresh ----------------

class MetaRobotsTest(PolitenessTestCase):

    def test_meta_robots(self):
        """nofollow (meta or X-Robots-Tag): links recorded, targets skipped
        as 'nofollow' and never requested; noindex (meta or header): the
        page is kept out of page_text; rel=nofollow: the link is recorded
        as nofollow and not followed; meta refresh: its target is crawled
        through a link of kind 5."""
        web = self.start_web(1)
        u = web.url
        pages = {
            "/": page("root indexedword", [
                "/meta-nofollow", "/xrt-nofollow", "/meta-noindex",
                "/xrt-noindex", "/refresh", "/meta-none"],
                body='<p><a rel="nofollow" href="/rel-target">nf</a></p>'),
            "/meta-nofollow": page(
                "mnf", ["/t-meta"],
                head='<meta name="robots" content="nofollow">'),
            "/xrt-nofollow": page("xnf", ["/t-xrt"],
                                  headers=(("X-Robots-Tag", "nofollow"),)),
            "/meta-none": page("mnone", ["/t-none"],
                               head='<meta name="robots" content="none">'),
            "/meta-noindex": page(
                "hiddenwordalpha", ["/t-noindex"],
                head='<meta name="ROBOTS" content="NOINDEX">',
                body="<p>hiddenwordalpha text</p>"),
            "/xrt-noindex": page("hiddenwordbeta", [],
                                 body="<p>hiddenwordbeta text</p>",
                                 headers=(("X-Robots-Tag", "noindex"),)),
            "/refresh": page(
                "refresh", [],
                head='<meta http-equiv="refresh" content="0; url=/next">'),
            "/next": page("next"),
            "/t-noindex": page("target of noindex"),
        }
        never = ["/t-meta", "/t-xrt", "/t-none", "/rel-target"]
        for p, resp in pages.items():
            web.script(p, resp)
        for p in never:
            web.script(p, page(p))
        self.write_seeds([u("/")])
        self.crawl_ok(timeout=CRAWL_LIMIT_S)
        db = self.db()

        self.assertNotRequested(web, never, "targets of nofollow")
        self.assertSameSet({u(p) for p in pages}, urls_in_state(db, DONE),
                           "done URLs")
        self.assertStates(db, {u(p): (SKIPPED, "nofollow") for p in never},
                          "targets of nofollow")

        found = edges(db)
        expected = {(u("/meta-nofollow"), u("/t-meta")),
                    (u("/xrt-nofollow"), u("/t-xrt")),
                    (u("/meta-none"), u("/t-none")),
                    (u("/"), u("/rel-target")),
                    (u("/refresh"), u("/next"))}
        self.assertSubset(expected, found, "links recorded")
        self.assertSubset({(u("/"), u("/rel-target"))}, edges(db, True),
                          "links recorded as nofollow")
        refresh = db.execute(
            "SELECT l.kind FROM links l JOIN urls f ON f.id = l.from_id"
            " JOIN urls t ON t.hash = l.to_hash WHERE f.url = ? AND"
            " t.url = ?", (u("/refresh"), u("/next"))).fetchall()
        self.assertEqual(refresh, [(5,)], "kind of the meta refresh link")

        flags = {url: (noindex, nofollow) for url, noindex, nofollow in
                 db.execute("SELECT u.url, p.noindex, p.nofollow FROM pages p"
                            " JOIN urls u ON u.id = p.url_id")}
        expected_flags = {u("/"): (0, 0), u("/meta-nofollow"): (0, 1),
                          u("/xrt-nofollow"): (0, 1), u("/meta-none"): (1, 1),
                          u("/meta-noindex"): (1, 0),
                          u("/xrt-noindex"): (1, 0)}
        self.assertEqual({k: flags.get(k) for k in expected_flags},
                         expected_flags, "pages (noindex, nofollow)")

        # A crawl indexes text for search when idle; page_text MATCH below
        # needs all of it.
        index = self.run_crawler(["index", "--db", "crawl.db"])
        self.assertEqual(index.proc.returncode, 0, index.stderr_tail())
        indexed = {url for (url,) in db.execute(
            "SELECT u.url FROM page_text t JOIN pages p ON p.id = t.rowid"
            " JOIN urls u ON u.id = p.url_id")}
        self.assertIn(u("/"), indexed, "an ordinary page in page_text")
        hidden = indexed & {u("/meta-noindex"), u("/xrt-noindex"),
                            u("/meta-none")}
        self.assertEqual(hidden, set(), "noindex pages in page_text")
        for word in ("hiddenwordalpha", "hiddenwordbeta"):
            n = db.execute("SELECT count(*) FROM page_text WHERE page_text"
                           " MATCH ?", (word,)).fetchone()[0]
            self.assertEqual(n, 0, f"page_text matches for {word!r}")
        n = db.execute("SELECT count(*) FROM page_text WHERE page_text"
                       " MATCH 'indexedword'").fetchone()[0]
        self.assertEqual(n, 1, "page_text matches for 'indexedword'")
