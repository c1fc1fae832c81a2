#!/usr/bin/python3
"""End-to-end test on a real web framework: corefiles/programs/
flask_scenario.py serves requests through Debian's Flask (its test client)
with the collector off, some requests catching exceptions that are kept
(FAILURES) and some leaving exception -> traceback -> frame -> locals ->
exception cycles as garbage; the test takes a core and compares
`pycore-analyze --json report` and `--json summary` with what the process
said about itself.

  test_framework.py --tool build/pycore-analyze --python PY --workdir DIR
                    [--method abort|gcore] [--dist-packages]

--dist-packages runs PY with PYTHONPATH=/usr/lib/python3/dist-packages (a
pyenv interpreter of the same minor version as Debian's, using Debian's
Flask).

Pass/fail:
  - the tool exits 0 or 1 and does not crash;
  - totals.unreachable of `report` == the collector's verdict (len(gc.garbage)
    under DEBUG_SAVEALL in a forked child at the moment of the core);
  - the census (`summary`) counts the scenario's types (KeptFailure,
    DroppedFailure, Payload) and traceback exactly as gc.get_objects() does
    (all of them are tracked; the collector never ran).
Exit 0 pass, 1 differ, 2 when no core could be made, 77 (skip) when Flask is
not importable by PY.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

PROGRAM = "flask_scenario.py"
DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
        ap.add_argument("--method", choices=("abort", "gcore"), default="abort")
        ap.add_argument("--dist-packages", action="store_true")
    args = corelib.parse_args(__doc__, add_arguments)
    env = dict(os.environ)
    if args.dist_packages:
        env["PYTHONPATH"] = DIST_PACKAGES
    probe = subprocess.run([args.python, "-c", "import flask"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        print("SKIP: %s cannot import flask (install python3-flask)" % args.python)
        sys.exit(77)
    version = corelib.python_version(args.python)
    rundir = os.path.join(args.workdir, "framework-%s-%s" % (version, args.method))
    try:
        core, truth, seconds = corelib.make_scenario_core(args.python, PROGRAM, rundir,
                                                          args.method, env=env)
    except corelib.CoreError as e:
        print("ERROR: no core: %s" % e)
        sys.exit(2)
    what = "Python %s %s (%s)" % (version, args.method, truth.get("flask"))
    if truth["self_check_problems"]:
        print("ERROR: the scenario's truth failed its own checks: %s"
              % truth["self_check_problems"])
        sys.exit(2)
    problems = []
    runs = {}
    for command in ("report", "summary"):
        run = corelib.run_tool([args.tool, "--json", command, core])
        if run.crashed() or run.returncode not in (0, 1):
            problems.append("%s: %s" % (command, run.describe()))
            continue
        runs[command] = json.loads(run.stdout)
    if "report" in runs:
        got = runs["report"].get("totals", {}).get("unreachable")
        want = truth["unreachable"]["count"]
        if got != want:
            problems.append("totals.unreachable: the collector frees %d tracked objects, the "
                            "tool says %r (%+d); the collector's verdict by type: %s"
                            % (want, got, (got or 0) - want,
                               json.dumps(truth["unreachable"]["types"], sort_keys=True)))
    if "summary" in runs:
        counts = dict((t["type"], t["count"]) for t in runs["summary"].get("types", []))
        for name, want in sorted(truth["counts"].items()):
            if counts.get(name, 0) != want:
                problems.append("%s: %d in the census, gc.get_objects() has %d"
                                % (name, counts.get(name, 0), want))
    corelib.conclude(what, problems, [rundir],
                     "%s: %d requests, %d unreachable (%d exception cycles), counts %s"
                     % (what, truth["requests"], truth["unreachable"]["count"],
                        truth["unreachable"]["types"].get("__main__.DroppedFailure", 0),
                        json.dumps(truth["counts"], sort_keys=True)))


main()
