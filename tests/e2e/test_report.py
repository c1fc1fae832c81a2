#!/usr/bin/python3
"""End-to-end test of `pycore-analyze --json report`: leak suspects (lru
caches, a module-level response cache), garbage and reachable reference
cycles, the largest objects with their owner paths and retained sizes, and
totals.unreachable, compared with the exact truth a leaking program computed
about itself just before it died.

  test_report.py --tool build/pycore-analyze --python PY|all
                 --method abort|gcore|both --workdir DIR [--truth-only]
                 [--limit N]

Runs corefiles/programs/leaks_scenario.py under PY (repeatable; "all" means
every interpreter corelib.find_interpreters() finds), makes a core by METHOD,
runs `TOOL --json report CORE` (with `-n N` only when --limit is given) and
compares with the truth (its exact definition is in leaks_scenario.py's
docstring). Everything compared is EXACT:
  - totals.unreachable == the number of tracked objects a full collection
    finds unreachable (gc.garbage under DEBUG_SAVEALL in a forked child:
    1000 self-referencing lists + 500 Pair pairs, with their __dict__ dicts
    where the version makes them: 3000 on 3.6-3.10, 2000 on 3.11+);
  - cycles: the tool's components whose member types are all among the
    truth's types_considered (list, dict, __main__.Node, __main__.Pair),
    grouped by (types, unreachable) with counts, equal to the truth's groups
    (which include any such component of the interpreter itself); each
    entry's `objects` must equal the sum of its `types`;
  - caches: for each lru_cache wrapper the scenario made (get_template
    maxsize=100, load_profile unbounded, geo_lookup maxsize=128 typed): a row
    of kind "lru_cache" with that address, function ("__main__.NAME"), owner,
    maxsize (null when unbounded), entries, hits, misses; and the row of
    kind "dict" for __main__.CACHE: address, owner, entries (2000),
    retained; `caches` sorted by retained size, descending;
  - suspects: exactly the scenario's unbounded containers (CACHE,
    load_profile, Registry.items, process_batch:batch) that retain 1% of
    the heap, most retained first, then one garbage entry of the truth's
    unreachable count; no suspect and no sys.* row held by the
    interpreter (caches[].held_by);
  - with --method abort, the README's demo (corefiles/demo/demo_app.py):
    its suspects are exactly __main__.CACHE and render_user's lru_cache
    (2000 entries each), nothing of the interpreter's; and a core taken
    inside running coroutines has a complete `summary` (exit 0, no warning);
  - largest: sorted by size, descending; the leading rows that the scenario
    made (BLOB, Registry.items, process_batch:batch, load_profile's cache
    dict, and CACHE where it ranks there) at the same rank, with address,
    type and size, owner where the truth names one, retained where it has
    one;
  - retained sizes of the 4 big objects (BLOB, Registry.items,
    process_batch:batch, CACHE) wherever the tool prints them (largest and
    caches rows, found by address); each must be printed somewhere.
Reported, never failed: the first largest row that the scenario did not make
(interpreter objects the in-process truth may not see), other lru caches
(the stdlib's), cycles with other types, totals.objects/size against the
truth's closure, the tool's warnings.

A missing key or row is listed under "missing:" first, so an incomplete
tool gets a precise to-do list. Exit 0 when every run passes, 1 when one
differs, 2 when a core could not be made or the truth failed its own checks.
A failing run keeps its core and truth (paths printed); a passing one
removes them.

--truth-only makes the cores and checks the truths without running the
tool; it also runs the scenario once per interpreter in its "stable" mode
(two truths at the same call site must agree, and a real collection
afterwards must find exactly the truth's unreachable count) and checks that
the stable run's truth equals the core run's (addresses and timings aside).
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

PROGRAM = "leaks_scenario.py"
STABLE_TIMEOUT = 120.0


# --- formatting ---------------------------------------------------------------------

def table(header, rows):
    """Rows of strings as an aligned text table, two-space indented."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    out = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def shape_text(types):
    return ", ".join("%s:%d" % (k, v) for k, v in sorted(types.items()))


def show(v):
    return "-" if v is None else ("null" if v == "null" else v)


# --- comparisons ----------------------------------------------------------------------

class Result(object):
    def __init__(self):
        self.missing = []      # keys/rows the tool did not print at all
        self.problems = []     # printed but wrong
        self.notes = []        # reported, not failed

    def failed(self):
        return bool(self.missing or self.problems)


