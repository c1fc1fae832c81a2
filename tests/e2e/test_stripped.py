#!/usr/bin/python3
"""End-to-end test of analysis without debug info: stripped twins of each
interpreter give the same results from the built-in layout tables as the
same core gives with DWARF.

  test_stripped.py --tool build/pycore-analyze --python PY [--python all]
                   --workdir DIR [--no-table-case | --other-build-case]

For a pyenv interpreter: copies its executable and libpython into a twin
directory, `objcopy --strip-all` both (the build-id stays), and runs the
twin with its libpython first on the library path (LD_LIBRARY_PATH beats the
original's RUNPATH) and PYTHONHOME at the original's prefix. For Debian's
python3.11 (already stripped, DWARF in python3.11-dbg): the binary as it is,
with the debug-info search pointed at an empty directory
(PCA_DEBUGINFO_PATH). Then, on ONE core of corefiles/programs/leaks_scenario.py
(abort) made with the twin:
  - without debug info: `--json report` has layout_source "table";
  - with debug info (pyenv: --debug-dir DIR holding .build-id/xx/yyy.debug,
    a link to the original unstripped libpython; Debian: the default
    /usr/lib/debug): layout_source "dwarf";
  - everything else in the two JSON reports is equal (stacks, per-type
    summary, totals, caches, cycles, largest and owner paths, warnings,
    notes), and so is the exit status; so is `stacks` text output.
With --no-table-case (run for one interpreter): a twin whose libpython's
build-id was changed (one byte of the note), with no table row of its minor
(PCA_TEST_LAYOUT_TABLES, the test-only replacement of the built-in rows,
names an empty file): the tool must exit 2 and its message name the version
and what would help (-dbg, DEBUGINFOD_URLS, --debug-dir, --layout-from).
With --other-build-case: another build of the same minor. For a pyenv
interpreter, a twin whose build-id was changed (so no row is its own) is read
with the original's row (the same-minor rule) and compared with
`--layout-from ORIGINAL` (the original's DWARF, warned as another build-id);
if the table has a row of the same minor from another build (Debian 3.11.2
for pyenv 3.11.7), that row alone is used too. For Debian's python3.11, its
own row is hidden and pyenv 3.11.7's row read against its -dbg DWARF. Each
must equal the DWARF result in stacks, summary, totals, caches, cycles,
largest and notes (not pymalloc's section before 3.12: its statics are local
symbols), with a warning naming both builds, layout_source "table" (3.13+:
"debug_offsets"); and a row with one offset changed (PyThreadState.interp)
must stop with exit 2, saying what would help.
Exit 0 when all pass, 1 when one differs, 2 when a core could not be made.
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import gen_layout_tables  # noqa: E402

PROGRAM = "leaks_scenario.py"
TABLES = os.path.join(REPO, "src", "layout", "tables", "tables.c")
# Keys a borrowed table may lack: pymalloc's statics (before 3.12) are local
# symbols only the exact build's debug info names.
STATICS_KEYS = ("allocator", "unreachable_allocations")


def runtime_lib(python):
    out = subprocess.run(["ldd", python], stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("libpython3") and len(parts) >= 3:
            return parts[0], os.path.realpath(parts[2])
    return None, None


def make_twin(python, twindir, change_build_id=False):
    """(twin python, env to run it, debug dir for DWARF or None, runtime file)."""
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)
    if python == corelib.DEBIAN_PYTHON:
        return python, env, None, python
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(python)))
    soname, lib = runtime_lib(python)
    if not lib:
        raise corelib.CoreError("%s links no libpython" % python)
    os.makedirs(os.path.join(twindir, "bin"))
    os.makedirs(os.path.join(twindir, "lib"))
    exe = os.path.join(twindir, "bin", os.path.basename(python))
    twinlib = os.path.join(twindir, "lib", soname)
    subprocess.run(["objcopy", "--strip-all", os.path.realpath(python), exe], check=True)
    subprocess.run(["objcopy", "--strip-all", lib, twinlib], check=True)
    bid = corelib.build_id(lib)
    if change_build_id:
        with open(twinlib, "rb") as f:
            data = bytearray(f.read())
        at = data.find(bytes.fromhex(bid))
        data[at] ^= 0xff
        with open(twinlib, "wb") as f:
            f.write(data)
    dbg = os.path.join(twindir, "debug")
    os.makedirs(os.path.join(dbg, ".build-id", bid[:2]))
    os.symlink(lib, os.path.join(dbg, ".build-id", bid[:2], bid[2:] + ".debug"))
    env["LD_LIBRARY_PATH"] = os.path.join(twindir, "lib")
    env["PYTHONHOME"] = prefix
    return exe, env, dbg, twinlib


def analyse(tool, core, env, args):
    return corelib.run_tool([tool, "--no-progress"] + args + [core], env=env)


def without_source(text):
    doc = json.loads(text)
    source = doc.get("python", {}).pop("layout_source", None)
    return source, doc


def check_interpreter(tool, python, workdir, problems):
    version, tag, rundir = corelib.run_names(python, "abort", workdir, "stripped")
    twin, env, dbg, runtime = make_twin(python, os.path.join(rundir, "twin"))
    core, _, _ = corelib.make_scenario_core(twin, PROGRAM, rundir, "abort", env=env)
    nodebug = dict(env, PCA_DEBUGINFO_PATH=os.path.join(rundir, "empty"))
    os.makedirs(nodebug["PCA_DEBUGINFO_PATH"])
    debug_args = ["--debug-dir", dbg] if dbg else []
    table_env = nodebug
    dwarf_env = env
    before = len(problems)
    for cmd in (["--json", "report"], ["stacks"]):
        t = analyse(tool, core, table_env, cmd)
        d = analyse(tool, core, dwarf_env, debug_args + cmd)
        what = "%s %s" % (tag, " ".join(cmd))
        if t.returncode != d.returncode or t.returncode not in (0, 1):
            problems.append("%s: exit %s without debug info, %s with (stderr: %s)"
                            % (what, t.returncode, d.returncode, t.stderr.strip()[-300:]))
            continue
        if cmd[0] == "--json":
            ts, tdoc = without_source(t.stdout)
            ds, ddoc = without_source(d.stdout)
            if ts != "table" or ds != "dwarf":
                problems.append("%s: layout_source %s / %s, want table / dwarf" % (what, ts, ds))
            for key in sorted(set(tdoc) | set(ddoc)):
                if tdoc.get(key) != ddoc.get(key):
                    problems.append("%s: %r differs: table %s / dwarf %s" % (
                        what, key, json.dumps(tdoc.get(key))[:300],
                        json.dumps(ddoc.get(key))[:300]))
        else:
            tl = [l for l in t.stdout.splitlines() if not l.startswith("python:")]
            dl = [l for l in d.stdout.splitlines() if not l.startswith("python:")]
            if tl != dl:
                problems.append("%s: stacks differ:\n%s\n--- dwarf:\n%s" % (
                    what, t.stdout[-1500:], d.stdout[-1500:]))
    if dbg:
        # --layout-from: the original unstripped libpython's DWARF and symbols.
        lib = runtime_lib(python)[1]
        t = analyse(tool, core, table_env, ["--layout-from", lib, "--json", "report"])
        d = analyse(tool, core, dwarf_env, debug_args + ["--json", "report"])
        if t.returncode != d.returncode or t.returncode not in (0, 1):
            problems.append("%s --layout-from: exit %s, %s with debug info (stderr: %s)"
                            % (tag, t.returncode, d.returncode, t.stderr.strip()[-300:]))
        elif json.loads(t.stdout) != json.loads(d.stdout):
            problems.append("%s --layout-from: the report differs from the one with debug info"
                            % tag)
    if len(problems) == before:
        os.unlink(core)
    print("%s %s: %s" % ("ok  " if len(problems) == before else "FAIL", tag, runtime))
    return rundir


def write_rows(path, rows, change=None):
    """A PCA_TEST_LAYOUT_TABLES file; change(line) may rewrite records."""
    with open(path, "w") as f:
        for bid, version, build, lines in rows:
            f.write("R %s %s %s\n" % (bid, version, build))
            for line in lines:
                f.write((change(line) if change else line) + "\n")
    return path


def minor_of(version):
    return ".".join(version.split(".")[:2])


def shift_tstate_interp(line):
    """PyThreadState.interp 8 bytes off: a layout that is not the build's."""
    words = line.split(" ")
    if words[:3] == ["M", "_ts", "interp"] and words[3] != "-":
        words[3] = str(int(words[3]) + 8)
    return " ".join(words)


