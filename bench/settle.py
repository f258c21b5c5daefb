#!/usr/bin/env python3
"""Wait until the machine runs at its quiet speed again, before a measured run.

  settle.py --kit KIT_DIR --state FILE [--max-wait 20]

On this VM, for several seconds after a process frees a lot of memory (the
400 MB of pages wget2 saved, deleted after its run), every program runs up
to 75% slower: the harness's CPU probe (a fixed Python loop, 31-33 ms on a
quiet machine) read 52-85 ms for 5-8 s after 20,000 files of 20 KB were
deleted, on tmpfs or on the disk. The benchmark runs the tools in a fixed
order, so without a wait the same tool always starts inside that window.

The slowdown starts 1-2 s after the memory is freed (the kernel hands
freed memory back to the host 2 s later, PAGE_REPORTING_DELAY), so a probe
right after the previous run still reads quiet. Each call therefore first
sleeps DELAY_S, then probes every 0.3 s until QUIET_PROBES probes in a row
are within 15% of the quiet speed, or --max-wait seconds have passed, and
says how long it waited. The first call measures the quiet speed (the
median of 7 probes) and keeps it in FILE. This takes the worst of the
window away from whichever run comes next; it cannot make the machine
quiet: with nothing running, single probes still read 50-60 ms now and
then, and asking for 8 quiet probes in a row took 16-20 s. It never fails
the benchmark: the harness records its own probe with every run.
"""
import argparse
import os
import statistics
import sys
import time

DELAY_S = 3.0
QUIET_PROBES = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--max-wait", type=float, default=20.0)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.kit, "lib"))
    import cpuload  # the shared kit's probe, the same one the harness records

    try:
        with open(a.state) as f:
            quiet = float(f.read())
    except (OSError, ValueError):
        quiet = statistics.median(cpuload.cpu_probe_ms() for _ in range(7))
        with open(a.state, "w") as f:
            f.write("%.1f\n" % quiet)
    t0 = time.monotonic()
    time.sleep(DELAY_S)
    good = 0
    while True:  # at least one probe, whatever --max-wait says
        last = cpuload.cpu_probe_ms()
        good = good + 1 if last <= quiet * 1.15 else 0
        if good == QUIET_PROBES or time.monotonic() - t0 >= a.max_wait:
            break
        time.sleep(0.3)
    waited = time.monotonic() - t0
    print("settle: probe %.1f ms (quiet %.1f) after %.1f s%s" % (
        last, quiet, waited, "" if good == QUIET_PROBES else ", gave up"),
        flush=True)


if __name__ == "__main__":
    main()