def check_unreachable(truth, result, r):
    want = truth["unreachable"]["count"]
    totals = result.get("totals")
    if not isinstance(totals, dict) or "unreachable" not in totals:
        r.missing.append("totals.unreachable (expected %d: %s)"
                         % (want, shape_text(truth["unreachable"]["types"])))
        return
    got = totals["unreachable"]
    if got != want:
        r.problems.append("totals.unreachable: expected %d (%s), got %r (%+d)"
                          % (want, shape_text(truth["unreachable"]["types"]), got,
                             got - want if isinstance(got, int) else 0))


def check_cycles(truth, result, r, limit):
    considered = set(truth["cycles"]["types_considered"])
    want = {}
    for g in truth["cycles"]["groups"]:
        want[(tuple(sorted(g["types"].items())), g["unreachable"])] = g["count"]
    cycles = result.get("cycles")
    if not isinstance(cycles, list):
        r.missing.append("cycles (expected %d components of types %s; groups:\n%s)"
                         % (sum(want.values()), "/".join(sorted(considered)),
                            table(["types", "unreachable", "count"],
                                  [[shape_text(dict(k[0])), k[1], n]
                                   for k, n in sorted(want.items())])))
        return
    got = {}
    malformed = []
    other = 0
    for c in cycles:
        if not isinstance(c, dict) or not isinstance(c.get("types"), dict) \
                or not isinstance(c.get("unreachable"), bool) \
                or not isinstance(c.get("objects"), int):
            malformed.append(c)
            continue
        if c["objects"] != sum(c["types"].values()):
            r.problems.append("cycles: entry %s has objects=%d but its types sum to %d"
                              % (c.get("example"), c["objects"], sum(c["types"].values())))
        if not set(c["types"]) <= considered:
            other += 1
            continue
        key = (tuple(sorted(c["types"].items())), c["unreachable"])
        got[key] = got.get(key, 0) + 1
    if malformed:
        r.problems.append("cycles: %d malformed entries (need types{}, objects, unreachable), "
                          "first: %r" % (len(malformed), malformed[0]))
    rows = []
    for key in sorted(set(want) | set(got)):
        w, g = want.get(key, 0), got.get(key, 0)
        if w != g:
            rows.append([shape_text(dict(key[0])), key[1], w, g, "%+d" % (g - w)])
    if rows:
        text = ("cycles made only of %s differ (grouped by types and unreachable):\n%s"
                % ("/".join(sorted(considered)),
                   table(["types", "unreachable", "expected", "got", "diff"], rows)))
        n = len(cycles)
        if n == (20 if limit is None else limit):
            text += ("\n  (the tool printed %d cycles in all; the truth has %d of these types "
                     "alone: is the JSON list cut by -n?)" % (n, sum(want.values())))
        r.problems.append(text)
    # Issue 14 item 8: each cycle says what it is, garbage first, then the
    # program's own, then the interpreter's structure (classes, modules).
    order = {"garbage": 0, "program": 1, "structure": 2}
    kinds = [c.get("kind") for c in cycles if isinstance(c, dict)]
    bad = [c for c in cycles if isinstance(c, dict) and
           (c.get("kind") not in order or (c.get("kind") == "garbage") != bool(c.get("unreachable")))]
    if bad:
        r.problems.append("cycles: kind missing or not 'garbage' exactly when unreachable: %s"
                          % json.dumps(bad[:3])[:1500])
    elif [order[k] for k in kinds] != sorted(order[k] for k in kinds):
        r.problems.append("cycles: not ordered garbage, program, structure: %s" % kinds[:40])
    for c in cycles:
        if isinstance(c, dict) and c.get("kind") == "program" and \
                ("type" in (c.get("types") or {}) or "module" in (c.get("types") or {})):
            r.problems.append("cycles: a cycle with a class or module is not the program's own: %s"
                              % json.dumps(c)[:500])
            break
    r.notes.append("cycles: %d entries from the tool, %d with other types (not compared); "
                   "the truth's whole graph has %d components"
                   % (len(cycles), other, truth["cycles"]["all_components"]))


def find_rows(rows, address):
    return [x for x in rows if isinstance(x, dict) and x.get("address") == address]


