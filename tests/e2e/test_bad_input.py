#!/usr/bin/python3
"""Robustness test: `pycore-analyze --json stacks` on inputs it must refuse
or survive, each with a 60 s timeout.

  test_bad_input.py --tool build/pycore-analyze --workdir DIR

Cases and the exit status each must give (contract: 0 complete, 1 partial,
2 no result):
  empty file, /bin/true (ELF, not a core), core of a non-Python program
  (sh killed by SIGABRT), pyenv 3.12 core with /usr/bin/python3.11 passed as
  EXECUTABLE (stderr names both build-ids), nonexistent path ... exit 2
  a FIFO (summary must not block in open(2)) ................... exit 2
  a FIFO as EXECUTABLE (libdwfl must not open it) ......... exit 2 or 64
  core of Debian python3.11 with PCA_DEBUGINFO_PATH=/nonexistent (its build
  is in the built-in layout tables) ............................ exit 0
  real Python cores cut to 50% and 10%, and with 200 bytes of segment data
  flipped (fixed seed) ...... exit 1 or 2, or 0 if stdout is still valid JSON
  a core whose strings are hostile (dict keys and a type name with
  terminal escapes, newlines, invalid UTF-8): text `top`, `summary` and
  `report` put no control byte but the layout's newlines on stdout, and
  --json top parses and holds the keys exactly ........... exit 0 or 1
  a core that claims more than it holds (docs/robustness.md, bounds): a
  dict whose table has 2^40 slots and entries, a list of 100 million items,
  3000 lists sharing one 40000-item array (120 million references in a core
  of ~30 MB): `report` finishes within the timeout, its memory bounded, and
  the warnings say the graph is partial ..................... exit 0 or 1
  chains that loop in a Debian 3.11 core patched in place (a frame's
  `previous`, a thread state's and an interpreter's `next`, a collector
  list that never returns to its head) and a type name of 16 MB without
  its NUL: `report` (and `stacks` for the first three) finish in time with
  a warning that names the chain ........................... exit 1
  a compressed core: its temporary copy is mode 0600 and unnamed, and
  nothing is left in TMPDIR after SIGINT or a normal exit
  the graph does not fit (--max-memory 1M, or a cgroup v2 of 48 MiB where
  one can be made): `report` prints the rest with a warning giving the
  estimate and what to do (exit 1), `top` says so (exit 2)
  a core truncated by another process while `report` reads it (delays
  spread over a run until the shrink is seen twice): exit 0/1/2, and a run
  that saw it says "shrank" in its warnings ........ never SIGBUS (exit 135)
Always: no crash (killed by a signal, exit >= 128, "AddressSanitizer" or
"runtime error:" on stderr), no hang; exit 2: stderr is one non-blank line;
exit 1: stdout is JSON with a non-empty "warnings" list.

Prints one line per case; a failing case also prints the run and keeps its
input in DIR. Exit 0 when all pass, 1 otherwise, 2 when an input could not
be made.
"""

import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

TIMEOUT = 60.0
HEAVY_FLIP_COUNT = 20000
FLIP_SEED = 20240229
FLIP_COUNT = 200
PYENV_312 = os.path.join(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"),
                         "versions", "3.12.1", "bin", "python3.12")


