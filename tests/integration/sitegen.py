"""A generated web site of known shape, and what a crawl of it must find.

`make_site(origins, ...)` builds, for every origin (one per TestWeb host),
the pages /p/0 .. /p/N-1. Page i links to its children in a tree rooted at
/p/0 (so every page is reachable from /p/0 of its host), and optionally to
its parent and to /p/0 (cycles), to random pages of its host, to random
pages of other hosts, to a missing page (404), each target written in one of
several equivalent forms (fragment, "./", "../", dot segments, absolute),
and the first one written twice. Page 0 of host 0 can also carry a mailto:
link, a javascript: link, and a rel=nofollow link to /hidden, a page that
nothing else links to.

The Site knows the answer: the normalized URLs a crawl must fetch (`pages`
for 200s, `missing` for 404s), the edges it must record (`edges`), and, for
crawls with limits, `reachable()` recomputes them from any seeds under any
URL filter and depth limit. URLs are written exactly as the crawler stores
them: "http://127.0.0.2:PORT/p/12".

Mount it on a TestWeb with `web.mount(site.handler(delay=...))`.
"""

import collections
import dataclasses
import html
import random
from typing import Callable, Optional

from server import Response

#: The nofollow-only page and the special hrefs on page 0 of host 0.
HIDDEN_PATH = "/hidden"
MAILTO_HREF = "mailto:webmaster@example.com"
JAVASCRIPT_HREF = "javascript:void(0)"


@dataclasses.dataclass
class Site:
    """A generated site: its bodies and the answers a crawl must match."""

    origins: list
    n_pages: int  # per host
    #: page URL -> normalized URLs of its followable http links, in order
    links: dict
    #: page URL -> normalized URLs of its rel=nofollow links
    nofollow_links: dict
    #: (host index, path) -> HTML body
    bodies: dict
    #: the hrefs that are not http(s) URLs (mailto:, javascript:)
    other_hrefs: list
    #: URL of the page linked only with rel=nofollow, or None
    hidden: Optional[str]

    # -- answers -----------------------------------------------------------

    @property
    def seeds(self) -> list:
        """The default seeds: /p/0 of every host."""
        return [self.page_url(h, 0) for h in range(len(self.origins))]

    def page_url(self, host: int, i: int) -> str:
        """The normalized URL of page i of host `host`."""
        return f"{self.origins[host]}/p/{i}"

    def reachable(self, seeds: Optional[list] = None,
                  allowed: Callable[[str], bool] = lambda url: True,
                  max_depth: int = 0) -> dict:
        """URL -> depth of every URL a crawl from `seeds` fetches, following
        followable links to URLs that `allowed` accepts, down to `max_depth`
        (0: unlimited). Depths are shortest-path; they are what a crawler
        stores when every URL has a single shortest path (a tree site).
        Includes the missing (404) URLs it reaches.
        """
        depth = {}
        queue = collections.deque()
        for url in self.seeds if seeds is None else seeds:
            if url not in depth and allowed(url):
                depth[url] = 0
                queue.append(url)
        while queue:
            url = queue.popleft()
            d = depth[url]
            if max_depth and d >= max_depth:
                continue
            for target in self.links.get(url, ()):
                if target not in depth and allowed(target):
                    depth[target] = d + 1
                    queue.append(target)
        return depth

    @property
    def pages(self) -> set:
        """The 200 pages an unlimited crawl from `seeds` fetches."""
        return {u for u in self.reachable() if u in self.links}

    @property
    def missing(self) -> set:
        """The 404 URLs an unlimited crawl from `seeds` fetches."""
        return {u for u in self.reachable() if u not in self.links}

    def edges_from(self, pages) -> set:
        """(from URL, to URL) for every followable link of `pages`."""
        return {(p, t) for p in pages for t in self.links.get(p, ())}

    @property
    def edges(self) -> set:
        """Every followable edge out of the pages an unlimited crawl
        fetches."""
        return self.edges_from(self.pages)

    def too_deep(self, max_depth: int, seeds: Optional[list] = None,
                 allowed: Callable[[str], bool] = lambda url: True) -> set:
        """The URLs one link beyond `max_depth`: found, but not fetched."""
        within = self.reachable(seeds, allowed, max_depth)
        return {t for u, d in within.items() if d == max_depth
                for t in self.links.get(u, ())
                if t not in within and allowed(t)}

    # -- serving -----------------------------------------------------------

    def handler(self, delay: float = 0.0):
        """A TestWeb handler serving the pages (and /hidden), each after
        `delay` seconds. Other paths fall through (to 404)."""
        def handle(host: int, path: str) -> Optional[Response]:
            body = self.bodies.get((host, path))
            if body is None:
                return None
            return Response(body=body, delay=delay)
        return handle


