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
    test_stdlib.run_scenario(args, PROGRAM, "apps", env, ALLOWED, EXTERNAL_ALLOWED)


if __name__ == "__main__":
    main()
