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

ALL = ("3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13")

# Per-type count differences that are known and explained, by type name:
# (minor versions, the largest |tool - truth| count difference allowed,
# why). Sizes of a type whose count differs differ with it. Measured on
# 3.6.15 ... 3.13.0 and Debian 3.11 (the bound leaves a little room).
ALLOWED = {
    # Objects only C types without a tp_traverse hold: the census (the
    # collector's view, gc.get_referents) cannot reach them, the tool
    # follows the references (3.6-3.9: sqlite3.Row's data and description,
    # re.Pattern's groupindex and indexgroup). 3.11+: cached objects in a C
    # module's state its m_traverse does not visit (_ssl, _elementtree,
    # _sqlite3; 3.13 _datetime: 7 ints and the epoch datetime), which the
    # tool offers word by word. 3.10: the tool misses what ctypes'
    # DictRemover objects hold (below).
    "str": (ALL, 25, "non-traversed C holders (3.6-3.9), module state (3.11+)"),
    "tuple": (("3.6", "3.7", "3.8", "3.9", "3.10"), 15, "sqlite3.Row's tuples (3.6-3.9); "
              "ctypes' DictRemover (3.10)"),
    "float": (("3.6", "3.7", "3.8", "3.9", "3.10"), 6, "sqlite3.Row's values (3.6-3.9); 3.10 "
              "DictRemover"),
    "dict": (("3.7", "3.8", "3.9", "3.10", "3.13"), 15,
             "re.Pattern's groupindex (3.7-3.9); 3.10 DictRemover; 3.13: an instance's "
             "materialized __dict__ whose values stay inline (LogRecord, typing aliases): "
             "subtype_traverse visits the values, not the dict"),
    "bytes": (("3.9",), 3, "held by non-traversed C types (3.9)"),
    "int": (("3.13",), 8, "3.13 _datetime module state: cached ints (test_summary.py "
            "MODULE_STATE_EXTRA)"),
    "datetime.datetime": (("3.13",), 1, "3.13 _datetime module state: the epoch"),
    # ctypes keeps a CData's keep-alive objects in its private structs
    # (CDataObject b_objects, in the _ctypes extension module whose debug
    # info the layout does not read): the DictRemover objects those dicts
    # hold are reached by the collector only (3.10-3.11).
    "_ctypes.DictRemover": (("3.10", "3.11"), 5, "held by ctypes' private CData structs"),
    # 3.12: PyModuleDef_Type and its tp_bases/tp_mro tuples: the tool reaches
    # the type through tuples in the collector's young list the census's
    # gc.get_objects() did not return (measured, cause not found).
    "type": (("3.12",), 1, "PyModuleDef_Type via its tp_mro (3.12)"),
}
ALLOWED["tuple"] = (ALLOWED["tuple"][0] + ("3.12",), ALLOWED["tuple"][1],
                    ALLOWED["tuple"][2] + "; 3.12 PyModuleDef_Type's tp_bases and tp_mro")

# totals.gc_tracked may differ by this much on these versions: 3.11 and
# 3.12 runs show, now and then (2 of 5 runs), one tracked object more in
# the core than gc.get_objects() returned at the truth; the per-type census
# stays within ALLOWED. Cause not found (the worker thread is blocked; no
# collection runs).
GC_TRACKED_SLACK = {"3.11": 1, "3.12": 1}

# Types whose references the graph cannot explain beyond test_external's
# EXPLAINED: who holds them, and why the tool cannot see it.
EXTERNAL_ALLOWED = {
    # A running thread's frames hold their locals: roots, not edges.
    "threading.Thread": "the worker thread's running frames (self of _bootstrap, run ...)",
    "threading.Event": "the worker thread's running frames",
    "threading.Condition": "the worker thread's running frames",
    # _decimal keeps its context templates, the SignalDict base class (made
    # with ABCMeta) and signal dicts in C static variables (not module state).
    "decimal.Context": "_decimal's C globals and the current context",
    "abc.SignalDict": "_decimal's C globals (the templates' traps and flags)",
    "abc.ABCMeta": "_decimal's C globals (SignalDict's classes)",
    # The thread state's current context (tstate->context) and a
    # ContextVar's cache are held by C.
    "Context": "the thread state's current context",
    "_contextvars.Context": "the thread state's current context",
    "ContextVar": "decimal's context variable, held by _decimal's C globals",
    "_contextvars.ContextVar": "decimal's context variable, held by _decimal's C globals",
    "hamt": "the current context's mapping (empty hamt singletons)",
    "hamt_bitmap_node": "the current context's mapping",
    # _sqlite3's Connection and Cursor structs differ by version and live in
    # the extension module (no debug info read): their members (the
    # statement cache, 3.11+ an lru_cache wrapper; the cursor's statement)
    # are not followed.
    "sqlite3.Connection": "a cursor's connection (_sqlite3's private struct)",
    "sqlite3.Statement": "a cursor's statement and the statement cache",
    "sqlite3.Cache": "the connection's statement cache (3.6-3.10)",
    "sqlite3.Node": "the statement cache's nodes (3.6-3.10)",
    "functools._lru_cache_wrapper": "sqlite3's statement cache (3.11+), held by the connection",
    # ctypes' private structs (CDataObject b_objects, b_base).
    "ctypes.CDLL.__init__.<locals>._FuncPtr": "ctypes' keep-alive dicts (b_objects)",
    # 3.6-3.11: _asyncio's C static variables hold the task registry.
    "_weakrefset.WeakSet": "_asyncio's C globals (asyncio's all-tasks WeakSet, 3.6-3.11)",
    # _zoneinfo's strong cache is a C linked list of nodes (not objects).
    "zoneinfo.ZoneInfo": "_zoneinfo's strong cache",
    # A WeakValueDictionary's removal callbacks (the KeyedRef's callback
    # is a function whose closure the C weakref machinery holds).
    "weakref.WeakValueDictionary": "weakref callbacks held by C (3.9-3.11)",
    # threading's Condition binds lock.acquire; the method descriptor of
    # the static lock type is held by a C cache.
    "method_descriptor": "a static type's method held by C",
}

