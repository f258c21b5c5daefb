"""Robustness against the hostile web (issue 4), end to end: redirects
(every kind, chains over --max-redirects, loops), bodies over --max-size
and gzip bombs, servers that never answer, trickle, reset the connection
or lie about Content-Length, odd statuses, content types, charsets,
malformed HTML, non-http links, spider traps, duplicate bodies, and bad
command lines and databases.

Each scenario must end in a recorded outcome (urls.state and reason;
pages.status, error, truncated), never in a hang or a crash, so each case
asserts both the outcome and how long the crawl took.

Answers server.py cannot give (a body trickled a byte a second, cut by a
reset, or shorter than its Content-Length) come from RawHost, a small
raw-socket server below that binds 127.0.0.x only.
"""

import gzip
import os
import re
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zlib

from helpers import (DONE, FAILED, SKIPPED, CrawlerTestCase, child_pids,
                     crawler_bin, crawler_env, edges, html_page, page_rows,
                     request_counts, rss_bytes, url_row, url_rows,
                     urls_in_state, wait_until)
from server import Response
from sitegen import make_site

#: Seconds a crawl of a few scripted pages may take, whatever they do.
CRAWL_LIMIT_S = 20
#: The address of RawHost (TestWeb uses 127.0.0.2 and up).
RAW_HOST_ADDR = "127.0.0.240"
#: Seconds RawHost waits for a request's head before dropping it.
RAW_READ_TIMEOUT_S = 10
#: Seconds RawHost.stop() waits for each of its threads.
RAW_JOIN_TIMEOUT_S = 5
#: The error text fetch.c records for a body cut at --max-size.
TRUNCATED_ERROR = "body truncated at --max-size"
#: Default caps (`crawler crawl --help`).
DEFAULT_MAX_SIZE = 10485760
DEFAULT_MAX_LINKS = 5000
DEFAULT_MAX_URL_LENGTH = 2048
#: libcurl's low-speed abort: under 64 bytes/s for this many seconds.
LOW_SPEED_TIME_S = 10
#: Any crawler process may use this much memory on a gzip bomb that
#: inflates to 1 GiB (--max-size is 10 MiB).
BOMB_RSS_LIMIT = 200 * 1024 * 1024
ROBOTS_PATH = "/robots.txt"


# -- building pages ----------------------------------------------------------

def page(title: str, hrefs=(), **kwargs) -> Response:
    """A 200 text/html Response holding html_page(title, hrefs)."""
    return Response(body=html_page(title, hrefs), **kwargs)


def png_bytes(text: bytes) -> bytes:
    """A valid 1x1 PNG image carrying `text` in a tEXt chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"tEXt", b"Comment\x00" + text)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


_bomb = None


def gzip_bomb() -> bytes:
    """About 1 MiB of gzip that inflates to 1 GiB of zeros (built once)."""
    global _bomb
    if _bomb is None:
        z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(1 << 20)
        parts = [z.compress(zeros) for _ in range(1024)]
        parts.append(z.flush())
        _bomb = b"".join(parts)
    return _bomb


# -- RawHost: answers server.py cannot give ----------------------------------

def send_head(conn, status: int = 200, length=None,
              content_type: str = "text/html; charset=utf-8") -> None:
    """Sends a response head (one request per connection: Connection:
    close), with a Content-Length when `length` is given."""
    lines = [f"HTTP/1.1 {status} Whatever", f"Content-Type: {content_type}",
             "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))


def answer_not_found(conn, stopping) -> None:
    body = b"not found"
    send_head(conn, 404, len(body), "text/plain")
    conn.sendall(body)


def answer_trickle(body: bytes, interval_s: float):
    """An answer sending the head at once, then `body` one byte every
    `interval_s` seconds."""
    def answer(conn, stopping):
        send_head(conn, 200, len(body))
        for i in range(len(body)):
            if stopping.wait(interval_s):
                return
            conn.sendall(body[i:i + 1])
    return answer


def answer_reset(body: bytes, claimed: int):
    """An answer claiming `claimed` bytes, sending `body`, then resetting
    the connection (RST, not FIN)."""
    def answer(conn, stopping):
        send_head(conn, 200, claimed)
        conn.sendall(body)
        stopping.wait(0.2)  # the client has read the head by now
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    return answer


def answer_short(body: bytes, claimed: int):
    """An answer whose Content-Length (`claimed`) lies: it sends `body`,
    fewer bytes, and closes the connection normally."""
    def answer(conn, stopping):
        send_head(conn, 200, claimed)
        conn.sendall(body)
    return answer


class RawHost:
    """One loopback host answering each request with a function of the raw
    connection: answer(conn, stopping), where `stopping` is a
    threading.Event set by stop(). One request per connection; paths with
    no answer (robots.txt included) get a 404. `requests` lists the paths
    requested, in arrival order."""

    def __init__(self, addr: str = RAW_HOST_ADDR):
        self.addr = addr
        self.origin = None
        self.requests = []
        self._answers = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = []
        self._conns = set()
        self._sock = None

    def start(self) -> "RawHost":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, 0))
        s.listen(16)
        s.settimeout(0.05)
        self._sock = s
        self.origin = f"http://{self.addr}:{s.getsockname()[1]}"
        thread = threading.Thread(target=self._accept_loop, daemon=True,
                                  name=f"rawhost-{self.addr}")
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stops accepting, wakes and closes every connection, joins every
        thread."""
        self._stopping.set()
        with self._lock:
            conns = list(self._conns)
            threads = list(self._threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + RAW_JOIN_TIMEOUT_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._sock is not None:
            self._sock.close()

    def answer(self, path: str, fn) -> None:
        """Answers requests for `path` with fn(conn, stopping)."""
        with self._lock:
            self._answers[path] = fn

    def url(self, path: str) -> str:
        return self.origin + path

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,),
                                      daemon=True)
            with self._lock:
                self._conns.add(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn):
        try:
            conn.settimeout(RAW_READ_TIMEOUT_S)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            parts = head.split(b" ", 2)
            path = parts[1].decode("latin-1") if len(parts) > 2 else ""
            with self._lock:
                self.requests.append(path)
                fn = self._answers.get(path, answer_not_found)
            fn(conn, self._stopping)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()


# -- the TestCase base -------------------------------------------------------

