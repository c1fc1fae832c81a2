#!/usr/bin/env python3
"""Generate tests/unit/linetable_cases.h: real CPython line tables + truth.

Two modes:

  python3.X gen_linetable_cases.py --fragment TAG
      Run under one interpreter.  Compiles SOURCE (below), picks a set of
      code objects, and prints a C fragment with, for each one: the raw
      line-table bytes (co_lnotab for 3.6-3.9, co_linetable for 3.10+),
      co_firstlineno, len(co_code) and the truth.

  python3 gen_linetable_cases.py --all [OUTPUT]
      Runs --fragment under every interpreter of this machine
      ($PYENV_ROOT/versions/3.*/bin/python3.X and /usr/bin/python3.11; for
      3.11+ a second time with -X no_debug_ranges, which makes the compiler
      emit the "no column" entries, code 13) and writes the header
      (default: linetable_cases.h next to this script).

The truth is what the interpreter itself returns: PyCode_Addr2Line called
through ctypes for every byte offset of the bytecode, for a few offsets
before it (negative) and past its end.  Before it is written it is checked
against the documented Python-level views of the same table, so a mismatch
in either is caught here rather than in the C test:
  3.6-3.9  the line in effect at each offset per dis.findlinestarts();
  3.10+    co_lines() (None -> -1);
  3.11+    also co_positions() start line (None -> -1).

Must stay valid Python 3.6 (it runs under 3.6.15).
"""

import ctypes
import dis
import glob
import os
import subprocess
import sys

# Gaps chosen to cross the encodings' limits: lnotab/PEP 626 line deltas
# are int8 (127 / -128 is a split or the no-line marker), byte deltas uint8
# (255), location-table varints carry 6 bits per byte (line delta > 31 takes
# a second byte, > 1023 a third).
GAP_130 = 130
GAP_300 = 300
GAP_1100 = 1100
BIG_LIST = 140          # one line: > 255 bytes of bytecode, columns > 255


def build_source():
    parts = []
    add = parts.append
    add("import os\n")
    add("GLOBAL = [i for i in range(3)]\n")
    add("\n")
    add("def loops(n):\n"
        "    total = 0\n"
        "    for i in range(n):\n"
        "        while i > 0:\n"
        "            if i % 3 == 0:\n"
        "                break\n"
        "            i -= 1\n"
        "            continue\n"
        "        else:\n"
        "            total += 1\n"
        "    try:\n"
        "        total //= n\n"
        "    except ZeroDivisionError:\n"
        "        total = -1\n"
        "    finally:\n"
        "        total += 0\n"
        "    with open(os.devnull) as f:\n"
        "        total += len(f.read())\n"
        "    return total\n")
    add("\n")
    # Forward jumps by more than 127 and by more than 255 lines.
    add("def long_gap(a):\n"
        "    b = a + 1\n"
        + "\n" * GAP_130 +
        "    c = b * 2\n"
        + "\n" * GAP_300 +
        "    d = c - 3\n"
        + "\n" * GAP_1100 +
        "    return a + b + c + d\n")
    add("\n")
    # Backward jumps: arguments many lines below the call, the call itself
    # attributed to its first line again (3.8+), and a loop whose body is
    # long so the back edge jumps up by more than 128 lines.
    add("def backjump(x, f):\n"
        "    y = f(\n"
        "        x,\n"
        + "\n" * GAP_130 +
        "        x)\n"
        "    for i in range(x):\n"
        "        y += i\n"
        + "\n" * GAP_300 +
        "        y -= 1\n"
        "    return y\n")
    add("\n")
    add("def deco(*args):\n"
        "    return lambda fn: fn\n")
    add("\n")
    # Decorator evaluated many lines above the def, applied after it.
    add("@deco(\n"
        "    1,\n"
        + "\n" * GAP_130 +
        "    2)\n"
        "@deco()\n"
        "def decorated(a,\n"
        "              b=(1,\n"
        "                 2)):\n"
        "    return (a +\n"
        "            b[0] +\n"
        "            b[1])\n")
    add("\n")
    # One source line, hundreds of bytes of bytecode; columns run past 255
    # (location table long form) and past 80 (one-line forms).
    add("def huge_line(a):\n"
        "    x = [" + ", ".join(["a"] * BIG_LIST) + "]\n"
        "    return x\n")
    add("\n")
    add("def outer(k):\n"
        "    def nested(m):\n"
        "        return k + m\n"
        "    return nested\n")
    add("\n")
    add("def gen(n):\n"
        "    for i in range(n):\n"
        "        yield i * 2\n"
        "    yield from range(n)\n")
    add("\n")
    add("class Klass:\n"
        "    attr = 1\n"
        "\n"
        "    def method(self, a, b):\n"
        "        if a:\n"
        "            return (a\n"
        "                    + b)\n"
        "        return b\n")
    add("\n")
    add("value = outer(1)(2) + loops(5) + long_gap(1)\n")
    return "".join(parts)