def minor(version):
    return ".".join(version.split(".")[:2])


def allowed(name, diff, version, table=None):
    """Is a count difference DIFF (tool - truth) of type NAME allowed (by
    TABLE, default ALLOWED)?"""
    entry = (ALLOWED if table is None else table).get(name)
    if entry is None:
        return False
    versions, bound, _ = entry
    return minor(version) in versions and abs(diff) <= bound


def compare_types(truth, result, version, table=None):
    """Problems with the per-type census (count differences allowed by
    TABLE, default ALLOWED)."""
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
        if wc != gc_ and not allowed(name, gc_ - wc, version, table):
            rows.append((name, "count", wc, gc_, ws, gs))
        elif wc == gc_ and ws != gs and name not in approximate:
            rows.append((name, "size", wc, gc_, ws, gs))
    if rows:
        width = max(len(r[0]) for r in rows)
        lines = ["%-*s %5s  count %6d -> %6d   size %9d -> %9d (%+d)"
                 % (width, n, what, wc, gc_, ws, gs, gs - ws)
                 for n, what, wc, gc_, ws, gs in rows]
        problems.append("%d types differ from the truth (truth -> tool; neither noted as "
                        "approximate nor in ALLOWED):\n    %s" % (len(rows), "\n    ".join(lines)))
    return problems


def compare_external(dump, version, table=None):
    """Problems with the references the graph explains (holders named in
    TABLE, default EXTERNAL_ALLOWED)."""
    table = EXTERNAL_ALLOWED if table is None else table
    problems = []
    per_type = excess_by_type(dump)
    for name, (count, total) in sorted(per_type.items()):
        if explained(name):
            continue
        if name in table:
            continue
        problems.append("%s: %d objects held %d times more than the graph explains (a missing "
                        "edge, or a holder to name in EXTERNAL_ALLOWED)" % (name, count, total))
    return problems


def run_scenario(args, program, name, env=None, type_table=None, external_table=None):
    """Make PROGRAM's core (its truth beside it), run `report --json` on it
    and compare: every type exactly (but type_table's), gc_tracked, the
    collector's verdict, and the references the graph explains (but
    external_table's). Exits with corelib.conclude's status."""
    version, tag, rundir = corelib.run_names(args.python, args.method, args.workdir, name)
    try:
        core, truth, seconds = corelib.make_scenario_core(args.python, program, rundir,
                                                          args.method, env=env)
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
    problems.extend(compare_types(truth, result, version, type_table))
    totals = result.get("totals", {})
    slack = GC_TRACKED_SLACK.get(minor(version), 0)
    if not isinstance(totals.get("gc_tracked"), int) or \
            abs(totals["gc_tracked"] - truth["totals"]["gc_tracked"]) > slack:
        problems.append("totals.gc_tracked: the collector's lists hold %d objects, the tool "
                        "says %r" % (truth["totals"]["gc_tracked"], totals.get("gc_tracked")))
    want = truth["unreachable"]["count"]
    if totals.get("unreachable") != want:
        problems.append("totals.unreachable: the collector frees %d objects, the tool says %r; "
                        "the collector's verdict by type: %s"
                        % (want, totals.get("unreachable"),
                           json.dumps(truth["unreachable"]["types"], sort_keys=True)))
    # C extensions' types that only unreferenced objects have: the block
    # scan meets them on its threads
    problems.extend(corelib.threads_agree(args.tool, core))
    if os.path.exists(dump):
        problems.extend(compare_external(dump, version, external_table))
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


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
        ap.add_argument("--method", choices=("abort", "gcore"), default="abort")
    args = corelib.parse_args(__doc__, add_arguments)
    run_scenario(args, PROGRAM, "stdlib")


if __name__ == "__main__":
    main()