class HostileTestCase(CrawlerTestCase):
    """Adds: a RawHost, a timed crawl, and asserts on urls and pages
    rows."""

    def start_raw(self) -> RawHost:
        raw = RawHost().start()
        self.addCleanup(raw.stop)
        return raw

    def timed_crawl(self, *extra, limit_s: float = CRAWL_LIMIT_S,
                    db: str = "crawl.db"):
        """crawl_ok(*extra, db=db), asserting it took under `limit_s`
        seconds; returns (crawler, seconds)."""
        t0 = time.monotonic()
        crawler = self.crawl_ok(*extra, db=db, timeout=2 * limit_s)
        wall = time.monotonic() - t0
        print(f"{self.id()}: crawl {crawler.args[4:]} took {wall:.2f} s",
              file=sys.stderr)
        self.assertLess(wall, limit_s, f"seconds the crawl {crawler.args}"
                        " took")
        return crawler, wall

    def assertUrl(self, db, url: str, state: int, reason=...,
                  **columns):
        """Asserts the urls row of `url` has `state`, `reason` (unless
        ...) and each of `columns` (e.g. hops=1)."""
        row = url_row(db, url)
        self.assertIsNotNone(row, f"no urls row for {url}")
        got = {"state": row["state"], **{k: row[k] for k in columns}}
        expected = {"state": state, **columns}
        if reason is not ...:
            got["reason"] = row["reason"]
            expected["reason"] = reason
        self.assertEqual(got, expected, f"urls row of {url}")
        return row

    def assertPages(self, db, url: str, expected: list):
        """Asserts the pages rows of `url`, oldest first, match `expected`,
        a list of dicts of the columns to check."""
        rows = page_rows(db, url)
        got = [{k: r[k] for k in want} for r, want in zip(rows, expected)]
        self.assertEqual((len(rows), got), (len(expected), expected),
                         f"(number of pages rows, their columns) of {url}")
        return rows

    def assertNotRequested(self, web, paths, what: str):
        """Asserts the TestWeb got no request for any of `paths`."""
        got = sorted(r.url for r in web.log.entries() if r.path in set(paths))
        self.assertEqual(got, [], f"{what}: requested anyway")

    def assertRequestedOnce(self, web, paths, what: str):
        """Asserts the TestWeb got exactly one request for each of
        `paths`."""
        counts = request_counts(web)
        got = {p: counts.get(web.url(p), 0) for p in paths}
        self.assertEqual(got, {p: 1 for p in paths},
                         f"{what}: path -> requests")


# -- redirects ---------------------------------------------------------------

class RedirectTest(HostileTestCase):

    def test_redirect_statuses(self):
        """301, 302, 303, 307 and 308, with absolute and relative
        Locations: the 3xx row has its status and the resolved location;
        the target is a new URL one hop further at the same depth, reached
        by a link of kind 5, and fetched once."""
        web = self.start_web(1)
        u = web.url
        redirects = {  # path -> (status, Location as sent, target path)
            "/r301": (301, u("/t/301"), "/t/301"),
            "/r302": (302, "/t/302", "/t/302"),
            "/r303": (303, "t/303", "/t/303"),
            "/r307": (307, u("/t/307"), "/t/307"),
            "/r308": (308, "./x/../t/308", "/t/308"),
        }
        web.script("/", page("root", list(redirects)))
        for path, (status, location, target) in redirects.items():
            web.script(path, Response(status=status, location=location,
                                      body="moved"))
            web.script(target, page(target))
        self.write_seeds([u("/")])
        self.timed_crawl()
        db = self.db()

        targets = [t for _, _, t in redirects.values()]
        self.assertRequestedOnce(web, ["/", *redirects, *targets],
                                 "pages and redirect targets")
        for path, (status, _, target) in redirects.items():
            self.assertPages(db, u(path), [{"status": status,
                                            "location": u(target)}])
            source = self.assertUrl(db, u(path), DONE, None, depth=1,
                                    hops=0)
            self.assertUrl(db, u(target), DONE, None, depth=1, hops=1,
                           from_id=source["id"])
            kinds = [k for (k,) in db.execute(
                "SELECT l.kind FROM links l JOIN urls t ON t.hash ="
                " l.to_hash WHERE l.from_id = ? AND t.url = ?",
                (source["id"], u(target)))]
            self.assertEqual(kinds, [5], f"kinds of links {path} -> {target}")

    def test_redirect_chain_limit(self):
        """A chain of six redirects with --max-redirects 3: three are
        followed, the fourth target is skipped as 'redirects' (never
        requested), and redirect_chains shows the four hops."""
        web = self.start_web(1)
        u = web.url
        for i in range(6):
            web.script(f"/c{i}", Response(status=302, location=f"/c{i + 1}"))
        web.script("/c6", page("end"))
        self.write_seeds([u("/c0")])
        self.timed_crawl("--max-redirects", 3)
        db = self.db()

        self.assertRequestedOnce(web, ["/c0", "/c1", "/c2", "/c3"],
                                 "the redirects followed")
        self.assertNotRequested(web, ["/c4", "/c5", "/c6"],
                                "past --max-redirects 3")
        for i in range(4):
            self.assertUrl(db, u(f"/c{i}"), DONE, None, depth=0, hops=i)
        self.assertUrl(db, u("/c4"), SKIPPED, "redirects", depth=0, hops=4)
        chain = db.execute(
            "SELECT hop, url, status, target, final_url, final_status, hops"
            " FROM redirect_chains WHERE start_url = ? ORDER BY hop",
            (u("/c0"),)).fetchall()
        self.assertEqual(chain, [
            (i + 1, u(f"/c{i}"), 302, u(f"/c{i + 1}"), u("/c4"), None, 4)
            for i in range(4)], "redirect_chains from /c0")

    def test_redirect_loops(self):
        """/start -> /a -> /b -> /a, a loop a -> b -> a from a seed, and a
        URL redirecting to itself: the crawl ends, each is fetched once
        (the URL-seen test stops the loop), and redirect_chains shows each
        chain up to where it loops."""
        web = self.start_web(1)
        u = web.url
        script = {"/start": "/a", "/a": "/b", "/b": "/a",
                  "/x": "/y", "/y": "/x", "/self": "/self"}
        for path, location in script.items():
            web.script(path, Response(status=302, location=location))
        self.write_seeds([u("/start"), u("/x"), u("/self")])
        self.timed_crawl()
        db = self.db()

        self.assertRequestedOnce(web, list(script), "redirecting URLs")
        self.assertSameSet({u(p) for p in script}, urls_in_state(db, DONE),
                           "done URLs")
        chains = {}
        for start, hop, url, target, final_url, hops in db.execute(
                "SELECT start_url, hop, url, target, final_url, hops FROM"
                " redirect_chains ORDER BY start_url, hop"):
            chains.setdefault(start, []).append(
                (hop, url, target, final_url, hops))
        self.assertEqual(chains.get(u("/start")), [
            (1, u("/start"), u("/a"), u("/a"), 3),
            (2, u("/a"), u("/b"), u("/a"), 3),
            (3, u("/b"), u("/a"), u("/a"), 3)],
            "redirect_chains from /start")
        # A loop reached from a seed, and a URL redirecting to itself, are
        # chains too: from the seed, up to where they loop.
        self.assertEqual(chains.get(u("/x")), [
            (1, u("/x"), u("/y"), u("/x"), 2),
            (2, u("/y"), u("/x"), u("/x"), 2)],
            f"redirect_chains from the seed /x; all chains: {chains}")
        self.assertEqual(chains.get(u("/self")), [
            (1, u("/self"), u("/self"), u("/self"), 1)],
            f"redirect_chains from the seed /self; all chains: {chains}")


