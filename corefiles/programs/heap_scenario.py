"""Scenario program for the `summary` end-to-end test of pycore-analyze.

Usage: python heap_scenario.py abort|gcore|stable TRUTH.json

Builds a known heap held by module globals, then, just before dying,
computes in-process the per-type count and total sys.getsizeof() of every
object (the truth), writes it to TRUTH.json, frees everything it used for
that, and dies: mode "abort" calls os.abort() (the kernel writes a core);
mode "gcore" prints "ready" and blocks in time.sleep(3600) (the test takes a
core with gcore and kills us). Mode "stable" does not die: it computes the
truth three times in a row (the third after the same stdout write that gcore
mode does), writes the first to TRUTH.json and the others next to it
(TRUTH.json.2, TRUTH.json.3), then runs a full collection and reports on
stdout whether the three agree and what the collection found; exit 0 when
stable, 1 when not.

The truth (pycore-analyze's `summary` implements the same definition):
  Objects = the closure from the roots R under the edges E, each object
  counted once (by id()).
  R = gc.get_objects() (all generations) + the permanent generation (see
      freeze_startup_heap: held by the global FROZEN) + every frame on every
      thread's stack (sys._current_frames() values and their f_back chains)
      + sys.modules and the module objects in it.
  E(o) = gc.get_referents(o) + type(o)
       + for code objects: co_consts, co_names, co_filename, co_name,
         co_qualname (3.11+)
       + for frame objects: f_code, f_globals, f_builtins (3.11+ frames owned
         by a thread show no referents but f_back/f_trace to gc; a core
         reader follows the frame's code and namespaces, and <module>'s code
         object is reachable only that way; 3.11+ frames of finished calls,
         kept by the CAUGHT exceptions' tracebacks, own their locals and gc
         shows them)
       + for type objects: tp_bases and tp_mro (a static type, which gc does
         not see, holds them; on 3.6-3.10 they are untracked tuples that
         nothing else refers to)
       + for dicts (and dict subclasses): the keys. dict_traverse does not
         visit keys of str-keyed tables (str cannot form cycles), but they
         are objects the program reaches (contract: "every Python object the
         running program could reach"; cpython-internals.md section 8: "a
         dict's keys table entries").
  Type name: builtins without module ("dict"), otherwise
  type.__module__ + "." + type.__qualname__ ("__main__.Outer.Inner",
  "collections.OrderedDict"), read with type's own descriptors so that no
  metaclass can change them.
  Size: sys.getsizeof(o); a failure is counted in "getsizeof_failures" and
  adds 0.

How the truth is kept equal to the heap at the moment of the core:
  - gc.collect() then gc.disable() right before the truth: no collection can
    free, untrack or move anything between the truth and the core.
  - The truth function's own frame is excluded, and every container it makes
    is made after gc.get_objects() returned, so nothing reaches them from
    the roots (their ids are also put in `seen` up front).
  - The frames below it (finish, main, <module>) hold only objects that
    globals or sys.argv also hold, so their locals cannot add objects (3.11+
    frames do not expose locals to gc, and reading f_locals would create a
    dict that stays; we never read it).
  - 3.11+: reading f_back / sys._current_frames() creates the frame objects
    of finish/main/<module>; they stay alive (owned by their frames) until
    the core, and the truth counts them.
  - No lazy import, no cyclic garbage: the truth is written with the C JSON
    encoder (no indent: the pure-Python encoder makes closures that form
    cycles) through os.open/os.write (no io objects, no locale lookup), and
    the stdout write of gcore mode is done once at start-up (lazy state of
    the TextIOWrapper is made before the heap is measured).
  - A garbage ring of GarbageNode objects (unreachable, not yet collected) is
    made after gc.disable(); the truth counts it (it is in the collector's
    lists) and records in "expected_unreachable" how many tracked objects a
    full collection frees for that ring (calibrated by building the same
    ring once before and collecting it).

Must run unchanged on CPython 3.6 .. 3.13: no walrus, dataclasses only when
importable (3.7+), co_qualname only where it exists.
"""

import collections
import datetime
import enum
import functools
import gc
import json
import os
import platform
import sys
import time
import weakref

from scenario_truth import compute_truth, ready_line, type_name, write_file

try:
    import dataclasses
except ImportError:          # 3.6
    dataclasses = None

START = time.time()
PYTHON_VERSION = platform.python_version()   # now: it fills caches (platform, re)

