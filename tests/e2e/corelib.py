"""Helpers for the end-to-end tests: find interpreters, make real cores.

make_core() runs a program in a fresh work directory and returns the core it
left there, either by letting the program abort (the kernel writes the core
as /proc/sys/kernel/core_pattern says) or by waiting for it to print "ready"
and taking the core with gdb's `gcore`. Every wait has a timeout and every
process we start is killed before we return, whatever happened.

Stdlib only; runs under /usr/bin/python3 (3.11).
"""

import argparse
import glob
import json
import os
import shutil
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PROGRAMS = os.path.join(REPO, "corefiles", "programs")
DEFAULT_TOOL = os.path.join(REPO, "build", "pycore-analyze")
DEBIAN_PYTHON = "/usr/bin/python3.11"

READY_TIMEOUT = 60.0     # program start until "ready" / until it has aborted
GCORE_TIMEOUT = 120.0    # gcore of a small process takes a second or two
TOOL_TIMEOUT = 300.0


class CoreError(Exception):
    """Making a core failed; the message says why and what to change."""


# --- interpreters ---------------------------------------------------------------

def find_interpreters():
    """Every $PYENV_ROOT/versions/3.*/bin/python3.X, then Debian's python3.11.
    Returns absolute paths, oldest version first."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = []
    for vdir in glob.glob(os.path.join(root, "versions", "3.*")):
        m = re.match(r"3\.(\d+)\.", os.path.basename(vdir) + ".")
        if not m:
            continue
        exe = os.path.join(vdir, "bin", "python3.%s" % m.group(1))
        if os.access(exe, os.X_OK):
            found.append((int(m.group(1)), exe))
    found.sort()
    paths = [exe for _, exe in found]
    if os.access(DEBIAN_PYTHON, os.X_OK):
        paths.append(DEBIAN_PYTHON)
    return paths


def python_version(python):
    out = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         timeout=30, check=True, universal_newlines=True)
    return out.stdout.strip()


# --- ELF build-ids ----------------------------------------------------------------

def build_id(path):
    """The GNU build-id of an ELF file as lower-case hex, or None."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None                              # only ELF64 is needed here
    end = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(end + "Q", data, 0x28)
    shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
    phoff, = struct.unpack_from(end + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
    ranges = []
    for i in range(phnum):                       # PT_NOTE segments
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            end + "IIQQQQ", data, phoff + i * phentsize)
        if p_type == 4:
            ranges.append((p_offset, p_filesz))
    for i in range(shnum):                       # SHT_NOTE sections
        sh_type, = struct.unpack_from(end + "I", data, shoff + i * shentsize + 4)
        if sh_type == 7:
            off, size = struct.unpack_from(end + "QQ", data, shoff + i * shentsize + 24)
            ranges.append((off, size))
    for off, size in ranges:
        pos = off
        while pos + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from(end + "III", data, pos)
            name_at = pos + 12
            desc_at = name_at + ((namesz + 3) & ~3)
            if ntype == 3 and data[name_at:name_at + namesz].rstrip(b"\0") == b"GNU":
                return data[desc_at:desc_at + descsz].hex()
            pos = desc_at + ((descsz + 3) & ~3)
    return None


# --- processes ----------------------------------------------------------------------