# -- sizes -------------------------------------------------------------------

class SizeTest(HostileTestCase):

    def test_max_size(self):
        """A 200 KB page with --max-size 50000: recorded truncated at 50000
        bytes with the error, done, and what was kept is parsed (a link
        before the cut is followed, one after it is not)."""
        web = self.start_web(1)
        filler = "<p>" + "filler text " * 16000 + "</p>"
        body = html_page("big", ["/early"], body=filler
                         + '<a href="/late">late</a>')
        self.assertGreater(len(body), 150000)
        web.script("/big", Response(body=body))
        for p in ("/early", "/late"):
            web.script(p, page(p))
        self.write_seeds([web.url("/big")])
        self.timed_crawl("--max-size", 50000)
        db = self.db()

        self.assertPages(db, web.url("/big"), [{
            "status": 200, "truncated": 1, "error": TRUNCATED_ERROR,
            "bytes": 50000, "title": "big"}])
        self.assertUrl(db, web.url("/big"), DONE, None)
        self.assertRequestedOnce(web, ["/big", "/early"], "pages")
        self.assertNotRequested(web, ["/late"], "a link past the cut")

    def test_pages_longer_than_a_body_slot(self):
        """Bodies up to 256 KiB go from fetcher to parser in shared memory,
        longer ones through the sockets, the switch made mid-transfer:
        pages of exactly 256 KiB, one byte more, 600 KB, and 600 KB sent
        gzipped (small on the wire) all have their links found, at the
        start, around the 256 KiB mark and at the very end."""
        web = self.start_web(1)
        slot = 256 * 1024
        sizes = {"/edge": slot, "/over": slot + 1, "/big": 600000,
                 "/zipped": 600000}
        linked = []
        for path, size in sizes.items():
            hrefs = [f"{path}/{k}" for k in ("start", "middle", "end")]
            linked += hrefs
            head = html_page(path, hrefs[:1])
            middle = f'<a href="{hrefs[1]}">m</a>'
            tail = f'<a href="{hrefs[2]}">e</a></body></html>'
            room = size - len(head) - len(middle) - len(tail)
            half = room // 2
            body = (head + "x" * half + middle + "y" * (room - half)
                    + tail).encode()
            self.assertEqual(len(body), size, path)
            headers = ()
            if path == "/zipped":
                body = gzip.compress(body)
                headers = (("Content-Encoding", "gzip"),)
            web.script(path, Response(body=body, headers=headers))
        for h in linked:
            web.script(h, page(h))
        self.write_seeds([web.url(p) for p in sizes])
        self.timed_crawl()
        db = self.db()
        for path, size in sizes.items():
            self.assertPages(db, web.url(path), [{
                "status": 200, "truncated": 0, "bytes": size,
                "n_links": 3}])
        self.assertRequestedOnce(web, linked, "links of long pages")

    def test_gzip_bomb(self):
        """1 MiB of gzip inflating to 1 GiB of zeros, served as text/html:
        the fetcher stops at the default --max-size (10 MiB), the row says
        truncated, the crawl takes seconds, and no crawler process grows
        anywhere near the inflated size."""
        web = self.start_web(1)
        bomb = gzip_bomb()
        self.assertLess(len(bomb), 2 << 20)
        web.script("/bomb", Response(body=bomb, headers=(
            ("Content-Encoding", "gzip"),)))
        web.script("/", page("root", ["/bomb", "/after"]))
        web.script("/after", page("after"))
        self.write_seeds([web.url("/")])

        crawler = self.spawn(self.crawl_args())
        peak = {}  # pid -> largest RSS seen
        t0 = time.monotonic()
        while crawler.proc.poll() is None:
            if time.monotonic() - t0 > 2 * CRAWL_LIMIT_S:
                break
            for pid in [crawler.pid, *child_pids(crawler.pid)]:
                peak[pid] = max(peak.get(pid, 0), rss_bytes(pid))
            time.sleep(0.01)
        rc = crawler.wait(CRAWL_LIMIT_S)
        wall = time.monotonic() - t0
        mib = {pid: round(b / (1 << 20), 1) for pid, b in peak.items()}
        print(f"gzip bomb: crawl took {wall:.2f} s; peak RSS MiB by pid:"
              f" {mib}", file=sys.stderr)
        self.assertEqual(rc, 0, f"exit code; stderr ends with:\n"
                         f"{crawler.stderr_tail()}")
        self.assertLess(wall, CRAWL_LIMIT_S, "seconds the crawl took")
        self.assertLess(max(peak.values()), BOMB_RSS_LIMIT,
                        f"peak RSS of a crawler process (MiB by pid: {mib})")
        db = self.db()
        self.assertPages(db, web.url("/bomb"), [{
            "status": 200, "truncated": 1, "error": TRUNCATED_ERROR,
            "bytes": DEFAULT_MAX_SIZE}])
        self.assertUrl(db, web.url("/bomb"), DONE, None)
        self.assertUrl(db, web.url("/after"), DONE, None)


# -- time: silent, trickling, cut and lying servers --------------------------

