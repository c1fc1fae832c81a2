"""Scenario program for the `report` end-to-end test of pycore-analyze:
leaks modelled on real ones, and the exact truth about them.

Usage: python leaks_scenario.py abort|gcore|stable TRUTH.json

Builds, in one process (module globals of __main__ unless said otherwise):
  1. A Flask-style response cache: CACHE = {"/users/17": "<html>...", ...},
     2000 rendered pages of ~2.5 KB, next to get_template, an
     lru_cache(maxsize=100) called 5000 times with 300 distinct arguments.
  2. load_profile, an unbounded lru_cache(maxsize=None): 50000 distinct
     calls, then 1234 repeated ones (hits), beside geo_lookup, a bounded
     lru_cache(maxsize=128, typed=True) called 20000 times.
  3. With the collector disabled: 1000 lists `x.append(x)` and 500 pairs of
     Pair instances `a.b = b; b.a = a`, all dropped: unreachable garbage.
  4. Big objects held three ways: BLOB, a 50 MB bytes (module global);
     Registry.items, a list of 1M distinct ints (class attribute); `batch`,
     a dict of 200k str keys -> distinct ints, a local of process_batch(),
     the function the main thread dies in.
  5. Reference cycles that stay reachable: SESSIONS, a doubly linked list of
     100 Node objects; RING, 10 lists in a ring; LIVE_PAIRS, 3 linked Pair
     pairs; SELF_REF, a list that contains itself.
Then, in process_batch(), it computes the truth, writes it to TRUTH.json and
dies there: "abort" calls os.abort() (the kernel writes the core), "gcore"
prints "ready" and sleeps (the test takes the core with gcore and kills us).
"stable" does not die: it computes the truth twice at the same call site,
writes both (the first as TRUTH.json.2, the second as TRUTH.json), compares
them, then enables the collector and checks that a
real collection finds exactly the truth's unreachable count; exit 0 when
all agree.

The truth (keys of TRUTH.json):
  pid, mode, version (platform.python_version()), executable, program
  totals {objects, size, gc_tracked}: the closure below (informative; the
      summary test proves these numbers, this one does not compare them).
  unreachable:
      count            len(gc.garbage) after gc.set_debug(gc.DEBUG_SAVEALL)
                       and gc.collect() in a forked child: every tracked
                       object the collector finds unreachable is kept in
                       gc.garbage instead of freed. This is the contract's
                       "unreachable" (objects in the collector's lists whose
                       every reference comes from other unreachable objects)
                       and what totals.unreachable must equal.
      collect_returned gc.collect()'s return value in that child (the
                       number of unreachable objects found; equals count).
      plain            a second child without DEBUG_SAVEALL:
                       collect_returned (equals count), gc_garbage (objects
                       with legacy finalizers left in gc.garbage: 0 here)
                       and tracked_gone = |ids of gc.get_objects() before -
                       after| = the unreachable objects freed PLUS the live
                       tuples/dicts the full collection untracks
                       (untrack_tuples/untrack_dicts): >= count, NOT the
                       contract's number.
      types            {type name: count} of the unreachable objects.
  cycles: strongly connected components of the graph E below (of 2 or more
      objects, or 1 with an edge to itself) made ONLY of objects whose type
      is in types_considered (list, dict, __main__.Node, __main__.Pair), as
      groups {types: {name: n}, objects, unreachable, count}. This is exact
      per version: on 3.6-3.10 an instance's __dict__ is a separate dict
      object in the cycle (Node+dict), on 3.11+ the attributes live in the
      instance's inline values and no dict object exists (it is never
      materialised: nothing here touches __dict__). A component is
      unreachable when its members are in the child's gc.garbage. Node and
      Pair have no methods and nothing else, so their classes do not lead
      back to instances: with or without type edges, the components are the
      same. all_components counts every component of the whole graph (the
      interpreter's big one included): informative only.
  caches: one row per lru_cache wrapper the scenario made: kind
      "lru_cache", function ("__main__.get_template": wrapped __module__ +
      "." + __qualname__), owner, address, maxsize (null = unbounded), typed,
      retained (bounded ones: what the wrapper solely owns, lru_retained()),
      entries (cache_info().currsize), hits, misses; and the CACHE dict:
      kind "dict", owner "__main__.CACHE", address, entries, retained.
      other_lru_caches: the stdlib's wrappers found in the heap (informative).
  largest: the 10 largest objects (sys.getsizeof), descending: address,
      type, size, owner (contract notation, for the objects the scenario
      knows, else null), retained (for the 4 big objects, else null),
      scenario (true when the scenario made it).
  big_objects: BLOB, Registry.items, process_batch:batch, CACHE with owner,
      address, type, size, retained.
  self_check_problems: the scenario's own checks (empty when sound).
  truth_seconds, build_seconds.

The object graph (the same as heap_scenario.py's census):
  Objects = the closure from R under E, each counted once (by id()).
  R = gc.get_objects() (the permanent generation is emptied with
      gc.unfreeze() at start-up, so this is every tracked object) + every
      frame on every thread's stack + sys.modules and its modules + the
      locals of process_batch() (3.11+ frames do not show locals to gc;
      batch is passed explicitly; its other locals are sys.argv's strs).
  E(o) = gc.get_referents(o) + type(o) + for code objects their object
      members + for frames f_code, f_globals, f_builtins + for dicts the keys.
Retained size of X (contract: what freeing X would free; the objects it
  dominates): objects reachable from R minus those reachable when X is
  removed from the graph (not traversed, not a root). Computed for the four
  big objects with one traversal: base = the closure of R entering none of
  them; D(X) = what X reaches outside base without entering another big
  object; retained(X) = size(X) + sizes of D(X) minus every D(Y), Y != X.
  Exact because each big object is referred to from base directly (checked).
  Their contents are freshly made, distinct ints and strs that nothing else
  refers to, so the result does not depend on which objects are roots
  (collector's lists or only the interpreter's roots).

How the truth is kept equal to the heap at the moment of the core (as in
heap_scenario.py): gc.collect() then gc.disable() before building; the
truth's own frame and containers are excluded (made after gc.get_objects(),
or their ids are marked up front); no reference cycle is made after the
build (no stored exceptions, no recursive closures; the frame object of the
truth function is unlinked); the truth is written with the C JSON encoder
through os.open/os.write; everything used after the truth (stdout write,
os.open/rename, fork, pipe, waitpid, cache_info, the whole truth code) is
run once before the build, so lazily made state exists before we measure.
The forked children only read the heap; the parent's heap is unchanged by
a fork ("stable" mode proves it).

Debugging aid (not used by the tests): LEAKS_TRUTH_DUMP=PREFIX appends to
PREFIX.PID, for each truth computed, a census of (type, size) counts, the
tracked objects per type and every code object's size, "----" between runs.

Must run unchanged on CPython 3.6 .. 3.13.
"""