def check_caches(truth, result, r):
    caches = result.get("caches")
    lru_want = [c for c in truth["caches"] if c["kind"] == "lru_cache"]
    dict_want = [c for c in truth["caches"] if c["kind"] == "dict"]
    if not isinstance(caches, list):
        r.missing.append("caches (expected %d lru_cache rows: %s; and the dict __main__.CACHE)"
                         % (len(lru_want), ", ".join(c["function"] for c in lru_want)))
        return
    rows = []
    for want in lru_want:
        found = [x for x in caches if isinstance(x, dict) and x.get("kind") == "lru_cache"
                 and (x.get("address") == want["address"] or x.get("function") == want["function"])]
        if not found:
            r.missing.append("caches: lru_cache row of %s at %s (maxsize %s, %d entries, "
                             "%d hits, %d misses)"
                             % (want["function"], want["address"], json.dumps(want["maxsize"]),
                                want["entries"], want["hits"], want["misses"]))
            continue
        if len(found) > 1:
            r.problems.append("caches: %d rows for %s" % (len(found), want["function"]))
        got = found[0]
        for key in ("address", "function", "owner", "maxsize", "entries", "hits", "misses",
                    "retained"):
            if key not in want:
                continue          # retained: bounded caches only
            if key not in got:
                r.missing.append("caches: %s has no %r (expected %r)"
                                 % (want["function"], key, want[key]))
            elif got[key] != want[key]:
                rows.append([want["function"], key, json.dumps(want[key]), json.dumps(got[key])])
    for want in dict_want:
        found = [x for x in caches if isinstance(x, dict) and
                 (x.get("address") == want["address"] or x.get("owner") == want["owner"])]
        if not found:
            r.missing.append("caches: dict row for %s at %s (%d entries, retained %d)"
                             % (want["owner"], want["address"], want["entries"], want["retained"]))
            continue
        got = found[0]
        for key in ("kind", "address", "owner", "entries", "retained"):
            if key not in got:
                r.missing.append("caches: %s has no %r (expected %r)"
                                 % (want["owner"], key, want[key]))
            elif got[key] != want[key]:
                rows.append([want["owner"], key, json.dumps(want[key]), json.dumps(got[key])])
    if rows:
        r.problems.append("caches differ:\n%s" % table(["cache", "field", "expected", "got"], rows))
    retained = [x.get("retained") for x in caches if isinstance(x, dict)]
    if all(isinstance(v, int) for v in retained) and retained != sorted(retained, reverse=True):
        r.problems.append("caches: not sorted by retained size, descending (contract)")
    known = set(c["address"] for c in truth["caches"])
    others = [x for x in caches if isinstance(x, dict) and x.get("address") not in known]
    if others or truth.get("other_lru_caches"):
        r.notes.append("other caches (not compared): tool %s; truth's stdlib lru caches %s"
                       % (json.dumps([(x.get("kind"), x.get("owner") or x.get("function"),
                                       x.get("entries")) for x in others][:10]),
                          json.dumps([(x["function"], x["entries"])
                                      for x in truth.get("other_lru_caches", [])])))


def check_suspects(truth, result, r):
    """Leak suspects (issue 14): exactly the scenario's unbounded containers
    (CACHE, load_profile, Registry.items, process_batch:batch: each of 2000
    entries or more) that retain 1% of the heap, most retained first, then
    the garbage (the collector's count); none held by the interpreter, and
    the interpreter's own rows (sys.*) say so."""
    suspects = result.get("suspects")
    caches = [x for x in result.get("caches") or [] if isinstance(x, dict)]
    heap = (result.get("totals") or {}).get("size")
    if not isinstance(suspects, list) or not isinstance(heap, int):
        r.missing.append("suspects (and totals.size)")
        return
    leaks = set(c["address"] for c in truth["caches"]
                if c["kind"] == "dict" or c["maxsize"] is None)
    leaks |= set(b["address"] for b in truth["big_objects"] if b["type"] in ("list", "dict"))
    rows = dict((x.get("address"), x) for x in caches)
    want = sorted((a for a in leaks if a in rows and rows[a].get("retained", 0) * 100 >= heap),
                  key=lambda a: -rows[a]["retained"])[:5]
    got = [x.get("address") for x in suspects if isinstance(x, dict) and x.get("kind") != "garbage"]
    if got != want:
        r.problems.append("suspects: expected %s, got %s"
                          % ([rows[a].get("owner") for a in want],
                             [(x.get("owner"), x.get("kind"), x.get("entries")) for x in suspects]))
    garbage = [x for x in suspects if isinstance(x, dict) and x.get("kind") == "garbage"]
    # the scenario runs with gc.disable(): the garbage is a suspect, and says so
    if [(x.get("objects"), x.get("collector_enabled")) for x in garbage] != \
            [(truth["unreachable"]["count"], False)]:
        r.problems.append("suspects: expected one garbage entry of %d objects, collector "
                          "disabled, got %s" % (truth["unreachable"]["count"], garbage))
    for x in caches:
        held = x.get("held_by")
        if held not in ("interpreter", "stdlib", "library", "program"):
            r.problems.append("caches: row %s has held_by %r" % (x.get("owner"), held))
        elif (x.get("owner") or "").startswith("sys.") and held != "interpreter":
            r.problems.append("caches: %s is the interpreter's, held_by says %r"
                              % (x.get("owner"), held))
        if x.get("address") in got and held != "program":
            r.problems.append("suspects: %s is held by the %s" % (x.get("owner"), held))