class SlowServerTest(HostileTestCase):

    def test_never_answers(self):
        """A server that reads the request and never answers: with
        --timeout 2 --max-attempts 1 the URL fails in about 2 s with status
        0 and curl's timeout text as error and reason; with --timeout 1
        and the default --max-attempts it is tried 3 times, then
        failed."""
        web = self.start_web(1)
        web.script("/hang", Response(body="late", delay=60))
        url = web.url("/hang")
        self.write_seeds([url])

        _, wall = self.timed_crawl("--timeout", 2, "--max-attempts", 1,
                                   limit_s=8, db="once.db")
        self.assertGreater(wall, 1.9, "a 2 s timeout ended sooner")
        db = self.db("once.db")
        rows = self.assertPages(db, url, [{"status": 0}])
        self.assertIn("timed out", rows[0]["error"] or "", "error")
        self.assertUrl(db, url, FAILED, rows[0]["error"], attempts=1)

        since = len(web.log.entries())
        self.timed_crawl("--timeout", 1, limit_s=10, db="retried.db")
        db = self.db("retried.db")
        self.assertEqual(request_counts(web, since=since).get(url), 3,
                         "requests with the default --max-attempts (3)")
        rows = self.assertPages(db, url, [{"status": 0}] * 3)
        for r in rows:
            self.assertIn("timed out", r["error"] or "", "error")
        self.assertUrl(db, url, FAILED, rows[-1]["error"], attempts=3)

    def test_trickle_timeout(self):
        """A body trickled at 1 byte/s with --timeout 3: the transfer ends
        at about 3 s; the row has the status line's 200 and curl's timeout
        text; the URL fails with a reason that says it timed out."""
        raw = self.start_raw()
        raw.answer("/slow", answer_trickle(b"<html>" + b"x" * 994, 1.0))
        url = raw.url("/slow")
        self.write_seeds([url])
        _, wall = self.timed_crawl("--timeout", 3, "--max-attempts", 1,
                                   limit_s=9)
        self.assertGreater(wall, 2.9, "a 3 s timeout ended sooner")
        db = self.db()
        self.assertEqual(raw.requests, [ROBOTS_PATH, "/slow"],
                         "requests to the trickling host")
        rows = self.assertPages(db, url, [{"status": 200}])
        self.assertIn("timed out", rows[0]["error"] or "", "error")
        row = self.assertUrl(db, url, FAILED)
        self.assertIn("timed out", row["reason"] or "",
                      "reason a trickled transfer failed")

    def test_low_speed_abort(self):
        """A body trickled at 1 byte/s with a long --timeout: libcurl's
        low-speed limit (under 64 bytes/s for 10 s) ends it after about
        10 s, recorded with its error text."""
        raw = self.start_raw()
        raw.answer("/slow", answer_trickle(b"<html>" + b"x" * 994, 1.0))
        url = raw.url("/slow")
        self.write_seeds([url])
        _, wall = self.timed_crawl("--timeout", 60, "--max-attempts", 1,
                                   limit_s=LOW_SPEED_TIME_S + 6)
        self.assertGreater(wall, LOW_SPEED_TIME_S - 0.5,
                           "the low-speed abort came sooner")
        db = self.db()
        rows = self.assertPages(db, url, [{"status": 200}])
        self.assertIn("too slow", rows[0]["error"] or "", "error")
        row = self.assertUrl(db, url, FAILED)
        self.assertIn("too slow", row["reason"] or "",
                      "reason a too slow transfer failed")

    def test_cut_bodies(self):
        """A connection reset in the middle of the body, and a body shorter
        than its Content-Length: each is recorded with status 200 and
        curl's error, tried --max-attempts (2) times, then failed with a
        reason naming the error."""
        raw = self.start_raw()
        part = html_page("cut", ["/x"]).encode() + b" " * 3000
        raw.answer("/reset", answer_reset(part, 100000))
        raw.answer("/short", answer_short(part, len(part) + 4000))
        self.write_seeds([raw.url("/reset"), raw.url("/short")])
        self.timed_crawl("--max-attempts", 2)
        db = self.db()

        self.assertEqual(sorted(p for p in raw.requests if p != ROBOTS_PATH),
                         ["/reset", "/reset", "/short", "/short"],
                         "page requests to the raw host")
        for path, words in (("/reset", "reset"),
                            ("/short", "4000 bytes remaining")):
            url = raw.url(path)
            rows = self.assertPages(db, url, [{"status": 200}] * 2)
            for r in rows:
                self.assertIn(words, r["error"] or "", f"error of {path}")
            row = self.assertUrl(db, url, FAILED, attempts=2)
            self.assertIn(words, row["reason"] or "", f"reason {path} failed")


# -- statuses ----------------------------------------------------------------

class StatusTest(HostileTestCase):

    def test_odd_statuses(self):
        """An empty 200, a 204, a 304, a 404: recorded and done. A 500:
        tried 3 times (the default --max-attempts), then failed with
        reason 'http 500'."""
        web = self.start_web(1)
        u = web.url
        web.script("/empty", Response(body=b""))
        web.script("/nocontent", Response(status=204, content_type=None))
        web.script("/notmodified", Response(status=304, content_type=None))
        web.script("/gone", Response(status=404, body="no such page"))
        web.script("/error", Response(status=500, body="oops"))
        paths = ["/empty", "/nocontent", "/notmodified", "/gone", "/error"]
        web.script("/", page("root", paths))
        self.write_seeds([u("/")])
        self.timed_crawl()
        db = self.db()

        for path, status in (("/empty", 200), ("/nocontent", 204),
                             ("/notmodified", 304), ("/gone", 404)):
            self.assertPages(db, u(path), [{"status": status, "bytes": 0
                                            if path != "/gone" else 12,
                                            "error": None}])
            self.assertUrl(db, u(path), DONE, None)
        self.assertIsNone(page_rows(db, u("/notmodified"))[0]["location"],
                          "location of a 304")
        self.assertEqual(request_counts(web).get(u("/error")), 3,
                         "requests for the 500 page")
        self.assertPages(db, u("/error"), [{"status": 500}] * 3)
        self.assertUrl(db, u("/error"), FAILED, "http 500", attempts=3)


# -- content types -----------------------------------------------------------

class ContentTypeTest(HostileTestCase):

    def test_content_types(self):
        """text/html and application/xhtml+xml are parsed for links, and so
        is a body without a Content-Type (sniffed); a PNG served as
        text/html is recorded but yields no links; HTML served as
        application/octet-stream or text/plain is recorded, not parsed,
        and its links are not fetched."""
        web = self.start_web(1)
        u = web.url
        xhtml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
                 '<title>xhtml</title></head><body>'
                 '<a href="/from-xhtml">x</a></body></html>')
        png = png_bytes(b'<html><title>png</title><a href="/from-png">p</a>')
        cases = {  # path -> (Response, its link, is it followed)
            "/xhtml": (Response(body=xhtml,
                                content_type="application/xhtml+xml"),
                       "/from-xhtml", True),
            "/notype": (Response(body=html_page("notype", ["/from-notype"]),
                                 content_type=None), "/from-notype", True),
            "/png": (Response(body=png, content_type="text/html"),
                     "/from-png", False),
            "/octet": (Response(body=html_page("octet", ["/from-octet"]),
                                content_type="application/octet-stream"),
                       "/from-octet", False),
            "/plain": (Response(body=html_page("plain", ["/from-plain"]),
                                content_type="text/plain"),
                       "/from-plain", False),
        }
        web.script("/", page("root", list(cases)))
        for path, (resp, link, _) in cases.items():
            web.script(path, resp)
            web.script(link, page(link))
        self.write_seeds([u("/")])
        self.timed_crawl()
        db = self.db()

        for path, (resp, link, followed) in cases.items():
            rows = self.assertPages(db, u(path), [{
                "status": 200, "bytes": len(resp.encoded_body()),
                "error": None}])
            self.assertEqual(rows[0]["content_type"], resp.content_type,
                             f"content_type of {path}")
            self.assertUrl(db, u(path), DONE, None)
            out = {t for f, t in edges(db) if f == u(path)}
            if followed:
                self.assertEqual(out, {u(link)}, f"links of {path}")
                self.assertRequestedOnce(web, [link], f"the link of {path}")
            else:
                self.assertEqual((rows[0]["n_links"], out), (0, set()),
                                 f"(n_links, links) of {path}")
                self.assertNotRequested(web, [link], f"the link of {path}")
        self.assertIsNone(page_rows(db, u("/png"))[0]["title"],
                          "title of a PNG")


# -- charsets ----------------------------------------------------------------