import builtins
import ctypes
import functools
import gc
import heapq
import json
import os
import platform
import sys
import time
import types
import weakref

from scenario_truth import (HAS_CO_QUALNAME, code_members,
                            ready_line, type_name, write_file)

START = time.time()
PYTHON_VERSION = platform.python_version()
if hasattr(gc, "unfreeze"):      # 3.12 starts with tuples frozen: list them too
    gc.unfreeze()

TEMPLATE_MAXSIZE = 100
TEMPLATE_CALLS = 5000
TEMPLATE_DISTINCT = 300
PAGES = 2000
PROFILE_DISTINCT = 50000
PROFILE_REPEATS = 1234
GEO_MAXSIZE = 128
GEO_CALLS = 20000
GEO_DISTINCT = 300
GARBAGE_LISTS = 1000
GARBAGE_PAIRS = 500
BLOB_SIZE = 50 * 1000 * 1000
REGISTRY_ITEMS = 1000000
BATCH_KEYS = 200000
SESSION_NODES = 100
RING_LISTS = 10
LIVE_PAIRS_COUNT = 3


# --- classes: no methods, so that a class never leads back to its instances ----

class Node(object):
    """A session in a hand-written doubly linked LRU list (prev/next)."""


class Pair(object):
    """Two objects that refer to each other (a.b = b; b.a = a)."""


class Registry(object):
    """A plugin registry: `items` is a class attribute."""
    items = []


# --- the caches ------------------------------------------------------------------

CACHE = {}


@functools.lru_cache(maxsize=TEMPLATE_MAXSIZE)
def get_template(template_id):
    return "<template %d>" % template_id


@functools.lru_cache(maxsize=None)
def load_profile(user_id):
    return "profile:%d" % user_id


@functools.lru_cache(maxsize=GEO_MAXSIZE, typed=True)
def geo_lookup(zone):
    return "zone:%d" % zone


LRU_WRAPPERS = [(get_template, TEMPLATE_MAXSIZE, False),
                (load_profile, None, False),
                (geo_lookup, GEO_MAXSIZE, True)]


def render_user_page(user_id):
    """A few KB of rendered HTML, distinct per user."""
    return ("<html><head><title>User %d</title></head><body>%s</body></html>"
            % (user_id, ("<p>row of user %d</p>" % user_id) * 120))


# --- the heap (module globals, filled by build()) ----------------------------------

BLOB = b""
SESSIONS = None
RING = None
LIVE_PAIRS = None
SELF_REF = None
BUILD_SECONDS = None


def fill_caches():
    global LAST_TEMPLATE
    for i in range(TEMPLATE_CALLS):
        key = 1000 + (i * 7919) % TEMPLATE_DISTINCT
        result = get_template(key)
    # the most recent entry stays cached: its result's owner is checked
    LAST_TEMPLATE = (key, id(result))
    for i in range(PAGES):
        CACHE["/users/%d" % i] = render_user_page(i)
    for uid in range(100000, 100000 + PROFILE_DISTINCT):
        load_profile(uid)
    for uid in range(100000, 100000 + PROFILE_REPEATS):
        load_profile(uid)
    for i in range(GEO_CALLS):
        geo_lookup(5000 + ((i * 37) % GEO_DISTINCT if i % 3 else i % 40))


def make_garbage():
    """Unreachable cycles (the collector is off, nothing frees them)."""
    for _ in range(GARBAGE_LISTS):
        x = []
        x.append(x)
    for _ in range(GARBAGE_PAIRS):
        a = Pair()
        b = Pair()
        a.b = b
        b.a = a


def make_sessions(n):
    nodes = [Node() for _ in range(n)]
    for i, node in enumerate(nodes):
        node.prev = nodes[i - 1] if i > 0 else None
        node.next = nodes[i + 1] if i + 1 < n else None
    return nodes[0]