def check_demo(tool, python, rundir):
    """The README's demo (corefiles/demo/demo_app.py), the first report a
    user sees: its leak suspects are exactly __main__.CACHE (a dict of 2000
    entries) and render_user's lru_cache(maxsize=None) (2000 entries),
    nothing the interpreter owns. Returns a list of problems."""
    demo = os.path.join(corelib.REPO, "corefiles", "demo", "demo_app.py")
    try:
        core = corelib.make_core([python, demo], os.path.join(rundir, "demo"), "abort")[0]
    except (corelib.CoreError, OSError) as e:
        return ["demo: no core: %s" % e]
    run = corelib.run_tool([tool, "--json", "report", core])
    try:
        doc = json.loads(run.stdout)
    except ValueError:
        return ["demo: report is not JSON (exit %s)" % run.returncode]
    got = sorted((x.get("kind"), x.get("function") or x.get("owner"), x.get("entries"))
                 for x in doc.get("suspects") or [] if x.get("kind") != "garbage")
    want = [("dict", "__main__.CACHE", 2000), ("lru_cache", "__main__.render_user", 2000)]
    problems = []
    if run.returncode != 0 or got != want:
        problems.append("demo: exit %s, suspects %s, expected %s" % (run.returncode, got, want))
    held = dict((x.get("owner"), x.get("held_by")) for x in doc.get("caches") or [])
    for owner, by in sorted(held.items(), key=lambda i: str(i[0])):
        if (owner or "").startswith("sys.") and by != "interpreter":
            problems.append("demo: caches row %s is held_by %r" % (owner, by))
    return problems


CORO_PROGRAM = """import asyncio, os
async def handler(n):
    os.abort()
async def main():
    await asyncio.gather(*[asyncio.sleep(0) for _ in range(3)])
    await handler(1)
asyncio.new_event_loop().run_until_complete(main())
"""


def check_coroutine(tool, python, rundir):
    """A core taken inside running coroutines (the frame of a running
    coroutine has stacktop -1): `summary` is complete, exit 0 and no
    warning (it once read 2^31 slots of it and warned of 166k skipped
    references). Returns a list of problems."""
    os.makedirs(rundir, exist_ok=True)
    prog = os.path.join(rundir, "coro.py")
    with open(prog, "w") as f:
        f.write(CORO_PROGRAM)
    try:
        core = corelib.make_core([python, prog], os.path.join(rundir, "coro"), "abort")[0]
    except (corelib.CoreError, OSError) as e:
        return ["coroutine: no core: %s" % e]
    run = corelib.run_tool([tool, "--json", "summary", core])
    try:
        warnings = json.loads(run.stdout).get("warnings")
    except ValueError:
        warnings = "(no JSON)"
    if run.returncode != 0 or warnings:
        return ["coroutine: exit %s, warnings %s" % (run.returncode, warnings)]
    return []


# A program that imports many standard library modules (and requests, with
# idna's and chardet's import-time tables, where Debian's dist-packages has
# it: /usr/bin/python3.11, and pyenv 3.11.7 given that path), leaves a
# little garbage in cycles with the collector running, then aborts.
LIBS_PROGRAM = """import gc, os, sys
DIST = '/usr/lib/python3/dist-packages'
if sys.version_info[:2] == (3, 11) and os.path.isdir(DIST) and DIST not in sys.path:
    sys.path.append(DIST)
for m in ('json', 'logging', 'email.message', 'http.client', 'urllib.request', 'decimal',
          'argparse', 'asyncio', 'xml.etree.ElementTree', 'csv', 'datetime', 'unittest',
          'pydoc', 'tarfile', 'zipfile', 'difflib', 'textwrap', 'html.parser', 'codecs',
          'encodings.idna', 'stringprep', 'ssl', 'requests'):
    try:
        __import__(m)
    except ImportError:
        pass
class Node(object):
    pass
for i in range(10):
    a, b = Node(), Node()
    a.b, b.a = b, a
del a, b
os.abort()
"""

