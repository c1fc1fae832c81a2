"""What the web-framework scenarios share (flask_scenario.py,
django_scenario.py, tests/e2e/test_framework.py): the failing call chain
whose exceptions are kept or dropped, the census of the scenario's types,
the collector's verdict from a forked child, the truth and the run from
warm-up to the core.

A scenario defines its KeptFailure, DroppedFailure and Payload classes in
__main__ (the census names them __main__.X), a serve(rounds, base) that
drives its framework, and calls run(). Runs on CPython 3.11 (Debian's
Flask and Django)."""

import gc
import json
import os
import platform
import sys
import time

from scenario_truth import ready_line, type_name, write_file

REQUESTS = 60
FAIL_DEPTH = 2
COUNTED = ("KeptFailure", "DroppedFailure", "Payload")


def fail_deep(cls, payload_cls, n, depth):
    payload = payload_cls(n)
    if depth:
        return fail_deep(cls, payload_cls, n, depth - 1)
    raise cls("request %d failed" % n, payload.n)


HEAPTYPE = 1 << 9     # Py_TPFLAGS_HEAPTYPE: a class statement made it
HAVE_GC = 1 << 14     # Py_TPFLAGS_HAVE_GC


def counted_type(t, packages):
    """Is T one whose every instance the collector tracks from its
    allocation to its end (so that gc.get_objects() counts all of them, as
    the tool's census does) and one the test compares: a heap type with GC
    (instances of a Python class; only C code could untrack one) defined in
    one of PACKAGES (the framework's), or traceback."""
    if t.__flags__ & (HEAPTYPE | HAVE_GC) != (HEAPTYPE | HAVE_GC):
        return t.__name__ == "traceback" and t.__module__ == "builtins"
    mod = type_name(t).split(".")[0]
    return mod in packages


def census(packages):
    """{type name: count} over the collector's lists for the scenario's
    types (__main__), traceback and the classes of PACKAGES."""
    out = dict(("__main__." + n, 0) for n in COUNTED)
    out["traceback"] = 0
    packages = ("__main__",) + tuple(packages)
    seen = {}
    for o in gc.get_objects():
        t = type(o)
        wanted = seen.get(t)
        if wanted is None:
            wanted = seen[t] = counted_type(t, packages)
        if wanted:
            name = type_name(t)
            out[name] = out.get(name, 0) + 1
    seen.clear()
    return out


def fork_probe(ids_env):
    """The collector's verdict on this heap, from a forked child. With
    $IDS_ENV set, the child writes the address of every object it found
    unreachable to that file, one hex number a line (a debugging aid)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            gc.set_debug(gc.DEBUG_SAVEALL)
            collected = gc.collect()
            types = {}
            for o in gc.garbage:
                name = type_name(type(o))
                types[name] = types.get(name, 0) + 1
            if os.environ.get(ids_env):
                with open(os.environ[ids_env], "w") as f:
                    for o in gc.garbage:
                        f.write("%x\n" % id(o))
            data = json.dumps({"count": len(gc.garbage), "collect_returned": collected,
                               "types": types}, sort_keys=True).encode("ascii")
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks).decode("ascii"))


def compute_truth(mode, ids_env, per_round, packages, extra):
    counts = census(packages)
    unreachable = fork_probe(ids_env)
    expected = {"__main__.KeptFailure": REQUESTS, "__main__.DroppedFailure": REQUESTS,
                "__main__.Payload": 2 * REQUESTS * (FAIL_DEPTH + 1)}
    problems = []
    for name, n in sorted(expected.items()):
        if counts.get(name) != n:
            problems.append("%s: %s objects, the scenario made %d" % (name, counts.get(name), n))
    want_garbage = {"__main__.DroppedFailure": REQUESTS,
                    "__main__.Payload": REQUESTS * (FAIL_DEPTH + 1)}
    for name, n in sorted(want_garbage.items()):
        if unreachable["types"].get(name) != n:
            problems.append("%s: %s unreachable, the scenario dropped %d"
                            % (name, unreachable["types"].get(name), n))
    truth = {"pid": os.getpid(), "mode": mode, "version": platform.python_version(),
             "executable": sys.executable, "requests": per_round * REQUESTS, "counts": counts,
             "expected": expected, "unreachable": unreachable,
             "self_check_problems": problems}
    truth.update(extra)
    return truth


def run(name, serve, per_round, packages, failures, ids_env, extra):
    """argv: abort|gcore TRUTH.json. serve(rounds, base) makes PER_ROUND
    requests a round; PACKAGES are the framework's top-level packages whose
    classes the census counts. Warm up (first-request state, lazy
    imports, the probe's own code), collect, turn the collector off, serve
    REQUESTS rounds, write the truth, then abort or print "ready" and wait
    for gcore."""
    if len(sys.argv) != 3 or sys.argv[1] not in ("abort", "gcore"):
        sys.stderr.write("usage: %s abort|gcore TRUTH.json\n" % name)
        sys.exit(64)
    mode, path = sys.argv[1], sys.argv[2]
    serve(2, 10 ** 6)
    del failures[:]
    sys.stdout.write("warm\n")
    sys.stdout.flush()
    fork_probe(ids_env)
    write_file(path + ".warm-up", b"{}")
    os.unlink(path + ".warm-up")
    if hasattr(gc, "unfreeze"):
        gc.unfreeze()
    gc.collect()
    gc.disable()          # no collection from here to the core
    serve(REQUESTS, 0)
    truth = compute_truth(mode, ids_env, per_round, packages, extra)
    # Last: the objects in the collector's lists at the core (gc.get_objects()
    # leaves out its own result list, freed at once; the permanent
    # generation is apart).
    # json.dumps below makes tracked objects only while it runs (its caches
    # were made by the probe's), so the count is the core's.
    tracked = len(gc.get_objects())
    if hasattr(gc, "get_freeze_count"):
        tracked += gc.get_freeze_count()
    truth["gc_tracked"] = tracked
    write_file(path, json.dumps(truth, sort_keys=True).encode("ascii"))
    if mode == "abort":
        os.abort()
    ready_line()
    time.sleep(3600)


def die_with_truth(program, ids_env, made, make_garbage, write_truth):
    """The end of stdlib_scenario.py and apps_scenario.py (argv: abort|gcore
    TRUTH.json): the truth (scenario_truth's census) with garbage made after
    a collection and the collector disabled, then the core."""
    import scenario_truth
    if len(sys.argv) != 3 or sys.argv[1] not in ("abort", "gcore"):
        sys.stderr.write("usage: %s abort|gcore TRUTH.json\n" % program)
        sys.exit(64)
    mode, path = sys.argv[1], sys.argv[2]
    # The permanent generation (3.12.1 starts with the static types' tp_mro
    # and tp_bases frozen) back into the lists gc.get_objects() reads.
    if hasattr(gc, "unfreeze"):
        gc.unfreeze()
    # Warm-up: what the truth, the probe and the write do on first use
    # (lazy type readying, 3.12+'s fork warning registry) happens now.
    write_file(path + ".warm-up", json.dumps({"b": [1, None], "a": True},
                                             sort_keys=True).encode("ascii"))
    os.unlink(path + ".warm-up")
    scenario_truth.compute_truth()
    fork_probe(ids_env)
    sys.stdout.write("built: %s\n" % " ".join(made))
    sys.stdout.flush()
    gc.collect()
    gc.disable()          # no collection from here to the core
    make_garbage()
    unreachable = fork_probe(ids_env)
    write_truth(path, scenario_truth.compute_truth(), mode, unreachable)
    if mode == "abort":
        os.abort()
    ready_line()
    time.sleep(3600)
