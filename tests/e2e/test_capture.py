#!/usr/bin/python3
"""End-to-end test of `capture -p PID -o FILE`: a running Python process is
captured (gcore) without being killed, goes on running, and the file is a
core the tool reads: the process's stack and its CACHE of 1000 entries.
A process that does not exist gives exit 2 and one line saying what to check.

  test_capture.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
    args = corelib.parse_args(__doc__, add_arguments)
    rundir = os.path.join(args.workdir, "capture")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    out = os.path.join(rundir, "captured.core")
    problems = []
    proc = subprocess.Popen([args.python, os.path.join(corelib.PROGRAMS, "growth_scenario.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        corelib._wait_ready(proc, 60)
        run = corelib.run_tool([args.tool, "--json", "capture", "-p", str(proc.pid), "-o", out])
        if run.returncode != 0 or json.loads(run.stdout or "{}").get("capture", {}).get("pid") != proc.pid:
            problems.append("capture: %s" % run.describe())
        # it goes on running: the next step of the program answers
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        corelib._wait_ready(proc, 60)
    finally:
        corelib.kill_quietly(proc)
    if not problems:
        run = corelib.run_tool([args.tool, "--json", "summary", out])
        doc = json.loads(run.stdout) if run.returncode in (0, 1) else {}
        if doc.get("core", {}).get("pid") != proc.pid:
            problems.append("summary of the capture: %s" % run.describe())
        run = corelib.run_tool([args.tool, "--json", "caches", out])
        doc = json.loads(run.stdout) if run.returncode in (0, 1) else {}
        cache = [c for c in doc.get("caches", []) if c.get("owner") == "__main__.CACHE"]
        if not cache or cache[0]["entries"] != 1000:
            problems.append("caches of the capture: CACHE %r" % cache)
    run = corelib.run_tool([args.tool, "capture", "-p", "999999999", "-o", os.path.join(rundir, "none.core")])
    if run.returncode != 2 or len([l for l in run.stderr.splitlines() if l.strip()]) != 1 or \
            os.path.exists(os.path.join(rundir, "none.core")):
        problems.append("capture of no process: %s" % run.describe())
    corelib.conclude("capture", problems, [rundir],
                     "capture: a running process captured, still running, its core read")


main()
