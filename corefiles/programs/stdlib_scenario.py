"""Scenario program for the standard-library exactness sweep of
pycore-analyze (tests/e2e/test_stdlib.py).

Usage: python stdlib_scenario.py abort|gcore TRUTH.json

Holds live, at the moment it dies, instances of the C-implemented standard
library types a real service has (asyncio, threading with a running thread,
sqlite3, decimal, datetime and zoneinfo, re, json, ElementTree, ssl,
hashlib/hmac, compressors, array, mmap, memoryview, struct, collections,
itertools, functools, enum, dataclasses, typing, weakref, contextvars,
suspended generators, descriptors, exceptions with tracebacks, io, sockets,
selectors, pickle, logging, ctypes), each where the interpreter has it, and
garbage cycles through some of them. Then it writes the truth: the census of
scenario_truth.compute_truth (per-type counts and sys.getsizeof sizes of
the closure, gc_tracked; heap_scenario.py's docstring defines it), the
collector's verdict from a forked child (framework_truth.fork_probe), and
which parts it made ("made") or could not ("skipped", with the reason); then
it aborts (mode abort) or prints "ready" and waits for gcore (mode gcore).

How the truth is kept equal to the heap at the moment of the core: as
heap_scenario.py (everything built first, a warm-up census and probe make
the lazy state first, then gc.collect() and gc.disable() before the garbage
is made and the truth taken). The worker thread is blocked in
threading.Event.wait() before the truth (its waiter lock is in the event's
condition): it changes nothing until the core.

Runs unchanged on CPython 3.6 .. 3.13: no 3.7+ syntax; every part guarded
by version or availability.
"""

import asyncio
import collections
import datetime
import decimal
import enum
import fractions
import functools
import io
import itertools
import json
import logging
import os
import pickle
import platform
import queue
import re
import select
import selectors
import socket
import struct
import sys
import threading
import time
import weakref
import xml.etree.ElementTree as ElementTree

from framework_truth import die_with_truth
from scenario_truth import write_file

PYTHON_VERSION = platform.python_version()
V = sys.version_info[:2]
IDS_ENV = "PCA_STDLIB_UNREACHABLE_IDS"

# Everything the scenario holds, by part name (module global: the truth's
# closure and the tool both reach it through __main__'s dict).
HELD = {}
MADE = []
SKIPPED = {}


def part(name):
    """Decorator: run a builder now, keep what it returns in HELD[name];
    an ImportError or missing attribute skips the part (recorded)."""
    def run(fn):
        try:
            HELD[name] = fn()
            MADE.append(name)
        except (ImportError, AttributeError, OSError) as e:
            SKIPPED[name] = "%s: %s" % (type(e).__name__, e)
        return fn
    return run


# --- asyncio -------------------------------------------------------------------------

async def waiter(fut, n):
    """A coroutine suspended in a Task, awaiting a Future nobody completes."""
    value = await fut
    return value + n


async def ticker(n):
    """An async generator, suspended after its first value."""
    for i in range(n):
        yield i
        await asyncio.sleep(0)


async def make_stream_reader():
    reader = asyncio.StreamReader()
    reader.feed_data(b"GET / HTTP/1.1\r\n")
    return reader


@part("asyncio")
def make_asyncio():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    futures = [loop.create_future() for _ in range(4)]
    tasks = [loop.create_task(waiter(f, i)) for i, f in enumerate(futures)]
    agen = ticker(10)
    first = loop.run_until_complete(agen.__anext__())
    reader = loop.run_until_complete(make_stream_reader())
    loop.run_until_complete(asyncio.sleep(0))       # the tasks start and suspend
    handles = [loop.call_later(3600, print, "never"), loop.call_soon(print, "not run")]
    unstarted = waiter(futures[0], 100)              # a coroutine never started
    aqueue = asyncio.Queue()
    aqueue.put_nowait("job")
    return {"loop": loop, "futures": futures, "tasks": tasks, "agen": agen, "first": first,
            "reader": reader, "handles": handles, "unstarted": unstarted, "queue": aqueue}


# --- threading -----------------------------------------------------------------------

STOP = threading.Event()


def worker(started):
    started.set()
    STOP.wait()


