"""`crawler explain URL` (issue 3, decision provenance): for one URL,
whether it was fetched and, if not, why, and from which page it was first
discovered."""

import subprocess

from helpers import CrawlerTestCase, crawler_bin, crawler_env
from server import Response


def page(hrefs) -> Response:
    links = "".join(f'<a href="{h}">x</a>\n' for h in hrefs)
    return Response(body=f"<html><body>{links}</body></html>")


class ExplainTest(CrawlerTestCase):

    def explain(self, url: str):
        """Runs explain; returns (exit code, {field: value}, stdout, stderr)
        for the URL block (lines before the first fetch)."""
        proc = subprocess.run(
            [crawler_bin(), "explain", "--db", "crawl.db", url],
            cwd=self.tmp, env=crawler_env(), capture_output=True, text=True,
            timeout=30)
        fields = {}
        for line in proc.stdout.splitlines():
            if not line or line.startswith(("fetch ", " ", "(")):
                break
            key, _, value = line.partition(" ")
            fields[key] = value.strip()
        return proc.returncode, fields, proc.stdout, proc.stderr

    def test_reasons_and_origin(self):
        web = self.start_web(1)
        u = web.url
        web.robots("User-agent: *\nDisallow: /private/\n")
        web.script("/", page(["/a", "/private/x", "mailto:a@b.example",
                              "http://127.0.0.9:9/elsewhere"]))
        web.script("/a", page([]))
        self.write_seeds([u("/")])
        self.crawl_ok()

        rc, f, out, _ = self.explain(u("/private/x"))
        self.assertEqual(rc, 0, out)
        self.assertEqual(f["state"], "skipped", out)
        self.assertEqual(f["reason"], "robots: Disallow: /private/", out)
        self.assertEqual(f["found_on"], u("/"), out)
        self.assertIn("never fetched", out)

        rc, f, out, _ = self.explain("http://127.0.0.9:9/elsewhere")
        self.assertEqual((f["state"], f["reason"]), ("skipped", "scope"), out)

        rc, f, out, _ = self.explain("mailto:a@b.example")
        self.assertEqual((f["state"], f["reason"]), ("skipped", "scheme"),
                         out)

        rc, f, out, _ = self.explain(u("/a"))
        self.assertEqual(f["state"], "done", out)
        self.assertIn("fetch 1:", out)
        self.assertIn("status         200", out)

        rc, _, out, err = self.explain(u("/never-seen"))
        self.assertEqual(rc, 1)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("never discovered", err)

    def test_page_limit_is_told(self):
        web = self.start_web(1)
        u = web.url
        web.script("/", page(["/a", "/b", "/c"]))
        for p in ("/a", "/b", "/c"):
            web.script(p, page([]))
        self.write_seeds([u("/")])
        self.crawl_ok("--max-pages", 2)
        queued = [r[0] for r in self.db().execute(
            "SELECT url FROM urls WHERE state = 0")]
        self.assertEqual(len(queued), 2)
        _, f, out, _ = self.explain(queued[0])
        self.assertEqual(f["state"], "queued", out)
        self.assertIn("--max-pages reached", out)
