#!/usr/bin/python3
"""End-to-end test of `capture -p PID -o FILE`: a running Python process is
captured (our own core writer) without being killed, goes on running, and
the file is a core the tool reads: the process's stack and its CACHE of 1000
entries. The same paused process captured by gdb's gcore gives the same
`summary --json` and `caches --json` (but for the "core" facts); `gdb -batch
-ex bt` shows its C frames and `eu-stack --core` its threads; FILE.zst is
written compressed and read the same; the file is mode 0600 and no
temporary file is left. `--gdb` still uses gcore.
A process that does not exist gives exit 2 and one line saying what to check.
Memory that cannot be read (a private file mapping longer than its file) is
left out of the core, a PT_LOAD without file bytes, so a read there fails
rather than finding zeros; capture and `-p` say so and exit 1.

  test_capture.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402


def same_json(args, a, b, command):
    """COMMAND --json of cores A and B, without their "core" facts."""
    docs = []
    for core in (a, b):
        run = corelib.run_tool([args.tool, "--json", command, core])
        try:
            doc = json.loads(run.stdout)
        except ValueError:
            return "%s of %s: %s" % (command, core, run.describe())
        doc.pop("core", None)
        docs.append((run.returncode, doc))
    if docs[0] != docs[1]:
        return "%s --json of %s and %s differ:\n%s\n%s" % (
            command, a, b, json.dumps(docs[0])[:1500], json.dumps(docs[1])[:1500])
    return None


def compare_with_gcore(args, pid, ours, rundir):
    """Our core of the paused process against gcore's, gdb and eu-stack."""
    problems = []
    if os.stat(ours).st_mode & 0o777 != 0o600:
        problems.append("%s has mode %o, expected 600" % (ours, os.stat(ours).st_mode & 0o777))
    left = [f for f in os.listdir(rundir) if ".tmp" in f]
    if left:
        problems.append("temporary files left: %r" % left)
    zst = os.path.join(rundir, "captured.core.zst")
    run = corelib.run_tool([args.tool, "capture", "-p", str(pid), "-o", zst])
    with open(zst, "rb") as f:
        magic = f.read(4)
    if run.returncode != 0 or magic != b"\x28\xb5\x2f\xfd" or "paused" not in run.stdout:
        problems.append("capture to .zst: %s (magic %r)" % (run.describe(), magic))
    gdbcore = os.path.join(rundir, "gdb.core")
    run = corelib.run_tool([args.tool, "capture", "--gdb", "-p", str(pid), "-o", gdbcore], timeout=120)
    if run.returncode != 0:
        return problems + ["capture --gdb: %s" % run.describe()]
    for command in ("summary", "caches", "stacks"):
        for core in (ours, zst):
            diff = same_json(args, core, gdbcore, command)
            if diff:
                problems.append(diff)
    exe = os.path.realpath("/proc/%d/exe" % pid)
    run = corelib.run_tool(["gdb", "-nx", "-batch", "-ex", "bt", exe, ours], timeout=120)
    if run.returncode != 0 or "#1 " not in run.stdout or "main" not in run.stdout:
        problems.append("gdb bt of our core: %s" % run.describe())
    run = corelib.run_tool(["eu-stack", "--core", ours], timeout=120)
    if run.returncode != 0 or "TID %d:" % pid not in run.stdout or "#1 " not in run.stdout:
        problems.append("eu-stack --core of our core: %s" % run.describe())
    return problems


# A page of file, mapped for three: the last two fault (SIGBUS) when read.
BEYOND_EOF = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b"A" * 4096)
addr = libc.mmap(None, 3 * 4096, 3, 2, fd, 0)   # PROT_READ|PROT_WRITE, MAP_PRIVATE
print("%d\nready" % addr, flush=True)
sys.stdin.read()
"""


def check_unreadable(args, rundir):
    """The pages beyond the file's end are not in the core; the first is."""
    problems = []
    out = os.path.join(rundir, "beyond-eof.core")
    proc = subprocess.Popen([args.python, "-c", BEYOND_EOF, os.path.join(rundir, "one-page")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready = corelib._wait_ready(proc, 60).decode(errors="replace")
        addr = int(ready.split()[0])
        run = corelib.run_tool([args.tool, "capture", "-p", str(proc.pid), "-o", out])
        if run.returncode != 1 or "8192 bytes of process %d could not be read (left out of the core)" \
                % proc.pid not in run.stderr:
            problems.append("capture with unreadable pages: %s" % run.describe())
        live = corelib.run_tool([args.tool, "--json", "summary", "-p", str(proc.pid)])
        doc = json.loads(live.stdout or "{}") if live.returncode in (0, 1) else {}
        if live.returncode != 1 or not any("left out of the snapshot" in w for w in doc.get("warnings", [])):
            problems.append("summary -p with unreadable pages: %s" % live.describe())
    finally:
        corelib.kill_quietly(proc)
    if problems:
        return problems

    def covering(a):
        return [(vaddr, filesz, memsz) for vaddr, _, filesz, memsz in corelib.pt_loads(out)
                if vaddr <= a < vaddr + memsz]
    if [s[1] for s in covering(addr)] != [4096] or \
            [s[1] for s in covering(addr + 4096)] != [0] or [s[1] for s in covering(addr + 8191 + 4096)] != [0]:
        problems.append("segments of the mapping at %#x: %r, %r" % (addr, covering(addr), covering(addr + 4096)))
    return problems


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
        if not problems:
            problems.extend(compare_with_gcore(args, proc.pid, out, rundir))
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
    problems.extend(check_unreadable(args, rundir))
    corelib.conclude("capture", problems, [rundir],
                     "capture: a running process captured, still running, its core read")


main()