@part("threading")
def make_threading():
    lock = threading.Lock()
    lock.acquire()
    rlock = threading.RLock()
    rlock.acquire()
    cond = threading.Condition()
    sem = threading.Semaphore(3)
    bsem = threading.BoundedSemaphore(2)
    q = queue.Queue()
    for i in range(5):
        q.put(("job", i))
    started = threading.Event()
    thread = threading.Thread(target=worker, args=(started,), name="svc-worker")
    thread.daemon = True
    thread.start()
    started.wait()
    # Blocked in STOP.wait(): its waiter lock is in the condition's list.
    deadline = time.time() + 10
    while len(STOP._cond._waiters) < 1 and time.time() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)
    return [lock, rlock, cond, sem, bsem, q, started, thread]


# --- data ----------------------------------------------------------------------------

@part("sqlite3")
def make_sqlite():
    import sqlite3
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("create table t (id integer primary key, name text, score real)")
    conn.executemany("insert into t (name, score) values (?, ?)",
                     [("n%d" % i, i / 4.0) for i in range(50)])
    conn.commit()
    cur = conn.execute("select * from t order by id")
    rows = cur.fetchmany(5)            # the cursor keeps its statement, rows pending
    return [conn, cur, rows]


@part("decimal")
def make_decimal():
    D = decimal.Decimal
    ctx = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)
    big = ctx.power(D(7), 120)          # dynamic coefficient (beyond the static words)
    return [D("1.10"), D(10) ** 30, D("3.14159265358979323846264338327950288419716939937510"),
            big, D("-0"), D("NaN"), ctx, decimal.getcontext(), fractions.Fraction(3, 7),
            fractions.Fraction(10 ** 30, 7)]


@part("datetime")
def make_datetime():
    ist = datetime.timezone(datetime.timedelta(hours=5, minutes=30), "IST")
    return [datetime.date(2024, 2, 29), datetime.time(12, 30, 15, 250),
            datetime.datetime(2024, 1, 1, 8, 0, tzinfo=datetime.timezone.utc),
            datetime.datetime(2024, 6, 1, 9, 30, tzinfo=ist), datetime.timedelta(days=3, seconds=7),
            ist, datetime.time(1, 2, tzinfo=ist)]


@part("zoneinfo")
def make_zoneinfo():
    import zoneinfo                    # 3.9+
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    utc = zoneinfo.ZoneInfo("UTC")
    return [paris, utc, datetime.datetime(2024, 7, 1, 12, 0, tzinfo=paris)]


@part("re")
def make_re():
    pattern = re.compile(r"(?P<word>[a-z]+)-(\d+)(?:\.(?P<ext>\w+))?", re.I)
    return [pattern, pattern.match("Report-2024.pdf"), pattern.search("x abc-1"),
            re.compile(rb"\x00+"), pattern.scanner("a-1 b-2 c-3")]


@part("json")
def make_json():
    decoder = json.JSONDecoder()
    doc = decoder.decode('{"a": [1, 2.5, null, "x"], "b": {"c": true}}')
    encoder = None
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is not None:
        enc = json.JSONEncoder(sort_keys=True)
        try:
            encoder = c_make_encoder(None, enc.default, json.encoder.encode_basestring_ascii,
                                     None, ": ", ", ", True, False, True)
        except TypeError as e:         # another signature: skip the encoder only
            SKIPPED["json encoder"] = "TypeError: %s" % e
    return [decoder, decoder.scan_once, doc, encoder]


@part("xml")
def make_xml():
    root = ElementTree.Element("root", {"version": "1"})
    for i in range(20):
        child = ElementTree.SubElement(root, "item", {"id": str(i)})
        child.text = "text %d" % i
    parsed = ElementTree.fromstring("<a><b x='1'>t</b><c/><d><e/></d></a>")
    return [root, parsed, ElementTree.Element("empty")]


@part("ssl")
def make_ssl():
    import ssl
    return [ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)]


@part("hashlib")
def make_hashlib():
    import hashlib
    import hmac
    out = [hashlib.sha256(b"payload"), hashlib.md5(b"x"), hashlib.sha1(), hashlib.sha512(b"y"),
           hmac.new(b"key", b"message", "sha256")]
    if hasattr(hashlib, "blake2b"):
        out.append(hashlib.blake2b(b"z"))
    if hasattr(hashlib, "sha3_256"):
        out.append(hashlib.sha3_256(b"w"))
    return out


