#!/usr/bin/env python3
"""Medians of the raw per-run JSON of bench/run -> BENCH.md.

  report.py --raw DIR --out BENCH.md [--bin CRAWLER] [--redact TEXT=NAME ...]

DIR holds run.env and synthetic/, real/, ceiling/, scale/ (whatever was run).
BENCH.md has two generated sections, between "<!-- BEGIN bench/run: main -->"
and "<!-- END bench/run: main -->", and the same with "scale"; a section is
replaced only when DIR has data for it, and the text outside the markers is
kept, so a `--scale-only` run keeps the main tables and vice versa.
"""
import argparse
import glob
import json
import os
import platform
import re
import shlex
import statistics
import subprocess

PKGS = ["nginx", "wget2", "wrk", "postgresql-doc-15", "time", "libcurl4", "libsqlite3-0",
        "libxml2", "libpsl5"]
SEEDS_LONG = re.compile(r"( http://127\.0\.0\.1:18080/)( http://127\.0\.0\.[2-8]:18080/)+")


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=1):
    if v is None:
        return "-"
    return "{:,}".format(round(v)) if nd == 0 else "%.*f" % (nd, v)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:
        return ""


class Redactor:
    def __init__(self, pairs):
        self.pairs = sorted((p.split("=", 1) for p in pairs if "=" in p and p.split("=", 1)[0]),
                            key=lambda kv: -len(kv[0]))

    def __call__(self, s):
        for text, name in self.pairs:
            s = s.replace(text, name)
        return s


def load_runs(raw, corpus):
    """{tool key: [runs]} with tool key project / wget2-tmpfs / wget2 (disk)."""
    out = {}
    for f in sorted(glob.glob(os.path.join(raw, corpus, "*.json"))):
        r = json.load(open(f))
        if "tool" not in r:
            continue
        key = r["tool"] + ("-tmpfs" if r.get("out_fs") == "tmpfs" else "")
        r["_file"] = os.path.basename(f)
        m = re.search(r"-run(\d+)\.json$", f)   # peers.sh calls every run "1"
        if m:
            r["run"] = int(m.group(1))
        out.setdefault(key, []).append(r)
    return out


def role(r, name):
    return (r.get("rss_peak_mb") or {}).get(name)


def cpu_per_1000(r):
    if r.get("cpu_s") is None or not r.get("pages"):
        return None
    return 1000.0 * r["cpu_s"] / r["pages"]


def db_per_page(r):
    if not r.get("db_bytes") or not r.get("db_pages_rows"):
        return None
    return r["db_bytes"] / r["db_pages_rows"]


def db_per_html(r):
    if not r.get("db_bytes") or not r.get("pages"):
        return None
    return r["db_bytes"] / r["pages"]


def nruns(rs):
    bad = sum(1 for r in rs if r.get("contaminated"))
    cut = sum(1 for r in rs if r.get("stop_reason") == "time_limit")
    s = "%d" % len(rs)
    if bad:
        s += " (%d under other load)" % bad
    if cut:
        s += " (%d cut at TIME_LIMIT)" % cut
    return s


LABEL = {"project": "**crawler** (DB on disk)", "wget2-tmpfs": "wget2, 16 threads, tmpfs",
         "wget2": "wget2, 16 threads, disk"}


def crawl_table(runs, ceiling=None):
    hdr = ("| tool | pages | wall s | pages/s | pages/s min-max | CPU s / 1000 pages | CPU s "
           "| peak RSS MB: coordinator | fetcher | parser | largest process (time -v) "
           "| DB bytes / page | robots violations | foreign CPU s | CPU probe ms | runs |")
    out = [hdr, "|---|" + "---:|" * 15]
    for key in ("project", "wget2-tmpfs", "wget2"):
        rs = runs.get(key)
        if not rs:
            continue
        pps = [r["pages_per_s"] for r in rs if r.get("pages_per_s") is not None]
        viol = med(r.get("robots_violations") for r in rs)
        out.append("| %s | %s | %s | %s | %s-%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            LABEL[key], fmt(med(r["pages"] for r in rs), 0), fmt(med(r["wall_s"] for r in rs), 2),
            "**%s**" % fmt(med(pps), 0), fmt(min(pps), 0), fmt(max(pps), 0),
            fmt(med(cpu_per_1000(r) for r in rs), 2), fmt(med(r.get("cpu_s") for r in rs), 2),
            fmt(med(role(r, "coordinator") for r in rs)), fmt(med(role(r, "fetcher") for r in rs)),
            fmt(med(role(r, "parser") for r in rs)), fmt(med(r.get("max_rss_mb") for r in rs)),
            fmt(med(db_per_page(r) for r in rs), 0), fmt(viol, 0) if viol is not None else "n/a",
            fmt(med(r.get("foreign_cpu_s") for r in rs), 2),
            fmt(med(r.get("cpu_probe_ms") for r in rs), 0), nruns(rs)))
    return "\n".join(out) + "\n"


