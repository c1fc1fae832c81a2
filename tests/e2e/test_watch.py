#!/usr/bin/python3
"""End-to-end test of `watch -p PID -o FILE --rss SIZE`: a process that
grows 5 MiB every 50 ms is captured once its resident memory reaches 150 MiB
(before it reaches 400 MiB), and the core holds the bytearrays it had: at
least 150 MiB minus the interpreter's own, at most 400 MiB. A process that
ends first gives exit 2 and no file.

With a memory cgroup (v1 or v2, made under this test's own cgroup, limit
200 MiB; skipped where cgroups cannot be made): `--limit-pct 70` captures
the growing process before the kernel's OOM killer ends it, and the core's
`caches` names the growing list __main__.BLOCKS; the summary of the core is
printed, and not with --quiet; `--max 2` takes two cores (FILE, FILE.2);
`--cgroup DIR` without -p captures the cgroup's largest process.

  test_watch.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

MIB = 1024 * 1024


def start(python, *args, cgroup=None):
    def enter():
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    proc = subprocess.Popen([python, os.path.join(corelib.PROGRAMS, "grow_scenario.py")] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=enter if cgroup else None)
    corelib._wait_ready(proc, 60)
    return proc


def make_cgroup(limit):
    """A memory cgroup below this process's own, limited to LIMIT bytes, or None."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = [l.rstrip("\n").split(":", 2) for l in f]
    except OSError:
        return None
    candidates = []
    for hid, controllers, path in lines:
        if "memory" in controllers.split(","):
            candidates.append(("/sys/fs/cgroup/memory" + path, "memory.limit_in_bytes"))
        if hid == "0":
            for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
                candidates.append((root + path, "memory.max"))
    for parent, limit_file in candidates:
        d = os.path.join(parent.rstrip("/"), "pca-watch-%d" % os.getpid())
        try:
            os.mkdir(d)
        except OSError:
            continue
        try:
            with open(os.path.join(d, limit_file), "w") as f:
                f.write(str(limit))
            return d
        except OSError:
            os.rmdir(d)
    return None


def remove_cgroup(d):
    for _ in range(50):
        try:
            os.rmdir(d)
            return
        except OSError:
            time.sleep(0.1)  # its last process is still being reaped


def cgroup_checks(args, rundir, problems):
    """The --limit-pct, --max, --quiet and --cgroup checks; False when skipped."""
    cg = make_cgroup(200 * MIB)
    if cg is None:
        return False
    try:
        out = os.path.join(rundir, "limit.core")
        proc = start(args.python, cgroup=cg)
        try:
            run = corelib.run_tool([args.tool, "watch", "-p", str(proc.pid), "-o", out,
                                    "--limit-pct", "70", "--interval", "0.02"], timeout=120)
            if run.returncode != 0 or "captured process %d" % proc.pid not in run.stdout \
                    or "bytearray" not in run.stdout:
                problems.append("watch --limit-pct 70: %s" % run.describe())
        finally:
            corelib.kill_quietly(proc)
        if not problems:
            run = corelib.run_tool([args.tool, "--json", "caches", out])
            doc = json.loads(run.stdout) if run.returncode in (0, 1) else {}
            if not [c for c in doc.get("caches", []) if c.get("owner") == "__main__.BLOCKS"]:
                problems.append("caches of the core taken before the OOM kill: %s" % run.describe())
        out = os.path.join(rundir, "max.core")
        proc = start(args.python, cgroup=cg)
        try:
            run = corelib.run_tool([args.tool, "watch", "-p", str(proc.pid), "-o", out, "--quiet",
                                    "--limit-pct", "40", "--max", "2", "--interval", "0.02"], timeout=120)
            if run.returncode != 0 or not os.path.isfile(out) or not os.path.isfile(out + ".2") \
                    or os.path.exists(out + ".3") or "bytearray" in run.stdout \
                    or run.stdout.count("captured process") != 2:
                problems.append("watch --max 2 --quiet: %s" % run.describe())
        finally:
            corelib.kill_quietly(proc)
        out = os.path.join(rundir, "cgroup.core")
        proc = start(args.python, cgroup=cg)
        try:
            run = corelib.run_tool([args.tool, "watch", "--cgroup", cg, "-o", out, "--quiet",
                                    "--limit-pct", "50", "--interval", "0.02"], timeout=120)
            if run.returncode != 0 or "captured process %d" % proc.pid not in run.stdout:
                problems.append("watch --cgroup: %s" % run.describe())
        finally:
            corelib.kill_quietly(proc)
    finally:
        remove_cgroup(cg)
    return True


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
    cgroups = cgroup_checks(args, rundir, problems)
    corelib.conclude("watch", problems, [rundir],
                     "watch: captured at 150 MiB of resident memory; a process that ends gives exit 2; "
                     + ("in a 200 MiB cgroup, captured at 70% before the OOM kill, --max 2, --quiet, --cgroup"
                        if cgroups else "(memory cgroups cannot be made here: cgroup checks skipped)"))


main()
