#!/usr/bin/python3
"""End-to-end exactness sweep over the standard library's C types:
corefiles/programs/stdlib_scenario.py holds live instances of what a real
service uses (asyncio, threading with a running thread, sqlite3, decimal,
zoneinfo, re, json, ElementTree, ssl, hashlib, compressors, array, mmap,
collections, itertools, functools, weakref, contextvars, io, sockets,
pickle, logging, ctypes ...) and garbage cycles through some of them, and
writes the in-process truth; the test takes a core and compares
`pycore-analyze --json report` with it, type by type.

  test_stdlib.py --tool build/pycore-analyze --python PY --workdir DIR
                 [--method abort|gcore]

Pass/fail (every difference fails unless ALLOWED names it, with its reason):
  - the tool exits 0 with no warnings (notes are allowed);
  - per type: count and size (sys.getsizeof) equal to the truth's census
    (scenario_truth.compute_truth); a size may differ only for a type the
    tool names in its notes as approximate;
  - totals.gc_tracked == the objects in the collector's lists;
  - totals.unreachable == the collector's verdict (a forked child's
    gc.collect() under DEBUG_SAVEALL);
  - reference count minus in-degree (PCA_DUMP_EXTERNAL, test_external.py's
    method): every type with references the graph does not explain is in
    test_external.EXPLAINED or EXTERNAL_ALLOWED (else: a missing edge).
Exit 0 pass, 1 differ, 2 no core / the truth failed its own checks.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402
from test_external import IMMORTAL, excess_by_type, explained  # noqa: E402

PROGRAM = "stdlib_scenario.py"
NOTE = re.compile(r"^sizes of (.+) objects are approximate")

# Per-type differences that are known and cannot be exact, by type name:
# (versions it applies to as "3.N" prefixes, or None for all; what may
# differ: "count", "size" or "both"; why). Measured on 3.6.15 ... 3.13.0
# and Debian 3.11.
ALLOWED = {
}

# Types whose references the graph cannot explain beyond test_external's
# EXPLAINED: who holds them, and why the tool cannot see it.
EXTERNAL_ALLOWED = {
}


def minor(version):
    return ".".join(version.split(".")[:2])


def allowed(name, what, version):
    entry = ALLOWED.get(name)
    if entry is None:
        return False
    versions, kind, _ = entry
    if versions is not None and minor(version) not in versions:
        return False
    return kind == "both" or kind == what


def compare_types(truth, result, version):
    """Problems with the per-type census."""
    problems = []
    approximate = set()
    for note in result.get("notes") or []:
        m = NOTE.match(note)
        if m:
            approximate.add(m.group(1))
    got = dict((r["type"], (r["count"], r["size"])) for r in result.get("types", []))
    want = dict((n, (v["count"], v["size"])) for n, v in truth["types"].items())
    rows = []
    for name in sorted(set(got) | set(want)):
        (wc, ws), (gc_, gs) = want.get(name, (0, 0)), got.get(name, (0, 0))
        if wc != gc_ and not allowed(name, "count", version):
            rows.append((name, "count", wc, gc_, ws, gs))
        elif wc == gc_ and ws != gs and name not in approximate and \
                not allowed(name, "size", version):
            rows.append((name, "size", wc, gc_, ws, gs))
    if rows:
        width = max(len(r[0]) for r in rows)
        lines = ["%-*s %5s  count %6d -> %6d   size %9d -> %9d (%+d)"
                 % (width, n, what, wc, gc_, ws, gs, gs - ws)
                 for n, what, wc, gc_, ws, gs in rows]
        problems.append("%d types differ from the truth (truth -> tool; neither noted as "
                        "approximate nor in ALLOWED):\n    %s" % (len(rows), "\n    ".join(lines)))
    return problems


def compare_external(dump, version):
    problems = []
    per_type = excess_by_type(dump)
    for name, (count, total) in sorted(per_type.items()):
        if explained(name):
            continue
        entry = EXTERNAL_ALLOWED.get(name)
        if entry is not None and (entry[0] is None or minor(version) in entry[0]):
            continue
        problems.append("%s: %d objects held %d times more than the graph explains (a missing "
                        "edge, or a holder to name in EXTERNAL_ALLOWED)" % (name, count, total))
    return problems


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
        ap.add_argument("--method", choices=("abort", "gcore"), default="abort")
    args = corelib.parse_args(__doc__, add_arguments)
    version, tag, rundir = corelib.run_names(args.python, args.method, args.workdir, "stdlib")
    try:
        core, truth, seconds = corelib.make_scenario_core(args.python, PROGRAM, rundir, args.method)
    except corelib.CoreError as e:
        print("ERROR %s: no core: %s" % (tag, e))
        sys.exit(2)
    what = "Python %s %s" % (version, args.method)
    if truth["self_check_problems"]:
        print("ERROR %s: the truth failed its own checks: %s" % (what, truth["self_check_problems"]))
        sys.exit(2)
    dump = os.path.join(rundir, "external.txt")
    run = corelib.run_tool([args.tool, "--json", "report", core],
                           env=dict(os.environ, PCA_DUMP_EXTERNAL=dump))
    problems = []
    if run.crashed() or run.returncode not in (0, 1):
        problems.append("report: %s" % run.describe())
        corelib.conclude(what, problems, [rundir], "")
    result = json.loads(run.stdout)
    if run.returncode != 0 or result.get("warnings"):
        problems.append("report: exit %d, warnings %s (a false alarm)"
                        % (run.returncode, result.get("warnings")))
    problems.extend(compare_types(truth, result, version))
    totals = result.get("totals", {})
    if totals.get("gc_tracked") != truth["totals"]["gc_tracked"]:
        problems.append("totals.gc_tracked: the collector's lists hold %d objects, the tool "
                        "says %r" % (truth["totals"]["gc_tracked"], totals.get("gc_tracked")))
    want = truth["unreachable"]["count"]
    if totals.get("unreachable") != want:
        problems.append("totals.unreachable: the collector frees %d objects, the tool says %r; "
                        "the collector's verdict by type: %s"
                        % (want, totals.get("unreachable"),
                           json.dumps(truth["unreachable"]["types"], sort_keys=True)))
    if os.path.exists(dump):
        problems.extend(compare_external(dump, version))
    else:
        problems.append("no PCA_DUMP_EXTERNAL file was written")
    if problems:
        corelib.print_failed_run(run, core, os.path.join(rundir, "truth.json"))
    notes = [n for n in result.get("notes") or []]
    corelib.conclude(what, problems, [rundir],
                     "%s: %d types, %d objects, %d bytes exact (made: %s; skipped: %s; %d "
                     "noted approximate; core %.1f s, tool %.2f s)"
                     % (what, len(truth["types"]), truth["totals"]["objects"],
                        truth["totals"]["size"], " ".join(truth["made"]),
                        ", ".join(sorted(truth["skipped"])) or "none", len(notes), seconds,
                        run.seconds))


if __name__ == "__main__":
    main()