# Exactly as many of these as the scenario says (known counts, checked by
# the scenario itself against its truth before it writes it).
LESSON_COUNT = 10050
PLAIN_COUNT = 321
SLOTTED_COUNT = 211
SLOTTED_CHILD_COUNT = 57
INNER_COUNT = 13
POINT_COUNT = 503
PAIR_COUNT = 301
NODE_RING = 100
TREE_CHILDREN = 40
GARBAGE_RING = 25
CLE_COUNT = 7
CAUGHT_COUNT = 30
FAIL_DEPTH = 2            # fail_deep frames per caught ScenarioError: FAIL_DEPTH + 1


# --- classes ---------------------------------------------------------------------

class ModelState(object):
    """Like django.db.models.base.ModelState."""
    def __init__(self):
        self.db = None
        self.adding = False
        self.fields_cache = {}


class Lesson(object):
    """A Django-style model instance: _state is a ModelState."""
    def __init__(self, pk, title, starts_at):
        self._state = ModelState()
        self.id = pk
        self.title = title
        self.starts_at = starts_at


class Plain(object):
    def __init__(self, i):
        self.number = i
        self.name = "plain-%d" % i
        self.tags = [i, i + 1]


class Slotted(object):
    __slots__ = ("alpha", "beta", "gamma")

    def __init__(self, i):
        self.alpha = i
        self.beta = float(i)
        self.gamma = None


class SlottedChild(Slotted):
    __slots__ = ("delta", "__weakref__")

    def __init__(self, i):
        Slotted.__init__(self, i)
        self.delta = (i, -i)


class Outer(object):
    class Inner(object):
        def __init__(self, i):
            self.value = i * 1000003


class Node(object):
    """For reference cycles."""
    def __init__(self, label):
        self.label = label
        self.next = None
        self.parent = None
        self.children = []


class GarbageNode(object):
    def __init__(self, i):
        self.payload = [i, "g%d" % i]
        self.next = None


class ScenarioError(Exception):
    """Caught and kept with its traceback (as services keep failures)."""


class HeldByFrame(object):
    """Held only by the locals of a finished function's frame, which a
    kept traceback keeps alive."""
    def __init__(self, i):
        self.i = i


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3
    MAUVE = 4


Pair = collections.namedtuple("Pair", "left right")

if dataclasses is not None:
    @dataclasses.dataclass
    class Point(object):
        x: int
        y: float
        label: str = "p"
else:
    Point = None

# A class whose name is not ASCII: type() caches the UTF-8 form of the name
# (tp_name), which sys.getsizeof of that str counts.
CLE_NAME = "".join(["Cl", chr(0xe9), "_", chr(0x20ac)])
Cle = type(CLE_NAME, (object,), {"__init__": lambda self, i: setattr(self, "slot", i)})


@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@functools.lru_cache(maxsize=32)
def square(n):
    return n * n


# --- the permanent generation ------------------------------------------------------

def freeze_startup_heap():
    """Do what preforking servers do after start-up (gc.freeze(), 3.7+): move
    every tracked object into the collector's permanent generation, which a
    core reader must walk too. gc.get_objects() does not list it, so return
    its members; they are kept in FROZEN, a global, so the truth reaches them
    (3.12.1 starts with 375 tuples frozen, the static types' tp_mro and
    tp_bases, which nothing else the truth follows refers to: unfreeze
    first so that they are among the members)."""
    if not hasattr(gc, "freeze"):          # 3.6
        return []
    gc.collect()
    gc.unfreeze()
    members = gc.get_objects()
    gc.freeze()
    return members


FROZEN = freeze_startup_heap()


# --- the heap ----------------------------------------------------------------------

def make_strings():
    out = ["", "a", "hello", "x" * 100, "y" * 10000, "ascii %d" % 12345]
    latin = chr(0xe9)
    out += [latin, ("caf" + latin) * 10, chr(0xff) * 1000, latin * 3]
    ucs2 = chr(0x20ac)
    out += [ucs2, chr(0x100) * 100, "".join(chr(0x65e5 + i) for i in range(300)), ucs2 * 7]
    ucs4 = chr(0x1f600)
    out += [ucs4, chr(0x1d11e) * 100, ucs4 * 5000, "mixed " + ucs4 + latin + ucs2]
    return out


def make_appended_list(n):
    out = []
    for i in range(n):
        out.append(i * 7 + 100000)
    return out


def make_deleted_dict():
    d = {}
    for i in range(1000):
        d["del%d" % i] = i
    for i in range(900):
        del d["del%d" % i]
    return d


def make_deque_bounded():
    d = collections.deque(maxlen=5)
    for i in range(100):
        d.append(i)
    return d