def make_ring(n):
    lists = [[] for _ in range(n)]
    for i, lst in enumerate(lists):
        lst.append(lists[(i + 1) % n])
    return lists[0]


def make_live_pairs(n):
    out = []
    for _ in range(n):
        a = Pair()
        b = Pair()
        a.b = b
        b.a = a
        out.append(a)
    return out


class AppConfig(object):
    """Owner paths through an instance attribute (3.11+: no __dict__ object)."""
    def __init__(self, users):
        self.registry = {"users": users}


class Holder(object):
    """Owner paths through a __slots__ member."""
    __slots__ = ("payload",)

    def __init__(self, payload):
        self.payload = payload


class Settings(object):
    """An object registered in sys.modules under a module name (the
    settings-object idiom): its owner is sys.modules['...']."""


SETTINGS_NAME = "pca_leaks_settings"
CONFIG = None
HOLDER = None
LAST_TEMPLATE = None
INTERNED_ID = None


def make_interpreter_held():
    """Objects the interpreter's own containers hold, named as the user
    knows them: an object in sys.modules, a list in builtins, and an
    interned string that only C holds (a reference leaked with Py_IncRef,
    as a C extension's static cache would; the list that keeps it in the
    census is leaked too). Its text is made at run time: a constant would
    be the code object's."""
    global INTERNED_ID
    sys.modules[SETTINGS_NAME] = Settings()
    builtins.PCA_LEAKS_HOOKS = ["hook"]
    text = sys.intern("".join(["pca_leaks", "_interned"]))
    holder = [text]
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref(text)
    incref(holder)
    INTERNED_ID = id(text)


def build():
    global BLOB, SESSIONS, RING, LIVE_PAIRS, SELF_REF, CONFIG, HOLDER
    fill_caches()
    make_interpreter_held()
    CONFIG = AppConfig(list(range(5000, 8000)))
    HOLDER = Holder([b"held"] * 2000)
    BLOB = b"B" * BLOB_SIZE
    Registry.items = list(range(10 ** 9, 10 ** 9 + REGISTRY_ITEMS))
    SESSIONS = make_sessions(SESSION_NODES)
    RING = make_ring(RING_LISTS)
    LIVE_PAIRS = make_live_pairs(LIVE_PAIRS_COUNT)
    SELF_REF = []
    SELF_REF.append(SELF_REF)
    make_garbage()
    for wrapper, _, _ in LRU_WRAPPERS:     # first cache_info() before the truth
        wrapper.cache_info()


# --- the truth: graph helpers -----------------------------------------------------

CodeType = types.CodeType
FrameType = types.FrameType
LEAF_TYPES = (int, str, bytes, float, complex, bool, type(None))