# The same collector's garbage with gc.disable(): a suspect that says so.
GC_OFF_PROGRAM = """import gc, os
gc.disable()
class Node(object):
    pass
for i in range(100):
    a, b = Node(), Node()
    a.b, b.a = b, a
del a, b
os.abort()
"""


def report_json(tool, python, rundir, name, program, extra=()):
    """(document or None, problem) of `report --json` on a core of PROGRAM."""
    os.makedirs(rundir, exist_ok=True)
    prog = os.path.join(rundir, name + ".py")
    with open(prog, "w") as f:
        f.write(program)
    try:
        core = corelib.make_core([python, prog], os.path.join(rundir, name), "abort")[0]
    except (corelib.CoreError, OSError) as e:
        return None, "%s: no core: %s" % (name, e)
    run = corelib.run_tool([tool, "--json"] + list(extra) + ["report", core])
    try:
        return json.loads(run.stdout), None
    except ValueError:
        return None, "%s: report is not JSON (exit %s)" % (name, run.returncode)


def check_libraries(tool, python, rundir):
    """Issue 14 (a false alarm is worse than none): a program that only
    imports libraries has no leak suspect: no import-time table of a
    third-party library (held_by "library") or of the standard library, and
    no garbage suspect for the little garbage a running collector has not
    reached yet (the cycles still list it). Returns a list of problems."""
    doc, problem = report_json(tool, python, rundir, "libs", LIBS_PROGRAM, ["-n", "100"])
    if problem:
        return [problem]
    problems = []
    if doc.get("suspects") != []:
        problems.append("libraries: expected no suspect, got %s"
                        % [(x.get("kind"), x.get("owner"), x.get("entries"), x.get("held_by"))
                           for x in doc.get("suspects") or []])
    unreachable = (doc.get("totals") or {}).get("unreachable")
    if not isinstance(unreachable, int) or unreachable < 20:
        problems.append("libraries: expected the 10 garbage cycles in totals.unreachable, got %r"
                        % unreachable)
    rows = [x for x in doc.get("caches") or [] if isinstance(x, dict)]
    third = [x for x in rows if (x.get("owner") or "").split(".")[0] in ("idna", "chardet")]
    for x in third:
        if x.get("held_by") != "library":
            problems.append("libraries: %s is held_by %r, not library"
                            % (x.get("owner"), x.get("held_by")))
    if python == "/usr/bin/python3.11" and not third:
        problems.append("libraries: no idna/chardet table in caches (is python3-requests "
                        "installed?): %s" % [x.get("owner") for x in rows])
    return problems


def check_gc_disabled(tool, python, rundir):
    """gc.disable() and 100 garbage cycles: the garbage is a suspect that
    says the collector is disabled. Returns a list of problems."""
    doc, problem = report_json(tool, python, rundir, "gcoff", GC_OFF_PROGRAM)
    if problem:
        return [problem]
    garbage = [x for x in doc.get("suspects") or [] if x.get("kind") == "garbage"]
    if len(garbage) != 1 or garbage[0].get("collector_enabled") is not False or \
            not isinstance(garbage[0].get("objects"), int) or garbage[0]["objects"] < 200:
        return ["gc disabled: expected one garbage suspect of 200 objects or more with "
                "collector_enabled false, got %s" % garbage]
    return []


