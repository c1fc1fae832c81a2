#!/usr/bin/python3
"""End-to-end test of the reference graph's completeness: over every object,
reference count minus the references the graph found to it (its in-degree)
is what C code holds. The tool roots the object there ("held by C"), so
every such reference the graph fails to see (an edge objects/ does not
model: a C type's member, an lru_cache's links) makes an object look held
by C and breaks retained sizes and the collector's verdict.

  test_external.py --tool build/pycore-analyze --python PY --workdir DIR
                   [--program heap_scenario.py|leaks_scenario.py ...]

Makes a core of each scenario program (abort; heap_scenario.py by default:
its objects include a bounded lru_cache, whose links only the wrapper's
list explains), runs `report` with
PCA_DUMP_EXTERNAL=FILE (every object whose reference count exceeds its
in-degree, with the excess) and sums the excess per type. Pass when every
type is explained by something named in EXPLAINED (interpreter state,
module state, free lists, the stack's temporaries, immortal objects);
fail on any other type: a new unexplained type is a missing edge (or a
holder to name here, with the reason). Immortal objects (3.12+: reference
counts of 2**32 - 1 and above) are left out: their counts mean nothing.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

IMMORTAL = 1 << 28

# Who holds references the graph cannot see, by type (measured on the
# heap and leaks scenarios, 3.6-3.13 and Debian 3.11).
EXPLAINED = {
    # interpreter state: interned strings (3.12+: a dict in the runtime,
    # before: their refcount excludes the interned dict but C keeps
    # identifiers), _Py_IDENTIFIER caches, codec and import state, the
    # static types' dicts and subclass lists, builtins/sys module dicts
    "str": "interned strings and _Py_IDENTIFIER/_Py_ID caches (runtime state)",
    "dict": "static types' tp_dict, module dicts (m_copy of single-phase modules), "
            "sys.__dict__ copies, interpreter state (builtins, sysdict)",
    "type": "static types' subclass references, module state (types made by C "
            "modules), the interpreter's cached types",
    "tuple": "C constants (empty tuple, static types' bases when C-referenced), "
             "the free list's cached tuples, codec state",
    "list": "interpreter state (sys.path, sys.meta_path ... via C globals), "
            "the stack's temporaries",
    "bytes": "C constants (the empty bytes, single-character bytes)",
    "int": "small ints and C-cached constants",
    "float": "the stack's temporaries",
    "code": "C-held code (the frame being executed, the compiler's caches)",
    "frame": "the thread state's running frames and the stack's temporaries",
    "function": "C-level callbacks (atexit, codecs search functions, warnings)",
    "builtin_function_or_method": "module state and C globals holding bound C functions",
    "module": "sys.modules copies held by the interpreter (builtins, sys)",
    "cell": "the stack's temporaries",
    "method": "the stack's temporaries",
    "set": "interpreter state",
    "frozenset": "C constants",
    "PyCapsule": "module state (C APIs exported through capsules)",
    "_io.FileIO": "the interpreter's standard streams",
    "_io.BufferedReader": "the interpreter's standard streams",
    "_io.BufferedWriter": "the interpreter's standard streams",
    "_io.TextIOWrapper": "the interpreter's standard streams",
    "datetime.timezone": "module state of _datetime (utc, the epoch)",
    "datetime.datetime": "module state of _datetime (the epoch)",
    "datetime.timedelta": "module state of _datetime",
    "object": "C constants (sentinels)",
    "weakref": "C globals (type caches)",
    "weakref.ReferenceType": "C globals (type caches; 3.6-3.10 name)",
    "Token.MISSING": "a C singleton (contextvars)",
    "NoneType": "immortal singletons before 3.12",
    "bool": "immortal singletons before 3.12",
    "ellipsis": "a C singleton",
    "NotImplementedType": "a C singleton",
}
# Types of C modules' singletons and cached objects held by their module
# state: by module prefix.
EXPLAINED_PREFIXES = {
    "ast.": "_ast module state (operator and context singletons)",
    "_ast.": "_ast C globals (operator and context singletons, 3.6-3.8 name)",
    "_ctypes.": "_ctypes module state (its metatypes and cached types)",
    "StgDict": "_ctypes: the type dicts of ctypes' types",
    "_abc.": "_abc module state",
    "_thread.": "threading's C state (the main thread's locks)",
    "encodings.": "codec registry (interpreter state)",
    "codecs.": "codec registry (interpreter state)",
}


def explained(name):
    if name in EXPLAINED:
        return True
    return any(name.startswith(p) for p in EXPLAINED_PREFIXES)


def excess_by_type(path):
    out = {}
    with open(path) as f:
        for line in f:
            addr, rest = line.split(" ", 1)
            name, excess = rest.rstrip("\n").rsplit(" ", 1)
            excess = int(excess)
            if excess >= IMMORTAL:
                continue
            count, total = out.get(name, (0, 0))
            out[name] = (count + 1, total + excess)
    return out


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
        ap.add_argument("--program", action="append")
    args = corelib.parse_args(__doc__, add_arguments)
    programs = args.program or ["heap_scenario.py"]
    version = corelib.python_version(args.python)
    problems = []
    dirs = []
    summary = []
    for program in programs:
        rundir = os.path.join(args.workdir, "external-%s-%s" % (version, program[:-3]))
        shutil.rmtree(rundir, ignore_errors=True)
        dirs.append(rundir)
        try:
            core, _, _ = corelib.make_scenario_core(args.python, program, rundir, "abort")
        except corelib.CoreError as e:
            print("ERROR: no core for %s: %s" % (program, e))
            sys.exit(2)
        dump = os.path.join(rundir, "external.txt")
        env = dict(os.environ, PCA_DUMP_EXTERNAL=dump)
        run = corelib.run_tool([args.tool, "--json", "report", core], env=env)
        if run.crashed() or run.returncode not in (0, 1) or not os.path.exists(dump):
            problems.append("%s: %s" % (program, run.describe()))
            continue
        per_type = excess_by_type(dump)
        bad = sorted((n, c, t) for n, (c, t) in per_type.items() if not explained(n))
        for name, count, total in bad:
            problems.append("%s: %s: %d objects held %d times more than the graph explains "
                            "(a missing edge, or a holder to name in EXPLAINED)"
                            % (program, name, count, total))
        summary.append("%s: %d types, %d objects, excess %d" % (
            program, len(per_type), sum(c for c, _ in per_type.values()),
            sum(t for _, t in per_type.values())))
    corelib.conclude("Python %s" % version, problems, dirs,
                     "Python %s: every C-held reference explained (%s)"
                     % (version, "; ".join(summary)))


if __name__ == "__main__":
    main()
