#!/usr/bin/python3
"""End-to-end test of `diff`: two gcore snapshots of one process whose
module-global CACHE grows from 1000 to 6000 entries (str keys, bytes values);
`pycore-analyze --json diff CORE1 CORE2` must show exactly 5000 more bytes
objects, 5000 more str (10000 objects in all: the collector is off in
between), and CACHE among the caches that grew with
1000 -> 6000 entries.

  test_diff.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402


def snapshot(pid, prefix):
    subprocess.run(["gcore", "-o", prefix, str(pid)], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=True)
    return "%s.%d" % (prefix, pid)


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
    args = corelib.parse_args(__doc__, add_arguments)
    rundir = os.path.join(args.workdir, "diff")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    proc = subprocess.Popen([args.python, os.path.join(corelib.PROGRAMS, "growth_scenario.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        corelib._wait_ready(proc, 60)
        first = snapshot(proc.pid, os.path.join(rundir, "before"))
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        corelib._wait_ready(proc, 60)
        second = snapshot(proc.pid, os.path.join(rundir, "after"))
    finally:
        corelib.kill_quietly(proc)
    run = corelib.run_tool([args.tool, "--json", "diff", first, second])
    problems = []
    if run.crashed() or run.returncode not in (0, 1):
        print("FAIL: %s" % run.describe())
        sys.exit(1)
    diff = json.loads(run.stdout)["diff"]
    types = dict((t["type"], t) for t in diff["types"])
    if types.get("bytes", {}).get("count_delta") != 5000:
        problems.append("bytes count_delta %r, expected 5000" % types.get("bytes"))
    if types.get("str", {}).get("count_delta") != 5000:
        problems.append("str count_delta %r, expected 5000 (the keys)" % types.get("str"))
    if diff["objects"] != 10000:
        problems.append("objects delta %r, expected 10000 (5000 keys, 5000 values)" % diff["objects"])
    grown = [c for c in diff["caches"] if c.get("owner") == "__main__.CACHE"]
    if not grown or (grown[0]["entries_before"], grown[0]["entries"]) != (1000, 6000):
        problems.append("CACHE among the caches that grew: %r" % diff["caches"])
    corelib.conclude("diff", problems, [rundir],
                     "diff: +%d objects, bytes +5000, CACHE 1000 -> 6000 entries" % diff["objects"])


main()
