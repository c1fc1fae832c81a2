#!/usr/bin/python3
"""End-to-end test on a real web framework: corefiles/programs/
flask_scenario.py serves requests through Debian's Flask (its test client),
django_scenario.py through Debian's Django (django.test.Client over its
WSGI handler), with the collector off, some requests catching exceptions that are kept
(FAILURES) and some leaving exception -> traceback -> frame -> locals ->
exception cycles as garbage; the test takes a core and compares
`pycore-analyze --json report` and `--json summary` with what the process
said about itself.

  test_framework.py --tool build/pycore-analyze --python PY --workdir DIR
                    [--framework flask|django] [--method abort|gcore]
                    [--dist-packages]

--dist-packages runs PY with PYTHONPATH=/usr/lib/python3/dist-packages (a
pyenv interpreter of the same minor version as Debian's, using Debian's
Flask or Django).

Pass/fail:
  - the tool exits 0 with no warnings (notes are allowed) and does not crash;
  - the report's leak suspects are at most __main__.FAILURES (what the
    scenario keeps) and the garbage: nothing of the framework's or the
    interpreter's; rows of sys.* in `caches` are held_by "interpreter";
  - totals.unreachable of `report` == the collector's verdict (len(gc.garbage)
    under DEBUG_SAVEALL in a forked child at the moment of the core);
  - totals.gc_tracked of `summary` == the objects in the collector's lists
    (len(gc.get_objects()) + gc.get_freeze_count(), the last thing
    counted before the core);
  - the census (`summary`) counts the scenario's types (KeptFailure,
    DroppedFailure, Payload), traceback and every class of the framework's
    packages exactly as gc.get_objects() does (their instances are all
    tracked; the collector never ran), and has no instance of a framework
    class gc.get_objects() does not have.
Exit 0 pass, 1 differ, 2 when no core could be made, 77 (skip) when the
framework is not importable by PY.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

PROGRAMS = {"flask": ("flask_scenario.py", "python3-flask", ("flask", "werkzeug", "jinja2")),
            "django": ("django_scenario.py", "python3-django", ("django",))}
DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
        ap.add_argument("--framework", choices=sorted(PROGRAMS), default="flask")
        ap.add_argument("--method", choices=("abort", "gcore"), default="abort")
        ap.add_argument("--dist-packages", action="store_true")
    args = corelib.parse_args(__doc__, add_arguments)
    env = dict(os.environ)
    if args.dist_packages:
        env["PYTHONPATH"] = DIST_PACKAGES
    program, package, framework_packages = PROGRAMS[args.framework]
    probe = subprocess.run([args.python, "-c", "import " + args.framework], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        print("SKIP: %s cannot import %s (install %s)" % (args.python, args.framework, package))
        sys.exit(77)
    version = corelib.python_version(args.python)
    rundir = os.path.join(args.workdir, "%s-%s-%s" % (args.framework, version, args.method))
    try:
        core, truth, seconds = corelib.make_scenario_core(args.python, program, rundir,
                                                          args.method, env=env)
    except corelib.CoreError as e:
        print("ERROR: no core: %s" % e)
        sys.exit(2)
    what = "Python %s %s (%s)" % (version, args.method, truth.get(args.framework))
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
        # A healthy core of a healthy process: no alarm (notes are fine).
        if run.returncode != 0 or runs[command].get("warnings"):
            problems.append("%s: exit %d, warnings %s (a false alarm)"
                            % (command, run.returncode, runs[command].get("warnings")))
    if "report" in runs:
        got = runs["report"].get("totals", {}).get("unreachable")
        want = truth["unreachable"]["count"]
        if got != want:
            problems.append("totals.unreachable: the collector frees %d tracked objects, the "
                            "tool says %r (%+d); the collector's verdict by type: %s"
                            % (want, got, (got or 0) - want,
                               json.dumps(truth["unreachable"]["types"], sort_keys=True)))
    if "report" in runs:
        # No false alarm on a real application: the only leak suspect there
        # may be is what the scenario keeps on purpose (FAILURES, the kept
        # exceptions with their tracebacks) and the garbage; the framework's
        # and the interpreter's tables are not leaks.
        caches = dict((x.get("address"), x) for x in runs["report"].get("caches") or [])
        for x in runs["report"].get("suspects") or []:
            row = caches.get(x.get("address"), {})
            if x.get("kind") != "garbage" and (x.get("owner") != "__main__.FAILURES" or
                                                row.get("held_by") != "program"):
                problems.append("suspects: %s (%s, %s entries, held by %s) is not a leak of the "
                                "scenario" % (x.get("owner"), x.get("kind"), x.get("entries"),
                                              row.get("held_by")))
        for x in caches.values():
            if (x.get("owner") or "").startswith("sys.") and x.get("held_by") != "interpreter":
                problems.append("caches: %s is the interpreter's, held_by says %r"
                                % (x.get("owner"), x.get("held_by")))
    if "summary" in runs:
        got = runs["summary"].get("totals", {}).get("gc_tracked")
        if got != truth["gc_tracked"]:
            problems.append("totals.gc_tracked: the collector's lists hold %d objects "
                            "(gc.get_objects() + the permanent generation), the tool says %r"
                            % (truth["gc_tracked"], got))
        counts = dict((t["type"], t["count"]) for t in runs["summary"].get("types", []))
        for name, want in sorted(truth["counts"].items()):
            if counts.get(name, 0) != want:
                problems.append("%s: %d in the census, gc.get_objects() has %d"
                                % (name, counts.get(name, 0), want))
        # A framework class the process has no tracked instance of: the
        # census made objects up (its per-class counts are all in truth).
        for name, got in sorted(counts.items()):
            if name.split(".")[0] in framework_packages and name not in truth["counts"]:
                problems.append("%s: %d in the census, gc.get_objects() has none"
                                % (name, got))
    corelib.conclude(what, problems, [rundir],
                     "%s: %d requests, %d unreachable (%d exception cycles), %d types counted "
                     "(%d objects)"
                     % (what, truth["requests"], truth["unreachable"]["count"],
                        truth["unreachable"]["types"].get("__main__.DroppedFailure", 0),
                        len(truth["counts"]), sum(truth["counts"].values())))


main()