def check_table(rs):
    out = ["| run | nginx: HTML 200 | DB: HTML 200 rows | nginx: requests - robots.txt "
           "| DB: pages rows | DB: status 0 | CPU s (time -v) | CPU s (sampled, per role) "
           "| DB MB | start s | end s | stop |",
           "|---|" + "---:|" * 10 + "---|"]
    for r in rs:
        roles = r.get("role_cpu_s_sampled") or {}
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r.get("run"), fmt(r.get("pages"), 0), fmt(r.get("db_html_200"), 0),
            fmt(r["requests"] - r.get("robots_requests", 0), 0), fmt(r.get("db_pages_rows"), 0),
            fmt(r.get("db_status_0"), 0), fmt(r.get("cpu_s"), 2),
            "%s = %s" % (fmt(sum(roles.values()), 2),
                         " + ".join("%s %s" % (k, fmt(v, 2)) for k, v in sorted(roles.items()))),
            fmt((r.get("db_bytes") or 0) / 1e6), fmt(r.get("start_s"), 2),
            fmt(r.get("tail_s"), 2), r.get("stop_reason")))
    return "\n".join(out) + "\n"


def observations(runs_by_corpus):
    notes = []
    for corpus, runs in runs_by_corpus.items():
        for key, rs in runs.items():
            for r in rs:
                tag = "%s %s run %s" % (corpus, key, r.get("run"))
                if r.get("robots_violations"):
                    notes.append("%s: **%d robots.txt violations**, e.g. %s" % (
                        tag, r["robots_violations"], ", ".join(r.get("robots_violation_samples", []))))
                if r.get("contaminated"):
                    notes.append("%s: other processes used %.2f CPU-s during the run (%s); kept "
                                 "as the least-loaded attempt" % (tag, r["foreign_cpu_s"],
                                                                  ", ".join(r.get("foreign_top", []))))
                if r.get("stop_reason") == "time_limit":
                    notes.append("%s: cut at TIME_LIMIT" % tag)
                if key == "project":
                    if r.get("db_html_200") is not None and r["db_html_200"] != r["pages"]:
                        notes.append("%s: nginx counted %d HTML pages, the database has %d "
                                     "HTML/200 rows" % (tag, r["pages"], r["db_html_200"]))
                    nreq = r["requests"] - r.get("robots_requests", 0)
                    if r.get("db_pages_rows") is not None and r["db_pages_rows"] != nreq:
                        notes.append("%s: nginx served %d non-robots.txt responses, the database "
                                     "has %d pages rows" % (tag, nreq, r["db_pages_rows"]))
                    if r.get("exit_code") not in (0, None):
                        notes.append("%s: crawler exit code %s" % (tag, r.get("exit_code")))
    return notes


def machine(env, binpath):
    model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    mem = sh("awk '/MemTotal/ {printf \"%.0f GiB\", $2/1048576}' /proc/meminfo")
    deb = sh(". /etc/os-release && echo \"$PRETTY_NAME\"")
    pk = sh("dpkg-query -W -f='${Package} ${Version}\\n' %s 2>/dev/null" % " ".join(PKGS))
    py = sh("python3 -c 'import platform; print(platform.python_version())'")
    return "\n".join([
        "- `nproc`: **%s**; CPU: %s; RAM: %s" % (sh("nproc") or os.cpu_count(), model or "?", mem),
        "- OS: %s; kernel `%s`" % (deb, platform.release()),
        "- packages: " + ", ".join("`%s`" % ln for ln in pk.splitlines()) + "; python3 %s" % py,
        "- crawler: commit `%s`, binary sha256 `%s...` (`make` default `CFLAGS=-O2 -g`)" % (
            env.get("git", "?"), env.get("bin_sha256", "?")),
        "- network: %s" % ("a loopback-only network namespace (`%s`), nginx and every client "
                           "inside it" % env["BENCH_NETNS"] if env.get("BENCH_NETNS")
                           else "the host's loopback (127.0.0.0/8), every URL a literal 127.x address"),
        "- nginx, the crawlers and the harness share the same cores; runs are sequential",
    ])


