"""Failures around the crawl (issue 4): a disk that fills up during a
crawl and a database locked by another process (each ends with a clear
error, a database that passes integrity_check, and a resume that completes
the crawl), and a document that stalls the parser."""

import os
import resource
import signal
import sqlite3
import subprocess

from helpers import (DONE, CrawlerTestCase, crawler_bin, crawler_env,
                     integrity_check, urls_in_state, wait_until)
from server import Response
from sitegen import make_site

FILE_LIMIT_BYTES = 256 << 10  # the "disk": 256 KiB per file


def limit_file_size():
    """In the crawler: files cannot grow past FILE_LIMIT_BYTES, and going
    over is an error (EFBIG), not a SIGXFSZ kill."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE,
                       (FILE_LIMIT_BYTES, FILE_LIMIT_BYTES))


class StorageTest(CrawlerTestCase):

    def site(self):
        web = self.start_web(2)
        site = make_site([web.origin(h) for h in range(2)], pages=400)
        web.mount(site.handler())
        self.write_seeds(site.seeds)
        return site

    def test_disk_full_then_resume(self):
        site = self.site()
        proc = subprocess.run(
            [crawler_bin(), *self.crawl_args()], cwd=self.tmp,
            env=crawler_env(), preexec_fn=limit_file_size,
            capture_output=True, text=True, timeout=120)
        self.assertNotEqual(proc.returncode, 0,
                            "a crawl that cannot write must fail")
        errors = [line for line in proc.stderr.splitlines()
                  if " error " in line]
        self.assertTrue(errors, proc.stderr[-2000:])
        self.assertRegex(errors[0], "full|too large|disk|I/O",
                         proc.stderr[-2000:])
        self.assertIn("db=crawl.db", errors[0])
        # the summary does not pass the fetches off as stored
        self.assertIn("the database could not be written", proc.stderr)
        self.assertEqual(integrity_check(os.path.join(self.tmp, "crawl.db")), "ok")
        self.crawl_ok()
        self.assertEqual(integrity_check(os.path.join(self.tmp, "crawl.db")), "ok")
        self.assertSameSet(site.pages | site.missing,
                           urls_in_state(self.db(), DONE), "done URLs")

    def test_locked_database_then_resume(self):
        site = self.site()
        self.crawl_ok("--max-pages", 5)
        holder = sqlite3.connect(os.path.join(self.tmp, "crawl.db"), timeout=1)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            crawler = self.run_crawler(self.crawl_args(), 60)
            self.assertNotEqual(crawler.proc.returncode, 0)
            self.assertIn("locked", crawler.stderr())
        finally:
            holder.rollback()
            holder.close()
        self.assertEqual(integrity_check(os.path.join(self.tmp, "crawl.db")), "ok")
        self.crawl_ok()
        self.assertSameSet(site.pages | site.missing,
                           urls_in_state(self.db(), DONE), "done URLs")

    def test_one_writer_by_any_name(self):
        """A second crawl of a database that a crawl is writing is refused
        under any name of the file: SQLite keeps one log per name, so two
        writers through a hard link would each keep their own, and one
        crawl's work would be lost."""
        self.site()
        first = self.spawn(self.crawl_args("--delay", "5"))
        db = os.path.join(self.tmp, "crawl.db")
        wait_until(lambda: os.path.exists(db + "-wal"), 30,
                   "the first crawl has its database open")
        os.link(db, os.path.join(self.tmp, "hard.db"))
        os.symlink("crawl.db", os.path.join(self.tmp, "soft.db"))
        for name in ("crawl.db", "hard.db", "soft.db"):
            second = self.run_crawler(self.crawl_args(db=name), 60)
            self.assertEqual(second.proc.returncode, 1, name)
            self.assertIn("another crawl is already writing", second.stderr(),
                          name)
        self.assertFalse(os.path.exists(db + "-lock"))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "hard.db-wal")))
        first.signal(signal.SIGTERM)
        self.assertEqual(first.wait(60), 0, first.stderr_tail())
        self.assertEqual(integrity_check(db), "ok")


class ParserStallTest(CrawlerTestCase):
    """A document that keeps a parser busy past --parse-timeout: the parser
    is killed and replaced, the document is tried --max-attempts times and
    then failed as a quarantined document, and the rest of the crawl goes
    on."""

    def test_stalling_document_is_quarantined(self):
        web = self.start_web(1)
        u = web.url
        # One tag with 80,000 attributes: libxml2 checks them for
        # duplicates in quadratic time (about 6 s on this machine).
        attrs = " ".join(f'a{i}="x"' for i in range(80000))
        web.script("/", Response(body='<a href="/slow">s</a>'
                                      '<a href="/ok">o</a>'))
        web.script("/slow", Response(body=f"<div {attrs}>x</div>"))
        web.script("/ok", Response(body="<p>fine</p>"))
        self.write_seeds([u("/")])
        crawler = self.crawl_ok("--parse-timeout", 1, timeout=60)
        db = self.db()
        state, reason, attempts = db.execute(
            "SELECT state, reason, attempts FROM urls WHERE url = ?",
            (u("/slow"),)).fetchone()
        self.assertEqual((state, reason, attempts),
                         (3, "crashed or stalled the parser", 3))
        self.assertEqual(db.execute(
            "SELECT state FROM urls WHERE url = ?", (u("/ok"),)).fetchone(),
            (DONE,))
        self.assertIn("parser stalled", crawler.stderr())

    def test_documents_behind_a_stalling_one_count_no_attempt(self):
        """With one parser, the pages fetched while it is stuck wait in its
        socket; each time it is replaced they are fetched again, but only
        the document it was stuck on counts attempts."""
        web = self.start_web(1)
        u = web.url
        attrs = " ".join(f'a{i}="x"' for i in range(80000))
        ok = [f"/ok{i}" for i in range(20)]
        web.script("/", Response(body='<a href="/slow">s</a>' + "".join(
            f'<a href="{p}">o</a>' for p in ok)))
        web.script("/slow", Response(body=f"<div {attrs}>x</div>"))
        for p in ok:
            web.script(p, Response(body="<p>fine</p>"))
        self.write_seeds([u("/")])
        self.crawl_ok("--parse-timeout", 1, "--parsers", 1, timeout=60)
        db = self.db()
        self.assertEqual(db.execute(
            "SELECT state, attempts FROM urls WHERE url = ?",
            (u("/slow"),)).fetchone(), (3, 3))
        self.assertEqual(db.execute(
            "SELECT state, attempts, count(*) FROM urls WHERE url LIKE ?"
            " GROUP BY state, attempts", (u("/ok") + "%",)).fetchall(),
            [(DONE, 0, len(ok))])