def _unlimited_core():
    """preexec_fn: let the child dump a core of any size."""
    resource.setrlimit(resource.RLIMIT_CORE,
                       (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def kill_quietly(proc):
    """SIGKILL a process we started (by its pid) and reap it."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _read_file(path):
    with open(path) as f:
        return f.read().strip()


def check_core_pattern():
    """Fail early, naming the setting, when the kernel would not write core
    files into the process's working directory."""
    pattern = _read_file("/proc/sys/kernel/core_pattern")
    if pattern.startswith("|"):
        raise CoreError(
            "/proc/sys/kernel/core_pattern is a pipe (%r): cores go to a helper "
            "program, not to a file; run `echo core > /proc/sys/kernel/core_pattern` "
            "(as root) or use --method gcore" % pattern)
    return pattern


def expected_core_path(cwd, pid, argv0):
    """Where the kernel writes the core of PID, per core_pattern and
    core_uses_pid (see core(5)); None when the pattern uses a specifier we
    do not expand (the caller then looks for any new core* file)."""
    pattern = check_core_pattern()
    uses_pid = _read_file("/proc/sys/kernel/core_uses_pid") == "1"
    comm = os.path.basename(argv0)[:15]
    values = {"%": "%", "p": str(pid), "P": str(pid), "i": str(pid), "I": str(pid),
              "e": comm, "u": str(os.getuid()), "g": str(os.getgid()),
              "s": str(int(signal.SIGABRT)), "h": socket.gethostname()}
    out = []
    i = 0
    has_pid = False
    while i < len(pattern):
        c = pattern[i]
        if c == "%" and i + 1 < len(pattern):
            spec = pattern[i + 1]
            if spec not in values:
                return None                     # %t, %E, %c, %d, %f: unpredictable
            has_pid = has_pid or spec in "pP"
            out.append(values[spec])
            i += 2
        else:
            out.append(c)
            i += 1
    path = "".join(out)
    if uses_pid and not has_pid:
        path += "." + str(pid)
    return os.path.join(cwd, path)


def _wait_for_file(path, timeout):
    """Wait until PATH exists and its size has stopped changing."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        if os.path.exists(path):
            size = os.path.getsize(path)
            if size == last and size > 0:
                return True
            last = size
        time.sleep(0.2)
    return False


def _stream_tail(proc):
    try:
        out, err = proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError):
        return ""
    return ((out or "") + (err or ""))[-2000:]


def make_core_abort(argv, workdir, env=None, timeout=READY_TIMEOUT):
    """Run ARGV in WORKDIR (which must be empty) with RLIMIT_CORE unlimited;
    it must die by SIGABRT. Returns (core path, pid, seconds to make it)."""
    check_core_pattern()
    t0 = time.monotonic()
    before = set(os.listdir(workdir))
    proc = subprocess.Popen(argv, cwd=workdir, env=env, preexec_fn=_unlimited_core,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CoreError("%s did not abort within %.0f s" % (argv, timeout))
        if proc.returncode != -signal.SIGABRT:
            raise CoreError("%s exited with %s, not SIGABRT; output:\n%s%s"
                            % (argv, proc.returncode, out[-2000:], err[-2000:]))
        path = expected_core_path(workdir, proc.pid, argv[0])
        if path is not None and _wait_for_file(path, timeout):
            return path, proc.pid, time.monotonic() - t0
        # Unexpanded specifier or a different naming: any new core* file.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            new = [n for n in os.listdir(workdir)
                   if n not in before and n.startswith("core")]
            if len(new) == 1 and _wait_for_file(os.path.join(workdir, new[0]), 10):
                return os.path.join(workdir, new[0]), proc.pid, time.monotonic() - t0
            time.sleep(0.2)
        raise CoreError(
            "no core file from pid %d in %s (expected %s); check `ulimit -c` of "
            "this shell's hard limit, /proc/sys/kernel/core_pattern (%r), "
            "core_uses_pid and fs.suid_dumpable"
            % (proc.pid, workdir, path, _read_file("/proc/sys/kernel/core_pattern")))
    finally:
        kill_quietly(proc)


def _wait_ready(proc, timeout):
    """Wait for a line "ready" on PROC's stdout; return the output so far."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    try:
        while b"ready\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CoreError("%r did not print 'ready' within %.0f s; stdout so far: %r"
                                % (proc.args, timeout, buf[-500:]))
            if not sel.select(left):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise CoreError("%r exited (%s) before printing 'ready'; stdout: %r"
                                % (proc.args, proc.wait(timeout=10), buf[-500:]))
            buf += chunk
    finally:
        sel.close()
    return buf


def make_core_gcore(argv, workdir, env=None, timeout=READY_TIMEOUT):
    """Run ARGV in WORKDIR, wait for "ready", `gcore -o WORKDIR/core PID`,
    then kill it. Returns (core path, pid, seconds to make it)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gdb = None
    try:
        _wait_ready(proc, timeout)
        prefix = os.path.join(workdir, "core")
        gdb = subprocess.Popen(["gcore", "-o", prefix, str(proc.pid)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True,
                               start_new_session=True)
        try:
            out, err = gdb.communicate(timeout=GCORE_TIMEOUT)
        except subprocess.TimeoutExpired:
            # gcore is a shell script running gdb: kill its whole session.
            try:
                os.killpg(gdb.pid, signal.SIGKILL)
            except OSError:
                pass
            raise CoreError("gcore of pid %d did not finish within %.0f s"
                            % (proc.pid, GCORE_TIMEOUT))
        path = "%s.%d" % (prefix, proc.pid)
        if gdb.returncode != 0 or not os.path.isfile(path):
            raise CoreError("gcore -o %s %d failed (exit %s):\n%s%s"
                            % (prefix, proc.pid, gdb.returncode, out[-2000:], err[-2000:]))
        if proc.poll() is not None:
            raise CoreError("the program exited (%s) while gcore ran" % proc.returncode)
        return path, proc.pid, time.monotonic() - t0
    finally:
        kill_quietly(gdb)
        kill_quietly(proc)


def make_core(argv, workdir, method, env=None):
    """Make a core of ARGV by METHOD ("abort" or "gcore") in WORKDIR, which is
    created fresh (it must not exist or be empty)."""
    os.makedirs(workdir, exist_ok=True)
    if os.listdir(workdir):
        raise CoreError("work dir %s is not empty" % workdir)
    if method == "abort":
        return make_core_abort(argv, workdir, env=env)
    if method == "gcore":
        return make_core_gcore(argv, workdir, env=env)
    raise ValueError("method must be abort or gcore, not %r" % method)


def run_names(python, method, workdir, kind):
    """(version, tag, run dir) of one interpreter and method; the run dir
    (WORKDIR/KIND-VERSION-pyenv|debian-METHOD) is removed if it exists."""
    version = os.path.basename(python)
    try:
        version = python_version(python)
    except Exception:
        pass
    rundir = os.path.join(workdir, "%s-%s-%s-%s" % (
        kind, version, "debian" if python == DEBIAN_PYTHON else "pyenv", method))
    if os.path.exists(rundir):
        shutil.rmtree(rundir)
    return version, "%s %s" % (python, method), rundir


def make_scenario_core(python, program, workdir, method, env=None):
    """Run corefiles/programs/PROGRAM under PYTHON and make a core.
    Returns (core path, truth dict, seconds to make the core)."""
    os.makedirs(workdir, exist_ok=True)
    truth_path = os.path.join(workdir, "truth.json")
    coredir = os.path.join(workdir, "core-dir")
    argv = [python, os.path.join(PROGRAMS, program), method, truth_path]
    core, pid, seconds = make_core(argv, coredir, method, env=env)
    with open(truth_path) as f:
        truth = json.load(f)
    if truth["pid"] != pid:
        raise CoreError("truth pid %s is not the core's process %s" % (truth["pid"], pid))
    return core, truth, seconds


# --- running the tool --------------------------------------------------------------------

class ToolRun(object):
    def __init__(self, argv, returncode, stdout, stderr, seconds, timed_out):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.timed_out = timed_out

    def crashed(self):
        """Killed by a signal, or a sanitizer complained."""
        rc = self.returncode
        return (rc is not None and (rc < 0 or rc >= 128)) or \
            "AddressSanitizer" in self.stderr or "runtime error:" in self.stderr or \
            "LeakSanitizer" in self.stderr

    def describe(self):
        return "$ %s\nexit %s after %.2f s%s\nstdout (%d bytes): %s\nstderr: %s" % (
            " ".join(self.argv), self.returncode, self.seconds,
            " (TIMED OUT, killed)" if self.timed_out else "",
            len(self.stdout), self.stdout[:1500], self.stderr[-3000:])


def pt_loads(path):
    """(vaddr, offset, filesz, memsz) of each PT_LOAD of an x86-64 ELF core."""
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    loads = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, p_memsz = struct.unpack_from("<IIQQQQQ", table, i * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz, p_memsz))
    return loads


def run_tool(argv, timeout=TOOL_TIMEOUT, env=None):
    """Run the tool; never raises for its failures, never outlives TIMEOUT."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_quietly(proc)
        out, err = b"", b""
    finally:
        kill_quietly(proc)
    seconds = time.monotonic() - t0
    return ToolRun(argv, proc.returncode, out.decode("utf-8", "replace"),
                   err.decode("utf-8", "replace"), seconds, timed_out)



def threads_agree(tool, core):
    """The parallel phases (the census, the unreferenced pass) run on
    several threads on a large heap (PCA_THREADS sets how many): the report
    must not depend on their number or timing. The address index checks
    itself too. Returns the problems."""
    runs = {}
    for threads in ("1", "3"):
        env = dict(os.environ, PCA_THREADS=threads, PCA_CHECK_INDEX="1")
        runs[threads] = run_tool([tool, "--no-progress", "--json", "report", core], env=env)
    one, three = runs["1"], runs["3"]
    if (one.returncode, one.stdout) != (three.returncode, three.stdout):
        return ["`report --json` differs between 1 and 3 threads (exit %s / %s); stderr: %s"
                % (one.returncode, three.returncode, three.stderr[-500:])]
    return []

def add_matrix_arguments(ap):
    """--python (repeatable, or 'all') and --method abort|gcore|both."""
    ap.add_argument("--python", action="append", required=True,
                    help="interpreter to test (repeatable), or 'all'")
    ap.add_argument("--method", choices=("abort", "gcore", "both"), default="abort")


def matrix(args):
    """The (python, method) pairs --python and --method ask for."""
    pythons = []
    for p in args.python:
        pythons.extend(find_interpreters() if p == "all" else [p])
    methods = ("abort", "gcore") if args.method == "both" else (args.method,)
    return [(python, method) for python in pythons for method in methods]


def parse_args(doc, add_arguments=None):
    """The tests' common command line: --tool (made absolute; exit 2 if it is
    not executable) and --workdir (created), plus ADD_ARGUMENTS(parser)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--tool", default=DEFAULT_TOOL)
    ap.add_argument("--workdir", required=True)
    if add_arguments is not None:
        add_arguments(ap)
    args = ap.parse_args()
    args.tool = os.path.abspath(args.tool)
    if not os.access(args.tool, os.X_OK):
        print("ERROR: tool %s is not an executable file" % args.tool)
        sys.exit(2)
    args.workdir = os.path.abspath(args.workdir)
    os.makedirs(args.workdir, exist_ok=True)
    return args


def conclude(what, problems, dirs, passed):
    """End a test that makes one verdict: FAIL WHAT with its PROBLEMS, DIRS
    kept for a look, exit 1; or print PASS PASSED and remove DIRS."""
    if problems:
        print("FAIL %s (kept in %s):" % (what, " and ".join(dirs)))
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("PASS " + passed)
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def print_failed_run(run, core, truth_path):
    """What to look at after a FAIL line: the tool's stderr (its end), how it
    was run, and the core and truth that were kept."""
    if run.stderr.strip():
        print("  tool stderr:\n    " + run.stderr.strip()[-3000:].replace("\n", "\n    "))
    print("  command: %s (exit %s, %.2f s)" % (" ".join(run.argv), run.returncode, run.seconds))
    print("  core kept: %s" % core)
    print("  truth:     %s" % truth_path)