def pt_load_ranges(path):
    """(file offset, file size) of each PT_LOAD segment with data in the file."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            raise ValueError("%s is not an ELF64 file" % path)
        end = "<" if head[5] == 1 else ">"
        phoff, = struct.unpack_from(end + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    size = os.path.getsize(path)
    ranges = []
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(end + "IIQQQQ", table, i * phentsize)
        if p_type == 1 and p_filesz > 0 and p_offset < size:
            ranges.append((p_offset, min(p_filesz, size - p_offset)))
    return ranges


def flip_bytes(src, dst, count, seed):
    """Copy SRC to DST with COUNT bytes inside PT_LOAD data XORed with a
    non-zero random value, positions drawn uniformly over that data."""
    shutil.copyfile(src, dst)
    ranges = pt_load_ranges(src)
    total = sum(size for _, size in ranges)
    rng = random.Random(seed)
    with open(dst, "r+b") as f:
        for _ in range(count):
            pick = rng.randrange(total)
            for off, size in ranges:
                if pick < size:
                    break
                pick -= size
            f.seek(off + pick)
            byte = f.read(1)[0]
            f.seek(off + pick)
            f.write(bytes([byte ^ rng.randrange(1, 256)]))
    return dst


def truncated_copy(src, dst, fraction):
    shutil.copyfile(src, dst)
    os.truncate(dst, int(os.path.getsize(src) * fraction))
    return dst


def nonblank_lines(text):
    return [line for line in text.splitlines() if line.strip()]


def judge(run, allowed, stderr_must=None):
    """Problems with one tool run (empty list: it behaved)."""
    if run.timed_out:
        return ["hang: killed after %.0f s" % TIMEOUT]
    if run.crashed():
        return ["crash: exit %s%s" % (run.returncode,
                                      ", sanitizer report on stderr" if run.returncode in (0, 1, 2) else "")]
    problems = []
    rc = run.returncode
    if rc not in allowed:
        problems.append("exit status %s, expected %s" % (rc, " or ".join(map(str, allowed))))
    if rc == 2:
        lines = nonblank_lines(run.stderr)
        if not lines:
            problems.append("exit 2 with an empty stderr")
        elif len(lines) > 1:
            problems.append("exit 2: stderr has %d lines, expected one message line" % len(lines))
        for what, needles in stderr_must or []:
            if not any(n.lower() in run.stderr.lower() for n in needles):
                problems.append("stderr does not mention %s (%s)" % (what, " or ".join(needles)))
    if rc in (0, 1):
        try:
            result = json.loads(run.stdout)
        except ValueError as e:
            result = None
            problems.append("exit %s but stdout is not valid JSON: %s" % (rc, e))
        if rc == 1 and result is not None:
            warnings = result.get("warnings") if isinstance(result, dict) else None
            if not isinstance(warnings, list) or not warnings:
                problems.append("exit 1 but 'warnings' is %r, expected a non-empty list" % (warnings,))
    return problems


HOSTILE_KEYS = ["\x1b]0;pwned\x07\x1b[2J", "line\nbreak\tkey", "\x9b31m\u202eevil"]
HOSTILE_PROGRAM = r"""
import os
keys = %r
hostile = {}
for i, k in enumerate(keys):
    hostile[k] = [bytearray(3000000 + i * 100000)]
Evil = type("Evil\x1b[2J\nType", (), {})
evil = [Evil() for _ in range(2000)]
os.abort()
""" % (HOSTILE_KEYS,)


def hostile_strings(c, env):
    """Core strings that would drive a terminal must reach it escaped."""
    prog = c.path("hostile.py")
    with open(prog, "w") as f:
        f.write(HOSTILE_PROGRAM)
    made = c.make("a core with hostile strings", corelib.make_core,
                  [corelib.DEBIAN_PYTHON, prog], c.path("hostile"), "abort")
    if not made:
        return True
    core, ok = made[0], True
    for command in ("top", "summary", "report"):
        argv = [c.tool, command, core]
        raw = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=TIMEOUT)
        problems = []
        if raw.returncode not in (0, 1):
            problems.append("exit %s" % raw.returncode)
        bad = sorted(set(b for b in raw.stdout + raw.stderr if (b < 0x20 and b != 0x0a) or b == 0x7f))
        if bad:
            problems.append("control bytes on the terminal: %s" % bad)
        text = raw.stdout.decode("utf-8", "replace")
        if command == "top":
            if "\\x1b]0;pwned\\x07" not in text or "line\\nbreak\\tkey" not in text:
                problems.append("the keys are not shown escaped in the owner paths")
            if any(line.startswith("break") for line in text.splitlines()):
                problems.append("a key's newline broke the table")
        if command == "summary" and "Evil\\x1b[2J\\nType" not in text:
            problems.append("the type name is not shown escaped")
        print("%s hostile strings %-8s exit %s%s" % ("FAIL" if problems else "PASS", command,
                                                    raw.returncode, ": " + "; ".join(problems) if problems else ""))
        if problems:
            print("     " + text[:3000].replace("\n", "\n     "))
            c.failed += 1
            ok = False
    if not c.run("hostile strings json", [core], (0, 1), env=env, keep=[core], command="top"):
        return False
    owners = [row.get("owner") or "" for row in json.loads(c.last.stdout).get("largest", [])]
    for key in HOSTILE_KEYS:
        # the owner path holds repr-like text of the key: the exact characters
        if not any(key in o for o in owners):
            print("FAIL hostile strings json: key %r not found in owners %r" % (key, owners[:6]))
            c.failed += 1
            ok = False
    return ok


BOUNDS_PROGRAM = r"""
import json, os, sys
bigdict = {i: str(i) for i in range(20000)}
biglist = list(range(30000))
shared = list(range(40000))
sharers = [[i] for i in range(3000)]
with open(sys.argv[1], "w") as f:
    json.dump({"bigdict": id(bigdict), "biglist": id(biglist), "shared": id(shared),
               "sharers": [id(x) for x in sharers]}, f)