def make_site(origins: list, pages: int = 100, fanout: int = 2,
              back_links: bool = True, random_links: int = 2,
              cross_links: int = 1, missing_every: int = 0,
              variants: bool = True, duplicates: bool = True,
              specials: bool = True, seed: int = 1) -> Site:
    """Generates a Site over `origins` (see the module comment).

    pages          pages per host (/p/0 .. /p/pages-1)
    fanout         tree children per page
    back_links     link each page to its parent and to /p/0 (cycles)
    random_links   links per page to random pages of the same host
    cross_links    links per page to random pages of other hosts
    missing_every  every k-th page links to /missing/i, a 404 (0: none)
    variants       write hrefs in varied equivalent forms, not just /p/k
    duplicates     write the first link of each page twice
    specials       mailto:, javascript: and rel=nofollow links on page 0
                   of host 0, the last one to /hidden
    seed           the random generator's seed: same arguments, same site
    """
    if pages < 1 or fanout < 1:
        raise ValueError("pages and fanout must be positive")
    rng = random.Random(seed)
    n_hosts = len(origins)
    site = Site(origins=list(origins), n_pages=pages, links={},
                nofollow_links={}, bodies={}, other_hrefs=[], hidden=None)

    for h in range(n_hosts):
        for i in range(pages):
            url = site.page_url(h, i)
            hrefs = []  # (href, normalized target) in page order
            targets = [fanout * i + c for c in range(1, fanout + 1)]
            targets = [k for k in targets if k < pages]
            if back_links and i > 0:
                targets += [(i - 1) // fanout, 0]
            targets += [rng.randrange(pages) for _ in range(random_links)]
            for k in targets:
                hrefs.append(_same_host_href(rng, site, h, i, k, variants))
            if n_hosts > 1:
                for _ in range(cross_links):
                    other = rng.choice([x for x in range(n_hosts) if x != h])
                    k = rng.randrange(pages)
                    target = site.page_url(other, k)
                    href = target + ("#x" if variants and rng.random() < .3
                                     else "")
                    hrefs.append((href, target))
            if missing_every and i % missing_every == missing_every - 1:
                target = f"{origins[h]}/missing/{i}"
                hrefs.append((f"/missing/{i}", target))
            if duplicates and hrefs:
                first_target = hrefs[0][1]
                hrefs.append((_variant(rng, site, h, i, first_target, True)
                              if first_target.startswith(origins[h] + "/p/")
                              else hrefs[0]))
            extra = []
            nofollow = []
            if specials and h == 0 and i == 0:
                site.other_hrefs = [MAILTO_HREF, JAVASCRIPT_HREF]
                site.hidden = origins[0] + HIDDEN_PATH
                nofollow.append(site.hidden)
                extra = [f'<a href="{MAILTO_HREF}">mail</a>',
                         f'<a href="{JAVASCRIPT_HREF}">script</a>',
                         f'<a rel="nofollow" href="{HIDDEN_PATH}">hidden</a>']
            site.links[url] = [t for _, t in hrefs]
            site.nofollow_links[url] = nofollow
            site.bodies[(h, f"/p/{i}")] = _page_html(
                f"page {h}-{i}", [href for href, _ in hrefs], extra)
    if site.hidden is not None:
        site.bodies[(0, HIDDEN_PATH)] = _page_html("hidden", [], [])
    return site


def _same_host_href(rng, site, h, i, k, variants):
    """(href, normalized target) for a link from page i to page k of host
    h."""
    return _variant(rng, site, h, i, site.page_url(h, k), variants)


def _variant(rng, site, h, i, target, variants):
    """(href, target): `target` (a page of host h) written, from page i, in
    a randomly chosen form that normalizes back to `target`."""
    path = target[len(site.origins[h]):]  # "/p/k"
    k = path.rsplit("/", 1)[1]
    if not variants:
        return path, target
    forms = [
        path,  # /p/k
        target,  # http://127.0.0.2:PORT/p/k
        k,  # relative to /p/i
        f"./{k}",
        f"../p/{k}",
        f"/p/./{k}",
        f"/x/../p/{k}",
        f"{path}#top",
        f"{k}#s{i}",
        f"{target}#frag",
    ]
    return rng.choice(forms), target


def _page_html(title, hrefs, extra):
    """An HTML page titled `title` with one <a> per href, then `extra`."""
    items = "".join(f'<li><a href="{html.escape(h)}">link {n}</a></li>\n'
                    for n, h in enumerate(hrefs))
    more = "".join(f"<p>{e}</p>\n" for e in extra)
    return (f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)}"
            f"</title></head>\n<body><h1>{html.escape(title)}</h1>\n"
            f"<ul>\n{items}</ul>\n{more}</body></html>\n")