def cmd_of(r, red):
    if r.get("crawler_argv"):
        argv = list(r["crawler_argv"])
        s = shlex.join(argv)
    else:
        s = r.get("cmd", "")
    s = red(s)
    if r.get("out_fs") == "tmpfs":      # peers.sh names its output dir $BENCH_OUT either way
        s = s.replace("$BENCH_OUT", "$SHM_OUT")
    if r.get("corpus") == "real":       # peers.sh's host list is just 127.0.0.1 there
        s = s.replace("$HOSTS", "127.0.0.1")
    return SEEDS_LONG.sub(r"\1 ...127.0.0.8:18080/", s)


def ratio_line(syn):
    p, t, d = syn.get("project"), syn.get("wget2-tmpfs"), syn.get("wget2")
    if not p or not t:
        return ""
    mp = med(r["pages_per_s"] for r in p)
    mt = med(r["pages_per_s"] for r in t)
    pairs = [a["pages_per_s"] / b["pages_per_s"] for a, b in zip(
        sorted(p, key=lambda r: r["run"]), sorted(t, key=lambda r: r["run"])) if b["pages_per_s"]]
    # Each crawler run is paired with the wget2 run that follows it: the
    # median of those ratios is less moved by the machine's slow stretches.
    s = ("**Ratio: crawler %s pages/s / wget2 (tmpfs) %s pages/s = %.2f** (run by run: %s; "
         "their median %.2f)" % (fmt(mp, 0), fmt(mt, 0), mp / mt,
                                 ", ".join("%.2f" % x for x in pairs), med(pairs)))
    if d:
        md = med(r["pages_per_s"] for r in d)
        s += "; against wget2 saving to the disk (%s pages/s): %.2f" % (fmt(md, 0), mp / md)
    return s + "."