def check_largest(truth, result, r):
    largest = result.get("largest")
    want_rows = truth["largest"]
    lead = 0
    while lead < len(want_rows) and want_rows[lead]["scenario"]:
        lead += 1
    if not isinstance(largest, list):
        r.missing.append("largest (expected first: %s)"
                         % ", ".join("%s %d %s" % (w["type"], w["size"], w["owner"] or w["note"])
                                     for w in want_rows[:lead]))
        return
    sizes = [x.get("size") for x in largest if isinstance(x, dict)]
    if sizes != sorted(sizes, reverse=True):
        r.problems.append("largest: not sorted by size, descending (contract)")
    rows = []
    bad = False
    for i in range(lead):
        w = want_rows[i]
        g = largest[i] if i < len(largest) and isinstance(largest[i], dict) else {}
        diffs = []
        for key in ("address", "type", "size"):
            if g.get(key) != w[key]:
                diffs.append(key)
        if w["owner"] is not None and g.get("owner") != w["owner"]:
            diffs.append("owner")
        if w["retained"] is not None and g.get("retained") != w["retained"]:
            diffs.append("retained")
        bad = bad or bool(diffs)
        rows.append([i + 1, "exp", w["address"], w["type"], w["size"], show(w["retained"]),
                     w["owner"] or "(%s)" % (w["note"] or "-"), ""])
        rows.append(["", "got", g.get("address"), g.get("type"), g.get("size"),
                     show(g.get("retained")), show(g.get("owner")),
                     "DIFFERS: " + ",".join(diffs) if diffs else "ok"])
    if bad:
        r.problems.append("largest: the %d leading rows the scenario made differ:\n%s"
                          % (lead, table(["rank", "", "address", "type", "size", "retained",
                                          "owner", ""], rows)))
    if lead < len(want_rows):
        w = want_rows[lead]
        g = largest[lead] if lead < len(largest) and isinstance(largest[lead], dict) else {}
        r.notes.append("largest rank %d (not the scenario's, not compared): truth %s %s %d, "
                       "tool %s %s %s" % (lead + 1, w["address"], w["type"], w["size"],
                                          g.get("address"), g.get("type"), g.get("size")))


def check_retained(truth, result, r):
    rows_all = [x for key in ("largest", "caches") for x in (result.get(key) or [])
                if isinstance(x, dict)]
    table_rows = []
    for big in truth["big_objects"]:
        found = [x for x in find_rows(rows_all, big["address"]) if "retained" in x]
        if not found:
            r.missing.append("retained size of %s (%s at %s, expected %d): in no largest or "
                             "caches row" % (big["owner"], big["type"], big["address"],
                                             big["retained"]))
            continue
        for x in found:
            if x["retained"] != big["retained"]:
                table_rows.append([big["owner"], big["size"], big["retained"], x["retained"],
                                   "%+d" % (x["retained"] - big["retained"])
                                   if isinstance(x["retained"], int) else "?"])
    if table_rows:
        r.problems.append("retained sizes differ:\n%s"
                          % table(["object", "size", "expected", "got", "diff"], table_rows))


def check_show_path(tool, core, truth, r):
    """`show` at an address inside each big object (not its start) finds the
    object, its type, size and owner; `path` gives the same owner; owner paths
    through an instance attribute and a __slots__ member, of what only C
    members hold (an lru_cache's dict, object.__subclasses__), through the
    interpreter's own containers (sys.modules['x'], builtins.X, an interned
    string only C holds: sys.intern('x')) and of a bounded lru_cache's
    entry (the result under `(lru_cache).cache[key]`)."""
    # graph: a DOT digraph around the first big object, the object highlighted
    big = truth["big_objects"][0]
    run = corelib.run_tool([tool, "graph", big["address"], core])
    dot = run.stdout
    if not dot.startswith("digraph") or big["address"] not in dot or "->" not in dot \
            or "fillcolor" not in dot or not dot.rstrip().endswith("}"):
        r.problems.append("graph %s: not a DOT graph around the object (exit %s): %r"
                          % (big["address"], run.returncode, dot[:300]))
    if len(truth.get("owner_checks") or []) != 8:
        r.problems.append("the truth has no owner_checks (scenario and test out of step)")
    for check in truth.get("owner_checks") or []:
        run = corelib.run_tool([tool, "--json", "show", check["address"], core])
        try:
            owner = json.loads(run.stdout)["object"].get("owner")
        except (ValueError, KeyError):
            owner = "(no object, exit %s)" % run.returncode
        if owner != check["owner"]:
            r.problems.append("owner of %s: expected %r, got %r" % (check["address"], check["owner"], owner))
    for big in truth["big_objects"]:
        addr = int(big["address"], 16)
        run = corelib.run_tool([tool, "--json", "show", "0x%x" % (addr + 24), core])
        try:
            obj = json.loads(run.stdout)["object"]
        except (ValueError, KeyError):
            r.problems.append("show 0x%x: no object in the output (exit %s)" % (addr + 24, run.returncode))
            continue
        want = (big["address"], big["type"], big["size"], big["owner"])
        got = (obj.get("address"), obj.get("type"), obj.get("size"), obj.get("owner"))
        if want != got:
            r.problems.append("show inside %s: expected %s, got %s" % (big["owner"], want, got))
        run = corelib.run_tool([tool, "--json", "path", big["address"], core])
        try:
            doc = json.loads(run.stdout)
        except ValueError:
            r.problems.append("path %s: stdout is not JSON" % big["address"])
            continue
        steps = doc.get("path") or []
        if doc.get("owner") != big["owner"] or not steps or steps[-1].get("address") != big["address"]:
            r.problems.append("path %s: expected owner %r ending at the object, got %r, %d steps"
                              % (big["address"], big["owner"], doc.get("owner"), len(steps)))


