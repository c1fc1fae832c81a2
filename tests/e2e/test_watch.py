#!/usr/bin/python3
"""End-to-end test of `watch -p PID -o FILE --rss SIZE`: a process that
grows 5 MiB every 50 ms is captured once its resident memory reaches 150 MiB
(before it reaches 400 MiB), and the core holds the bytearrays it had: at
least 150 MiB minus the interpreter's own, at most 400 MiB. A process that
ends first gives exit 2 and no file.

  test_watch.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

MIB = 1024 * 1024


def start(python, *args):
    proc = subprocess.Popen([python, os.path.join(corelib.PROGRAMS, "grow_scenario.py")] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    corelib._wait_ready(proc, 60)
    return proc


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
    args = corelib.parse_args(__doc__, add_arguments)
    rundir = os.path.join(args.workdir, "watch")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    out = os.path.join(rundir, "watched.core")
    problems = []
    proc = start(args.python)
    try:
        run = corelib.run_tool([args.tool, "--json", "watch", "-p", str(proc.pid), "-o", out,
                                "--rss", "150M", "--interval", "0.02"], timeout=120)
        if run.returncode != 0:
            problems.append("watch: %s" % run.describe())
    finally:
        corelib.kill_quietly(proc)
    if not problems:
        run = corelib.run_tool([args.tool, "--json", "summary", out])
        doc = json.loads(run.stdout) if run.returncode in (0, 1) else {}
        size = dict((t["type"], t["size"]) for t in doc.get("types", [])).get("bytearray", 0)
        if not 120 * MIB <= size < 400 * MIB:
            problems.append("bytearrays in the watched core: %.1f MiB, expected 120..400" % (size / MIB))
    proc = start(args.python, "exit")
    try:
        none = os.path.join(rundir, "none.core")
        run = corelib.run_tool([args.tool, "watch", "-p", str(proc.pid), "-o", none, "--rss", "4G"], timeout=120)
        if run.returncode != 2 or os.path.exists(none) or "ended" not in run.stderr:
            problems.append("watch of a process that ends: %s" % run.describe())
    finally:
        corelib.kill_quietly(proc)
    corelib.conclude("watch", problems, [rundir],
                     "watch: captured at 150 MiB of resident memory; a process that ends gives exit 2")


main()