class CharsetTest(HostileTestCase):

    def test_charsets(self):
        """ISO-8859-1 from the header, windows-1252 from <meta charset>,
        Shift_JIS from <meta http-equiv>, and invalid UTF-8: each title is
        stored as valid UTF-8 with the right characters (U+FFFD for the
        invalid bytes), and links are found, non-ASCII ones
        percent-encoded as UTF-8."""
        web = self.start_web(1)
        u = web.url

        def doc(title, href, head=""):
            return (f"<html><head>{head}<title>{title}</title></head><body>"
                    f'<p>{title}</p><a href="{href}">next</a></body></html>')

        cases = {  # path -> (body, Content-Type, title, link path)
            "/latin1": (doc("Café crème à la carte", "/café")
                        .encode("iso-8859-1"),
                        "text/html; charset=ISO-8859-1",
                        "Café crème à la carte", "/caf%C3%A9"),
            "/cp1252": (doc("“Quoted” – 5€", "/euro€",
                            '<meta charset="windows-1252">').encode("cp1252"),
                        "text/html", "“Quoted” – 5€", "/euro%E2%82%AC"),
            "/sjis": (doc("日本語のページ", "/日本",
                          '<meta http-equiv="Content-Type" content="text/html;'
                          ' charset=Shift_JIS">').encode("shift_jis"),
                      "text/html", "日本語のページ",
                      "/%E6%97%A5%E6%9C%AC"),
            "/badutf8": (b"<html><head><title>bad \xff\xfe bytes \xc3( here"
                         b'</title></head><body><a href="/after-bad">n</a>'
                         b"</body></html>", "text/html; charset=utf-8",
                         "bad \ufffd\ufffd bytes \ufffd( here", "/after-bad"),
        }
        web.script("/", page("root", list(cases)))
        for path, (body, ctype, _, link) in cases.items():
            web.script(path, Response(body=body, content_type=ctype))
            web.script(link, page("next"))
        self.write_seeds([u("/")])
        self.timed_crawl()
        db = self.db()

        for path, (_, _, title, link) in cases.items():
            raw = db.execute(
                "SELECT CAST(p.title AS BLOB) FROM pages p JOIN urls u ON"
                " u.id = p.url_id WHERE u.url = ?", (u(path),)).fetchone()
            self.assertIsNotNone(raw, f"no pages row for {path}")
            try:
                got = (raw[0] or b"").decode("utf-8")
            except UnicodeDecodeError as e:
                self.fail(f"title of {path} is not valid UTF-8: {raw[0]!r}"
                          f" ({e})")
            self.assertEqual(got, title, f"title of {path}")
            self.assertIn((u(path), u(link)), edges(db), f"link of {path}")
            self.assertRequestedOnce(web, [link], f"link of {path}")


# -- malformed HTML ----------------------------------------------------------

class MalformedHtmlTest(HostileTestCase):

    def test_unclosed_and_deep(self):
        """Tags never closed, and 100,000 nested elements: parsed in bounded
        time, titles and links found."""
        web = self.start_web(1)
        u = web.url
        unclosed = ("<html><head><title>Unclosed</title><body><div><p><b><i>"
                    '<a href="/u1">one<a href="/u2">two<table><tr><td>'
                    "<a href=/u3>three<ul><li><a href='/u4'>four<select>"
                    '<option><a href="/u5">five')
        deep = ("<html><head><title>Deep</title></head><body>"
                + "<div>" * 100000 + '<a href="/deep-link">deep</a>'
                + "<span><b><i>" * 30000 + '<a href="/deeper">x</a>')
        web.script("/unclosed", Response(body=unclosed))
        web.script("/deep", Response(body=deep))
        links = ["/u1", "/u2", "/u3", "/u4", "/u5", "/deep-link", "/deeper"]
        for p in links:
            web.script(p, page(p))
        self.write_seeds([u("/unclosed"), u("/deep")])
        self.timed_crawl()
        db = self.db()

        titles = {p: (page_rows(db, u(p)) or [{}])[0].get("title")
                  for p in ("/unclosed", "/deep")}
        self.assertEqual(titles, {"/unclosed": "Unclosed", "/deep": "Deep"},
                         "titles")
        self.assertRequestedOnce(web, links, "links of malformed pages")

    def test_many_links(self):
        """A page of 50,000 distinct links: its first 5000 (the default
        --max-links) are recorded, in document order, and pages.n_links is
        5000; with --max-links 100, 100."""
        web = self.start_web(1)
        hrefs = [f"/l/{i}" for i in range(50000)]
        web.script("/many", Response(body=html_page("many", hrefs)))
        self.write_seeds([web.url("/many")])
        # The targets are denied so that the test does not crawl them.
        self.timed_crawl("--deny", "/l/[0-9]+$")
        db = self.db()
        got = {t for f, t in edges(db) if f == web.url("/many")}
        self.assertSameSet({web.url(h) for h in hrefs[:DEFAULT_MAX_LINKS]},
                           got, "links recorded")
        self.assertPages(db, web.url("/many"), [{
            "status": 200, "n_links": DEFAULT_MAX_LINKS}])
        self.assertEqual(
            [r.path for r in web.log.entries() if r.path.startswith("/l/")],
            [], "denied link targets requested")

        self.timed_crawl("--deny", "/l/[0-9]+$", "--max-links", 100,
                         db="capped.db")
        db = self.db("capped.db")
        got = {t for f, t in edges(db) if f == web.url("/many")}
        self.assertSameSet({web.url(h) for h in hrefs[:100]}, got,
                           "links recorded with --max-links 100")

    def test_nul_bytes(self):
        """NUL bytes in the title, in an attribute and in bulk in the text:
        dropped; the title and both links are found."""
        web = self.start_web(1)
        body = (b"<html><head><title>Nul\x00 title</title></head><body>"
                b'<p>a\x00b</p><a href="/nul\x00-link">one</a><p>'
                + b"filler " * 200 + b"\x00" * 5000
                + b'</p><a href="/after-nuls">two</a></body></html>')
        web.script("/nul", Response(body=body))
        for p in ("/nul-link", "/after-nuls"):
            web.script(p, page(p))
        self.write_seeds([web.url("/nul")])
        self.timed_crawl()
        db = self.db()
        self.assertPages(db, web.url("/nul"), [{"status": 200,
                                                "title": "Nul title"}])
        self.assertRequestedOnce(web, ["/nul-link", "/after-nuls"],
                                 "links around NUL bytes")

    def test_long_href(self):
        """A 10,000-character href is skipped as 'too long' (over the
        default --max-url-length) and never requested; a 1,500-character
        one is fetched."""
        web = self.start_web(1)
        long_path = "/" + "x" * 10000
        ok_path = "/" + "y" * 1500
        web.script("/", page("root", [long_path, ok_path]))
        web.script(ok_path, page("long but fine"))
        self.write_seeds([web.url("/")])
        self.timed_crawl()
        db = self.db()

        too_long = db.execute(
            "SELECT state, length(url) FROM urls WHERE reason = 'too long'"
        ).fetchall()
        self.assertEqual(len(too_long), 1, "URLs skipped as 'too long'")
        self.assertEqual(too_long[0][0], SKIPPED, "state of the long URL")
        self.assertLessEqual(too_long[0][1], DEFAULT_MAX_URL_LENGTH,
                             "length of the long URL as stored")
        longest = max(len(r.path) for r in web.log.entries())
        self.assertLess(longest, DEFAULT_MAX_URL_LENGTH,
                        "longest request path")
        self.assertUrl(db, web.url(ok_path), DONE, None)


