"""Scenario program for the numpy end-to-end test of pycore-analyze
(tests/e2e/test_numpy.py): a data-processing heap held in numpy arrays,
whose data buffers are malloc'd outside pymalloc.

Usage: python numpy_scenario.py abort|gcore TRUTH.json

Needs numpy importable (Debian's python3.11 finds python3-numpy; another
interpreter of the same minor needs PYTHONPATH=/usr/lib/python3/dist-packages).
Exits 3 without a core when numpy cannot be imported.

Holds (module globals): arrays of many dtypes (floats, ints, bool, complex,
float16/128, datetime64, timedelta64, str, bytes, object, a structured
dtype), 2-D C and Fortran arrays, views (slices, a transpose, a reshape, a
view of a view), a 0-d array, an empty array, a matrix, a MaskedArray, a
memmap, scalars of every kind, BIG (32 MB of float64 ones, the largest
object) and ORPHAN_VIEW, a view whose 4 MB base nothing else holds.

The truth (TRUTH.json):
  types     {type name: [count, total sys.getsizeof]} of every numpy type
            over the objects reachable from gc.get_objects() through
            gc.get_referents, plus each array's base (arrays have no
            tp_traverse: get_referents does not see what they hold), also
            through numpy.random's Cython objects (SeedSequence.pool: the
            tool guesses Cython classes' members, objects/extensions.c);
  objects   {name: {address, size, base}} of the globals above (id,
            sys.getsizeof, id of .base or null);
  numpy     numpy.__version__;
  pandas    with NUMPY_SCENARIO_PANDAS=1 (then without `types`: pandas'
            Cython objects hold arrays in C members): {version, address,
            deep (FRAME.memory_usage(deep=True).sum()), blocks: [{address,
            size, dtype}] of the ndarray of each block's values}.

Debugging aid (not used by the tests): NUMPY_SCENARIO_IDS=FILE makes the
census write the address, type and size of every numpy object it counted
to FILE, one a line.
"""

import gc
import json
import os
import sys
import time

from scenario_truth import ready_line, type_name, write_file

try:
    import numpy as np
except ImportError as e:
    sys.stderr.write("numpy_scenario: cannot import numpy (%s): install python3-numpy\n" % e)
    sys.exit(3)

BIG = np.ones(4 * 1000 * 1000)                     # 32 MB: the largest object
ORPHAN_VIEW = np.ones(500 * 1000)[::10]            # holds a 4 MB base alone
F64 = np.arange(1000, dtype=np.float64)
I32 = np.arange(1000, dtype=np.int32)
U8 = np.arange(200, dtype=np.uint8)
BOOL = np.zeros(333, dtype=bool)
C128 = np.arange(50) * 1j
F16 = np.ones(77, dtype=np.float16)
F128 = np.ones(9, dtype=np.float128)
DT = np.arange("2020-01", "2021-01", dtype="datetime64[D]")
TD = np.arange(10, dtype="timedelta64[s]")
STR = np.array(["a", "bcd", "héllo"])
BYTES = np.array([b"ab", b"c"])
OBJ = np.array([1, "x", None, (2, 3)], dtype=object)
REC = np.zeros(100, dtype=[("x", "i4"), ("y", "f8"), ("name", "U10")])
M2 = np.zeros((300, 400))
FORTRAN = np.asfortranarray(np.ones((30, 40), dtype=np.float32))
ZERO_D = np.array(3.5)
EMPTY = np.empty(0)
VIEW = F64[::2]
TRANSPOSED = M2.T
ROWS = M2[10:20]
ROWS_OF_ROWS = ROWS[2:5]
RESHAPED = F64.reshape(10, 100)
MATRIX = np.matrix([[1, 2], [3, 4]])
MASKED = np.ma.array(np.arange(100.0), mask=np.arange(100) % 3 == 0)
SCALARS = [np.float64(1.5), np.float32(2.5), np.float16(1), np.float128(2), np.int64(4),
           np.int32(7), np.int16(-3), np.int8(1), np.uint8(3), np.uint64(9), np.bool_(True),
           np.complex128(1j), np.complex64(2j), np.datetime64("2020-01-01"),
           np.timedelta64(5, "s"), np.str_("héllo"), np.bytes_(b"abc"), REC[3], np.longlong(5)]