def main_section(raw, env, red, binpath):
    syn = load_runs(raw, "synthetic")
    real = load_runs(raw, "real")
    if not syn and not real:
        return None
    ceil = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(raw, "ceiling", "*.json")))]
    budget = env.get("BUDGET")
    p = ["_Generated by `bench/run` on %s; do not edit between the markers._" % env.get("started_at"),
         "", "### Machine", "", machine(env, binpath), "", "### Commands", "", "```sh"]
    knobs = "BUDGET=%s RUNS=%s" % (budget, env.get("RUNS"))
    if env.get("CRAWLER_ARGS"):
        knobs += " CRAWLER_ARGS=%s" % shlex.quote(env["CRAWLER_ARGS"])
    if env.get("REAL_CRAWLER_ARGS"):
        knobs += " REAL_CRAWLER_ARGS=%s" % shlex.quote(env["REAL_CRAWLER_ARGS"])
    p.append("%s make bench        # = bench/run build/crawler; QUIET_MAX_WAIT=%s TIME_LIMIT=%s"
             % (knobs, env.get("QUIET_MAX_WAIT"), env.get("TIME_LIMIT")))
    p.append("```")
    p += ["", "Each run goes through the shared harness `../shared/bench/lib/run_measured.py` "
          "(crawler: via `bench/measure.py`, which adds the per-role RSS sampler and the database "
          "figures; wget2: via `../shared/bench/peers.sh wget2`). The commands, as run "
          "(`$HOSTS` = 127.0.0.1,...,127.0.0.64; `$BENCH_TMP` = `${TMPDIR:-/tmp}/crawler-bench`, "
          "`$BENCH_OUT` = `$BENCH_TMP/out` on the disk, `$SHM_OUT` = `/dev/shm/crawler-bench-out` "
          "on tmpfs):", ""]
    for corpus, runs in (("synthetic", syn), ("real", real)):
        for key in ("project", "wget2-tmpfs", "wget2"):
            if runs.get(key):
                p.append("- %s, %s: `%s`" % (LABEL[key].replace("**", ""), corpus,
                                            cmd_of(runs[key][0], red).replace("|", "\\|")))
    p.append("")
    if syn:
        p += ["### Synthetic web: budget %s, seeds on 8 hosts, 64 hosts" % budget, ""]
        p.append(crawl_table(syn))
        rl = ratio_line(syn)
        if rl:
            p += [rl, ""]
        if ceil:
            c = med(r["requests_per_s"] for r in ceil)
            mp = med(r["pages_per_s"] for r in syn.get("project", [])) or 0
            mt = med(r["pages_per_s"] for r in syn.get("wget2-tmpfs", [])) or 0
            p += ["Ceiling (wrk, 1 thread x 64 connections, same nginx, %d runs): **%s pages/s**; "
                  "crawler at %.1f%%, wget2 (tmpfs) at %.1f%% of it." % (
                      len(ceil), fmt(c, 0), 100 * mp / c, 100 * mt / c), ""]
        p += ["- pages: HTML responses with status 200 counted in nginx's access log, the same "
              "way for every tool; pages/s = pages / wall time (spawn to exit).",
              "- The crawler stops by itself after `--max-pages %s` fetches (every fetched URL "
              "counts: HTML, PDF, PNG, CSS and the deliberate 404s), so it serves fewer HTML "
              "pages than the budget; wget2 has no such limit and is stopped (SIGTERM) by the "
              "harness once nginx has served %s pages." % (budget, budget),
              "- CPU s: user + system of every process of the tool (`/usr/bin/time -v`; the "
              "coordinator reaps its children, so their time is included).",
              "- Peak RSS per role: largest VmHWM of the processes of that role, sampled every "
              "100 ms (several parsers: the largest one). \"largest process\" is time -v's "
              "maximum resident set size.",
              "- DB bytes / page: size of the database (with its WAL) after the crawl divided by "
              "its `pages` rows (fetches of every type); per HTML page counted by nginx: %s bytes."
              % fmt(med(db_per_html(r) for r in syn.get("project", [])), 0),
              "- foreign CPU s: CPU used by other processes on the machine during the run "
              "(harness figure); CPU probe ms: the harness's fixed Python loop before each run "
              "(lower = faster CPU at that moment).", ""]
        if syn.get("project"):
            p += ["Checks, crawler runs (nginx's count against the crawler's database; start: "
                  "seconds from the crawler's start to the first response in nginx's log, end: "
                  "from the last response to its exit, seen to 0.1 s; wget2 is stopped at the "
                  "budget and has neither):", "",
                  check_table(sorted(syn["project"], key=lambda r: r["run"]))]
    if real:
        nfiles = env.get("real_html_files")
        p += ["### Real site: postgresql-doc-15 HTML manual, whole site from index.html", ""]
        p += ["| tool | pages | distinct pages | of the %s .html files | wall s | wall s min-max "
              "| pages/s | CPU s | peak RSS MB (coordinator / largest process) | DB bytes / page "
              "| foreign CPU s | runs |" % (nfiles or "?"),
              "|---|" + "---:|" * 11]
        for key in ("project", "wget2-tmpfs", "wget2"):
            rs = real.get(key)
            if not rs:
                continue
            walls = [r["wall_s"] for r in rs]
            uniq = med(r["unique_pages"] for r in rs)
            allf = ("all" if nfiles and min(r["unique_pages"] for r in rs) >= int(nfiles)
                    else "%s-%s" % (min(r["unique_pages"] for r in rs), max(r["unique_pages"] for r in rs)))
            p.append("| %s | %s | %s | %s | %s | %s-%s | %s | %s | %s / %s | %s | %s | %s |" % (
                LABEL[key], fmt(med(r["pages"] for r in rs), 0), fmt(uniq, 0), allf,
                "**%s**" % fmt(med(walls), 2), fmt(min(walls), 2), fmt(max(walls), 2),
                fmt(med(r["pages_per_s"] for r in rs), 0), fmt(med(r.get("cpu_s") for r in rs), 2),
                fmt(med(role(r, "coordinator") for r in rs)), fmt(med(r.get("max_rss_mb") for r in rs)),
                fmt(med(db_per_page(r) for r in rs), 0),
                fmt(med(r.get("foreign_cpu_s") for r in rs), 2), nruns(rs)))
        p.append("")
        if real.get("project") and real.get("wget2-tmpfs"):
            a = med(r["wall_s"] for r in real["project"])
            b = med(r["wall_s"] for r in real["wget2-tmpfs"])
            p += ["Wall time, crawler / wget2 (tmpfs): %.2f s / %.2f s = %.2f." % (a, b, a / b), ""]
        pc = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(raw, "real", "parse-cost-run*.json")))]
        if pc:
            cpu = med(r["cpu_s"] for r in pc)
            s = ("Parsing alone (`build/parse_cost 5 DIR http://127.0.0.1:PORT < paths-real.txt`: "
                 "html_extract over the %s files, %s MB, read into memory first; no fetch, no "
                 "messages, no database; the median of %d runs, each the median of %d passes): "
                 "**%.3f s** of CPU"
                 % (fmt(pc[0]["files"], 0), fmt(pc[0]["bytes"] / 1e6), len(pc), pc[0]["passes"], cpu))
            parts = []
            for key, what in (("project", "the crawler's whole crawl"),
                              ("wget2-tmpfs", "wget2's (tmpfs) whole crawl")):
                c = med(r.get("cpu_s") for r in real.get(key, []))
                if c:
                    parts.append("%.0f%% of %s (%.2f s)" % (100 * cpu / c, what, c))
            p += [s + ("; " + ", ".join(parts) if parts else "") + ".", ""]
    notes = observations({"synthetic": syn, "real": real})
    p += ["### Anomalies seen by the script", ""]
    p += ["- " + n for n in notes] if notes else ["- none: no robots.txt violation, every nginx "
                                                  "count matches the database, no run under "
                                                  "other load or cut at the time limit"]
    return "\n".join(p).rstrip() + "\n"