# -- links that are not http -------------------------------------------------

class SchemeTest(HostileTestCase):

    def test_non_http_links(self):
        """javascript:, mailto:, data:, tel: and ftp: links: recorded as
        links, their URLs skipped with reason 'scheme', never requested."""
        web = self.start_web(1)
        hrefs = ["javascript:alert(1)", "mailto:someone@example.com",
                 "data:text/html,<a href=/from-data>x</a>", "tel:+15551234",
                 "ftp://127.0.0.2/file"]
        web.script("/", page("root", [h.replace("<", "&lt;")
                                      .replace(">", "&gt;") for h in hrefs]))
        self.write_seeds([web.url("/")])
        self.timed_crawl()
        db = self.db()

        rows = url_rows(db)
        got = {h: rows.get(h, (None, None))[:2] for h in hrefs}
        self.assertEqual(got, {h: (SKIPPED, "scheme") for h in hrefs},
                         "href -> (state, reason)")
        out = {t for f, t in edges(db) if f == web.url("/")}
        self.assertSubset(hrefs, out, "links recorded from /")
        self.assertEqual(sorted({r.path for r in web.log.entries()}),
                         ["/", ROBOTS_PATH], "paths requested")


# -- spider traps ------------------------------------------------------------

class TrapTest(HostileTestCase):

    def test_trap_rules(self):
        """/a/b/ linking to a/b/ forever stops at the fourth repeat
        ('repeated segments'); /q?x growing &x stops likewise ('repeated
        parameters'); a path over --max-path-segments 7 is skipped ('path
        segments'), one at the limit is not; 33 query parameters are
        skipped ('query parameters'), 32 are not."""
        web = self.start_web(1)
        u = web.url

        def traps(host, path):
            if re.fullmatch(r"(/a/b)+/", path):
                return page(path, ["a/b/"])
            if re.fullmatch(r"/q\?x(&x)*", path):
                return page(path, [path + "&x"])
            return None

        web.mount(traps)
        seg7 = "/" + "/".join(f"s{i}" for i in range(1, 8))
        seg8 = seg7 + "/s8"
        q32 = "/many?" + "&".join(f"p{i}=1" for i in range(32))
        q33 = q32 + "&p32=1"
        web.script("/", page("root", ["/a/b/", "/q?x", seg7, seg8,
                                      q32.replace("&", "&amp;"),
                                      q33.replace("&", "&amp;")]))
        for p in (seg7, q32):
            web.script(p, page("fine"))
        self.write_seeds([u("/")])
        self.timed_crawl("--max-path-segments", 7)
        db = self.db()

        fetched = ["/", "/a/b/", "/a/b/a/b/", "/a/b/a/b/a/b/", "/q?x",
                   "/q?x&x", "/q?x&x&x", seg7, q32]
        self.assertRequestedOnce(web, fetched, "pages")
        self.assertSameSet({u(p) for p in fetched}, urls_in_state(db, DONE),
                           "done URLs")
        skipped = {"/a/b/a/b/a/b/a/b/": "repeated segments",
                   "/q?x&x&x&x": "repeated parameters",
                   seg8: "path segments", q33: "query parameters"}
        rows = url_rows(db)
        got = {p: rows.get(u(p), (None, None))[:2] for p in skipped}
        self.assertEqual(got, {p: (SKIPPED, r) for p, r in skipped.items()},
                         "trap URL -> (state, reason)")
        self.assertNotRequested(web, skipped, "trap URLs")

    def test_calendar(self):
        """An endless calendar (each month links to the previous and the
        next): --max-depth 4 fetches the 9 months within 4 links and skips
        the 2 beyond as 'depth'; --max-pages-per-host 10 fetches exactly
        10 and skips the rest queued as 'host page limit'."""
        web = self.start_web(1)
        u = web.url

        def month(n):
            return f"/cal/{n // 12}/{n % 12 + 1:02d}"

        def calendar(host, path):
            m = re.fullmatch(r"/cal/(\d+)/(\d\d)", path)
            if not m:
                return None
            n = int(m.group(1)) * 12 + int(m.group(2)) - 1
            return page(path, [month(n - 1), month(n + 1)])

        web.mount(calendar)
        start = 2000 * 12 + 5  # June 2000
        self.write_seeds([u(month(start))])

        self.timed_crawl("--max-depth", 4, db="depth.db")
        db = self.db("depth.db")
        within = {u(month(start + d)) for d in range(-4, 5)}
        self.assertSameSet(within, urls_in_state(db, DONE),
                           "done URLs with --max-depth 4")
        beyond = {u(month(start - 5)), u(month(start + 5))}
        rows = url_rows(db)
        self.assertEqual({x: rows.get(x) for x in beyond},
                         {x: (SKIPPED, "depth", 5) for x in beyond},
                         "URLs one link too deep -> (state, reason, depth)")
        self.assertEqual(sum(request_counts(web).values()), 9,
                         "page requests with --max-depth 4")

        # --delay 100 leaves the parser time to finish each page before
        # the next request (test_host_page_limit_while_parsing does not).
        since = len(web.log.entries())
        self.timed_crawl("--max-pages-per-host", 10, "--delay", 100,
                         db="limit.db")
        db = self.db("limit.db")
        self.assertEqual(sum(request_counts(web, since=since).values()), 10,
                         "page requests with --max-pages-per-host 10")
        self.assertEqual(len(urls_in_state(db, DONE)), 10,
                         "done URLs with --max-pages-per-host 10")
        limited = [u for u, (s, r, _) in url_rows(db).items()
                   if (s, r) == (SKIPPED, "host page limit")]
        self.assertTrue(limited, "no URL skipped as 'host page limit'")
        queued = [u for u, (s, _, _) in url_rows(db).items()
                  if s not in (DONE, SKIPPED)]
        self.assertEqual(queued, [], "URLs neither done nor skipped")


    def test_host_page_limit_while_parsing(self):
        """--max-pages-per-host 10 on pages that take the parser about 0.1 s
        each (3 MB), with --delay 0: pages still being parsed count
        against the limit, so exactly 10 are requested."""
        web = self.start_web(1)
        filler = ('<p><b>word</b> <i>more</i> <a href="#x">x</a></p>\n'
                  * 60000)
        hrefs = [f"/h/{i}" for i in range(40)]
        web.script("/", page("root", hrefs))
        for h in hrefs:
            web.script(h, Response(body=html_page(h, body=filler)))
        self.write_seeds([web.url("/")])
        self.timed_crawl("--max-pages-per-host", 10)
        db = self.db()
        requested = sorted(request_counts(web))
        self.assertEqual(len(requested), 10, "page requests with"
                         f" --max-pages-per-host 10: {requested}")
        self.assertEqual(len(urls_in_state(db, DONE)), 10, "done URLs")
        limited = [u for u, (s, r, _) in url_rows(db).items()
                   if (s, r) == (SKIPPED, "host page limit")]
        self.assertEqual(len(limited), 31, "URLs skipped as 'host page"
                         " limit'")