def make_deque_left(n):
    d = collections.deque()
    for i in range(n):
        d.appendleft(float(i))
    return d


def make_ordered():
    small = collections.OrderedDict([("one", 1), ("two", 2), ("three", 3)])
    big = collections.OrderedDict(("o%d" % i, i) for i in range(1000))
    for i in range(0, 1000, 3):
        del big["o%d" % i]
    big.move_to_end("o1")
    big.move_to_end("o2", last=False)
    return [small, big, collections.OrderedDict()]


def make_defaultdicts():
    a = collections.defaultdict(list)
    for i in range(200):
        a[i % 17].append(i)
    b = collections.defaultdict(int)
    for word in "the quick brown fox jumps over the lazy dog the end".split():
        b[word] += 1
    return [a, b, collections.defaultdict(set)]


def make_lessons():
    base = datetime.datetime(2024, 1, 1, 8, 0)
    step = datetime.timedelta(minutes=15)
    return [Lesson(100000 + i, "Lesson %d" % i, base + step * i) for i in range(LESSON_COUNT)]


def make_ring(n):
    nodes = [Node("ring%d" % i) for i in range(n)]
    for i, node in enumerate(nodes):
        node.next = nodes[(i + 1) % n]
    return nodes[0]


def make_tree():
    root = Node("root")
    for i in range(TREE_CHILDREN):
        child = Node("child%d" % i)
        child.parent = root
        root.children.append(child)
    return root


def make_garbage_ring():
    """A cycle nothing else refers to: garbage the collector would free."""
    nodes = [GarbageNode(i) for i in range(GARBAGE_RING)]
    for i, node in enumerate(nodes):
        node.next = nodes[(i + 1) % GARBAGE_RING]


def calibrate_garbage():
    """How many tracked objects a full collection frees for one garbage ring."""
    gc.collect()
    gc.collect()
    make_garbage_ring()
    return gc.collect()


def fail_deep(i, depth):
    held = HeldByFrame(i)
    if depth:
        return fail_deep(i, depth - 1)
    raise ScenarioError("failure %d" % i, held.i)


def make_caught():
    """Caught exceptions kept with their tracebacks: exception -> traceback
    -> frame (finished, so on 3.11+ it owns its locals) -> HeldByFrame; and
    a few builtin exceptions with their own members, a chain (__cause__,
    __context__) and, 3.11+, __notes__."""
    out = []
    for i in range(CAUGHT_COUNT):
        try:
            fail_deep(i, FAIL_DEPTH)
        except ScenarioError as e:
            out.append(e)
    try:
        int("not a number")
    except ValueError as e:
        out.append(e)
    try:
        os.stat("/nonexistent/heap_scenario")
    except OSError as e:
        out.append(e)
    try:
        next(iter(()))
    except StopIteration as e:
        out.append(e)
    try:
        try:
            {}["missing"]
        except KeyError as e:
            raise RuntimeError("while looking up") from e
    except RuntimeError as e:
        if hasattr(e, "add_note"):
            e.add_note("a note")
        out.append(e)
    return out


SMALL_INTS = [0, 1, -1, 5, 255, 256, 257, -5, -6, 1000]
BIG_INTS = [2 ** 30, 2 ** 31 + 7, 2 ** 62, 2 ** 63, 2 ** 64 + 1, -(2 ** 40), -(2 ** 63),
            10 ** 20, 2 ** 1000, -(2 ** 1000), 3 ** 2000, int("9" * 500)]
BOOLS = [True, False]
FLOATS = [0.0, 1.5, -2.25, 1e300, float("inf"), float("nan")] + [i * 0.5 + 0.25 for i in range(500)]
COMPLEXES = [1 + 2j, complex(3, -4), 0j] + [complex(i, -i) for i in range(1, 101)]
STRINGS = make_strings()
BYTES = [b"", b"a", b"x" * 100, bytes(range(256)), b"z" * 100000, "bytes %d".encode() * 3]
BYTEARRAYS = [bytearray(), bytearray(b"abc"), bytearray(1000), bytearray(b"q" * 100)]
BYTEARRAYS[3].extend(b"r" * 37)           # over-allocated
BYTEARRAYS[2][:10] = b""                  # ob_start moved forward
TUPLES = [(), (1,), (1, 2, 3), tuple(range(1000, 2000)), (("nested", 1), ("nested", 2)),
          tuple("t%d" % i for i in range(50))]
