#!/usr/bin/env python3
"""One measured crawl of this project's crawler, through the shared harness.

  measure.py --kit KIT_DIR [--db DB] [--sample-ms 100] -- run_measured.py ARGS...

Runs `KIT_DIR/lib/run_measured.py` (the harness every peer goes through: nginx
access-log page count, /usr/bin/time -v, budget stop, wait-for-idle gate,
foreign-CPU accounting, JSON) in this process, with two additions made to each
attempt of a run:

* a sampler thread that, every --sample-ms, walks the descendants of this
  process (/proc/PID/task/TID/children) and records per process role -- the
  coordinator `crawler`, the fetchers `crawler-fetch`, the parsers
  `crawler-parse` (their comm names) -- the largest VmHWM (peak RSS) and the
  last CPU ticks seen.  It runs inside the harness process, so the harness
  does not count its (tiny) CPU as "foreign" load;
* after the crawler has exited, the size of the crawl database (--db, plus its
  -wal) and a few counts read from it, to check the server-side page count;
* the fetching span (first to last response in nginx's log), and the seconds
  before it (start_s, from the coordinator's start time in /proc) and after
  it (tail_s, to the last sample that saw the coordinator alive).

The extra keys land in the same JSON the harness writes (--json).
"""
import argparse
import os
import sqlite3
import sys
import threading
import time

ROLES = {"crawler": "coordinator", "crawler-fetch": "fetcher", "crawler-parse": "parser"}
CLK = os.sysconf("SC_CLK_TCK")


def children(pid):
    """Direct children of pid, over all of its threads."""
    out = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            out.append(c)
            todo.append(c)
    return out


def read_status(pid):
    """(comm, VmHWM kB, VmRSS kB) or None when the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            txt = f.read()
    except OSError:
        return None
    comm, hwm, rss = "", 0, 0
    for ln in txt.splitlines():
        if ln.startswith("Name:"):
            comm = ln.split(None, 1)[1].strip() if len(ln.split(None, 1)) > 1 else ""
        elif ln.startswith("VmHWM:"):
            hwm = int(ln.split()[1])
        elif ln.startswith("VmRSS:"):
            rss = int(ln.split()[1])
    return comm, hwm, rss


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    fl = st[st.rindex(")") + 2:].split()
    return int(fl[11]) + int(fl[12])


def started_at(pid):
    """Wall-clock start time of pid (to the clock tick), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
    except OSError:
        return None
    ticks = int(st[st.rindex(")") + 2:].split()[19])
    return time.time() - up + ticks / CLK


class RoleSampler(threading.Thread):
    def __init__(self, root, interval, max_s):
        super().__init__(daemon=True)
        self.root, self.interval, self.max_s = root, interval, max_s
        self.halt = threading.Event()
        self.peak_kb = {}          # role -> max VmHWM over its processes
        self.pids = {}             # role -> set of pids seen
        self.ticks = {}            # pid -> (role, last utime+stime)
        self.samples = 0
        self.cmdline = None        # argv of the coordinator, as it ran
        self.coord_start = None    # wall clock the coordinator started at
        self.coord_seen = None     # wall clock it was last seen alive at

    def run(self):
        t0 = time.monotonic()
        while not self.halt.is_set() and time.monotonic() - t0 < self.max_s:
            self.sample()
            self.halt.wait(self.interval)

    def sample(self):
        self.samples += 1
        for pid in descendants(self.root):
            st = read_status(pid)
            if not st:
                continue
            role = ROLES.get(st[0])
            if not role:
                continue
            self.pids.setdefault(role, set()).add(pid)
            if role == "coordinator":
                self.coord_seen = time.time()
            if role == "coordinator" and self.cmdline is None:
                self.coord_start = started_at(pid)
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        self.cmdline = [x.decode(errors="replace")
                                        for x in f.read().split(b"\0") if x]
                except OSError:
                    pass
            self.peak_kb[role] = max(self.peak_kb.get(role, 0), st[1], st[2])
            t = cpu_ticks(pid)
            if t is not None:
                self.ticks[pid] = (role, t)

    def result(self):
        cpu = {}
        for role, t in self.ticks.values():
            cpu[role] = cpu.get(role, 0) + t
        return {
            "rss_peak_mb": {r: round(kb / 1024.0, 1) for r, kb in self.peak_kb.items()},
            "procs": {r: len(p) for r, p in self.pids.items()},
            "role_cpu_s_sampled": {r: round(t / CLK, 2) for r, t in cpu.items()},
            "rss_samples": self.samples,
            "rss_sample_ms": round(self.interval * 1000),
            "crawler_argv": self.cmdline,
        }