def stacks_lines(text):
    out = []
    for line in text.splitlines():
        if line.startswith("warnings:"):
            break
        if not line.startswith("python:"):
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out


def compare_borrowed(tool, core, what, borrowed_env, ref_env, ref_args, want_source,
                     ref_source, borrowed_version, problems):
    """The same core read with another build's table and with DWARF."""
    t = analyse(tool, core, borrowed_env, ["--json", "report"])
    d = analyse(tool, core, ref_env, ref_args + ["--json", "report"])
    if t.returncode != 1 or d.returncode not in (0, 1):
        problems.append("%s: exit %s with another build's table (want 1: warned), %s with DWARF"
                        " (stderr: %s)" % (what, t.returncode, d.returncode,
                                           t.stderr.strip()[-400:]))
        return
    ts, tdoc = without_source(t.stdout)
    ds, ddoc = without_source(d.stdout)
    if ts != want_source or ds != ref_source:
        problems.append("%s: layout_source %s / %s, want %s / %s"
                        % (what, ts, ds, want_source, ref_source))
    warned = [w for w in tdoc.get("warnings", []) if w.startswith("no layout table for")]
    if not warned or "table of %s" % borrowed_version not in warned[0]:
        problems.append("%s: no warning naming the borrowed table of %s: %s"
                        % (what, borrowed_version, tdoc.get("warnings")))
    for key in sorted(set(tdoc) | set(ddoc)):
        if key == "warnings" or (key in STATICS_KEYS and key not in tdoc):
            continue
        if tdoc.get(key) != ddoc.get(key):
            problems.append("%s: %r differs: table %s / dwarf %s" % (
                what, key, json.dumps(tdoc.get(key))[:300], json.dumps(ddoc.get(key))[:300]))
    t = analyse(tool, core, borrowed_env, ["stacks"])
    d = analyse(tool, core, ref_env, ref_args + ["stacks"])
    if stacks_lines(t.stdout) != stacks_lines(d.stdout):
        problems.append("%s: stacks differ:\n%s\n--- dwarf:\n%s" % (
            what, t.stdout[-1500:], d.stdout[-1500:]))


