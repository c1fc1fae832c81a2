#!/usr/bin/python3
"""End-to-end test of reading a running process (`COMMAND -p PID`).

A process waits on its stdin (so its heap does not change): `summary --json
-p PID` equals `summary --json` of a gcore of the same paused process (all
but the "core" facts) and `diff CORE -p PID` finds no growth; `stacks -p` shows its Python frame; it answers on its
pipe afterwards. A process holding 100 MiB is read by a tool that is killed
(SIGKILL, then SIGTERM) during the read: it runs on and answers each time.
`--no-stop` gives a result with a warning. A process under another tracer
gives exit 2 with a message that names the tracer; so does another user's
process (run as uid 65534 with setpriv, when the test runs as root). A
process whose executable was deleted after it started is read (its file
through /proc/PID/exe).

  test_live.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

# Echoes each stdin line back: proves the process runs (not stopped, not traced).
ECHO = ("import sys\nblob = b'x' * (100 << 20)\nsys.stdout.write('ready\\n'); sys.stdout.flush()\n"
        "for line in iter(sys.stdin.readline, ''):\n"
        "    sys.stdout.write('echo ' + line); sys.stdout.flush()\n")

# Seizes PID with ptrace (a tracer that does not stop it), says so, waits.
TRACER = ("import ctypes, sys, time\nlibc = ctypes.CDLL(None, use_errno=True)\n"
          "r = libc.ptrace(0x4206, int(sys.argv[1]), None, None)\n"
          "print('traced' if r == 0 else 'error %d' % ctypes.get_errno(), flush=True)\n"
          "time.sleep(60)\n")


def answers(proc, word):
    """True when PROC echoes WORD within 10 s (it runs and is not stopped)."""
    proc.stdin.write((word + "\n").encode())
    proc.stdin.flush()
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(10):
            return False
        return proc.stdout.readline().decode().strip() == "echo " + word
    finally:
        sel.close()


def start_echo(python):
    proc = subprocess.Popen([python, "-c", ECHO], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    corelib._wait_ready(proc, 60)
    return proc


def gcore(pid, prefix):
    run = corelib.run_tool(["gcore", "-o", prefix, str(pid)], timeout=120)
    path = "%s.%d" % (prefix, pid)
    return path if run.returncode == 0 and os.path.isfile(path) else None


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
    args = corelib.parse_args(__doc__, add_arguments)
    rundir = os.path.join(args.workdir, "live")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    problems = []

    # 1. -p equals a gcore of the same paused process; stacks; still running.
    proc = subprocess.Popen([args.python, os.path.join(corelib.PROGRAMS, "growth_scenario.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        corelib._wait_ready(proc, 60)
        live = corelib.run_tool([args.tool, "--json", "summary", "-p", str(proc.pid)])
        core = gcore(proc.pid, os.path.join(rundir, "core"))
        if core is None:
            problems.append("gcore of pid %d failed" % proc.pid)
        else:
            ref = corelib.run_tool([args.tool, "--json", "summary", core])
            try:
                a, b = json.loads(live.stdout), json.loads(ref.stdout)
            except ValueError:
                a, b = None, None
            if a is None or live.returncode != ref.returncode:
                problems.append("summary -p: %s\nof the gcore: %s" % (live.describe(), ref.describe()))
            else:
                facts = a.pop("core")
                b.pop("core")
                if a != b:
                    problems.append("summary --json -p differs from the gcore's:\n%s\n%s"
                                    % (json.dumps(a)[:1500], json.dumps(b)[:1500]))
                run = corelib.run_tool([args.tool, "--json", "diff", core, "-p", str(proc.pid)])
                d = json.loads(run.stdout).get("diff", {}) if run.returncode in (0, 1) else {}
                if d.get("objects") != 0 or d.get("size") != 0:
                    problems.append("diff CORE -p PID of the same paused process: %s" % run.describe())
                if facts.get("live") is not True or not 0 <= facts.get("paused_seconds", -1) < 10 \
                        or facts.get("pid") != proc.pid:
                    problems.append("facts of summary -p: %r" % facts)
        run = corelib.run_tool([args.tool, "--json", "stacks", "-p", str(proc.pid)])
        frames = [f for t in (json.loads(run.stdout).get("threads", []) if run.returncode in (0, 1) else [])
                  for f in t.get("frames", [])]
        if not any(f.get("function") == "main" and f.get("filename", "").endswith("growth_scenario.py")
                   for f in frames):
            problems.append("stacks -p: %s" % run.describe())
        text = corelib.run_tool([args.tool, "summary", "-p", str(proc.pid)])
        if text.returncode not in (0, 1) or "live, paused" not in text.stdout:
            problems.append("summary -p (text) says no pause: %s" % text.describe())
        torn = corelib.run_tool([args.tool, "--json", "summary", "--no-stop", "-p", str(proc.pid)])
        if torn.returncode != 1 or not any("torn" in w for w in json.loads(torn.stdout or "{}").get("warnings", [])):
            problems.append("summary --no-stop -p: %s" % torn.describe())
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        corelib._wait_ready(proc, 60)  # it runs on
    except corelib.CoreError as e:
        problems.append(str(e))
    finally:
        corelib.kill_quietly(proc)

    # 2. The tool killed during the read: the process runs on.
    proc = None
    try:
        proc = start_echo(args.python)
        for i, sig in enumerate([signal.SIGKILL] * 4 + [signal.SIGTERM] * 3 + [signal.SIGINT]):
            tool = subprocess.Popen([args.tool, "summary", "-p", str(proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.005 + 0.01 * i)
            tool.send_signal(sig)
            tool.wait()
            if not answers(proc, "after-%s-%d" % (signal.Signals(sig).name, i)):
                problems.append("process does not answer after the tool got %s at %.3f s"
                                % (signal.Signals(sig).name, 0.005 + 0.01 * i))
                break
    except corelib.CoreError as e:
        problems.append(str(e))
    finally:
        corelib.kill_quietly(proc)

    # 3. Another tracer: exit 2, and the message names it.
    proc = tracer = None
    try:
        proc = start_echo(args.python)
        tracer = subprocess.Popen([sys.executable, "-c", TRACER, str(proc.pid)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        said = tracer.stdout.readline().decode().strip()
        if said != "traced":
            problems.append("the test's tracer could not attach: %s" % said)
        else:
            run = corelib.run_tool([args.tool, "summary", "-p", str(proc.pid)])
            if run.returncode != 2 or "already traced by process %d" % tracer.pid not in run.stderr:
                problems.append("summary -p of a traced process: %s" % run.describe())
    except corelib.CoreError as e:
        problems.append(str(e))
    finally:
        corelib.kill_quietly(tracer)
        corelib.kill_quietly(proc)
    # 4. Another user (when this test runs as root and setpriv exists): exit 2, says whose.
    if os.geteuid() == 0 and shutil.which("setpriv"):
        proc = None
        try:
            proc = start_echo(args.python)
            run = corelib.run_tool(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                                    args.tool, "summary", "-p", str(proc.pid)])
            if run.returncode != 2 or "belongs to uid 0" not in run.stderr:
                problems.append("summary -p of another user's process: %s" % run.describe())
        except corelib.CoreError as e:
            problems.append(str(e))
        finally:
            corelib.kill_quietly(proc)
    # 5. An executable deleted since it started (an upgrade): read through /proc/PID/exe.
    exe = os.path.join(rundir, "python-deleted")
    shutil.copy2(os.path.realpath(args.python), exe)
    proc = subprocess.Popen([exe, os.path.join(corelib.PROGRAMS, "growth_scenario.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        corelib._wait_ready(proc, 60)
        os.unlink(exe)
        run = corelib.run_tool([args.tool, "--json", "stacks", "-p", str(proc.pid)])
        frames = [f for t in (json.loads(run.stdout).get("threads", []) if run.returncode in (0, 1) else [])
                  for f in t.get("frames", [])]
        if not any(f.get("function") == "main" for f in frames):
            problems.append("stacks -p with its executable deleted: %s" % run.describe())
    except corelib.CoreError as e:
        problems.append(str(e))
    finally:
        corelib.kill_quietly(proc)
    corelib.conclude("live", problems, [rundir],
                     "live: -p equals a gcore of the paused process; it runs on after the tool, "
                     "also when the tool is killed mid-read; another tracer is exit 2")


main()
