"""Helpers shared by the integration tests: running the crawler binary,
reading its database, finding its child processes, bounded waiting, and a
TestCase base class that cleans up after every case.

The binary is $CRAWLER_BIN (tests/run sets it). Every crawler runs in a
fresh temporary directory, in its own process group, with stderr going to a
file there; whatever a case starts (crawlers, servers) is stopped when the
case ends, pass or fail.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Callable, Optional

from server import TestWeb

# urls.state, as in store/frontier.c.
QUEUED, IN_FLIGHT, DONE, FAILED, SKIPPED = range(5)

#: Seconds a crawl may take unless a test says otherwise.
CRAWL_TIMEOUT_S = 120
#: Lines of crawler stderr printed when a case ends (shown on failure).
STDERR_TAIL_LINES = 40


# -- waiting -----------------------------------------------------------------

def wait_until(predicate: Callable, timeout: float, what: str,
               interval: float = 0.02):
    """Calls `predicate` until it returns a true value, and returns that
    value; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 2):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# -- processes ---------------------------------------------------------------

def child_pids(pid: int) -> list:
    """The pids of the direct children of `pid` (empty if it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def comm(pid: int) -> Optional[str]:
    """/proc/PID/comm of `pid`, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def children_named(pid: int, name: str) -> list:
    """The direct children of `pid` whose comm is `name`, e.g.
    "crawler-fetch"."""
    return [c for c in child_pids(pid) if comm(c) == name]


def pids_where(field: str, value: int) -> list:
    """Pids of the live processes whose process group ("pgrp") or session
    ("session") is `value`, from /proc/PID/stat."""
    index = {"pgrp": 2, "session": 3}[field]  # after "pid (comm) state"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[index]) == value:
            found.append(int(entry))
    return found


def kill_pids(pids) -> None:
    """SIGKILLs each pid in `pids` that still exists."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# -- the crawler binary ------------------------------------------------------

def crawler_bin() -> str:
    """The absolute path of $CRAWLER_BIN; fails the test if it is unset or
    not an executable file."""
    path = os.environ.get("CRAWLER_BIN")
    if not path:
        raise AssertionError("CRAWLER_BIN is not set")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError(f"CRAWLER_BIN is not an executable file: {path}")
    return path


def crawler_env() -> dict:
    """The environment for the crawler: ours without proxies (libcurl would
    send our loopback requests to them)."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["no_proxy"] = env["NO_PROXY"] = "*"
    return env


class Crawler:
    """A running crawler process, started by `CrawlerTestCase.spawn`."""

    def __init__(self, args: list, cwd: str, name: str):
        self.args = list(args)
        self.stderr_path = os.path.join(cwd, f"{name}.stderr")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [crawler_bin(), *self.args], cwd=cwd, env=crawler_env(),
                stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                process_group=0)
        self.pid = self.proc.pid

    def wait(self, timeout: float = CRAWL_TIMEOUT_S) -> int:
        """Waits for the crawler to exit and returns its exit code; kills it
        and fails the test after `timeout` seconds."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"crawler {self.args} still running after {timeout} s;"
                f" stderr ends with:\n{self.stderr_tail()}") from None

    def signal(self, sig: int) -> None:
        """Sends `sig` to the coordinator alone."""
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILLs the coordinator and everything in its process group
        (its children, even once orphaned), and reaps the coordinator."""
        kill_pids([self.pid])
        kill_pids(pids_where("pgrp", self.pid))
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def children(self, name: str) -> list:
        """The coordinator's live children named `name` (crawler-fetch,
        crawler-parse)."""
        return children_named(self.pid, name)

    def stderr(self) -> str:
        """Everything the crawler wrote to stderr and stdout so far."""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_tail(self, n: int = STDERR_TAIL_LINES) -> str:
        return "\n".join(self.stderr().splitlines()[-n:])


# -- the database ------------------------------------------------------------

def open_db(path: str) -> sqlite3.Connection:
    """Opens the crawl database read-only."""
    if not os.path.exists(path):
        raise AssertionError(f"no database at {path}")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    db.execute("PRAGMA query_only = 1")
    return db


