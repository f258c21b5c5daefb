"""Runs the integration tests: every test method of every unittest TestCase
in tests/integration/test_*.py, each in its own process and session with a
time limit, so that a crash or a hang fails that case and not the run.

Usage: python3 tests/integration/runner.py [FILTER]
FILTER selects the cases whose id (module.Class.method) contains it.
Environment: CRAWLER_BIN, the crawler binary (relative paths are taken from
the current directory); INTEGRATION_CASE_TIMEOUT, seconds per case (180).

Prints "ok   ID" or "FAIL ID" (and the case's output) per case, then
"integration: N passed, N failed"; exits 1 when any case failed. A skipped
case counts as failed: nothing is skipped silently.
"""

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from helpers import kill_pids, pids_where  # noqa: E402

CASE_TIMEOUT_S = float(os.environ.get("INTEGRATION_CASE_TIMEOUT", "180"))


def discover() -> list:
    """The ids of every test case, in file and definition order. A module
    that fails to import yields one failing pseudo-case."""
    loader = unittest.TestLoader()
    ids = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        ids.extend(_flatten(loader.loadTestsFromName(name)))
    return ids


def _flatten(suite) -> list:
    if isinstance(suite, unittest.TestSuite):
        return [i for t in suite for i in _flatten(t)]
    if isinstance(suite, unittest.loader._FailedTest):
        # A module that does not import: running it by module name shows
        # the import error.
        return [suite.id().rsplit(".", 1)[1]]
    return [suite.id()]


def run_case(case_id: str, env: dict):
    """Runs one case in a new session; returns (passed, output, seconds,
    pids of the processes it left running).

    On timeout, and after the case in any event, every process left in its
    session is killed (a crawler the case started runs in a process group
    of its own, but stays in the case's session)."""
    start = time.monotonic()
    # Output goes to a file, not a pipe, so that a process the case leaves
    # behind cannot keep us waiting for end-of-file.
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "unittest", "-v", case_id], cwd=HERE,
            env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=CASE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_pids(pids_where("session", proc.pid))
            proc.wait()
        except BaseException:  # ^C: the case is in its own session
            kill_pids(pids_where("session", proc.pid))
            raise
        leftovers = pids_where("session", proc.pid)
        kill_pids(leftovers)
        out.seek(0)
        output = out.read()
    text = output.decode("utf-8", "replace")
    lines = text.strip().splitlines()
    skipped = bool(lines) and "skipped" in lines[-1]  # "OK (skipped=1)"
    if timed_out:
        text += f"\nrunner: case killed after {CASE_TIMEOUT_S:.0f} s\n"
    if leftovers:
        text += f"\nrunner: killed processes left running: {leftovers}\n"
    if skipped:
        text += "\nrunner: a skipped case counts as failed\n"
    passed = proc.returncode == 0 and not timed_out and not skipped
    return passed, text, time.monotonic() - start, leftovers


def main(argv) -> int:
    case_filter = argv[1] if len(argv) > 1 else ""
    env = dict(os.environ)
    if env.get("CRAWLER_BIN"):
        env["CRAWLER_BIN"] = os.path.abspath(env["CRAWLER_BIN"])
    cases = [c for c in discover() if case_filter in c]
    n_passed = n_failed = 0
    for case_id in cases:
        passed, output, seconds, leftovers = run_case(case_id, env)
        if passed:
            n_passed += 1
            print(f"ok   {case_id} ({seconds:.1f} s)", flush=True)
            if leftovers:
                print(f"     (killed processes it left running: {leftovers})")
        else:
            n_failed += 1
            print(f"FAIL {case_id} ({seconds:.1f} s)", flush=True)
            for line in output.rstrip().splitlines():
                print(f"    {line}")
            sys.stdout.flush()
    print(f"integration: {n_passed} passed, {n_failed} failed")
    return 1 if n_failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv))