MEMMAP = None
# With NUMPY_SCENARIO_PANDAS=1: a DataFrame (Debian's python3-pandas) of
# float, int and str columns (the str column an object array of 50000
# distinct strings).
FRAME = None

NAMES = ("BIG", "ORPHAN_VIEW", "F64", "I32", "U8", "BOOL", "C128", "F16", "F128", "DT", "TD",
         "STR", "BYTES", "OBJ", "REC", "M2", "FORTRAN", "ZERO_D", "EMPTY", "VIEW", "TRANSPOSED",
         "ROWS", "ROWS_OF_ROWS", "RESHAPED", "MATRIX", "MASKED", "MEMMAP")


def census():
    """{type name: [count, size]} of numpy's types over what the collector
    sees plus what arrays hold (their base)."""
    seen = set()
    out = {}
    ids = []
    stack = list(gc.get_objects())
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, (np.ndarray, np.void)):
            if o.base is not None:
                stack.append(o.base)
            stack.append(o.dtype)
        name = type_name(type(o))
        stack.extend(gc.get_referents(o))
        if name.startswith("numpy.") and os.environ.get("NUMPY_SCENARIO_IDS"):
            ids.append("0x%x %s %d\n" % (id(o), name, sys.getsizeof(o)))
        if name.startswith("numpy."):
            count, size = out.get(name, (0, 0))
            out[name] = (count + 1, size + sys.getsizeof(o))
    seen.clear()
    del stack
    if ids:
        write_file(os.environ["NUMPY_SCENARIO_IDS"], "".join(ids).encode("utf-8"))
    return dict((k, list(v)) for k, v in out.items())


def make_frame():
    """FRAME and its truth: pandas' version, the frame's address, its
    memory_usage(deep=True) and, per block, the ndarray holding its values
    (address, sys.getsizeof)."""
    global FRAME
    try:
        import pandas as pd
    except ImportError as e:
        sys.stderr.write("numpy_scenario: cannot import pandas (%s): install python3-pandas\n" % e)
        sys.exit(3)
    n = 50 * 1000
    FRAME = pd.DataFrame({"x": np.arange(n, dtype=np.float64), "n": np.arange(n),
                          "f": np.ones(n, dtype=np.float32),
                          "s": ["row %d" % i for i in range(n)]})
    blocks = [{"address": "0x%x" % id(b.values), "size": sys.getsizeof(b.values),
               "dtype": str(b.values.dtype)} for b in FRAME._mgr.blocks]
    return {"version": pd.__version__, "address": "0x%x" % id(FRAME),
            "deep": int(FRAME.memory_usage(deep=True).sum()), "blocks": blocks}


def main():
    global MEMMAP
    if len(sys.argv) != 3 or sys.argv[1] not in ("abort", "gcore"):
        sys.stderr.write("usage: numpy_scenario.py abort|gcore TRUTH.json\n")
        sys.exit(64)
    mode, path = sys.argv[1], sys.argv[2]
    MEMMAP = np.memmap(path + ".memmap", dtype=np.int16, mode="w+", shape=(1000,))
    frame = None
    if os.environ.get("NUMPY_SCENARIO_PANDAS"):
        frame = make_frame()
    gc.collect()
    gc.disable()
    objects = {}
    g = globals()
    for name in NAMES:
        o = g[name]
        objects[name] = {"address": "0x%x" % id(o), "size": sys.getsizeof(o),
                         "type": type_name(type(o)),
                         "base": None if getattr(o, "base", None) is None else "0x%x" % id(o.base)}
    for i, s in enumerate(SCALARS):
        objects["SCALARS[%d]" % i] = {"address": "0x%x" % id(s), "size": sys.getsizeof(s),
                                      "type": type_name(type(s)), "base": None}
    # what the loops left in this frame's locals: the stack's references
    del o, s
    truth = {"pid": os.getpid(), "mode": mode, "numpy": np.__version__, "objects": objects}
    if frame is not None:
        truth["pandas"] = frame
    else:
        truth["types"] = census()
    write_file(path, json.dumps(truth, sort_keys=True).encode("ascii"))
    if mode == "abort":
        os.abort()
    ready_line()
    time.sleep(3600)


main()
