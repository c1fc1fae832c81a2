"""Builds a heap of about N Python objects, times an in-process census of it,
writes the census to a JSON file, then dies with os.abort() so the kernel
writes a core into the current directory.

  python3 make_core.py [--no-census] N OUT.json      (N: 1000000, 10M, 1e6, ...)

--no-census skips the in-process census (its set of ids and work list
would not fit beside a 200M-object heap): OUT.json then has the build
figures and "objects": null, "census_seconds": null.

The heap is a list of records; each record is about 12 objects of the kinds a
service holds: an instance of a class with a __dict__ (every 4th one with its
__dict__ materialised as a dict object), an instance of a __slots__ class, a
dict, a list, tuples (some untracked after the collection: only atomic
items), unique strs, ints above the small-int cache and floats.

The census is what one would write in the process to get the answer
`pycore-analyze summary` gives from the core: every object in
gc.get_objects() plus every object reached from them through
gc.get_referents (an iterative walk; the objects the collector does not
track, such as str, int, float and untracked tuples/dicts, are deduplicated
by id), counted and sized with sys.getsizeof per type. Its wall time is the
"in-process census" figure of bench/run.sh. The census's own objects are
dropped before the abort, so the core holds the heap, not the census.

Runs on CPython 3.6-3.13 (bench/run.sh uses pyenv 3.12.1).
"""
import gc
import os
import resource
import sys
import time

OBJECTS_PER_RECORD = 12.25  # see build(); measured on 3.11/3.12 (+- 0.25)


class Plain(object):
    def __init__(self, i, name, score):
        self.id = i
        self.name = name
        self.score = score


class Slotted(object):
    __slots__ = ("key", "pair")

    def __init__(self, key, pair):
        self.key = key
        self.pair = pair


def build(records):
    """Per record: Plain + int + str + float (4), a dict for every 4th Plain's
    __dict__ (0.25), Slotted + tuple (2), dict + list + str + tuple + int (5),
    the record tuple (1): 12.25 objects."""
    heap = []
    append = heap.append
    base = 1000  # above the small-int cache: every int is its own object
    for k in range(records):
        i = base + 2 * k
        name = "item-%d" % i
        score = k * 0.5 + 0.25
        p = Plain(i, name, score)
        if k % 4 == 0:
            p.__dict__  # materialise the instance dict (3.11+ keeps values inline)
        s = Slotted(i, (name, score))
        d = {"id": i, "tags": [name, "x%d" % k], "pos": (i, i + 1)}
        append((p, s, d))
    return heap


def census():
    """count and sum of sys.getsizeof per type over the tracked objects and
    everything gc.get_referents reaches from them. It is the in-process
    baseline the tool is timed against, so the visit is written out twice
    (tracked objects, then the reached untracked ones) rather than put in a
    function or a generator, whose calls would slow the baseline."""
    getsizeof = sys.getsizeof
    get_referents = gc.get_referents
    is_tracked = gc.is_tracked
    counts = {}
    sizes = {}
    seen = set()        # ids of reached objects the collector does not track
    objs = gc.get_objects()
    stack = []
    push = stack.append
    for o in objs:
        t = type(o)
        counts[t] = counts.get(t, 0) + 1
        sizes[t] = sizes.get(t, 0) + getsizeof(o)
        for r in get_referents(o):
            if not is_tracked(r):
                ri = id(r)
                if ri not in seen:
                    seen.add(ri)
                    push(r)
    tracked = len(objs)
    objs = None
    while stack:
        o = stack.pop()
        t = type(o)
        counts[t] = counts.get(t, 0) + 1
        sizes[t] = sizes.get(t, 0) + getsizeof(o)
        for r in get_referents(o):
            if not is_tracked(r):
                ri = id(r)
                if ri not in seen:
                    seen.add(ri)
                    push(r)
    return tracked, counts, sizes


def type_name(t):
    module = getattr(t, "__module__", None)
    qualname = getattr(t, "__qualname__", t.__name__)
    if module in (None, "builtins"):
        return qualname
    return "%s.%s" % (module, qualname)


def parse_count(text):
    text = text.strip().lower()
    mult = 1
    if text.endswith("m"):
        text, mult = text[:-1], 1000000
    elif text.endswith("k"):
        text, mult = text[:-1], 1000
    return int(float(text) * mult)


def jstr(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def main():
    args = sys.argv[1:]
    with_census = "--no-census" not in args
    args = [a for a in args if a != "--no-census"]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        sys.exit(64)
    target = parse_count(args[0])
    out_path = args[1]
    resource.setrlimit(resource.RLIMIT_CORE,
                       (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    gc.disable()  # one collection after the build, not thousands during it
    t0 = time.perf_counter()
    heap = build(max(1, int(target / OBJECTS_PER_RECORD)))
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gc.collect()  # untracks the tuples and dicts of atomic items, as in a service
    collect_s = time.perf_counter() - t0
    if hasattr(gc, "unfreeze"):
        gc.unfreeze()  # the tool counts the permanent generation too

    if not with_census:
        with open(out_path, "w") as f:
            f.write('{"pid": %d, "python": "%s", "target": %d, "records": %d, '
                    '"objects": null, "gc_tracked": null, "size": null, '
                    '"build_seconds": %.3f, "collect_seconds": %.3f, '
                    '"census_seconds": null, "types": {}}\n'
                    % (os.getpid(), "%d.%d.%d" % tuple(sys.version_info[:3]), target,
                       len(heap), build_s, collect_s))
        sys.stderr.write("make_core: about %d objects (%d records), no census; aborting\n"
                         % (target, len(heap)))
        sys.stderr.flush()
        os.abort()

    t0 = time.perf_counter()
    tracked, counts, sizes = census()
    census_s = time.perf_counter() - t0

    objects = sum(counts.values())
    total_size = sum(sizes.values())
    types = ", ".join('%s: {"count": %d, "size": %d}'
                      % (jstr(type_name(t)), counts[t], sizes[t])
                      for t in sorted(counts, key=lambda t: -sizes[t]))
    counts = sizes = None
    # Written by hand: the json module's encoder would leave objects behind.
    with open(out_path, "w") as f:
        f.write('{"pid": %d, "python": "%s", "target": %d, "records": %d, '
                '"objects": %d, "gc_tracked": %d, "size": %d, '
                '"build_seconds": %.3f, "collect_seconds": %.3f, '
                '"census_seconds": %.3f, "types": {%s}}\n'
                % (os.getpid(), "%d.%d.%d" % tuple(sys.version_info[:3]), target,
                   len(heap), objects, tracked, total_size, build_s, collect_s,
                   census_s, types))
    types = None
    sys.stderr.write("make_core: %d objects (%d tracked), census %.2f s; aborting\n"
                     % (objects, tracked, census_s))
    sys.stderr.flush()
    os.abort()


main()