def check_other_build(tool, python, workdir, problems):
    version, tag, rundir = corelib.run_names(python, "abort", workdir, "other-build")
    before = len(problems)
    rows = gen_layout_tables.read_rows(TABLES)
    debian = python == corelib.DEBIAN_PYTHON
    twin, env, dbg, runtime = make_twin(python, os.path.join(rundir, "twin"),
                                        change_build_id=not debian)
    own_id = corelib.build_id(runtime) if debian else corelib.build_id(runtime_lib(python)[1])
    core, _, _ = corelib.make_scenario_core(twin, PROGRAM, rundir, "abort", env=env)
    nodebug = dict(env, PCA_DEBUGINFO_PATH=os.path.join(rundir, "empty"))
    os.makedirs(nodebug["PCA_DEBUGINFO_PATH"])
    want_source = "debug_offsets" if tuple(map(int, version.split(".")[:2])) >= (3, 13) \
        else "table"
    same_minor = [r for r in rows if minor_of(r[1]) == minor_of(version)]
    if debian:
        # Its own row hidden: pyenv's row of the minor, against its -dbg DWARF.
        ref_env, ref_args, ref_source = env, [], "dwarf"
        cases = [[r] for r in same_minor if r[0] != own_id]
    else:
        # The changed build-id has no row: the built-in rows (the original's
        # row by the same-minor rule), then each other build's row alone;
        # the reference is the original's DWARF through --layout-from.
        lib = runtime_lib(python)[1]
        # (3.13+: its _Py_DebugOffsets for what they cover, as it is
        # another build's DWARF)
        ref_env, ref_args, ref_source = nodebug, ["--layout-from", lib], \
            "debug_offsets" if want_source == "debug_offsets" else "dwarf"
        cases = [None] + [[r] for r in same_minor if r[0] != own_id]
        d = analyse(tool, core, ref_env, ref_args + ["summary"])
        changed = corelib.build_id(runtime)
        if d.returncode != 1 or not all(b in d.stdout + d.stderr for b in (own_id, changed)):
            problems.append("%s --layout-from with another build-id: exit %s (want 1), and a "
                            "warning naming both build-ids %s and %s: %s"
                            % (tag, d.returncode, own_id, changed,
                               (d.stdout + d.stderr)[-600:]))
    if not cases:
        problems.append("%s: the table has no other build of %s" % (tag, minor_of(version)))
    for i, case in enumerate(cases):
        benv = dict(nodebug)
        if case is None:
            borrowed = [r for r in same_minor if r[0] == own_id][0]
        else:
            borrowed = case[0]
            benv["PCA_TEST_LAYOUT_TABLES"] = write_rows(
                os.path.join(rundir, "rows-%d.txt" % i), case)
        compare_borrowed(tool, core, "%s with the table of %s" % (tag, borrowed[2]), benv,
                         ref_env, ref_args, want_source, ref_source, borrowed[1], problems)
        # The same row with one offset wrong: validation stops it.
        bad = dict(nodebug, PCA_TEST_LAYOUT_TABLES=write_rows(
            os.path.join(rundir, "bad-rows-%d.txt" % i), [borrowed], shift_tstate_interp))
        run = analyse(tool, core, bad, ["summary"])
        if run.returncode != 2 or "--layout-from" not in run.stderr or run.stdout:
            problems.append("%s with a wrong table of %s: exit %s (want 2, nothing on stdout, "
                            "what would help on stderr): %s"
                            % (tag, borrowed[1], run.returncode, run.stderr.strip()[-400:]))
    ok = len(problems) == before
    if ok:
        os.unlink(core)
    print("%s %s, another build of the minor: %s" % ("ok  " if ok else "FAIL", tag, runtime))
    return rundir


