"""What the scenarios that write an in-process truth share: reading a code
object's members the way the tool does, naming types as the contract does,
writing the truth file without making objects the core would show, and the
census itself (compute_truth: the definition heap_scenario.py's docstring
gives). Imported by heap_scenario.py, leaks_scenario.py and
stdlib_scenario.py (sys.path[0] is this directory); it runs on CPython
3.6-3.13, so no 3.7+ syntax."""

import ctypes
import gc
import os
import sys
import time
import types

HAS_CO_QUALNAME = hasattr(types.CodeType, "co_qualname")   # 3.11+
HAS_LOCALSPLUS = HAS_CO_QUALNAME                           # 3.11+: co_localsplusnames
# 3.10 keeps co_linetable as the member (co_lnotab is computed); 3.6-3.9 co_lnotab.
HAS_CO_LINETABLE_MEMBER = sys.version_info[:2] == (3, 10)
TYPE_QUALNAME = type.__dict__["__qualname__"].__get__
TYPE_NAME = type.__dict__["__name__"].__get__
TYPE_MODULE = type.__dict__["__module__"].__get__


def _find_localsplus_offset():
    """3.11+ keep a code object's local names and kinds in co_localsplusnames
    and co_localspluskinds, which Python does not expose (co_varnames is a
    new tuple each time); they sit just before co_filename in PyCodeObject
    (3.11-3.13). Find co_filename's offset by its address, once."""
    def sample(a, b=1):
        c = a + b
        return lambda: c
    co = sample.__code__
    for off in range(16, 512, 8):
        if ctypes.c_void_p.from_address(id(co) + off).value == id(co.co_filename):
            return off - 16
    raise SystemExit("co_filename not found in a code object")


LOCALSPLUS_OFFSET = _find_localsplus_offset() if HAS_LOCALSPLUS else None


def code_members(co):
    """The objects a code object holds beyond co_consts/co_names/co_filename/
    co_name/co_qualname: what the tool follows (all its PyObject members)."""
    if not HAS_LOCALSPLUS:
        out = [co.co_code, co.co_varnames, co.co_freevars, co.co_cellvars]
        out.append(co.co_linetable if HAS_CO_LINETABLE_MEMBER else co.co_lnotab)
        return out
    # py_object.from_address reads the PyObject * member itself; ctypes.cast
    # would leave reference cycles behind (the collector is off).
    base = id(co) + LOCALSPLUS_OFFSET
    return [co.co_linetable, co.co_exceptiontable,
            ctypes.py_object.from_address(base).value,
            ctypes.py_object.from_address(base + 8).value]


def type_name(t):
    """module.qualname, builtins without module (contract: Type name)."""
    try:
        qual = TYPE_QUALNAME(t)
    except Exception:
        qual = None
    if not isinstance(qual, str):
        qual = TYPE_NAME(t)
    try:
        mod = TYPE_MODULE(t)
    except Exception:
        mod = None
    if isinstance(mod, str) and mod != "builtins":
        return mod + "." + qual
    return qual


