#!/usr/bin/python3
"""End-to-end test of "unreachable allocations": a program leaks references
(Py_IncRef on 1000 bytes objects and 500 floats it then drops); the tool's
`unreachable_allocations` of that core must exceed those of a control core
of the same program leaking nothing by exactly 1000 bytes objects and 500
floats (objects only C holds are in both and cancel out), and so must its
"held by C code or leaked" part (`unexplained`) up to STALE_MAX: a leaked
object that a stale word in a C extension's static data still points at
(measured: 0-6 of the 1500, ctypes' own statics after the Py_IncRef calls)
is taken for held; it is still counted among the unreferenced objects.

The control core (a clean process, no leaked reference) must not cry wolf:
at most UNEXPLAINED_MAX objects are "held by C code or leaked", and no row
has a size a pymalloc block cannot hold for a type whose size is inline.

  test_refleak.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

LEAK = 1000
CENSUS_NOISE = 1
# A clean process: the objects nothing in the core explains (measured: 0-4 on
# 3.6-3.13; e.g. importer instances held by a C pointer we do not scan).
UNEXPLAINED_MAX = 10
STALE_MAX = 10


def unreachable(tool, python, workdir, n):
    rundir = os.path.join(workdir, "leak-%d" % n)
    shutil.rmtree(rundir, ignore_errors=True)
    env = dict(os.environ, PCA_LEAK=str(n))
    core, truth, _ = corelib.make_scenario_core(python, "refleak_scenario.py", rundir, "abort", env=env)
    run = corelib.run_tool([tool, "--json", "summary", core])
    if run.crashed() or run.returncode not in (0, 1):
        raise SystemExit("FAIL: %s" % run.describe())
    doc = json.loads(run.stdout)
    ua = doc["unreachable_allocations"]
    types = dict((r["type"], r["count"]) for r in ua["types"])
    unexplained = dict((r["type"], r["count"]) for r in ua["unexplained"]["types"])
    in_census = dict((r["type"], r["count"]) for r in doc["types"])
    return types, unexplained, ua, in_census, truth, rundir


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
    args = corelib.parse_args(__doc__, add_arguments)
    version = corelib.python_version(args.python)
    base, base_un, base_ua, base_census, _, base_dir = unreachable(args.tool, args.python, args.workdir, 0)
    leaked, leaked_un, _, leaked_census, truth, leak_dir = unreachable(args.tool, args.python, args.workdir, LEAK)
    problems = []
    if base_ua["unexplained"]["objects"] > UNEXPLAINED_MAX:
        problems.append("the clean control core has %d objects \"held by C code or leaked\" (at most %d): %s"
                        % (base_ua["unexplained"]["objects"], UNEXPLAINED_MAX,
                           json.dumps(base_ua["unexplained"]["types"])[:1500]))
    for r in base_ua["types"]:
        # str, bytes, tuple, int, float: inline sizes, a pymalloc block is <= 512 bytes
        if r["type"] in ("str", "bytes", "tuple", "int", "float") and r["size"] > 512 * r["count"]:
            problems.append("impossible size in the control: %s" % json.dumps(r))
    for name, n in sorted(truth["leaked"].items()):
        got = leaked.get(name, 0) - base.get(name, 0)
        if got != n:
            problems.append("%s: %d more unreachable allocations than the control, expected %d"
                            % (name, got, n))
        # (+ CENSUS_NOISE: one bytes object more, as in the census check
        # below; seen once on 3.9.18, 1001 for 1000 leaked, not reproduced
        # in three reruns)
        got = leaked_un.get(name, 0) - base_un.get(name, 0)
        if not n - STALE_MAX <= got <= n + CENSUS_NOISE:
            problems.append("%s: %d more \"held by C code or leaked\" than the control, expected %d"
                            % (name, got, n))
        # never silently added to the census: the two runs' censuses differ
        # by at most one bytes object (measured: the leaking run holds one
        # more, made by ctypes' call, on 3.6-3.13), never by the leak
        diff = leaked_census.get(name, 0) - base_census.get(name, 0)
        if abs(diff) > CENSUS_NOISE:
            problems.append("%s: the census changed by %d (leaked objects must not be in it)"
                            % (name, diff))
    corelib.conclude("Python %s" % version, problems, [base_dir, leak_dir],
                     "Python %s: %d bytes and %d floats leaked, all found outside the census"
                     % (version, truth["leaked"]["bytes"], truth["leaked"]["float"]))


main()
