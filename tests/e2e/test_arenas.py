#!/usr/bin/python3
"""End-to-end test of the pymalloc section ("allocator"): a program fills
pymalloc, frees part of it, has sys._debugmallocstats() print pymalloc's own
account into a file at the last moment and dies; what the tool reads from
the core must equal that account exactly: arenas, pools, every size class's
pools / blocks in use / available blocks, and every byte total.

  test_arenas.py --tool build/pycore-analyze --python PYTHON|all --method abort|gcore|both --workdir DIR

The section is the "allocator" key of `pycore-analyze --json summary`.
"""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

# Measured residuals between the capture and the core, per major.minor:
# none (see corefiles/programs/arenas_scenario.py for why nothing allocates
# after the snapshot). Anything different fails.
KNOWN_DIFFERENCES = {}


def parse_mallocstats(text):
    """The pymalloc part of _PyObject_DebugMallocStats' output (Objects/obmalloc.c,
    3.6-3.13): the class table and the printone() lines ("label  = 1,234")."""
    out = {"classes": {}, "values": {}}
    m = re.search(r"Small block threshold = (\d+), in (\d+) size classes", text)
    if not m:
        raise ValueError("no pymalloc statistics in the capture:\n" + text[:2000])
    out["threshold"], out["nclasses"] = int(m.group(1)), int(m.group(2))
    table = text.split("-----   ----   ---------   -------------  ------------\n", 1)[1]
    for line in table.split("\n"):
        fields = line.split()
        if len(fields) != 5 or not all(f.isdigit() for f in fields):
            break
        idx, size, pools, used, avail = (int(f) for f in fields)
        out["classes"][idx] = {"size": size, "pools": pools, "blocks_used": used,
                               "blocks_free": avail}
    for m in re.finditer(r"^(.+?)\s+=\s+([\d,]+)$", text, re.M):
        out["values"][m.group(1).strip()] = int(m.group(2).replace(",", ""))
    for m in re.finditer(r"^(\d+) arenas \* (\d+) bytes/arena", text, re.M):
        out["arena_size"] = int(m.group(2))
    for m in re.finditer(r"^(\d+) unused pools \* (\d+) bytes", text, re.M):
        out["pools_free"], out["pool_size"] = int(m.group(1)), int(m.group(2))
    return out


def expected_allocator(stats):
    v = stats["values"]
    return {
        "arenas": v["# arenas allocated current"],
        "arena_size": stats["arena_size"],
        "pool_size": stats["pool_size"],
        "arenas_allocated_total": v["# arenas allocated total"],
        "arenas_reclaimed": v["# arenas reclaimed"],
        "arenas_highwater": v["# arenas highwater mark"],
        "pools_used": sum(c["pools"] for c in stats["classes"].values()),
        "pools_free": stats["pools_free"],
        "bytes_in_arenas": v["# arenas allocated current"] * stats["arena_size"],
        "bytes_used": v["# bytes in allocated blocks"],
        "bytes_free": v["# bytes in available blocks"],
        "bytes_free_pools": stats["pools_free"] * stats["pool_size"],
        "bytes_pool_headers": v["# bytes lost to pool headers"],
        "bytes_quantization": v["# bytes lost to quantization"],
        "bytes_arena_alignment": v["# bytes lost to arena alignment"],
        "complete": True,
        "size_classes": [dict(c, **{"class": i}) for i, c in sorted(stats["classes"].items())],
    }


def tool_output(tool, core):
    """Run the tool on CORE; return (run, its JSON document or None)."""
    argv = [tool, "--json", "summary", core]
    run = corelib.run_tool(argv)
    if run.crashed() or run.returncode not in (0, 1):
        return run, None
    return run, json.loads(run.stdout)


def compare(expected, got, allowed):
    problems = []
    for key, e in sorted(expected.items()):
        if key == "size_classes":
            continue
        g = got.get(key)
        if g != e and allowed.get(key) != (g - e if isinstance(g, int) else None):
            problems.append("%-24s expected %s got %s" % (key, e, g))
    got_classes = {c["class"]: c for c in got.get("size_classes", [])}
    exp_classes = {c["class"]: c for c in expected["size_classes"]}
    for idx in sorted(set(got_classes) | set(exp_classes)):
        e = exp_classes.get(idx)
        g = got_classes.get(idx)
        if e is None or g is None:
            problems.append("class %-3d expected %s got %s" % (idx, e, g))
            continue
        for key in ("size", "pools", "blocks_used", "blocks_free"):
            if e[key] != g[key] and allowed.get((idx, key)) != g[key] - e[key]:
                problems.append("class %-3d %-12s expected %d got %d" % (idx, key, e[key], g[key]))
    return problems


def check(tool, python, method, workdir):
    version = corelib.python_version(python)
    rundir = os.path.join(workdir, "%s-%s" % (os.path.basename(python), method))
    shutil.rmtree(rundir, ignore_errors=True)
    core, truth, _ = corelib.make_scenario_core(python, "arenas_scenario.py", rundir, method)
    with open(truth["mallocstats"]) as f:
        stats = parse_mallocstats(f.read())
    run, doc = tool_output(tool, core)
    got = doc.get("allocator") if doc else None
    if got is None:
        print("FAIL %s %s: %s" % (version, method, run.describe()))
        return False
    expected = expected_allocator(stats)
    allowed = KNOWN_DIFFERENCES.get(".".join(version.split(".")[:2]), {})
    problems = compare(expected, got, allowed)
    if got.get("size_classes") and stats["nclasses"] * got["alignment"] != stats["threshold"]:
        problems.append("alignment %d x %d classes is not the threshold %d"
                        % (got["alignment"], stats["nclasses"], stats["threshold"]))
    # Warnings about the allocator walk fail the test; the census's own
    # (approximate sizes of some types) are not this test's business.
    problems.extend("warning: " + w for w in doc.get("warnings", [])
                    if any(k in w for k in ("pymalloc", "pool", "arena", "obmalloc")))
    if problems:
        print("FAIL Python %s %s: %d differences (core kept: %s)" % (version, method, len(problems), core))
        for p in problems:
            print("  " + p)
        return False
    print("PASS Python %s %s: %d arenas, %d pools, %d size classes, %d blocks in use, tool %.2f s" % (
        version, method, got["arenas"], got["pools_used"], len(got["size_classes"]),
        sum(c["blocks_used"] for c in got["size_classes"]), run.seconds))
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
