"""bench/parse_cost, the tool `make bench` uses for the CPU of the crawl's
parsing alone: it must parse every listed file the way the crawl does (the
links `crawler extract` prints), and refuse bad input with a clear error."""

import json
import os
import subprocess

from helpers import CrawlerTestCase, crawler_bin, crawler_env

BASE = "http://127.0.0.1:1"


def parse_cost_bin() -> str:
    return os.path.join(os.path.dirname(crawler_bin()), "parse_cost")


class ParseCostTest(CrawlerTestCase):

    def run_tool(self, args, listing: str):
        return subprocess.run([parse_cost_bin(), *args], cwd=self.tmp,
                              input=listing, env=crawler_env(),
                              capture_output=True, text=True, timeout=60)

    def write_site(self) -> dict:
        """Three pages in tmp/site; returns {path: body bytes}."""
        pages = {
            "/index.html": '<title>i</title><a href="a.html">a</a>'
                           '<a href="sub/b.html">b</a><a href="#top">t</a>',
            "/a.html": '<p>text <a href="/index.html">home</a>'
                       '<img src="p.png"></p>',
            "/sub/b.html": '<base href="/other/"><a href="c.html">c</a>'
                           '<a href="c.html">again</a>',
        }
        for path, body in pages.items():
            f = os.path.join(self.tmp, "site" + path)
            os.makedirs(os.path.dirname(f), exist_ok=True)
            with open(f, "w") as out:
                out.write(body)
        return pages

    def extract_count(self, path: str) -> int:
        proc = subprocess.run(
            [crawler_bin(), "extract", os.path.join(self.tmp, "site" + path),
             "--base", BASE + path],
            env=crawler_env(), capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return len(proc.stdout.splitlines())

    def test_parses_every_file_like_the_crawl(self):
        pages = self.write_site()
        proc = self.run_tool(["3", os.path.join(self.tmp, "site"), BASE],
                             "".join(p + "\n" for p in pages))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        r = json.loads(proc.stdout)
        self.assertEqual(r["files"], 3, r)
        self.assertEqual(r["bytes"], sum(len(b) for b in pages.values()), r)
        self.assertEqual(r["passes"], 3, r)
        expected = sum(self.extract_count(p) for p in pages)
        self.assertGreaterEqual(expected, 5)
        self.assertEqual(r["links"], expected, r)
        self.assertGreaterEqual(r["cpu_s"], 0, r)
        self.assertLessEqual(r["cpu_s_min"], r["cpu_s"], r)

    def test_bad_input(self):
        self.write_site()
        site = os.path.join(self.tmp, "site")
        proc = self.run_tool(["3", site, BASE], "/index.html\n/missing.html\n")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("missing.html", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertEqual(proc.stdout, "")

        proc = self.run_tool(["3", site, BASE], "")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("no file listed", proc.stderr)

        for passes in ("0", "x", "101"):
            proc = self.run_tool([passes, site, BASE], "/index.html\n")
            self.assertEqual(proc.returncode, 2, (passes, proc.stderr))
            self.assertIn("PASSES", proc.stderr)