# -- duplicates --------------------------------------------------------------

class DuplicateTest(HostileTestCase):

    N_COPIES = 12

    def check_duplicates(self, body: str, *extra):
        """Twelve URLs serve `body`, which has a relative link "next" (so
        that each copy's link points elsewhere): exactly one copy, the
        original, has no duplicate_of; every other has duplicate_of = its
        url id, and their links are never followed."""
        web = self.start_web(1)
        u = web.url
        copies = [f"/c{i}/dup" for i in range(self.N_COPIES)]
        web.script("/", page("root", copies))
        for c in copies:
            web.script(c, Response(body=body))
            web.script(c.replace("/dup", "/next"), page("next " + c))
        self.write_seeds([u("/")])
        self.timed_crawl(*extra)
        db = self.db()

        rows = db.execute(
            "SELECT u.url, u.id, p.duplicate_of FROM pages p JOIN urls u"
            " ON u.id = p.url_id WHERE u.url LIKE '%/dup' ORDER BY p.id"
        ).fetchall()
        self.assertEqual(len(rows), self.N_COPIES, "pages rows of copies")
        ids = {url: i for url, i, _ in rows}
        dup_of = {url[len(web.origin()):]: d for url, _, d in rows}
        originals = sorted(p for p, d in dup_of.items() if d is None)
        self.assertEqual(len(originals), 1,
                         f"copies recorded as originals (duplicate_of"
                         f" NULL): {originals}; copy -> duplicate_of:"
                         f" {dup_of}; requests in order:"
                         f" {[r.path for r in web.log.pages()]}")
        original = originals[0]
        self.assertEqual(
            dup_of, {c: (None if c == original else ids[u(original)])
                     for c in copies},
            f"copy -> duplicate_of (original {original}, url id"
            f" {ids[u(original)]})")
        nexts = [c.replace("/dup", "/next") for c in copies]
        original_next = original.replace("/dup", "/next")
        self.assertRequestedOnce(web, [original_next], "the original's link")
        self.assertNotRequested(
            web, [n for n in nexts if n != original_next],
            "links found only on duplicates")
        self.assertSameSet({u(c) for c in copies} | {u("/"),
                                                     u(original_next)},
                           urls_in_state(db, DONE), "done URLs")

    def test_duplicate_bodies(self):
        """Copies fetched after the original was recorded (--delay 200
        leaves the parser time)."""
        self.check_duplicates(html_page("same", ["next"]), "--delay", 200)

    def test_duplicate_bodies_while_parsing(self):
        """Copies fetched while the original is still being parsed: a 3 MB
        body takes the parser about 0.1 s, in which the other copies
        arrive (--host-connections 4, --delay 0). They are duplicates all
        the same."""
        filler = ('<p><b>word</b> <i>more</i> <a href="#x">x</a></p>\n'
                  * 60000)
        self.check_duplicates(html_page("same", ["next"], body=filler),
                              "--host-connections", 4)


# -- bad command lines and databases -----------------------------------------

