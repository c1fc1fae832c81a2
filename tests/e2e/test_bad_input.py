#!/usr/bin/python3
"""Robustness test: `pycore-analyze --json stacks` on inputs it must refuse
or survive, each with a 60 s timeout.

  test_bad_input.py --tool build/pycore-analyze --workdir DIR

Cases and the exit status each must give (contract: 0 complete, 1 partial,
2 no result):
  empty file, /bin/true (ELF, not a core), core of a non-Python program
  (sh killed by SIGABRT), pyenv 3.12 core with /usr/bin/python3.11 passed as
  EXECUTABLE (stderr names both build-ids), nonexistent path ... exit 2
  core of Debian python3.11 with PCA_DEBUGINFO_PATH=/nonexistent (its build
  is in the built-in layout tables) ............................ exit 0
  real Python cores cut to 50% and 10%, and with 200 bytes of segment data
  flipped (fixed seed) ...... exit 1 or 2, or 0 if stdout is still valid JSON
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
import struct
import sys

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

    if not keep_all and not c.errors:
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d failed, %d inputs could not be made" % (c.failed, c.errors))
    if c.failed:
        return 1
    return 2 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