def compare(truth, result, limit):
    r = Result()
    if not isinstance(result, dict):
        r.problems.append("stdout is not a JSON object")
        return r
    if result.get("schema") != 1:
        r.problems.append("schema: expected 1, got %r" % (result.get("schema"),))
    version = (result.get("python") or {}).get("version")
    if version != truth["version"]:
        r.problems.append("python.version: expected %r, got %r" % (truth["version"], version))
    check_unreachable(truth, result, r)
    check_cycles(truth, result, r, limit)
    check_caches(truth, result, r)
    check_suspects(truth, result, r)
    check_largest(truth, result, r)
    check_retained(truth, result, r)
    totals = result.get("totals") or {}
    r.notes.append("totals (not compared here): objects truth %d tool %s; size truth %d tool %s; "
                   "gc_tracked truth %d tool %s"
                   % (truth["totals"]["objects"], totals.get("objects"), truth["totals"]["size"],
                      totals.get("size"), truth["totals"]["gc_tracked"], totals.get("gc_tracked")))
    if result.get("warnings"):
        r.notes.append("tool warnings: %s" % json.dumps(result["warnings"])[:2000])
    return r


# --- the truth --------------------------------------------------------------------------

def truth_problems(truth):
    """The scenario's own checks (a failure here is the scenario's bug)."""
    out = list(truth.get("self_check_problems") or [])
    if not truth.get("unreachable"):
        out.append("no unreachable count (a forked collector probe failed)")
    if len(truth.get("largest") or []) < 5:
        out.append("fewer than 5 largest objects")
    return out


def projection(truth):
    """What two runs of the scenario must agree on: no addresses, pids,
    timings, paths or closure totals (argv strings differ by mode)."""
    def strip(rows, keys=("address",)):
        return [dict((k, v) for k, v in row.items() if k not in keys) for row in rows]
    return {"unreachable": truth["unreachable"],
            "cycles": {"groups": truth["cycles"]["groups"],
                       "types_considered": truth["cycles"]["types_considered"]},
            "caches": strip(truth["caches"]),
            "largest": strip([w for w in truth["largest"] if w["scenario"]]),
            "big_objects": strip(truth["big_objects"])}


