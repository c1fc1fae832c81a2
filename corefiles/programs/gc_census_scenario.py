"""Builds a known heap of collector-tracked objects, writes the in-process
census of gc.get_objects() (count and sum of sys.getsizeof per type), then
dies: argv[1] "abort" (os.abort) or "gcore" (prints "ready", sleeps).
Runs unchanged on CPython 3.6-3.13.

  python gc_census_scenario.py abort|gcore TRUTH.json
"""
import collections
import gc
import os
import sys
import time


class Plain(object):
    def __init__(self, i):
        self.i = i
        self.name = "plain"


class Slotted(object):
    __slots__ = ("a", "b")

    def __init__(self, a):
        self.a = a
        self.b = [a]


class Node(object):
    def __init__(self):
        self.next = self


class MyDict(dict):
    pass


Point = collections.namedtuple("Point", "x y")

PLAINS = [Plain(i) for i in range(3000)]
SLOTTED = [Slotted(i) for i in range(2000)]
CYCLES = [Node() for i in range(500)]
LISTS = [[] for i in range(100)] + [list(range(n)) for n in range(100)]
GROWN = []
for i in range(1000):
    GROWN.append([i])   # a list whose allocated > len
DICTS = [{"a": [i]} for i in range(300)] + [{i: [i] for i in range(n)} for n in range(50)]
DELETED = {i: [i] for i in range(1000)}
for i in range(900):
    del DELETED[i]
SETS = [set([(i, j) for j in range(n)]) for i, n in enumerate(range(0, 60))]
FROZEN = [frozenset([(i, "x")]) for i in range(100)]
DEQUES = [collections.deque([[i]] * n) for i, n in enumerate(range(0, 300, 7))]
ODICTS = [collections.OrderedDict(a=[i]) for i in range(50)]
DEFAULTS = [collections.defaultdict(list, {i: [i]}) for i in range(80)]
MYDICTS = [MyDict(k=[i]) for i in range(40)]
POINTS = [Point([i], i) for i in range(70)]
TUPLES = [([i], i) for i in range(400)]


def type_name(t):
    module = getattr(t, "__module__", None)
    qualname = getattr(t, "__qualname__", t.__name__)
    if module in (None, "builtins"):
        return qualname
    return "%s.%s" % (module, qualname)


def census():
    """Per type over gc.get_objects(), excluding this function's own objects."""
    me = sys._getframe()
    objs = gc.get_objects()
    counts = {}
    sizes = {}
    for o in objs:
        if o is objs or o is me or o is counts or o is sizes:
            continue
        name = type_name(type(o))
        counts[name] = counts.get(name, 0) + 1
        sizes[name] = sizes.get(name, 0) + sys.getsizeof(o)
    del objs
    me = None  # the frame would otherwise keep itself alive through this local
    # No comprehension: on 3.6-3.11 it would make cells of counts and sizes.
    return counts, sizes


def write_truth(path, counts, sizes):
    # Written by hand: json's encoder leaves closures in cycles behind, which
    # the disabled collector would keep until the core.
    parts = []
    for name in counts:
        parts.append('"%s": {"count": %d, "size": %d}' % (name, counts[name], sizes[name]))
    with open(path, "w") as f:
        f.write('{"pid": %d, "version": "%d.%d.%d", "types": {%s}}'
                % ((os.getpid(),) + tuple(sys.version_info[:3]) + (", ".join(parts),)))


def main():
    mode, truth_path = sys.argv[1], sys.argv[2]
    gc.collect()
    # gc.get_objects() leaves out the permanent generation (3.12.1 keeps 375
    # objects there, and a collection puts them back); the tool counts it, so
    # move it into generation 2 after the last collection.
    if hasattr(gc, "unfreeze"):
        gc.unfreeze()
    gc.disable()  # nothing may move between the census and the core
    counts, sizes = census()
    write_truth(truth_path, counts, sizes)
    counts = sizes = None
    if mode == "abort":
        os.abort()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    time.sleep(3600)


main()