def fork_probe(roots, saveall):
    """Run a full collection in a forked child and return what it found (a
    dict made from the child's JSON). ROOTS, the parent's gc.get_objects()
    list, is emptied in the child first (it refers to every object)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            del roots[:]
            out = {}
            if saveall:
                gc.set_debug(gc.DEBUG_SAVEALL)
                out["collect_returned"] = gc.collect()
                garbage = gc.garbage
                out["count"] = len(garbage)
                counts = {}
                for o in garbage:
                    name = type_name(type(o))
                    counts[name] = counts.get(name, 0) + 1
                out["types"] = counts
                out["ids"] = [id(o) for o in garbage]
            else:
                objs = gc.get_objects()
                before = set(map(id, objs))
                del objs
                out["collect_returned"] = gc.collect()
                objs = gc.get_objects()
                after = set(map(id, objs))
                del objs
                out["tracked_gone"] = len(before - after)
                out["gc_garbage"] = len(gc.garbage)
            data = json.dumps(out).encode("ascii")
            while data:
                data = data[os.write(w, data):]
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    return json.loads(b"".join(chunks).decode("ascii"))


def strongly_connected(succ):
    """Tarjan, iterative. SUCC[v] lists v's successors (indices). Returns
    the components of 2+ nodes or of 1 node with a self edge, as lists."""
    n = len(succ)
    num = [-1] * n
    low = [0] * n
    onstack = bytearray(n)
    stack = []
    out = []
    counter = 0
    for s in range(n):
        if num[s] >= 0:
            continue
        num[s] = low[s] = counter
        counter += 1
        stack.append(s)
        onstack[s] = 1
        work = [(s, iter(succ[s]))]
        while work:
            v, it = work[-1]
            descended = False
            for w in it:
                if num[w] < 0:
                    num[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    onstack[w] = 1
                    work.append((w, iter(succ[w])))
                    descended = True
                    break
                if onstack[w] and num[w] < low[v]:
                    low[v] = num[w]
            if descended:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == num[v]:
                comp = []
                while True:
                    w = stack.pop()
                    onstack[w] = 0
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in succ[v]:
                    out.append(comp)
    return out


def expand(o, t, kinds):
    """E(o) as a new list (t = type(o), not a leaf type). KINDS caches per
    type: 0 plain, 1 code, 2 frame, 3 dict."""
    kind = kinds.get(t)
    if kind is None:
        kind = kinds[t] = (1 if t is CodeType else 2 if t is FrameType
                           else 3 if issubclass(t, dict) else 0)
    refs = gc.get_referents(o)
    refs.append(t)
    if kind == 1:
        refs.append(o.co_consts)
        refs.append(o.co_names)
        refs.append(o.co_filename)
        refs.append(o.co_name)
        if HAS_CO_QUALNAME:
            refs.append(o.co_qualname)
        refs.extend(code_members(o))
    elif kind == 2:
        refs.append(o.f_code)
        refs.append(o.f_globals)
        refs.append(o.f_builtins)
    elif kind == 3:
        refs.extend(dict.keys(o))
    return refs


def account(o, t, acc):
    """Size of O into ACC = [objects, bytes, top heap, failures, census];
    returns the size."""
    try:
        size = sys.getsizeof(o)
    except Exception:
        size = 0
        acc[3][t] = acc[3].get(t, 0) + 1
    acc[0] += 1
    acc[1] += size
    top = acc[2]
    if len(top) < 10:
        heapq.heappush(top, (size, id(o), o))
    elif size > top[0][0]:
        heapq.heappushpop(top, (size, id(o), o))
    if acc[4] is not None:
        key = (t, size)
        acc[4][key] = acc[4].get(key, 0) + 1
    return size


def measure(extra_roots, bigs, labels):
    """Walk the heap: closure, largest, retained sizes of BIGS, SCCs,
    collector probes. Returns a plain dict (no object references).
    EXTRA_ROOTS: objects only a 3.11+ frame holds (a list made by the
    caller, excluded itself). LABELS: {id: owner string}."""
    me = sys._getframe()
    caller = me.f_back          # compute_truth's frame: gone at the core
    roots = gc.get_objects()
    t0 = time.perf_counter()
    probe_saveall = fork_probe(roots, True)
    probe_plain = fork_probe(roots, False)
    frames = sys._current_frames()
    seen = set()
    stack = []
    nodes = []            # non-leaf objects, by index
    edges = []            # their E(o) lists
    index = {}            # id -> node index
    top = []              # heap of (size, id, obj)
    big_ids = {}
    for k, x in enumerate(bigs):
        big_ids[id(x)] = k
    hits = set()
    mine = [me, caller, roots, frames, seen, stack, nodes, edges, index, top, big_ids, hits,
            extra_roots, bigs, labels, probe_saveall, probe_plain]
    # No nested functions in here: their cells would be made when measure()
    # starts, before gc.get_objects(), and put our containers in the roots.
    seen_add = seen.add
    for x in mine:
        seen_add(id(x))
    seen_add(id(mine))
    getsizeof = sys.getsizeof
    leaf = set(LEAF_TYPES)
    kinds = {}
    failures = {}
    dump = os.environ.get("LEAKS_TRUTH_DUMP")     # debugging aid: census, code sizes
    census = {} if dump else None
    acc = [0, 0, top, failures, census]

    gc_tracked = 0
    for o in roots:
        if id(o) not in seen:
            gc_tracked += 1
    if hasattr(gc, "get_freeze_count"):
        gc_tracked += gc.get_freeze_count()

    # Phase 1, base: the closure of R entering no big object.
    stack.extend(roots)
    for f in frames.values():
        while f is not None:
            stack.append(f)
            f = f.f_back
    stack.append(sys.modules)
    stack.extend(sys.modules.values())
    stack.extend(extra_roots)
    push = stack.append
    extend = stack.extend
    pop = stack.pop
    while stack:
        o = pop()
        i = id(o)
        if i in seen:
            continue
        if i in big_ids:
            hits.add(i)
            continue
        seen_add(i)
        t = type(o)
        account(o, t, acc)
        if t in leaf:
            push(t)
            continue
        refs = expand(o, t, kinds)
        index[i] = len(nodes)
        nodes.append(o)
        edges.append(refs)
        extend(refs)
    base_seconds = time.perf_counter() - t0

    # Phase 2: what each big object reaches outside base.
    claims = {}           # id -> big index, or -1 when two claim it
    sizes = {}
    big_sizes = []
    for k, x in enumerate(bigs):
        t = type(x)
        big_sizes.append(account(x, t, acc))
        if t not in leaf:
            refs = expand(x, t, kinds)
            index[id(x)] = len(nodes)
            nodes.append(x)
            edges.append(refs)
            stack.extend(refs)
        local = set()
        while stack:
            o = pop()
            i = id(o)
            if i in seen or i in big_ids or i in local:
                continue
            local.add(i)
            prev = claims.get(i)
            if prev is None:
                t = type(o)
                sizes[i] = account(o, t, acc)
                claims[i] = k
                if t not in leaf:
                    refs = expand(o, t, kinds)
                    index[i] = len(nodes)
                    nodes.append(o)
                    edges.append(refs)
                    extend(refs)
                else:
                    push(t)
            else:
                if prev != k:
                    claims[i] = -1
                if i in index:
                    extend(edges[index[i]])
        local = None
    retained = list(big_sizes)
    for i, k in claims.items():
        if k >= 0:
            retained[k] += sizes[i]
    claims = sizes = None
    retained_seconds = time.perf_counter() - t0

    # Phase 3: strongly connected components of the whole graph.
    succ = []
    get = index.get
    for refs in edges:
        row = []
        for r in refs:
            j = get(id(r))
            if j is not None:
                row.append(j)
        succ.append(row)
    components = strongly_connected(succ)
    succ = None
    names = {}
    node_type = []
    for o in nodes:
        t = type(o)
        name = names.get(t)
        if name is None:
            name = names[t] = type_name(t)
        node_type.append(name)
    names = None
    garbage_ids = set(probe_saveall["ids"]) if probe_saveall else set()
    groups = {}
    mixed = 0
    for comp in components:
        counts = {}
        for v in comp:
            name = node_type[v]
            counts[name] = counts.get(name, 0) + 1
        if not set(counts) <= CYCLE_TYPES_SET:
            continue
        # (no comprehension in a loop: 3.8-3.10 give a code object an opcache,
        # which sys.getsizeof counts, after 1024 runs)
        ndead = 0
        for v in comp:
            if id(nodes[v]) in garbage_ids:
                ndead += 1
        if 0 < ndead < len(comp):
            mixed += 1
        key = (tuple(sorted(counts.items())), ndead == len(comp))
        groups[key] = groups.get(key, 0) + 1
    n_components = len(components)
    components = None
    scc_seconds = time.perf_counter() - t0

    largest = []
    for size, i, o in sorted(top, reverse=True):
        largest.append({"address": "0x%x" % i, "type": type_name(type(o)), "size": size,
                        "owner": labels.get(i)})
    big_rows = []
    for k, x in enumerate(bigs):
        big_rows.append({"address": "0x%x" % id(x), "type": type_name(type(x)),
                         "size": big_sizes[k], "retained": retained[k],
                         "owner": labels.get(id(x)),
                         "referred_from_base": id(x) in hits})
    other_lru = []
    for o in nodes:
        if type(o) is LRU_TYPE and id(o) not in labels:
            try:
                info = o.cache_info()
                wrapped = o.__wrapped__
                other_lru.append({"function": "%s.%s" % (wrapped.__module__, wrapped.__qualname__),
                                  "entries": info.currsize, "hits": info.hits,
                                  "misses": info.misses})
            except Exception:
                pass
            info = wrapped = None
    other_lru.sort(key=lambda r: r["function"])

    if dump:
        fd = os.open("%s.%d" % (dump, os.getpid()), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        lines = []
        for (t, size), n in census.items():
            lines.append("%s %d %d\n" % (type_name(t), size, n))
        tracked = {}
        for o in roots:
            if id(o) not in seen or id(o) in index:
                t = type_name(type(o))
                tracked[t] = tracked.get(t, 0) + 1
        for t, n in tracked.items():
            lines.append("tracked %s %d\n" % (t, n))
        for o in nodes:
            if type(o) is CodeType:
                lines.append("code %s:%s:%d %d\n" % (o.co_filename, o.co_name,
                                                      o.co_firstlineno, getsizeof(o)))
        lines.append("----\n")
        os.write(fd, "".join(lines).encode("utf-8", "replace"))
        os.close(fd)
        lines = tracked = None
    # Unlink what refers to our own frame (cycles; the collector is off).
    n_objects, n_bytes = acc[0], acc[1]
    del me, caller, f, o, x, mine[:], top[:], acc[:]
    roots = frames = nodes = edges = index = seen = stack = mine = None
    cycle_groups = []
    for (counts, dead), n in sorted(groups.items()):
        cycle_groups.append({"types": dict(counts), "objects": sum(c for _, c in counts),
                             "unreachable": dead, "count": n})
    unreachable = None
    if probe_saveall and probe_plain:
        unreachable = {"count": probe_saveall["count"],
                       "collect_returned": probe_saveall["collect_returned"],
                       "types": probe_saveall["types"],
                       "plain": probe_plain}
    return {"totals": {"objects": n_objects, "size": n_bytes, "gc_tracked": gc_tracked},
            "unreachable": unreachable,
            "cycles": {"types_considered": sorted(CYCLE_TYPES_SET), "groups": cycle_groups,
                       "all_components": n_components, "mixed_reachability": mixed},
            "largest": largest,
            "big_objects": big_rows,
            # owner paths through an instance attribute and a __slots__ member
            "owner_checks": [] if CONFIG is None else [
                {"address": "0x%x" % id(CONFIG.registry["users"]),
                 "owner": "__main__.CONFIG.registry['users']"},
                {"address": "0x%x" % id(HOLDER.payload), "owner": "__main__.HOLDER.payload"}]
            + c_held_owner_checks(),
            "other_lru_caches": other_lru,
            "getsizeof_failures": dict((type_name(t), n) for t, n in failures.items()),
            "seconds": {"base": round(base_seconds, 3), "retained": round(retained_seconds, 3),
                        "scc": round(scc_seconds, 3),
                        "total": round(time.perf_counter() - t0, 3)}}


def c_held_owner_checks():
    """Owner paths of objects only C members hold, named as the user knows
    them: an lru_cache's entries dict (the wrapper's `cache`, found among
    what lru_cache_tp_traverse visits) and object.__subclasses__'s dict
    (tp_subclasses: {id(cls): weakref}, in the collector's lists)."""
    wrapper = LRU_WRAPPERS[0][0]
    size = wrapper.cache_info().currsize
    cache = [d for d in gc.get_referents(wrapper)
             if type(d) is dict and d is not wrapper.__dict__ and len(d) == size]
    n = len(object.__subclasses__())
    subs = [d for d in gc.get_objects()
            if type(d) is dict and len(d) == n and
            all(type(v) is weakref.ref and v() is not None and object in v().__bases__
                for v in d.values())]
    out = []
    if len(cache) == 1:
        out.append({"address": "0x%x" % id(cache[0]),
                    "owner": "__main__.%s (lru_cache).cache" % wrapper.__wrapped__.__name__})
    if len(subs) == 1:
        out.append({"address": "0x%x" % id(subs[0]), "owner": "object.__subclasses__"})
    del cache[:], subs[:]
    return out + interpreter_held_owner_checks()


def interpreter_held_owner_checks():
    """Owner paths through what the interpreter holds (make_interpreter_held)
    and through a bounded lru_cache's links: the result of the most recent
    get_template call is the link's, `cache[key]` of the wrapper."""
    if LAST_TEMPLATE is None:
        return []
    # the cache's key: 3.7+ keep a lone int or str argument itself, 3.6 the
    # arguments tuple (Modules/_functoolsmodule.c lru_cache_make_key)
    key = ("(%d,)" if sys.version_info < (3, 7) else "%d") % LAST_TEMPLATE[0]
    return [{"address": "0x%x" % id(sys.modules[SETTINGS_NAME]),
             "owner": "sys.modules['%s']" % SETTINGS_NAME},
            {"address": "0x%x" % id(builtins.PCA_LEAKS_HOOKS), "owner": "builtins.PCA_LEAKS_HOOKS"},
            {"address": "0x%x" % INTERNED_ID, "owner": "sys.intern('pca_leaks_interned')"},
            {"address": "0x%x" % LAST_TEMPLATE[1],
             "owner": "__main__.get_template (lru_cache).cache[%s]" % key}]


LRU_TYPE = type(get_template)
CYCLE_TYPES_SET = frozenset(["list", "dict", type_name(Node), type_name(Pair)])


# --- the truth: the scenario's facts -----------------------------------------------

def lru_retained(wrapper):
    """What an lru_cache wrapper solely owns, in bytes (its dominator
    subtree): grown from the wrapper, an object joins when every reference
    its reference count says it has comes from members (gc.get_referents,
    plus a dict's keys where dict_traverse does not visit them; a bounded
    cache's links are also held by the wrapper's list). What the wrapper
    shares (interned names other code uses, the module's globals) never
    joins, so the walk stays inside the cache."""
    getrefcount = sys.getrefcount
    size = wrapper.cache_info().currsize
    found = [d for d in gc.get_referents(wrapper)
             if type(d) is dict and d is not wrapper.__dict__ and len(d) == size]
    count = dict.fromkeys([id(v) for v in found[0].values()], 1)
    found = None
    members = {id(wrapper): wrapper}
    stack = [wrapper]
    total = 0
    while stack:
        o = stack.pop()
        total += sys.getsizeof(o)
        refs = {}
        for r in gc.get_referents(o):
            refs[id(r)] = [r, refs.get(id(r), [None, 0])[1] + 1]
        if isinstance(o, dict):
            for r in o.keys():
                if id(r) not in refs:
                    refs[id(r)] = [r, 1]
        o = None
        for i, (r, times) in refs.items():
            if i in members:
                continue
            c = count.get(i, 0) + times
            count[i] = c
            # references we hold: refs' list, r, getrefcount's argument
            if getrefcount(r) - 3 == c:
                members[i] = r
                stack.append(r)
        refs = r = None
    return total, len(members)


def lru_rows():
    rows = []
    for wrapper, maxsize, typed in LRU_WRAPPERS:
        # first: a local holding the wrapped function would keep it out
        retained = lru_retained(wrapper)[0] if maxsize is not None else None
        info = wrapper.cache_info()
        wrapped = wrapper.__wrapped__
        rows.append({"kind": "lru_cache",
                     "function": "%s.%s" % (wrapped.__module__, wrapped.__qualname__),
                     "owner": "__main__.%s" % wrapped.__name__,
                     "address": "0x%x" % id(wrapper),
                     "maxsize": maxsize, "typed": typed,
                     "entries": info.currsize, "hits": info.hits, "misses": info.misses})
        if retained is not None:
            rows[-1]["retained"] = retained
    wrapped = None
    return rows


def compute_truth(extra_roots):
    """The whole truth. EXTRA_ROOTS = [batch] (made by the caller)."""
    batch = extra_roots[0]
    labels = {id(BLOB): "__main__.BLOB", id(Registry.items): "__main__.Registry.items",
              id(CACHE): "__main__.CACHE", id(batch): "__main__.process_batch:batch"}
    bigs = [BLOB, Registry.items, CACHE, batch]
    lru = lru_rows()
    notes = {}            # address -> what it is, for objects without an owner
    for wrapper, _, _ in LRU_WRAPPERS:
        name = wrapper.__wrapped__.__name__
        labels[id(wrapper)] = "__main__.%s" % name
        own_dict = wrapper.__dict__
        for d in gc.get_referents(wrapper):
            if type(d) is dict and d is not own_dict:
                notes["0x%x" % id(d)] = "the cache dict of lru_cache wrapper __main__.%s" % name
        own_dict = d = None
    t0 = time.perf_counter()
    m = measure(extra_roots, bigs, labels)
    seconds = time.perf_counter() - t0
    bigs = labels = None
    by_owner = dict((r["owner"], r) for r in m["big_objects"])
    cache_row = by_owner.get("__main__.CACHE")
    caches = lru + [{"kind": "dict", "owner": "__main__.CACHE",
                     "address": cache_row["address"] if cache_row else None,
                     "entries": len(CACHE),
                     "retained": cache_row["retained"] if cache_row else None}]
    big_addresses = dict((r["address"], r) for r in m["big_objects"])
    for r in m["largest"]:
        big = big_addresses.get(r["address"])
        r["retained"] = big["retained"] if big else None
        r["note"] = notes.get(r["address"])
        r["scenario"] = r["owner"] is not None or r["note"] is not None
    m.pop("big_objects")
    truth = {"totals": m["totals"], "unreachable": m["unreachable"], "cycles": m["cycles"],
             "caches": caches, "other_lru_caches": m["other_lru_caches"],
             "largest": m["largest"], "big_objects": sorted(by_owner.values(),
                                                          key=lambda r: r["owner"]),
             "getsizeof_failures": m["getsizeof_failures"],
             "owner_checks": m["owner_checks"],
             "truth_seconds": round(seconds, 3), "phase_seconds": m["seconds"]}
    truth["expected"] = expected_facts(batch)
    return truth


def has_dict_object(obj):
    """Whether OBJ's attributes live in a separate dict object (3.6-3.10
    always; 3.11+ only when the interpreter materialised it, which depends
    on the class's shared keys when instances were made: 3.12 does it for
    Node here). Read with gc.get_referents: touching __dict__ would make one."""
    for r in gc.get_referents(obj):
        if type(r) is dict:
            return True
    return False


def expected_facts(batch):
    """What the scenario knows independently of the walk (for self_check)."""
    g = sys.getsizeof
    node_dict = SESSIONS is not None and has_dict_object(SESSIONS)
    pair_dict = LIVE_PAIRS is not None and has_dict_object(LIVE_PAIRS[0])
    return {
        "retained": {
            "__main__.BLOB": g(BLOB),
            "__main__.Registry.items": g(Registry.items) + sum(map(g, Registry.items)),
            "__main__.process_batch:batch": g(batch) + sum(g(k) + g(v) for k, v in batch.items()),
            "__main__.CACHE": g(CACHE) + sum(g(k) + g(v) for k, v in CACHE.items()),
        },
        # the garbage pairs may or may not have dict objects (see
        # has_dict_object): either none or all of them
        "garbage_types": [
            dict([("list", GARBAGE_LISTS), (type_name(Pair), 2 * GARBAGE_PAIRS)]),
            dict([("list", GARBAGE_LISTS), (type_name(Pair), 2 * GARBAGE_PAIRS),
                  ("dict", 2 * GARBAGE_PAIRS)])],
        "node_dicts": node_dict,
        "live_pair_dicts": pair_dict,
        "cycle_groups": [
            # (types, unreachable, how many exactly; None = at least one)
            ({"list": 1}, True, GARBAGE_LISTS),
            (dict([(type_name(Pair), 2)] + ([("dict", 2)] if pair_dict else [])),
             False, LIVE_PAIRS_COUNT),
            (dict([(type_name(Node), SESSION_NODES)]
                  + ([("dict", SESSION_NODES)] if node_dict else [])), False, 1),
            ({"list": RING_LISTS}, False, 1),
            ({"list": 1}, False, None),
        ],
        "lru": {"__main__.get_template": {"entries": TEMPLATE_MAXSIZE},
                "__main__.load_profile": {"entries": PROFILE_DISTINCT, "hits": PROFILE_REPEATS,
                                          "misses": PROFILE_DISTINCT},
                "__main__.geo_lookup": {"entries": GEO_MAXSIZE}},
        "cache_entries": PAGES,
        "largest_first": ["__main__.BLOB"],
    }


def self_check(truth):
    problems = []
    exp = truth.get("expected")
    if exp is None:
        return ["no expected facts (batch missing)"]
    if truth["unreachable"] is None:
        problems.append("a collector probe (forked child) failed")
    else:
        u = truth["unreachable"]
        if u["types"] not in exp["garbage_types"]:
            problems.append("unreachable types %r, the scenario made one of %r"
                            % (u["types"], exp["garbage_types"]))
        pair = dict([(type_name(Pair), 2)] + ([("dict", 2)] if "dict" in u["types"] else []))
        exp["cycle_groups"].append((pair, True, GARBAGE_PAIRS))
        if u["collect_returned"] != u["count"] or u["plain"]["collect_returned"] != u["count"]:
            problems.append("gc.collect() returned %s / %s, gc.garbage (SAVEALL) has %s"
                            % (u["collect_returned"], u["plain"]["collect_returned"], u["count"]))
        if u["plain"]["gc_garbage"]:
            problems.append("%d uncollectable objects" % u["plain"]["gc_garbage"])
    for r in truth["big_objects"]:
        want = exp["retained"].get(r["owner"])
        if r["retained"] != want:
            problems.append("retained(%s) = %s, the scenario computes %s"
                            % (r["owner"], r["retained"], want))
        if not r["referred_from_base"]:
            problems.append("%s is not referred to from the rest of the heap" % r["owner"])
    groups = dict(((tuple(sorted(g["types"].items())), g["unreachable"]), g["count"])
                  for g in truth["cycles"]["groups"])
    for types_, dead, count in exp["cycle_groups"]:
        got = groups.get((tuple(sorted(types_.items())), dead), 0)
        if (got < 1) if count is None else (got != count):
            problems.append("cycles %r unreachable=%s: %d, the scenario made %s"
                            % (types_, dead, got, count or "at least 1"))
    if truth["cycles"]["mixed_reachability"]:
        problems.append("%d components partly unreachable" % truth["cycles"]["mixed_reachability"])
    for row in truth["caches"]:
        for key, want in exp["lru"].get(row.get("function"), {}).items():
            if row[key] != want:
                problems.append("%s %s = %s, expected %s" % (row["function"], key, row[key], want))
    if truth["caches"][-1]["entries"] != exp["cache_entries"]:
        problems.append("CACHE has %d entries" % truth["caches"][-1]["entries"])
    if truth["largest"][0]["owner"] != "__main__.BLOB":
        problems.append("the largest object is not BLOB: %r" % truth["largest"][0])
    owners = [r["owner"] for r in truth["largest"][:3]]
    if set(owners) != set(["__main__.BLOB", "__main__.Registry.items",
                           "__main__.process_batch:batch"]):
        problems.append("the 3 largest are not BLOB, Registry.items, batch: %r" % owners)
    if truth["getsizeof_failures"]:
        problems.append("sys.getsizeof failed for %r" % truth["getsizeof_failures"])
    return problems


def write_truth(path, truth, mode):
    truth["version"] = PYTHON_VERSION
    truth["python_version"] = PYTHON_VERSION
    truth["pid"] = os.getpid()
    truth["mode"] = mode
    truth["executable"] = sys.executable
    truth["program"] = "leaks_scenario.py"
    truth["build_seconds"] = BUILD_SECONDS
    truth["self_check_problems"] = self_check(truth)
    write_file(path, json.dumps(truth, sort_keys=True).encode("ascii"))


def warm_up(path):
    """Run once, before the heap is built, everything done after the truth
    and the truth code itself (lazily made state must exist before we
    measure: 3.6's argument parsers, TextIOWrapper's first write, ...)."""
    # The caches' link objects (functools._lru_list_elem) exist only once a
    # bounded cache is used; 3.6-3.9 ready their type lazily on the first
    # attribute lookup (sys.getsizeof), which makes its tp_mro, tp_bases and
    # a weakref in object's subclasses: let the warm-up truth do that.
    for wrapper, _, _ in LRU_WRAPPERS:
        wrapper(-1)
    scratch = path + ".warm-up"
    write_truth(scratch, compute_truth([{}]), "warm-up")
    os.unlink(scratch)
    for wrapper, _, _ in LRU_WRAPPERS:
        wrapper.cache_clear()
    sys.stdout.write("heap built\n")
    sys.stdout.flush()


def process_batch(mode, path):
    """The innermost frame when the process dies: `batch` is its local."""
    batch = dict(("rec-%07d" % i, 10 ** 7 + i) for i in range(BATCH_KEYS))
    # One call site for every mode, so that "stable" computes its truths in
    # exactly the state the other modes die in (run is 0 or 1: small ints).
    for run in range(2 if mode == "stable" else 1):
        write_truth(path, compute_truth([batch]), mode)
        if mode == "stable" and run == 0:
            os.rename(path, path + ".2")
    if mode == "abort":
        os.abort()
    elif mode == "gcore":
        ready_line()
        time.sleep(3600)
    return report_stability(path)


def strip_volatile(truth):
    out = dict(truth)
    for k in ("truth_seconds", "phase_seconds", "build_seconds", "pid", "mode"):
        out.pop(k, None)
    return out


def report_stability(path):
    runs = []
    for p in (path, path + ".2"):
        with open(p) as f:
            runs.append(json.load(f))
    a, b = strip_volatile(runs[0]), strip_volatile(runs[1])
    stable = a == b
    if not stable:
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                print("run 1 vs 2 differ in %s:\n  %s\n  %s" % (k, json.dumps(a.get(k))[:800],
                                                             json.dumps(b.get(k))[:800]))
    print("run 1 vs run 2: %s" % ("same" if stable else "DIFFERENT"))
    gc.enable()
    freed = gc.collect()
    want = runs[0]["unreachable"]["count"] if runs[0]["unreachable"] else None
    print("python %s: %d objects, %d bytes; unreachable %s; collection after the truths "
          "found %d; build %.2f s, truth %s s"
          % (runs[0]["version"], runs[0]["totals"]["objects"], runs[0]["totals"]["size"],
             want, freed, runs[0]["build_seconds"],
             [r["truth_seconds"] for r in runs]))
    print("self-check problems: %s" % (runs[0]["self_check_problems"] or "none"))
    if freed != want or runs[0]["self_check_problems"]:
        stable = False
    print("STABLE" if stable else "NOT STABLE")
    return stable


def main():
    global BUILD_SECONDS
    if len(sys.argv) != 3 or sys.argv[1] not in ("abort", "gcore", "stable"):
        sys.stderr.write("usage: leaks_scenario.py abort|gcore|stable TRUTH.json\n")
        sys.exit(64)
    warm_up(sys.argv[2])
    gc.collect()
    gc.disable()          # no collection from here to the core
    build()
    BUILD_SECONDS = round(time.time() - START, 3)
    sys.exit(0 if process_batch(sys.argv[1], sys.argv[2]) else 1)   # stable mode only


if __name__ == "__main__":
    main()
