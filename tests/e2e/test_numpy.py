#!/usr/bin/python3
"""End-to-end test on numpy (Debian's python3-numpy): corefiles/programs/
numpy_scenario.py holds arrays of many dtypes, views, a 0-d array, a
structured array, a matrix, a MaskedArray, a memmap, scalars of every kind
and a 32 MB array; the test takes a core and compares the tool's sizes
(numpy's __sizeof__, modelled in src/objects/numpy.c) with what the process
said about itself.

  test_numpy.py --tool build/pycore-analyze --python PY --workdir DIR
                [--method abort|gcore] [--dist-packages]

--dist-packages runs PY with PYTHONPATH=/usr/lib/python3/dist-packages (a
pyenv interpreter of the same minor version as Debian's, using Debian's
numpy).

Pass/fail:
  - `summary` exits 0 with no warnings and no note about a numpy type (every
    numpy type's size is modelled);
  - every numpy type of the truth (objects reachable through the collector's
    lists plus arrays' bases) has the same count and total size in the
    census (`summary`), and the census has no numpy array or scalar the
    truth lacks;
  - each object the scenario named has the size sys.getsizeof gave (`top`
    over every object);
  - `top`: the 32 MB array (BIG) comes first, owned by __main__.BIG; a view
    whose base nothing else holds (ORPHAN_VIEW) retains its base (the view's
    size plus the base's), a view of a global array (VIEW) only itself;
  - `report` with PCA_DUMP_EXTERNAL: no array the scenario named, nor any
    base of its views, is held by references the graph does not see (a
    view's reference to its base is an edge).
--pandas (NUMPY_SCENARIO_PANDAS=1; skipped without python3-pandas): the
scenario also holds FRAME, a DataFrame of float, int and str columns; the
per-type census is not compared (pandas' Cython objects hold arrays in C
members beyond its blocks), but each block's values array must be in
`top` with its size, owned through __main__.FRAME, and FRAME's retained
size (`show`) must be its memory_usage(deep=True) plus at most 64 KiB of
headers; named objects are checked only when among the 40 largest.
Exit 0 pass, 1 differ, 2 when no core could be made, 77 (skip) when numpy
is not importable by PY.
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

DIST_PACKAGES = "/usr/lib/python3/dist-packages"
PROGRAM = "numpy_scenario.py"


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
        ap.add_argument("--method", choices=("abort", "gcore"), default="abort")
        ap.add_argument("--dist-packages", action="store_true")
        ap.add_argument("--pandas", action="store_true")
    args = corelib.parse_args(__doc__, add_arguments)
    env = dict(os.environ)
    if args.dist_packages:
        env["PYTHONPATH"] = DIST_PACKAGES
    module, package = ("pandas", "python3-pandas") if args.pandas else ("numpy", "python3-numpy")
    if args.pandas:
        env["NUMPY_SCENARIO_PANDAS"] = "1"
    probe = subprocess.run([args.python, "-c", "import " + module], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        print("SKIP: %s cannot import %s (install %s)" % (args.python, module, package))
        sys.exit(77)
    version = corelib.python_version(args.python)
    rundir = os.path.join(args.workdir, "%s-%s-%s" % (module, version, args.method))
    shutil.rmtree(rundir, ignore_errors=True)
    try:
        core, truth, _ = corelib.make_scenario_core(args.python, PROGRAM, rundir, args.method,
                                                    env=env)
    except corelib.CoreError as e:
        print("ERROR: no core: %s" % e)
        sys.exit(2)
    what = "Python %s %s (numpy %s%s)" % (version, args.method, truth["numpy"],
                                           ", pandas %s" % truth["pandas"]["version"]
                                           if args.pandas else "")
    problems = []
    runs = {}
    dump = os.path.join(rundir, "external.txt")
    commands = [("summary", ["summary"], None),
                ("top", ["top", "-n", "1000000"], None),
                ("report", ["report"], dict(os.environ, PCA_DUMP_EXTERNAL=dump))]
    if args.pandas:
        # pandas' heap is large: every row of `top` (an owner path each)
        # takes minutes under the sanitizers; the largest rows hold the
        # frame's blocks, `show` the frame.
        commands = [("top", ["top", "-n", "40"], None),
                    ("show", ["show", truth["pandas"]["address"]], None)]
    for command, argv, run_env in commands:
        run = corelib.run_tool([args.tool, "--json"] + argv + [core], env=run_env)
        if run.crashed() or run.returncode != 0:
            problems.append("%s: %s" % (command, run.describe()))
            continue
        runs[command] = json.loads(run.stdout)
        if runs[command].get("warnings"):
            problems.append("%s: warnings %s" % (command, runs[command]["warnings"]))
        numpy_notes = [n for n in runs[command].get("notes", []) if "numpy" in n]
        if numpy_notes:
            problems.append("%s: notes about numpy types: %s" % (command, numpy_notes))

    objects = truth["objects"]
    if "summary" in runs and "types" in truth:
        census = dict((t["type"], t) for t in runs["summary"]["types"])
        for name, (count, size) in sorted(truth["types"].items()):
            got = census.get(name, {})
            if (got.get("count"), got.get("size")) != (count, size) or "size_exact" in got:
                problems.append("%s: %s objects of %s bytes in the census, the process has %d of %d"
                                "%s" % (name, got.get("count"), got.get("size"), count, size,
                                        " (size approximate)" if "size_exact" in got else ""))
        # Modelled kinds the truth lacks: the census made objects up.
        modelled = set(o["type"] for o in objects.values())
        for name, got in sorted(census.items()):
            if name in modelled and name not in truth["types"]:
                problems.append("%s: %d in the census, none in the process" % (name, got["count"]))

    if "top" in runs:
        largest = runs["top"].get("largest", [])
        by_address = dict((r["address"], r) for r in largest)
        for name, want in sorted(objects.items()):
            got = by_address.get(want["address"])
            if got is None and args.pandas:
                continue
            if got is None:
                problems.append("%s (%s at %s): not in `top`" % (name, want["type"], want["address"]))
            elif (got["type"], got["size"]) != (want["type"], want["size"]):
                problems.append("%s: %s of %d bytes, the process says %s of %d"
                                % (name, got["type"], got["size"], want["type"], want["size"]))
        big = objects["BIG"]
        if not largest or largest[0]["address"] != big["address"] or \
                largest[0].get("owner") != "__main__.BIG":
            problems.append("top: the first row is %s, not BIG (%s, owner __main__.BIG)"
                            % (largest[:1], big["address"]))
        elif largest[0]["retained"] != big["size"]:
            problems.append("top: BIG retains %d, its size is %d"
                            % (largest[0]["retained"], big["size"]))
        orphan = objects["ORPHAN_VIEW"]
        row, base = by_address.get(orphan["address"]), by_address.get(orphan["base"] or "")
        if row and base and row["retained"] != orphan["size"] + base["size"]:
            problems.append("ORPHAN_VIEW retains %d: its size %d plus its base's %d (held by "
                            "the view alone) is %d" % (row["retained"], orphan["size"],
                                                      base["size"], orphan["size"] + base["size"]))
        view = by_address.get(objects["VIEW"]["address"])
        if view and view["retained"] != objects["VIEW"]["size"]:
            problems.append("VIEW retains %d, its base is a global: only itself (%d)"
                            % (view["retained"], objects["VIEW"]["size"]))

    if "top" in runs and "show" in runs:
        frame = truth["pandas"]
        row = runs["show"].get("object")
        # What the frame retains: its blocks' arrays, an object column's
        # strings (memory_usage(deep=True)), plus the headers of the
        # frame's Python and Cython objects (the index, the manager, the
        # blocks, their dicts): a few KiB.
        if row is None or not frame["deep"] <= row["retained"] <= frame["deep"] + 64 * 1024:
            problems.append("FRAME (%s) retains %s; memory_usage(deep=True) says %d"
                            % (frame["address"], row and row["retained"], frame["deep"]))
        for block in frame["blocks"]:
            got = by_address.get(block["address"])
            if got is None or got["size"] != block["size"] or \
                    not got.get("owner", "").startswith("__main__.FRAME"):
                problems.append("FRAME's %s block values (%s, %d bytes): %s"
                                % (block["dtype"], block["address"], block["size"], got))

    if "report" in runs and os.path.exists(dump):
        excess = {}
        with open(dump) as f:
            for line in f:
                addr, rest = line.split(" ", 1)
                excess["0x" + addr.lower().replace("0x", "")] = rest.strip()
        # Arrays and their bases (numpy.bool_'s True and False are C
        # singletons, held by numpy's static data).
        for name, o in sorted(objects.items()):
            if name.startswith("SCALARS"):
                continue
            for key in ("address", "base"):
                if o[key] and o[key] in excess:
                    problems.append("%s's %s %s is held by references the graph does not see "
                                    "(%s)" % (name, key, o[key], excess[o[key]]))
    passed = "%s: %d numpy types, %d named objects, BIG first" % (
        what, len(truth.get("types", ())), len(objects))
    if "pandas" in truth:
        passed += "; FRAME's %d blocks found, memory_usage(deep=True) %d" % (
            len(truth["pandas"]["blocks"]), truth["pandas"]["deep"])
    corelib.conclude(what, problems, [rundir], passed)


main()