def scale_section(raw, env, main_raw_syn):
    builds = {}
    for f in glob.glob(os.path.join(raw, "scale", "build-*.json")):
        b = json.load(open(f))
        builds[b["n"]] = b
    runs = {}
    for f in glob.glob(os.path.join(raw, "scale", "scale-*-run*.json")):
        n = int(re.search(r"scale-(\d+)-run", f).group(1))
        runs.setdefault(n, []).append(json.load(open(f)))
    if not runs:
        return None
    p = ["_Generated by `bench/run --scale` on %s; do not edit between the markers._"
         % env.get("started_at"), "",
         "```sh",
         "SCALE_PAGES=%s SCALE_RUNS=%s make bench SCALE=1      # or: bench/run --scale-only"
         % (env.get("SCALE_PAGES"), env.get("SCALE_RUNS")),
         "```", "",
         "For each size N: a tiny crawl (`--max-pages 1`) creates the database, `bench/prefill.py` "
         "inserts N queued URLs `http://127.0.0.H:18080/s/K/` (H = 1..64, round robin; every path "
         "of the synthetic web is a page, and no robots.txt disallows /s/) with the crawler's own "
         "hash (FNV-1a 64 + finalizer, reimplemented from `crawler/hash.c` and checked against the "
         "rows the crawler wrote) into the recent part of the URL-seen index, `crawler index` "
         "settles them as a growing crawl would. Then, in rounds over the sizes (so that the "
         "machine's drifts in speed fall on every size alike), a copy of the base is synced to the "
         "disk and the crawl is resumed on it with `--max-pages <finished + %s>` "
         "under the same harness. Wall time includes start-up on the big database; \"fetching "
         "span\" is first to last response in nginx's log, \"start\" the seconds from the "
         "crawler's start to the first response, \"end\" from the last response to its exit "
         "(seen to 0.1 s)." % env.get("SCALE_PAGES"), "",
         "| frontier URLs | build s | DB MB before | pages | wall s | start s | end s | pages/s "
         "| pages/s over the "
         "fetching span | CPU s / 1000 pages | peak RSS MB: coordinator | fetcher | parser "
         "| foreign CPU s | runs |",
         "|---:|" + "---:|" * 14]
    fresh = main_raw_syn.get("project") if main_raw_syn else None
    if fresh:
        p.append("| fresh crawl (main table, budget %s) | - | 0 | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
            fresh[0].get("budget"), fmt(med(r["pages"] for r in fresh), 0),
            fmt(med(r["wall_s"] for r in fresh), 2),
            fmt(med(r.get("start_s") for r in fresh), 2), fmt(med(r.get("tail_s") for r in fresh), 2),
            fmt(med(r["pages_per_s"] for r in fresh), 0),
            fmt(med(r["pages"] / r["log_span_s"] for r in fresh if r.get("log_span_s")), 0),
            fmt(med(cpu_per_1000(r) for r in fresh), 2),
            fmt(med(role(r, "coordinator") for r in fresh)), fmt(med(role(r, "fetcher") for r in fresh)),
            fmt(med(role(r, "parser") for r in fresh)),
            fmt(med(r.get("foreign_cpu_s") for r in fresh), 2), len(fresh)))
    for n in sorted(runs):
        rs, b = runs[n], builds.get(n, {})
        p.append("| %s | %s | %s | %s | %s | %s | %s | **%s** | %s | %s | **%s** | %s | %s | %s | %s |" % (
            fmt(b.get("queued", n), 0), fmt(b.get("build_s")), fmt((b.get("db_bytes") or 0) / 1e6, 0),
            fmt(med(r["pages"] for r in rs), 0), fmt(med(r["wall_s"] for r in rs), 2),
            fmt(med(r.get("start_s") for r in rs), 2), fmt(med(r.get("tail_s") for r in rs), 2),
            fmt(med(r["pages_per_s"] for r in rs), 0),
            fmt(med(r["pages"] / r["log_span_s"] for r in rs if r.get("log_span_s")), 0),
            fmt(med(cpu_per_1000(r) for r in rs), 2),
            fmt(med(role(r, "coordinator") for r in rs)), fmt(med(role(r, "fetcher") for r in rs)),
            fmt(med(role(r, "parser") for r in rs)),
            fmt(med(r.get("foreign_cpu_s") for r in rs), 2), nruns(rs)))
    p.append("")
    # resumed crawls: the database already held the tiny crawl's rows, so the
    # generic database checks do not apply; compare what the run added instead
    notes = [x for x in observations({"scale": {"project": [r for rs in runs.values() for r in rs]}})
             if "the database has" not in x]
    for n in sorted(runs):
        b = builds.get(n, {})
        for r in runs[n]:
            nreq = r["requests"] - r.get("robots_requests", 0)
            new = r.get("db_pages_rows_new")
            if new is not None and new != nreq:
                notes.append("frontier %d: nginx served %d non-robots.txt responses, the "
                             "database gained %d pages rows" % (n, nreq, new))
            if r.get("db_html_200") is not None and "html_200_rows" in b:
                newh = r["db_html_200"] - b["html_200_rows"]
                if newh != r["pages"]:
                    notes.append("frontier %d: nginx counted %d HTML pages, the database "
                                 "gained %d HTML/200 rows" % (n, r["pages"], newh))
    if notes:
        p += ["Anomalies:", ""] + ["- " + x for x in notes] + [""]
    return "\n".join(p).rstrip() + "\n"