def run_stable(python, rundir):
    """The scenario's stable mode. Returns (ok, message, truth or None)."""
    os.makedirs(rundir, exist_ok=True)
    path = os.path.join(rundir, "stable.json")
    argv = [python, os.path.join(corelib.PROGRAMS, PROGRAM), "stable", path]
    try:
        p = subprocess.run(argv, cwd=rundir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=STABLE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, "stable mode did not finish within %.0f s" % STABLE_TIMEOUT, None
    text = (p.stdout + p.stderr).strip()
    if p.returncode != 0:
        return False, "stable mode exit %s:\n    %s" % (p.returncode,
                                                       text[-3000:].replace("\n", "\n    ")), None
    facts = [line for line in text.splitlines() if line.startswith("python ")]
    with open(path) as f:
        return True, "STABLE (%s)" % (facts[0] if facts else ""), json.load(f)


def run_one(tool, python, method, workdir, truth_only, limit, stable_done):
    """One interpreter, one method. Returns 0 pass, 1 mismatch, 2 no core or bad truth."""
    version, tag, rundir = corelib.run_names(python, method, workdir, "report")
    try:
        core, truth, make_seconds = corelib.make_scenario_core(python, PROGRAM, rundir, method)
    except (corelib.CoreError, OSError, ValueError) as e:
        print("ERROR %s: could not make a core: %s" % (tag, e))
        return 2
    truth_path = os.path.join(rundir, "truth.json")
    size_mb = os.path.getsize(core) / 1e6
    bad_truth = truth_problems(truth)
    facts = ("unreachable %d, %d cycle groups, %d caches, largest %s; truth %.2f s, "
             "core %.0f MB made in %.1f s"
             % (truth["unreachable"]["count"] if truth.get("unreachable") else -1,
                len(truth["cycles"]["groups"]), len(truth["caches"]),
                "/".join("%s:%d" % (w["type"], w["size"]) for w in truth["largest"][:3]),
                truth["truth_seconds"], size_mb, make_seconds))
    if bad_truth:
        print("ERROR %s: the truth failed its own checks (scenario bug):\n  - %s\n  truth: %s"
              % (tag, "\n  - ".join(bad_truth), truth_path))
        return 2
    if truth_only:
        rc = 0
        extra = ""
        if python not in stable_done:
            stable_done.add(python)
            ok, message, stable = run_stable(python, os.path.join(rundir, "stable"))
            if ok and projection(stable) != projection(truth):
                a, b = projection(truth), projection(stable)
                diff = [k for k in a if a[k] != b[k]]
                ok = False
                message = ("the stable run's truth differs from the core run's in %s:\n"
                           "    core:   %s\n    stable: %s"
                           % (diff, json.dumps(dict((k, a[k]) for k in diff))[:1500],
                              json.dumps(dict((k, b[k]) for k in diff))[:1500]))
            if not ok:
                print("ERROR %s: %s\n  truth: %s" % (tag, message, truth_path))
                return 2
            extra = "; stable run: %s" % message
        print("TRUTH OK Python %s (%s) %s: %s%s" % (version, python, method, facts, extra))
        shutil.rmtree(rundir, ignore_errors=True)
        return rc

    argv = [tool, "--json"] + (["-n", str(limit)] if limit is not None else []) + \
        ["report", core]
    run = corelib.run_tool(argv)
    r = Result()
    result = None
    if run.timed_out:
        r.problems.append("the tool did not finish within %.0f s" % corelib.TOOL_TIMEOUT)
    elif run.crashed():
        r.problems.append("the tool crashed (exit %s)" % run.returncode)
    elif run.returncode != 0:
        r.problems.append("exit status: expected 0 (a complete core; approximations are notes), got %s"
                          % run.returncode)
    if not run.timed_out:
        try:
            result = json.loads(run.stdout)
        except ValueError as e:
            r.problems.append("stdout is not valid JSON: %s" % e)
    if result is not None:
        c = compare(truth, result, limit)
        r.missing.extend(c.missing)
        r.problems.extend(c.problems)
        r.notes.extend(c.notes)
        if run.returncode == 1 and not result.get("warnings"):
            r.problems.append("exit 1 without warnings (contract: warnings says what was lost)")
        check_show_path(tool, core, truth, r)
    if method == "abort":
        r.problems.extend(check_demo(tool, python, rundir))
        r.problems.extend(check_coroutine(tool, python, rundir))
        r.problems.extend(check_libraries(tool, python, rundir))
        r.problems.extend(check_gc_disabled(tool, python, rundir))

    if r.failed():
        print("FAIL %s (Python %s, %s; truth: %s)" % (tag, version, method, facts))
        for m in r.missing:
            print("  - missing: " + m.replace("\n", "\n    "))
        for p in r.problems:
            print("  - " + p.replace("\n", "\n    "))
        for n in r.notes:
            print("  - note: " + n.replace("\n", "\n    "))
        corelib.print_failed_run(run, core, truth_path)
        return 1
    print("PASS Python %s (%s) %s: tool %.2f s (exit %d); %s"
          % (version, python, method, run.seconds, run.returncode, facts))
    shutil.rmtree(rundir, ignore_errors=True)
    return 0


def main():
    def add_arguments(ap):
        corelib.add_matrix_arguments(ap)
        ap.add_argument("--truth-only", action="store_true",
                        help="make the cores and check the truths (and the scenario's "
                             "stability); do not run the tool")
        ap.add_argument("--limit", type=int, default=None,
                        help="pass -n LIMIT to the tool (default: not passed)")
    args = corelib.parse_args(__doc__, add_arguments)
    worst = 0
    stable_done = set()
    for python, method in corelib.matrix(args):
        rc = run_one(args.tool, python, method, args.workdir, args.truth_only, args.limit,
                     stable_done)
        worst = max(worst, rc)
    return worst


if __name__ == "__main__":
    sys.exit(main())
