#!/usr/bin/python3
"""Generate src/layout/tables/tables.c: the layouts DWARF gives for each
interpreter on this machine, recorded as data for stripped twins of the same
builds (src/symbols/recorded.h explains the records).

  tools/gen_layout_tables.py --tool build/pycore-analyze [--python PY ...] [-o FILE]
      [--add] [--label TEXT] [--debug-dir DIR]

To add a row for your own build (a distribution's python3.X, a container
image's), on a machine where that interpreter runs and its debug info is
found (its -dbg/-debuginfo package installed, --debug-dir DIR, or
DEBUGINFOD_URLS; or run an unstripped copy of the same build: stripping
keeps the build-id the row is keyed by):

  tools/gen_layout_tables.py --tool build/pycore-analyze --add \
      --python /usr/bin/python3.12 --label "Ubuntu 24.04"

then rebuild. --add keeps the rows already in the file (a row with the same
build-id is replaced); without it the file holds only the interpreters named.

For each interpreter (default: every one corelib.find_interpreters() finds),
makes a core (gcore) of a small program that imports every extension module
whose C structs layout/ describes (their types are only indexed when the
module is loaded), runs `TOOL report CORE` with PCA_RECORD_LAYOUT set so the tool writes
every DWARF answer and symbol address it used, and keeps them keyed by the
build-id of the file that holds the runtime, with the version and the build
named. The numbers are exactly those DWARF mode resolves: the tool's own
resolution code produced them. Rerun after adding a role, a type or a symbol
lookup anywhere (a query without a record is answered "absent").
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import corelib  # noqa: E402

# Every module whose structs layout/object_layout.c names, so their types
# are in the core's modules when the answers are recorded.
PROGRAM = """
import sys, time
for name in ("_struct", "struct", "_json", "json", "re", "_io", "io", "operator", "_abc",
             "abc", "collections", "_collections", "functools", "_functools", "types",
             "datetime", "_datetime", "decimal", "_pickle", "array", "itertools",
             "_asyncio", "asyncio", "_queue", "_thread", "weakref", "_weakref", "_operator",
             "_sre", "_elementtree", "_csv", "_bisect", "_heapq", "_random", "_hashlib"):
    try:
        __import__(name)
    except ImportError:
        pass
print("ready", flush=True)
time.sleep(3600)
"""


def runtime_file(python):
    """The file holding the runtime: libpython when the executable links one."""
    out = subprocess.run(["ldd", python], stdout=subprocess.PIPE, universal_newlines=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("libpython3") and len(parts) >= 3:
            return os.path.realpath(parts[2])
    return os.path.realpath(python)


def group(lines):
    """Deduplicate; each type line followed by its member lines."""
    types, members, other = {}, {}, []
    seen = set()
    for line in lines:
        if not line or line in seen:
            continue
        seen.add(line)
        words = line.split(" ")
        if words[0] == "T":
            types.setdefault(words[1], line)
        elif words[0] == "M":
            members.setdefault(words[1], []).append(line)
        else:
            other.append(line)
    out = []
    for name in sorted(types):
        out.append(types[name])
        out.extend(sorted(members.get(name, [])))
    return out + sorted(other)


def record(tool, python, workdir, tool_args=()):
    core = corelib.make_core([python, "-c", PROGRAM], os.path.join(workdir, "core-dir"),
                             "gcore")[0]
    rec = os.path.join(workdir, "records.txt")
    env = dict(os.environ, PCA_RECORD_LAYOUT=rec)
    run = subprocess.run([tool, "--no-progress"] + list(tool_args) + ["report", core], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=600)
    if not os.path.exists(rec):
        sys.exit("%s: the tool recorded nothing: %s" % (python, run.stderr.strip()[-500:]))
    with open(rec) as f:
        lines = [l.rstrip("\n") for l in f]
    os.unlink(core)
    return group(lines)


def read_rows(path):
    """The rows of a generated tables.c: [(build_id, version, build, lines)]."""
    rows = []
    with open(path) as f:
        for line in f:
            head = re.match(r'^\{"([0-9a-f]+)", "([^"]*)", "((?:[^"\\]|\\.)*)",$', line)
            if head:
                rows.append((head.group(1), head.group(2), unescape(head.group(3)), []))
                continue
            rec = re.match(r'^\t"((?:[^"\\]|\\.)*)\\n"$', line)
            if rec and rows:
                rows[-1][3].append(unescape(rec.group(1)))
    return rows


def unescape(text):
    return text.replace('\\"', '"').replace("\\\\", "\\")


def c_string(lines):
    return "\n".join('\t"%s\\n"' % l.replace("\\", "\\\\").replace('"', '\\"') for l in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--python", action="append")
    ap.add_argument("-o", default=os.path.join(REPO, "src", "layout", "tables", "tables.c"))
    ap.add_argument("--add", action="store_true",
                    help="keep the rows already in the output file")
    ap.add_argument("--label", help="who built it (default: pyenv, or Debian for "
                    + corelib.DEBIAN_PYTHON + ")")
    ap.add_argument("--debug-dir", action="append", default=[],
                    help="passed to the tool: where the interpreter's debug info is")
    args = ap.parse_args()
    if args.add and not args.python:
        sys.exit("--add needs the interpreters to add (--python)")
    pythons = args.python or corelib.find_interpreters()
    rows = read_rows(args.o) if args.add else []
    tool_args = [a for d in args.debug_dir for a in ("--debug-dir", d)]
    for py in pythons:
        version = corelib.python_version(py)
        lib = runtime_file(py)
        bid = corelib.build_id(lib)
        origin = args.label or ("Debian" if py == corelib.DEBIAN_PYTHON else "pyenv")
        with tempfile.TemporaryDirectory() as wd:
            lines = record(args.tool, py, wd, tool_args)
        if not any(l.startswith("T ") for l in lines):
            sys.exit("%s: no records (no DWARF?)" % py)
        row = (bid, version, "%s %s (%s)" % (origin, version, lib), lines)
        at = [i for i, r in enumerate(rows) if r[0] == bid]
        if at:
            rows[at[0]] = row  # in place: a regenerated row is a small diff
        else:
            rows.append(row)
        print("%s %s %s: %d records" % (origin, version, bid, len(lines)), file=sys.stderr)
    with open(args.o, "w") as f:
        f.write("/* Generated by tools/gen_layout_tables.py from the DWARF of the builds named\n"
                " * below: do not edit. Records: src/symbols/recorded.h. */\n"
                "#include \"symbols/recorded.h\"\n\n"
                "const struct pca_recorded_build pca_recorded_builds[] = {\n")
        for bid, version, build, lines in rows:
            f.write("{\"%s\", \"%s\", \"%s\",\n%s\n},\n" % (bid, version, build, c_string(lines)))
        f.write("};\nconst size_t pca_recorded_builds_count =\n"
                "\tsizeof(pca_recorded_builds) / sizeof(pca_recorded_builds[0]);\n")


if __name__ == "__main__":
    main()