SKELETON = """# Benchmark

`make bench` (script: `bench/run`) measures the crawler on the local synthetic
web of `../shared/bench` against GNU Wget2. The sections between the markers are
rewritten by each run; the rest of this file is kept.

## Results

<!-- BEGIN bench/run: main -->
<!-- END bench/run: main -->

## Scale: a big frontier

<!-- BEGIN bench/run: scale -->
Not measured yet: `make bench SCALE=1`.
<!-- END bench/run: scale -->
"""


def replace_section(doc, name, body):
    b, e = "<!-- BEGIN bench/run: %s -->" % name, "<!-- END bench/run: %s -->" % name
    if b not in doc or e not in doc:
        doc = doc.rstrip() + "\n\n%s\n%s\n" % (b, e)
    pre, rest = doc.split(b, 1)
    post = rest.split(e, 1)[1]
    return pre + b + "\n" + body + e + post


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bin", default="")
    ap.add_argument("--redact", action="append", default=[])
    ap.add_argument("--sections", default="main,scale",
                    help="which sections to rewrite (those this run measured)")
    a = ap.parse_args()
    env = {}
    try:
        for ln in open(os.path.join(a.raw, "run.env")):
            if "=" in ln:
                k, v = ln.rstrip("\n").split("=", 1)
                env[k] = v
    except OSError:
        pass
    red = Redactor(a.redact)
    doc = open(a.out).read() if os.path.exists(a.out) else SKELETON
    sections = a.sections.split(",")
    main_md = main_section(a.raw, env, red, a.bin) if "main" in sections else None
    if main_md:
        doc = replace_section(doc, "main", main_md)
    scale_md = scale_section(a.raw, env, load_runs(a.raw, "synthetic")) if "scale" in sections else None
    if scale_md:
        doc = replace_section(doc, "scale", scale_md)
    with open(a.out, "w") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