def integrity_check(path: str) -> str:
    """PRAGMA integrity_check of the database at `path` ("ok" when sound),
    run on a copy (with its -wal) so the original stays exactly as a killed
    crawler left it."""
    with tempfile.TemporaryDirectory(prefix="crawler-icheck-") as tmp:
        copy = os.path.join(tmp, "copy.db")
        shutil.copyfile(path, copy)
        if os.path.exists(path + "-wal"):
            shutil.copyfile(path + "-wal", copy + "-wal")
        db = sqlite3.connect(copy)
        try:
            rows = db.execute("PRAGMA integrity_check").fetchall()
        finally:
            db.close()
    return "\n".join(str(r[0]) for r in rows)


def urls_in_state(db, state: int) -> set:
    """The URLs in `state` (DONE, SKIPPED, ...)."""
    return {r[0] for r in db.execute(
        "SELECT url FROM urls WHERE state = ?", (state,))}


def url_rows(db) -> dict:
    """URL -> (state, reason, depth) for every URL the crawl has seen."""
    return {r[0]: (r[1], r[2], r[3]) for r in db.execute(
        "SELECT url, state, reason, depth FROM urls")}


def fetch_counts(db, status: Optional[int] = None) -> dict:
    """URL -> number of pages rows (fetch results) it has, counting only
    rows with `status` when given."""
    sql = ("SELECT u.url, count(*) FROM pages p JOIN urls u"
           " ON u.id = p.url_id")
    params = ()
    if status is not None:
        sql += " WHERE p.status = ?"
        params = (status,)
    return dict(db.execute(sql + " GROUP BY u.url", params).fetchall())


def statuses(db) -> dict:
    """URL -> sorted list of the HTTP statuses of its pages rows."""
    result = {}
    for url, status in db.execute(
            "SELECT u.url, p.status FROM pages p JOIN urls u"
            " ON u.id = p.url_id"):
        result.setdefault(url, []).append(status)
    return {u: sorted(s) for u, s in result.items()}


def n_pages_rows(db) -> int:
    """The number of pages rows (fetch results)."""
    return db.execute("SELECT count(*) FROM pages").fetchone()[0]


def edges(db, nofollow: Optional[bool] = None) -> set:
    """(from URL, to URL) of every recorded link whose target is in urls;
    only nofollow (or only followable) links when `nofollow` is given."""
    sql = ("SELECT f.url, t.url FROM links l"
           " JOIN urls f ON f.id = l.from_id"
           " JOIN urls t ON t.hash = l.to_hash")
    params = ()
    if nofollow is not None:
        sql += " WHERE l.nofollow = ?"
        params = (1 if nofollow else 0,)
    return set(db.execute(sql, params).fetchall())


# -- server log --------------------------------------------------------------

def request_counts(web: TestWeb, include_robots: bool = False,
                   since: int = 0) -> dict:
    """URL -> number of requests the server received for it (from request
    number `since` on)."""
    counts = {}
    for r in web.log.entries()[since:]:
        if include_robots or r.path != "/robots.txt":
            counts[r.url] = counts.get(r.url, 0) + 1
    return counts


# -- the TestCase base -------------------------------------------------------