os.abort()
"""


class CoreImage(object):
    """Read and patch the memory of an x86-64 core by virtual address."""

    def __init__(self, path):
        self.path = path
        self.loads = [(vaddr, off, size) for vaddr, off, size, _ in corelib.pt_loads(path) if size]
        self.f = open(path, "r+b")

    def offset(self, addr):
        for vaddr, off, size in self.loads:
            if vaddr <= addr < vaddr + size:
                return off + addr - vaddr
        raise ValueError("0x%x is not in the core" % addr)

    def u64(self, addr):
        self.f.seek(self.offset(addr))
        return struct.unpack("<Q", self.f.read(8))[0]

    def put(self, addr, fmt, value):
        self.f.seek(self.offset(addr))
        self.f.write(struct.pack("<" + fmt, value))


def patchable_core(c, name, program):
    """A Debian 3.11 core of PROGRAM (which writes the ids of its objects to
    NAME-ids.json) and those ids; None when no core could be made."""
    prog, ids_path = c.path(name + ".py"), c.path(name + "-ids.json")
    with open(prog, "w") as f:
        f.write(program)
    made = c.make("a core for the " + name, corelib.make_core,
                  [corelib.DEBIAN_PYTHON, prog, ids_path], c.path(name), "abort")
    if not made:
        return None
    with open(ids_path) as f:
        return made[0], json.load(f)


def hostile_bounds(c, env):
    """Claims the core cannot back: bounded work, a warning, no huge allocation."""
    made = patchable_core(c, "bounds", BOUNDS_PROGRAM)
    if not made:
        return True
    core, ids = made
    img = CoreImage(core)
    # Debian 3.11 (x86-64): PyDictObject.ma_keys at 32; PyDictKeysObject
    # dk_log2_size at 8, dk_log2_index_bytes at 9, dk_nentries at 24;
    # PyListObject ob_size at 16, ob_item at 24, allocated at 32.
    keys = img.u64(ids["bigdict"] + 32)
    img.put(keys + 8, "B", 40)
    img.put(keys + 9, "B", 40)
    img.put(keys + 24, "Q", 1 << 40)
    img.put(ids["biglist"] + 16, "Q", 100000000)
    img.put(ids["biglist"] + 32, "Q", 100000000)
    items = img.u64(ids["shared"] + 24)
    for addr in ids["sharers"]:
        img.put(addr + 16, "Q", 40000)
        img.put(addr + 24, "Q", items)
        img.put(addr + 32, "Q", 40000)
    img.f.close()
    ok = c.run("bounds report", [core], (0, 1), env=dict(env, PCA_THREADS="1"), keep=[core],
               command="report")
    if ok and "references dropped" not in c.last.stdout:
        print("FAIL bounds report: no warning that references were dropped")
        c.failed += 1
        ok = False
    # A closure on several threads that runs past a budget is run again on
    # one thread: the same report, whatever the threads' timing.
    one_thread = c.last.stdout
    if ok and c.run("bounds report, 3 threads", [core], (0, 1), env=dict(env, PCA_THREADS="3"),
                    keep=[core], command="report") and c.last.stdout != one_thread:
        print("FAIL bounds report: 3 threads give another report than 1")
        c.failed += 1
        ok = False
    return ok


CHAINS_PROGRAM = r"""
import ctypes, gc, json, os, sys
ctypes.pythonapi.PyThreadState_Get.restype = ctypes.c_void_p
ctypes.pythonapi.PyInterpreterState_Get.restype = ctypes.c_void_p
Named = type("Named", (), {})
named = [Named() for _ in range(100)]
Long = type("Long", (), {})
Long.__qualname__ = "Q" * 600    # a name longer than the 512 characters read
longs = [Long() for _ in range(7)]
ranges = [range(i) for i in range(100)]
name = b"N" * (16 << 20)      # a static type's name, 16 MB long
gc.collect(); gc.disable()   # the 50 lists stay together in one collector list
tracked = [[i] for i in range(50)]
frames = []
def f1(): frames.append(sys._getframe()); f2()
def f2(): frames.append(sys._getframe()); f3()
def f3():
    frames.append(sys._getframe())
    with open(sys.argv[1], "w") as f:
        json.dump({"tstate": ctypes.pythonapi.PyThreadState_Get(),
                   "interp": ctypes.pythonapi.PyInterpreterState_Get(),
                   "frames": [id(x) for x in frames], "static_type": id(range),
                   "qualname": id(Named.__qualname__), "name": id(name),
                   "tracked": [id(x) for x in tracked]}, f)
    os.abort()