def check_no_table(tool, python, workdir, problems):
    version, tag, rundir = corelib.run_names(python, "abort", workdir, "no-table")
    twin, env, _, runtime = make_twin(python, os.path.join(rundir, "twin"),
                                      change_build_id=True)
    # No row at all: the same-minor rule would otherwise use the original's.
    env["PCA_TEST_LAYOUT_TABLES"] = write_rows(os.path.join(rundir, "no-rows.txt"), [])
    core, _, _ = corelib.make_core([twin, "-c", "import os; os.abort()"],
                                   os.path.join(rundir, "core-dir"), "abort", env=env)[:3]
    run = analyse(tool, core, env, ["summary"])
    minor = ".".join(version.split(".")[:2])
    want = ["Python " + minor, "-dbg", "DEBUGINFOD_URLS", "--debug-dir", "--layout-from"]
    missing = [w for w in want if w not in run.stderr]
    if run.returncode != 2 or missing:
        problems.append("%s without a table: exit %s (want 2), message lacks %s: %s"
                        % (tag, run.returncode, missing, run.stderr.strip()))
    else:
        os.unlink(core)
    print("%s %s without a table: %s" % ("ok  " if run.returncode == 2 and not missing
                                          else "FAIL", tag, run.stderr.strip()))
    return rundir


def main():
    def add(ap):
        ap.add_argument("--python", action="append", required=True)
        ap.add_argument("--no-table-case", action="store_true")
        ap.add_argument("--other-build-case", action="store_true")
    args = corelib.parse_args(__doc__, add)
    pythons = []
    for p in args.python:
        pythons.extend(corelib.find_interpreters() if p == "all" else [p])
    problems, dirs = [], []
    try:
        for py in pythons:
            if args.no_table_case:
                dirs.append(check_no_table(args.tool, py, args.workdir, problems))
            elif args.other_build_case:
                dirs.append(check_other_build(args.tool, py, args.workdir, problems))
            else:
                dirs.append(check_interpreter(args.tool, py, args.workdir, problems))
    except corelib.CoreError as e:
        print("ERROR: %s" % e)
        sys.exit(2)
    corelib.conclude("stripped", problems, dirs if problems else dirs,
                     "%d interpreter(s)" % len(pythons))


if __name__ == "__main__":
    main()