class CrawlerTestCase(unittest.TestCase):
    """A TestCase with a temporary directory (`self.tmp`, holding
    seeds.txt and crawl.db), and helpers whose servers and crawlers are
    stopped when the case ends."""

    def setUp(self):
        crawler_bin()  # no binary: every case fails, none is skipped
        tmp = tempfile.TemporaryDirectory(prefix="crawler-it-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.db_path = os.path.join(self.tmp, "crawl.db")
        self._n_crawlers = 0

    def start_web(self, n_hosts: int = 1) -> TestWeb:
        """Starts a TestWeb of `n_hosts` hosts, stopped when the case
        ends."""
        web = TestWeb(n_hosts)
        web.start()
        self.addCleanup(web.stop)
        return web

    def write_seeds(self, urls, name: str = "seeds.txt") -> str:
        """Writes `urls`, one a line, to `name` in the temp dir; returns
        its path."""
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("".join(u + "\n" for u in urls))
        return path

    def crawl_args(self, *extra, db: str = "crawl.db") -> list:
        """`crawl seeds.txt --db DB --delay 0` plus `extra`."""
        return ["crawl", "seeds.txt", "--db", db, "--delay", "0",
                *map(str, extra)]

    def spawn(self, args: list) -> Crawler:
        """Starts the crawler with `args` in the temp dir; it is killed (if
        still running) when the case ends, and the tail of its stderr is
        printed (the runner shows it when the case fails)."""
        self._n_crawlers += 1
        crawler = Crawler(args, self.tmp, f"crawler{self._n_crawlers}")
        self.addCleanup(self._finish_crawler, crawler)
        return crawler

    def run_crawler(self, args: list,
                    timeout: float = CRAWL_TIMEOUT_S) -> Crawler:
        """Runs the crawler with `args` to its end; returns the finished
        Crawler (exit code in .proc.returncode, output in .stderr())."""
        crawler = self.spawn(args)
        crawler.wait(timeout)
        return crawler

    def crawl_ok(self, *extra, db: str = "crawl.db",
                 timeout: float = CRAWL_TIMEOUT_S) -> Crawler:
        """Runs `crawl_args(*extra, db=db)` to its end and asserts it
        exited 0."""
        crawler = self.run_crawler(self.crawl_args(*extra, db=db), timeout)
        self.assertEqual(crawler.proc.returncode, 0,
                         f"crawler {crawler.args} exit code; stderr ends"
                         f" with:\n{crawler.stderr_tail()}")
        return crawler

    def db(self, name: str = "crawl.db") -> sqlite3.Connection:
        """A crawl database in the temp dir, read-only, closed when the
        case ends."""
        db = open_db(os.path.join(self.tmp, name))
        self.addCleanup(db.close)
        return db

    def assertSameSet(self, expected, actual, what: str):
        """Asserts two sets are equal, printing the sizes and a sample of
        what is missing and what is extra."""
        expected, actual = set(expected), set(actual)
        if expected == actual:
            return
        missing = sorted(expected - actual)
        extra = sorted(actual - expected)
        self.fail(f"{what}: expected {len(expected)}, got {len(actual)};"
                  f" {len(missing)} missing, e.g. {missing[:10]};"
                  f" {len(extra)} unexpected, e.g. {extra[:10]}")

    def assertSubset(self, expected, actual, what: str):
        """Asserts every item of `expected` is in `actual`."""
        missing = sorted(set(expected) - set(actual))
        if missing:
            self.fail(f"{what}: {len(missing)} of {len(set(expected))}"
                      f" missing, e.g. {missing[:10]}")

    def _finish_crawler(self, crawler: Crawler):
        if crawler.proc.poll() is None:
            print(f"killing crawler still running: {crawler.args}",
                  file=sys.stderr)
        crawler.kill()  # also any orphaned child left in its group
        print(f"--- crawler {crawler.args} exit {crawler.proc.returncode},"
              f" stderr tail:\n{crawler.stderr_tail()}\n---",
              file=sys.stderr)


# -- more: rows as dicts, memory of processes --------------------------------

def url_row(db, url: str) -> Optional[dict]:
    """The urls row of `url` as a dict by column name, or None."""
    cur = db.execute("SELECT * FROM urls WHERE url = ?", (url,))
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row))


def page_rows(db, url: str) -> list:
    """The pages rows (fetch results) of `url`, oldest first, each a dict
    by column name."""
    cur = db.execute("SELECT p.* FROM pages p JOIN urls u ON u.id = p.url_id"
                     " WHERE u.url = ? ORDER BY p.id", (url,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur]


def rss_bytes(pid: int) -> int:
    """The resident set size of `pid` in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def html_page(title: str, hrefs=(), head: str = "", body: str = "") -> str:
    """An HTML page titled `title` linking to each of `hrefs`, with extra
    `head` and `body` markup."""
    links = "".join(f'<p><a href="{h}">link {n}</a></p>\n'
                    for n, h in enumerate(hrefs))
    return (f"<!DOCTYPE html>\n<html><head><title>{title}</title>{head}"
            f"</head>\n<body><h1>{title}</h1>\n{links}{body}</body></html>\n")
