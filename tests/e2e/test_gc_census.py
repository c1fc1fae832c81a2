#!/usr/bin/python3
"""End-to-end test of `pycore-analyze --json summary` on the collector's
objects: a program builds a known heap, writes per type the count and the sum
of sys.getsizeof over gc.get_objects(), and dies; the tool's census of the
core must match per type exactly: every count, and every size the tool does
not flag `size_exact: false`.

  test_gc_census.py --tool build/pycore-analyze --python PYTHON --method abort|gcore --workdir DIR

Objects outside the collector's lists (str, int, ...) are not counted by the
tool yet and not by this truth either.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

# Measured residuals: on 3.6 and 3.7 one tracked tuple more exists at the
# core than at the census (made while writing the truth; not yet traced).
# Exactly these counts are allowed; anything else fails.
KNOWN_DIFFERENCES = {"3.6": {"tuple": 1}, "3.7": {"tuple": 1}}


def check(tool, python, method, workdir):
    version = corelib.python_version(python)
    rundir = os.path.join(workdir, "%s-%s" % (os.path.basename(python), method))
    shutil.rmtree(rundir, ignore_errors=True)
    core, truth, _ = corelib.make_scenario_core(python, "gc_census_scenario.py", rundir, method)
    run = corelib.run_tool([tool, "--json", "summary", core])
    if run.crashed() or run.returncode not in (0, 1):
        print("FAIL %s %s: %s" % (version, method, run.describe()))
        return False
    got = {row["type"]: row for row in json.loads(run.stdout)["types"]}
    expected = truth["types"]
    problems = []
    allowed = KNOWN_DIFFERENCES.get(".".join(version.split(".")[:2]), {})
    for name in sorted(set(expected) | set(got)):
        e = expected.get(name, {"count": 0, "size": 0})
        g = got.get(name, {"count": 0, "size": 0})
        if name in allowed and g["count"] - e["count"] == allowed[name]:
            continue
        if e["count"] != g["count"]:
            problems.append("%-45s count expected %d got %d" % (name, e["count"], g["count"]))
        elif g.get("size_exact", True) and e["size"] != g["size"]:
            problems.append("%-45s size  expected %d got %d (count %d)"
                            % (name, e["size"], g["size"], e["count"]))
    if problems:
        print("FAIL Python %s %s: %d differences (core kept: %s)" % (version, method, len(problems), core))
        for p in problems:
            print("  " + p)
        return False
    print("PASS Python %s %s: %d types, %d objects, tool %.2f s" % (
        version, method, len(expected), sum(e["count"] for e in expected.values()), run.seconds))
    shutil.rmtree(rundir, ignore_errors=True)
    return True


def main():
    def add_arguments(ap):
        ap.add_argument("--python", action="append", required=True)
        ap.add_argument("--method", default="abort", choices=["abort", "gcore", "both"])
    args = corelib.parse_args(__doc__, add_arguments)
    pythons = []
    for p in args.python:
        pythons.extend(corelib.find_interpreters() if p == "all" else [p])
    methods = ["abort", "gcore"] if args.method == "both" else [args.method]
    ok = True
    for python in pythons:
        for method in methods:
            ok = check(args.tool, python, method, args.workdir) and ok
    sys.exit(0 if ok else 1)


main()