class CommandLineTest(HostileTestCase):

    def run_bad(self, args: list, exit_code, mentions: list):
        """Runs the crawler with `args`; asserts `exit_code` (or any
        non-zero exit for None), one stderr line containing each of
        `mentions`, and that it took under 5 s. Returns the line."""
        t0 = time.monotonic()
        crawler = self.run_crawler(args, 30)
        wall = time.monotonic() - t0
        out = crawler.stderr()
        rc = crawler.proc.returncode
        if exit_code is None:
            self.assertNotEqual(rc, 0, f"exit code of {args}; stderr:\n{out}")
        else:
            self.assertEqual(rc, exit_code,
                             f"exit code of {args}; stderr:\n{out}")
        lines = [line for line in out.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"stderr lines of {args}:\n{out}")
        for m in mentions:
            self.assertIn(m, lines[0], f"error of {args}")
        self.assertLess(wall, 5, f"seconds {args} took")
        print(f"{args} -> exit {rc} in {wall:.2f} s: {lines[0]}",
              file=sys.stderr)
        return lines[0]

    def test_seeds_file_missing_or_unreadable(self):
        """A seeds file that does not exist, or cannot be read (a
        directory): exit 1, one line naming it."""
        self.run_bad(["crawl", "nowhere.txt", "--db", "crawl.db"], 1,
                     ["nowhere.txt"])
        os.mkdir(os.path.join(self.tmp, "adir"))
        self.run_bad(["crawl", "adir", "--db", "crawl.db"], 1, ["adir"])
        self.assertFalse(os.path.exists(self.db_path), "database created")

    def test_bad_seed_lines(self):
        """Seed lines that are not http(s) URLs: one stderr line each with
        file:line and the problem; the good line is crawled."""
        web = self.start_web(1)
        web.script("/", page("root"))
        self.write_seeds(["ftp://127.0.0.2/x", "not a url at all",
                          "# a comment", "", web.url("/"), "http://[::1"])
        crawler, _ = self.timed_crawl()
        errors = [line for line in crawler.stderr().splitlines()
                  if "seeds.txt:" in line]
        self.assertEqual(len(errors), 3, "stderr lines about seeds:\n"
                         + crawler.stderr())
        for line, where, problem in zip(
                errors, ["seeds.txt:1:", "seeds.txt:2:", "seeds.txt:6:"],
                ["scheme", "one URL a line", "not a valid URL"]):
            self.assertIn(where, line, "seed error line")
            self.assertIn(problem, line, "seed error line")
        self.assertEqual(urls_in_state(self.db(), DONE), {web.url("/")},
                         "done URLs")

    def test_seed_line_forms(self):
        """A byte order mark, a comment after the URL, blanks around it and
        CRLF or lone CR line ends are read as a person means them; two
        URLs on a line and a NUL byte are reported with the line number
        and skipped; a file with no line end in 16 MiB (/dev/zero) is not
        a seeds file: exit 1, nothing crawled, no database."""
        web = self.start_web(1)
        for path in ("/a", "/b", "/c", "/d", "/e", "/f", "/g"):
            web.script(path, page(path))
        u = lambda p: web.url(p).encode()  # noqa: E731
        with open(os.path.join(self.tmp, "seeds.txt"), "wb") as f:
            f.write(b"\xef\xbb\xbf" + u("/a") + b"  # the a page\n"
                    + u("/b") + b" " + u("/c") + b"\r\n"
                    + u("/d") + b"\r" + u("/e") + b"\r# a note\r"
                    + b"\t" + u("/f") + b"\t\n"
                    + u("/g") + b"\x00h\n")
        crawler, _ = self.timed_crawl()
        errors = [line for line in crawler.stderr().splitlines()
                  if "seeds.txt:" in line]
        self.assertEqual(len(errors), 2, crawler.stderr())
        self.assertIn("seeds.txt:2:", errors[0])
        self.assertIn("one URL a line", errors[0])
        self.assertIn("seeds.txt:7:", errors[1])
        self.assertIn("NUL", errors[1])
        self.assertEqual(urls_in_state(self.db(), DONE),
                         {web.url(p) for p in ("/a", "/d", "/e", "/f")},
                         "done URLs")

        endless = os.path.join(self.tmp, "endless.txt")
        with open(endless, "wb") as f:
            f.write(b"x" * (17 << 20))
        self.run_bad(["crawl", "endless.txt", "--db", "other.db"], 1,
                     ["endless.txt:1:", "not a seeds file"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "other.db")))

    def test_bad_options(self):
        """An unknown option, a non-numeric or negative number, a regex that
        does not compile: exit 2, one line naming the option or pattern,
        and no database written."""
        self.write_seeds(["http://127.0.0.2:9/"])
        base = ["crawl", "seeds.txt", "--db", "crawl.db"]
        cases = [
            (["--frobnicate"], ["--frobnicate"]),
            (["--max-pages", "abc"], ["--max-pages", "abc"]),
            (["--delay", "-5"], ["--delay", "-5"]),
            (["--timeout", "0"], ["--timeout"]),
            (["--max-size", "1e6"], ["--max-size"]),
            (["--deny", "("], ["--deny", "'('"]),
            (["--allow", "a[b"], ["--allow", "a[b"]),
            (["--scope", "galaxy"], ["--scope", "galaxy"]),
            (["--max-pages"], ["--max-pages", "missing value"]),
        ]
        for extra, mentions in cases:
            self.run_bad(base + extra, 2, mentions)
            self.assertFalse(os.path.exists(self.db_path),
                             f"database created by {extra}")

    def test_output_that_cannot_be_written(self):
        """An answer that standard output does not take (a full disk) is
        not a success: exit 1 and one line saying so."""
        self.write_seeds(["http://127.0.0.2:9/"])
        for args in (["normalize", "http://127.0.0.2/a/../b"], ["--help"],
                     ["--version"], ["crawl", "--help"],
                     ["robots", "seeds.txt", "crawler", "http://a.test/"]):
            with open("/dev/full", "w") as full:
                proc = subprocess.run([crawler_bin(), *args], cwd=self.tmp,
                                      env=crawler_env(), stdout=full,
                                      stderr=subprocess.PIPE, text=True,
                                      timeout=30)
            self.assertEqual(proc.returncode, 1, (args, proc.stderr))
            self.assertEqual(proc.stderr.strip(),
                             "crawler: standard output: write error", args)

    def test_tool_arguments_named(self):
        """Each command's --help prints its usage and exits 0; an error
        names the argument that is wrong: a bad BASE, another command's
        option (not its value), a text that is not a URL."""
        web = self.start_web(1)
        web.script("/", page("root"))
        self.write_seeds([web.url("/")])
        self.timed_crawl()

        def run(*args):
            proc = subprocess.run([crawler_bin(), *args], cwd=self.tmp,
                                  env=crawler_env(), capture_output=True,
                                  text=True, timeout=30)
            return proc.returncode, proc.stdout, proc.stderr.strip()

        for cmd in ("normalize", "extract", "robots", "stats", "crawl"):
            rc, out, err = run(cmd, "--help")
            self.assertEqual((rc, err), (0, ""), cmd)
            self.assertIn("usage", out.lower(), cmd)
        self.assertEqual(run("normalize", "a", "http://[bad/"),
                         (1, "", "crawler: BASE 'http://[bad/': not a valid"
                             " URL"))
        self.assertEqual(run("stats", "--db", "crawl.db", "--limit", "3"),
                         (2, "", "crawler: --limit: not an option of stats"
                             " (see crawler stats --help)"))
        self.assertEqual(run("explain", "--db", "crawl.db", "notaurl"),
                         (1, "", "crawler: 'notaurl': not a valid URL"))

    def test_unicode_host(self):
        """A host written in Unicode is normalized to its ASCII form
        (IDNA), which the fetch and DNS use, whatever the caller's locale."""
        for lang in ("C", "C.UTF-8"):
            env = dict(crawler_env(), LC_ALL=lang, LANG=lang)
            proc = subprocess.run(
                [crawler_bin(), "normalize", "http://B\u00dcCHER.example/a"],
                env=env, capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout.strip(),
                             "http://xn--bcher-kva.example/a", lang)

    def test_not_a_database(self):
        """--db naming a text file, or another application's SQLite
        database: exit 1, one line saying it is not a crawl database, and
        the file left byte for byte as it was."""
        self.write_seeds(["http://127.0.0.2:9/"])
        text = os.path.join(self.tmp, "notes.txt")
        with open(text, "wb") as f:
            f.write(b"just some notes\nnot a database at all\n" * 50)
        other = os.path.join(self.tmp, "other.db")
        conn = sqlite3.connect(other)
        conn.execute("CREATE TABLE t(x)")
        conn.execute("INSERT INTO t VALUES (42)")
        conn.commit()
        conn.close()
        for path in (text, other):
            with open(path, "rb") as f:
                before = f.read()
            name = os.path.basename(path)
            self.run_bad(["crawl", "seeds.txt", "--db", name], 1,
                         [name, "not a crawl database"])
            with open(path, "rb") as f:
                after = f.read()
            self.assertTrue(after == before, f"{name} changed:"
                            f" {len(before)} bytes before, {len(after)}"
                            " after")
            self.assertFalse(os.path.exists(path + "-wal"),
                             f"{name}-wal created")

    def test_database_in_use(self):
        """A second crawl on a database another crawl is writing: it exits
        non-zero at once, with one line saying so; the first crawl is not
        disturbed and completes."""
        web = self.start_web(1)
        site = make_site(web.origins, pages=60, cross_links=0,
                         specials=False)
        web.mount(site.handler(delay=0.05))
        self.write_seeds(site.seeds)
        first = self.spawn(self.crawl_args())
        wait_until(lambda: web.log.n_pages(finished_only=True) >= 5
                   or first.proc.poll() is not None, 30, "5 pages served")
        self.assertIsNone(first.proc.poll(), "the first crawl ended early")

        self.run_bad(self.crawl_args(), None,
                     ["crawl.db", "another crawl"])
        self.assertIsNone(first.proc.poll(),
                          "the first crawl ended with the second")
        rc = first.wait(60)
        self.assertEqual(rc, 0, f"exit code of the first crawl; stderr"
                         f" ends with:\n{first.stderr_tail()}")
        db = self.db()
        self.assertSameSet(site.pages, urls_in_state(db, DONE),
                           "done URLs of the first crawl")
        repeated = {u: n for u, n in request_counts(web).items() if n > 1}
        self.assertEqual(repeated, {}, "URLs requested more than once")