SOURCE = build_source()
FILENAME = "<pca-linetable-cases>"

# Code objects to record; "<module>" is the module itself.
CASE_NAMES = ["<module>", "loops", "long_gap", "backjump", "decorated",
              "huge_line", "nested", "gen", "method"]
# With -X no_debug_ranges only the cases whose tables change shape.
NOCOLS_NAMES = ["loops", "decorated", "gen"]

PROBES_BEFORE = [-1000000, -2, -1]
PROBES_AFTER = [0, 1, 2, 7, 1000, 1 << 20, (1 << 31) - 1]


def table_format():
    if sys.version_info >= (3, 11):
        return "PCA_LINETABLE_LOCATIONS"
    if sys.version_info >= (3, 10):
        return "PCA_LINETABLE_PEP626"
    return "PCA_LINETABLE_LNOTAB"


def raw_table(co):
    if sys.version_info >= (3, 10):
        return bytes(co.co_linetable)
    return bytes(co.co_lnotab)


def iter_codes(root):
    stack = [root]
    while stack:
        co = stack.pop()
        yield co
        for c in reversed(co.co_consts):
            if hasattr(c, "co_code"):
                stack.append(c)


def addr2line_fn():
    fn = ctypes.pythonapi.PyCode_Addr2Line
    fn.argtypes = [ctypes.py_object, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def expected_from_python(co):
    """Per byte offset, the line the Python-level API reports."""
    n = len(co.co_code)
    out = [None] * n
    if sys.version_info >= (3, 10):
        for start, end, line in co.co_lines():
            for off in range(max(start, 0), min(end, n)):
                out[off] = -1 if line is None else line
        if sys.version_info >= (3, 11):
            for unit, pos in enumerate(co.co_positions()):
                line = -1 if pos[0] is None else pos[0]
                for off in (2 * unit, 2 * unit + 1):
                    if off < n and out[off] != line:
                        raise SystemExit("co_positions/co_lines disagree in "
                                         "%s at %d" % (co.co_name, off))
    else:
        # findlinestarts yields (offset, line) where a line starts; the
        # line in effect is the one of the last start at or before.
        line = co.co_firstlineno
        starts = dict(dis.findlinestarts(co))
        for off in range(n):
            if off in starts:
                line = starts[off]
            out[off] = line
    return out


def table_features(table):
    """Names of the encoding corners this table exercises (see REQUIRED)."""
    feats = set()
    if sys.version_info >= (3, 11):
        # Objects/locations.md: entries start with a byte with bit 7 set;
        # bits 3-6 are the code, bits 0-2 the length in code units - 1.
        i = 0
        while i < len(table):
            code = (table[i] >> 3) & 15
            feats.add("code%d" % code if code >= 10 else "short")
            if table[i] & 7 == 7:
                feats.add("len8")
            if code in (13, 14) and i + 1 < len(table):
                if table[i + 1] & 64:
                    feats.add("multibyte-varint")
                if table[i + 1] & 1:
                    feats.add("negative-svarint")
            i += 1
            while i < len(table) and not table[i] & 128:
                i += 1
        return feats
    for i in range(0, len(table) - 1, 2):
        bdelta, ldelta = table[i], table[i + 1]
        ldelta = ldelta - 256 if ldelta >= 128 else ldelta
        if sys.version_info >= (3, 10):
            if ldelta == -128:
                feats.add("no-line")
            if bdelta == 0:
                feats.add("empty-range")
            if bdelta >= 254:
                feats.add("bdelta-max")
        else:
            if bdelta == 255:
                feats.add("bdelta-max")
            if bdelta == 0:
                feats.add("zero-bdelta")
            if ldelta == -128:
                feats.add("ldelta-min")
        if ldelta == 127:
            feats.add("ldelta-max")
        if ldelta < 0 and ldelta != -128:
            feats.add("ldelta-negative")
    return feats


# What the union over one interpreter's cases must exercise, so that every
# branch of the decoder is compared against the interpreter.  3.6/3.7
# never emit negative line deltas (the compiler only moves forward then).
REQUIRED = {
    (3, 6): {"bdelta-max", "zero-bdelta", "ldelta-max"},
    (3, 8): {"bdelta-max", "zero-bdelta", "ldelta-max", "ldelta-negative",
             "ldelta-min"},
    (3, 10): {"bdelta-max", "empty-range", "ldelta-max", "ldelta-negative",
              "no-line"},
    (3, 11): {"short", "code10", "code11", "code12", "code14", "code15",
              "len8", "multibyte-varint", "negative-svarint"},
}
REQUIRED_NOCOLS = {"code13", "code15", "multibyte-varint",
                   "negative-svarint"}


def required_features(nocols):
    if nocols:
        return REQUIRED_NOCOLS
    best = set()
    for key in sorted(REQUIRED):
        if sys.version_info[:2] >= key:
            best = REQUIRED[key]
    return best


def runs_of(values):
    runs = []
    for off, line in enumerate(values):
        if runs and runs[-1][2] == line and runs[-1][1] == off:
            runs[-1][1] = off + 1
        else:
            runs.append([off, off + 1, line])
    return runs


def c_bytes(data):
    if not data:
        return "0"
    rows = []
    for i in range(0, len(data), 16):
        rows.append(", ".join("0x%02x" % b for b in data[i:i + 16]))
    return ",\n    ".join(rows)


def fragment(tag):
    addr2line = addr2line_fn()
    module = compile(SOURCE, FILENAME, "exec")
    nocols = "no_debug_ranges" in getattr(sys, "_xoptions", {})
    names = NOCOLS_NAMES if nocols else CASE_NAMES
    found = {}
    for co in iter_codes(module):
        if co.co_name in names and co.co_name not in found:
            found[co.co_name] = co
    missing = [n for n in names if n not in found]
    if missing:
        raise SystemExit("code objects not found: %r" % missing)

    prefix = "pca_ltc_" + tag
    version = "%d.%d.%d" % sys.version_info[:3]
    out = []
    w = out.append
    exe = sys.executable
    root = os.environ.get("PYENV_ROOT")
    if root and exe.startswith(root.rstrip("/") + "/"):
        exe = "$PYENV_ROOT" + exe[len(root.rstrip("/")):]
    w("/* %s: CPython %s, %s%s */" % (tag, version, exe,
                                      " -X no_debug_ranges" if nocols else ""))
    entries = []
    seen = set()
    for idx, name in enumerate(names):
        co = found[name]
        table = raw_table(co)
        feats = table_features(table)
        seen |= feats
        n = len(co.co_code)
        truth = [addr2line(co, off) for off in range(n)]
        python_view = expected_from_python(co)
        if truth != python_view:
            bad = [i for i in range(n) if truth[i] != python_view[i]]
            raise SystemExit("PyCode_Addr2Line disagrees with the Python "
                             "view in %s at offsets %r" % (name, bad[:8]))
        probes = []
        for off in PROBES_BEFORE:
            probes.append((off, addr2line(co, off)))
        for extra in PROBES_AFTER:
            off = n + extra if extra < (1 << 20) else extra
            probes.append((off, addr2line(co, off)))
        runs = runs_of(truth)
        base = "%s_%d" % (prefix, idx)
        w("/* %s: %s */" % (name, ", ".join(sorted(feats)) or "-"))
        w("static const uint8_t %s_table[] = {\n    %s\n};" %
          (base, c_bytes(table)))
        w("static const struct pca_ltc_run %s_runs[] = {\n%s\n};" %
          (base, "\n".join("    {%d, %d, %d}," % tuple(r) for r in runs)))
        w("static const struct pca_ltc_probe %s_probes[] = {\n%s\n};" %
          (base, "\n".join("    {%d, %d}," % p for p in probes)))
        entries.append(
            '    {"%s", %s_table, %d, %d, %d, %s_runs, %d, %s_probes, %d},' %
            (name, base, len(table), co.co_firstlineno, n, base, len(runs),
             base, len(probes)))
    lacking = required_features(nocols) - seen
    if lacking:
        raise SystemExit("%s: cases do not exercise %s" %
                         (tag, ", ".join(sorted(lacking))))
    w("static const struct pca_ltc_case %s_cases[] = {\n%s\n};" %
      (prefix, "\n".join(entries)))
    w('static const struct pca_ltc_version %s_version = {\n'
      '    "%s", "%s", %s, %s_cases, %d,\n};' %
      (prefix, tag, version, table_format(), prefix, len(entries)))
    print("\n".join(out))


HEADER = """\
/* linetable_cases.h: GENERATED by tests/unit/gen_linetable_cases.py --all.
 * Do not edit; rerun the script.  Line tables of real code objects compiled
 * by each interpreter on the build machine, with the line PyCode_Addr2Line
 * of that interpreter returned for every byte offset (runs) and for offsets
 * before and past the bytecode (probes). */
#ifndef PCA_TESTS_LINETABLE_CASES_H
#define PCA_TESTS_LINETABLE_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "layout/linetable.h"

/* Every byte offset in [start, end) has line `line`; the runs of a case
 * cover [0, code_len) exactly. */
struct pca_ltc_run {
    int start;
    int end;
    int line;
};

struct pca_ltc_probe {
    int byte_offset;
    int line;
};

struct pca_ltc_case {
    const char *name;
    const uint8_t *table;
    size_t len;
    int firstlineno;
    int code_len;
    const struct pca_ltc_run *runs;
    size_t n_runs;
    const struct pca_ltc_probe *probes;
    size_t n_probes;
};

struct pca_ltc_version {
    const char *tag;
    const char *version;
    enum pca_linetable_format format;
    const struct pca_ltc_case *cases;
    size_t n_cases;
};
"""


def interpreters():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = []
    for vdir in sorted(glob.glob(os.path.join(root, "versions", "3.*"))):
        ver = os.path.basename(vdir)
        parts = ver.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        exe = os.path.join(vdir, "bin", "python%s.%s" % (parts[0], parts[1]))
        if os.access(exe, os.X_OK):
            key = tuple(int(p) for p in parts)
            found.append((key, exe, "py" + "_".join(parts)))
    found.sort()
    if os.access("/usr/bin/python3.11", os.X_OK):
        found.append(((3, 11), "/usr/bin/python3.11", "debian_py3_11"))
    return found


def generate_all(output):
    script = os.path.abspath(__file__)
    chunks = [HEADER]
    tags = []
    for key, exe, tag in interpreters():
        runs = [([exe, script, "--fragment", tag], tag)]
        if key >= (3, 11):
            runs.append(([exe, "-X", "no_debug_ranges", script, "--fragment",
                          tag + "_nocols"], tag + "_nocols"))
        for cmd, t in runs:
            env = dict(os.environ, PYTHONHASHSEED="0")
            res = subprocess.run(cmd, stdout=subprocess.PIPE, env=env,
                                 check=True, universal_newlines=True)
            chunks.append(res.stdout)
            tags.append(t)
    chunks.append("static const struct pca_ltc_version *const "
                  "pca_ltc_versions[] = {\n%s\n};\n" %
                  "\n".join("    &pca_ltc_%s_version," % t for t in tags))
    chunks.append("\n#endif /* PCA_TESTS_LINETABLE_CASES_H */\n")
    with open(output, "w") as f:
        f.write("\n".join(chunks))
    print("wrote %s (%d interpreter runs: %s)" %
          (output, len(tags), ", ".join(tags)))


def main(argv):
    if len(argv) == 3 and argv[1] == "--fragment":
        fragment(argv[2])
    elif len(argv) in (2, 3) and argv[1] == "--all":
        here = os.path.dirname(os.path.abspath(__file__))
        generate_all(argv[2] if len(argv) == 3
                     else os.path.join(here, "linetable_cases.h"))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