def db_stats(path):
    r = {"db_path_exists": os.path.exists(path)}
    if not r["db_path_exists"]:
        return r
    size = 0
    for suffix in ("", "-wal"):
        try:
            size += os.path.getsize(path + suffix)
        except OSError:
            pass
    r["db_bytes"] = size
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
        q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        r["db_pages_rows"] = q("SELECT count(*) FROM pages")
        r["db_html_200"] = q("SELECT count(*) FROM pages WHERE status = 200"
                             " AND content_type LIKE 'text/html%'")
        r["db_status_0"] = q("SELECT count(*) FROM pages WHERE status = 0")
        r["db_urls"] = q("SELECT count(*) FROM urls")
        r["db_urls_queued"] = q("SELECT count(*) FROM urls WHERE state = 0")
        r["db_urls_done"] = q("SELECT count(*) FROM urls WHERE state IN (2, 3)")
        r["db_robots_skipped"] = q("SELECT count(*) FROM urls WHERE state = 4"
                                   " AND reason LIKE 'robots%'")
        r["db_hosts"] = q("SELECT count(*) FROM hosts")
        r["db_links"] = q("SELECT count(*) FROM links")
        con.close()
    except sqlite3.Error as e:
        r["db_error"] = str(e)
    if r.get("db_pages_rows"):
        r["db_bytes_per_page_row"] = round(size / r["db_pages_rows"])
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", required=True, help="the shared bench kit (dir with lib/run_measured.py)")
    ap.add_argument("--db", default="", help="crawl database to inspect after each attempt")
    ap.add_argument("--db-pages-before", type=int, default=0,
                    help="pages rows already in --db before the run (resumed crawls)")
    ap.add_argument("--sample-ms", type=float, default=100)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    rest = a.rest[1:] if a.rest and a.rest[0] == "--" else a.rest

    sys.path.insert(0, os.path.join(a.kit, "lib"))
    import run_measured as rm  # the shared harness, unchanged

    orig = rm.one_attempt

    def one_attempt(args, cmd):
        s = RoleSampler(os.getpid(), a.sample_ms / 1000.0, args.time_limit + 1200)
        s.start()
        try:
            res = orig(args, cmd)
        finally:
            s.halt.set()
            s.join()
        res.update(s.result())
        if a.db:
            res.update(db_stats(a.db))
            if a.db_pages_before and res.get("db_pages_rows") is not None:
                res["db_pages_rows_new"] = res["db_pages_rows"] - a.db_pages_before
        # first/last response time in the access log: the fetching span
        try:
            with open(args.access_log, "rb") as f:
                lines = [ln.split(b"\t", 1)[0] for ln in f if ln.strip()]
            if len(lines) >= 2:
                first, last = float(lines[0]), float(lines[-1])
                res["log_span_s"] = round(last - first, 3)
                # before the first response and after the last one; the
                # end is seen only to the sampling interval
                if s.coord_start and s.coord_seen:
                    res["start_s"] = round(first - s.coord_start, 3)
                    res["tail_s"] = round(s.coord_seen - last, 3)
        except (OSError, ValueError):
            pass
        print("  roles: rss_peak_mb=%s procs=%s sampled_cpu_s=%s%s" % (
            res["rss_peak_mb"], res["procs"], res["role_cpu_s_sampled"],
            "  db: %s bytes, %s pages rows, %s html/200" % (
                res.get("db_bytes"), res.get("db_pages_rows"), res.get("db_html_200"))
            if a.db else ""), flush=True)
        return res

    rm.one_attempt = one_attempt
    sys.argv = ["run_measured.py"] + rest
    rm.main()


if __name__ == "__main__":
    main()
