#!/usr/bin/python3
"""End-to-end exactness sweep over real applications' C-extension types
(Debian's packages): corefiles/programs/apps_scenario.py holds live what a
service built on SQLAlchemy, aiohttp (multidict, yarl, frozenlist),
msgpack, simplejson, ujson, yaml, jinja2 and markupsafe, lxml, regex,
pydantic, attrs, cachetools, sortedcontainers and werkzeug carries, and
garbage cycles through some of them, and writes the in-process truth; the
test takes a core and compares `pycore-analyze --json report` with it, type
by type, exactly as test_stdlib.py does (its pass/fail rules, its
allow-lists for the standard library's types, and this file's for the
packages').

  test_apps.py --tool build/pycore-analyze --python PY --workdir DIR
               [--method abort|gcore] [--dist-packages]

--dist-packages runs PY with PYTHONPATH=/usr/lib/python3/dist-packages (a
pyenv 3.11 loading Debian's packages, whose C extensions are built for
3.11's ABI).

Exit 0 pass, 1 differ, 2 no core / the truth failed its own checks, 77
(skip) when a package is not importable (install it: scripts/deps.sh).
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402
import test_stdlib  # noqa: E402

PROGRAM = "apps_scenario.py"
DIST_PACKAGES = "/usr/lib/python3/dist-packages"

# The modules the scenario needs, and the Debian package of each.
PACKAGES = (("sqlalchemy", "python3-sqlalchemy"),
            ("sqlalchemy.cresultproxy", "python3-sqlalchemy-ext"), ("aiohttp", "python3-aiohttp"),
            ("multidict", "python3-multidict"), ("yarl", "python3-yarl"),
            ("frozenlist", "python3-frozenlist"), ("msgpack", "python3-msgpack"),
            ("simplejson", "python3-simplejson"), ("ujson", "python3-ujson"),
            ("yaml", "python3-yaml"), ("jinja2", "python3-jinja2"),
            ("markupsafe", "python3-markupsafe"), ("lxml.etree", "python3-lxml"),
            ("regex", "python3-regex"), ("pydantic", "python3-pydantic"),
            ("attr", "python3-attr"), ("cachetools", "python3-cachetools"),
            ("sortedcontainers", "python3-sortedcontainers"),
            ("werkzeug", "python3-werkzeug"))

# Per-type count differences beyond test_stdlib.ALLOWED, by type name, as
# there: (minor versions, the largest |tool - truth| difference, why).
ALLOWED = dict(test_stdlib.ALLOWED)
ALLOWED.update({
    # Cython's generated tp_traverse leaves out the members typed as
    # builtins that cannot be in a cycle (str, bytes, bytearray): the
    # collector (the census) does not reach aiohttp's HttpRequestParser's
    # bytearray buffers and str, nor lxml's XPath objects' bytes _path; the
    # tool's guessed words (extensions.c) do (measured: 3 bytearray, 2
    # bytes, 1 str, within test_stdlib's str allowance).
    "bytearray": (("3.11",), 4, "Cython members the generated tp_traverse leaves out"),
    "bytes": (("3.11",), 2, "Cython members the generated tp_traverse leaves out"),
})

# Holders of references the graph cannot explain beyond test_stdlib's.
EXTERNAL_ALLOWED = dict(test_stdlib.EXTERNAL_ALLOWED)
EXTERNAL_ALLOWED.update({
    # Cython 0.29 modules keep their cdef module globals, cached builtins,
    # constant slices and tuples in C static variables (not module state,
    # no traverse): aiohttp's parser's header table of istr, HttpVersion
    # constants, EmptyStreamReader; lxml's default parser, error logs,
    # resolvers and class lookup; slices and the slot wrappers Cython
    # caches (object.__init__ ...), the typing meta of multidict's ABCs.
    "multidict._multidict.istr": "aiohttp's and multidict's C statics (header tables)",
    "aiohttp.http_writer.HttpVersion": "aiohttp's Cython C statics (HttpVersion10/11)",
    "aiohttp.streams.EmptyStreamReader": "aiohttp's Cython C statics (EMPTY_PAYLOAD)",
    "lxml.etree.HTMLParser": "lxml's C statics (the default parsers)",
    "lxml.etree.XMLParser": "lxml's C statics (the default parsers) and the thread's parser",
    "lxml.etree.ParserBasedElementClassLookup": "lxml's C statics (the default class lookup)",
    "lxml.etree._ParserDictionaryContext": "lxml's C statics (__GLOBAL_PARSER_CONTEXT)",
    "lxml.etree._RotatingErrorLog": "lxml's C statics (the global error log)",
    "lxml.etree._ImmutableMapping": "lxml's C statics (IMMUTABLE_EMPTY_MAPPING)",
    "lxml.etree.XPath": "libxml2's XPath context holds its Python object (void *)",
    "multidict._abc._TypingMeta": "multidict's C module holds its ABC classes",
    "slice": "Cython's constant slices (C statics)",
    "wrapper_descriptor": "Cython's cached slot wrappers (C statics)",
    "builtin_method": "Cython's cached bound methods (C statics)",
    "operator.itemgetter": "SQLAlchemy's C extensions' statics",
    "tuple_iterator": "a running C iteration (Cython generator state)",
    "dict_items": "a running C iteration (Cython generator state)",
    "re.Pattern": "held by Cython C statics (compiled module-level patterns)",
    # A greenlet's own stack and its parent are held by the C greenlet
    # machinery (the main greenlet of the thread state).
    "greenlet.greenlet": "the thread's main greenlet, held by greenlet's C thread state",
})


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
        ap.add_argument("--method", choices=("abort", "gcore"), default="abort")
        ap.add_argument("--dist-packages", action="store_true")
    args = corelib.parse_args(__doc__, add_arguments)
    env = dict(os.environ)
    if args.dist_packages:
        env["PYTHONPATH"] = DIST_PACKAGES
    missing = []
    for module, package in PACKAGES:
        probe = subprocess.run([args.python, "-c", "import " + module], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            missing.append(package)
    if missing:
        print("SKIP: %s cannot import the packages of %s (install them: scripts/deps.sh)"
              % (args.python, " ".join(missing)))
        sys.exit(77)
    version, tag, rundir = corelib.run_names(args.python, args.method, args.workdir, "apps")
    try:
        core, truth, seconds = corelib.make_scenario_core(args.python, PROGRAM, rundir,
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
    problems.extend(test_stdlib.compare_types(truth, result, version, ALLOWED))
    totals = result.get("totals", {})
    slack = test_stdlib.GC_TRACKED_SLACK.get(test_stdlib.minor(version), 0)
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
    if os.path.exists(dump):
        problems.extend(test_stdlib.compare_external(dump, version, EXTERNAL_ALLOWED))
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