@part("compression")
def make_compression():
    import zlib
    c = zlib.compressobj()
    c.compress(b"abc" * 100)
    d = zlib.decompressobj()
    d.decompress(zlib.compress(b"hello"))
    out = [c, d]
    for name, makers in (("bz2", ("BZ2Compressor", "BZ2Decompressor")),
                         ("lzma", ("LZMACompressor", "LZMADecompressor"))):
        try:
            mod = __import__(name)
        except ImportError as e:
            SKIPPED[name] = "ImportError: %s" % e
            continue
        out.extend(getattr(mod, m)() for m in makers)
    return out


@part("buffers")
def make_buffers():
    import array
    import mmap
    ba = bytearray(b"q" * 300)
    arrays = [array.array("d", [i / 3.0 for i in range(100)]), array.array("b"),
              array.array("I", range(1000)), array.array("B", b"abc")]
    arrays[1].append(1)
    m = mmap.mmap(-1, 8192)
    m.write(b"mapped")
    views = [memoryview(ba), memoryview(ba)[10:20], memoryview(b"abcdef").cast("B"),
             memoryview(arrays[0])]
    structs = [struct.Struct("<IIh10s"), struct.Struct("!q"), struct.Struct("")]
    return [ba, arrays, m, views, structs]


# --- collections, itertools, functools, enum, dataclasses, typing ---------------------

Pair = collections.namedtuple("Pair", "key value")


@part("collections")
def make_collections():
    od = collections.OrderedDict((str(i), i) for i in range(30))
    dd = collections.defaultdict(list)
    for i in range(40):
        dd[i % 7].append(i)
    return [collections.deque(range(100), maxlen=200), od, dd,
            collections.Counter("abracadabra"), [Pair(i, str(i)) for i in range(20)],
            collections.ChainMap({"a": 1}, {"b": 2})]


@part("itertools")
def make_itertools():
    cyc = itertools.cycle([1, 2, 3])
    next(cyc)
    ch = itertools.chain([1, 2], (3, 4))
    next(ch)
    grp = itertools.groupby("aaabbbccd")
    key, inner = next(grp)
    tee_a, tee_b = itertools.tee(iter(range(10)))
    next(tee_a)
    out = [itertools.count(5, 2), cyc, ch, grp, inner, tee_a, tee_b,
           itertools.islice(range(100), 3, 50), itertools.repeat("r", 5),
           itertools.product("ab", repeat=2), itertools.permutations(range(4), 2),
           itertools.combinations(range(5), 3), itertools.zip_longest([1], [2, 3]),
           itertools.starmap(pow, [(2, 3)]), itertools.accumulate([1, 2, 3]),
           itertools.compress("abc", [1, 0, 1]), itertools.dropwhile(bool, [1, 0]),
           itertools.takewhile(bool, [1, 0]), itertools.filterfalse(None, [0, 1])]
    if hasattr(itertools, "pairwise"):
        out.append(itertools.pairwise([1, 2, 3]))
    if hasattr(itertools, "batched"):
        out.append(itertools.batched(range(10), 3))
    return out


@functools.lru_cache(maxsize=None)
def unbounded(n):
    return n * 3


@functools.lru_cache(maxsize=16)
def bounded(n):
    return str(n)


@functools.singledispatch
def render(obj):
    return repr(obj)


@render.register(int)
def _render_int(obj):
    return "int %d" % obj


class Service(object):
    """Properties, classmethods, staticmethods, cached_property."""
    instances = 0

    def __init__(self, name):
        self._name = name

    @property
    def name(self):
        return self._name

    @classmethod
    def make(cls, name):
        return cls(name)

    @staticmethod
    def version():
        return 1

    if hasattr(functools, "cached_property"):        # 3.8+
        @functools.cached_property
        def slug(self):
            return self._name.lower()


@part("functools")
def make_functools():
    for i in range(40):
        unbounded(i)
        bounded(i % 20)
    services = [Service.make("Svc%d" % i) for i in range(5)]
    if hasattr(functools, "cached_property"):
        for s in services:
            s.slug
    render(1)
    render("x")
    return [functools.partial(int, base=2), functools.partial(render, 5), unbounded, bounded,
            render, services]


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


