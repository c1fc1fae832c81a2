#!/usr/bin/python3
"""End-to-end test of the gdb command `pycore` (gdb/pycore.gdb.in).

For each gdb (Debian's gdb, and gdb-minimal, built without Python, where
scripts/deps.sh unpacked it) and each PYTHON, runs `gdb -batch -nx -x
pycore.gdb` with `pycore`, `pycore summary`, `pycore top -n 5`, `pycore
stacks` on
  (a) a core file loaded in gdb, at a path with spaces and a quote;
  (b) a process started with `run` and stopped at a breakpoint (on kill(),
      which the program calls with signal 0 at a known point);
  (c) a process attached with `gdb -p`;
and compares each report with the CLI's on the same state: (a) the same
core, byte for byte; (b) and (c) a `gcore` the same gdb session takes after
the `pycore` commands (the process is stopped throughout), everything but
the first line, which names the file read (a snapshot or the process) and
must name the process's pid, and the [crashed] mark of the thread a core
says took the stop signal (a direct read has none). The live cases pass whether the helper reads the
process directly or through its gcore snapshot fallback. Also checked:
$pycore_exitcode equals the CLI's exit status; `pycore summary > FILE`
(direct mode) writes the same report, and so does `set logging` around
`pycore stacks` (the report goes through gdb); no step file or snapshot is left
behind (HOME and PYCORE_SNAPSHOT_DIR point into the work dir, so parallel
runs do not see each other's files).

  test_gdb.py --tool build/pycore-analyze --script build/gdb/pycore.gdb
              --python PYTHON --workdir DIR [--gdb GDB]...

Exit 0 when all pass, 1 on a difference, 2 when a core could not be made.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

GDB_MINIMAL = "/var/cache/pycore-analyze/gdb-minimal/usr/bin/gdb"
GDB_TIMEOUT = 600

PROGRAM = r'''
import os, sys, time

class Node:
    def __init__(self, i):
        self.i = i
        self.name = "node-%d" % i

NODES = [Node(i) for i in range(2000)]
CACHE = {i: str(i) * 20 for i in range(3000)}
BLOB = b"x" * 300000

def hold(mode):
    if mode == "break":
        os.kill(os.getpid(), 0)   # gdb: break kill
        return
    print("ready", flush=True)
    while True:
        time.sleep(0.05)

def main():
    hold(sys.argv[1])

main()
'''

COMMANDS = [("report", "pycore", []),
            ("summary", "pycore summary", ["summary"]),
            ("top", "pycore top -n 5", ["top", "-n", "5"]),
            ("stacks", "pycore stacks", ["stacks"])]
MARK = "@@pycore-test "


def gdb_commands(ref_core, direct_file):
    """-ex arguments: each pycore command between markers, its
    $pycore_exitcode, a direct-mode run, `pycore stacks` under `set
    logging` (into DIRECT_FILE.log), then a reference gcore."""
    ex = []
    for name, cmd, _ in COMMANDS:
        ex += ["-ex", "echo %s%s\\n" % (MARK, name), "-ex", cmd,
               "-ex", "echo %sstatus-%s=" % (MARK, name), "-ex", "output $pycore_exitcode",
               "-ex", "echo \\n"]
    ex += ["-ex", "echo %send\\n" % MARK,
           "-ex", "pycore summary > %s" % direct_file,
           "-ex", "set logging file %s.log" % direct_file,
           "-ex", "set logging enabled on", "-ex", "pycore stacks",
           "-ex", "set logging enabled off"]
    if ref_core:
        ex += ["-ex", "gcore %s" % ref_core]
    return ex


def sections(stdout):
    """{name: text} from the markers in gdb's stdout."""
    out, name = {}, None
    for line in stdout.splitlines(True):
        if line.startswith(MARK):
            word = line[len(MARK):].strip()
            if word.startswith("status-"):  # "status-NAME=VALUE"
                name = None
                key, _, value = word.partition("=")
                out[key] = value
                continue
            name = word
            out[name] = ""
        elif name is not None:
            out[name] += line
    return out