LISTS = [[], make_appended_list(17), [None] * 10000, list("abcdef"), make_appended_list(1000)]
DICTS = [{}, {"a": 1, "b": 2}, {"s%d" % i: i for i in range(5000)},
         {i: -i for i in range(3000)}, make_deleted_dict(), {(1, 2): "tuple key", 3.5: "float key"},
         dict.fromkeys(range(10))]
DICTS.append({"c%d" % i: i for i in range(100)})
DICTS[-1].clear()
SETS = [set(), {1, 2, 3}, set(range(10000, 20000)), set("s%d" % i for i in range(300))]
SETS[3].discard("s1")
FROZENSETS = [frozenset(), frozenset("abc"), frozenset(range(5000, 10000))]
DEQUES = [collections.deque(), collections.deque(range(10)), collections.deque(range(64)),
          collections.deque(range(65)), collections.deque(range(1000)), make_deque_bounded(),
          make_deque_left(130)]
ORDERED = make_ordered()
DEFAULTDICTS = make_defaultdicts()
PLAINS = [Plain(i) for i in range(PLAIN_COUNT)]
SLOTTEDS = [Slotted(i) for i in range(SLOTTED_COUNT)]
SLOTTED_CHILDREN = [SlottedChild(i) for i in range(SLOTTED_CHILD_COUNT)]
INNERS = [Outer.Inner(i) for i in range(INNER_COUNT)]
POINTS = [Point(i, i / 3.0) for i in range(POINT_COUNT)] if Point is not None else []
PAIRS = [Pair(i, str(i)) for i in range(PAIR_COUNT)]
COLORS = list(Color)
CLES = [Cle(i) for i in range(CLE_COUNT)]
WEAKREFS = [weakref.ref(x) for x in SLOTTED_CHILDREN[:20]]
LESSONS = make_lessons()
RING = make_ring(NODE_RING)
TREE = make_tree()
SELF_LIST = []
SELF_LIST.append(SELF_LIST)
SELF_DICT = {}
SELF_DICT["me"] = SELF_DICT
BIG_INT_LIST = list(range(1000000, 1100000))       # 100000 distinct ints
BIG_STR_DICT = {"key%06d" % i: i for i in range(20000)}
FIB_200 = fib(200)                                  # an lru_cache with 201 entries
CAUGHT = make_caught()
SQUARES = [square(i % 50) for i in range(100)]     # a bounded lru_cache: 32 links
GENERATOR = (x * 2 for x in LISTS[1])
next(GENERATOR)                                     # suspended, holds its frame


# --- the truth -------------------------------------------------------------------

def check_names():
    """The type names the test must match exactly (the scenario made them in
    known numbers, or they are builtin types it made many of)."""
    names = ["int", "bool", "float", "complex", "str", "bytes", "bytearray", "tuple",
             "list", "dict", "set", "frozenset", "collections.deque",
             "collections.OrderedDict", "collections.defaultdict", "datetime.datetime"]
    classes = [Lesson, ModelState, Plain, Slotted, SlottedChild, Outer.Inner, Node,
               GarbageNode, Color, Pair, Cle, ScenarioError, HeldByFrame]
    names.append("traceback")
    if Point is not None:
        classes.append(Point)
    return names + [type_name(c) for c in classes]


def expected_counts():
    """Exact counts the scenario knows for its own types."""
    want = {Lesson: LESSON_COUNT, ModelState: LESSON_COUNT, Plain: PLAIN_COUNT,
            Slotted: SLOTTED_COUNT, SlottedChild: SLOTTED_CHILD_COUNT,
            Outer.Inner: INNER_COUNT, Node: NODE_RING + 1 + TREE_CHILDREN,
            GarbageNode: GARBAGE_RING, Color: len(Color.__members__), Pair: PAIR_COUNT,
            Cle: CLE_COUNT, ScenarioError: CAUGHT_COUNT,
            HeldByFrame: CAUGHT_COUNT * (FAIL_DEPTH + 1)}
    if Point is not None:
        want[Point] = POINT_COUNT
    return dict((type_name(t), n) for t, n in want.items())