@part("enum")
def make_enum():
    return [Color.RED, Level.HIGH, Perm.R | Perm.W, list(Color)]


@part("dataclasses")
def make_dataclasses():
    import dataclasses                     # 3.7+

    Record = dataclasses.make_dataclass("Record", [("id", int), ("tags", list)])
    out = [Record(i, [i]) for i in range(10)]
    if V >= (3, 10):
        Slotted = dataclasses.make_dataclass("Slotted", [("x", int), ("y", float)], slots=True)
        out.extend(Slotted(i, i / 2.0) for i in range(10))
    return out


@part("typing")
def make_typing():
    import typing
    T = typing.TypeVar("T")

    class Box(typing.Generic[T]):
        def __init__(self, item):
            self.item = item
    return [T, Box, Box[int](3), typing.List[int], typing.Dict[str, typing.Optional[int]],
            typing.Callable[[int], str], typing.Union[int, str]]


# --- weakref, contextvars, generators, exceptions -----------------------------------

class Target(object):
    def __init__(self, i):
        self.i = i


def finalized(i):
    return i


@part("weakref")
def make_weakref():
    targets = [Target(i) for i in range(10)]
    wvd = weakref.WeakValueDictionary()
    wks = weakref.WeakKeyDictionary()
    ws = weakref.WeakSet()
    for t in targets[:5]:
        wvd[t.i] = t
        wks[t] = t.i
        ws.add(t)
    return [targets, weakref.ref(targets[0]), weakref.ref(targets[1], finalized),
            weakref.proxy(targets[2]), weakref.proxy(finalized), wvd, wks, ws,
            weakref.finalize(targets[3], finalized, 3), weakref.WeakMethod(Service("w").make)]


@part("contextvars")
def make_contextvars():
    import contextvars                     # 3.7+
    var = contextvars.ContextVar("request_id", default=None)
    token = var.set("req-42")
    other = contextvars.ContextVar("user")
    ctx = contextvars.copy_context()
    return [var, token, other, ctx, ctx.run(other.set, "alice")]


def counter(n):
    total = 0
    for i in range(n):
        total += i
        yield total


@part("generators")
def make_generators():
    gens = [counter(100) for _ in range(5)]
    for g in gens[1:]:
        next(g)
    squares = (x * x for x in range(50))
    next(squares)
    return gens + [squares]


class ServiceError(Exception):
    pass


def fail(n, depth):
    local = Target(n)
    if depth:
        return fail(n, depth - 1)
    raise ServiceError("failed %d" % n, local.i)


@part("exceptions")
def make_exceptions():
    kept = []
    for i in range(10):
        try:
            fail(i, 2)
        except ServiceError as e:
            kept.append(e)
    try:
        json.loads("{bad")
    except ValueError as e:
        kept.append(e)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(("127.0.0.1", 1))
    except OSError as e:
        kept.append(e)
    finally:
        s.close()
    return kept


# --- io, sockets, selectors, pickle, logging, ctypes --------------------------------

@part("io")
def make_io():
    bio = io.BytesIO(b"x" * 5000)
    bio.seek(100)
    grown = io.BytesIO()
    grown.write(b"y" * 3000)
    sio = io.StringIO("text\n" * 100)
    sio.read(10)
    wsio = io.StringIO()
    wsio.write("written " * 50)
    binary = open(__file__, "rb")
    binary.read(10)
    text = open(__file__, "r")
    text.readline()
    null = open(os.devnull, "wb")
    null.write(b"x")
    raw = open(__file__, "rb", buffering=0)
    return [bio, grown, sio, wsio, binary, text, null, raw]


@part("sockets")
def make_sockets():
    a, b = socket.socketpair()
    a.sendall(b"ping")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, data="side a")
    sel.register(listener, selectors.EVENT_READ)
    out = [a, b, listener, sel]
    if hasattr(select, "epoll"):
        ep = select.epoll()
        ep.register(b.fileno(), select.EPOLLIN)
        out.append(ep)
    if hasattr(select, "poll"):
        p = select.poll()
        p.register(a.fileno())
        out.append(p)
    return out