def run_gdb(gdb, argv, env):
    proc = subprocess.Popen([gdb] + argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=GDB_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        err += "\n(gdb TIMED OUT)"
    return proc.returncode, out, err


def compare(problems, what, got, want, whole):
    """WHOLE: byte for byte; else from the second line on, the first line
    naming the pid."""
    if whole:
        if got != want:
            problems.append("%s differs from the CLI:\n--- gdb\n%s--- cli\n%s" % (what, got[:3000], want[:3000]))
        return
    g, w = got.split("\n", 1), want.split("\n", 1)
    # A core marks the thread that took the stop signal [crashed]; reading
    # the process directly has no signal to go by.
    if len(g) == 2 and len(w) == 2:
        g[1], w[1] = g[1].replace(" [crashed]:", ":"), w[1].replace(" [crashed]:", ":")
    if len(g) < 2 or len(w) < 2 or g[1] != w[1]:
        problems.append("%s differs from the CLI (after the first line):\n--- gdb\n%s--- cli\n%s"
                        % (what, got[:3000], want[:3000]))
    pid = w[0].split("(pid ")[-1].split(",")[0].split(")")[0]
    if "pid %s" % pid not in g[0]:
        problems.append("%s: first line %r does not name pid %s" % (what, g[0], pid))


def check_session(problems, tag, rc, out, err, core_for_cli, whole, tool, direct_file, env):
    if rc != 0:
        problems.append("%s: gdb exit %s\nstderr: %s" % (tag, rc, err[-3000:]))
    if "AddressSanitizer" in err or "runtime error:" in err or "LeakSanitizer" in err:
        problems.append("%s: sanitizer report:\n%s" % (tag, err[-3000:]))
    got = sections(out)
    if not os.path.isfile(core_for_cli):
        problems.append("%s: no reference core %s\nstdout: %s\nstderr: %s"
                        % (tag, core_for_cli, out[-2000:], err[-2000:]))
        return
    for name, _, args in COMMANDS:
        cli = corelib.run_tool([tool, "--no-progress"] + args + [core_for_cli], env=env)
        if name not in got:
            problems.append("%s: no output for `%s`\nstdout: %s\nstderr: %s"
                            % (tag, name, out[-2000:], err[-2000:]))
            continue
        compare(problems, "%s: pycore %s" % (tag, name), got[name], cli.stdout, whole)
        status = got.get("status-" + name)
        if status != str(cli.returncode):
            problems.append("%s: $pycore_exitcode after `%s` is %r, the CLI exits %s"
                            % (tag, name, status, cli.returncode))
        if name == "stacks":
            try:
                with open(direct_file + ".log") as f:
                    logged = f.read()
            except OSError as e:
                problems.append("%s: `set logging` caught nothing of `pycore stacks`: %s" % (tag, e))
            else:
                compare(problems, "%s: pycore stacks in `set logging`" % tag, logged, cli.stdout, whole)
        if name == "summary":
            try:
                with open(direct_file) as f:
                    direct = f.read()
            except OSError as e:
                problems.append("%s: `pycore summary > FILE` wrote nothing: %s" % (tag, e))
            else:
                compare(problems, "%s: pycore summary > FILE" % tag, direct, cli.stdout, whole)


def check_clean(problems, tag, home, snapdir):
    stepdir = os.path.join(home, ".cache", "pycore-analyze", "gdb")
    left = []
    for d in (stepdir, snapdir):
        for root, _, files in os.walk(d):
            left += [os.path.join(root, f) for f in files]
    if left:
        problems.append("%s: files left behind: %s" % (tag, ", ".join(left)))


def main():
    def add(ap):
        ap.add_argument("--python", action="append", required=True)
        ap.add_argument("--script", required=True, help="the build tree's gdb/pycore.gdb")
        ap.add_argument("--gdb", action="append",
                        help="gdb binaries (default: gdb, and %s if present)" % GDB_MINIMAL)
    args = corelib.parse_args(__doc__, add)
    gdbs = args.gdb or [shutil.which("gdb") or "/usr/bin/gdb"]
    if not args.gdb:
        if os.access(GDB_MINIMAL, os.X_OK):
            gdbs.append(GDB_MINIMAL)
        else:
            print("SKIP gdb-minimal: %s is missing (scripts/deps.sh unpacks it)" % GDB_MINIMAL)
    problems, passed = [], []
    for python in args.python:
        version, _, rundir = corelib.run_names(python, "gdb", args.workdir, "gdb")
        os.makedirs(rundir)
        prog = os.path.join(rundir, "hold.py")
        with open(prog, "w") as f:
            f.write(PROGRAM)
        try:
            core, _, _ = corelib.make_core([python, prog, "sleep"],
                                           os.path.join(rundir, "made"), "gcore")
        except corelib.CoreError as e:
            print("ERROR %s: %s" % (python, e))
            sys.exit(2)
        odd_dir = os.path.join(rundir, "dir with space")
        os.makedirs(odd_dir)
        odd_core = os.path.join(odd_dir, "it's a core")
        os.rename(core, odd_core)
        for i, gdb in enumerate(gdbs):
            gname = "gdb-minimal" if "gdb-minimal" in gdb else "gdb%s" % (i or "")
            base = os.path.join(rundir, gname)
            home = os.path.join(base, "home")
            snapdir = os.path.join(base, "snapshots")
            os.makedirs(home)
            os.makedirs(snapdir)
            env = dict(os.environ, HOME=home, PYCORE_SNAPSHOT_DIR=snapdir)
            env.pop("XDG_CONFIG_HOME", None)
            gdb_args = ["-batch", "-nx", "-x", args.script]
            # (a) core
            tag = "%s %s core" % (python, gname)
            direct = os.path.join(base, "direct-core.txt")
            rc, out, err = run_gdb(gdb, gdb_args + gdb_commands(None, direct) + [python, odd_core], env)
            check_session(problems, tag, rc, out, err, odd_core, True, args.tool, direct, env)
            # (b) run, stopped at a breakpoint
            tag = "%s %s run" % (python, gname)
            ref = os.path.join(base, "ref-run.core")
            direct = os.path.join(base, "direct-run.txt")
            rc, out, err = run_gdb(gdb, gdb_args + ["-ex", "set breakpoint pending on",
                                                    "-ex", "break kill", "-ex", "run"]
                                   + gdb_commands(ref, direct) + ["--args", python, prog, "break"], env)
            check_session(problems, tag, rc, out, err, ref, False, args.tool, direct, env)
            # (c) attached
            tag = "%s %s attach" % (python, gname)
            ref = os.path.join(base, "ref-attach.core")
            direct = os.path.join(base, "direct-attach.txt")
            proc = subprocess.Popen([python, prog, "sleep"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                corelib._wait_ready(proc, corelib.READY_TIMEOUT)
                rc, out, err = run_gdb(gdb, gdb_args + ["-p", str(proc.pid)]
                                       + gdb_commands(ref, direct), env)
            finally:
                corelib.kill_quietly(proc)
            check_session(problems, tag, rc, out, err, ref, False, args.tool, direct, env)
            check_clean(problems, "%s %s" % (python, gname), home, snapdir)
            passed.append("%s %s (%s)" % (gname, version, python))
    corelib.conclude("gdb pycore", problems, [args.workdir],
                     "gdb pycore: core, run, attach equal to the CLI with " + ", ".join(passed))


if __name__ == "__main__":
    main()