def write_truth(path, truth, mode, expected_unreachable):
    """Add the facts about the run and write TRUTH atomically."""
    truth["version"] = PYTHON_VERSION
    truth["python_version"] = truth["version"]
    truth["pid"] = os.getpid()
    truth["mode"] = mode
    truth["executable"] = sys.executable
    truth["check"] = check_names()
    truth["expected_counts"] = expected_counts()
    truth["expected_unreachable"] = expected_unreachable
    truth["build_seconds"] = round(BUILD_SECONDS, 3)
    problems = []
    for name, count in truth["expected_counts"].items():
        got = truth["types"].get(name, {}).get("count", 0)
        if got != count:
            problems.append("%s: %d objects, the scenario made %d" % (name, got, count))
    for name in truth["check"]:
        if name not in truth["types"]:
            problems.append("%s: not in the truth" % name)
    truth["self_check_problems"] = problems
    write_file(path, json.dumps(truth, sort_keys=True).encode("ascii"))


def warm_up(path):
    """Do once, before the heap is measured, everything the program does
    after the truth: some of it makes objects on first use that then stay
    (3.6's argument parsers build their keyword tuples lazily, e.g. for
    os.open and os.rename; TextIOWrapper sets up state on its first write)."""
    scratch = path + ".warm-up"
    write_file(scratch, json.dumps({"b": [1, 2.5, None, "x"], "a": True},
                                   sort_keys=True).encode("ascii"))
    os.unlink(scratch)
    # 3.6-3.9 ready functools._lru_list_elem (SQUARES' links) lazily, on the
    # first attribute lookup (the truth's sys.getsizeof), making its
    # tp_dict, tp_mro, tp_bases and a weakref in object's subclasses: let a
    # truth do that now.
    compute_truth()
    sys.stdout.write("heap built\n")
    sys.stdout.flush()


def finish(mode, path):
    """The last frame: writes the truth, then dies here. Its locals (mode,
    path) are strs that sys.argv also holds."""
    if mode == "abort":
        write_truth(path, compute_truth(), mode, EXPECTED_UNREACHABLE)
        os.abort()
    elif mode == "gcore":
        write_truth(path, compute_truth(), mode, EXPECTED_UNREACHABLE)
        ready_line()
        time.sleep(3600)
    else:
        write_truth(path, compute_truth(), mode, EXPECTED_UNREACHABLE)
        write_truth(path + ".2", compute_truth(), mode, EXPECTED_UNREACHABLE)
        ready_line()
        write_truth(path + ".3", compute_truth(), mode, EXPECTED_UNREACHABLE)
        return report_stability(path)


def report_stability(path):
    """Stable mode: compare the three truths; then collect and say what the
    collector freed (it must be exactly the garbage ring)."""
    gc.enable()
    freed = gc.collect()
    runs = []
    for p in (path, path + ".2", path + ".3"):
        with open(p) as f:
            runs.append(json.load(f))
    first = runs[0]
    stable = True
    for k, other in enumerate(runs[1:], 2):
        diffs = []
        for name in sorted(set(first["types"]) | set(other["types"])):
            a = first["types"].get(name, {"count": 0, "size": 0})
            b = other["types"].get(name, {"count": 0, "size": 0})
            if a != b:
                diffs.append("%s: %d/%d -> %d/%d" % (name, a["count"], a["size"],
                                                      b["count"], b["size"]))
        if diffs or first["totals"] != other["totals"]:
            stable = False
        print("run 1 vs run %d: %s%s" % (k, "same" if not diffs else "DIFFERENT",
                                         "".join("\n  " + d for d in diffs)))
    print("python %s: %d objects, %d bytes, %d gc-tracked; build %.2f s, truth %s s"
          % (first["version"], first["totals"]["objects"], first["totals"]["size"],
             first["totals"]["gc_tracked"], first["build_seconds"],
             [r["truth_seconds"] for r in runs]))
    print("self-check problems: %s" % (first["self_check_problems"] or "none"))
    print("getsizeof failures: %s" % (first["getsizeof_failures"] or "none"))
    print("collection after the truths freed %d tracked objects; the garbage ring "
          "alone is %d" % (freed, EXPECTED_UNREACHABLE))
    if freed != EXPECTED_UNREACHABLE:
        stable = False
    print("STABLE" if stable else "NOT STABLE")
    return stable


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("abort", "gcore", "stable"):
        sys.stderr.write("usage: heap_scenario.py abort|gcore|stable TRUTH.json\n")
        sys.exit(64)
    warm_up(sys.argv[2])
    global EXPECTED_UNREACHABLE
    EXPECTED_UNREACHABLE = calibrate_garbage()
    gc.collect()
    gc.disable()          # no collection from here to the core
    make_garbage_ring()
    sys.exit(0 if finish(sys.argv[1], sys.argv[2]) else 1)   # stable mode only


EXPECTED_UNREACHABLE = None


BUILD_SECONDS = time.time() - START


if __name__ == "__main__":
    main()