def write_file(path, data):
    """Write DATA to PATH atomically (the test never sees half a truth), with
    os calls only: no io objects, no encoding lookup."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)
    os.rename(tmp, path)


def ready_line():
    sys.stdout.write("ready\n")
    sys.stdout.flush()


CodeType = types.CodeType
FrameType = types.FrameType
PROXY_LOCALS = sys.version_info >= (3, 13)           # frame.f_locals is a proxy


def compute_truth():
    """Walk the heap (heap_scenario.py's docstring defines the truth); return
    the truth dict: per-type counts and sizes, totals, gc_tracked. Everything this function makes is
    made after gc.get_objects() returned and is reachable only from its own
    frame, which is excluded; it is all freed when the caller drops the
    result."""
    me = sys._getframe()
    roots = gc.get_objects()
    t0 = time.perf_counter()
    frames = sys._current_frames()
    seen = set()
    stack = []
    per_type = {}
    failures = {}
    running = set()
    mine = [me, roots, frames, seen, stack, per_type, failures, running]
    for x in mine:
        seen.add(id(x))
    seen.add(id(mine))
    seen_add = seen.add
    push = stack.append
    extend = stack.extend
    pop = stack.pop
    for x in (seen_add, push, extend, pop):
        seen_add(id(x))
    get_referents = gc.get_referents
    is_tracked = gc.is_tracked
    tracked_closure = 0                  # objects of the closure gc.is_tracked() is true for
    getsizeof = sys.getsizeof
    dict_keys = dict.keys
    type_bases = type.__dict__["__bases__"].__get__
    type_mro = type.__dict__["__mro__"].__get__

    # R: the collector's lists, thread stacks, sys.modules.
    gc_tracked = 0                       # objects in all the collector's lists
    for o in roots:
        if id(o) not in seen:
            gc_tracked += 1
    if hasattr(gc, "get_freeze_count"):  # 3.7+: the permanent generation
        gc_tracked += gc.get_freeze_count()
    extend(roots)
    running = set()
    for f in frames.values():
        while f is not None:
            push(f)
            running.add(id(f))
            f = f.f_back
    push(sys.modules)
    extend(sys.modules.values())

    # The closure under E, iteratively. With PCA_TRUTH_DUMP set (a debugging
    # aid, not used by the tests) each object's discoverer is recorded.
    dump = os.environ.get("PCA_TRUTH_DUMP")
    parents = {} if dump else None
    while stack:
        o = pop()
        i = id(o)
        if i in seen:
            continue
        seen_add(i)
        if dump:
            n = len(stack)
        t = type(o)
        try:
            size = getsizeof(o)
        except Exception:
            size = 0
            failures[t] = failures.get(t, 0) + 1
        rec = per_type.get(t)
        if rec is None:
            rec = per_type[t] = [0, 0, issubclass(t, dict), issubclass(t, type)]
        rec[0] += 1
        rec[1] += size
        if is_tracked(o):
            tracked_closure += 1
        extend(get_referents(o))
        push(t)
        if t is CodeType:
            push(o.co_consts)
            push(o.co_names)
            push(o.co_filename)
            push(o.co_name)
            if HAS_CO_QUALNAME:
                push(o.co_qualname)
            extend(code_members(o))
        elif t is FrameType:
            push(o.f_code)
            push(o.f_globals)
            push(o.f_builtins)
            if HAS_LOCALSPLUS and id(o) in running:
                # 3.11+: a running frame's locals are held by the
                # interpreter frame, which the tool follows (docs/usage.md).
                # A finished frame (kept by a traceback) owns its data and
                # gc.get_referents gave its locals already; its f_locals
                # would make a tracked dict after gc_tracked was counted.
                # 3.11/3.12 f_locals is a dict kept in the frame from now on
                # (the tool sees it too); 3.13 a fresh proxy: its values.
                if PROXY_LOCALS:
                    extend(list(o.f_locals.values()))
                else:
                    push(o.f_locals)
        elif rec[3]:
            # a static type's bases and mro (gc does not see static types;
            # ctypes.Structure's metatype is not `type`)
            push(type_bases(o))
            push(type_mro(o))
        elif rec[2]:
            extend(dict_keys(o))
        if dump:
            for c in stack[n:]:
                parents.setdefault(id(c), (i, type_name(t)))
    if dump:
        with open(dump, "w") as out:
            for c, (p, pt) in parents.items():
                out.write("%x %x %s\n" % (c, p, pt))
    walk_seconds = time.perf_counter() - t0
    # `me` is in roots (<= 3.10), frames and mine, which are locals of me:
    # cycles, and the collector is off. Break them so that all of it is
    # freed by reference counting when we return.
    del me, f, o, mine[:]
    roots = frames = mine = stack = seen = running = None

    types_out = {}
    total_objects = 0
    total_size = 0
    for t, (count, size, _, _) in per_type.items():
        name = type_name(t)
        entry = types_out.get(name)
        if entry is None:
            entry = types_out[name] = {"count": 0, "size": 0}
        entry["count"] += count
        entry["size"] += size
        total_objects += count
        total_size += size
    return {"types": types_out,
            "totals": {"objects": total_objects, "size": total_size,
                       "gc_tracked": gc_tracked, "is_tracked": tracked_closure},
            "getsizeof_failures": dict((type_name(t), n) for t, n in failures.items()),
            "truth_seconds": round(walk_seconds, 3)}