f1()
"""

# Debian 3.11 (x86-64, offsets from its DWARF): PyTypeObject.tp_name 24,
# PyBytesObject.ob_sval 32; PyASCIIObject.length 16; PyFrameObject.f_frame 24;
# _PyInterpreterFrame.previous 48; PyThreadState.next 8;
# PyInterpreterState.next 0; PyGC_Head (16 bytes, before the object):
# _gc_next 0.
CHAIN_CASES = (
    # name, what is patched, a word the warning must hold
    ("gigabyte type name", "a static type's tp_name points at 16 MB of non-NUL bytes that run "
     "to the end of their segment; a class's __qualname__ claims 2^30 characters", "type"),
    ("frame loop", "the outermost frame's `previous` is the innermost", "frame"),
    ("thread loop", "the thread state's `next` is itself", "thread"),
    ("interpreter loop", "the interpreter's `next` is itself", "interpreter"),
    ("gc loop", "a collector list node's _gc_next is an earlier node, not the head", "collector"),
)


def patch_chain(img, case, ids):
    if case == "gigabyte type name":
        img.put(ids["qualname"] + 16, "Q", 1 << 30)
        start = ids["name"] + 32
        img.put(ids["static_type"] + 24, "Q", start)
        # overwrite the terminating NUL and all that follows in the segment
        for vaddr, off, size in img.loads:
            if vaddr <= start < vaddr + size:
                end = vaddr + size
        img.f.seek(img.offset(start))
        img.f.write(b"N" * (end - start))
    elif case == "frame loop":
        inner, outer = (img.u64(f + 24) for f in (ids["frames"][-1], ids["frames"][0]))
        img.put(outer + 48, "Q", inner)
    elif case == "thread loop":
        img.put(ids["tstate"] + 8, "Q", ids["tstate"])
    elif case == "interpreter loop":
        img.put(ids["interp"], "Q", ids["interp"])
    elif case == "gc loop":
        # the last list points back to the first: both are in one collector
        # list (made one after the other, so the first reaches the last)
        first, last = ids["tracked"][0] - 16, ids["tracked"][-1] - 16
        node, steps = first, 0
        while node != last and steps < 100000:
            node, steps = img.u64(node), steps + 1
        if node != last:
            raise ValueError("the tracked lists are not in one collector list")
        img.put(last, "Q", first)


def hostile_chains(c, env):
    """Chains from the core that loop (frames, thread states, interpreters,
    a collector list that never returns to its head) and a type name as
    long as memory: each a warning (exit 1), in bounded time."""
    made = patchable_core(c, "chains", CHAINS_PROGRAM)
    if not made:
        return True
    core, ids = made
    ok = long_type_name(c, core, env)
    for case, what, word in CHAIN_CASES:
        dst = c.path(case.replace(" ", "-"))
        shutil.copyfile(core, dst)
        img = CoreImage(dst)
        try:
            patch_chain(img, case, ids)
        except ValueError as e:
            c.errors += 1
            print("ERROR could not make %s: %s" % (case, e))
            continue
        finally:
            img.f.close()
        good = True
        # the stacks read no collector list and no type name
        for command in ("stacks", "report") if "loop" in case and case != "gc loop" else ("report",):
            if not c.run("%s %s" % (case, command), [dst], (1,), env=env, keep=[dst],
                         command=command):
                good = False
                continue
            warning_list = json.loads(c.last.stdout).get("warnings", [])
            warnings = " ".join(warning_list)
            if word not in warnings and command == "report":
                print("FAIL %s %s: no warning about the %s (%s): %s" % (case, command, word, what,
                                                                     warnings[:300]))
                c.failed += 1
                good = False
            # one loop, one warning: the census and the stacks walk the
            # same chain and must not each warn about it
            loops = [w for w in warning_list if "loops back" in w or "join" in w]
            if "loop" in case and case != "gc loop" and len(loops) != 1:
                print("FAIL %s %s: %d warnings about one loop: %s" % (case, command, len(loops),
                                                                   loops))
                c.failed += 1
                good = False
        if good:
            os.unlink(dst)
        ok &= good
    return ok


def long_type_name(c, core, env):
    """A class whose __qualname__ is longer than the 512 characters read:
    its name is shown cut, ending in "\u2026", with a note (nothing is lost:
    exit 0)."""
    if not c.run("long type name", [core], (0,), env=env, keep=[core], command="summary"):
        return False
    doc = json.loads(c.last.stdout)
    want = "__main__." + "Q" * 512 + "\u2026"
    counts = dict((t["type"], t["count"]) for t in doc.get("types", []))
    notes = [n for n in doc.get("notes", []) if "cut" in n and "512" in n]
    if counts.get(want) != 7 or not notes:
        print("FAIL long type name: expected 7 objects of a type named __main__.Q*512 + "
              "\\u2026 and a note: %s; notes %s"
              % ([(k[:20] + "..." + k[-5:], v) for k, v in counts.items() if "QQQ" in k],
                 doc.get("notes")))
        c.failed += 1
        return False
    return True


def private_temporary(c, env):
    """A compressed core is decompressed into a temporary file: it must be
    private (mode 0600, in $TMPDIR, with no name: O_TMPFILE) while the tool
    runs, and nothing may be left in $TMPDIR after Ctrl-C (SIGINT) or a
    normal exit."""
    core = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "corefiles",
                        "committed", "heap.core.zst")
    tmpdir = c.path("tmpdir")
    os.mkdir(tmpdir, 0o700)
    problems = []
    for interrupt in (True, False):
        proc = subprocess.Popen([c.tool, "--json", "report", core], env=dict(env, TMPDIR=tmpdir),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        seen, deadline = None, time.monotonic() + TIMEOUT
        while seen is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                for fd in os.listdir("/proc/%d/fd" % proc.pid):
                    link = os.readlink("/proc/%d/fd/%s" % (proc.pid, fd))
                    if link.startswith(tmpdir):
                        seen = (link, os.stat("/proc/%d/fd/%s" % (proc.pid, fd)).st_mode & 0o777)
            except OSError:
                pass
            time.sleep(0.01)
        if interrupt and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            problems.append("no exit within %.0f s" % TIMEOUT)
        if seen is None:
            problems.append("the temporary copy was never seen open in TMPDIR")
        elif seen[1] != 0o600 or "(deleted)" not in seen[0]:
            problems.append("temporary copy %s with mode %o: not private" % seen)
        left = os.listdir(tmpdir)
        if left:
            problems.append("left in TMPDIR after %s: %s" % ("SIGINT" if interrupt else "exit", left))
    print("%s temporary files: %s" % ("FAIL" if problems else "PASS",
                                      "; ".join(problems) or "0600, unnamed, none left after SIGINT or exit"))
    c.failed += bool(problems)
    return not problems


def v2_memory_cgroup():
    """A writable cgroup v2 directory with the memory controller where a
    child may be made, or None (v1 hierarchies are left alone)."""
    for mount in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        try:
            with open("/proc/self/cgroup") as f:
                rel = [l.split("::", 1)[1].strip() for l in f if l.startswith("0::")][0]
            here = os.path.join(mount, rel.lstrip("/"))
            with open(os.path.join(here, "cgroup.controllers")) as f:
                if "memory" not in f.read().split():
                    continue
            if os.access(here, os.W_OK):
                return here
        except (OSError, IndexError):
            continue
    return None


def memory_budget(c, env):
    """The graph would not fit: `report` prints what fits with a warning
    that gives the estimate, the limit and what to do (exit 1); `top`,
    which is only the graph, says so (exit 2). --max-memory sets the limit;
    a run in a cgroup v2 too small for the graph degrades the same way
    instead of being killed (skipped where no such cgroup can be made)."""
    core = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "corefiles",
                        "committed", "heap.core.zst")
    ok = c.run("max-memory report", ["--max-memory", "1M", core], (1,), env=env,
               command="report")
    if ok:
        doc = json.loads(c.last.stdout)
        warning = [w for w in doc.get("warnings", []) if "reference graph was not built" in w]
        if not warning or "--max-memory" not in warning[0] or "MiB" not in warning[0] \
                or "largest" in doc or "types" not in doc:
            print("FAIL max-memory report: no summary, or no warning with the estimate: %s"
                  % doc.get("warnings"))
            c.failed += 1
            ok = False
    ok &= c.run("max-memory top", ["--max-memory", "1M", core], (2,), env=env, command="top",
                stderr_must=[("the estimate and what to do", ["--max-memory"])])
    ok &= c.run("max-memory ample", ["--max-memory", "64G", core], (0, 1), env=env,
                command="top")
    parent = v2_memory_cgroup()
    if parent is None:
        print("SKIP cgroup-limited report: no writable cgroup v2 with the memory controller")
        return ok
    child = os.path.join(parent, "pca-budget-%d" % os.getpid())
    try:
        os.mkdir(child)
        with open(os.path.join(child, "memory.max"), "w") as f:
            f.write(str(48 << 20))
        def enter():
            with open(os.path.join(child, "cgroup.procs"), "w") as f:
                f.write("0")
        run = subprocess.run([c.tool, "--json", "report", core], env=env, preexec_fn=enter,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=TIMEOUT, universal_newlines=True)
        good = run.returncode == 1 and "reference graph was not built" in run.stdout
        print("%s cgroup-limited report: exit %s%s" % ("PASS" if good else "FAIL", run.returncode,
                                                     "" if good else ": " + run.stderr[-300:]))
        c.failed += not good
        ok &= good
    except OSError as e:
        print("SKIP cgroup-limited report: %s" % e)
    finally:
        try:
            os.rmdir(child)
        except OSError:
            pass
    return ok


def shrinking_core(c, src, env):
    """`report` on a copy of SRC that is cut to a third while it runs, at
    delays spread over one intact run, until two runs saw the shrink."""
    t0 = time.monotonic()
    corelib.run_tool([c.tool, "--json", "report", src], timeout=TIMEOUT, env=env)
    seconds = time.monotonic() - t0
    dst = c.path("shrinking")
    hits, ok = 0, True
    for attempt in range(12):
        shutil.copyfile(src, dst)
        delay = seconds * (0.05 + 0.9 * ((attempt * 7) % 12) / 12.0)
        timer = threading.Timer(delay, os.truncate, (dst, os.path.getsize(src) // 3))
        timer.start()
        try:
            ok &= c.run("shrinking core %.2f s" % delay, [dst], (0, 1, 2), env=env,
                        keep=[dst], command="report")
        finally:
            timer.join()
        hits += "shrank" in (c.last.stdout + c.last.stderr)
        if hits >= 2 or not ok:
            break
    print("%s shrinking core: the shrink was seen in %d run(s)" % ("PASS" if hits else "FAIL", hits))
    if not hits:
        c.failed += 1
        ok = False
    if ok:
        os.unlink(dst)
    return ok


class Cases(object):
    def __init__(self, tool, workdir):
        self.tool = tool
        self.workdir = workdir
        self.failed = 0
        self.errors = 0

    def path(self, name):
        return os.path.join(self.workdir, name)

    def run(self, name, args, allowed, stderr_must=None, env=None, keep=(), command="stacks"):
        argv = [self.tool, "--json", command] + args
        run = corelib.run_tool(argv, timeout=TIMEOUT, env=env)
        self.last = run
        problems = judge(run, allowed, stderr_must)
        first = (nonblank_lines(run.stderr) or [""])[0][:160]
        if problems:
            self.failed += 1
            print("FAIL %-22s exit %s in %.2f s: %s" % (name, run.returncode, run.seconds,
                                                         "; ".join(problems)))
            print("     " + run.describe().replace("\n", "\n     "))
            for path in keep:
                print("     input kept: %s" % path)
        else:
            print("PASS %-22s exit %s in %.2f s: %s" % (name, run.returncode, run.seconds, first))
        return not problems

    def make(self, what, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (corelib.CoreError, OSError, ValueError) as e:
            self.errors += 1
            print("ERROR could not make %s: %s" % (what, e))
            return None


def main():
    args = corelib.parse_args(__doc__)
    tool = args.tool
    workdir = os.path.join(args.workdir, "bad-input")
    if os.path.exists(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir)
    c = Cases(tool, workdir)
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)     # no network look-ups in tests
    keep_all = False

    # Not a core at all.
    empty = c.path("empty")
    open(empty, "w").close()
    keep_all |= not c.run("empty file", [empty], (2,), env=env, keep=[empty])
    keep_all |= not c.run("non-core ELF", ["/bin/true"], (2,), env=env)
    keep_all |= not c.run("nonexistent path", [c.path("no-such-core")], (2,), env=env)

    # A FIFO: open(2) of one blocks until a writer comes; we must not.
    fifo = c.path("fifo")
    os.mkfifo(fifo)
    keep_all |= not c.run("FIFO", [fifo], (2,), env=env, command="summary",
                          stderr_must=[("the file kind", ["FIFO", "not a regular file"])])

    # A core, but not of Python.
    made = c.make("a core of sh", corelib.make_core, ["/bin/sh", "-c", "kill -ABRT $$"],
                  c.path("sh"), "abort")
    if made:
        keep_all |= not c.run("non-Python core", [made[0]], (2,), env=env, keep=[made[0]])

    # A pyenv 3.12 core with the wrong executable.
    py312 = None
    if os.access(PYENV_312, os.X_OK):
        py312 = c.make("a pyenv 3.12 core", corelib.make_scenario_core, PYENV_312,
                       "stacks_scenario.py", c.path("py312"), "abort")
    else:
        c.errors += 1
        print("ERROR %s is missing" % PYENV_312)
    if py312:
        ids = [("the core's build-id (%s)" % os.path.realpath(PYENV_312),
                [corelib.build_id(os.path.realpath(PYENV_312))]),
               ("the build-id of %s" % corelib.DEBIAN_PYTHON,
                [corelib.build_id(os.path.realpath(corelib.DEBIAN_PYTHON))])]
        keep_all |= not c.run("wrong executable", [py312[0], corelib.DEBIAN_PYTHON], (2,),
                              stderr_must=ids, env=env, keep=[py312[0]])

    # Debian's python3.11 with its debug info hidden: its build is in the
    # built-in layout tables, so it is analysed anyway (a build without debug
    # info and without a table, exit 2: test_stripped.py --no-table-case).
    deb = c.make("a Debian python3.11 core", corelib.make_scenario_core, corelib.DEBIAN_PYTHON,
                 "stacks_scenario.py", c.path("deb311"), "abort")
    if deb:
        hidden = dict(env, PCA_DEBUGINFO_PATH="/nonexistent")
        keep_all |= not c.run("debug info hidden, built-in table", [deb[0]], (0,), env=hidden,
                              keep=[deb[0]])

    # Damaged real Python cores: a result with warnings, or a refusal.
    for label, made_core in (("py3.12", py312), ("deb3.11", deb)):
        if not made_core:
            continue
        src = made_core[0]
        for fraction in (0.5, 0.1):
            dst = c.path("%s-cut%d" % (label, fraction * 100))
            if not c.make("a truncated core", truncated_copy, src, dst, fraction):
                continue
            ok = True
            # every layer: the stacks, the census, the graph analyses
            for command in ("stacks", "summary", "report"):
                ok &= c.run("%s truncated %d%% %s" % (label, fraction * 100, command), [dst],
                            (0, 1, 2), env=env, keep=[dst], command=command)
            if ok:
                os.unlink(dst)
            keep_all |= not ok
        for count in (FLIP_COUNT, HEAVY_FLIP_COUNT):
            dst = c.path("%s-flipped-%d" % (label, count))
            if c.make("a bit-flipped core", flip_bytes, src, dst, count, FLIP_SEED):
                ok = True
                for command in ("stacks", "summary", "report"):
                    ok &= c.run("%s %d flips %s" % (label, count, command), [dst], (0, 1, 2),
                                env=env, keep=[dst], command=command)
                if ok:
                    os.unlink(dst)
                keep_all |= not ok

    keep_all |= not hostile_strings(c, env)
    keep_all |= not hostile_bounds(c, env)
    keep_all |= not hostile_chains(c, env)
    keep_all |= not private_temporary(c, env)
    keep_all |= not memory_budget(c, env)
    if deb:
        # a FIFO passed (or named in the core) as the executable: never opened
        keep_all |= not c.run("FIFO as executable", [deb[0], fifo], (2, 64), env=env)
        keep_all |= not shrinking_core(c, deb[0], env)

    if not keep_all and not c.errors:
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d failed, %d inputs could not be made" % (c.failed, c.errors))
    if c.failed:
        return 1
    return 2 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