@part("pickle")
def make_pickle():
    data = pickle.dumps({"a": [1, 2, 3], "b": ("x", 2.5)}, protocol=2)
    sink = io.BytesIO()
    pickler = pickle.Pickler(sink, protocol=2)
    pickler.dump([1, "two", 3.0, ("four",)])
    unpickler = pickle.Unpickler(io.BytesIO(data * 2))
    loaded = unpickler.load()
    return [pickler, sink, unpickler, loaded, data]


@part("logging")
def make_logging():
    import logging.handlers
    logger = logging.getLogger("svc.requests")
    logger.setLevel(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    memory = logging.handlers.MemoryHandler(100)
    logger.addHandler(memory)
    logger.propagate = False
    for i in range(5):
        logger.info("request %d", i)
    return [logger, handler, memory, stream]


@part("ctypes")
def make_ctypes():
    import ctypes

    class Point(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_double), ("name", ctypes.c_char * 16)]

    class Value(ctypes.Union):
        _fields_ = [("i", ctypes.c_long), ("d", ctypes.c_double)]

    IntArray = ctypes.c_int * 32
    ints = IntArray(*range(32))
    points = (Point * 4)()
    ptr = ctypes.pointer(Point(1, 2.5, b"origin"))
    libc = ctypes.CDLL(None)
    strlen = libc.strlen
    strlen.argtypes = [ctypes.c_char_p]
    strlen.restype = ctypes.c_size_t
    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    callback = callback_type(abs)
    buf = ctypes.create_string_buffer(100)
    big = ctypes.create_string_buffer(b"b" * 64)
    return [Point, Value, IntArray, ints, points, ptr, libc, strlen, callback_type, callback,
            buf, big, ctypes.c_int(7), ctypes.c_char_p(b"text"), Value(5)]


# --- garbage through C types ------------------------------------------------------------

GARBAGE_PARTS = []


def dropped_failure(n):
    """exception -> traceback -> frame -> `saved` -> exception: garbage."""
    try:
        fail(n, 1)
    except ServiceError as e:
        saved = e
    return saved is not None


def make_garbage():
    """Cycles nobody refers to, each through a C type: what the collector
    frees must be what the tool says it would free."""
    for i in range(5):
        dropped_failure(1000 + i)
    a = []
    a.append(functools.partial(len, a))              # list <-> partial
    d = collections.deque()
    d.append(d)                                      # deque -> itself
    od = collections.OrderedDict()
    od["self"] = od
    cyc_list = []
    cyc_list.append(itertools.cycle([cyc_list]))     # list <-> cycle (its saved items)
    el = ElementTree.Element("loop")
    el.append(el)                                    # Element -> itself (children)
    holder = Target("ns")
    holder.me = holder
    if "asyncio" in HELD:
        loop = HELD["asyncio"]["loop"]
        fut = loop.create_future()
        fut.add_done_callback(lambda f, fut=fut: None)   # future -> callback -> future
    GARBAGE_PARTS.extend(["exception cycles", "partial", "deque", "OrderedDict",
                          "itertools.cycle", "Element", "instance"])
    if "asyncio" in HELD:
        GARBAGE_PARTS.append("asyncio.Future callback")


# --- the run ------------------------------------------------------------------------------

def write_truth(path, truth, mode, unreachable):
    truth["version"] = PYTHON_VERSION
    truth["pid"] = os.getpid()
    truth["mode"] = mode
    truth["executable"] = sys.executable
    truth["unreachable"] = unreachable
    truth["made"] = MADE
    truth["skipped"] = SKIPPED
    truth["garbage_parts"] = GARBAGE_PARTS
    problems = []
    if truth["getsizeof_failures"]:
        problems.append("sys.getsizeof failed for %r" % truth["getsizeof_failures"])
    if not STOP._cond._waiters:
        problems.append("the worker thread is not blocked in STOP.wait()")
    truth["self_check_problems"] = problems
    write_file(path, json.dumps(truth, sort_keys=True).encode("ascii"))


def main():
    die_with_truth("stdlib_scenario.py", IDS_ENV, MADE, make_garbage, write_truth)


if __name__ == "__main__":
    main()
